//! The deadline reminder of an assessment, run inside the deadline watch's
//! round (under its lease): `legal.remind_days_before` days before the
//! deadline for material, the reporting officers of every assessed unit
//! are reminded once (`assessment_units.reminded`, set in the same
//! transaction, so a crashed round sends nothing twice).

use time::Duration;

use super::store::{AssessmentRow, select_assessments};
use super::templates::title;
use crate::authz::Role;
use crate::calendar::ymd;
use crate::error::ApiResult;
use crate::ids::{AssessmentId, UnitId};
use crate::legal::cleanup::store::people;
use crate::outbox::task_notice::{TaskNotice, tell};
use crate::state::AppState;
use crate::{on_db, on_tx};

/// Units reminded in this round.
pub async fn run(app: &AppState, today: time::Date) -> ApiResult<usize> {
    const SQL: &str = "SELECT au.assessment_id, au.unit_id FROM assessment_units au \
         JOIN assessments a ON a.id = au.assessment_id WHERE a.status = 'published' AND NOT au.reminded \
         AND a.deadline_on <= $1 AND a.deadline_on >= $2 ORDER BY a.deadline_on, au.unit_id LIMIT 500";
    let horizon = today + Duration::days(i64::from(app.config.legal.remind_days_before));
    let due: Vec<(AssessmentId, UnitId)> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(ymd(horizon)).bind(ymd(today)).fetch_all(c).await)?;
    let mut done = 0;
    for (assessment, unit) in due {
        if remind(app, &assessment, &unit).await? {
            done += 1;
        }
    }
    Ok(done)
}

async fn remind(app: &AppState, id: &AssessmentId, unit: &UnitId) -> ApiResult<bool> {
    const MARK: &str = "UPDATE assessment_units SET reminded = TRUE WHERE assessment_id = $1 AND unit_id = $2 AND NOT reminded";
    const ROW: &str = concat!(select_assessments!(), "WHERE a.id = $1");
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(MARK).bind(id).bind(unit).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Ok(false);
    }
    let row: AssessmentRow = on_tx!(&mut tx, c => sqlx::query_as(ROW).bind(id).fetch_one(c).await)?;
    let title = title(&row);
    let notice = TaskNotice {
        kind: "assessment_reminder",
        title: &title,
        deadline_on: &row.deadline_on,
        link: ("assessment_id", id.as_str()),
        occasion: "before",
    };
    let reporters = people(&mut tx, unit, Role::LegalReporter).await?;
    tell(app, &mut tx, &notice, &reporters).await?;
    tx.commit().await?;
    Ok(true)
}
