//! Deadline reminders for returns, run inside the deadline watch's round
//! (one instance at a time, under its lease): `forms.remind_days_before`
//! days before a form's deadline the fillers of every unit that has not
//! submitted are reminded once, and once more the day after the deadline
//! has passed. `reminded` on the return records which went out, so that a
//! round that crashed half-way sends nothing twice on the next.

use sqlx::FromRow;
use time::Duration;

use super::distribute::tell_fillers;
use super::fill::fillers_at;
use super::store::{self, ReturnRow, select_returns};
use crate::calendar::ymd;
use crate::error::ApiResult;
use crate::ids::ReturnId;
use crate::state::AppState;
use crate::{on_db, on_tx};

/// Returns reminded in this round: (before the deadline, after it).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reminded {
    pub before: usize,
    pub overdue: usize,
}

#[derive(FromRow)]
struct Due {
    id: ReturnId,
    deadline_on: String,
    reminded: Option<String>,
}

pub async fn run(app: &AppState, today: time::Date) -> ApiResult<Reminded> {
    const SQL: &str = "SELECT r.id, f.deadline_on, r.reminded FROM form_assignments r JOIN forms f ON f.id = r.form_id \
         WHERE r.status IN ('assigned', 'draft', 'returned') AND f.deadline_on <= $1 \
         AND (r.reminded IS NULL OR (r.reminded = 'before' AND f.deadline_on < $2)) ORDER BY f.deadline_on, r.id LIMIT 500";
    let horizon = today + Duration::days(i64::from(app.config.forms.remind_days_before));
    let due: Vec<Due> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(ymd(horizon)).bind(ymd(today)).fetch_all(c).await)?;
    let mut done = Reminded::default();
    for d in due {
        let overdue = d.deadline_on < ymd(today);
        let (mark, kind) = if overdue {
            ("overdue", "form_overdue")
        } else {
            ("before", "form_reminder")
        };
        if remind(app, &d.id, d.reminded.as_deref(), mark, kind).await? {
            if overdue {
                done.overdue += 1
            } else {
                done.before += 1
            }
        }
    }
    Ok(done)
}

/// Marks the return reminded (`mark`) and tells its fillers, in one
/// transaction; false when another round got there first.
async fn remind(
    app: &AppState,
    id: &ReturnId,
    was: Option<&str>,
    mark: &str,
    kind: &'static str,
) -> ApiResult<bool> {
    const MARK: &str = "UPDATE form_assignments SET reminded = $2 WHERE id = $1 AND reminded IS NOT DISTINCT FROM $3";
    const SQL: &str = concat!(select_returns!(), "WHERE r.id = $1");
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(MARK).bind(id).bind(mark).bind(was).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Ok(false);
    }
    let row: ReturnRow = on_tx!(&mut tx, c => sqlx::query_as(SQL).bind(id).fetch_one(c).await)?;
    let form = store::form_unscoped(&mut tx, &row.form_id).await?;
    let fillers = fillers_at(&mut tx, &row).await?;
    tell_fillers(app, &mut tx, &form, id, &fillers, kind, &form.deadline_on).await?;
    store::event(
        &mut tx,
        id,
        "reminded",
        "系统",
        crate::clock::now(),
        serde_json::json!({ "automatic": mark }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
