//! Deadline reminders for clean-up lists, run inside the deadline watch's
//! round (one instance at a time, under its lease): `legal.remind_days_before`
//! days before a campaign's deadline the reporting officers of every own
//! list not yet submitted are reminded once, and once more the day after
//! the deadline has passed. `reminded` on the list records which went out,
//! so that a round that crashed half-way sends nothing twice on the next.

use time::Duration;

use super::store::{self, ListRow, select_lists};
use crate::calendar::ymd;
use crate::error::ApiResult;
use crate::forms::remind::Reminded;
use crate::outbox::task_notice::{TaskNotice, tell};
use crate::state::AppState;
use crate::{on_db, on_tx};

pub async fn run(app: &AppState, today: time::Date) -> ApiResult<Reminded> {
    const SQL: &str = concat!(
        select_lists!(),
        "WHERE l.kind = 'own' AND l.status IN ('draft', 'checking', 'returned') AND c.deadline_on <= $1 \
         AND (l.reminded IS NULL OR (l.reminded = 'before' AND c.deadline_on < $2)) \
         ORDER BY c.deadline_on, l.id LIMIT 500"
    );
    let horizon = today + Duration::days(i64::from(app.config.legal.remind_days_before));
    let due: Vec<ListRow> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(ymd(horizon)).bind(ymd(today)).fetch_all(c).await)?;
    let mut done = Reminded::default();
    for row in due {
        let overdue = row.deadline_on < ymd(today);
        if remind(app, &row, overdue).await? {
            if overdue {
                done.overdue += 1
            } else {
                done.before += 1
            }
        }
    }
    Ok(done)
}

/// Marks the list reminded and tells its reporting officers, in one
/// transaction; false when another round got there first.
async fn remind(app: &AppState, row: &ListRow, overdue: bool) -> ApiResult<bool> {
    const MARK: &str =
        "UPDATE cleanup_lists SET reminded = $2 WHERE id = $1 AND reminded IS NOT DISTINCT FROM $3";
    let (mark, kind) = match overdue {
        true => ("overdue", "cleanup_overdue"),
        false => ("before", "cleanup_reminder"),
    };
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(MARK).bind(&row.id).bind(mark).bind(row.reminded.as_deref())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Ok(false);
    }
    let notice = TaskNotice {
        kind,
        title: &row.title,
        deadline_on: &row.deadline_on,
        link: ("list_id", row.id.as_str()),
        occasion: mark,
    };
    let people = store::reporters(&mut tx, row).await?;
    tell(app, &mut tx, &notice, &people).await?;
    let system = crate::authz::Principal::system("deadline_watch", "系统");
    store::event(&mut tx, &row.id, "reminded", &system, None).await?;
    tx.commit().await?;
    Ok(true)
}
