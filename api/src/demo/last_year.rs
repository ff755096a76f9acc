//! Last year's register for the demo (`serve --demo`, unless
//! `disclosure.demo_history = false`): cases of three agencies, received
//! through last year, concluded with every result category of Table 3,
//! some still open at the year's end (concluded in January), so that the
//! annual report of last year is full on a fresh demo.
//!
//! Each case goes through the product's own intake and steps (sealed
//! identity, events, audit, to-dos); its dates are then moved back to the
//! day it was received, as a migration of an old register would write them.
//! The notifications those steps queued are marked sent: they are history.
//! Loaded once: skipped when the first agency already has cases of last year.

use time::{Date, Duration, Month, OffsetDateTime, Time};

use super::bulk::{assign, citizen, demo_phone};
use crate::authz::{Principal, UserKey, load_principal};
use crate::calendar::SHANGHAI;
use crate::disclosure::DeliveryMethod;
use crate::disclosure::applicant::{ApplicantColumn, Identity};
use crate::disclosure::intake::{self, NewRequest};
use crate::disclosure::result::{CaseResult, RESULTS};
use crate::disclosure::steps::{self, Command, ConclusionInput};
use crate::error::{ApiError, ApiResult};
use crate::ids::{CaseId, UnitId};
use crate::state::AppState;
use crate::{on_db, on_tx};

/// The agencies: (unit code, cases, dispatcher, handling unit, handler).
const AGENCIES: &[(&str, usize, &str, &str, &str)] = &[
    ("310104", 36, "xh_dispatcher", "310104-BGS", "xh_handler"),
    (
        "310104-XJH",
        12,
        "xh_dispatcher",
        "310104-XJH",
        "xjh_handler",
    ),
    ("310115", 20, "pd_dispatcher", "310115-BGS", "pd_handler"),
];
/// Of each agency's cases, the last ones are received in late December and
/// concluded in January: carried over to this year.
const CARRIED: usize = 3;
/// Applicants' demo phones 1990000_0500 …
const PHONES_FROM: usize = 500;

/// One case to write: who applies, and how it ends.
struct Planned {
    n: usize,
    column: ApplicantColumn,
    result: CaseResult,
    received: Date,
    concluded: OffsetDateTime,
}

/// Loads the history unless it is there; answers the cases written.
pub async fn load(app: &AppState) -> ApiResult<usize> {
    let year = crate::calendar::shanghai_date(crate::clock::now()).year() - 1;
    if has_cases(app, AGENCIES[0].0, year).await? {
        return Ok(0);
    }
    let started = crate::clock::now();
    let mut written = 0;
    for (k, agency) in AGENCIES.iter().enumerate() {
        written += load_agency(app, agency, k * 100, year).await?;
    }
    const SETTLE: &str = "UPDATE outbox SET status = 'sent', sent_at = created_at, updated_at = created_at \
         WHERE status = 'queued' AND created_at >= $1";
    on_db!(&app.db, c => sqlx::query(SETTLE).bind(started).execute(c).await.map(|_| ()))?;
    Ok(written)
}

async fn has_cases(app: &AppState, code: &str, year: i32) -> ApiResult<bool> {
    const SQL: &str = "SELECT COUNT(*) FROM disclosure_cases c JOIN org_units u ON u.id = c.unit_id \
         WHERE u.code = $1 AND c.received_on BETWEEN $2 AND $3";
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let n: i64 = on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(code).bind(from).bind(to).fetch_one(c).await)?;
    Ok(n > 0)
}

async fn unit(app: &AppState, code: &str) -> ApiResult<UnitId> {
    const SQL: &str = "SELECT id FROM org_units WHERE code = $1";
    let id: String = on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(code).fetch_one(c).await)?;
    Ok(UnitId::new(&id))
}

async fn official(app: &AppState, login: &str) -> ApiResult<Principal> {
    load_principal(&app.db, UserKey::LoginName(login)).await
}

/// The results in the order cases get them: mostly disclosed, then every
/// other row of Table 3 at least once.
fn result_of(i: usize) -> CaseResult {
    const DISCLOSED_EVERY: usize = 3;
    let others: Vec<&(&str, &str, &str)> = RESULTS.iter().filter(|r| r.0 != "disclosed").collect();
    let (category, reason) = if i.is_multiple_of(DISCLOSED_EVERY) {
        ("disclosed", "")
    } else {
        let r = others[(i - i / DISCLOSED_EVERY - 1) % others.len()];
        (r.0, r.1)
    };
    CaseResult {
        category: category.to_owned(),
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
    }
}

/// Natural persons mostly; every fourth applicant an organisation of each
/// kind in turn.
fn column_of(i: usize) -> ApplicantColumn {
    if i % 4 != 3 {
        return ApplicantColumn::NaturalPerson;
    }
    ApplicantColumn::ALL[1 + (i / 4) % (ApplicantColumn::ALL.len() - 1)]
}

fn at(day: Date, hour: u8) -> OffsetDateTime {
    day.with_time(Time::from_hms(hour, 0, 0).unwrap_or(Time::MIDNIGHT))
        .assume_offset(SHANGHAI)
        .to_offset(time::UtcOffset::UTC)
}

/// Case `i` of `count`: received on working days spread over the year (the
/// carried ones in its last days), concluded 5 to 15 working days later.
fn plan(app: &AppState, i: usize, count: usize, n: usize, year: i32) -> ApiResult<Planned> {
    let cal = app.calendar();
    let jan = Date::from_calendar_date(year, Month::January, 6).map_err(anyhow::Error::from)?;
    let carried = i + CARRIED >= count;
    let offset = if carried {
        350 + (i + CARRIED - count) as i64
    } else {
        (i as i64 * 320) / (count - CARRIED) as i64
    };
    let received = cal.on_or_after(jan + Duration::days(offset)).date;
    let days = if carried { 16 } else { 5 + (i % 11) as u32 };
    let yesterday = crate::calendar::shanghai_date(crate::clock::now()) - Duration::DAY;
    let concluded = cal.add_working_days(received, days).date.min(yesterday);
    Ok(Planned {
        n,
        column: column_of(i),
        result: result_of(i),
        received,
        concluded: at(concluded, 16),
    })
}

const DESCRIPTIONS: &[&str] = &[
    "申请公开本区老旧小区加装电梯项目的审批文件",
    "申请公开某地块征收补偿方案及其批准文件",
    "申请公开本区年度财政预算执行情况的明细",
    "申请公开某道路改扩建工程的环境影响评价文件",
    "申请公开本街道垃圾分类设施设置的规划依据",
    "申请公开某企业行政处罚决定书",
];

/// The applicant of a planned case: a resident, or an organisation of its
/// column with a valid credit code.
fn identity(p: &Planned) -> ApiResult<Identity> {
    if p.column == ApplicantColumn::NaturalPerson {
        return citizen(p.n);
    }
    Ok(Identity::Company {
        name: format!(
            "上海{}{}",
            ["华谊", "申通", "浦江", "汇金", "东方"][p.n % 5],
            p.column.label_zh()
        ),
        uscc: uscc(p.n),
        legal_representative: "王建华".into(),
        contact_name: "李明".into(),
    })
}

/// A unified social credit code (GB 32100-2015) ending in its check
/// character.
fn uscc(n: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let first17 = format!("91310104MA1K{:05}", n % 100_000);
    let sum: usize = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(c, w)| ALPHABET.iter().position(|&a| a == c).unwrap_or(0) * w)
        .sum();
    format!("{first17}{}", char::from(ALPHABET[(31 - sum % 31) % 31]))
}

async fn load_agency(
    app: &AppState,
    &(code, count, dispatcher, handling, handler): &(&str, usize, &str, &str, &str),
    from: usize,
    year: i32,
) -> ApiResult<usize> {
    let unit_id = unit(app, code).await?;
    let handling = unit(app, handling).await?;
    let dispatcher = official(app, dispatcher).await?;
    let handler = official(app, handler).await?;
    let mut tx = app.db.begin().await?;
    for i in 0..count {
        let p = plan(app, i, count, from + i, year)?;
        let req = NewRequest {
            unit_id: unit_id.clone(),
            identity: identity(&p)?,
            column: p.column,
            onenet_uid: None,
            description: format!(
                "{}（{}年第{}件）",
                DESCRIPTIONS[i % DESCRIPTIONS.len()],
                year,
                i + 1
            ),
            purpose: "了解相关政策的执行情况".into(),
            delivery: DeliveryMethod::Online,
            postal_address: None,
            attachments: Vec::new(),
        };
        let receipt = intake::register(app, &mut tx, req, demo_phone(PHONES_FROM + p.n)?).await?;
        let officials = (&dispatcher, &handler);
        assign(app, &mut tx, officials, &receipt.id, handling.as_str()).await?;
        let conclusion = ConclusionInput {
            result: p.result.clone(),
            reply: "经审查，现将办理结果答复如下。".into(),
        };
        steps::perform(
            app,
            &mut tx,
            &handler,
            &receipt.id,
            Command::Conclude(conclusion),
        )
        .await?;
        backdate(
            app,
            &mut tx,
            &receipt.id,
            &p,
            format!("{code}-{year}-{:05}", i + 1),
        )
        .await?;
    }
    renumber(&mut tx, &unit_id, year, count).await?;
    tx.commit().await?;
    Ok(count)
}

/// Moves a case's dates back to when it was received (its number to last
/// year's), its events in order between receipt and conclusion.
async fn backdate(
    app: &AppState,
    tx: &mut crate::db::Tx,
    id: &CaseId,
    p: &Planned,
    case_no: String,
) -> ApiResult<()> {
    const CASE: &str = "UPDATE disclosure_cases SET case_no = $2, received_on = $3, due_on = $4, \
         due_provisional = $5, submitted_at = $6, created_at = $6, concluded_at = $7, updated_at = $7 WHERE id = $1";
    const ASSIGNMENTS: &str =
        "UPDATE disclosure_assignments SET created_at = $2, due_on = $3 WHERE case_id = $1";
    const WARNINGS: &str = "UPDATE warning_requests SET received_on = $2 WHERE case_id = $1";
    const EVENTS: &str = "SELECT id FROM disclosure_events WHERE case_id = $1 ORDER BY id";
    const EVENT: &str = "UPDATE disclosure_events SET occurred_at = $2 WHERE id = $1";
    let due = app
        .calendar()
        .add_working_days(p.received, crate::disclosure::REPLY_WORKING_DAYS);
    let (received, due_on) = (
        crate::calendar::ymd(p.received),
        crate::calendar::ymd(due.date),
    );
    let submitted = at(p.received, 9);
    on_tx!(tx, c => sqlx::query(CASE).bind(id).bind(case_no).bind(&received).bind(&due_on)
        .bind(due.provisional).bind(submitted).bind(p.concluded).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(ASSIGNMENTS).bind(id).bind(at(p.received, 10)).bind(&due_on)
        .execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(WARNINGS).bind(id).bind(&received).execute(c).await.map(|_| ()))?;
    let events: Vec<String> =
        on_tx!(tx, c => sqlx::query_scalar(EVENTS).bind(id).fetch_all(c).await)?;
    for (j, event) in events.iter().enumerate() {
        let when = if j + 1 == events.len() {
            p.concluded
        } else {
            submitted + Duration::hours(j as i64)
        };
        on_tx!(tx, c => sqlx::query(EVENT).bind(event).bind(when).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// The cases took this year's last `count` numbers and now carry last
/// year's first ones: both counters say so.
async fn renumber(tx: &mut crate::db::Tx, unit: &UnitId, year: i32, count: usize) -> ApiResult<()> {
    const THIS: &str =
        "UPDATE disclosure_case_counters SET last = last - $3 WHERE unit_id = $1 AND year = $2";
    const LAST: &str = "INSERT INTO disclosure_case_counters (unit_id, year, last) VALUES ($1, $2, $3) \
         ON CONFLICT (unit_id, year) DO NOTHING";
    let n = i64::try_from(count).map_err(|e| ApiError::Internal(e.into()))?;
    on_tx!(tx, c => sqlx::query(THIS).bind(unit).bind(year + 1).bind(n).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(LAST).bind(unit).bind(year).bind(n).execute(c).await.map(|_| ()))?;
    Ok(())
}
