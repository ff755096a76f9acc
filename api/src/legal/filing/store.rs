//! Reading filings, scoped to who asks: the legal affairs office sees every
//! filing; a unit's reporting officers and reviewers see their unit's (and
//! those of the units below it); anyone else finds nothing (404).

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::content::{Content, Field};
use super::status::FilingStatus;
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::{FilingId, UnitId};
use crate::state::AppState;
use crate::{on_db, on_tx};

crate::text_enum! {
    /// How a filing came: reported by a unit, or pushed by a unified
    /// office platform.
    pub enum Source {
        Unit = "unit",
        Platform = "platform",
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct FilingRow {
    pub id: FilingId,
    pub unit_id: UnitId,
    pub unit_code: String,
    pub unit_name: String,
    pub unit_path: String,
    #[sqlx(flatten)]
    pub content: Content,
    pub status: FilingStatus,
    pub returned_fields: String,
    pub review_opinion: Option<String>,
    pub source: Source,
    pub version: i64,
    pub synced_version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

macro_rules! select_filings {
    () => {
        "SELECT f.id, f.unit_id, u.code AS unit_code, u.name AS unit_name, u.path AS unit_path, f.title, \
         f.doc_no, f.issuing_unit, f.issued_on, f.effective_on, f.full_text, f.status, f.returned_fields, \
         f.review_opinion, f.source, f.version, f.synced_version, f.created_at, f.updated_at \
         FROM filings f JOIN org_units u ON u.id = f.unit_id "
    };
}
pub(crate) use select_filings;

impl FilingRow {
    /// The fields the reviewer returned (stored as a JSON array).
    pub fn returned(&self) -> Vec<Field> {
        serde_json::from_str(&self.returned_fields).unwrap_or_default()
    }
}

/// The office: whoever holds the legal affairs administrator role.
pub fn is_office(p: &Principal) -> bool {
    p.has_role(Role::LegalAdmin)
}

/// The caller may see filings of the unit at `path`.
pub fn sees(p: &Principal, path: &str) -> bool {
    is_office(p) || p.covers(&[Role::LegalReporter, Role::LegalReviewer], path)
}

/// The units whose filings a unit's officer lists, as `LIKE` prefixes of
/// their paths (at most three: an officer holds these roles at one or two
/// units; `sees` still decides every single filing).
pub fn unit_prefixes(p: &Principal) -> [Option<String>; 3] {
    let mut out = [None, None, None];
    let paths = p
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::LegalReporter | Role::LegalReviewer))
        .filter_map(|g| g.unit_path.as_deref());
    for (slot, path) in out.iter_mut().zip(paths) {
        *slot = Some(format!(
            "{}%",
            crate::db::like_pattern(path).trim_matches('%')
        ));
    }
    out
}

/// The caller reports for exactly this unit.
pub fn reports_for(p: &Principal, unit: &UnitId) -> bool {
    p.grants
        .iter()
        .any(|g| g.role == Role::LegalReporter && g.unit_id.as_ref() == Some(unit))
}

pub async fn find(app: &AppState, id: &FilingId) -> ApiResult<Option<FilingRow>> {
    const SQL: &str = concat!(select_filings!(), "WHERE f.id = $1");
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?)
}

/// A filing the caller sees; anyone else: 404.
pub async fn filing(app: &AppState, p: &Principal, id: &FilingId) -> ApiResult<FilingRow> {
    find(app, id)
        .await?
        .filter(|f| sees(p, &f.unit_path))
        .ok_or(ApiError::NotFound)
}

/// One entry of a filing's history.
#[derive(Debug, Clone, Serialize, ToSchema, FromRow)]
pub struct FilingEvent {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub note: Option<String>,
}

pub async fn events(app: &AppState, id: &FilingId) -> ApiResult<Vec<FilingEvent>> {
    const SQL: &str = "SELECT id, at, actor, action, note FROM filing_events WHERE filing_id = $1 ORDER BY at, id";
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_all(c).await)?)
}

/// Records a step in the filing's history.
pub async fn event(
    tx: &mut Tx,
    id: &FilingId,
    action: &str,
    actor: &str,
    note: Option<&str>,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO filing_events (id, filing_id, at, actor, action, note) VALUES ($1, $2, $3, $4, $5, $6)";
    let eid = ulid::Ulid::new().to_string();
    on_tx!(tx, c => sqlx::query(SQL).bind(&eid).bind(id).bind(crate::clock::now()).bind(actor)
        .bind(action).bind(note).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The stored version, for a change that must not overwrite another.
pub async fn version(tx: &mut Tx, id: &FilingId) -> ApiResult<(FilingStatus, i64)> {
    const SQL: &str = "SELECT status, version FROM filings WHERE id = $1";
    let row: Option<(FilingStatus, i64)> =
        on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.ok_or(ApiError::NotFound)
}

pub fn changed_meanwhile() -> ApiError {
    ApiError::Conflict {
        code: "changed_meanwhile",
        detail: "备案已被他人修改，请刷新后重试".into(),
    }
}

/// Who is here: the side's refusal when an action belongs to the other
/// network.
pub fn wrong_side(action_zh: &str) -> ApiError {
    ApiError::Conflict {
        code: "wrong_network",
        detail: format!("{action_zh}不在本网进行"),
    }
}
