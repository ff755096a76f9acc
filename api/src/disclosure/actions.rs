//! The PC routes of case handling: one case's screen, and one route per
//! step, each with `Idempotency-Key`. The mobile BFF mounts the same
//! handlers' logic under `/m/v1/cases` (see [`case_step_route`]).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

use super::case_file::{self, CaseView};
use super::steps::{
    AssignInput, Command, ConclusionInput, ConsultationEndInput, ConsultationInput,
    CorrectionInput, DispatchInput, ExtensionInput, NoteInput, ReplyInput, perform,
};
use crate::audit;
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::{CaseId, NoticeId};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    const BASE: &str = "/api/v1/disclosure/cases/{id}";
    Router::new()
        .route(BASE, get(get_case))
        .route(
            &format!("{BASE}/notices/{{notice_id}}/pdf"),
            get(notice_pdf),
        )
        .route(&format!("{BASE}/handling"), post(handling))
        .route(&format!("{BASE}/dispatch"), post(dispatch))
        .route(&format!("{BASE}/reply"), post(reply))
        .route(&format!("{BASE}/correction"), post(correction))
        .route(&format!("{BASE}/correction-received"), post(corrected))
        .route(&format!("{BASE}/abandonment"), post(abandon))
        .route(&format!("{BASE}/consultation"), post(consultation))
        .route(&format!("{BASE}/consultation-end"), post(consultation_end))
        .route(&format!("{BASE}/extension"), post(extension))
        .route(&format!("{BASE}/conclusion"), post(conclusion))
}

/// Runs one step for `p` with its idempotency key: a retry with the same key
/// and body answers the first result; a refusal for want of a role is
/// audited.
pub async fn run(
    app: &AppState,
    p: &Principal,
    id: &CaseId,
    headers: &HeaderMap,
    hash: &str,
    cmd: Command,
) -> ApiResult<Response> {
    let key = IdempotencyKey::required(headers)?;
    let scope = format!("case-step {id} {} {}", cmd.step().as_str(), p.user_id);
    let result = idempotency::run_once(app, &key, &scope, hash, StatusCode::OK, async |tx| {
        perform(app, tx, p, id, cmd).await
    })
    .await;
    if matches!(result, Err(ApiError::Forbidden)) {
        audit::record_denied(
            app,
            p,
            "disclosure.case.step",
            "disclosure_case",
            id.as_str(),
        )
        .await;
    }
    result
}

/// One case: applicant (masked), request, dates, assignments, notices,
/// timeline, and the steps the caller may take.
#[utoipa::path(get, path = "/api/v1/disclosure/cases/{id}", tag = "disclosure",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = CaseView),
        (status = 401, body = crate::error::Problem),
        (status = 404, description = "no such case, or not the caller's", body = crate::error::Problem),
    ))]
pub async fn get_case(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<CaseId>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(case_file::screen(&app, &p, &id).await?))
}

/// A notice of the case as PDF (Chinese text in an embedded font).
#[utoipa::path(get, path = "/api/v1/disclosure/cases/{id}/notices/{notice_id}/pdf", tag = "disclosure",
    params(("id" = String, Path), ("notice_id" = String, Path)),
    responses(
        (status = 200, content_type = "application/pdf", description = "the notice"),
        (status = 404, body = crate::error::Problem),
        (status = 503, description = "no CJK font on this server", body = crate::error::Problem),
    ))]
pub async fn notice_pdf(
    State(app): State<AppState>,
    p: Principal,
    Path((id, notice_id)): Path<(CaseId, NoticeId)>,
) -> ApiResult<Response> {
    // Officials who see the case, and the approvers asked to seal the notice.
    if case_file::load(&app, &p, &id).await.is_err()
        && !crate::seal::applications::asked_to_seal(&app, &p, &notice_id).await?
    {
        return Err(ApiError::NotFound);
    }
    super::notices::download(&app, &id, &notice_id, false).await
}

/// Defines a handler for one step at `$path`, for the PC API here and the
/// mobile BFF: the body is `$input`, the answer `StepDone`.
#[macro_export]
macro_rules! case_step_route {
    ($name:ident, $path:literal, $tag:literal, $input:ty, $variant:ident, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = $tag, request_body = $input,
            params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8–128 characters, one per action")),
            responses(
                (status = 200, body = $crate::disclosure::steps::StepDone),
                (status = 400, description = "malformed body or missing Idempotency-Key", body = $crate::error::Problem),
                (status = 403, description = "the caller sees the case but may not take this step", body = $crate::error::Problem),
                (status = 404, description = "no such case, or not the caller's", body = $crate::error::Problem),
                (status = 409, description = "the step is not allowed now (illegal_transition and the like); nothing changed", body = $crate::error::Problem),
                (status = 422, description = "a field failed validation (named)", body = $crate::error::Problem),
            ))]
        pub async fn $name(
            axum::extract::State(app): axum::extract::State<$crate::state::AppState>,
            p: $crate::authz::Principal,
            axum::extract::Path(id): axum::extract::Path<$crate::ids::CaseId>,
            headers: axum::http::HeaderMap,
            $crate::http::extract::HashedJson(input, hash): $crate::http::extract::HashedJson<$input>,
        ) -> $crate::error::ApiResult<axum::response::Response> {
            $crate::disclosure::actions::run(
                &app,
                &p,
                &id,
                &headers,
                &hash,
                $crate::disclosure::steps::Command::$variant(input),
            )
            .await
        }
    };
}

case_step_route!(
    handling,
    "/api/v1/disclosure/cases/{id}/handling",
    "disclosure",
    AssignInput,
    Assign,
    "送办理: assigns the case to a unit (and a handler of it) with a note and an internal due date."
);
case_step_route!(
    dispatch,
    "/api/v1/disclosure/cases/{id}/dispatch",
    "disclosure",
    DispatchInput,
    Dispatch,
    "送分办: asks several units for their part."
);
case_step_route!(
    reply,
    "/api/v1/disclosure/cases/{id}/reply",
    "disclosure",
    ReplyInput,
    Reply,
    "A unit's part of a dispatched case."
);
case_step_route!(
    correction,
    "/api/v1/disclosure/cases/{id}/correction",
    "disclosure",
    CorrectionInput,
    RequestCorrection,
    "补正告知 (art. 30): once, within 7 working days of receipt; stops the clock and issues the notice."
);
case_step_route!(
    corrected,
    "/api/v1/disclosure/cases/{id}/correction-received",
    "disclosure",
    NoteInput,
    Corrected,
    "The corrected request arrived: the clock restarts from it."
);
case_step_route!(
    abandon,
    "/api/v1/disclosure/cases/{id}/abandonment",
    "disclosure",
    NoteInput,
    Abandon,
    "No correction by its deadline: the case ends (Table 3: other, correction overdue)."
);
case_step_route!(
    consultation,
    "/api/v1/disclosure/cases/{id}/consultation",
    "disclosure",
    ConsultationInput,
    StartConsultation,
    "征求意见 (art. 32): a third party has 15 working days; the clock pauses."
);
case_step_route!(
    consultation_end,
    "/api/v1/disclosure/cases/{id}/consultation-end",
    "disclosure",
    ConsultationEndInput,
    EndConsultation,
    "The consultation ended; the deadline moves by the working days it took."
);
case_step_route!(
    extension,
    "/api/v1/disclosure/cases/{id}/extension",
    "disclosure",
    ExtensionInput,
    Extend,
    "延期 (art. 33): once, at most 20 working days, with the approver recorded."
);
case_step_route!(
    conclusion,
    "/api/v1/disclosure/cases/{id}/conclusion",
    "disclosure",
    ConclusionInput,
    Conclude,
    "办结 (art. 36): exactly one Table 3 result, and the reply notice."
);
