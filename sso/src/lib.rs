#![forbid(unsafe_code)]
//! Identity: turning a request's credentials into an authenticated
//! principal.
//!
//! Sign-in through the city platforms (Suishenban, the unified office
//! platform) and local administrator login are not built yet, so a release
//! build answers every authenticated route with 401. Test builds add an
//! authenticator that trusts an `X-Test-User` header; it is compiled only
//! with the `test-support` feature, which only the test suite enables.

use std::sync::Arc;

use api::authz::{AuthFuture, Authenticate, Authenticator};
use api::db::Db;
use api::error::ApiError;
use axum::http::request::Parts;

/// The authenticator this build uses.
pub fn authenticator() -> Authenticator {
    #[cfg(feature = "test-support")]
    {
        Arc::new(test_support::TestHeader)
    }
    #[cfg(not(feature = "test-support"))]
    {
        Arc::new(NoSignIn)
    }
}

/// No sign-in method is configured: nobody is authenticated.
pub struct NoSignIn;

impl Authenticate for NoSignIn {
    fn authenticate<'a>(&'a self, _parts: &'a Parts, _db: &'a Db) -> AuthFuture<'a> {
        Box::pin(async { Err(ApiError::Unauthenticated) })
    }
}

#[cfg(feature = "test-support")]
pub mod test_support {
    //! Test builds only: `X-Test-User: <login name>` signs in as that user.

    use api::authz::{AuthFuture, Authenticate, UserKey, load_principal};
    use api::db::Db;
    use api::error::ApiError;
    use axum::http::request::Parts;

    pub const HEADER: &str = "x-test-user";

    pub struct TestHeader;

    impl Authenticate for TestHeader {
        fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a Db) -> AuthFuture<'a> {
            Box::pin(async move {
                let login = parts
                    .headers
                    .get(HEADER)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(ApiError::Unauthenticated)?;
                load_principal(db, UserKey::LoginName(login)).await
            })
        }
    }
}
