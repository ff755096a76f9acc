//! Seal use (GK-10, GK-04): a handler holding a grant applies to stamp a
//! notice of a case; the unit's approvers are told at once and decide (any
//! one, or all in order); the decision is signed; an approval stamps the
//! notice through the signing service, exactly once; the applicant is told.
//! The applicant may withdraw while the application is pending.
//!
//! Races: decisions on one application are serialised by a version on the
//! application, so of two approvers deciding at once under "any", exactly
//! one wins and the other gets 409; a notice is stamped at most once (a
//! unique stamp per notice, and one live application per notice).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::approvers::{Policy, setup_tx};
use super::decision::canonical;
use super::todo;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::disclosure::applicant::{optional_text, text};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::HashedJson;
use crate::idempotency::{self, Claim, IdempotencyKey};
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/seal-applications", post(apply))
        .route("/api/v1/seal-applications/{id}", get(one))
        .route("/api/v1/seal-applications/{id}/decision", post(decide))
        .route("/api/v1/seal-applications/{id}/withdrawal", post(withdraw))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// The notice to stamp (a correction, consultation, extension or
    /// conclusion notice of a case).
    pub notice_id: String,
    pub seal_id: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub decision: Decision,
    /// Required when rejecting: the reason.
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub position: i32,
    pub approver_id: String,
    pub approver: String,
    /// approve, reject, or absent while undecided.
    pub decision: Option<String>,
    pub decided_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionRecord {
    pub id: String,
    pub approver: String,
    pub decision: String,
    pub comment: String,
    pub decided_at: String,
    pub key_id: String,
    /// Hex DER SM2 signature over the canonical form.
    pub signature: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: String,
    /// pending, approved, rejected or withdrawn
    pub status: String,
    pub policy: Policy,
    pub seal: SealRef,
    pub case_id: String,
    pub case_no: String,
    pub notice: NoticeRef,
    pub applicant: String,
    pub reason: String,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub steps: Vec<StepView>,
    pub decisions: Vec<DecisionRecord>,
    /// The caller may decide now.
    pub can_decide: bool,
    /// The caller may withdraw it.
    pub can_withdraw: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SealRef {
    pub id: String,
    pub name: String,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeRef {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub sm3: String,
    /// awaiting_seal or sealed
    pub seal_status: String,
    /// Where the notice can be read (PDF).
    pub preview: String,
}

#[derive(Debug, Clone, FromRow)]
struct AppRow {
    id: String,
    status: String,
    policy: String,
    seal_id: String,
    seal_name: String,
    seal_status: String,
    seal_cert_ref: String,
    seal_unit_path: String,
    case_id: String,
    case_no: String,
    notice_id: String,
    notice_kind: String,
    notice_title: String,
    notice_sm3: String,
    notice_seal_status: String,
    applicant_id: String,
    applicant_name: String,
    reason: String,
    created_at: OffsetDateTime,
    decided_at: Option<OffsetDateTime>,
    version: i64,
}

#[derive(Debug, Clone, FromRow)]
struct StepRow {
    position: i32,
    approver_id: String,
    approver: String,
    decision: Option<String>,
    decided_at: Option<OffsetDateTime>,
}

const SELECT_APP: &str = "SELECT a.id, a.status, a.policy, s.id AS seal_id, s.name AS seal_name, s.status AS seal_status, \
     s.cert_ref AS seal_cert_ref, su.path AS seal_unit_path, a.case_id, c.case_no, n.id AS notice_id, \
     n.kind AS notice_kind, n.title AS notice_title, n.sm3 AS notice_sm3, n.seal_status AS notice_seal_status, \
     a.applicant_id, u.display_name AS applicant_name, a.reason, a.created_at, a.decided_at, a.version \
     FROM seal_applications a JOIN seals s ON s.id = a.seal_id JOIN org_units su ON su.id = s.unit_id \
     JOIN disclosure_cases c ON c.id = a.case_id JOIN disclosure_notices n ON n.id = a.notice_id \
     JOIN users u ON u.id = a.applicant_id WHERE a.id = $1";
const SELECT_STEPS: &str = "SELECT st.position, st.approver_id, u.display_name AS approver, st.decision, st.decided_at \
     FROM seal_application_steps st JOIN users u ON u.id = st.approver_id WHERE st.application_id = $1 \
     ORDER BY st.position, st.approver_id";

struct Loaded {
    app: AppRow,
    steps: Vec<StepRow>,
}

impl Loaded {
    fn sees(&self, p: &Principal) -> bool {
        self.app.applicant_id == p.user_id
            || self.steps.iter().any(|s| s.approver_id == p.user_id)
            || p.covers(&[Role::UnitAdmin], &self.app.seal_unit_path)
    }

    /// True when `p` is an approver whose decision is awaited now.
    fn awaits(&self, p: &Principal) -> bool {
        if self.app.status != "pending" {
            return false;
        }
        let open = self.steps.iter().filter(|s| s.decision.is_none());
        match self.app.policy.as_str() {
            "sequential" => open
                .min_by_key(|s| s.position)
                .is_some_and(|s| s.approver_id == p.user_id),
            _ => self
                .steps
                .iter()
                .any(|s| s.approver_id == p.user_id && s.decision.is_none()),
        }
    }
}

async fn load_tx(tx: &mut Tx, id: &str) -> ApiResult<Loaded> {
    let app: Option<AppRow> =
        on_tx!(tx, c => sqlx::query_as(SELECT_APP).bind(id).fetch_optional(c).await)?;
    let steps: Vec<StepRow> =
        on_tx!(tx, c => sqlx::query_as(SELECT_STEPS).bind(id).fetch_all(c).await)?;
    Ok(Loaded {
        app: app.ok_or(ApiError::NotFound)?,
        steps,
    })
}

/// One application as the caller may see it; 404 otherwise.
pub async fn view(state: &AppState, p: &Principal, id: &str) -> ApiResult<ApplicationView> {
    const DECISIONS: &str = "SELECT d.id, u.display_name, d.decision, d.comment, d.decided_at, d.key_id, d.signature \
         FROM seal_decisions d JOIN users u ON u.id = d.approver_id WHERE d.application_id = $1 ORDER BY d.decided_at, d.id";
    let app: Option<AppRow> =
        on_db!(&state.db, c => sqlx::query_as(SELECT_APP).bind(id).fetch_optional(c).await)?;
    let steps: Vec<StepRow> =
        on_db!(&state.db, c => sqlx::query_as(SELECT_STEPS).bind(id).fetch_all(c).await)?;
    let loaded = Loaded {
        app: app.ok_or(ApiError::NotFound)?,
        steps,
    };
    if !loaded.sees(p) {
        return Err(ApiError::NotFound);
    }
    let decisions: Vec<(
        String,
        String,
        String,
        String,
        OffsetDateTime,
        String,
        String,
    )> = on_db!(&state.db, c => sqlx::query_as(DECISIONS).bind(id).fetch_all(c).await)?;
    let can_decide = loaded.awaits(p);
    let a = loaded.app;
    Ok(ApplicationView {
        can_withdraw: a.status == "pending" && a.applicant_id == p.user_id,
        can_decide,
        status: a.status,
        policy: if a.policy == "sequential" {
            Policy::Sequential
        } else {
            Policy::Any
        },
        seal: SealRef {
            id: a.seal_id,
            name: a.seal_name,
            status: a.seal_status,
        },
        notice: NoticeRef {
            preview: format!(
                "/api/v1/disclosure/cases/{}/notices/{}/pdf",
                a.case_id, a.notice_id
            ),
            id: a.notice_id,
            kind: a.notice_kind,
            title: a.notice_title,
            sm3: a.notice_sm3,
            seal_status: a.notice_seal_status,
        },
        case_id: a.case_id,
        case_no: a.case_no,
        applicant: a.applicant_name,
        reason: a.reason,
        created_at: crate::clock::rfc3339(a.created_at),
        decided_at: a.decided_at.map(crate::clock::rfc3339),
        id: a.id,
        steps: loaded
            .steps
            .into_iter()
            .map(|s| StepView {
                position: s.position,
                approver_id: s.approver_id,
                approver: s.approver,
                decision: s.decision,
                decided_at: s.decided_at.map(crate::clock::rfc3339),
            })
            .collect(),
        decisions: decisions
            .into_iter()
            .map(
                |(id, approver, decision, comment, at, key_id, signature)| DecisionRecord {
                    id,
                    approver,
                    decision,
                    comment,
                    decided_at: crate::clock::rfc3339(at),
                    key_id,
                    signature,
                },
            )
            .collect(),
    })
}

/// Runs `work` once per idempotency key: a retry with the same key and
/// body answers the first answer.
async fn once<F>(
    state: &AppState,
    headers: &HeaderMap,
    scope: &str,
    hash: &str,
    status: StatusCode,
    work: F,
) -> ApiResult<Response>
where
    F: AsyncFnOnce(&mut Tx) -> ApiResult<serde_json::Value>,
{
    let key = IdempotencyKey::required(headers)?;
    let mut tx = state.db.begin().await?;
    if let Claim::Replay(status, body) = idempotency::claim(&mut tx, scope, &key, hash).await? {
        return Ok((status, Json(body)).into_response());
    }
    let body = work(&mut tx).await?;
    idempotency::finish(&mut tx, scope, &key, status, &body).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok((status, Json(body)).into_response())
}

fn audit_entry(
    p: &Principal,
    action: &'static str,
    id: &str,
    outcome: Outcome,
    detail: serde_json::Value,
) -> Entry {
    Entry {
        actor: Actor::from(p),
        action,
        target_type: Some("seal_application"),
        target_id: Some(id.to_owned()),
        outcome,
        detail,
    }
}

async fn notify(
    state: &AppState,
    tx: &mut Tx,
    users: &[String],
    kind: &'static str,
    params: &[(&str, &str)],
    key: &str,
) -> ApiResult<()> {
    for user in users {
        let group = format!("{key}:{user}");
        let n = Notification {
            kind,
            user_id: user,
            params,
            idempotency_key: Some(&group),
            ttl: Duration::from_secs(86_400),
        };
        notify_user(tx, &state.pii, &state.config.notify, n).await?;
    }
    Ok(())
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::Conflict {
        code,
        detail: detail.to_owned(),
    }
}

/// Applies to stamp a notice with a seal the caller holds a grant of.
pub async fn create(
    state: &AppState,
    tx: &mut Tx,
    p: &Principal,
    req: NewApplication,
) -> ApiResult<serde_json::Value> {
    const NOTICE: &str = "SELECT case_id, seal_status FROM disclosure_notices WHERE id = $1";
    const SEAL: &str = "SELECT s.unit_id, u.path, s.status, s.name FROM seals s JOIN org_units u ON u.id = s.unit_id WHERE s.id = $1";
    const GRANTED: &str = "SELECT COUNT(*) FROM seal_grants WHERE seal_id = $1 AND user_id = $2 AND revoked_at IS NULL";
    const LIVE: &str = "SELECT COUNT(*) FROM seal_applications WHERE notice_id = $1 AND status IN ('pending', 'approved')";
    const INSERT: &str = "INSERT INTO seal_applications (id, seal_id, notice_id, case_id, applicant_id, reason, policy, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)";
    const STEP: &str = "INSERT INTO seal_application_steps (application_id, position, approver_id) VALUES ($1, $2, $3)";
    let reason = optional_text("reason", req.reason.as_deref(), 500)?.unwrap_or_default();
    let notice: Option<(String, String)> =
        on_tx!(tx, c => sqlx::query_as(NOTICE).bind(&req.notice_id).fetch_optional(c).await)?;
    let (case_id, notice_status) =
        notice.ok_or_else(|| ApiError::invalid("notice_id", "告知书不存在"))?;
    // A notice of a case the caller cannot see is another unit's: 404.
    let case = crate::disclosure::case::reload(tx, p, &case_id).await?;
    let seal: Option<(String, String, String, String)> =
        on_tx!(tx, c => sqlx::query_as(SEAL).bind(&req.seal_id).fetch_optional(c).await)?;
    let (seal_unit, seal_path, seal_status, seal_name) =
        seal.ok_or_else(|| ApiError::invalid("seal_id", "印章不存在"))?;
    let granted: i64 = on_tx!(tx, c => sqlx::query_scalar(GRANTED).bind(&req.seal_id).bind(&p.user_id).fetch_one(c).await)?;
    if granted == 0 {
        return Err(ApiError::Forbidden);
    }
    if !case.row.unit_path.starts_with(&seal_path) {
        return Err(ApiError::invalid("seal_id", "该印章不属于本案件受理单位"));
    }
    if seal_status != "active" {
        return Err(conflict("seal_suspended", "该印章已停用"));
    }
    if notice_status == "sealed" {
        return Err(conflict("notice_sealed", "该告知书已盖章"));
    }
    let live: i64 =
        on_tx!(tx, c => sqlx::query_scalar(LIVE).bind(&req.notice_id).fetch_one(c).await)?;
    if live > 0 {
        return Err(conflict("application_exists", "该告知书已有用印申请"));
    }
    let approvers = setup_tx(tx, &seal_unit).await?;
    let policy = approvers
        .policy
        .filter(|_| !approvers.approvers.is_empty())
        .ok_or_else(|| conflict("no_approvers", "印章所属单位尚未设置用印审批人"))?;
    let id = ulid::Ulid::new().to_string();
    on_tx!(tx, c => sqlx::query(INSERT).bind(&id).bind(&req.seal_id).bind(&req.notice_id).bind(&case_id)
        .bind(&p.user_id).bind(&reason).bind(policy.as_str()).bind(crate::clock::now())
        .execute(c).await.map(|_| ()))?;
    for a in &approvers.approvers {
        on_tx!(tx, c => sqlx::query(STEP).bind(&id).bind(a.position).bind(&a.user_id).execute(c).await.map(|_| ()))?;
    }
    // Everyone at once under "any"; the first in line under "sequential".
    let first: Vec<String> = match policy {
        Policy::Any => approvers
            .approvers
            .iter()
            .map(|a| a.user_id.clone())
            .collect(),
        Policy::Sequential => approvers
            .approvers
            .iter()
            .take(1)
            .map(|a| a.user_id.clone())
            .collect(),
    };
    let params = [
        ("applicant", p.display_name.as_str()),
        ("case_no", case.row.case_no.as_str()),
        ("application_id", id.as_str()),
    ];
    notify(
        state,
        tx,
        &first,
        "seal_approval_pending",
        &params,
        &format!("seal-pending:{id}:1"),
    )
    .await?;
    let title = format!("用印审批：{}（{}）", seal_name, case.row.case_no);
    let task = todo::Task {
        application_id: &id,
        title: &title,
        created_at: crate::clock::now(),
    };
    todo::push(state, tx, &task, &first, todo::Action::Create).await?;
    let detail =
        json!({ "seal_id": req.seal_id, "notice_id": req.notice_id, "policy": policy.as_str() });
    audit::append(
        tx,
        state.audit_key(),
        audit_entry(p, "seal.apply", &id, Outcome::Success, detail),
    )
    .await?;
    Ok(json!({ "id": id, "status": "pending", "policy": policy.as_str() }))
}

/// Applies to stamp a case notice (PC).
#[utoipa::path(post, path = "/api/v1/seal-applications", tag = "seals", request_body = NewApplication,
    params(("Idempotency-Key" = String, Header, description = "8–128 characters, one per application")),
    responses(
        (status = 201, description = "{id, status, policy}"),
        (status = 403, description = "no live grant of the seal", body = crate::error::Problem),
        (status = 404, description = "the notice's case is not the caller's", body = crate::error::Problem),
        (status = 409, description = "seal suspended, notice sealed or already applied for, no approvers", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn apply(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    HashedJson(req, hash): HashedJson<NewApplication>,
) -> ApiResult<Response> {
    let scope = format!("seal-apply {}", p.user_id);
    let seal_id = req.seal_id.clone();
    let result = once(
        &state,
        &headers,
        &scope,
        &hash,
        StatusCode::CREATED,
        async |tx| create(&state, tx, &p, req).await,
    )
    .await;
    if matches!(result, Err(ApiError::Forbidden)) {
        audit::record_denied(&state, &p, "seal.apply", "seal", &seal_id).await;
    }
    result
}

/// One application: seal, notice (with its preview), steps, signed
/// decisions, and what the caller may do.
#[utoipa::path(get, path = "/api/v1/seal-applications/{id}", tag = "seals", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ApplicationView>> {
    Ok(Json(view(&state, &p, &id).await?))
}

/// Decides on an application (approve or reject) inside `tx`.
pub async fn decide_in(
    state: &AppState,
    tx: &mut Tx,
    p: &Principal,
    id: &str,
    input: DecisionInput,
) -> ApiResult<serde_json::Value> {
    const DECISION: &str = "INSERT INTO seal_decisions (id, application_id, approver_id, decision, comment, notice_sm3, \
         decided_at, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    const STEP: &str = "UPDATE seal_application_steps SET decision = $3, decided_at = $4 \
         WHERE application_id = $1 AND approver_id = $2 AND decision IS NULL";
    const ADVANCE: &str = "UPDATE seal_applications SET status = $3, decided_at = $4, version = version + 1 \
         WHERE id = $1 AND version = $2 AND status = 'pending'";
    const GRANTED: &str = "SELECT COUNT(*) FROM seal_grants WHERE seal_id = $1 AND user_id = $2 AND revoked_at IS NULL";
    const STAMP: &str = "INSERT INTO seal_stamps (id, application_id, notice_id, seal_id, document_sm3, signature, time_stamp, stamped_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    const SEALED: &str = "UPDATE disclosure_notices SET seal_status = 'sealed' WHERE id = $1 AND seal_status = 'awaiting_seal'";
    let comment = match input.decision {
        Decision::Reject => text("comment", input.comment.as_deref(), 500, true)?,
        Decision::Approve => {
            optional_text("comment", input.comment.as_deref(), 500)?.unwrap_or_default()
        }
    };
    let loaded = load_tx(tx, id).await?;
    if !loaded.sees(p) {
        return Err(ApiError::NotFound);
    }
    let a = &loaded.app;
    // Not an approver of this application at all: a question of role,
    // answered the same whatever state the application is in.
    let Some(mine) = loaded.steps.iter().find(|s| s.approver_id == p.user_id) else {
        return Err(ApiError::Forbidden);
    };
    if a.status != "pending" || mine.decision.is_some() {
        return Err(conflict("application_decided", "该用印申请已处理"));
    }
    if !loaded.awaits(p) {
        return Err(conflict("not_your_turn", "依次审批：尚未轮到您审批"));
    }
    if input.decision == Decision::Approve {
        if a.seal_status != "active" {
            return Err(conflict("seal_suspended", "该印章已停用，不能批准"));
        }
        let granted: i64 = on_tx!(tx, c => sqlx::query_scalar(GRANTED).bind(&a.seal_id).bind(&a.applicant_id).fetch_one(c).await)?;
        if granted == 0 {
            return Err(conflict(
                "grant_revoked",
                "申请人的印章授权已撤销，不能批准",
            ));
        }
    }
    let now = crate::clock::now();
    let decision = input.decision.as_str();
    let signed = canonical(&a.id, &a.notice_sm3, decision, &p.user_id, now);
    let signature = state.signer.sign(signed.as_bytes());
    let decision_id = ulid::Ulid::new().to_string();
    let last =
        a.policy == "any" || loaded.steps.iter().filter(|s| s.decision.is_none()).count() == 1;
    let status = match (input.decision, last) {
        (Decision::Reject, _) => "rejected",
        (Decision::Approve, true) => "approved",
        (Decision::Approve, false) => "pending",
    };
    let decided_at = (status != "pending").then_some(now);
    // The version makes racing deciders take turns: the loser changes nothing.
    let moved = on_tx!(tx, c => sqlx::query(ADVANCE).bind(&a.id).bind(a.version).bind(status).bind(decided_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if moved != 1 {
        return Err(conflict("application_decided", "该用印申请已由他人处理"));
    }
    on_tx!(tx, c => sqlx::query(STEP).bind(&a.id).bind(&p.user_id).bind(decision).bind(now).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(DECISION).bind(&decision_id).bind(&a.id).bind(&p.user_id).bind(decision).bind(&comment)
        .bind(&a.notice_sm3).bind(now).bind(state.signer.key_id()).bind(&signature).execute(c).await.map(|_| ()))?;
    if status == "approved" {
        let stamp = state.signer.stamp(&a.notice_sm3, &a.seal_cert_ref);
        on_tx!(tx, c => sqlx::query(STAMP).bind(ulid::Ulid::new().to_string()).bind(&a.id).bind(&a.notice_id)
            .bind(&a.seal_id).bind(&a.notice_sm3).bind(&stamp.signature).bind(&stamp.time_stamp).bind(stamp.stamped_at)
            .execute(c).await.map(|_| ()))?;
        on_tx!(tx, c => sqlx::query(SEALED).bind(&a.notice_id).execute(c).await.map(|_| ()))?;
    }
    let title = format!("用印审批：{}（{}）", a.seal_name, a.case_no);
    let task = todo::Task {
        application_id: &a.id,
        title: &title,
        created_at: a.created_at,
    };
    let me = std::slice::from_ref(&p.user_id);
    todo::push(state, tx, &task, me, todo::Action::Complete).await?;
    if status != "pending" && a.policy == "any" {
        // Someone decided for everyone: the others' items are void.
        let others: Vec<String> = loaded
            .steps
            .iter()
            .filter(|s| s.decision.is_none() && s.approver_id != p.user_id)
            .map(|s| s.approver_id.clone())
            .collect();
        todo::push(state, tx, &task, &others, todo::Action::Cancel).await?;
    }
    if status == "pending" {
        let next: Vec<String> = loaded
            .steps
            .iter()
            .filter(|s| s.decision.is_none() && s.approver_id != p.user_id)
            .min_by_key(|s| s.position)
            .map(|s| vec![s.approver_id.clone()])
            .unwrap_or_default();
        let params = [
            ("applicant", a.applicant_name.as_str()),
            ("case_no", a.case_no.as_str()),
            ("application_id", a.id.as_str()),
        ];
        let key = format!("seal-pending:{}:{}", a.id, decision_id);
        notify(state, tx, &next, "seal_approval_pending", &params, &key).await?;
        todo::push(state, tx, &task, &next, todo::Action::Create).await?;
    } else {
        let result = if status == "approved" {
            "已批准"
        } else {
            "未获批准"
        };
        let params = [
            ("case_no", a.case_no.as_str()),
            ("result", result),
            ("application_id", a.id.as_str()),
        ];
        let key = format!("seal-result:{}", a.id);
        notify(
            state,
            tx,
            std::slice::from_ref(&a.applicant_id),
            "seal_result",
            &params,
            &key,
        )
        .await?;
    }
    let detail = json!({ "decision": decision, "status": status, "decision_id": decision_id });
    audit::append(
        tx,
        state.audit_key(),
        audit_entry(p, "seal.decide", &a.id, Outcome::Success, detail),
    )
    .await?;
    Ok(json!({
        "application_id": a.id,
        "status": status,
        "decision_id": decision_id,
        "key_id": state.signer.key_id(),
        "signature": signature,
    }))
}

/// Decides on an application (PC). Needs a sign-in or step-up within
/// `auth.step_up_max_age_secs`.
#[utoipa::path(post, path = "/api/v1/seal-applications/{id}/decision", tag = "seals", params(("id" = String, Path),
    ("Idempotency-Key" = String, Header, description = "8–128 characters, one per decision")), request_body = DecisionInput,
    responses(
        (status = 200, description = "{application_id, status, decision_id, key_id, signature}"),
        (status = 401, description = "step_up_required: authenticate again", body = crate::error::Problem),
        (status = 403, description = "not an approver of the application", body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "decided already (or by another approver), not your turn, seal suspended, grant revoked", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn decide(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    HashedJson(input, hash): HashedJson<DecisionInput>,
) -> ApiResult<Response> {
    decide_route(&state, &p, &id, &headers, &hash, input).await
}

/// The decision route's body, shared with the mobile BFF.
pub async fn decide_route(
    state: &AppState,
    p: &Principal,
    id: &str,
    headers: &HeaderMap,
    hash: &str,
    input: DecisionInput,
) -> ApiResult<Response> {
    p.require_recent_auth(Duration::from_secs(state.config.auth.step_up_max_age_secs))?;
    let scope = format!("seal-decide {id} {}", p.user_id);
    let result = once(state, headers, &scope, hash, StatusCode::OK, async |tx| {
        decide_in(state, tx, p, id, input).await
    })
    .await;
    if matches!(result, Err(ApiError::Forbidden)) {
        audit::record_denied(state, p, "seal.decide", "seal_application", id).await;
    }
    result
}

/// Withdraws a pending application (its applicant).
#[utoipa::path(post, path = "/api/v1/seal-applications/{id}/withdrawal", tag = "seals", params(("id" = String, Path)),
    responses(
        (status = 200, body = ApplicationView),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "no longer pending", body = crate::error::Problem),
    ))]
pub async fn withdraw(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ApplicationView>> {
    const SQL: &str = "UPDATE seal_applications SET status = 'withdrawn', decided_at = $3, version = version + 1 \
         WHERE id = $1 AND version = $2 AND status = 'pending'";
    let mut tx = state.db.begin().await?;
    let loaded = load_tx(&mut tx, &id).await?;
    if !loaded.sees(&p) {
        return Err(ApiError::NotFound);
    }
    if loaded.app.applicant_id != p.user_id {
        return Err(ApiError::Forbidden);
    }
    let moved = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(loaded.app.version).bind(crate::clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if moved != 1 {
        return Err(conflict(
            "application_decided",
            "该用印申请已处理，不能撤回",
        ));
    }
    // The open items: everyone's under "any", the one in line's otherwise.
    let undecided = loaded.steps.iter().filter(|s| s.decision.is_none());
    let open: Vec<String> = if loaded.app.policy == "sequential" {
        undecided
            .min_by_key(|s| s.position)
            .map(|s| vec![s.approver_id.clone()])
            .unwrap_or_default()
    } else {
        undecided.map(|s| s.approver_id.clone()).collect()
    };
    let title = format!(
        "用印审批：{}（{}）",
        loaded.app.seal_name, loaded.app.case_no
    );
    let task = todo::Task {
        application_id: &id,
        title: &title,
        created_at: loaded.app.created_at,
    };
    todo::push(&state, &mut tx, &task, &open, todo::Action::Cancel).await?;
    audit::append(
        &mut tx,
        state.audit_key(),
        audit_entry(&p, "seal.withdraw", &id, Outcome::Success, json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(view(&state, &p, &id).await?))
}

/// An application awaiting the caller's decision, for the phone's inbox.
#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct PendingItem {
    pub id: String,
    pub case_no: String,
    pub seal: String,
    pub applicant: String,
    pub notice: String,
    #[serde(skip)]
    pub created_at_t: OffsetDateTime,
    #[sqlx(skip)]
    pub created_at: String,
    /// The mobile deep link.
    #[sqlx(skip)]
    pub link: String,
}

/// Applications awaiting `p`'s decision now, oldest first (at most 100).
pub async fn pending_for(state: &AppState, p: &Principal) -> ApiResult<Vec<PendingItem>> {
    const SQL: &str = "SELECT a.id, c.case_no, s.name AS seal, u.display_name AS applicant, n.title AS notice, \
         a.created_at AS created_at_t FROM seal_applications a \
         JOIN seal_application_steps st ON st.application_id = a.id AND st.approver_id = $1 AND st.decision IS NULL \
         JOIN seals s ON s.id = a.seal_id JOIN disclosure_cases c ON c.id = a.case_id \
         JOIN disclosure_notices n ON n.id = a.notice_id JOIN users u ON u.id = a.applicant_id \
         WHERE a.status = 'pending' AND (a.policy = 'any' OR st.position = (SELECT MIN(s2.position) \
         FROM seal_application_steps s2 WHERE s2.application_id = a.id AND s2.decision IS NULL)) \
         ORDER BY a.created_at, a.id LIMIT 100";
    let mut rows: Vec<PendingItem> =
        on_db!(&state.db, c => sqlx::query_as(SQL).bind(&p.user_id).fetch_all(c).await)?;
    for r in &mut rows {
        r.created_at = crate::clock::rfc3339(r.created_at_t);
        r.link = format!("govapp://seal-applications/{}", r.id);
    }
    Ok(rows)
}

/// True when `p` is among the approvers of an application to seal the
/// notice: they may read what they are asked to stamp.
pub async fn asked_to_seal(state: &AppState, p: &Principal, notice_id: &str) -> ApiResult<bool> {
    const SQL: &str = "SELECT COUNT(*) FROM seal_application_steps st \
         JOIN seal_applications a ON a.id = st.application_id WHERE a.notice_id = $1 AND st.approver_id = $2";
    let n: i64 = on_db!(&state.db, c => sqlx::query_scalar(SQL).bind(notice_id).bind(&p.user_id).fetch_one(c).await)?;
    Ok(n > 0)
}
