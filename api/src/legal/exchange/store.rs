//! Reading notes, scoped: a note is seen by its sender's unit and by the
//! people it was delivered to; anyone else finds nothing (404). The
//! history of every send, read, recall and reply is written here.

use sqlx::FromRow;
use time::OffsetDateTime;

use crate::authz::Principal;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::{NoteId, UnitId, UserId};
use crate::state::AppState;
use crate::{on_db, on_tx};

crate::text_enum! {
    pub enum NoteStatus {
        Draft = "draft",
        Sent = "sent",
        /// 已撤回: recipients see that, not the content.
        Recalled = "recalled",
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct NoteRow {
    pub id: NoteId,
    pub sender_id: UserId,
    pub sender_name: String,
    pub sender_unit_id: UnitId,
    pub sender_unit_name: String,
    pub subject: String,
    pub body: String,
    pub status: NoteStatus,
    pub updated_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    pub recalled_at: Option<OffsetDateTime>,
}

pub const SELECT: &str = "SELECT n.id, n.sender_id, s.display_name AS sender_name, n.sender_unit_id, \
     u.name AS sender_unit_name, n.subject, n.body, n.status, n.updated_at, n.sent_at, n.recalled_at \
     FROM exchange_notes n JOIN users s ON s.id = n.sender_id JOIN org_units u ON u.id = n.sender_unit_id ";

/// What the caller is to a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Party {
    /// Of the sender's unit (the sender, or a colleague following it).
    pub sender_side: bool,
    /// One of the people it was delivered to.
    pub recipient: bool,
}

pub async fn note(app: &AppState, p: &Principal, id: &NoteId) -> ApiResult<(NoteRow, Party)> {
    const DELIVERED: &str =
        "SELECT COUNT(*) FROM exchange_deliveries WHERE note_id = $1 AND user_id = $2";
    let sql = format!("{SELECT}WHERE n.id = $1");
    let row: Option<NoteRow> = on_db!(&app.db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    let row = row.ok_or(ApiError::NotFound)?;
    let delivered: i64 = on_db!(&app.db, c => sqlx::query_scalar(DELIVERED).bind(id).bind(&p.user_id).fetch_one(c).await)?;
    let party = Party {
        sender_side: p.unit_id.as_ref() == Some(&row.sender_unit_id)
            && (row.status != NoteStatus::Draft || row.sender_id == p.user_id),
        recipient: delivered > 0 && row.status != NoteStatus::Draft,
    };
    if !party.sender_side && !party.recipient {
        return Err(ApiError::NotFound);
    }
    Ok((row, party))
}

pub async fn event(
    tx: &mut Tx,
    id: &NoteId,
    p: &Principal,
    action: &str,
    detail: Option<&str>,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO exchange_events (id, note_id, seq, at, actor, action, detail) \
         SELECT $1, $2, COUNT(*) + 1, $3, $4, $5, $6 FROM exchange_events WHERE note_id = $2";
    let eid = ulid::Ulid::new().to_string();
    on_tx!(tx, c => sqlx::query(SQL).bind(&eid).bind(id).bind(crate::clock::now()).bind(p.actor_label())
        .bind(action).bind(detail).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Records a recipient's first reading (opening it, or replying to it).
pub async fn mark_read(tx: &mut Tx, id: &NoteId, p: &Principal) -> ApiResult<()> {
    const SQL: &str = "UPDATE exchange_deliveries SET read_at = $3 WHERE note_id = $1 AND user_id = $2 AND read_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(&p.user_id).bind(crate::clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n > 0 {
        event(tx, id, p, "read", None).await?;
    }
    Ok(())
}

pub fn wrong_state(status: NoteStatus, what: &str) -> ApiError {
    let label = match status {
        NoteStatus::Draft => "草稿",
        NoteStatus::Sent => "已发送",
        NoteStatus::Recalled => "已撤回",
    };
    ApiError::Conflict {
        code: "wrong_note_state",
        detail: format!("工作交流当前为“{label}”，不能{what}"),
    }
}
