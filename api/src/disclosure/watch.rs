//! The deadline watch: a scheduled job, run by one instance at a time (a
//! lease in `job_leases`), that warns the people working on a case a few
//! working days before its reply deadline (`disclosure.warn_working_days`)
//! and marks cases whose deadline has passed, telling them again; a request
//! whose correction did not arrive by its deadline is closed as abandoned
//! (art. 30). Each
//! warning goes out once per due date (a moved deadline warns again); push
//! first, SMS when the person has no device.

use std::time::Duration;

use serde_json::json;
use sqlx::FromRow;

use super::{parse_ymd, ymd};
use crate::calendar::shanghai_date;
use crate::db::Tx;
use crate::error::ApiResult;
use crate::ids::{CaseId, UnitId, UserId};
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::{on_db, on_tx};

pub const JOB: &str = "deadline_watch";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub warned: usize,
    pub overdue: usize,
    /// Corrections not made in time: closed as abandoned.
    pub abandoned: usize,
    /// This week's reminder that next year's calendar is missing went out.
    pub calendar_reminded: bool,
    /// Form returns whose fillers were reminded of the deadline.
    pub forms: crate::forms::remind::Reminded,
    /// Clean-up lists whose reporting officers were reminded.
    pub cleanup: crate::forms::remind::Reminded,
    /// Assessed units reminded of the deadline for material.
    pub assessment: usize,
    /// Warnings raised by rules new or changed since the last round.
    pub warnings: usize,
}

/// A case whose deadline someone is told about.
#[derive(FromRow)]
pub(crate) struct Due {
    pub id: CaseId,
    pub case_no: String,
    pub unit_id: UnitId,
    pub handling_unit_id: Option<UnitId>,
    pub assignee_id: Option<UserId>,
    pub due_on: String,
}

/// Who hears about a case's deadline: its named handler, else the handlers
/// of the handling unit; for a case not yet sent for handling, the
/// receiving unit's dispatchers.
async fn recipients(tx: &mut Tx, c: &Due) -> ApiResult<Vec<UserId>> {
    const BY_ROLE: &str = "SELECT DISTINCT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.unit_id = $1 AND ra.role = $2 AND u.status = 'active' ORDER BY ra.user_id";
    if let Some(user) = &c.assignee_id {
        return Ok(vec![user.clone()]);
    }
    let (unit, role) = match &c.handling_unit_id {
        Some(unit) => (unit, "handler"),
        None => (&c.unit_id, "dispatcher"),
    };
    Ok(on_tx!(tx, t => sqlx::query_scalar(BY_ROLE).bind(unit).bind(role).fetch_all(t).await)?)
}

/// Tells the people working on `c` (see [`recipients`]) by the template
/// `kind`, once per case, due date and person.
pub(crate) async fn tell(
    app: &AppState,
    tx: &mut Tx,
    c: &Due,
    kind: &'static str,
    days: Option<i64>,
) -> ApiResult<()> {
    let days = days.map(|d| d.to_string());
    for user in recipients(tx, c).await? {
        let key = format!("{kind}:{}:{}:{user}", c.id, c.due_on);
        let mut params = vec![
            ("case_no", c.case_no.as_str()),
            ("due_date", c.due_on.as_str()),
            ("case_id", c.id.as_str()),
        ];
        if let Some(d) = &days {
            params.push(("days", d.as_str()));
        }
        let n = Notification {
            kind,
            user_id: &user,
            params: &params,
            idempotency_key: Some(&key),
            ttl: Duration::from_secs(86_400),
        };
        notify_user(tx, &app.pii, &app.config.notify, n).await?;
    }
    Ok(())
}

/// One round, if this instance holds (or takes) the job's lease for
/// `lease`; answers what it did, or None when another instance holds it.
pub async fn run(app: &AppState, lease: Duration) -> ApiResult<Option<Round>> {
    let holder = crate::jobs::instance_id();
    if !crate::jobs::try_lease(&app.db, JOB, holder, lease).await? {
        return Ok(None);
    }
    Ok(Some(round(app).await?))
}

/// Warns about deadlines within reach, and marks passed ones.
pub async fn round(app: &AppState) -> ApiResult<Round> {
    const SELECT: &str = "SELECT id, case_no, unit_id, handling_unit_id, assignee_id, due_on \
         FROM disclosure_cases WHERE status IN ('registered', 'handling') AND due_on <= $1 \
         AND (deadline_warned_on IS NULL OR deadline_warned_on <> due_on OR (due_on < $2 AND overdue_since IS NULL)) \
         ORDER BY due_on, id LIMIT 500";
    const WARNED: &str =
        "UPDATE disclosure_cases SET deadline_warned_on = due_on WHERE id = $1 AND due_on = $2";
    const OVERDUE: &str = "UPDATE disclosure_cases SET overdue_since = $2, deadline_warned_on = due_on \
         WHERE id = $1 AND overdue_since IS NULL";
    const EVENT: &str = "INSERT INTO disclosure_events (id, case_id, kind, actor_label, occurred_at, detail, public) \
         VALUES ($1, $2, 'overdue', '系统', $3, $4, FALSE)";
    let cal = app.calendar();
    let today = shanghai_date(crate::clock::now());
    let horizon = cal
        .add_working_days(today, app.config.disclosure.warn_working_days)
        .date;
    let due: Vec<Due> = on_db!(&app.db, c => sqlx::query_as(SELECT).bind(ymd(horizon)).bind(ymd(today)).fetch_all(c).await)?;
    let mut done = Round::default();
    const UNCORRECTED: &str = "SELECT id FROM disclosure_cases WHERE status = 'correction' \
         AND correction_due_on < $1 ORDER BY id LIMIT 500";
    let uncorrected: Vec<CaseId> =
        on_db!(&app.db, c => sqlx::query_scalar(UNCORRECTED).bind(ymd(today)).fetch_all(c).await)?;
    for id in uncorrected {
        let mut tx = app.db.begin().await?;
        if super::steps::close_abandoned(app, &mut tx, &id).await? {
            done.abandoned += 1;
        }
        tx.commit().await?;
    }
    for c in due {
        let Some(due_on) = parse_ymd(&c.due_on) else {
            continue;
        };
        let mut tx = app.db.begin().await?;
        if due_on < today {
            let changed = on_tx!(&mut tx, t => sqlx::query(OVERDUE).bind(&c.id).bind(ymd(today))
                .execute(t).await.map(|r| r.rows_affected()))?;
            if changed == 1 {
                let detail = json!({ "due_on": c.due_on, "remaining_working_days": cal.working_days_left(today, due_on) });
                on_tx!(&mut tx, t => sqlx::query(EVENT).bind(ulid::Ulid::new().to_string()).bind(&c.id)
                    .bind(crate::clock::now()).bind(detail.to_string()).execute(t).await.map(|_| ()))?;
                tell(app, &mut tx, &c, "case_overdue", None).await?;
                done.overdue += 1;
            }
        } else {
            on_tx!(&mut tx, t => sqlx::query(WARNED).bind(&c.id).bind(&c.due_on).execute(t).await.map(|_| ()))?;
            let left = cal.working_days_left(today, due_on);
            tell(app, &mut tx, &c, "case_deadline", Some(left)).await?;
            done.warned += 1;
        }
        tx.commit().await?;
    }
    done.calendar_reminded = crate::calendar::reminder::run(app, today).await?;
    done.forms = crate::forms::remind::run(app, today).await?;
    done.cleanup = crate::legal::cleanup::remind::run(app, today).await?;
    done.assessment = crate::legal::assessment::remind::run(app, today).await?;
    done.warnings = crate::warning::evaluate::reevaluate(app, today).await?;
    if done != Round::default() {
        app.outbox_wake.notify_one();
        tracing::info!(
            warned = done.warned,
            overdue = done.overdue,
            abandoned = done.abandoned,
            forms_before = done.forms.before,
            forms_overdue = done.forms.overdue,
            cleanup_before = done.cleanup.before,
            cleanup_overdue = done.cleanup.overdue,
            assessment_reminded = done.assessment,
            "deadline watch"
        );
    }
    Ok(done)
}

/// Runs the watch every `disclosure.watch_interval_secs` (0: never), on
/// whichever instance holds its lease (held for two intervals, renewed each
/// round).
pub fn schedule(state: AppState) {
    let every = Duration::from_secs(state.config.disclosure.watch_interval_secs);
    crate::jobs::spawn_every(every, "deadline watch", move || {
        let state = state.clone();
        async move { run(&state, every * 2).await.map(|_| ()) }
    });
}
