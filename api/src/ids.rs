//! Ids that cross modules, one newtype each, so that a function taking a
//! unit's id cannot be handed a user's. They are stored and serialised as
//! the plain text they always were (`#[sqlx(transparent)]`,
//! `#[serde(transparent)]`); in OpenAPI they stay strings
//! (`#[schema(value_type = String)]` where a view carries one).

/// Declares a text id newtype.
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh id: a ULID, so ids sort by creation time.
            pub fn generate() -> Self {
                Self(ulid::Ulid::new().to_string())
            }

            /// An id as received (a path segment, a field, a row of
            /// another system); whether it names anything is for the
            /// lookup to say.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<ulid::Ulid> for $name {
            fn from(id: ulid::Ulid) -> Self {
                Self(id.to_string())
            }
        }
    };
}

id_type!(
    /// A person with an account: an official or an administrator.
    UserId
);
id_type!(
    /// An org unit.
    UnitId
);
id_type!(
    /// A disclosure case (one application for information).
    CaseId
);
id_type!(
    /// A notice (告知书) of a case.
    NoticeId
);
id_type!(
    /// A case's assignment: its handling, or one unit's part.
    AssignmentId
);
id_type!(
    /// An e-seal.
    SealId
);
id_type!(
    /// A seal-use application.
    SealApplicationId
);

id_type!(
    /// One version of an online form.
    FormId
);

id_type!(
    /// A distributed form's task for one unit, holding that unit's return.
    ReturnId
);

id_type!(
    /// A file attached to a form's return.
    AttachmentFileId
);

id_type!(
    /// An application warning (one rule, applicant and window).
    WarningId
);

id_type!(
    /// A file attached to an agency's reply to a warning.
    WarningFileId
);

id_type!(
    /// A clean-up campaign of normative documents.
    CampaignId
);

id_type!(
    /// One unit's list in a clean-up campaign.
    CleanupListId
);

id_type!(
    /// One year's work assessment of one track.
    AssessmentId
);

id_type!(
    /// An indicator (or a category) of an assessment.
    IndicatorId
);

id_type!(
    /// Supporting material a unit sent to an assessment.
    MaterialId
);

id_type!(
    /// A filing (备案) of a normative or official document; the same id on
    /// both networks.
    FilingId
);

id_type!(
    /// A data package of filings, made on one network for the other.
    PackageId
);

id_type!(
    /// A declaration in the catalogue of major administrative decisions.
    MajorDecisionId
);

id_type!(
    /// An expert of the legal affairs office's library.
    ExpertId
);

id_type!(
    /// A work exchange note between units.
    NoteId
);
