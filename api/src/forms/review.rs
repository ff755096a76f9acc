//! The sender's steps on one unit's return: send it back with a reason (a
//! draft again for that unit, the reason kept and shown), accept it
//! (frozen), remind the unit, or withdraw the assignment. Each is checked
//! against the return's state ([`super::status::after`]), recorded in its
//! history and audited; the unit's fillers are told of a return and a
//! reminder, and their to-do items follow.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::distribute::{task, tell_fillers};
use super::fill::{ReturnView, fillers_at, view};
use super::status::{Step, after};
use super::store::{self, Party};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::ReturnId;
use crate::state::AppState;
use crate::validate::text;
use crate::{on_tx, todo};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/form-returns/{id}/review", post(review))
        .route("/api/v1/form-returns/{id}/reminder", post(remind))
        .route("/api/v1/form-returns/{id}/withdrawal", post(withdraw))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// Back to the unit, with a reason.
    Return,
    Accept,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: ReviewDecision,
    /// Required to return: what to change.
    pub reason: Option<String>,
}

/// What a step does besides moving the status.
struct Effect<'a> {
    step: Step,
    event: &'static str,
    action: &'static str,
    reason: Option<&'a str>,
    /// The fillers hear of it by this template, if any.
    tell: Option<&'static str>,
    todo: Option<todo::Action>,
}

/// Accepts a submitted return, or returns it to the unit with a reason.
#[utoipa::path(post, path = "/api/v1/form-returns/{id}/review", tag = "forms", params(("id" = String, Path)),
    request_body = ReviewInput,
    responses((status = 200, body = ReturnView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, description = "not submitted", body = crate::error::Problem),
        (status = 422, description = "returning without a reason", body = crate::error::Problem)))]
pub async fn review(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
    ApiJson(req): ApiJson<ReviewInput>,
) -> ApiResult<Json<ReturnView>> {
    let reason = match req.decision {
        ReviewDecision::Return => Some(text("reason", req.reason.as_deref(), 500, true)?),
        ReviewDecision::Accept => None,
    };
    let effect = match req.decision {
        ReviewDecision::Return => Effect {
            step: Step::Return,
            event: "returned",
            action: "form.return",
            reason: reason.as_deref(),
            tell: Some("form_returned"),
            todo: Some(todo::Action::Create),
        },
        ReviewDecision::Accept => Effect {
            step: Step::Accept,
            event: "accepted",
            action: "form.accept",
            reason: None,
            tell: None,
            todo: None,
        },
    };
    Ok(Json(step(&app, &p, &id, effect).await?))
}

/// Reminds the unit to fill its return (push, then SMS).
#[utoipa::path(post, path = "/api/v1/form-returns/{id}/reminder", tag = "forms", params(("id" = String, Path)),
    responses((status = 200, body = ReturnView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "already submitted", body = crate::error::Problem)))]
pub async fn remind(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
) -> ApiResult<Json<ReturnView>> {
    let effect = Effect {
        step: Step::Remind,
        event: "reminded",
        action: "form.remind",
        reason: None,
        tell: Some("form_reminder"),
        todo: None,
    };
    Ok(Json(step(&app, &p, &id, effect).await?))
}

/// Takes the assignment back: the unit no longer sees or fills it.
#[utoipa::path(post, path = "/api/v1/form-returns/{id}/withdrawal", tag = "forms", params(("id" = String, Path)),
    responses((status = 200, body = ReturnView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "accepted or already withdrawn", body = crate::error::Problem)))]
pub async fn withdraw(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
) -> ApiResult<Json<ReturnView>> {
    let effect = Effect {
        step: Step::Withdraw,
        event: "withdrawn",
        action: "form.withdraw",
        reason: None,
        tell: None,
        todo: Some(todo::Action::Cancel),
    };
    Ok(Json(step(&app, &p, &id, effect).await?))
}

async fn step(
    app: &AppState,
    p: &Principal,
    id: &ReturnId,
    e: Effect<'_>,
) -> ApiResult<ReturnView> {
    const SQL: &str = "UPDATE form_assignments SET status = $3, return_reason = COALESCE($4, return_reason), \
         revision = revision + 1, updated_by = $5, updated_at = $6 WHERE id = $1 AND status = $2";
    let row = store::sent_return(app, p, id, e.action).await?;
    let mut tx = app.db.begin().await?;
    let (status, _) = store::current(&mut tx, id).await?;
    let to = after(status, e.step)?;
    let now = crate::clock::now();
    if to != status {
        let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(id).bind(status).bind(to).bind(e.reason)
            .bind(&p.user_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(ApiError::Conflict {
                code: "return_state",
                detail: "该填报状态刚刚变化，请刷新".into(),
            });
        }
    }
    let detail = json!({ "reason": e.reason });
    store::event(&mut tx, id, e.event, &p.actor_label(), now, detail.clone()).await?;
    crate::audit::success(
        app,
        &mut tx,
        p,
        e.action,
        ("form_return", id.as_str()),
        detail,
    )
    .await?;
    let form = store::form_unscoped(&mut tx, &row.form_id).await?;
    let fillers = fillers_at(&mut tx, &row).await?;
    if let Some(kind) = e.tell {
        // A manual reminder may be repeated: each is its own notification.
        let key = if e.step == Step::Remind {
            ulid::Ulid::new().to_string()
        } else {
            row.revision.to_string()
        };
        tell_fillers(app, &mut tx, &form, id, &fillers, kind, &key).await?;
    }
    if let Some(action) = e.todo {
        todo::push(app, &mut tx, &task(&form, id), &fillers, action).await?;
    }
    tx.commit().await?;
    app.outbox_wake.notify_one();
    let (row, _) = store::return_of(app, p, id).await?;
    view(app, &row, Party::Sender).await
}
