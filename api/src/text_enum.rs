//! Enums stored as text: a state, a kind or a policy is one Rust enum, used
//! in rows, in `match` and in JSON, and stored as the same lowercase text
//! as ever (so no data migrates). Reading a value the enum does not know is
//! a decode error, which the caller logs and answers 500: an unknown state
//! is never silently read as a valid one.

/// Declares an enum whose variants are stored and serialised as the given
/// text:
///
/// ```ignore
/// api::text_enum! {
///     /// Where a seal-use application stands.
///     pub enum ApplicationStatus {
///         Pending = "pending",
///         Approved = "approved",
///     }
/// }
/// ```
///
/// It derives serde and utoipa (by the text), `Debug`, `Copy`, `Eq`, `Ord`,
/// `Hash`, and implements sqlx's `Type`, `Encode` and `Decode` for every
/// database that stores text, plus `ALL`, `as_str`, `parse` and `Display`.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:tt ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The stored and serialised text.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            for<'a> &'a str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, DB>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                Self::parse(text).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " {:?}"), text).into()
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::text_enum! {
        /// For the test.
        pub enum Light {
            Red = "red",
            /// Go.
            Green = "green",
        }
    }

    #[test]
    fn text_round_trips_and_unknown_text_is_refused() {
        for light in Light::ALL {
            assert_eq!(Light::parse(light.as_str()), Some(light));
            let json = serde_json::to_string(&light).unwrap();
            assert_eq!(json, format!("\"{light}\""));
            assert_eq!(serde_json::from_str::<Light>(&json).unwrap(), light);
        }
        assert_eq!(Light::parse("blue"), None);
        assert!(serde_json::from_str::<Light>("\"blue\"").is_err());
    }

    #[tokio::test]
    async fn sqlite_stores_the_text_and_refuses_an_unknown_value() {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let back: Light = sqlx::query_scalar("SELECT $1")
            .bind(Light::Green)
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(back, Light::Green);
        let text: String = sqlx::query_scalar("SELECT $1")
            .bind(Light::Red)
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(text, "red");
        let unknown = sqlx::query_scalar::<_, Light>("SELECT 'blue'")
            .fetch_one(&mut db)
            .await;
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown Light \"blue\"")
        );
    }
}
