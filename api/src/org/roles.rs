//! Granting roles, with the separation of the three administrator roles
//! (三权分立, SEC-02) checked here for a clear answer and enforced by a
//! unique index for correctness under concurrency.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Actor, Entry, Outcome};
use crate::authz::{Principal, Role};
use crate::clock;
use crate::db::{Tx, constraint};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::on_tx;
use crate::state::AppState;

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
    let held: Vec<Role> =
        on_tx!(tx, c => sqlx::query_scalar(HELD).bind(user_id).fetch_all(c).await)?;
    if Role::SEPARATED.contains(&role) {
        let clash = held
            .iter()
            .copied()
            .find(|r| Role::SEPARATED.contains(r) && *r != role);
        if let Some(other) = clash {
            return Err(separation_conflict(role, other));
        }
    }
    let id = ulid::Ulid::new().to_string();
    let inserted = on_tx!(tx, c => sqlx::query(INSERT)
        .bind(&id).bind(user_id).bind(role).bind(unit_id).bind(clock::now()).bind(&actor.id)
        .execute(c).await.map(|r| r.rows_affected()));
    if let Err(e) = inserted {
        return Err(match constraint::violated(&e) {
            Some(_) if held.contains(&role) => ApiError::Conflict {
                code: "role_already_granted",
                detail: format!("该用户已拥有{}角色", role.label_zh()),
            },
            Some(_) => ApiError::Conflict {
                code: "separated_admin_roles",
                detail: "系统管理员、安全管理员、审计管理员三种角色互斥，同一用户只能担任其一"
                    .into(),
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

/// Body of `POST /api/v1/users/{id}/roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub role: Role,
    /// The unit the role is held at (and its subtree). Required for every
    /// role but `applicant`, which has none.
    pub unit_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub user_id: String,
    pub role: Role,
    pub role_label: String,
    pub unit_id: Option<String>,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/users/{id}/roles", post(grant_role))
}

/// Grants a role to a user. Security administrators only (SEC-02), signed in
/// or stepped up within `auth.step_up_max_age_secs`; the three administrator
/// roles are mutually exclusive.
#[utoipa::path(post, path = "/api/v1/users/{id}/roles", tag = "org",
    params(("id" = String, Path, description = "user id")),
    request_body = GrantRequest,
    responses(
        (status = 201, body = GrantView),
        (status = 400, description = "malformed body", body = crate::error::Problem),
        (status = 401, description = "not signed in, or `step_up_required`", body = crate::error::Problem),
        (status = 403, description = "not a security administrator", body = crate::error::Problem),
        (status = 404, description = "no such user", body = crate::error::Problem),
        (status = 409, description = "already granted, or a second administrator role", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn grant_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
    ApiJson(req): ApiJson<GrantRequest>,
) -> ApiResult<(StatusCode, Json<GrantView>)> {
    if !principal.has_role(Role::SecurityAdmin) {
        audit::record_denied(&state, &principal, "role.grant", "user", &user_id).await;
        return Err(ApiError::Forbidden);
    }
    let max_age = std::time::Duration::from_secs(state.config.auth.step_up_max_age_secs);
    principal.require_recent_auth(max_age)?;
    match (req.role, &req.unit_id) {
        (Role::Applicant, Some(_)) => {
            return Err(ApiError::invalid("unit_id", "申请人角色不属于任何单位"));
        }
        (role, None) if role != Role::Applicant => {
            return Err(ApiError::invalid("unit_id", "该角色须指定所在单位"));
        }
        _ => {}
    }
    const USER: &str = "SELECT COUNT(*) FROM users WHERE id = $1";
    const UNIT: &str = "SELECT COUNT(*) FROM org_units WHERE id = $1";
    let mut tx = state.db.begin().await?;
    let users: i64 =
        on_tx!(&mut tx, c => sqlx::query_scalar(USER).bind(&user_id).fetch_one(c).await)?;
    if users == 0 {
        return Err(ApiError::NotFound);
    }
    if let Some(unit) = &req.unit_id {
        let units: i64 =
            on_tx!(&mut tx, c => sqlx::query_scalar(UNIT).bind(unit).fetch_one(c).await)?;
        if units == 0 {
            return Err(ApiError::invalid("unit_id", "单位不存在"));
        }
    }
    let actor = Actor::from(&principal);
    assign(
        &mut tx,
        state.audit_key(),
        &actor,
        &user_id,
        req.role,
        req.unit_id.as_deref(),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(GrantView {
            user_id,
            role: req.role,
            role_label: req.role.label_zh().to_owned(),
            unit_id: req.unit_id,
        }),
    ))
}
