//! A note's life on the sender's side: a draft is saved, edited and
//! deleted by its sender; sending resolves the recipients (every active
//! person of each unit addressed, and each person named) and tells them
//! through the notifier (push, then SMS); a sent note may be recalled
//! while nobody has replied.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::store::{self, NoteRow, NoteStatus, wrong_state};
use super::view::{NoteView, view};
use crate::authz::Principal;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::ApiJson;
use crate::ids::{NoteId, UnitId, UserId};
use crate::on_tx;
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::validate::text;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/notes", post(create))
        .route("/api/v1/legal/notes/{id}", put(edit).delete(remove))
        .route("/api/v1/legal/notes/{id}/send", post(send))
        .route("/api/v1/legal/notes/{id}/recall", post(recall))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    pub subject: String,
    pub body: String,
    /// Units addressed: everyone active in each gets it.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub units: Vec<UnitId>,
    /// People addressed by name.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub people: Vec<UserId>,
}

const MAX_RECIPIENTS: usize = 500;

/// Every problem of the input, by field: texts, and recipients that exist.
async fn checked(app: &AppState, n: &DraftInput) -> ApiResult<(String, String)> {
    const UNITS: &str = "SELECT id FROM org_units WHERE id IN ({in})";
    const PEOPLE: &str = "SELECT id FROM users WHERE status = 'active' AND id IN ({in})";
    let subject = text("subject", Some(&n.subject), 200, false)?;
    let body = text("body", Some(&n.body), 20_000, true)?;
    if n.units.is_empty() && n.people.is_empty() {
        return Err(ApiError::invalid("units", "请至少选择一个接收单位或接收人"));
    }
    if n.units.len() + n.people.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid(
            "people",
            format!("接收单位和接收人合计最多 {MAX_RECIPIENTS} 个"),
        ));
    }
    // One query per kind, then each entry named if it was not found.
    let units: Vec<&str> = n.units.iter().map(UnitId::as_str).collect();
    let people: Vec<&str> = n.people.iter().map(UserId::as_str).collect();
    let found_units: Vec<(String,)> = crate::db::fetch_in(&app.db, UNITS, &units).await?;
    let found_people: Vec<(String,)> = crate::db::fetch_in(&app.db, PEOPLE, &people).await?;
    let missing =
        |field: &str, asked: &[&str], found: &[(String,)], reason: &str| -> Vec<FieldError> {
            asked
                .iter()
                .enumerate()
                .filter(|(_, a)| !found.iter().any(|(f,)| f == *a))
                .map(|(i, _)| FieldError {
                    field: format!("{field}[{i}]"),
                    reason: reason.into(),
                })
                .collect()
        };
    let mut problems = missing("units", &units, &found_units, "单位不存在");
    problems.extend(missing(
        "people",
        &people,
        &found_people,
        "接收人不存在或已停用",
    ));
    if !problems.is_empty() {
        return Err(ApiError::InvalidFields(problems));
    }
    Ok((subject, body))
}

async fn address(tx: &mut Tx, id: &NoteId, n: &DraftInput) -> ApiResult<()> {
    const CLEAR: &str = "DELETE FROM exchange_recipients WHERE note_id = $1";
    const ADD: &str = "INSERT INTO exchange_recipients (note_id, kind, target_id) VALUES ($1, $2, $3) \
         ON CONFLICT (note_id, kind, target_id) DO NOTHING";
    on_tx!(tx, c => sqlx::query(CLEAR).bind(id).execute(c).await.map(|_| ()))?;
    let targets = n
        .units
        .iter()
        .map(|u| ("unit", u.as_str()))
        .chain(n.people.iter().map(|u| ("person", u.as_str())));
    for (kind, target) in targets {
        on_tx!(tx, c => sqlx::query(ADD).bind(id).bind(kind).bind(target).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// Saves a draft (any official of a unit).
#[utoipa::path(post, path = "/api/v1/legal/notes", tag = "legal", request_body = DraftInput,
    responses((status = 201, body = NoteView), (status = 403, body = crate::error::Problem),
        (status = 422, description = "a text, or a recipient that does not exist (named)", body = crate::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(n): ApiJson<DraftInput>,
) -> ApiResult<(StatusCode, Json<NoteView>)> {
    const SQL: &str = "INSERT INTO exchange_notes (id, sender_id, sender_unit_id, subject, body, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $6)";
    let unit = p.unit_id.clone().ok_or(ApiError::Forbidden)?;
    let (subject, body) = checked(&app, &n).await?;
    let id = NoteId::generate();
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&p.user_id).bind(&unit).bind(&subject).bind(&body)
        .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    address(&mut tx, &id, &n).await?;
    tx.commit().await?;
    let (row, party) = store::note(&app, &p, &id).await?;
    Ok((StatusCode::CREATED, Json(view(&app, &row, party).await?)))
}

/// The sender's own draft, or 404/409.
async fn own_draft(app: &AppState, p: &Principal, id: &NoteId) -> ApiResult<NoteRow> {
    let (row, _) = store::note(app, p, id).await?;
    if row.sender_id != p.user_id {
        crate::audit::record_denied(app, p, "legal.exchange.edit", "note", id.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    if row.status != NoteStatus::Draft {
        return Err(wrong_state(row.status, "修改"));
    }
    Ok(row)
}

/// Edits a draft (its sender).
#[utoipa::path(put, path = "/api/v1/legal/notes/{id}", tag = "legal", params(("id" = String, Path)), request_body = DraftInput,
    responses((status = 200, body = NoteView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, description = "no longer a draft", body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn edit(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<NoteId>,
    ApiJson(n): ApiJson<DraftInput>,
) -> ApiResult<Json<NoteView>> {
    const SQL: &str = "UPDATE exchange_notes SET subject = $2, body = $3, updated_at = $4 WHERE id = $1 AND status = 'draft'";
    own_draft(&app, &p, &id).await?;
    let (subject, body) = checked(&app, &n).await?;
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&subject).bind(&body).bind(crate::clock::now())
        .execute(c).await.map(|_| ()))?;
    address(&mut tx, &id, &n).await?;
    tx.commit().await?;
    let (row, party) = store::note(&app, &p, &id).await?;
    Ok(Json(view(&app, &row, party).await?))
}

/// Deletes a draft (its sender).
#[utoipa::path(delete, path = "/api/v1/legal/notes/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)))]
pub async fn remove(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<NoteId>,
) -> ApiResult<StatusCode> {
    const SQLS: [&str; 3] = [
        "DELETE FROM exchange_files WHERE note_id = $1",
        "DELETE FROM exchange_recipients WHERE note_id = $1",
        "DELETE FROM exchange_notes WHERE id = $1 AND status = 'draft'",
    ];
    own_draft(&app, &p, &id).await?;
    let mut tx = app.db.begin().await?;
    for sql in SQLS {
        on_tx!(&mut tx, c => sqlx::query(sql).bind(&id).execute(c).await.map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The people a note goes to: every active person of each unit addressed
/// and each person named, once, not the sender.
async fn people(tx: &mut Tx, id: &NoteId, sender: &UserId) -> ApiResult<Vec<UserId>> {
    const SQL: &str = "SELECT DISTINCT u.id FROM exchange_recipients r JOIN users u \
         ON (r.kind = 'unit' AND u.unit_id = r.target_id) OR (r.kind = 'person' AND u.id = r.target_id) \
         WHERE r.note_id = $1 AND u.status = 'active' AND u.id <> $2 ORDER BY u.id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(id).bind(sender).fetch_all(c).await)?)
}

/// Sends a draft (its sender): delivered, told, audited.
#[utoipa::path(post, path = "/api/v1/legal/notes/{id}/send", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = NoteView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, description = "not a draft", body = crate::error::Problem),
        (status = 422, description = "nobody to deliver to", body = crate::error::Problem)))]
pub async fn send(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<NoteId>,
) -> ApiResult<Json<NoteView>> {
    const SENT: &str = "UPDATE exchange_notes SET status = 'sent', sent_at = $2, updated_at = $2 WHERE id = $1 AND status = 'draft'";
    const DELIVER: &str = "INSERT INTO exchange_deliveries (note_id, user_id) VALUES ($1, $2)";
    let row = own_draft(&app, &p, &id).await?;
    let mut tx = app.db.begin().await?;
    let to = people(&mut tx, &id, &p.user_id).await?;
    if to.is_empty() {
        return Err(ApiError::invalid("units", "所选单位和人员中没有可接收的人"));
    }
    let n = on_tx!(&mut tx, c => sqlx::query(SENT).bind(&id).bind(crate::clock::now()).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(wrong_state(NoteStatus::Sent, "再次发送"));
    }
    for user in &to {
        on_tx!(&mut tx, c => sqlx::query(DELIVER).bind(&id).bind(user).execute(c).await.map(|_| ()))?;
    }
    tell(&app, &mut tx, &row, &to, "exchange_note", "sent").await?;
    store::event(&mut tx, &id, &p, "send", Some(&format!("{} 人", to.len()))).await?;
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.exchange.send",
        ("note", id.as_str()),
        json!({ "recipients": to.len() }),
    )
    .await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    let (row, party) = store::note(&app, &p, &id).await?;
    Ok(Json(view(&app, &row, party).await?))
}

/// Tells `users` of the note (push first, then SMS), once per occasion.
pub async fn tell(
    app: &AppState,
    tx: &mut Tx,
    row: &NoteRow,
    users: &[UserId],
    kind: &'static str,
    occasion: &str,
) -> ApiResult<()> {
    let title: String = row.subject.chars().take(20).collect();
    for user in users {
        let key = format!("{kind}:{}:{occasion}:{user}", row.id);
        let n = Notification {
            kind,
            user_id: user,
            params: &[
                ("title", &title),
                ("sender", &row.sender_unit_name),
                ("note_id", row.id.as_str()),
            ],
            idempotency_key: Some(&key),
            ttl: Duration::from_secs(3 * 86_400),
        };
        notify_user(tx, &app.pii, &app.config.notify, n).await?;
    }
    Ok(())
}

/// Recalls a sent note while nobody has replied (its sender).
#[utoipa::path(post, path = "/api/v1/legal/notes/{id}/recall", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = NoteView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, description = "not sent, or already replied to", body = crate::error::Problem)))]
pub async fn recall(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<NoteId>,
) -> ApiResult<Json<NoteView>> {
    const REPLIES: &str = "SELECT COUNT(*) FROM exchange_replies WHERE note_id = $1";
    const SQL: &str = "UPDATE exchange_notes SET status = 'recalled', recalled_at = $2, updated_at = $2 \
         WHERE id = $1 AND status = 'sent'";
    let (row, _) = store::note(&app, &p, &id).await?;
    if row.sender_id != p.user_id {
        crate::audit::record_denied(&app, &p, "legal.exchange.recall", "note", id.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    if row.status != NoteStatus::Sent {
        return Err(wrong_state(row.status, "撤回"));
    }
    let mut tx = app.db.begin().await?;
    let replies: i64 =
        on_tx!(&mut tx, c => sqlx::query_scalar(REPLIES).bind(&id).fetch_one(c).await)?;
    if replies > 0 {
        return Err(ApiError::Conflict {
            code: "already_replied",
            detail: "已有接收方回复，不能撤回".into(),
        });
    }
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(crate::clock::now()).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(wrong_state(NoteStatus::Recalled, "撤回"));
    }
    store::event(&mut tx, &id, &p, "recall", None).await?;
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.exchange.recall",
        ("note", id.as_str()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    let (row, party) = store::note(&app, &p, &id).await?;
    Ok(Json(view(&app, &row, party).await?))
}
