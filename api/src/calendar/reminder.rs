//! From 1 November (`disclosure.calendar_reminder_from`), while next
//! year's holiday arrangement is not loaded, the system administrators are
//! reminded once a week (the State Council usually publishes it in
//! November). It runs inside the deadline watch's
//! round, so under the watch's lease; the `calendar_reminders` row per year
//! and ISO week makes it once a week even if two instances got that far.

use std::time::Duration;

use time::{Date, Month};

use super::WorkCalendar;
use crate::authz::Role;
use crate::db::Tx;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::{on_db, on_tx};

/// `MM-DD` as (month, day); None for an empty or malformed setting.
pub fn parse_from(setting: &str) -> Option<(Month, u8)> {
    let (m, d) = setting.trim().split_once('-')?;
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let day: u8 = d.parse().ok()?;
    (1..=31).contains(&day).then_some((month, day))
}

/// The year to remind about on `today`, with the week the reminder counts
/// for (`2026-W49`); None when nothing is missing or it is before `from`
/// (month, day) in the year.
pub fn due(today: Date, from: (Month, u8), calendar: &WorkCalendar) -> Option<(i32, String)> {
    let next = today.year() + 1;
    if (today.month() as u8, today.day()) < (from.0 as u8, from.1) || calendar.is_published(next) {
        return None;
    }
    let (iso_year, week, _) = today.to_iso_week_date();
    Some((next, format!("{iso_year}-W{week:02}")))
}

/// Sends this week's reminder unless it went out already; answers whether
/// it was sent now.
pub async fn run(app: &AppState, today: Date) -> ApiResult<bool> {
    const CLAIM: &str = "INSERT INTO calendar_reminders (year, week, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT (year, week) DO NOTHING";
    let Some(from) = parse_from(&app.config.disclosure.calendar_reminder_from) else {
        return Ok(false);
    };
    let Some((year, week)) = due(today, from, &app.calendar()) else {
        return Ok(false);
    };
    let mut tx = app.db.begin().await?;
    let claimed = on_tx!(&mut tx, c => sqlx::query(CLAIM).bind(year).bind(&week)
        .bind(crate::clock::now()).execute(c).await.map(|r| r.rows_affected()))?;
    if claimed != 1 {
        return Ok(false);
    }
    let admins = system_admins(app).await?;
    for admin in &admins {
        tell(app, &mut tx, admin, year, &week).await?;
    }
    tx.commit().await?;
    tracing::warn!(
        year,
        admins = admins.len(),
        "the holiday calendar of next year is not loaded"
    );
    Ok(true)
}

async fn system_admins(app: &AppState) -> ApiResult<Vec<UserId>> {
    const SQL: &str = "SELECT DISTINCT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.role = $1 AND u.status = 'active' ORDER BY ra.user_id";
    Ok(on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(Role::SystemAdmin).fetch_all(c).await)?)
}

async fn tell(app: &AppState, tx: &mut Tx, user: &UserId, year: i32, week: &str) -> ApiResult<()> {
    let key = format!("calendar_missing:{year}:{week}:{user}");
    let year = year.to_string();
    let n = Notification {
        kind: "calendar_missing",
        user_id: user,
        params: &[("year", year.as_str())],
        idempotency_key: Some(&key),
        ttl: Duration::from_secs(7 * 86_400),
    };
    notify_user(tx, &app.pii, &app.config.notify, n).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn due_nov(today: Date, cal: &WorkCalendar) -> Option<(i32, String)> {
        due(today, parse_from("11-01").unwrap(), cal)
    }

    #[test]
    fn the_setting_is_a_month_and_day() {
        assert_eq!(parse_from("11-01"), Some((Month::November, 1)));
        assert_eq!(parse_from(""), None);
        assert_eq!(parse_from("13-01"), None);
        assert_eq!(parse_from("11"), None);
    }

    #[test]
    fn from_november_while_next_year_is_missing_once_a_week() {
        let cal = WorkCalendar::built_in();
        assert_eq!(due_nov(date!(2026 - 10 - 31), &cal), None, "too early");
        assert_eq!(
            due_nov(date!(2026 - 11 - 01), &cal),
            Some((2027, "2026-W44".into()))
        );
        assert_eq!(
            due_nov(date!(2026 - 11 - 07), &cal),
            Some((2027, "2026-W45".into()))
        );
        assert_eq!(
            due_nov(date!(2026 - 12 - 03), &cal),
            Some((2027, "2026-W49".into()))
        );
        // 2025-11: 2026 is published, nothing to say.
        assert_eq!(due_nov(date!(2025 - 11 - 15), &cal), None);
        // The last days of December may belong to next year's ISO week 1.
        assert_eq!(
            due_nov(date!(2026 - 12 - 28), &cal),
            Some((2027, "2026-W53".into()))
        );
    }
}
