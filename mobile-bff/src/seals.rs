//! Seal-use approval on the phone (GK-04): the inbox screen in one call
//! (applications awaiting me and cases needing my action, with counts), one
//! application with its notice preview, the decision (with a recent sign-in
//! or step-up), and applying from the phone.

use api::authz::Principal;
use api::disclosure::inbox::{self, Inbox};
use api::error::ApiResult;
use api::http::extract::HashedJson;
use api::seal::applications::{self, ApplicationView, DecisionInput, NewApplication, PendingItem};
use api::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sso::SsoState;
use utoipa::ToSchema;

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/m/v1/inbox", get(inbox_screen))
        .route("/m/v1/seal-applications", post(apply))
        .route("/m/v1/seal-applications/{id}", get(one))
        .route("/m/v1/seal-applications/{id}/decision", post(decide))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SealInbox {
    pub count: usize,
    pub items: Vec<PendingItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxScreen {
    /// Seal-use applications awaiting my decision, oldest first.
    pub seal_applications: SealInbox,
    /// Cases needing my action (the "handle" tab), with every tab's count.
    pub cases: Inbox,
}

/// The inbox screen: what awaits my decision or action, with counts.
#[utoipa::path(get, path = "/m/v1/inbox", tag = "mobile",
    responses((status = 200, body = InboxScreen), (status = 401, body = api::error::Problem)))]
pub async fn inbox_screen(
    State(app): State<AppState>,
    p: Principal,
) -> ApiResult<Json<InboxScreen>> {
    let items = applications::pending_for(&app, &p).await?;
    Ok(Json(InboxScreen {
        seal_applications: SealInbox {
            count: items.len(),
            items,
        },
        cases: inbox::inbox(&app, &p, None).await?,
    }))
}

/// Applies to stamp a case notice, from the phone.
#[utoipa::path(post, path = "/m/v1/seal-applications", tag = "mobile", request_body = NewApplication,
    params(("Idempotency-Key" = String, Header, description = "8–128 characters, one per application")),
    responses(
        (status = 201, description = "{id, status, policy}"),
        (status = 403, body = api::error::Problem),
        (status = 404, body = api::error::Problem),
        (status = 409, body = api::error::Problem),
        (status = 422, body = api::error::Problem),
    ))]
pub async fn apply(
    state: State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: HashedJson<NewApplication>,
) -> ApiResult<Response> {
    applications::apply(state, p, headers, body).await
}

/// One application, with the notice's preview link.
#[utoipa::path(get, path = "/m/v1/seal-applications/{id}", tag = "mobile", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 404, body = api::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<api::ids::SealApplicationId>,
) -> ApiResult<Json<ApplicationView>> {
    Ok(Json(applications::view(&app, &p, &id).await?))
}

/// Approves or rejects. Needs a sign-in or step-up within
/// `auth.step_up_max_age_secs` (else `step_up_required`).
#[utoipa::path(post, path = "/m/v1/seal-applications/{id}/decision", tag = "mobile", params(("id" = String, Path),
    ("Idempotency-Key" = String, Header, description = "8–128 characters, one per decision")), request_body = DecisionInput,
    responses(
        (status = 200, description = "{application_id, status, decision_id, key_id, signature}"),
        (status = 401, description = "step_up_required", body = api::error::Problem),
        (status = 403, body = api::error::Problem),
        (status = 404, body = api::error::Problem),
        (status = 409, body = api::error::Problem),
    ))]
pub async fn decide(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<api::ids::SealApplicationId>,
    headers: HeaderMap,
    HashedJson(input, hash): HashedJson<DecisionInput>,
) -> ApiResult<Response> {
    applications::decide_route(&app, &p, &id, &headers, &hash, input).await
}
