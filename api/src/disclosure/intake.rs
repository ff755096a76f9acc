//! Registering a request as a case: case number, receipt date and statutory
//! deadline, the first timeline step, attachments, audit and the receipt SMS,
//! all in the caller's transaction.
//!
//! Receipt date (art. 31 (3)): a request sent over the internet is received
//! on the day both sides confirm it. The system confirms at once by SMS, so a
//! request submitted on a working day is received that day (Shanghai time);
//! one submitted on a day off is received on the next working day, the first
//! day the agency can act on it. The reply is due on the 20th working day
//! after receipt (art. 33; the receipt day itself is not counted).

use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::applicant::{ApplicantColumn, Identity};
use super::{
    Agency, CaseChannel, CaseStatus, DeliveryMethod, IdentitySource, REPLY_WORKING_DAYS, ymd,
};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::calendar::shanghai_date;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::{CaseId, UnitId};
use crate::on_tx;
use crate::outbox::SmsMessage;
use crate::pii::Phone;
use crate::state::AppState;

pub const APPLICANT_FIELD: &str = "disclosure.applicant";
pub const POSTAL_FIELD: &str = "disclosure.postal_address";
pub const ONENET_FIELD: &str = "applicants.onenet_uid";
pub const PHONE_FIELD: &str = "applicants.phone";

/// What is sealed with a case about its applicant.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct SealedApplicant {
    pub identity: Identity,
    pub phone: String,
}

impl SealedApplicant {
    pub(crate) fn open(app: &AppState, sealed: &[u8]) -> ApiResult<Self> {
        let plain = app
            .pii
            .decrypt(APPLICANT_FIELD, sealed)
            .map_err(|e| anyhow::anyhow!("applicant record: {e}"))?;
        Ok(serde_json::from_str(&plain).map_err(anyhow::Error::from)?)
    }
}

/// A checked attachment.
pub struct Attachment {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A request that passed every check.
pub struct NewRequest {
    pub unit_id: UnitId,
    pub identity: Identity,
    /// The applicant's column in the annual report's Table 3.
    pub column: ApplicantColumn,
    /// Set when the identity came from the one-net service.
    pub onenet_uid: Option<String>,
    pub description: String,
    pub purpose: String,
    pub delivery: DeliveryMethod,
    pub postal_address: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// What the applicant gets back.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseReceipt {
    #[schema(value_type = String)]
    pub id: CaseId,
    pub case_no: String,
    pub status: CaseStatus,
    pub status_label: String,
    pub agency: Agency,
    /// 收到申请之日 (Shanghai date).
    pub received_on: String,
    /// 答复期限: the 20th working day after receipt.
    pub due_on: String,
    /// True when the deadline depends on a year whose holiday arrangement is
    /// not yet published; it may move when it is.
    pub due_provisional: bool,
    /// The deadline as a person reads it: 2027年1月15日, or with 预计 and a
    /// note when `due_provisional`.
    pub due_label: String,
    pub submitted_at: String,
}

/// Registers `req` inside `tx` as a new case of its receiving unit, from the
/// applicant's verified `phone`: the case with its number and deadline, its
/// first timeline event and milestone, its attachments, the audit entry and
/// the receipt SMS.
pub async fn register(
    app: &AppState,
    tx: &mut Tx,
    req: NewRequest,
    phone: Phone,
) -> ApiResult<CaseReceipt> {
    let case = insert_case(app, tx, &req, &phone).await?;
    record_receipt(app, tx, &req, &phone, &case).await?;
    let registered = crate::warning::evaluate::Registered {
        case_id: &case.id,
        unit_id: &req.unit_id,
        identity: &req.identity,
        phone_index: &case.phone_index,
        description: &req.description,
        received_on: case.received_date,
    };
    crate::warning::evaluate::on_intake(app, tx, registered).await?;
    Ok(CaseReceipt {
        id: case.id,
        case_no: case.case_no,
        status: CaseStatus::Registered,
        status_label: CaseStatus::Registered.label_zh().to_owned(),
        agency: Agency {
            id: req.unit_id,
            name: case.agency_name,
        },
        received_on: case.received_on,
        due_label: crate::calendar::deadline_label_of(&case.due_on, case.provisional),
        due_on: case.due_on,
        due_provisional: case.provisional,
        submitted_at: crate::clock::rfc3339(case.now),
    })
}

/// A case just inserted, with what the rest of the registration needs.
struct NewCase {
    id: CaseId,
    case_no: String,
    agency_name: String,
    received_on: String,
    due_on: String,
    provisional: bool,
    now: OffsetDateTime,
    onenet_sealed: Option<Vec<u8>>,
    source: IdentitySource,
    phone_index: String,
    received_date: time::Date,
}

/// The request's personal data as stored: sealed, and blind-indexed where
/// it is looked up.
struct SealedRequest {
    applicant: Vec<u8>,
    postal: Option<Vec<u8>>,
    phone_index: String,
    onenet_index: Option<String>,
    onenet: Option<Vec<u8>>,
}

fn seal_request(app: &AppState, req: &NewRequest, phone: &Phone) -> ApiResult<SealedRequest> {
    let pii = &app.pii;
    let applicant = SealedApplicant {
        identity: req.identity.clone(),
        phone: phone.as_str().to_owned(),
    };
    let identity_json = serde_json::to_string(&applicant).map_err(anyhow::Error::from)?;
    let onenet = req.onenet_uid.as_deref();
    Ok(SealedRequest {
        applicant: pii.encrypt(APPLICANT_FIELD, &identity_json),
        postal: req
            .postal_address
            .as_deref()
            .map(|a| pii.encrypt(POSTAL_FIELD, a)),
        phone_index: pii.blind_index(PHONE_FIELD, phone.as_str()),
        onenet_index: onenet.map(|u| pii.blind_index(ONENET_FIELD, u)),
        onenet: onenet.map(|u| pii.encrypt(ONENET_FIELD, u)),
    })
}

/// Numbers the case in its unit's yearly series, dates it by the working
/// calendar, and inserts it.
async fn insert_case(
    app: &AppState,
    tx: &mut Tx,
    req: &NewRequest,
    phone: &Phone,
) -> ApiResult<NewCase> {
    const UNIT: &str = "SELECT code, name FROM org_units WHERE id = $1";
    const NEXT_NO: &str = "INSERT INTO disclosure_case_counters (unit_id, year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (unit_id, year) DO UPDATE SET last = disclosure_case_counters.last + 1 RETURNING last";
    const CASE: &str = "INSERT INTO disclosure_cases (id, case_no, unit_id, status, applicant_kind, identity_source, \
         applicant_sealed, applicant_label, phone_index, onenet_index, description, purpose, delivery_method, \
         postal_sealed, channel, submitted_at, received_on, due_on, due_provisional, onenet_uid_sealed, applicant_column, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $19, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $20, $14, $15, $16, $17, $18, $21, $14, $14)";
    let unit: Option<(String, String)> =
        on_tx!(tx, c => sqlx::query_as(UNIT).bind(&req.unit_id).fetch_optional(c).await)?;
    let (code, agency_name) =
        unit.ok_or_else(|| ApiError::invalid("agency_id", "受理机关不存在"))?;
    let now: OffsetDateTime = crate::clock::now();
    let calendar = app.calendar();
    let received = calendar.on_or_after(shanghai_date(now));
    let due = calendar.add_working_days(received.date, REPLY_WORKING_DAYS);
    let provisional = received.provisional || due.provisional;
    let year = received.date.year();
    let seq: i64 = on_tx!(tx, c => sqlx::query_scalar(NEXT_NO).bind(&req.unit_id).bind(year).fetch_one(c).await)?;
    let case_no = format!("{code}-{year}-{seq:05}");
    let id = CaseId::generate();
    let sealed = seal_request(app, req, phone)?;
    let source = if req.onenet_uid.is_some() {
        IdentitySource::Onenet
    } else {
        IdentitySource::Typed
    };
    let (received_on, due_on) = (ymd(received.date), ymd(due.date));
    on_tx!(tx, c => sqlx::query(CASE)
        .bind(&id).bind(&case_no).bind(&req.unit_id).bind(req.identity.kind()).bind(source)
        .bind(&sealed.applicant).bind(req.identity.label()).bind(&sealed.phone_index).bind(&sealed.onenet_index)
        .bind(&req.description).bind(&req.purpose).bind(req.delivery).bind(&sealed.postal)
        .bind(now).bind(&received_on).bind(&due_on).bind(provisional).bind(&sealed.onenet)
        .bind(CaseStatus::Registered).bind(CaseChannel::Mobile).bind(req.column)
        .execute(c).await.map(|_| ()))?;
    Ok(NewCase {
        id,
        case_no,
        agency_name,
        received_on,
        due_on,
        provisional,
        now,
        onenet_sealed: sealed.onenet,
        source,
        phone_index: sealed.phone_index,
        received_date: received.date,
    })
}

/// Everything that follows a new case: its timeline's first event, the
/// applicant's milestone, the attachments, the audit entry, the receipt SMS.
async fn record_receipt(
    app: &AppState,
    tx: &mut Tx,
    req: &NewRequest,
    phone: &Phone,
    case: &NewCase,
) -> ApiResult<()> {
    const EVENT: &str = "INSERT INTO disclosure_events (id, case_id, kind, actor_label, occurred_at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    let (id, now) = (&case.id, case.now);
    let applicant_label = format!("申请人（{}）", phone.masked());
    let detail = json!({ "received_on": case.received_on, "due_on": case.due_on, "working_days": REPLY_WORKING_DAYS });
    let event_id = ulid::Ulid::new().to_string();
    on_tx!(tx, c => sqlx::query(EVENT).bind(&event_id).bind(id).bind("received")
        .bind(&applicant_label).bind(now).bind(detail.to_string()).execute(c).await.map(|_| ()))?;
    let milestone = super::two_pages::Milestone {
        event_id: &event_id,
        case_id: id,
        case_no: &case.case_no,
        agency: &case.agency_name,
        applicant_kind: req.identity.kind(),
        onenet_uid_sealed: case.onenet_sealed.as_deref(),
        milestone: "received",
        label: "收到申请",
        status: CaseStatus::Registered,
        occurred_at: now,
        due_on: Some(case.due_on.clone()),
        notice: None,
    };
    super::two_pages::push(app, tx, milestone).await?;
    store_attachments(tx, id, &req.attachments, now).await?;
    let entry = Entry {
        actor: Actor {
            id: None,
            label: applicant_label,
        },
        action: "disclosure.request.submit",
        target_type: Some("disclosure_case"),
        target_id: Some(id.to_string()),
        outcome: Outcome::Success,
        detail: json!({
            "case_no": case.case_no,
            "unit_id": req.unit_id,
            "identity_source": case.source,
            "attachments": req.attachments.len(),
        }),
    };
    audit::append(tx, app.audit_key(), entry).await?;
    let receipt_key = format!("disclosure-received:{id}");
    // A deadline counted on an unpublished year is said to be one.
    let certain = [
        ("case_no", case.case_no.as_str()),
        ("received_on", &case.received_on),
        ("due_on", &case.due_on),
    ];
    let provisional = [("case_no", case.case_no.as_str()), ("due_on", &case.due_on)];
    let (kind, params): (_, &[(&str, &str)]) = if case.provisional {
        ("disclosure_received_provisional", &provisional)
    } else {
        ("disclosure_received", &certain)
    };
    let msg = SmsMessage {
        kind,
        phone,
        params,
        idempotency_key: Some(&receipt_key),
        ttl: Duration::from_secs(86_400),
    };
    let provider = app.config.notify.sms_provider.as_str();
    crate::outbox::enqueue_sms(tx, &app.pii, provider, msg).await?;
    Ok(())
}

async fn store_attachments(
    tx: &mut Tx,
    case_id: &CaseId,
    files: &[Attachment],
    now: OffsetDateTime,
) -> ApiResult<()> {
    const FILE: &str = "INSERT INTO disclosure_attachments (id, case_id, file_name, content_type, size_bytes, sm3, content, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    for file in files {
        let hash = hex::encode(crate::crypto::sm3(&file.bytes));
        on_tx!(tx, c => sqlx::query(FILE).bind(ulid::Ulid::new().to_string()).bind(case_id)
            .bind(&file.file_name).bind(file.content_type).bind(file.bytes.len() as i64)
            .bind(&hash).bind(&file.bytes).bind(now).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}
