//! Steps on a filing: the office starts the review, returns it naming the
//! fields to change, accepts it, publishes it; the reporting officer sends
//! a changed filing back. [`super::status`] decides; this layer checks the
//! caller and the network, then writes the state, the history and the
//! audit record in one transaction.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::content::Field;
use super::records::{FilingView, view};
use super::status::{Step, Taker, after};
use super::store::{self, FilingRow, changed_meanwhile, wrong_side};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::FilingId;
use crate::on_tx;
use crate::state::AppState;
use crate::validate::text;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/legal/filings/{id}/steps", post(take))
}

/// The review form with the step it leads to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilingStepInput {
    /// `start_review`, `return`, `accept`, `publish` or `resubmit`.
    #[schema(value_type = String)]
    pub step: Step,
    /// The review opinion (审查意见): required to return or accept.
    pub opinion: Option<String>,
    /// To return: the fields the unit is to change (at least one).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub fields: Vec<Field>,
}

/// Takes one step on a filing.
#[utoipa::path(post, path = "/api/v1/legal/filings/{id}/steps", tag = "legal", params(("id" = String, Path)),
    request_body = FilingStepInput,
    responses((status = 200, body = FilingView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "wrong state, other network, or changed meanwhile", body = crate::error::Problem),
        (status = 422, description = "no opinion, or no fields to return", body = crate::error::Problem)))]
pub async fn take(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FilingId>,
    ApiJson(req): ApiJson<FilingStepInput>,
) -> ApiResult<Json<FilingView>> {
    let row = store::filing(&app, &p, &id).await?;
    let action = action(req.step);
    let allowed = match req.step.taker() {
        Taker::Office => store::is_office(&p),
        Taker::Reporter => store::reports_for(&p, &row.unit_id),
    };
    if !allowed {
        crate::audit::record_denied(&app, &p, action, "filing", id.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    if !req.step.side_allows(app.config.legal.filing_side) {
        return Err(wrong_side("此操作"));
    }
    let opinion = match req.step.needs_opinion() {
        true => Some(text("opinion", req.opinion.as_deref(), 2000, true)?),
        false => None,
    };
    if req.step == Step::Return && req.fields.is_empty() {
        return Err(ApiError::invalid("fields", "退回时须指明需要修改的项目"));
    }
    write(&app, &p, &row, &req, opinion.as_deref()).await?;
    let row = store::filing(&app, &p, &id).await?;
    Ok(Json(view(&app, row).await?))
}

async fn write(
    app: &AppState,
    p: &Principal,
    row: &FilingRow,
    req: &FilingStepInput,
    opinion: Option<&str>,
) -> ApiResult<()> {
    const SQL: &str = "UPDATE filings SET status = $3, version = version + 1, updated_at = $4, \
         review_opinion = COALESCE($5, review_opinion), returned_fields = $6 \
         WHERE id = $1 AND version = $2";
    let mut tx = app.db.begin().await?;
    let (status, version) = store::version(&mut tx, &row.id).await?;
    let to = after(status, req.step)?;
    let returned = match req.step {
        Step::Return => serde_json::to_string(&req.fields).map_err(anyhow::Error::from)?,
        Step::Resubmit => "[]".to_owned(),
        _ => row.returned_fields.clone(),
    };
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&row.id).bind(version).bind(to).bind(crate::clock::now())
        .bind(opinion).bind(&returned).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(changed_meanwhile());
    }
    store::event(
        &mut tx,
        &row.id,
        req.step.as_str(),
        &p.actor_label(),
        opinion,
    )
    .await?;
    let detail = json!({ "from": status, "to": to, "fields": req.fields });
    crate::audit::success(
        app,
        &mut tx,
        p,
        action(req.step),
        ("filing", row.id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn action(step: Step) -> &'static str {
    match step {
        Step::StartReview => "legal.filing.start_review",
        Step::Return => "legal.filing.return",
        Step::Accept => "legal.filing.accept",
        Step::Publish => "legal.filing.publish",
        Step::Resubmit => "legal.filing.resubmit",
    }
}
