//! What each step takes as input, as the client sends it.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::disclosure::result::CaseResult;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The unit that handles the case (the receiving unit or one below).
    pub unit_id: String,
    /// A handler of that unit, when one person is to handle it.
    pub assignee_id: Option<String>,
    pub note: Option<String>,
    /// Internal due date (YYYY-MM-DD), by the statutory deadline at the
    /// latest; default: the statutory deadline.
    pub due_on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchInput {
    /// The units asked for their part (1–20, distinct).
    pub unit_ids: Vec<String>,
    pub note: Option<String>,
    pub due_on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// Which part, when the caller's units hold several.
    pub assignment_id: Option<String>,
    pub answer: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionInput {
    /// What the applicant must change or add.
    pub items: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationInput {
    /// Who is consulted (a person or an organisation).
    pub third_party: String,
    /// The matter they are asked about.
    pub matter: String,
}

crate::text_enum! {
    pub enum ConsultationOutcome {
        Agreed = "agreed",
        Objected = "objected",
        NoAnswer = "no_answer",
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationEndInput {
    pub outcome: ConsultationOutcome,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// 1–20.
    pub working_days: u32,
    pub reason: String,
    /// The head of the disclosure office who approved: a dispatcher or unit
    /// administrator of the receiving unit.
    pub approver_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConclusionInput {
    pub result: CaseResult,
    /// The reply's text to the applicant.
    pub reply: String,
}
