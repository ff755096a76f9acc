//! Telling people about a task with a title and a deadline (a form to fill,
//! a clean-up list to report): the templates' `title`, `due_date` and the
//! deep link's id, once per task, kind, occasion and person.

use std::time::Duration;

use super::push::{Notification, notify_user};
use crate::calendar::{chinese_date, parse_ymd};
use crate::db::Tx;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::state::AppState;

pub struct TaskNotice<'a> {
    /// The template, e.g. `form_assigned`, `cleanup_returned`.
    pub kind: &'static str,
    pub title: &'a str,
    /// YYYY-MM-DD; shown as a Chinese date.
    pub deadline_on: &'a str,
    /// The deep link's parameter and the task's id, e.g. `("list_id", …)`.
    pub link: (&'static str, &'a str),
    /// What makes this notice new (a revision, "assigned", a random id for
    /// a manual reminder that may be repeated).
    pub occasion: &'a str,
}

pub async fn tell(
    app: &AppState,
    tx: &mut Tx,
    t: &TaskNotice<'_>,
    users: &[UserId],
) -> ApiResult<()> {
    let due = parse_ymd(t.deadline_on).map_or_else(|| t.deadline_on.to_owned(), chinese_date);
    let title = short_title(t.title);
    let (param, id) = t.link;
    for user in users {
        let key = format!("{}:{id}:{}:{user}", t.kind, t.occasion);
        let n = Notification {
            kind: t.kind,
            user_id: user,
            params: &[("title", &title), ("due_date", &due), (param, id)],
            idempotency_key: Some(&key),
            ttl: Duration::from_secs(3 * 86_400),
        };
        notify_user(tx, &app.pii, &app.config.notify, n).await?;
    }
    Ok(())
}

/// A title short enough for one SMS segment.
fn short_title(title: &str) -> String {
    const MAX: usize = 20;
    if title.chars().count() <= MAX {
        title.to_owned()
    } else {
        title.chars().take(MAX - 1).chain(['…']).collect()
    }
}
