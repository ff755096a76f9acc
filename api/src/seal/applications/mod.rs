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
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

mod rules;

use self::rules::{Approval, Ruling};
use super::approvers::{Policy, setup_tx};
use super::decision::canonical;
use super::seals::SealStatus;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::disclosure::notices::{NoticeKind, NoticeSealStatus};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::HashedJson;
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::{CaseId, NoticeId, SealApplicationId, SealId, UserId};
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::todo;
use crate::validate::{optional_text, text};
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

crate::text_enum! {
    /// An approver's decision.
    pub enum Decision {
        Approve = "approve",
        Reject = "reject",
    }
}

crate::text_enum! {
    /// Where a seal-use application stands.
    pub enum ApplicationStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
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
    #[schema(value_type = String)]
    pub approver_id: UserId,
    pub approver: String,
    /// approve, reject, or absent while undecided.
    #[schema(value_type = Option<String>)]
    pub decision: Option<Decision>,
    pub decided_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionRecord {
    pub id: String,
    pub approver: String,
    #[schema(value_type = String)]
    pub decision: Decision,
    pub comment: String,
    pub decided_at: String,
    pub key_id: String,
    /// Hex DER SM2 signature over the canonical form.
    pub signature: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    #[schema(value_type = String)]
    pub id: SealApplicationId,
    /// pending, approved, rejected or withdrawn
    #[schema(value_type = String)]
    pub status: ApplicationStatus,
    pub policy: Policy,
    pub seal: SealRef,
    #[schema(value_type = String)]
    pub case_id: CaseId,
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
    #[schema(value_type = String)]
    pub id: SealId,
    pub name: String,
    #[schema(value_type = String)]
    pub status: SealStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeRef {
    #[schema(value_type = String)]
    pub id: NoticeId,
    #[schema(value_type = String)]
    pub kind: NoticeKind,
    pub title: String,
    pub sm3: String,
    /// awaiting_seal or sealed
    #[schema(value_type = String)]
    pub seal_status: NoticeSealStatus,
    /// Where the notice can be read (PDF).
    pub preview: String,
}

#[derive(Debug, Clone, FromRow)]
struct AppRow {
    id: SealApplicationId,
    status: ApplicationStatus,
    policy: Policy,
    seal_id: SealId,
    seal_name: String,
    seal_status: SealStatus,
    seal_cert_ref: String,
    seal_unit_path: String,
    case_id: CaseId,
    case_no: String,
    notice_id: NoticeId,
    notice_kind: NoticeKind,
    notice_title: String,
    notice_sm3: String,
    notice_seal_status: NoticeSealStatus,
    applicant_id: UserId,
    applicant_name: String,
    reason: String,
    created_at: OffsetDateTime,
    decided_at: Option<OffsetDateTime>,
    version: i64,
}

#[derive(Debug, Clone, FromRow)]
struct StepRow {
    position: i32,
    approver_id: UserId,
    approver: String,
    decision: Option<Decision>,
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

    /// What the approval rule reads of it.
    fn approval(&self) -> Approval {
        Approval {
            status: self.app.status,
            policy: self.app.policy,
            seal_active: self.app.seal_status == SealStatus::Active,
            steps: self
                .steps
                .iter()
                .map(|s| rules::Step {
                    position: s.position,
                    approver_id: s.approver_id.clone(),
                    decided: s.decision.is_some(),
                })
                .collect(),
        }
    }

    /// The to-do item's task: the title every approver's item carries.
    fn task_title(&self) -> String {
        format!("用印审批：{}（{}）", self.app.seal_name, self.app.case_no)
    }
}

async fn load_tx(tx: &mut Tx, id: &SealApplicationId) -> ApiResult<Loaded> {
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
pub async fn view(
    state: &AppState,
    p: &Principal,
    id: &SealApplicationId,
) -> ApiResult<ApplicationView> {
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
    let decisions = decisions_of(state, id).await?;
    let can_decide = loaded.approval().awaits(&p.user_id);
    let a = loaded.app;
    Ok(ApplicationView {
        can_withdraw: a.status == ApplicationStatus::Pending && a.applicant_id == p.user_id,
        can_decide,
        status: a.status,
        policy: a.policy,
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
        decisions,
    })
}

/// The application's signed decisions, oldest first.
async fn decisions_of(state: &AppState, id: &SealApplicationId) -> ApiResult<Vec<DecisionRecord>> {
    const DECISIONS: &str = "SELECT d.id, u.display_name, d.decision, d.comment, d.decided_at, d.key_id, d.signature \
         FROM seal_decisions d JOIN users u ON u.id = d.approver_id WHERE d.application_id = $1 ORDER BY d.decided_at, d.id";
    type Row = (
        String,
        String,
        Decision,
        String,
        OffsetDateTime,
        String,
        String,
    );
    let rows: Vec<Row> =
        on_db!(&state.db, c => sqlx::query_as(DECISIONS).bind(id).fetch_all(c).await)?;
    Ok(rows
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
        .collect())
}

fn audit_entry(
    p: &Principal,
    action: &'static str,
    id: &SealApplicationId,
    outcome: Outcome,
    detail: serde_json::Value,
) -> Entry {
    Entry {
        actor: Actor::from(p),
        action,
        target_type: Some("seal_application"),
        target_id: Some(id.to_string()),
        outcome,
        detail,
    }
}

async fn notify(
    state: &AppState,
    tx: &mut Tx,
    users: &[UserId],
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

/// What an application is checked against: the notice's case, and the
/// seal's unit and name.
struct Applying {
    case_id: CaseId,
    case_no: String,
    seal_unit: String,
    seal_name: String,
}

/// Checks `req` for `p`: the notice exists and its case is theirs (404
/// otherwise), they hold a live grant of the seal (403), the seal belongs
/// to the case's agency and is active, and the notice is neither sealed
/// nor applied for already (409).
async fn check_application(
    tx: &mut Tx,
    p: &Principal,
    req: &NewApplication,
) -> ApiResult<Applying> {
    const NOTICE: &str = "SELECT case_id, seal_status FROM disclosure_notices WHERE id = $1";
    const SEAL: &str = "SELECT s.unit_id, u.path, s.status, s.name FROM seals s JOIN org_units u ON u.id = s.unit_id WHERE s.id = $1";
    const LIVE: &str = "SELECT COUNT(*) FROM seal_applications WHERE notice_id = $1 AND status IN ('pending', 'approved')";
    let notice: Option<(CaseId, NoticeSealStatus)> =
        on_tx!(tx, c => sqlx::query_as(NOTICE).bind(&req.notice_id).fetch_optional(c).await)?;
    let (case_id, notice_status) =
        notice.ok_or_else(|| ApiError::invalid("notice_id", "告知书不存在"))?;
    // A notice of a case the caller cannot see is another unit's: 404.
    let case = crate::disclosure::case_file::reload(tx, p, &case_id).await?;
    let seal: Option<(String, String, SealStatus, String)> =
        on_tx!(tx, c => sqlx::query_as(SEAL).bind(&req.seal_id).fetch_optional(c).await)?;
    let (seal_unit, seal_path, seal_status, seal_name) =
        seal.ok_or_else(|| ApiError::invalid("seal_id", "印章不存在"))?;
    if !live_grant(tx, &SealId::new(&req.seal_id), &p.user_id).await? {
        return Err(ApiError::Forbidden);
    }
    if !case.row.unit_path.starts_with(&seal_path) {
        return Err(ApiError::invalid("seal_id", "该印章不属于本案件受理单位"));
    }
    if seal_status != SealStatus::Active {
        return Err(conflict("seal_suspended", "该印章已停用"));
    }
    if notice_status == NoticeSealStatus::Sealed {
        return Err(conflict("notice_sealed", "该告知书已盖章"));
    }
    let live: i64 =
        on_tx!(tx, c => sqlx::query_scalar(LIVE).bind(&req.notice_id).fetch_one(c).await)?;
    if live > 0 {
        return Err(conflict("application_exists", "该告知书已有用印申请"));
    }
    Ok(Applying {
        case_id,
        case_no: case.row.case_no,
        seal_unit,
        seal_name,
    })
}

/// Applies to stamp a notice with a seal the caller holds a grant of.
pub async fn create(
    state: &AppState,
    tx: &mut Tx,
    p: &Principal,
    req: NewApplication,
) -> ApiResult<serde_json::Value> {
    const INSERT: &str = "INSERT INTO seal_applications (id, seal_id, notice_id, case_id, applicant_id, reason, policy, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8)";
    const STEP: &str = "INSERT INTO seal_application_steps (application_id, position, approver_id) VALUES ($1, $2, $3)";
    let reason = optional_text("reason", req.reason.as_deref(), 500)?.unwrap_or_default();
    let a = check_application(tx, p, &req).await?;
    let approvers = setup_tx(tx, &a.seal_unit).await?;
    let policy = approvers
        .policy
        .filter(|_| !approvers.approvers.is_empty())
        .ok_or_else(|| conflict("no_approvers", "印章所属单位尚未设置用印审批人"))?;
    let id = SealApplicationId::generate();
    on_tx!(tx, c => sqlx::query(INSERT).bind(&id).bind(&req.seal_id).bind(&req.notice_id).bind(&a.case_id)
        .bind(&p.user_id).bind(&reason).bind(policy).bind(crate::clock::now())
        .bind(ApplicationStatus::Pending).execute(c).await.map(|_| ()))?;
    for step in &approvers.approvers {
        on_tx!(tx, c => sqlx::query(STEP).bind(&id).bind(step.position).bind(&step.user_id).execute(c).await.map(|_| ()))?;
    }
    // Everyone at once under "any"; the first in line under "sequential".
    let asked = match policy {
        Policy::Any => approvers.approvers.len(),
        Policy::Sequential => 1,
    };
    let first: Vec<UserId> = approvers.approvers[..asked]
        .iter()
        .map(|step| step.user_id.clone())
        .collect();
    let params = [
        ("applicant", p.display_name.as_str()),
        ("case_no", a.case_no.as_str()),
        ("application_id", id.as_str()),
    ];
    let key = format!("seal-pending:{id}:1");
    notify(state, tx, &first, "seal_approval_pending", &params, &key).await?;
    let title = format!("用印审批：{}（{}）", a.seal_name, a.case_no);
    let task = approval_task(&id, &title, crate::clock::now());
    todo::push(state, tx, &task, &first, todo::Action::Create).await?;
    let detail = json!({ "seal_id": req.seal_id, "notice_id": req.notice_id, "policy": policy });
    let entry = audit_entry(p, "seal.apply", &id, Outcome::Success, detail);
    audit::append(tx, state.audit_key(), entry).await?;
    Ok(json!({ "id": id, "status": ApplicationStatus::Pending, "policy": policy }))
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
    let key = IdempotencyKey::required(&headers)?;
    let result = idempotency::run_once(
        &state,
        &key,
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
    Path(id): Path<SealApplicationId>,
) -> ApiResult<Json<ApplicationView>> {
    Ok(Json(view(&state, &p, &id).await?))
}

/// Decides on an application (approve or reject) inside `tx`.
pub async fn decide_in(
    state: &AppState,
    tx: &mut Tx,
    p: &Principal,
    id: &SealApplicationId,
    input: DecisionInput,
) -> ApiResult<serde_json::Value> {
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
    let grant_live = match input.decision {
        Decision::Reject => true,
        Decision::Approve => live_grant(tx, &a.seal_id, &a.applicant_id).await?,
    };
    let ruling = loaded
        .approval()
        .rule(&p.user_id, input.decision, grant_live)?;
    let signed = record_decision(
        state,
        tx,
        &loaded,
        p,
        input.decision,
        &comment,
        ruling.status,
    )
    .await?;
    if ruling.status == ApplicationStatus::Approved {
        stamp(state, tx, a).await?;
    }
    announce(state, tx, &loaded, p, &ruling, &signed.id).await?;
    let detail =
        json!({ "decision": input.decision, "status": ruling.status, "decision_id": signed.id });
    let entry = audit_entry(p, "seal.decide", &a.id, Outcome::Success, detail);
    audit::append(tx, state.audit_key(), entry).await?;
    Ok(json!({
        "application_id": a.id,
        "status": ruling.status,
        "decision_id": signed.id,
        "key_id": state.signer.key_id(),
        "signature": signed.signature,
    }))
}

/// True when `user` holds a live grant of the seal.
async fn live_grant(tx: &mut Tx, seal_id: &SealId, user_id: &UserId) -> ApiResult<bool> {
    const GRANTED: &str = "SELECT COUNT(*) FROM seal_grants WHERE seal_id = $1 AND user_id = $2 AND revoked_at IS NULL";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(GRANTED).bind(seal_id).bind(user_id).fetch_one(c).await)?;
    Ok(n > 0)
}

/// A decision as signed and stored.
struct Signed {
    id: String,
    signature: String,
}

/// Signs the decision over its canonical form, moves the application to
/// `status` (the version makes racing deciders take turns: the loser gets
/// 409 and changes nothing), and stores the step and the signed record.
async fn record_decision(
    state: &AppState,
    tx: &mut Tx,
    loaded: &Loaded,
    p: &Principal,
    decision: Decision,
    comment: &str,
    status: ApplicationStatus,
) -> ApiResult<Signed> {
    const ADVANCE: &str = "UPDATE seal_applications SET status = $3, decided_at = $4, version = version + 1 \
         WHERE id = $1 AND version = $2 AND status = $5";
    const STEP: &str = "UPDATE seal_application_steps SET decision = $3, decided_at = $4 \
         WHERE application_id = $1 AND approver_id = $2 AND decision IS NULL";
    const DECISION: &str = "INSERT INTO seal_decisions (id, application_id, approver_id, decision, comment, notice_sm3, \
         decided_at, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let a = &loaded.app;
    let now = crate::clock::now();
    let signed = canonical(
        a.id.as_str(),
        &a.notice_sm3,
        decision.as_str(),
        p.user_id.as_str(),
        now,
    );
    let signature = state.signer.sign(signed.as_bytes());
    let id = ulid::Ulid::new().to_string();
    let decided_at = (status != ApplicationStatus::Pending).then_some(now);
    let moved = on_tx!(tx, c => sqlx::query(ADVANCE).bind(&a.id).bind(a.version).bind(status).bind(decided_at)
        .bind(ApplicationStatus::Pending).execute(c).await.map(|r| r.rows_affected()))?;
    if moved != 1 {
        return Err(conflict("application_decided", "该用印申请已由他人处理"));
    }
    on_tx!(tx, c => sqlx::query(STEP).bind(&a.id).bind(&p.user_id).bind(decision).bind(now).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(DECISION).bind(&id).bind(&a.id).bind(&p.user_id).bind(decision).bind(comment)
        .bind(&a.notice_sm3).bind(now).bind(state.signer.key_id()).bind(&signature).execute(c).await.map(|_| ()))?;
    Ok(Signed { id, signature })
}

/// Stamps the notice through the signing service, once (a unique stamp per
/// notice), and marks it sealed.
async fn stamp(state: &AppState, tx: &mut Tx, a: &AppRow) -> ApiResult<()> {
    const STAMP: &str = "INSERT INTO seal_stamps (id, application_id, notice_id, seal_id, document_sm3, signature, time_stamp, stamped_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    const SEALED: &str =
        "UPDATE disclosure_notices SET seal_status = $2 WHERE id = $1 AND seal_status = $3";
    let stamp = state.signer.stamp(&a.notice_sm3, &a.seal_cert_ref);
    on_tx!(tx, c => sqlx::query(STAMP).bind(ulid::Ulid::new().to_string()).bind(&a.id).bind(&a.notice_id)
        .bind(&a.seal_id).bind(&a.notice_sm3).bind(&stamp.signature).bind(&stamp.time_stamp).bind(stamp.stamped_at)
        .execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(SEALED).bind(&a.notice_id).bind(NoticeSealStatus::Sealed)
        .bind(NoticeSealStatus::AwaitingSeal).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Tells everyone concerned: the decider's to-do item is done, the items a
/// decision made void are cancelled, and either the next approver is asked
/// or the applicant hears the result.
async fn announce(
    state: &AppState,
    tx: &mut Tx,
    loaded: &Loaded,
    p: &Principal,
    ruling: &Ruling,
    decision_id: &str,
) -> ApiResult<()> {
    let a = &loaded.app;
    let title = loaded.task_title();
    let task = approval_task(&a.id, &title, a.created_at);
    let me = std::slice::from_ref(&p.user_id);
    todo::push(state, tx, &task, me, todo::Action::Complete).await?;
    todo::push(state, tx, &task, &ruling.cancelled, todo::Action::Cancel).await?;
    if ruling.status == ApplicationStatus::Pending {
        let next: Vec<UserId> = ruling.next.iter().cloned().collect();
        let params = [
            ("applicant", a.applicant_name.as_str()),
            ("case_no", a.case_no.as_str()),
            ("application_id", a.id.as_str()),
        ];
        let key = format!("seal-pending:{}:{decision_id}", a.id);
        notify(state, tx, &next, "seal_approval_pending", &params, &key).await?;
        return todo::push(state, tx, &task, &next, todo::Action::Create).await;
    }
    let result = match ruling.status {
        ApplicationStatus::Approved => "已批准",
        _ => "未获批准",
    };
    let params = [
        ("case_no", a.case_no.as_str()),
        ("result", result),
        ("application_id", a.id.as_str()),
    ];
    let key = format!("seal-result:{}", a.id);
    let applicant = std::slice::from_ref(&a.applicant_id);
    notify(state, tx, applicant, "seal_result", &params, &key).await
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
    Path(id): Path<SealApplicationId>,
    headers: HeaderMap,
    HashedJson(input, hash): HashedJson<DecisionInput>,
) -> ApiResult<Response> {
    decide_route(&state, &p, &id, &headers, &hash, input).await
}

/// The decision route's body, shared with the mobile BFF.
pub async fn decide_route(
    state: &AppState,
    p: &Principal,
    id: &SealApplicationId,
    headers: &HeaderMap,
    hash: &str,
    input: DecisionInput,
) -> ApiResult<Response> {
    p.require_recent_auth(Duration::from_secs(state.config.auth.step_up_max_age_secs))?;
    let scope = format!("seal-decide {id} {}", p.user_id);
    let key = IdempotencyKey::required(headers)?;
    let result = idempotency::run_once(state, &key, &scope, hash, StatusCode::OK, async |tx| {
        decide_in(state, tx, p, id, input).await
    })
    .await;
    if matches!(result, Err(ApiError::Forbidden)) {
        audit::record_denied(state, p, "seal.decide", "seal_application", id.as_str()).await;
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
    Path(id): Path<SealApplicationId>,
) -> ApiResult<Json<ApplicationView>> {
    const SQL: &str = "UPDATE seal_applications SET status = $4, decided_at = $3, version = version + 1 \
         WHERE id = $1 AND version = $2 AND status = $5";
    let mut tx = state.db.begin().await?;
    let loaded = load_tx(&mut tx, &id).await?;
    if !loaded.sees(&p) {
        return Err(ApiError::NotFound);
    }
    if loaded.app.applicant_id != p.user_id {
        return Err(ApiError::Forbidden);
    }
    let moved = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(loaded.app.version).bind(crate::clock::now())
        .bind(ApplicationStatus::Withdrawn).bind(ApplicationStatus::Pending).execute(c).await.map(|r| r.rows_affected()))?;
    if moved != 1 {
        return Err(conflict(
            "application_decided",
            "该用印申请已处理，不能撤回",
        ));
    }
    let open = loaded.approval().open_items();
    let title = loaded.task_title();
    let task = approval_task(&id, &title, loaded.app.created_at);
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
pub async fn asked_to_seal(
    state: &AppState,
    p: &Principal,
    notice_id: &NoticeId,
) -> ApiResult<bool> {
    const SQL: &str = "SELECT COUNT(*) FROM seal_application_steps st \
         JOIN seal_applications a ON a.id = st.application_id WHERE a.notice_id = $1 AND st.approver_id = $2";
    let n: i64 = on_db!(&state.db, c => sqlx::query_scalar(SQL).bind(notice_id).bind(&p.user_id).fetch_one(c).await)?;
    Ok(n > 0)
}

/// The approvers' to-do item of an application.
fn approval_task<'a>(
    id: &SealApplicationId,
    title: &'a str,
    created_at: time::OffsetDateTime,
) -> todo::Task<'a> {
    todo::Task {
        kind: "seal_approval",
        subject: format!("seal-approval:{id}"),
        title,
        pc_path: format!("/api/v1/seal-applications/{id}"),
        mobile_url: format!("govapp://seal-applications/{id}"),
        created_at,
    }
}
