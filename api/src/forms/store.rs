//! Reading forms and returns, scoped to who asks: a form is seen only by
//! the form senders of its unit (and above); a return by the fillers of its
//! unit and by the form's senders. Anyone else finds nothing (404), so a
//! unit that was not assigned learns nothing of the form.

use serde_json::{Map, Value};
use sqlx::FromRow;
use time::OffsetDateTime;

use super::definition::Definition;
use super::status::{FormStatus, ReturnStatus};
use crate::audit;
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::{FormId, ReturnId, UnitId};
use crate::state::AppState;
use crate::{on_db, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct FormRow {
    pub id: FormId,
    pub lineage_id: String,
    pub version: i64,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub unit_path: String,
    pub title: String,
    pub description: String,
    pub deadline_on: String,
    pub definition: String,
    pub status: FormStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub distributed_at: Option<OffsetDateTime>,
}

macro_rules! select_forms {
    () => {
        "SELECT f.id, f.lineage_id, f.version, f.unit_id, u.name AS unit_name, u.path AS unit_path, f.title, \
         f.description, f.deadline_on, f.definition, f.status, f.created_at, f.updated_at, f.distributed_at \
         FROM forms f JOIN org_units u ON u.id = f.unit_id "
    };
}
pub(crate) use select_forms;

impl FormRow {
    /// The stored definition; it was checked when saved.
    pub fn definition(&self) -> ApiResult<Definition> {
        serde_json::from_str(&self.definition)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("form {} definition: {e}", self.id)))
    }
}

/// The principal sends forms for the unit at `path`.
pub fn sends_for(p: &Principal, path: &str) -> bool {
    p.covers(&[Role::FormSender], path)
}

/// A form the caller sends for; anyone else: 404.
pub async fn form(app: &AppState, p: &Principal, id: &FormId) -> ApiResult<FormRow> {
    const SQL: &str = concat!(select_forms!(), "WHERE f.id = $1");
    let row: Option<FormRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.filter(|f| sends_for(p, &f.unit_path))
        .ok_or(ApiError::NotFound)
}

/// A form read inside a transaction, whoever asks (for a step already
/// authorised through its return).
pub async fn form_unscoped(tx: &mut Tx, id: &FormId) -> ApiResult<FormRow> {
    const SQL: &str = concat!(select_forms!(), "WHERE f.id = $1");
    let row: Option<FormRow> =
        on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.ok_or(ApiError::NotFound)
}

/// A return with what it needs of its form.
#[derive(Debug, Clone, FromRow)]
pub struct ReturnRow {
    pub id: ReturnId,
    pub form_id: FormId,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub unit_path: String,
    pub status: ReturnStatus,
    pub answers: Option<String>,
    pub revision: i64,
    pub late: bool,
    pub return_reason: Option<String>,
    pub submitted_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
    pub title: String,
    pub deadline_on: String,
    pub definition: String,
    pub form_unit_path: String,
    pub form_unit_name: String,
}

macro_rules! select_returns {
    () => {
        "SELECT r.id, r.form_id, r.unit_id, u.name AS unit_name, u.path AS unit_path, r.status, r.answers, \
         r.revision, r.late, r.return_reason, r.submitted_at, r.updated_at, f.title, f.deadline_on, f.definition, \
         fu.path AS form_unit_path, fu.name AS form_unit_name \
         FROM form_assignments r JOIN org_units u ON u.id = r.unit_id JOIN forms f ON f.id = r.form_id \
         JOIN org_units fu ON fu.id = f.unit_id "
    };
}
pub(crate) use select_returns;

/// Who the caller is to a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// A filler of the receiving unit: sees its own answers in full.
    Filler,
    /// A sender of the form's unit: sees every return, personal data masked.
    Sender,
}

impl ReturnRow {
    pub fn definition(&self) -> ApiResult<Definition> {
        serde_json::from_str(&self.definition).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("form {} definition: {e}", self.form_id))
        })
    }

    /// The stored answers (personal values still sealed).
    pub fn stored_answers(&self) -> ApiResult<Map<String, Value>> {
        match &self.answers {
            None => Ok(Map::new()),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("return {} answers: {e}", self.id))
            }),
        }
    }

    pub fn party(&self, p: &Principal) -> Option<Party> {
        if p.covers(&[Role::FormFiller], &self.unit_path) && self.status != ReturnStatus::Withdrawn
        {
            Some(Party::Filler)
        } else if sends_for(p, &self.form_unit_path) {
            Some(Party::Sender)
        } else {
            None
        }
    }
}

/// A return the caller fills or sent, and who they are to it; else 404.
pub async fn return_of(
    app: &AppState,
    p: &Principal,
    id: &ReturnId,
) -> ApiResult<(ReturnRow, Party)> {
    const SQL: &str = concat!(select_returns!(), "WHERE r.id = $1");
    let row: Option<ReturnRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.and_then(|r| r.party(p).map(|party| (r, party)))
        .ok_or(ApiError::NotFound)
}

/// Like [`return_of`], for the form's senders only (others: 404, or 403
/// audited for a filler of the unit, who can see the return).
pub async fn sent_return(
    app: &AppState,
    p: &Principal,
    id: &ReturnId,
    action: &'static str,
) -> ApiResult<ReturnRow> {
    let (row, party) = return_of(app, p, id).await?;
    if sends_for(p, &row.form_unit_path) {
        return Ok(row);
    }
    debug_assert_eq!(party, Party::Filler);
    audit::record_denied(app, p, action, "form_return", id.as_str()).await;
    Err(ApiError::Forbidden)
}

/// The same return read again inside `tx`, for a step that changes it: its
/// status and revision as they are now.
pub async fn current(tx: &mut Tx, id: &ReturnId) -> ApiResult<(ReturnStatus, i64)> {
    const SQL: &str = "SELECT status, revision FROM form_assignments WHERE id = $1";
    let row: Option<(ReturnStatus, i64)> =
        on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.ok_or(ApiError::NotFound)
}

/// Appends to a return's history.
pub async fn event(
    tx: &mut Tx,
    id: &ReturnId,
    kind: &str,
    actor: &str,
    at: OffsetDateTime,
    detail: Value,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO form_events (id, assignment_id, kind, actor_label, occurred_at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, c => sqlx::query(SQL).bind(ulid::Ulid::new().to_string()).bind(id).bind(kind).bind(actor)
        .bind(at).bind(detail.to_string()).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// A definition as the client sent it, parsed and checked (422 naming every
/// field and rule that failed).
pub fn parse_definition(raw: &Value) -> ApiResult<Definition> {
    let def: Definition = serde_json::from_value(raw.clone())
        .map_err(|e| ApiError::invalid("definition", format!("表单定义格式不正确：{e}")))?;
    def.check().map_err(ApiError::InvalidFields)?;
    Ok(def)
}

/// The JSON stored for a definition.
pub fn definition_text(def: &Definition) -> String {
    serde_json::to_string(def).unwrap_or_default()
}
