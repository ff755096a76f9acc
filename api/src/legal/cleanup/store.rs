//! Reading campaigns and lists, scoped to who asks. A campaign is managed by
//! the legal affairs administrators of its office; a list is seen by the
//! reporting officers and reviewers of its unit, by the level above that
//! decides it, and by the office. Anyone else finds nothing (404), so a
//! unit learns nothing of another unit's list.

use sqlx::FromRow;
use time::OffsetDateTime;

use super::document::{Decision, Document};
use super::line::ReportLine;
use super::status::{Actor, ListStatus};
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::{CampaignId, CleanupListId, UnitId, UserId};
use crate::org::UnitKind;
use crate::state::AppState;
use crate::{on_db, on_tx};

crate::text_enum! {
    /// A campaign: a draft is edited; distributed, its lists exist.
    pub enum CampaignStatus {
        Draft = "draft",
        Distributed = "distributed",
    }
}

crate::text_enum! {
    /// A unit's own list, or a district's consolidation of its bureaus',
    /// towns' and streets' lists (which holds no documents itself).
    pub enum ListKind {
        Own = "own",
        Consolidated = "consolidated",
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct CampaignRow {
    pub id: CampaignId,
    pub office_unit_id: UnitId,
    pub office_name: String,
    pub office_path: String,
    pub title: String,
    pub scope: String,
    pub line: ReportLine,
    pub deadline_on: String,
    pub status: CampaignStatus,
    pub created_at: OffsetDateTime,
    pub distributed_at: Option<OffsetDateTime>,
}

macro_rules! select_campaigns {
    () => {
        "SELECT c.id, c.office_unit_id, o.name AS office_name, o.path AS office_path, c.title, c.scope, c.line, \
         c.deadline_on, c.status, c.created_at, c.distributed_at \
         FROM cleanup_campaigns c JOIN org_units o ON o.id = c.office_unit_id "
    };
}
pub(crate) use select_campaigns;

/// The caller administers the office at `path`.
pub fn administers(p: &Principal, path: &str) -> bool {
    p.covers(&[Role::LegalAdmin], path)
}

/// A campaign the caller administers; anyone else: 404.
pub async fn campaign(app: &AppState, p: &Principal, id: &CampaignId) -> ApiResult<CampaignRow> {
    const SQL: &str = concat!(select_campaigns!(), "WHERE c.id = $1");
    let row: Option<CampaignRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.filter(|c| administers(p, &c.office_path))
        .ok_or(ApiError::NotFound)
}

/// A list with what its checks need of its units and its campaign.
#[derive(Debug, Clone, FromRow)]
pub struct ListRow {
    pub id: CleanupListId,
    pub campaign_id: CampaignId,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub unit_kind: UnitKind,
    pub reviewer_unit_id: UnitId,
    pub reviewer_unit_name: String,
    pub kind: ListKind,
    pub status: ListStatus,
    pub reason: Option<String>,
    pub revision: i64,
    pub reminded: Option<String>,
    pub submitted_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
    pub title: String,
    pub line: ReportLine,
    pub deadline_on: String,
    pub office_unit_id: UnitId,
    pub office_path: String,
}

macro_rules! select_lists {
    () => {
        "SELECT l.id, l.campaign_id, l.unit_id, u.name AS unit_name, u.kind AS unit_kind, l.reviewer_unit_id, \
         r.name AS reviewer_unit_name, l.kind, l.status, l.reason, l.revision, l.reminded, l.submitted_at, \
         l.updated_at, c.title, c.line, c.deadline_on, c.office_unit_id, o.path AS office_path \
         FROM cleanup_lists l JOIN org_units u ON u.id = l.unit_id JOIN org_units r ON r.id = l.reviewer_unit_id \
         JOIN cleanup_campaigns c ON c.id = l.campaign_id JOIN org_units o ON o.id = c.office_unit_id "
    };
}
pub(crate) use select_lists;

/// What the caller may be to a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Party {
    /// Fills it: a reporting officer of its unit (or the office, for its
    /// own list).
    pub reporter: bool,
    /// Checks it before it goes up: a reviewer of its unit.
    pub unit_reviewer: bool,
    /// Returns or accepts it: the office, or the district that decides it.
    pub above: bool,
    /// The office that runs the campaign: sees every list of it.
    pub office: bool,
}

impl Party {
    pub fn of(p: &Principal, row: &ListRow) -> Party {
        let at = |role: Role, unit: &UnitId| {
            p.grants
                .iter()
                .any(|g| g.role == role && g.unit_id.as_ref() == Some(unit))
        };
        let office = administers(p, &row.office_path);
        let own_office = office && row.unit_id == row.office_unit_id;
        let above = if row.reviewer_unit_id == row.office_unit_id {
            office
        } else {
            at(Role::LegalReviewer, &row.reviewer_unit_id)
        };
        Party {
            reporter: own_office || at(Role::LegalReporter, &row.unit_id),
            unit_reviewer: own_office || at(Role::LegalReviewer, &row.unit_id),
            above,
            office,
        }
    }

    pub fn may(self, actor: Actor) -> bool {
        match actor {
            Actor::Reporter => self.reporter,
            Actor::UnitReviewer => self.unit_reviewer,
            Actor::Above => self.above,
        }
    }

    pub fn sees(self) -> bool {
        self.reporter || self.unit_reviewer || self.above || self.office
    }
}

/// A list the caller sees, and who the caller is to it; anyone else: 404.
pub async fn list(
    app: &AppState,
    p: &Principal,
    id: &CleanupListId,
) -> ApiResult<(ListRow, Party)> {
    const SQL: &str = concat!(select_lists!(), "WHERE l.id = $1");
    let row: Option<ListRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    let row = row.ok_or(ApiError::NotFound)?;
    let party = Party::of(p, &row);
    if !party.sees() {
        return Err(ApiError::NotFound);
    }
    Ok((row, party))
}

/// The list's state and revision inside the step's transaction; the step
/// then writes only if they are still these (else 409).
pub async fn current(tx: &mut Tx, id: &CleanupListId) -> ApiResult<(ListStatus, i64)> {
    const SQL: &str = "SELECT status, revision FROM cleanup_lists WHERE id = $1";
    let row: Option<(ListStatus, i64)> =
        on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.ok_or(ApiError::NotFound)
}

/// A document as stored, with the unit whose list holds it.
#[derive(Debug, Clone, FromRow)]
pub struct DocumentRow {
    pub list_id: CleanupListId,
    pub unit_name: String,
    pub doc_no: String,
    pub title: String,
    pub issued_on: String,
    pub decision: Option<Decision>,
    pub reason: String,
    pub legal_basis: String,
}

impl DocumentRow {
    pub fn document(&self) -> Document {
        Document {
            doc_no: self.doc_no.clone(),
            title: self.title.clone(),
            issued_on: self.issued_on.clone(),
            decision: self.decision,
            reason: self.reason.clone(),
            legal_basis: self.legal_basis.clone(),
        }
    }
}

/// The documents of `lists`, list by list in the given order, each list's
/// in its own order (one query per 500 lists).
pub async fn documents(app: &AppState, lists: &[CleanupListId]) -> ApiResult<Vec<DocumentRow>> {
    const SQL: &str = "SELECT d.list_id, u.name AS unit_name, d.doc_no, d.title, d.issued_on, d.decision, d.reason, \
         d.legal_basis FROM cleanup_documents d JOIN cleanup_lists l ON l.id = d.list_id \
         JOIN org_units u ON u.id = l.unit_id WHERE d.list_id IN ({in}) ORDER BY u.path, d.list_id, d.position";
    let ids: Vec<&str> = lists.iter().map(CleanupListId::as_str).collect();
    let mut rows: Vec<DocumentRow> = crate::db::fetch_in(&app.db, SQL, &ids).await?;
    // Chunks are each in order; the whole is put back in the given order.
    let order = |id: &CleanupListId| lists.iter().position(|l| l == id);
    rows.sort_by_key(|r| order(&r.list_id));
    Ok(rows)
}

/// The own lists a district's consolidated list stands for: those of the
/// same campaign that the district decides.
pub async fn subordinates(
    tx: &mut Tx,
    row: &ListRow,
) -> ApiResult<Vec<(CleanupListId, ListStatus)>> {
    const SQL: &str = "SELECT l.id, l.status FROM cleanup_lists l JOIN org_units u ON u.id = l.unit_id \
         WHERE l.campaign_id = $1 AND l.reviewer_unit_id = $2 AND l.kind = 'own' ORDER BY u.path";
    Ok(
        on_tx!(tx, c => sqlx::query_as(SQL).bind(&row.campaign_id).bind(&row.unit_id).fetch_all(c).await)?,
    )
}

/// The active holders of `role` at exactly `unit`.
pub async fn people(tx: &mut Tx, unit: &UnitId, role: Role) -> ApiResult<Vec<UserId>> {
    const SQL: &str = "SELECT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.unit_id = $1 AND ra.role = $2 AND u.status = 'active' ORDER BY ra.user_id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(unit).bind(role).fetch_all(c).await)?)
}

/// The people who decide `row` at the level above.
pub async fn deciders(tx: &mut Tx, row: &ListRow) -> ApiResult<Vec<UserId>> {
    let role = if row.reviewer_unit_id == row.office_unit_id {
        Role::LegalAdmin
    } else {
        Role::LegalReviewer
    };
    people(tx, &row.reviewer_unit_id, role).await
}

/// Records a step in the list's history.
pub async fn event(
    tx: &mut Tx,
    list: &CleanupListId,
    kind: &str,
    p: &Principal,
    reason: Option<&str>,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO cleanup_events (id, list_id, kind, actor_label, reason, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    let id = ulid::Ulid::new().to_string();
    let now = crate::clock::now();
    on_tx!(tx, c => sqlx::query(SQL).bind(&id).bind(list).bind(kind).bind(p.actor_label()).bind(reason)
        .bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Documents per multi-row INSERT: 9 values each, well inside SQLite's
/// 32 766 parameters.
const CHUNK: usize = 500;

/// Replaces the documents of `list` with `docs`, in their order.
pub async fn replace_documents(
    tx: &mut Tx,
    list: &CleanupListId,
    docs: &[Document],
) -> ApiResult<()> {
    const DELETE: &str = "DELETE FROM cleanup_documents WHERE list_id = $1";
    on_tx!(tx, c => sqlx::query(DELETE).bind(list).execute(c).await.map(|_| ()))?;
    for (n, chunk) in docs.chunks(CHUNK).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = 2 + 9 * i;
                let cols: Vec<String> = (b..b + 9).map(|k| format!("${k}")).collect();
                format!("($1, {})", cols.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO cleanup_documents (list_id, id, position, doc_no, doc_no_key, title, issued_on, decision, \
             reason, legal_basis) VALUES {}",
            values.join(", ")
        );
        on_tx!(tx, c => {
            // Only placeholders are formatted in; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(list);
            for (i, d) in chunk.iter().enumerate() {
                q = q.bind(ulid::Ulid::new().to_string()).bind((n * CHUNK + i) as i64).bind(&d.doc_no)
                    .bind(super::document::doc_no_key(&d.doc_no)).bind(&d.title).bind(&d.issued_on)
                    .bind(d.decision).bind(&d.reason).bind(&d.legal_basis);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// The office's administrators act for the office's own list; elsewhere
/// the unit's holders of `role`.
async fn at_unit(tx: &mut Tx, row: &ListRow, role: Role) -> ApiResult<Vec<UserId>> {
    if row.unit_id == row.office_unit_id {
        return people(tx, &row.unit_id, Role::LegalAdmin).await;
    }
    people(tx, &row.unit_id, role).await
}

/// Who fills `row`.
pub async fn reporters(tx: &mut Tx, row: &ListRow) -> ApiResult<Vec<UserId>> {
    at_unit(tx, row, Role::LegalReporter).await
}

/// Who checks `row` before it goes up.
pub async fn checkers(tx: &mut Tx, row: &ListRow) -> ApiResult<Vec<UserId>> {
    at_unit(tx, row, Role::LegalReviewer).await
}
