//! Disclosure cases on the phone, for dispatchers and handlers (GK-05): the
//! to-do screen with counts per tab, one case's screen, and the three steps
//! taken on the phone (send for handling, send for dispatch, a unit's part).
//! The other steps are on PC.

use api::authz::Principal;
use api::case_step_route;
use api::disclosure::case_file::{self, CaseView};
use api::disclosure::inbox::{self, Inbox, InboxQuery};
use api::disclosure::steps::{AssignInput, DispatchInput, ReplyInput};
use api::error::ApiResult;
use api::http::extract::ApiQuery;
use api::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use sso::SsoState;

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/m/v1/cases", get(list))
        .route("/m/v1/cases/{id}", get(detail))
        .route("/m/v1/cases/{id}/handling", post(handling))
        .route("/m/v1/cases/{id}/dispatch", post(dispatch))
        .route("/m/v1/cases/{id}/reply", post(reply))
}

/// What needs my action: the tab's cases, most urgent first, with the
/// working days left and the count of every tab.
#[utoipa::path(get, path = "/m/v1/cases", tag = "mobile", params(InboxQuery),
    responses((status = 200, body = Inbox), (status = 401, body = api::error::Problem), (status = 422, body = api::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<Json<Inbox>> {
    Ok(Json(inbox::inbox(&app, &p, q.tab).await?))
}

/// One case's screen: applicant (masked), request, timeline, and the steps
/// I may take.
#[utoipa::path(get, path = "/m/v1/cases/{id}", tag = "mobile", params(("id" = String, Path)),
    responses((status = 200, body = CaseView), (status = 401, body = api::error::Problem), (status = 404, body = api::error::Problem)))]
pub async fn detail(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<api::ids::CaseId>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(case_file::screen(&app, &p, &id).await?))
}

case_step_route!(
    handling,
    "/m/v1/cases/{id}/handling",
    "mobile",
    AssignInput,
    Assign,
    "送办理 on the phone."
);
case_step_route!(
    dispatch,
    "/m/v1/cases/{id}/dispatch",
    "mobile",
    DispatchInput,
    Dispatch,
    "送分办 on the phone."
);
case_step_route!(
    reply,
    "/m/v1/cases/{id}/reply",
    "mobile",
    ReplyInput,
    Reply,
    "A unit's part, on the phone."
);
