//! The reports' rows, the agencies and who may do what with their reports,
//! and the one pass over a year's cases that every table is computed from.

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::status::{EventKind, ReportStatus};
use super::table3::{CaseFact, Column};
use crate::authz::{Principal, Role};
use crate::calendar::{SHANGHAI, shanghai_date, ymd};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::UnitId;
use crate::org::UnitKind;
use crate::state::AppState;
use crate::{on_db, on_tx};

/// A unit that publishes a report: it receives requests.
#[derive(Debug, Clone, FromRow)]
pub struct Agency {
    pub id: UnitId,
    pub name: String,
    pub path: String,
    pub kind: UnitKind,
}

/// What the caller is to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The agency's disclosure dispatchers and handlers: they draft it.
    Drafter,
    /// The disclosure administrators of the unit above: they return or
    /// accept it and read the roll-up.
    Reviewer,
}

const DRAFTERS: [Role; 2] = [Role::Dispatcher, Role::Handler];

/// Units whose reports go to their district government.
const DISTRICT_LEVEL: [UnitKind; 3] = [UnitKind::DistrictBureau, UnitKind::Town, UnitKind::Street];
/// Units whose reports go to the General Office.
const CITY_LEVEL: [UnitKind; 2] = [UnitKind::MunicipalDepartment, UnitKind::DistrictGovernment];

pub async fn agency(app: &AppState, id: &UnitId) -> ApiResult<Agency> {
    const SQL: &str = "SELECT id, name, path, kind FROM org_units WHERE id = $1";
    let unit: Option<Agency> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    unit.filter(|u| DISTRICT_LEVEL.contains(&u.kind) || CITY_LEVEL.contains(&u.kind))
        .ok_or(ApiError::NotFound)
}

/// The unit a report goes to: the district government above a district
/// bureau, town or street; the General Office for municipal departments
/// and district governments.
pub async fn reviewer_of(app: &AppState, a: &Agency) -> ApiResult<Option<UnitId>> {
    const DISTRICT: &str = "SELECT id FROM org_units WHERE kind = 'district_government' \
         AND substr($1, 1, length(path)) = path AND id <> $2 LIMIT 1";
    const OFFICE: &str =
        "SELECT id FROM org_units WHERE kind = 'general_office' ORDER BY path LIMIT 1";
    Ok(if DISTRICT_LEVEL.contains(&a.kind) {
        on_db!(&app.db, c => sqlx::query_scalar(DISTRICT).bind(&a.path).bind(&a.id).fetch_optional(c).await)?
    } else {
        on_db!(&app.db, c => sqlx::query_scalar(OFFICE).fetch_optional(c).await)?
    })
}

/// What the caller is to the agency's report; 404 (nothing to see) for
/// anyone else.
pub async fn party(app: &AppState, p: &Principal, a: &Agency) -> ApiResult<Party> {
    if p.covers(&DRAFTERS, &a.path) {
        return Ok(Party::Drafter);
    }
    let reviewer = reviewer_of(app, a).await?;
    if reviews(app, p, reviewer.as_ref()).await? {
        return Ok(Party::Reviewer);
    }
    Err(ApiError::NotFound)
}

/// The caller is a disclosure administrator at `unit` itself or at one of
/// its offices (处室, e.g. the General Office's 政务公开办公室).
pub async fn reviews(app: &AppState, p: &Principal, unit: Option<&UnitId>) -> ApiResult<bool> {
    const SQL: &str = "SELECT COUNT(*) FROM role_assignments ra JOIN org_units g ON g.id = ra.unit_id \
         WHERE ra.user_id = $1 AND ra.role = 'disclosure_admin' \
         AND (g.id = $2 OR (g.parent_id = $2 AND g.kind = 'office'))";
    let Some(unit) = unit else { return Ok(false) };
    if !p.has_role(Role::DisclosureAdmin) {
        return Ok(false);
    }
    let n: i64 = on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(&p.user_id).bind(unit).fetch_one(c).await)?;
    Ok(n > 0)
}

/// The agencies whose reports go to `reviewer` (a district government or
/// the General Office), in tree order.
pub async fn agencies_of(app: &AppState, reviewer: &Agency) -> ApiResult<Vec<Agency>> {
    const DISTRICT: &str = "SELECT id, name, path, kind FROM org_units WHERE kind IN ('district_bureau', 'town', 'street') \
         AND substr(path, 1, length($1)) = $1 ORDER BY path";
    const CITY: &str = "SELECT id, name, path, kind FROM org_units \
         WHERE kind IN ('municipal_department', 'district_government') ORDER BY path";
    Ok(if reviewer.kind == UnitKind::DistrictGovernment {
        on_db!(&app.db, c => sqlx::query_as(DISTRICT).bind(&reviewer.path).fetch_all(c).await)?
    } else {
        on_db!(&app.db, c => sqlx::query_as(CITY).fetch_all(c).await)?
    })
}

#[derive(Debug, Clone, FromRow)]
pub struct ReportRow {
    pub id: String,
    pub unit_id: UnitId,
    pub year: i64,
    pub status: ReportStatus,
    pub computed: String,
    pub uncounted: String,
    pub computed_at: OffsetDateTime,
    pub entered: String,
    pub revision: i64,
    pub return_reason: Option<String>,
    pub updated_at: OffsetDateTime,
}

macro_rules! select_report {
    () => {
        "SELECT id, unit_id, year, status, computed, uncounted, computed_at, entered, revision, return_reason, updated_at \
         FROM annual_reports "
    };
}

pub async fn find(app: &AppState, unit: &UnitId, year: i64) -> ApiResult<Option<ReportRow>> {
    const SQL: &str = concat!(select_report!(), "WHERE unit_id = $1 AND year = $2");
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(unit).bind(year).fetch_optional(c).await)?)
}

/// The report, locked for the change the transaction makes.
pub async fn current(tx: &mut Tx, unit: &UnitId, year: i64) -> ApiResult<Option<ReportRow>> {
    const SQL: &str = concat!(select_report!(), "WHERE unit_id = $1 AND year = $2");
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(unit).bind(year).fetch_optional(c).await)?)
}

/// The submitted or accepted reports of `year` of units under `path`.
pub async fn decided_under(
    app: &AppState,
    path: &str,
    year: i64,
) -> ApiResult<Vec<(UnitId, String)>> {
    const SQL: &str = "SELECT r.unit_id, r.computed FROM annual_reports r JOIN org_units u ON u.id = r.unit_id \
         WHERE r.year = $1 AND r.status IN ('submitted', 'accepted') AND substr(u.path, 1, length($2)) = $2";
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(year).bind(path).fetch_all(c).await)?)
}

/// Appends an event to the report's history.
pub async fn event(
    tx: &mut Tx,
    report: &str,
    kind: EventKind,
    p: &Principal,
    reason: Option<&str>,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO annual_report_events (id, report_id, kind, actor_label, reason, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    let actor = format!(
        "{}（{}）",
        p.display_name,
        p.unit_name.as_deref().unwrap_or("")
    );
    on_tx!(tx, c => sqlx::query(SQL).bind(ulid::Ulid::new().to_string()).bind(report).bind(kind).bind(&actor)
        .bind(reason).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// One line of a report's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportEvent {
    #[schema(value_type = String)]
    pub kind: EventKind,
    pub label: String,
    /// Who, with their unit.
    pub actor: String,
    /// The reason given with a return.
    pub reason: Option<String>,
    pub at: String,
}

/// The report's history, oldest first.
pub async fn history(app: &AppState, report: &str) -> ApiResult<Vec<ReportEvent>> {
    const SQL: &str = "SELECT kind, actor_label, reason, occurred_at FROM annual_report_events \
         WHERE report_id = $1 ORDER BY occurred_at, id";
    type Row = (EventKind, String, Option<String>, OffsetDateTime);
    let rows: Vec<Row> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(report).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(kind, actor, reason, at)| ReportEvent {
            kind,
            label: kind.label_zh().to_owned(),
            actor,
            reason,
            at: crate::clock::rfc3339(at),
        })
        .collect())
}

#[derive(FromRow)]
struct FactRow {
    id: String,
    case_no: String,
    unit_id: UnitId,
    applicant_column: Column,
    received_on: String,
    concluded_at: Option<OffsetDateTime>,
    result_category: Option<String>,
    result_reason: Option<String>,
}

/// Every case that counts in `year` (received in it, or before it and
/// concluded in or after it or still open), of one agency or of all: one
/// pass of three index ranges, whatever the number of agencies. (Rows are
/// small; a year of the whole city's cases is a few megabytes.)
pub async fn facts(
    app: &AppState,
    year: i32,
    unit: Option<&UnitId>,
) -> ApiResult<Vec<(UnitId, CaseFact)>> {
    const COLUMNS: &str = "SELECT id, case_no, unit_id, applicant_column, received_on, concluded_at, result_category, \
         result_reason FROM disclosure_cases WHERE ($4 = '' OR unit_id = $4) AND ";
    let sql = format!(
        "{COLUMNS}received_on BETWEEN $1 AND $2 UNION ALL {COLUMNS}received_on < $1 AND concluded_at >= $3 \
         UNION ALL {COLUMNS}received_on < $1 AND concluded_at IS NULL"
    );
    let first = time::Date::from_calendar_date(year, time::Month::January, 1)
        .map_err(|_| ApiError::invalid("year", "年份无效"))?;
    let from = first.midnight().assume_offset(SHANGHAI);
    let unit = unit.map(UnitId::as_str).unwrap_or("");
    let (from_day, to_day) = (ymd(first), format!("{year:04}-12-31"));
    let rows: Vec<FactRow> = on_db!(&app.db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&from_day).bind(&to_day).bind(from).bind(unit).fetch_all(c).await)?;
    let out = rows
        .into_iter()
        .map(|r| {
            let fact = CaseFact {
                case_id: r.id,
                case_no: r.case_no,
                column: r.applicant_column,
                received_on: r.received_on,
                concluded_on: r.concluded_at.map(|t| ymd(shanghai_date(t))),
                result_category: r.result_category,
                result_reason: r.result_reason,
            };
            (r.unit_id, fact)
        })
        .collect();
    Ok(out)
}
