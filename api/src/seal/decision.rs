//! Signed approval decisions (SEC-05): every decision on a seal-use
//! application is signed with SM2 over a canonical form of what was decided
//! (application, notice hash, decision, approver, time), so the approver
//! cannot deny it, and anyone with the service's public key can check that no
//! field of the stored record has changed since.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::authz::{Principal, Role};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::on_db;
use crate::seal::adapter::SignService;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/seal-decisions/{id}/verification",
        get(verify_route),
    )
}

/// What a decision signs, one field per line, in this order.
pub fn canonical(
    application_id: &str,
    notice_sm3: &str,
    decision: &str,
    approver_id: &str,
    decided_at: OffsetDateTime,
) -> String {
    format!(
        "seal-decision/v1\napplication_id={application_id}\nnotice_sm3={notice_sm3}\n\
         decision={decision}\napprover={approver_id}\ndecided_at={}",
        crate::clock::rfc3339(decided_at)
    )
}

#[derive(Debug, FromRow)]
pub struct StoredDecision {
    pub id: String,
    pub application_id: String,
    pub approver_id: String,
    pub decision: String,
    pub notice_sm3: String,
    pub decided_at: OffsetDateTime,
    pub key_id: String,
    pub signature: String,
    pub seal_unit_path: String,
    pub applicant_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub decision_id: String,
    pub application_id: String,
    pub decision: String,
    pub approver_id: String,
    pub decided_at: String,
    pub key_id: String,
    /// The signature matches the stored record.
    pub valid: bool,
    /// Why not, when not.
    pub problem: Option<String>,
}

pub async fn load(db: &Db, id: &str) -> ApiResult<StoredDecision> {
    const SQL: &str = "SELECT d.id, d.application_id, d.approver_id, d.decision, d.notice_sm3, d.decided_at, \
         d.key_id, d.signature, u.path AS seal_unit_path, a.applicant_id \
         FROM seal_decisions d JOIN seal_applications a ON a.id = d.application_id \
         JOIN seals s ON s.id = a.seal_id JOIN org_units u ON u.id = s.unit_id WHERE d.id = $1";
    let row: Option<StoredDecision> =
        on_db!(db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.ok_or(ApiError::NotFound)
}

/// Checks a stored decision's signature against its fields.
pub fn verify(signer: &dyn SignService, d: &StoredDecision) -> Verification {
    let message = canonical(
        &d.application_id,
        &d.notice_sm3,
        &d.decision,
        &d.approver_id,
        d.decided_at,
    );
    let problem = if d.key_id != signer.key_id() {
        Some(format!(
            "signed with key {}, not this service's key",
            d.key_id
        ))
    } else {
        signer
            .verify(message.as_bytes(), &d.signature)
            .err()
            .map(|e| e.to_string())
    };
    Verification {
        decision_id: d.id.clone(),
        application_id: d.application_id.clone(),
        decision: d.decision.clone(),
        approver_id: d.approver_id.clone(),
        decided_at: crate::clock::rfc3339(d.decided_at),
        key_id: d.key_id.clone(),
        valid: problem.is_none(),
        problem,
    }
}

/// Verifies a decision's signature (the approver, the applicant, the seal
/// unit's administrators, and the security and audit administrators).
#[utoipa::path(get, path = "/api/v1/seal-decisions/{id}/verification", tag = "seals", params(("id" = String, Path)),
    responses((status = 200, body = Verification), (status = 404, body = crate::error::Problem)))]
pub async fn verify_route(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Verification>> {
    let d = load(&app.db, &id).await?;
    let allowed = d.approver_id == p.user_id.as_str()
        || d.applicant_id == p.user_id.as_str()
        || p.covers(&[Role::UnitAdmin], &d.seal_unit_path)
        || p.has_role(Role::AuditAdmin)
        || p.has_role(Role::SecurityAdmin);
    if !allowed {
        return Err(ApiError::NotFound);
    }
    Ok(Json(verify(app.signer.as_ref(), &d)))
}
