//! Granting roles, with the separation of the three administrator roles
//! (三权分立, SEC-02) checked here for a clear answer and enforced by a
//! unique index for correctness under concurrency.

use serde_json::json;

use crate::audit::{self, Actor, Entry, Outcome};
use crate::authz::Role;
use crate::clock;
use crate::db::{Tx, constraint};
use crate::error::{ApiError, ApiResult};
use crate::on_tx;

/// Grants `role` at `unit_id` to `user_id` inside `tx`, with an audit record.
pub async fn assign(
    tx: &mut Tx,
    audit_key: &[u8],
    actor: &Actor,
    user_id: &str,
    role: Role,
    unit_id: Option<&str>,
) -> ApiResult<()> {
    const HELD: &str = "SELECT role FROM role_assignments WHERE user_id = $1";
    const INSERT: &str = "INSERT INTO role_assignments (id, user_id, role, unit_id, granted_at, granted_by) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    let held: Vec<String> = on_tx!(tx, c => sqlx::query_scalar(HELD).bind(user_id).fetch_all(c).await)?;
    if Role::SEPARATED.contains(&role) {
        let clash = held
            .iter()
            .filter_map(|r| Role::parse(r))
            .find(|r| Role::SEPARATED.contains(r) && *r != role);
        if let Some(other) = clash {
            return Err(separation_conflict(role, other));
        }
    }
    let id = ulid::Ulid::new().to_string();
    let inserted = on_tx!(tx, c => sqlx::query(INSERT)
        .bind(&id).bind(user_id).bind(role.as_str()).bind(unit_id).bind(clock::now()).bind(&actor.id)
        .execute(c).await.map(|r| r.rows_affected()));
    if let Err(e) = inserted {
        return Err(match constraint::violated(&e) {
            Some(_) if held.iter().any(|r| r == role.as_str()) => ApiError::Conflict {
                code: "role_already_granted",
                detail: format!("该用户已拥有{}角色", role.label_zh()),
            },
            Some(_) => ApiError::Conflict {
                code: "separated_admin_roles",
                detail: "系统管理员、安全管理员、审计管理员三种角色互斥，同一用户只能担任其一".into(),
            },
            None => e.into(),
        });
    }
    audit::append(
        tx,
        audit_key,
        Entry {
            actor: actor.clone(),
            action: "role.grant",
            target_type: Some("user"),
            target_id: Some(user_id.to_owned()),
            outcome: Outcome::Success,
            detail: json!({ "role": role.as_str(), "unit_id": unit_id }),
        },
    )
    .await?;
    Ok(())
}

fn separation_conflict(wanted: Role, held: Role) -> ApiError {
    ApiError::Conflict {
        code: "separated_admin_roles",
        detail: format!(
            "该用户已是{}；系统管理员、安全管理员、审计管理员三种角色互斥，不能再授予{}",
            held.label_zh(),
            wanted.label_zh()
        ),
    }
}
