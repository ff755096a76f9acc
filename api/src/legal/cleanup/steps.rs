//! A step on a list: the rule ([`super::status::after`]) says where it
//! leads and who takes it; this layer checks the caller is that person,
//! that the list is complete (before it goes to the unit's reviewer) and
//! that a district's subordinates are all accepted (before it
//! consolidates), then writes the state, the history, the audit record,
//! the notices and the to-do items in one transaction.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::document::check;
use super::lists::{ListView, stale, view};
use super::status::{ListStatus, Step, after, may_consolidate};
use super::store::{self, ListKind, ListRow};
use crate::authz::Principal;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::CleanupListId;
use crate::outbox::task_notice::{TaskNotice, tell};
use crate::state::AppState;
use crate::validate::text;
use crate::{on_tx, todo};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/legal/cleanup/lists/{id}/steps", post(take))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// `send_for_check`, `send_back`, `submit`, `return` or `accept`.
    #[schema(value_type = String)]
    pub step: Step,
    /// Required to send back or return: what to change.
    pub reason: Option<String>,
}

/// Takes one step on a list.
#[utoipa::path(post, path = "/api/v1/legal/cleanup/lists/{id}/steps", tag = "legal", params(("id" = String, Path)),
    request_body = StepInput,
    responses((status = 200, body = ListView), (status = 403, description = "not the one who takes this step", body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "wrong state, frozen, subordinates pending, or changed meanwhile", body = crate::error::Problem),
        (status = 422, description = "no reason, or the list is incomplete (each problem by field)", body = crate::error::Problem)))]
pub async fn take(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<CleanupListId>,
    ApiJson(req): ApiJson<StepInput>,
) -> ApiResult<Json<ListView>> {
    const SQL: &str = "UPDATE cleanup_lists SET status = $3, revision = revision + 1, updated_at = $5, \
         reason = COALESCE($6, CASE WHEN $7 THEN NULL ELSE reason END), \
         submitted_at = CASE WHEN $7 THEN $5 ELSE submitted_at END \
         WHERE id = $1 AND status = $2 AND revision = $4";
    let (row, party) = store::list(&app, &p, &id).await?;
    let action = action(req.step);
    if !party.may(req.step.actor()) {
        crate::audit::record_denied(&app, &p, action, "cleanup_list", id.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    let reason = match req.step.needs_reason() {
        true => Some(text("reason", req.reason.as_deref(), 500, true)?),
        false => None,
    };
    let mut tx = app.db.begin().await?;
    let (status, revision) = store::current(&mut tx, &id).await?;
    let to = after(status, req.step)?;
    ready(&mut tx, &row, req.step).await?;
    let submitted = req.step == Step::Submit;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(status).bind(to).bind(revision)
        .bind(crate::clock::now()).bind(reason.as_deref()).bind(submitted)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(stale());
    }
    store::event(&mut tx, &id, req.step.as_str(), &p, reason.as_deref()).await?;
    let detail = json!({ "from": status, "to": to, "reason": reason });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        action,
        ("cleanup_list", id.as_str()),
        detail,
    )
    .await?;
    follow(&app, &mut tx, &row, req.step, revision + 1).await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    let (row, party) = store::list(&app, &p, &id).await?;
    Ok(Json(view(&app, &row, party).await?))
}

fn action(step: Step) -> &'static str {
    match step {
        Step::SendForCheck => "legal.cleanup.send_for_check",
        Step::SendBack => "legal.cleanup.send_back",
        Step::Submit => "legal.cleanup.submit",
        Step::Return => "legal.cleanup.return",
        Step::Accept => "legal.cleanup.accept",
    }
}

/// A list goes to its unit's reviewer complete; a district's consolidated
/// list moves up only when every list it stands for is accepted.
async fn ready(tx: &mut Tx, row: &ListRow, step: Step) -> ApiResult<()> {
    const DOCS: &str = "SELECT doc_no, title, issued_on, decision, reason, legal_basis FROM cleanup_documents \
         WHERE list_id = $1 ORDER BY position";
    if !matches!(step, Step::SendForCheck | Step::Submit) {
        return Ok(());
    }
    if row.kind == ListKind::Consolidated {
        let subs = store::subordinates(tx, row).await?;
        let states: Vec<ListStatus> = subs.into_iter().map(|(_, s)| s).collect();
        return may_consolidate(&states);
    }
    if step == Step::SendForCheck {
        let docs: Vec<super::document::Document> =
            on_tx!(tx, c => sqlx::query_as(DOCS).bind(&row.id).fetch_all(c).await)?;
        let problems = check(&docs, true);
        if !problems.is_empty() {
            return Err(ApiError::InvalidFields(problems));
        }
    }
    Ok(())
}

/// Who hears of the step, and whose to-do items it opens or closes.
async fn follow(
    app: &AppState,
    tx: &mut Tx,
    row: &ListRow,
    step: Step,
    revision: i64,
) -> ApiResult<()> {
    use todo::Action::{Complete, Create};
    let title = format!("{}：{}", row.unit_name, row.title);
    let check = to_do(row, &title, "cleanup_check");
    let decide = to_do(row, &title, "cleanup_review");
    let checkers = store::checkers(tx, row).await?;
    let deciders = store::deciders(tx, row).await?;
    match step {
        Step::SendForCheck => todo::push(app, tx, &check, &checkers, Create).await,
        Step::SendBack => {
            todo::push(app, tx, &check, &checkers, Complete).await?;
            returned(app, tx, row, revision).await
        }
        Step::Submit => {
            todo::push(app, tx, &check, &checkers, Complete).await?;
            todo::push(app, tx, &decide, &deciders, Create).await
        }
        Step::Return => {
            todo::push(app, tx, &decide, &deciders, Complete).await?;
            returned(app, tx, row, revision).await
        }
        Step::Accept => todo::push(app, tx, &decide, &deciders, Complete).await,
    }
}

/// The to-do item of checking (`cleanup_check`) or deciding
/// (`cleanup_review`) a list.
fn to_do<'a>(row: &ListRow, title: &'a str, kind: &'static str) -> todo::Task<'a> {
    todo::Task {
        kind,
        subject: format!("{kind}:{}", row.id),
        title,
        pc_path: format!("/api/v1/legal/cleanup/lists/{}", row.id),
        mobile_url: format!("govapp://cleanup-lists/{}", row.id),
        created_at: crate::clock::now(),
    }
}

/// Tells the unit's reporting officers that their list came back.
async fn returned(app: &AppState, tx: &mut Tx, row: &ListRow, revision: i64) -> ApiResult<()> {
    let occasion = revision.to_string();
    let notice = TaskNotice {
        kind: "cleanup_returned",
        title: &row.title,
        deadline_on: &row.deadline_on,
        link: ("list_id", row.id.as_str()),
        occasion: &occasion,
    };
    let people = store::reporters(tx, row).await?;
    tell(app, tx, &notice, &people).await
}
