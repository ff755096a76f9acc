//! The sender's unit's notes (drafts of its own, and everything sent with
//! how many have read it), a person's inbox with the unread count, and one
//! note, whose first reading by a recipient is recorded.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::store::{self, NoteStatus};
use super::view::{NoteView, view};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::ids::NoteId;
use crate::on_db;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/notes/sent", get(sent))
        .route("/api/v1/legal/notes/inbox", get(inbox))
        .route("/api/v1/legal/notes/{id}", get(one))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoteQuery {
    /// Words in the subject.
    pub q: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct SentNote {
    pub id: String,
    pub subject: String,
    #[schema(value_type = String)]
    pub status: NoteStatus,
    pub sender_name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
    pub recipients: i64,
    pub read: i64,
    pub replies: i64,
}

fn pattern(q: &Option<String>) -> Option<String> {
    q.as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(crate::db::like_pattern)
}

/// My unit's notes: sent ones, and my drafts; newest first.
#[utoipa::path(get, path = "/api/v1/legal/notes/sent", tag = "legal", params(NoteQuery),
    responses((status = 200, body = Vec<SentNote>), (status = 403, body = crate::error::Problem)))]
pub async fn sent(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<NoteQuery>,
) -> ApiResult<Json<Vec<SentNote>>> {
    const SQL: &str = "SELECT n.id, n.subject, n.status, s.display_name AS sender_name, n.updated_at, \
         (SELECT COUNT(*) FROM exchange_deliveries d WHERE d.note_id = n.id) AS recipients, \
         (SELECT COUNT(*) FROM exchange_deliveries d WHERE d.note_id = n.id AND d.read_at IS NOT NULL) AS read, \
         (SELECT COUNT(*) FROM exchange_replies r WHERE r.note_id = n.id) AS replies \
         FROM exchange_notes n JOIN users s ON s.id = n.sender_id \
         WHERE n.sender_unit_id = $1 AND (n.status <> 'draft' OR n.sender_id = $2) \
         AND ($3 IS NULL OR n.subject LIKE $3 ESCAPE '\\') ORDER BY n.updated_at DESC, n.id DESC LIMIT $4";
    let unit = p.unit_id.clone().ok_or(ApiError::Forbidden)?;
    let limit = crate::pagination::page_limit(q.limit)?;
    let rows = on_db!(&app.db, c => sqlx::query_as(SQL).bind(&unit).bind(&p.user_id).bind(pattern(&q.q))
        .bind(limit).fetch_all(c).await)?;
    Ok(Json(rows))
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct NoteInboxItem {
    pub id: String,
    /// None once recalled.
    pub subject: Option<String>,
    #[schema(value_type = String)]
    pub status: NoteStatus,
    pub sender_unit_name: String,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub read_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteInbox {
    pub unread: i64,
    pub items: Vec<NoteInboxItem>,
}

/// The notes delivered to me, newest first, with how many are unread.
#[utoipa::path(get, path = "/api/v1/legal/notes/inbox", tag = "legal", params(NoteQuery),
    responses((status = 200, body = NoteInbox), (status = 401, body = crate::error::Problem)))]
pub async fn inbox(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<NoteQuery>,
) -> ApiResult<Json<NoteInbox>> {
    Ok(Json(inbox_of(&app, &p, &q).await?))
}

pub async fn inbox_of(app: &AppState, p: &Principal, q: &NoteQuery) -> ApiResult<NoteInbox> {
    const SQL: &str = "SELECT n.id, CASE WHEN n.status = 'recalled' THEN NULL ELSE n.subject END AS subject, n.status, \
         u.name AS sender_unit_name, n.sent_at, d.read_at FROM exchange_deliveries d \
         JOIN exchange_notes n ON n.id = d.note_id JOIN org_units u ON u.id = n.sender_unit_id \
         WHERE d.user_id = $1 AND ($2 IS NULL OR (n.status <> 'recalled' AND n.subject LIKE $2 ESCAPE '\\')) \
         ORDER BY n.sent_at DESC, n.id DESC LIMIT $3";
    const UNREAD: &str = "SELECT COUNT(*) FROM exchange_deliveries d JOIN exchange_notes n ON n.id = d.note_id \
         WHERE d.user_id = $1 AND d.read_at IS NULL AND n.status = 'sent'";
    let limit = crate::pagination::page_limit(q.limit)?;
    let items = on_db!(&app.db, c => sqlx::query_as(SQL).bind(&p.user_id).bind(pattern(&q.q)).bind(limit)
        .fetch_all(c).await)?;
    let unread =
        on_db!(&app.db, c => sqlx::query_scalar(UNREAD).bind(&p.user_id).fetch_one(c).await)?;
    Ok(NoteInbox { unread, items })
}

/// One note; a recipient's first reading is recorded.
#[utoipa::path(get, path = "/api/v1/legal/notes/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = NoteView), (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<NoteId>,
) -> ApiResult<Json<NoteView>> {
    Ok(Json(read(&app, &p, &id).await?))
}

pub async fn read(app: &AppState, p: &Principal, id: &NoteId) -> ApiResult<NoteView> {
    let (row, party) = store::note(app, p, id).await?;
    if party.recipient && row.status == NoteStatus::Sent {
        let mut tx = app.db.begin().await?;
        store::mark_read(&mut tx, id, p).await?;
        tx.commit().await?;
    }
    view(app, &row, party).await
}
