//! Years imported at run time (`calendar_years`), and what importing one
//! does: in one transaction the year is stored, every open case whose
//! statutory period touches it is counted again on the new calendar, a
//! deadline that moves is written into the case's history and told to the
//! people working on it, and the import is audited. Only then does this
//! instance's calendar switch; the others follow within
//! `disclosure.calendar_refresh_secs`.

use serde::Serialize;
use serde_json::json;
use sqlx::FromRow;
use time::Date;
use utoipa::ToSchema;

use super::{Arrangement, WorkCalendar, parse_ymd, ymd};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::db::{Db, Tx};
use crate::disclosure::watch::{self, Due};
use crate::error::{ApiError, ApiResult};
use crate::ids::{CaseId, UnitId, UserId};
use crate::state::AppState;
use crate::{on_db, on_tx};

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub year: i32,
    pub source: String,
    pub holidays: usize,
    pub workdays: usize,
    /// Open cases whose reply deadline moved.
    pub moved: Vec<MovedDeadline>,
    /// Open cases counted again (moved or not).
    pub recounted: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovedDeadline {
    #[schema(value_type = String)]
    pub case_id: CaseId,
    pub case_no: String,
    pub from: String,
    pub to: String,
}

#[derive(FromRow)]
struct OpenCase {
    id: CaseId,
    case_no: String,
    unit_id: UnitId,
    handling_unit_id: Option<UnitId>,
    assignee_id: Option<UserId>,
    received_on: String,
    due_on: String,
    due_provisional: bool,
}

/// The imported years, as stored.
async fn load(db: &Db) -> ApiResult<Vec<Arrangement>> {
    const SQL: &str = "SELECT arrangement FROM calendar_years ORDER BY year";
    let rows: Vec<String> = on_db!(db, c => sqlx::query_scalar(SQL).fetch_all(c).await)?;
    rows.iter()
        .map(|r| {
            Arrangement::from_json(r)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("calendar_years: {e}")))
        })
        .collect()
}

/// Rebuilds this instance's calendar from the database.
pub async fn refresh(app: &AppState) -> ApiResult<()> {
    let imported = load(&app.db).await?;
    let calendar = app.live_calendar.calendar_with(imported);
    if *app.calendar() != calendar {
        tracing::info!("calendar: imported years changed; counting on the new calendar");
        app.live_calendar.set(calendar);
    }
    Ok(())
}

/// Re-reads the imported years every `disclosure.calendar_refresh_secs`
/// (0: never), so that an import on another instance takes effect here too.
pub fn schedule_refresh(state: AppState) {
    let every = std::time::Duration::from_secs(state.config.disclosure.calendar_refresh_secs);
    crate::jobs::spawn_every(every, "calendar refresh", move || {
        let state = state.clone();
        async move { refresh(&state).await }
    });
}

/// Stores `year` (replacing an earlier import of it) and recounts the open
/// cases it touches, all in one transaction; `actor` is who imported it.
pub async fn import(app: &AppState, actor: Actor, year: Arrangement) -> ApiResult<ImportReport> {
    const UPSERT: &str = "INSERT INTO calendar_years (year, source, arrangement, imported_by, imported_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year) DO UPDATE SET source = $2, arrangement = $3, \
         imported_by = $4, imported_at = $5";
    let stored = year.to_json();
    let by = actor.id.clone().unwrap_or_else(|| actor.label.clone());
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(UPSERT).bind(year.year).bind(&year.source).bind(&stored)
        .bind(&by).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    let old = app.calendar();
    let new = old.with([year.clone()]);
    let (recounted, moved) = recount(app, &mut tx, &old, &new, year.year).await?;
    let report = ImportReport {
        year: year.year,
        source: year.source.clone(),
        holidays: year.holidays.len(),
        workdays: year.workdays.len(),
        moved,
        recounted,
    };
    let entry = Entry {
        actor,
        action: "calendar.import",
        target_type: Some("calendar_year"),
        target_id: Some(year.year.to_string()),
        outcome: Outcome::Success,
        detail: json!({ "source": report.source, "holidays": report.holidays,
            "workdays": report.workdays, "recounted": recounted, "moved": report.moved.len() }),
    };
    audit::append(&mut tx, app.audit_key(), entry).await?;
    tx.commit().await?;
    app.live_calendar.set(new);
    if !report.moved.is_empty() {
        app.outbox_wake.notify_one();
    }
    Ok(report)
}

/// Counts again, on `new`, the reply deadline of every open case whose
/// period touches `year`: the same number of working days from the same
/// day of receipt (consultation days added to it included). A case waiting
/// for a correction has no running clock: its deadline is counted afresh
/// when the correction arrives.
async fn recount(
    app: &AppState,
    tx: &mut Tx,
    old: &WorkCalendar,
    new: &WorkCalendar,
    year: i32,
) -> ApiResult<(usize, Vec<MovedDeadline>)> {
    const OPEN: &str = "SELECT id, case_no, unit_id, handling_unit_id, assignee_id, received_on, due_on, due_provisional \
         FROM disclosure_cases WHERE status IN ('registered', 'handling', 'consultation') \
         AND received_on <= $1 AND due_on >= $2 ORDER BY id";
    let cases: Vec<OpenCase> = on_tx!(tx, c => sqlx::query_as(OPEN)
        .bind(format!("{year}-12-31")).bind(format!("{year}-01-01")).fetch_all(c).await)?;
    let mut moved = Vec::new();
    for case in &cases {
        let (Some(received), Some(due)) = (parse_ymd(&case.received_on), parse_ymd(&case.due_on))
        else {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "case {}: bad dates",
                case.id
            )));
        };
        let days = old.working_days_left(received, due).max(0) as u32;
        let to = new.add_working_days(received, days);
        if to.date == due && to.provisional == case.due_provisional {
            continue;
        }
        store_recount(app, tx, case, due, to.date, to.provisional).await?;
        if to.date != due {
            moved.push(MovedDeadline {
                case_id: case.id.clone(),
                case_no: case.case_no.clone(),
                from: ymd(due),
                to: ymd(to.date),
            });
        }
    }
    Ok((cases.len(), moved))
}

/// Writes one recounted deadline: the case row, a history entry the
/// applicant sees too, and a notice to the people working on it.
async fn store_recount(
    app: &AppState,
    tx: &mut Tx,
    case: &OpenCase,
    from: Date,
    to: Date,
    provisional: bool,
) -> ApiResult<()> {
    const UPDATE: &str = "UPDATE disclosure_cases SET due_on = $2, due_provisional = $3, updated_at = $4, \
         version = version + 1 WHERE id = $1";
    const EVENT: &str = "INSERT INTO disclosure_events (id, case_id, kind, actor_label, occurred_at, detail, public) \
         VALUES ($1, $2, 'deadline_recounted', '系统', $3, $4, TRUE)";
    let now = crate::clock::now();
    on_tx!(tx, c => sqlx::query(UPDATE).bind(&case.id).bind(ymd(to)).bind(provisional).bind(now)
        .execute(c).await.map(|_| ()))?;
    if from == to {
        return Ok(());
    }
    let detail = json!({ "from": ymd(from), "due_on": ymd(to), "due_provisional": provisional,
        "reason": "国务院节假日安排公布后重新计算" });
    on_tx!(tx, c => sqlx::query(EVENT).bind(ulid::Ulid::new().to_string()).bind(&case.id)
        .bind(now).bind(detail.to_string()).execute(c).await.map(|_| ()))?;
    let due = Due {
        id: case.id.clone(),
        case_no: case.case_no.clone(),
        unit_id: case.unit_id.clone(),
        handling_unit_id: case.handling_unit_id.clone(),
        assignee_id: case.assignee_id.clone(),
        due_on: ymd(to),
    };
    watch::tell(app, tx, &due, "case_deadline_moved", None).await
}
