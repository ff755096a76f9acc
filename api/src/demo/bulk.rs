//! Bulk demo data for benchmarks (`gov-server demo-data`): generated units,
//! each with its officials, a seal, grants and approvers, and its cases at
//! several stages, written through the same functions the API uses (so every
//! row is what the product itself would have written, audit chain included),
//! then topped up with sign-in history to the audit volume asked for.
//!
//! The notifications those steps queued are history, not work: they are
//! marked sent, so a server started on the data does not spend its first
//! minutes draining them. Refused in production, like the demo data.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::json;

use super::{DEMO_PHONE_PREFIX, DEMO_PLATFORM_PREFIX, insert_unit, unit_id_by_code};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::authz::{Principal, Role, UserKey, load_principal};
use crate::disclosure::DeliveryMethod;
use crate::disclosure::applicant::{IdType, Identity};
use crate::disclosure::intake::{self, NewRequest};
use crate::disclosure::steps::{self, AssignInput, Command, CorrectionInput};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::UnitId;
use crate::on_db;
use crate::org::UnitKind;
use crate::org::{roles, users};
use crate::pii::Phone;
use crate::seal::approvers::{self, ApproverSetupInput, Policy};
use crate::seal::{grants, seals};
use crate::state::AppState;
use crate::validate::resident_id_check_char;

/// Officials per generated unit: one administrator, two seal approvers, two
/// dispatchers and twenty handlers.
pub const OFFICIALS_PER_UNIT: usize = 25;
const APPROVERS: usize = 2;
const DISPATCHERS: usize = 2;
/// The handlers who hold the correction notices that wait for a seal, so a
/// benchmark pairing one handler with one approver finds enough of them.
const NOTICE_HANDLERS: usize = 2;
/// Demo phone numbers 1990000_1000 … for generated officials, _6000 … for
/// generated applicants; the block has 10 000 numbers.
const OFFICIAL_PHONES_FROM: usize = 1000;
const APPLICANT_PHONES_FROM: usize = 6000;
const APPLICANT_PHONES: usize = 4000;
pub const MAX_UNITS: usize = (APPLICANT_PHONES_FROM - OFFICIAL_PHONES_FROM) / OFFICIALS_PER_UNIT;
/// Cases registered per transaction.
const CASE_BATCH: usize = 50;
const AUDIT_BATCH: usize = 2000;

const DISTRICTS: &[&str] = &[
    "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113",
    "310114", "310115", "310116", "310117", "310118", "310120", "310151",
];
const SURNAMES: &[char] = &[
    '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙',
];
const GIVEN: &[char] = &[
    '伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰',
];

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub units: usize,
    pub cases: usize,
    pub audit_records: usize,
    /// Streets without officials under 徐汇, to distribute forms to: the
    /// district's form filler (`xh_filler`) covers them.
    pub form_units: usize,
}

/// What a benchmark needs to drive the generated data, by login name.
#[derive(Debug, Default, Serialize)]
pub struct Manifest {
    pub units: Vec<UnitManifest>,
    pub officials: usize,
    pub cases: usize,
    pub notices_awaiting_seal: usize,
    pub audit_records: i64,
}

#[derive(Debug, Default, Serialize)]
pub struct UnitManifest {
    pub id: String,
    pub code: String,
    pub admin: String,
    pub approvers: Vec<String>,
    /// The approvers' phones, in the same order: step-up codes go there.
    pub approver_phones: Vec<String>,
    pub dispatchers: Vec<String>,
    pub handlers: Vec<String>,
    pub seal_id: String,
    pub cases: Vec<String>,
    /// Correction notices waiting for a seal: (notice id, the handler of its
    /// case, who holds a grant of the unit's seal).
    pub notices: Vec<(String, String)>,
}

pub async fn generate(app: &AppState, spec: Spec) -> ApiResult<Manifest> {
    if app.config.is_production() {
        return Err(ApiError::Forbidden);
    }
    if spec.units == 0 || spec.units > MAX_UNITS {
        return Err(ApiError::invalid("units", format!("须为 1 至 {MAX_UNITS}")));
    }
    let mut manifest = Manifest::default();
    for k in 0..spec.units {
        let mut unit = officials(app, k).await?;
        seal_setup(app, &mut unit).await?;
        let share = spec.cases / spec.units + usize::from(k < spec.cases % spec.units);
        cases(app, &mut unit, k, share).await?;
        manifest.officials += OFFICIALS_PER_UNIT;
        manifest.cases += unit.cases.len();
        manifest.notices_awaiting_seal += unit.notices.len();
        manifest.units.push(unit);
    }
    form_units(app, spec.form_units).await?;
    manifest.audit_records = sign_in_history(app, spec.audit_records).await?;
    settle_notifications(app).await?;
    Ok(manifest)
}

fn person_name(n: usize) -> String {
    let s = SURNAMES[n % SURNAMES.len()];
    let a = GIVEN[(n / SURNAMES.len()) % GIVEN.len()];
    let b = GIVEN[(n / 7) % GIVEN.len()];
    format!("{s}{a}{b}")
}

pub fn demo_phone(n: usize) -> ApiResult<Phone> {
    Phone::parse(&format!("{DEMO_PHONE_PREFIX}{n:04}"))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("demo phone: {e}")))
}

/// The unit `k` and its officials, in one transaction.
/// `n` bare streets for the forms benchmark, in one transaction.
async fn form_units(app: &AppState, n: usize) -> ApiResult<()> {
    let mut tx = app.db.begin().await?;
    for k in 0..n {
        let code = format!("310104-F{k:04}");
        let name = format!("填报测试第{}居委会", k + 1);
        insert_unit(
            &mut tx,
            &code,
            Some("310104"),
            &name,
            UnitKind::Street,
            5000 + k as i64,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn officials(app: &AppState, k: usize) -> ApiResult<UnitManifest> {
    let district = DISTRICTS[k % DISTRICTS.len()];
    let code = format!("{district}-B{k:03}");
    let name = format!("第{}街道办事处", k + 1);
    let actor = Actor::system("demo-loader");
    let mut tx = app.db.begin().await?;
    insert_unit(
        &mut tx,
        &code,
        Some(district),
        &name,
        UnitKind::Street,
        1000 + k as i64,
    )
    .await?;
    let unit_id = unit_id_by_code(&mut tx, &code).await?;
    let mut unit = UnitManifest {
        id: unit_id.clone(),
        code: code.clone(),
        ..UnitManifest::default()
    };
    for j in 0..OFFICIALS_PER_UNIT {
        let (login, role) = match j {
            0 => (format!("b{k:03}_admin"), Role::UnitAdmin),
            j if j <= APPROVERS => (format!("b{k:03}_approver{j}"), Role::SealApprover),
            j if j <= APPROVERS + DISPATCHERS => (
                format!("b{k:03}_dispatcher{}", j - APPROVERS),
                Role::Dispatcher,
            ),
            j => (
                format!("b{k:03}_handler{:02}", j - APPROVERS - DISPATCHERS),
                Role::Handler,
            ),
        };
        let n = k * OFFICIALS_PER_UNIT + j;
        let phone = demo_phone(OFFICIAL_PHONES_FROM + n)?;
        let display = person_name(n);
        let platform_id = format!("{DEMO_PLATFORM_PREFIX}{login}");
        let user = users::NewUser {
            login_name: &login,
            display_name: &display,
            unit_id: Some(&unit_id),
            phone: Some(&phone),
            platform_id: Some(&platform_id),
        };
        let user_id = users::create(&mut tx, &app.pii, user).await?;
        roles::assign(
            &mut tx,
            app.audit_key(),
            &actor,
            &user_id,
            role,
            Some(&unit_id),
        )
        .await?;
        match role {
            Role::UnitAdmin => unit.admin = login,
            Role::SealApprover => {
                unit.approvers.push(login);
                unit.approver_phones.push(phone.as_str().to_owned());
            }
            Role::Dispatcher => unit.dispatchers.push(login),
            _ => unit.handlers.push(login),
        }
    }
    tx.commit().await?;
    Ok(unit)
}

async fn principal(app: &AppState, login: &str) -> ApiResult<Principal> {
    load_principal(&app.db, UserKey::LoginName(login)).await
}

/// The unit's seal, granted to its handlers, approved by either approver;
/// through the API's own handlers, as the unit administrator.
async fn seal_setup(app: &AppState, unit: &mut UnitManifest) -> ApiResult<()> {
    let admin = principal(app, &unit.admin).await?;
    let new = seals::NewSeal {
        unit_id: unit.id.clone(),
        name: format!("{}政务公开专用章", unit.code),
        kind: "政务公开专用章".into(),
        cert_ref: format!("sh-ca:seal:{}:gk", unit.code),
        image_png_base64: None,
    };
    let (_, Json(seal)) = seals::create(State(app.clone()), admin.clone(), ApiJson(new)).await?;
    unit.seal_id = seal.id;
    for login in &unit.handlers {
        let user_id = principal(app, login).await?.user_id.into_string();
        let grant = grants::NewGrant {
            user_id,
            reason: "办理政务公开告知书".into(),
        };
        let path = Path(unit.seal_id.clone());
        let _history =
            grants::grant(State(app.clone()), admin.clone(), path, ApiJson(grant)).await?;
    }
    let mut approver_ids = Vec::new();
    for login in &unit.approvers {
        approver_ids.push(principal(app, login).await?.user_id.into_string());
    }
    let setup = ApproverSetupInput {
        policy: Policy::Any,
        approver_ids,
    };
    let _setup = approvers::replace(
        State(app.clone()),
        admin,
        Path(unit.id.clone()),
        ApiJson(setup),
    )
    .await?;
    Ok(())
}

/// A citizen with a resident ID number that passes its checksum.
pub fn citizen(n: usize) -> ApiResult<Identity> {
    let first17 = format!(
        "310104{}{:02}{:02}{:03}",
        1960 + n % 40,
        1 + n % 12,
        1 + n % 28,
        n % 1000
    );
    let check = resident_id_check_char(&first17)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("generated ID number")))?;
    Ok(Identity::Citizen {
        name: person_name(n + 7),
        id_type: IdType::ResidentId,
        id_number: format!("{first17}{}", char::from(check)),
        address: Some(format!("上海市徐汇区漕溪北路{}号", 1 + n % 900)),
    })
}

/// `count` cases received by the unit: 4 in 10 stay registered, 2 in 10
/// are being handled, and 4 in 10 wait for a correction whose notice waits
/// for the seal.
async fn cases(app: &AppState, unit: &mut UnitManifest, k: usize, count: usize) -> ApiResult<()> {
    let dispatcher = principal(app, &unit.dispatchers[0]).await?;
    let mut handlers = Vec::new();
    for login in &unit.handlers {
        handlers.push(principal(app, login).await?);
    }
    for batch in (0..count).collect::<Vec<_>>().chunks(CASE_BATCH) {
        let mut tx = app.db.begin().await?;
        for &i in batch {
            let n = k * 1000 + i;
            let req = NewRequest {
                unit_id: UnitId::new(&unit.id),
                identity: citizen(n)?,
                column: crate::disclosure::applicant::ApplicantColumn::NaturalPerson,
                onenet_uid: None,
                description: format!(
                    "申请公开{}年度本街道老旧小区加装电梯项目的审批文件（第{}项）",
                    2020 + i % 6,
                    i + 1
                ),
                purpose: "了解本小区加装电梯的审批情况".into(),
                delivery: DeliveryMethod::Online,
                postal_address: None,
                attachments: Vec::new(),
            };
            let phone = demo_phone(APPLICANT_PHONES_FROM + n % APPLICANT_PHONES)?;
            let receipt = intake::register(app, &mut tx, req, phone).await?;
            unit.cases.push(receipt.id.to_string());
            let stage = i % 10;
            if stage < 4 {
                continue;
            }
            let with_notice = stage >= 6;
            let handler = if with_notice {
                &handlers[i % NOTICE_HANDLERS]
            } else {
                &handlers[NOTICE_HANDLERS + i % (handlers.len() - NOTICE_HANDLERS)]
            };
            assign(app, &mut tx, (&dispatcher, handler), &receipt.id, &unit.id).await?;
            if !with_notice {
                continue;
            }
            let correction = CorrectionInput {
                items: "请写明所需文件的名称或文号".into(),
            };
            let cmd = Command::RequestCorrection(correction);
            steps::perform(app, &mut tx, handler, &receipt.id, cmd).await?;
            let notice: String = crate::on_tx!(&mut tx, c => sqlx::query_scalar(
                "SELECT id FROM disclosure_notices WHERE case_id = $1").bind(&receipt.id).fetch_one(c).await)?;
            unit.notices.push((notice, handler.login_name.clone()));
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The dispatcher assigns `case` to `handler` at `unit`, through the case
/// flow's own step.
pub(super) async fn assign(
    app: &AppState,
    tx: &mut crate::db::Tx,
    (dispatcher, handler): (&Principal, &Principal),
    case: &crate::ids::CaseId,
    unit: &str,
) -> ApiResult<()> {
    let input = AssignInput {
        unit_id: unit.to_owned(),
        assignee_id: Some(handler.user_id.to_string()),
        note: Some("请按期办理".into()),
        due_on: None,
    };
    steps::perform(app, tx, dispatcher, case, Command::Assign(input)).await?;
    Ok(())
}

/// Sign-ins of the generated officials until the audit log holds `target`
/// records (a real log is mostly sign-ins and reads).
async fn sign_in_history(app: &AppState, target: usize) -> ApiResult<i64> {
    const COUNT: &str = "SELECT COUNT(*) FROM audit_log";
    const OFFICIALS: &str =
        "SELECT id, login_name FROM users WHERE unit_id IS NOT NULL ORDER BY id";
    let have: i64 = on_db!(&app.db, p => sqlx::query_scalar(COUNT).fetch_one(p).await)?;
    let logins: Vec<(String, String)> =
        on_db!(&app.db, p => sqlx::query_as(OFFICIALS).fetch_all(p).await)?;
    let missing = (target as i64 - have).max(0) as usize;
    let mut written = 0;
    while written < missing && !logins.is_empty() {
        let mut tx = app.db.begin().await?;
        for n in written..(written + AUDIT_BATCH).min(missing) {
            let (id, login) = &logins[n % logins.len()];
            let entry = Entry {
                actor: Actor {
                    id: Some(id.clone()),
                    label: login.clone(),
                },
                action: "login",
                target_type: None,
                target_id: None,
                outcome: Outcome::Success,
                detail: json!({ "channel": "suishenban", "generated": true }),
            };
            audit::append(&mut tx, app.audit_key(), entry).await?;
        }
        tx.commit().await?;
        written = (written + AUDIT_BATCH).min(missing);
    }
    Ok(on_db!(&app.db, p => sqlx::query_scalar(COUNT).fetch_one(p).await)?)
}

/// Marks what the generation queued as delivered when it was queued.
async fn settle_notifications(app: &AppState) -> ApiResult<()> {
    const SQL: &str = "UPDATE outbox SET status = 'sent', sent_at = created_at, updated_at = created_at \
         WHERE status = 'queued'";
    on_db!(&app.db, p => sqlx::query(SQL).execute(p).await.map(|_| ()))?;
    Ok(())
}
