//! Online forms on the phone: a filler's returns, one return, saving a
//! draft and submitting; and the sender's progress screen. The same core
//! as on PC (`api::forms`), the same checks and answers.

use api::authz::Principal;
use api::error::ApiResult;
use api::forms::fill::{self, AnswersInput, ReturnSummary, ReturnView};
use api::forms::progress::{self, Counts, UnitProgress};
use api::forms::status::Step;
use api::forms::store;
use api::ids::{FormId, ReturnId};
use api::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use sso::SsoState;
use utoipa::ToSchema;

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/m/v1/forms/returns", get(list))
        .route("/m/v1/forms/returns/{id}", get(one))
        .route("/m/v1/forms/returns/{id}/draft", put(save))
        .route("/m/v1/forms/returns/{id}/submission", post(submit))
        .route("/m/v1/forms/{id}/progress", get(progress_screen))
}

/// The returns my units are to fill, open ones first.
#[utoipa::path(get, path = "/m/v1/forms/returns", tag = "mobile",
    responses((status = 200, body = [ReturnSummary]), (status = 401, body = api::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Vec<ReturnSummary>>> {
    Ok(Json(fill::list_mine(&app, &p).await?))
}

/// One return: the form, the answers, attachments and history.
#[utoipa::path(get, path = "/m/v1/forms/returns/{id}", tag = "mobile", params(("id" = String, Path)),
    responses((status = 200, body = ReturnView), (status = 404, body = api::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
) -> ApiResult<Json<ReturnView>> {
    let (row, party) = store::return_of(&app, &p, &id).await?;
    Ok(Json(fill::view(&app, &row, party).await?))
}

/// Saves a draft; the answer carries the computed fields.
#[utoipa::path(put, path = "/m/v1/forms/returns/{id}/draft", tag = "mobile", params(("id" = String, Path)),
    request_body = AnswersInput,
    responses((status = 200, body = ReturnView), (status = 409, body = api::error::Problem), (status = 422, body = api::error::Problem)))]
pub async fn save(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
    api::http::extract::ApiJson(req): api::http::extract::ApiJson<AnswersInput>,
) -> ApiResult<Json<ReturnView>> {
    Ok(Json(fill::write(&app, &p, &id, req, Step::Save).await?))
}

/// Submits the return.
#[utoipa::path(post, path = "/m/v1/forms/returns/{id}/submission", tag = "mobile", params(("id" = String, Path)),
    request_body = AnswersInput,
    responses((status = 200, body = ReturnView), (status = 409, body = api::error::Problem), (status = 422, body = api::error::Problem)))]
pub async fn submit(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
    api::http::extract::ApiJson(req): api::http::extract::ApiJson<AnswersInput>,
) -> ApiResult<Json<ReturnView>> {
    Ok(Json(fill::write(&app, &p, &id, req, Step::Submit).await?))
}

/// The sender's progress screen: counts and where each unit stands (the
/// aggregate is on PC).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressScreen {
    pub title: String,
    pub deadline_on: String,
    pub counts: Counts,
    pub units: Vec<UnitProgress>,
}

#[utoipa::path(get, path = "/m/v1/forms/{id}/progress", tag = "mobile", params(("id" = String, Path)),
    responses((status = 200, body = ProgressScreen), (status = 404, body = api::error::Problem)))]
pub async fn progress_screen(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
) -> ApiResult<Json<ProgressScreen>> {
    let all = progress::of_form(&app, &p, &id).await?;
    Ok(Json(ProgressScreen {
        title: all.title,
        deadline_on: all.deadline_on,
        counts: all.counts,
        units: all.units,
    }))
}
