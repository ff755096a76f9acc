//! Taking a step on a case: the request's input checked, the caller's right
//! to the step checked (403 when they see the case but may not act, 404 when
//! they may not see it), the flow's rule checked (409), and then, in one
//! transaction, the case updated, the assignment or notice stored, the
//! timeline extended, the assignees notified and the step audited.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;
use utoipa::ToSchema;

use super::case::{LoadedCase, covers, reload, remaining};
use super::flow::{self, Facts, Step};
use super::intake::SealedApplicant;
use super::notices::{self, NoticeFacts, NoticeKind};
use super::result::CaseResult;
use super::{AssignmentKind, Identity, parse_ymd, ymd};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::authz::{Principal, Role};
use crate::calendar::shanghai_date;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::on_tx;
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::validate::{optional_text, text};

/// How long the applicant has to correct, in working days.
pub const CORRECTION_DAYS: u32 = 15;
const MAX_PARTS: usize = 20;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The unit that handles the case (the receiving unit or one below).
    pub unit_id: String,
    /// A handler of that unit, when one person is to handle it.
    pub assignee_id: Option<String>,
    pub note: Option<String>,
    /// Internal due date (YYYY-MM-DD), by the statutory deadline at the
    /// latest; default: the statutory deadline.
    pub due_on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchInput {
    /// The units asked for their part (1–20, distinct).
    pub unit_ids: Vec<String>,
    pub note: Option<String>,
    pub due_on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// Which part, when the caller's units hold several.
    pub assignment_id: Option<String>,
    pub answer: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionInput {
    /// What the applicant must change or add.
    pub items: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationInput {
    /// Who is consulted (a person or an organisation).
    pub third_party: String,
    /// The matter they are asked about.
    pub matter: String,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationOutcome {
    Agreed,
    Objected,
    NoAnswer,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationEndInput {
    pub outcome: ConsultationOutcome,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// 1–20.
    pub working_days: u32,
    pub reason: String,
    /// The head of the disclosure office who approved: a dispatcher or unit
    /// administrator of the receiving unit.
    pub approver_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConclusionInput {
    pub result: CaseResult,
    /// The reply's text to the applicant.
    pub reply: String,
}

/// A step with its input.
pub enum Command {
    Assign(AssignInput),
    Dispatch(DispatchInput),
    Reply(ReplyInput),
    RequestCorrection(CorrectionInput),
    Corrected(NoteInput),
    Abandon(NoteInput),
    StartConsultation(ConsultationInput),
    EndConsultation(ConsultationEndInput),
    Extend(ExtensionInput),
    Conclude(ConclusionInput),
}

impl Command {
    pub fn step(&self) -> Step {
        match self {
            Command::Assign(_) => Step::Assign,
            Command::Dispatch(_) => Step::Dispatch,
            Command::Reply(_) => Step::Reply,
            Command::RequestCorrection(_) => Step::RequestCorrection,
            Command::Corrected(_) => Step::Corrected,
            Command::Abandon(_) => Step::Abandon,
            Command::StartConsultation(_) => Step::StartConsultation,
            Command::EndConsultation(_) => Step::EndConsultation,
            Command::Extend(_) => Step::Extend,
            Command::Conclude(_) => Step::Conclude,
        }
    }
}

fn note(value: Option<&str>) -> ApiResult<String> {
    Ok(optional_text("note", value, 500)?.unwrap_or_default())
}

/// A unit by id, with its path, or a 422 naming `field`.
async fn unit(tx: &mut Tx, field: &str, id: &str) -> ApiResult<(String, String, String)> {
    const SQL: &str = "SELECT id, name, path FROM org_units WHERE id = $1";
    let row: Option<(String, String, String)> =
        on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.ok_or_else(|| ApiError::invalid(field, "单位不存在"))
}

/// An internal due date: today at the earliest, the statutory deadline at
/// the latest; default the deadline.
fn internal_due(input: Option<&str>, today: Date, facts: &Facts) -> ApiResult<Date> {
    let deadline = facts.due_on.unwrap_or(today);
    let Some(raw) = input else {
        return Ok(deadline);
    };
    let due = parse_ymd(raw).ok_or_else(|| ApiError::invalid("due_on", "日期格式为 YYYY-MM-DD"))?;
    if due < today || due > deadline {
        return Err(ApiError::invalid(
            "due_on",
            format!("须在今天到答复期限（{}）之间", ymd(deadline)),
        ));
    }
    Ok(due)
}

/// Users who should hear about work for `unit_id`: its handlers.
async fn handlers_of(tx: &mut Tx, unit_id: &str) -> ApiResult<Vec<String>> {
    const SQL: &str = "SELECT DISTINCT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.unit_id = $1 AND ra.role = 'handler' AND u.status = 'active' ORDER BY ra.user_id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(unit_id).fetch_all(c).await)?)
}

struct Ctx<'a> {
    app: &'a AppState,
    p: &'a Principal,
    case: &'a LoadedCase,
    today: Date,
}

impl Ctx<'_> {
    async fn notify(&self, tx: &mut Tx, users: &[String], due: Date, key: &str) -> ApiResult<()> {
        let due = ymd(due);
        let case = &self.case.row;
        for user in users {
            let group = format!("{key}:{user}");
            let n = Notification {
                kind: "case_assigned",
                user_id: user,
                params: &[
                    ("case_no", &case.case_no),
                    ("due_date", &due),
                    ("case_id", &case.id),
                ],
                idempotency_key: Some(&group),
                ttl: Duration::from_secs(86_400),
            };
            notify_user(tx, &self.app.pii, &self.app.config.notify, n).await?;
        }
        Ok(())
    }

    /// A notice for this case, filled from it.
    async fn notice(
        &self,
        tx: &mut Tx,
        kind: NoticeKind,
        n: NoticeArgs<'_>,
    ) -> ApiResult<notices::Issued> {
        let NoticeArgs {
            addressee,
            deadline,
            text,
            days,
            result,
        } = n;
        let r = &self.case.row;
        let applicant = match addressee {
            Some(a) => a.to_owned(),
            None => applicant_name(self.app, &r.applicant_sealed)?,
        };
        let facts = NoticeFacts {
            addressee: &applicant,
            case_no: &r.case_no,
            received_on: &r.received_on,
            description: &r.description,
            agency: &r.unit_name,
            deadline: &deadline.map(ymd).unwrap_or_default(),
            text,
            days,
            result,
            issued_on: &ymd(self.today),
        };
        let body = notices::render(kind, &facts);
        let by = Some(self.p.user_id.as_str()).filter(|u| !u.is_empty());
        notices::issue(self.app, tx, &r.id, kind, &body, by).await
    }
}

/// What a step puts into its notice.
#[derive(Default)]
struct NoticeArgs<'a> {
    /// Default: the applicant.
    addressee: Option<&'a str>,
    deadline: Option<Date>,
    text: &'a str,
    days: u32,
    result: &'a str,
}

fn applicant_name(app: &AppState, sealed: &[u8]) -> ApiResult<String> {
    Ok(match SealedApplicant::open(app, sealed)?.identity {
        Identity::Citizen { name, .. } | Identity::Company { name, .. } => name,
    })
}

/// What a step changed besides the flow's facts.
#[derive(Default)]
struct Extra {
    handling_unit: Option<Option<String>>,
    assignee: Option<Option<String>>,
    approver: Option<String>,
    result: Option<CaseResult>,
    /// The notice the step issued.
    notice: Option<notices::Issued>,
    detail: Value,
}

/// Checks the caller may take `step` on the case they can see.
fn authorise(case: &LoadedCase, step: Step) -> ApiResult<()> {
    let a = &case.access;
    let ok = match step {
        Step::Assign | Step::Dispatch => a.dispatcher,
        Step::Reply => !a.parts.is_empty(),
        _ => a.dispatcher || a.handler,
    };
    if ok { Ok(()) } else { Err(ApiError::Forbidden) }
}

/// The answer to a step: where the case stands now.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct StepDone {
    pub case_id: String,
    pub step: Step,
    pub status: super::CaseStatus,
    pub status_label: String,
    /// Absent while the clock is stopped for a correction.
    pub due_on: Option<String>,
    /// Absent while the clock is stopped or paused.
    pub remaining_working_days: Option<i64>,
}

/// Takes `cmd` on case `id` inside `tx`.
pub async fn perform(
    app: &AppState,
    tx: &mut Tx,
    p: &Principal,
    id: &str,
    cmd: Command,
) -> ApiResult<StepDone> {
    let case = reload(tx, p, id).await?;
    // A refusal is audited by the caller, after this transaction is gone.
    authorise(&case, cmd.step())?;
    execute(app, tx, p, &case, cmd).await
}

/// The acting "person" of steps the system takes itself.
fn system() -> Principal {
    Principal {
        session: None,
        user_id: String::new(),
        login_name: "system:deadline-watch".into(),
        display_name: "系统（期限监控）".into(),
        unit_id: None,
        unit_name: None,
        grants: Vec::new(),
    }
}

/// Closes a case whose correction deadline passed without a correction
/// (art. 30: the request counts as abandoned), as the system, inside `tx`.
/// Answers false, changing nothing, when the case is not such a case.
pub async fn close_abandoned(app: &AppState, tx: &mut Tx, id: &str) -> ApiResult<bool> {
    let case = super::case::reload_unscoped(tx, id).await?;
    let today = shanghai_date(crate::clock::now());
    let facts = case.row.facts()?;
    let overdue = facts.status == super::CaseStatus::Correction
        && facts.correction_due_on.is_some_and(|d| d < today);
    if !overdue {
        return Ok(false);
    }
    let cmd = Command::Abandon(NoteInput { note: None });
    execute(app, tx, &system(), &case, cmd).await?;
    Ok(true)
}

/// Takes `cmd` on a case the caller may act on.
async fn execute(
    app: &AppState,
    tx: &mut Tx,
    p: &Principal,
    case: &LoadedCase,
    cmd: Command,
) -> ApiResult<StepDone> {
    let step = cmd.step();
    let today = shanghai_date(crate::clock::now());
    let mut facts = case.row.facts()?;
    let extension = match &cmd {
        Command::Extend(e) => e.working_days,
        _ => 0,
    };
    flow::apply(
        &app.calendar,
        &mut facts,
        step,
        today,
        CORRECTION_DAYS,
        extension,
    )?;
    let ctx = Ctx {
        app,
        p,
        case,
        today,
    };
    let extra = side_effects(&ctx, tx, cmd, &facts).await?;
    store(&ctx, tx, step, &facts, extra).await?;
    Ok(StepDone {
        case_id: case.row.id.clone(),
        step,
        status: facts.status,
        status_label: facts.status.label_zh().to_owned(),
        due_on: facts.due_on.map(ymd),
        remaining_working_days: remaining(app, &facts, today),
    })
}

async fn side_effects(ctx: &Ctx<'_>, tx: &mut Tx, cmd: Command, facts: &Facts) -> ApiResult<Extra> {
    const WITHDRAW: &str = "UPDATE disclosure_assignments SET status = 'withdrawn' \
         WHERE case_id = $1 AND kind = 'handling' AND status = 'open'";
    const ASSIGN: &str = "INSERT INTO disclosure_assignments (id, case_id, kind, unit_id, assignee_id, note, due_on, \
         status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9)";
    const ANSWER: &str = "UPDATE disclosure_assignments SET status = 'answered', answer = $2, answered_by = $3, \
         answered_at = $4 WHERE id = $1 AND status = 'open'";
    let (p, today) = (ctx.p, ctx.today);
    let case_id = ctx.case.row.id.as_str();
    let now = crate::clock::now();
    let mut extra = Extra::default();
    match cmd {
        Command::Assign(input) => {
            let note = note(input.note.as_deref())?;
            let due = internal_due(input.due_on.as_deref(), today, facts)?;
            let (unit_id, unit_name, path) = unit(tx, "unit_id", input.unit_id.trim()).await?;
            if !covers(p, &[Role::Dispatcher], &path) {
                return Err(ApiError::invalid("unit_id", "只能送本单位或下级单位办理"));
            }
            let assignee = match input.assignee_id.as_deref() {
                Some(user) => {
                    let who = crate::authz::load_principal_tx(tx, crate::authz::UserKey::Id(user))
                        .await
                        .map_err(|_| ApiError::invalid("assignee_id", "用户不存在或已停用"))?;
                    if !covers(&who, &[Role::Handler], &path) {
                        return Err(ApiError::invalid(
                            "assignee_id",
                            "该用户不是承办单位的经办人",
                        ));
                    }
                    Some(who.user_id)
                }
                None => None,
            };
            on_tx!(tx, c => sqlx::query(WITHDRAW).bind(case_id).execute(c).await.map(|_| ()))?;
            let assignment = ulid::Ulid::new().to_string();
            on_tx!(tx, c => sqlx::query(ASSIGN).bind(&assignment).bind(case_id).bind(AssignmentKind::Handling).bind(&unit_id)
                .bind(&assignee).bind(&note).bind(ymd(due)).bind(&p.user_id).bind(now).execute(c).await.map(|_| ()))?;
            let to = match &assignee {
                Some(user) => vec![user.clone()],
                None => handlers_of(tx, &unit_id).await?,
            };
            ctx.notify(tx, &to, due, &assignment).await?;
            extra.detail = json!({ "unit": unit_name, "note": note, "due_on": ymd(due) });
            extra.handling_unit = Some(Some(unit_id));
            extra.assignee = Some(assignee);
        }
        Command::Dispatch(input) => {
            let note = note(input.note.as_deref())?;
            let due = internal_due(input.due_on.as_deref(), today, facts)?;
            if input.unit_ids.is_empty() || input.unit_ids.len() > MAX_PARTS {
                return Err(ApiError::invalid("unit_ids", "须指定 1 至 20 个单位"));
            }
            let mut names = Vec::new();
            let mut seen = std::collections::BTreeSet::new();
            // Monotonic ids keep the parts in the order they were named.
            let mut ids = ulid::Generator::new();
            for (i, raw) in input.unit_ids.iter().enumerate() {
                let field = format!("unit_ids[{i}]");
                let (unit_id, unit_name, path) = unit(tx, &field, raw.trim()).await?;
                if !seen.insert(unit_id.clone()) {
                    return Err(ApiError::invalid(field, "单位重复"));
                }
                if !covers(p, &[Role::Dispatcher], &path) {
                    return Err(ApiError::invalid(field, "只能分办给本单位或下级单位"));
                }
                let assignment = ids.generate().map_err(anyhow::Error::from)?.to_string();
                on_tx!(tx, c => sqlx::query(ASSIGN).bind(&assignment).bind(case_id).bind(AssignmentKind::Part).bind(&unit_id)
                    .bind(None::<String>).bind(&note).bind(ymd(due)).bind(&p.user_id).bind(now)
                    .execute(c).await.map(|_| ()))?;
                let to = handlers_of(tx, &unit_id).await?;
                ctx.notify(tx, &to, due, &assignment).await?;
                names.push(unit_name);
            }
            if ctx.case.row.handling_unit_id.is_none() {
                extra.handling_unit = Some(Some(ctx.case.row.unit_id.clone()));
            }
            extra.detail = json!({ "units": names, "note": note, "due_on": ymd(due) });
        }
        Command::Reply(input) => {
            let answer = text("answer", Some(&input.answer), 5000, true)?;
            let parts = &ctx.case.access.parts;
            let assignment = match input.assignment_id.as_deref() {
                Some(a) if parts.iter().any(|x| x == a) => a.to_owned(),
                Some(_) => {
                    return Err(ApiError::invalid(
                        "assignment_id",
                        "不是本单位待答复的分办事项",
                    ));
                }
                None if parts.len() == 1 => parts[0].clone(),
                None => {
                    return Err(ApiError::invalid(
                        "assignment_id",
                        "请指明答复哪一项分办事项",
                    ));
                }
            };
            on_tx!(tx, c => sqlx::query(ANSWER).bind(&assignment).bind(&answer).bind(&p.user_id).bind(now)
                .execute(c).await.map(|_| ()))?;
            let unit = ctx
                .case
                .assignments
                .iter()
                .find(|a| a.id == assignment)
                .map(|a| a.unit_name.clone());
            extra.detail = json!({ "unit": unit, "assignment_id": assignment });
        }
        Command::RequestCorrection(input) => {
            let items = text("items", Some(&input.items), 2000, true)?;
            let notice = ctx
                .notice(
                    tx,
                    NoticeKind::Correction,
                    NoticeArgs {
                        deadline: facts.correction_due_on,
                        text: &items,
                        ..Default::default()
                    },
                )
                .await?;
            extra.detail = json!({ "correction_due_on": facts.correction_due_on.map(ymd), "notice_id": notice.id });
            extra.notice = Some(notice);
        }
        Command::Corrected(input) => {
            extra.detail = json!({ "note": note(input.note.as_deref())?, "received_on": ymd(facts.received_on) });
        }
        Command::Abandon(input) => {
            let result = CaseResult::correction_overdue();
            let label = result.label()?;
            let text = "您未在补正期限内补正申请，视为放弃申请，本机关不再处理该政府信息公开申请。";
            let notice = ctx
                .notice(
                    tx,
                    NoticeKind::Conclusion,
                    NoticeArgs {
                        text,
                        result: label,
                        ..Default::default()
                    },
                )
                .await?;
            extra.detail = json!({ "note": note(input.note.as_deref())?, "result": label, "notice_id": notice.id });
            extra.notice = Some(notice);
            extra.result = Some(result);
        }
        Command::StartConsultation(input) => {
            let party = text("third_party", Some(&input.third_party), 100, false)?;
            let matter = text("matter", Some(&input.matter), 2000, true)?;
            let notice = ctx
                .notice(
                    tx,
                    NoticeKind::Consultation,
                    NoticeArgs {
                        addressee: Some(&party),
                        deadline: facts.consultation_due_on,
                        text: &matter,
                        ..Default::default()
                    },
                )
                .await?;
            extra.detail = json!({ "consultation_due_on": facts.consultation_due_on.map(ymd), "notice_id": notice.id });
            extra.notice = Some(notice);
        }
        Command::EndConsultation(input) => {
            let outcome = match input.outcome {
                ConsultationOutcome::Agreed => "agreed",
                ConsultationOutcome::Objected => "objected",
                ConsultationOutcome::NoAnswer => "no_answer",
            };
            extra.detail = json!({ "outcome": outcome, "note": note(input.note.as_deref())? });
        }
        Command::Extend(input) => {
            let reason = text("reason", Some(&input.reason), 500, true)?;
            let approver = crate::authz::load_principal_tx(
                tx,
                crate::authz::UserKey::Id(input.approver_id.trim()),
            )
            .await
            .map_err(|_| ApiError::invalid("approver_id", "用户不存在或已停用"))?;
            if !covers(
                &approver,
                &[Role::Dispatcher, Role::UnitAdmin],
                &ctx.case.row.unit_path,
            ) {
                return Err(ApiError::invalid(
                    "approver_id",
                    "须由受理机关政府信息公开工作机构负责人（分办人或单位管理员）批准",
                ));
            }
            let notice = ctx
                .notice(
                    tx,
                    NoticeKind::Extension,
                    NoticeArgs {
                        deadline: facts.due_on,
                        text: &reason,
                        days: input.working_days,
                        ..Default::default()
                    },
                )
                .await?;
            extra.detail = json!({ "working_days": input.working_days, "approver": approver.display_name, "notice_id": notice.id });
            extra.notice = Some(notice);
            extra.approver = Some(approver.user_id);
        }
        Command::Conclude(input) => {
            let label = input.result.label()?;
            let reply = text("reply", Some(&input.reply), 5000, true)?;
            let notice = ctx
                .notice(
                    tx,
                    NoticeKind::Conclusion,
                    NoticeArgs {
                        text: &reply,
                        result: label,
                        ..Default::default()
                    },
                )
                .await?;
            extra.detail = json!({ "result": label, "notice_id": notice.id });
            extra.notice = Some(notice);
            extra.result = Some(input.result);
        }
    }
    Ok(extra)
}

/// Pushes a public step to the applicant's page, with the notice it issued
/// when that notice is addressed to the applicant.
async fn milestone(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    step: Step,
    f: &Facts,
    event_id: &str,
    notice: Option<&notices::Issued>,
    now: time::OffsetDateTime,
) -> ApiResult<()> {
    let r = &ctx.case.row;
    // Only notices addressed to the applicant go to their page.
    let notice = notice.filter(|n| n.kind.to_applicant());
    let m = super::two_pages::Milestone {
        event_id,
        case_id: &r.id,
        case_no: &r.case_no,
        agency: &r.unit_name,
        applicant_kind: r.applicant_kind,
        onenet_uid_sealed: r.onenet_uid_sealed.as_deref(),
        milestone: step.as_str(),
        label: step.label_zh(),
        status: f.status,
        occurred_at: now,
        due_on: f.due_on.map(ymd),
        notice: notice.map(|n| (n.id.as_str(), n.kind.title(), n.sm3.as_str())),
    };
    super::two_pages::push(ctx.app, tx, m).await
}

async fn store(ctx: &Ctx<'_>, tx: &mut Tx, step: Step, f: &Facts, extra: Extra) -> ApiResult<()> {
    const UPDATE: &str = "UPDATE disclosure_cases SET status = $3, received_on = $4, due_on = $5, extended_days = $6, \
         corrections = $7, correction_due_on = $8, paused_on = $9, consultation_due_on = $10, \
         handling_unit_id = $11, assignee_id = $12, extension_approver_id = COALESCE($13, extension_approver_id), \
         result_category = $14, result_reason = $15, concluded_at = $16, updated_at = $17, version = version + 1 \
         WHERE id = $1 AND version = $2";
    const EVENT: &str = "INSERT INTO disclosure_events (id, case_id, kind, actor_label, occurred_at, detail, public) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let r = &ctx.case.row;
    let now = crate::clock::now();
    let handling = extra
        .handling_unit
        .unwrap_or_else(|| r.handling_unit_id.clone());
    let assignee = extra.assignee.unwrap_or_else(|| r.assignee_id.clone());
    let (category, reason) = match &extra.result {
        Some(res) => (Some(res.category.clone()), res.reason.clone()),
        None => (r.result_category.clone(), r.result_reason.clone()),
    };
    let concluded = (f.status == super::CaseStatus::Concluded).then_some(now);
    // The stored due date survives a correction's stop, for the record.
    let due = f.due_on.map_or_else(|| r.due_on.clone(), ymd);
    let changed = on_tx!(tx, c => sqlx::query(UPDATE).bind(&r.id).bind(r.version)
        .bind(f.status).bind(ymd(f.received_on)).bind(&due).bind(f.extended_days).bind(f.corrections)
        .bind(f.correction_due_on.map(ymd)).bind(f.paused_on.map(ymd)).bind(f.consultation_due_on.map(ymd))
        .bind(&handling).bind(&assignee).bind(&extra.approver).bind(&category).bind(&reason).bind(concluded).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if changed != 1 {
        return Err(ApiError::Conflict {
            code: "case_changed",
            detail: "案件已被他人同时处理，请刷新后重试".into(),
        });
    }
    // Milestones the applicant sees; assignments and parts are internal.
    let public = !matches!(step, Step::Assign | Step::Dispatch | Step::Reply);
    let mut detail = extra.detail;
    detail["remaining_working_days"] = json!(remaining(ctx.app, f, ctx.today));
    detail["due_on"] = json!(f.due_on.map(ymd));
    let (actor, detail) = if public {
        // The applicant sees the agency act, and no internal note.
        if let Some(o) = detail.as_object_mut() {
            o.remove("note");
        }
        (r.unit_name.clone(), detail)
    } else {
        (ctx.p.display_name.clone(), detail)
    };
    let event_id = ulid::Ulid::new().to_string();
    on_tx!(tx, c => sqlx::query(EVENT).bind(&event_id).bind(&r.id).bind(step)
        .bind(&actor).bind(now).bind(detail.to_string()).bind(public).execute(c).await.map(|_| ()))?;
    if public {
        milestone(ctx, tx, step, f, &event_id, extra.notice.as_ref(), now).await?;
    }
    let entry = Entry {
        actor: if ctx.p.user_id.is_empty() {
            Actor::system(&ctx.p.login_name)
        } else {
            Actor::from(ctx.p)
        },
        action: "disclosure.case.step",
        target_type: Some("disclosure_case"),
        target_id: Some(r.id.clone()),
        outcome: Outcome::Success,
        detail: json!({ "step": step.as_str(), "status": f.status.as_str() }),
    };
    audit::append(tx, ctx.app.audit_key(), entry).await?;
    Ok(())
}
