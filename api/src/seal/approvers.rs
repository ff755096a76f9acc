//! Seal approvers (GK-08): per unit, who approves seal use, in order, and
//! the policy: any one of them (或签) or all in order (依次审批). Set by the
//! unit's administrators.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{audit_change, unit_path};
use crate::authz::{Principal, Role, UserKey, load_principal};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::UserId;
use crate::state::AppState;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/units/{unit_id}/seal-approvers",
        get(read).put(replace),
    )
}

crate::text_enum! {
    /// How a unit's approvers decide.
    pub enum Policy {
        /// 或签: the first approver to decide decides.
        Any = "any",
        /// 依次审批: every approver, in order.
        Sequential = "sequential",
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Approver {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub name: String,
    pub position: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApproverSetup {
    pub unit_id: String,
    /// Absent until configured.
    pub policy: Option<Policy>,
    pub approvers: Vec<Approver>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproverSetupInput {
    pub policy: Policy,
    /// In order; each holds the seal-approver role at the unit or above.
    pub approver_ids: Vec<String>,
}

const POLICY_SQL: &str = "SELECT policy FROM seal_policies WHERE unit_id = $1";
const LIST_SQL: &str = "SELECT a.user_id, u.display_name, a.position FROM seal_approvers a \
     JOIN users u ON u.id = a.user_id WHERE a.unit_id = $1 ORDER BY a.position";

fn assemble(
    unit_id: &str,
    policy: Option<Policy>,
    rows: Vec<(UserId, String, i32)>,
) -> ApproverSetup {
    ApproverSetup {
        unit_id: unit_id.to_owned(),
        policy,
        approvers: rows
            .into_iter()
            .map(|(user_id, name, position)| Approver {
                user_id,
                name,
                position,
            })
            .collect(),
    }
}

/// The unit's approvers and policy.
pub async fn setup(app: &AppState, unit_id: &str) -> ApiResult<ApproverSetup> {
    let policy: Option<Policy> =
        on_db!(&app.db, c => sqlx::query_scalar(POLICY_SQL).bind(unit_id).fetch_optional(c).await)?;
    let rows: Vec<(UserId, String, i32)> =
        on_db!(&app.db, c => sqlx::query_as(LIST_SQL).bind(unit_id).fetch_all(c).await)?;
    Ok(assemble(unit_id, policy, rows))
}

/// The same, inside the transaction of an application that snapshots them.
pub async fn setup_tx(tx: &mut crate::db::Tx, unit_id: &str) -> ApiResult<ApproverSetup> {
    let policy: Option<Policy> =
        on_tx!(tx, c => sqlx::query_scalar(POLICY_SQL).bind(unit_id).fetch_optional(c).await)?;
    let rows: Vec<(UserId, String, i32)> =
        on_tx!(tx, c => sqlx::query_as(LIST_SQL).bind(unit_id).fetch_all(c).await)?;
    Ok(assemble(unit_id, policy, rows))
}

async fn admin_of(app: &AppState, p: &Principal, unit_id: &str) -> ApiResult<String> {
    let path = unit_path(app, "unit_id", unit_id)
        .await
        .map_err(|_| ApiError::NotFound)?;
    if !p.covers(&[Role::UnitAdmin], &path) {
        crate::audit::record_denied(app, p, "seal.approvers", "org_unit", unit_id).await;
        return Err(ApiError::Forbidden);
    }
    Ok(path)
}

/// The unit's approvers and policy.
#[utoipa::path(get, path = "/api/v1/units/{unit_id}/seal-approvers", tag = "seals", params(("unit_id" = String, Path)),
    responses((status = 200, body = ApproverSetup), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn read(
    State(app): State<AppState>,
    p: Principal,
    Path(unit_id): Path<String>,
) -> ApiResult<Json<ApproverSetup>> {
    admin_of(&app, &p, &unit_id).await?;
    Ok(Json(setup(&app, &unit_id).await?))
}

/// Replaces the unit's approvers and policy. Applications already made keep
/// the approvers they were made with.
#[utoipa::path(put, path = "/api/v1/units/{unit_id}/seal-approvers", tag = "seals", params(("unit_id" = String, Path)),
    request_body = ApproverSetupInput,
    responses(
        (status = 200, body = ApproverSetup),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 422, description = "an approver without the role at the unit, repeated, or none", body = crate::error::Problem),
    ))]
pub async fn replace(
    State(app): State<AppState>,
    p: Principal,
    Path(unit_id): Path<String>,
    ApiJson(req): ApiJson<ApproverSetupInput>,
) -> ApiResult<Json<ApproverSetup>> {
    const CLEAR: &str = "DELETE FROM seal_approvers WHERE unit_id = $1";
    const ADD: &str = "INSERT INTO seal_approvers (unit_id, user_id, position) VALUES ($1, $2, $3)";
    const POLICY: &str = "INSERT INTO seal_policies (unit_id, policy, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (unit_id) DO UPDATE SET policy = $2, updated_by = $3, updated_at = $4";
    let path = admin_of(&app, &p, &unit_id).await?;
    if req.approver_ids.is_empty() || req.approver_ids.len() > 10 {
        return Err(ApiError::invalid("approver_ids", "须指定 1 至 10 名审批人"));
    }
    for (i, id) in req.approver_ids.iter().enumerate() {
        let field = format!("approver_ids[{i}]");
        if req.approver_ids[..i].contains(id) {
            return Err(ApiError::invalid(field, "审批人重复"));
        }
        let who = load_principal(&app.db, UserKey::Id(&UserId::new(id)))
            .await
            .map_err(|_| ApiError::invalid(field.clone(), "用户不存在或已停用"))?;
        if !who.covers(&[Role::SealApprover], &path) {
            return Err(ApiError::invalid(field, "该用户不是本单位的用印审批人"));
        }
    }
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(CLEAR).bind(&unit_id).execute(c).await.map(|_| ()))?;
    for (i, id) in req.approver_ids.iter().enumerate() {
        on_tx!(&mut tx, c => sqlx::query(ADD).bind(&unit_id).bind(id).bind(i as i32 + 1).execute(c).await.map(|_| ()))?;
    }
    on_tx!(&mut tx, c => sqlx::query(POLICY).bind(&unit_id).bind(req.policy).bind(&p.user_id)
        .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    let detail = json!({ "policy": req.policy.as_str(), "approvers": req.approver_ids });
    audit_change(&app, &mut tx, &p, "seal.approvers", &unit_id, detail).await?;
    tx.commit().await?;
    Ok(Json(setup(&app, &unit_id).await?))
}
