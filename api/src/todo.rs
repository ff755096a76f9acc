//! The unified to-do (统一待办, GK-03): every task of a person (a seal-use
//! approval, a form to fill) is mapped onto
//! the office platform's to-do model (id, title, kind, PC and mobile deep
//! links, the assignee's platform user id, created time, state) and its
//! create, complete and cancel are pushed through the outbox, retried until
//! accepted, in order per item. Format: docs/integration/todo.md.

use std::time::Duration;

use serde_json::json;

use crate::db::Tx;
use crate::error::ApiResult;
use crate::on_tx;
use crate::outbox::connector::{self, ConnectorMessage};
use crate::state::AppState;

pub const PROVIDER: &str = "todo";
const RETRY_FOR: Duration = Duration::from_secs(30 * 86_400);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Complete,
    Cancel,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Complete => "complete",
            Action::Cancel => "cancel",
        }
    }

    fn state(self) -> &'static str {
        match self {
            Action::Create => "pending",
            Action::Complete => "done",
            Action::Cancel => "cancelled",
        }
    }
}

/// What a to-do item is about.
pub struct Task<'a> {
    /// The kind at the platform, e.g. `seal_approval`, `form_return`.
    pub kind: &'static str,
    /// The task's own id, e.g. `seal-approval:{id}`; each assignee's item
    /// is this and their user id.
    pub subject: String,
    pub title: &'a str,
    /// Where the task is on PC, under the issuer.
    pub pc_path: String,
    /// Where the task is in the app.
    pub mobile_url: String,
    pub created_at: time::OffsetDateTime,
}

/// Queues `action` on the to-do items of `assignees` for `task`. People
/// without a platform user id have no to-do list there and are skipped.
pub async fn push(
    app: &AppState,
    tx: &mut Tx,
    task: &Task<'_>,
    assignees: &[crate::ids::UserId],
    action: Action,
) -> ApiResult<()> {
    const PLATFORM_ID: &str = "SELECT platform_id FROM users WHERE id = $1";
    let base = app.config.auth.issuer.trim_end_matches('/');
    for user in assignees {
        let platform: Option<Option<String>> =
            on_tx!(tx, c => sqlx::query_scalar(PLATFORM_ID).bind(user).fetch_optional(c).await)?;
        let Some(assignee) = platform.flatten() else {
            tracing::info!(subject = %task.subject, "to-do skipped: assignee has no platform id");
            continue;
        };
        let item_id = format!("{}:{user}", task.subject);
        let event_id = ulid::Ulid::new().to_string();
        let payload = json!({
            "event_id": event_id,
            "action": action.as_str(),
            "item": {
                "id": item_id,
                "title": task.title,
                "kind": task.kind,
                "pc_url": format!("{base}{}", task.pc_path),
                "mobile_url": task.mobile_url,
                "assignee": assignee,
                "created_at": crate::clock::rfc3339(task.created_at),
                "state": action.state(),
            },
            "occurred_at": crate::clock::rfc3339(crate::clock::now()),
        });
        let key = format!("todo:{item_id}:{}", action.as_str());
        let msg = ConnectorMessage {
            kind: "todo_item",
            provider: PROVIDER,
            payload: &payload,
            label: &format!("待办 {} {}", action.as_str(), task.title),
            idempotency_key: &key,
            order_key: Some(&item_id),
            ttl: RETRY_FOR,
        };
        connector::enqueue(tx, &app.pii, msg).await?;
    }
    Ok(())
}
