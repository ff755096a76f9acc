//! What a note shows to whom: the sender's unit sees everything, with each
//! recipient's read state; a recipient sees the note, its files and the
//! thread, or only that it was recalled.

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::store::{NoteRow, NoteStatus, Party};
use crate::error::ApiResult;
use crate::on_db;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct Addressee {
    /// `unit` or `person`.
    pub kind: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct Delivery {
    pub user_id: String,
    pub name: String,
    pub unit_name: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub read_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct NoteFile {
    pub id: String,
    pub reply_id: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub content_hash: String,
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct Reply {
    pub id: String,
    /// The reply this one answers; none for a reply to the note.
    pub parent_id: Option<String>,
    pub author: String,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct NoteEvent {
    pub actor: String,
    pub action: String,
    pub detail: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub id: String,
    #[schema(value_type = String)]
    pub status: NoteStatus,
    pub sender_name: String,
    pub sender_unit_name: String,
    /// None for a recipient once the note is recalled.
    pub subject: Option<String>,
    pub body: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub recalled_at: Option<OffsetDateTime>,
    pub addressed: Vec<Addressee>,
    /// The sender's unit only: who got it and who has read it.
    pub deliveries: Vec<Delivery>,
    pub files: Vec<NoteFile>,
    pub replies: Vec<Reply>,
    /// The sender's unit only: every send, read, recall and reply.
    pub history: Vec<NoteEvent>,
}

pub async fn view(app: &AppState, row: &NoteRow, party: Party) -> ApiResult<NoteView> {
    const ADDRESSED: &str = "SELECT r.kind, r.target_id AS id, COALESCE(u.name, p.display_name, r.target_id) AS name \
         FROM exchange_recipients r LEFT JOIN org_units u ON r.kind = 'unit' AND u.id = r.target_id \
         LEFT JOIN users p ON r.kind = 'person' AND p.id = r.target_id WHERE r.note_id = $1 ORDER BY r.kind DESC, name";
    const DELIVERIES: &str = "SELECT d.user_id, u.display_name AS name, o.name AS unit_name, d.read_at \
         FROM exchange_deliveries d JOIN users u ON u.id = d.user_id LEFT JOIN org_units o ON o.id = u.unit_id \
         WHERE d.note_id = $1 ORDER BY o.name, u.display_name";
    const FILES: &str = "SELECT id, reply_id, file_name, content_type, size_bytes, content_hash FROM exchange_files \
         WHERE note_id = $1 ORDER BY created_at, id";
    const REPLIES: &str = "SELECT id, parent_id, author, body, created_at FROM exchange_replies WHERE note_id = $1 \
         ORDER BY created_at, id";
    const EVENTS: &str =
        "SELECT actor, action, detail, at FROM exchange_events WHERE note_id = $1 ORDER BY seq";
    let hidden = row.status == NoteStatus::Recalled && !party.sender_side;
    let id = &row.id;
    let addressed = on_db!(&app.db, c => sqlx::query_as(ADDRESSED).bind(id).fetch_all(c).await)?;
    let (deliveries, history) = if party.sender_side {
        (
            on_db!(&app.db, c => sqlx::query_as(DELIVERIES).bind(id).fetch_all(c).await)?,
            on_db!(&app.db, c => sqlx::query_as(EVENTS).bind(id).fetch_all(c).await)?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let (files, replies) = if hidden {
        (Vec::new(), Vec::new())
    } else {
        (
            on_db!(&app.db, c => sqlx::query_as(FILES).bind(id).fetch_all(c).await)?,
            on_db!(&app.db, c => sqlx::query_as(REPLIES).bind(id).fetch_all(c).await)?,
        )
    };
    Ok(NoteView {
        id: row.id.to_string(),
        status: row.status,
        sender_name: row.sender_name.clone(),
        sender_unit_name: row.sender_unit_name.clone(),
        subject: (!hidden).then(|| row.subject.clone()),
        body: (!hidden).then(|| row.body.clone()),
        sent_at: row.sent_at,
        recalled_at: row.recalled_at,
        addressed,
        deliveries,
        files,
        replies,
        history,
    })
}
