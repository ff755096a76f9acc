//! E-seals (GK-03, GK-04, GK-07..GK-10): seals of a unit, grants of a seal
//! to people, the unit's approvers and policy, applications to stamp a case
//! notice, signed decisions, and stamps through the signing services.

pub mod adapter;
pub mod applications;
pub mod approvers;
pub mod decision;
pub mod grants;
pub mod seals;
pub mod stats;

use axum::Router;
use serde_json::Value;

use crate::audit::{self, Actor, Entry, Outcome};
use crate::authz::Principal;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::on_db;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    seals::routes()
        .merge(grants::routes())
        .merge(approvers::routes())
        .merge(applications::routes())
        .merge(decision::routes())
        .merge(stats::routes())
}

/// A unit's materialised path, or a 422 naming `field`.
pub(crate) async fn unit_path(app: &AppState, field: &str, id: &str) -> ApiResult<String> {
    const SQL: &str = "SELECT path FROM org_units WHERE id = $1";
    let path: Option<String> =
        on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(id).fetch_optional(c).await)?;
    path.ok_or_else(|| ApiError::invalid(field, "单位不存在"))
}

/// Audits a change to seal data inside its transaction.
pub(crate) async fn audit_change(
    app: &AppState,
    tx: &mut Tx,
    p: &Principal,
    action: &'static str,
    target: &str,
    detail: Value,
) -> ApiResult<()> {
    let entry = Entry {
        actor: Actor::from(p),
        action,
        target_type: Some("seal"),
        target_id: Some(target.to_owned()),
        outcome: Outcome::Success,
        detail,
    };
    audit::append(tx, app.audit_key(), entry).await?;
    Ok(())
}
