//! Legal affairs on the phone: a reviewer's clean-up lists waiting for
//! them (to check for their unit, or to return or accept from the level
//! above), one list, and the step; the work exchange inbox, a note and a
//! reply. The same core as on PC (`api::legal::cleanup`,
//! `api::legal::exchange`), the same checks and answers.

use api::authz::Principal;
use api::error::ApiResult;
use api::http::extract::ApiJson;
use api::ids::{CleanupListId, NoteId};
use api::legal::cleanup::lists::{self, ListView};
use api::legal::cleanup::progress::visible_lists;
use api::legal::cleanup::status::ListStatus;
use api::legal::cleanup::steps::{self, StepInput};
use api::legal::cleanup::store::Party;
use api::legal::exchange::lists::{NoteInbox, NoteQuery, inbox_of, read};
use api::legal::exchange::replies::{self, NoteReplyInput};
use api::legal::exchange::view::NoteView;
use api::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sso::SsoState;
use utoipa::ToSchema;

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/m/v1/legal/reviews", get(reviews))
        .route("/m/v1/legal/cleanup-lists/{id}", get(one))
        .route("/m/v1/legal/cleanup-lists/{id}/steps", post(step))
        .route("/m/v1/legal/notes", get(notes))
        .route("/m/v1/legal/notes/{id}", get(note))
        .route("/m/v1/legal/notes/{id}/replies", post(reply))
}

/// A list waiting for the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    pub list_id: String,
    pub campaign_title: String,
    pub unit_name: String,
    #[schema(value_type = String)]
    pub status: ListStatus,
    pub status_label: &'static str,
    /// `check` (send up or back, for the unit) or `decide` (return or
    /// accept, from the level above).
    pub action: &'static str,
    pub deadline_on: String,
}

/// What waits for my review, oldest campaign first.
#[utoipa::path(get, path = "/m/v1/legal/reviews", tag = "mobile",
    responses((status = 200, body = [Review]), (status = 401, body = api::error::Problem)))]
pub async fn reviews(State(app): State<AppState>, p: Principal) -> ApiResult<Json<Vec<Review>>> {
    let lists = visible_lists(&app, &p, None).await?;
    let mut out: Vec<Review> = lists
        .into_iter()
        .filter_map(|row| {
            let party = Party::of(&p, &row);
            let action = match row.status {
                ListStatus::Checking if party.unit_reviewer => "check",
                ListStatus::Submitted if party.above => "decide",
                _ => return None,
            };
            Some(Review {
                list_id: row.id.into_string(),
                campaign_title: row.title,
                unit_name: row.unit_name,
                status: row.status,
                status_label: row.status.label_zh(),
                action,
                deadline_on: row.deadline_on,
            })
        })
        .collect();
    out.reverse();
    Ok(Json(out))
}

/// One list with its documents and history.
#[utoipa::path(get, path = "/m/v1/legal/cleanup-lists/{id}", tag = "mobile", params(("id" = String, Path)),
    responses((status = 200, body = ListView), (status = 404, body = api::error::Problem)))]
pub async fn one(
    state: State<AppState>,
    p: Principal,
    id: Path<CleanupListId>,
) -> ApiResult<Json<ListView>> {
    lists::show(state, p, id).await
}

/// Takes a step on a list: `send_for_check`, `send_back`, `submit`,
/// `return` (with a reason) or `accept`.
#[utoipa::path(post, path = "/m/v1/legal/cleanup-lists/{id}/steps", tag = "mobile", params(("id" = String, Path)),
    request_body = StepInput,
    responses((status = 200, body = ListView), (status = 403, body = api::error::Problem),
        (status = 404, body = api::error::Problem), (status = 409, body = api::error::Problem),
        (status = 422, body = api::error::Problem)))]
pub async fn step(
    state: State<AppState>,
    p: Principal,
    id: Path<CleanupListId>,
    req: ApiJson<StepInput>,
) -> ApiResult<Json<ListView>> {
    steps::take(state, p, id, req).await
}

/// My work exchange inbox with the unread count.
#[utoipa::path(get, path = "/m/v1/legal/notes", tag = "mobile",
    responses((status = 200, body = NoteInbox), (status = 401, body = api::error::Problem)))]
pub async fn notes(State(app): State<AppState>, p: Principal) -> ApiResult<Json<NoteInbox>> {
    let q = NoteQuery {
        q: None,
        limit: None,
    };
    Ok(Json(inbox_of(&app, &p, &q).await?))
}

/// One note (reading it is recorded).
#[utoipa::path(get, path = "/m/v1/legal/notes/{id}", tag = "mobile", params(("id" = String, Path)),
    responses((status = 200, body = NoteView), (status = 404, body = api::error::Problem)))]
pub async fn note(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<NoteId>,
) -> ApiResult<Json<NoteView>> {
    Ok(Json(read(&app, &p, &id).await?))
}

/// Replies to a note.
#[utoipa::path(post, path = "/m/v1/legal/notes/{id}/replies", tag = "mobile", params(("id" = String, Path)),
    request_body = NoteReplyInput,
    responses((status = 201, body = NoteView), (status = 404, body = api::error::Problem),
        (status = 409, body = api::error::Problem), (status = 422, body = api::error::Problem)))]
pub async fn reply(
    state: State<AppState>,
    p: Principal,
    id: Path<NoteId>,
    body: ApiJson<NoteReplyInput>,
) -> ApiResult<(axum::http::StatusCode, Json<NoteView>)> {
    replies::reply(state, p, id, body).await
}
