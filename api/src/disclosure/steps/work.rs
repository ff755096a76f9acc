//! What each step does besides moving the flow's facts: the assignments it
//! opens or answers, the notice it issues, the people it tells. Each step
//! is one function; each answers a [`Changes`] that `record` stores.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use time::Date;

use super::inputs::*;
use super::{Command, Ctx};
use crate::authz::{Principal, Role, UserKey, load_principal_tx};
use crate::calendar::{chinese_date, deadline_label};
use crate::db::Tx;
use crate::disclosure::flow::Facts;
use crate::disclosure::intake::SealedApplicant;
use crate::disclosure::notices::{self, NoticeFacts, NoticeKind};
use crate::disclosure::result::CaseResult;
use crate::disclosure::{AssignmentKind, Identity, parse_ymd, ymd};
use crate::error::{ApiError, ApiResult};
use crate::ids::{AssignmentId, UnitId, UserId};
use crate::on_tx;
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::validate::{optional_text, text};

const MAX_PARTS: usize = 20;

/// What a step changed on the case besides the flow's facts; `None`
/// leaves the stored value as it is.
#[derive(Default)]
pub(super) struct Changes {
    pub handling_unit: Option<Option<UnitId>>,
    pub assignee: Option<Option<UserId>>,
    pub approver: Option<UserId>,
    pub result: Option<CaseResult>,
    /// The notice the step issued.
    pub notice: Option<notices::Issued>,
    /// The timeline event's detail.
    pub detail: Value,
}

impl Changes {
    fn detail(detail: Value) -> Self {
        Changes {
            detail,
            ..Changes::default()
        }
    }
}

/// Does what `cmd` does, inside `tx`.
pub(super) async fn carry_out(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    cmd: Command,
    facts: &Facts,
) -> ApiResult<Changes> {
    match cmd {
        Command::Assign(input) => assign(ctx, tx, input, facts).await,
        Command::Dispatch(input) => dispatch(ctx, tx, input, facts).await,
        Command::Reply(input) => reply(ctx, tx, input).await,
        Command::RequestCorrection(input) => request_correction(ctx, tx, input, facts).await,
        Command::Corrected(input) => Ok(Changes::detail(
            json!({ "note": note(input.note.as_deref())?, "received_on": ymd(facts.received_on) }),
        )),
        Command::Abandon(input) => abandon(ctx, tx, input).await,
        Command::StartConsultation(input) => start_consultation(ctx, tx, input, facts).await,
        Command::EndConsultation(input) => Ok(Changes::detail(
            json!({ "outcome": input.outcome.as_str(), "note": note(input.note.as_deref())? }),
        )),
        Command::Extend(input) => extend(ctx, tx, input, facts).await,
        Command::Conclude(input) => conclude(ctx, tx, input).await,
    }
}

const ASSIGN: &str = "INSERT INTO disclosure_assignments (id, case_id, kind, unit_id, assignee_id, note, due_on, \
     status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9)";

/// One assignment to open: a unit, maybe a person, until when.
struct Opening<'a> {
    id: &'a AssignmentId,
    kind: AssignmentKind,
    unit: &'a UnitId,
    assignee: Option<&'a UserId>,
    note: &'a str,
    due: Date,
}

async fn open_assignment(ctx: &Ctx<'_>, tx: &mut Tx, a: Opening<'_>) -> ApiResult<()> {
    let (case, by, now) = (&ctx.case.row.id, &ctx.p.user_id, ctx.now);
    on_tx!(tx, c => sqlx::query(ASSIGN).bind(a.id).bind(case).bind(a.kind).bind(a.unit)
        .bind(a.assignee).bind(a.note).bind(ymd(a.due)).bind(by).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

async fn assign(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    input: AssignInput,
    facts: &Facts,
) -> ApiResult<Changes> {
    const WITHDRAW: &str = "UPDATE disclosure_assignments SET status = 'withdrawn' \
         WHERE case_id = $1 AND kind = 'handling' AND status = 'open'";
    let note = note(input.note.as_deref())?;
    let due = internal_due(input.due_on.as_deref(), ctx.today, facts)?;
    let (unit_id, unit_name, path) = unit(tx, "unit_id", input.unit_id.trim()).await?;
    if !ctx.p.covers(&[Role::Dispatcher], &path) {
        return Err(ApiError::invalid("unit_id", "只能送本单位或下级单位办理"));
    }
    let assignee = match input.assignee_id.as_deref() {
        Some(user) => Some(handler_at(tx, user, &path).await?),
        None => None,
    };
    let case_id = &ctx.case.row.id;
    on_tx!(tx, c => sqlx::query(WITHDRAW).bind(case_id).execute(c).await.map(|_| ()))?;
    let id = AssignmentId::generate();
    let opening = Opening {
        id: &id,
        kind: AssignmentKind::Handling,
        unit: &unit_id,
        assignee: assignee.as_ref(),
        note: &note,
        due,
    };
    open_assignment(ctx, tx, opening).await?;
    let to = match &assignee {
        Some(user) => vec![user.clone()],
        None => handlers_of(tx, &unit_id).await?,
    };
    ctx.notify(tx, &to, due, &id).await?;
    Ok(Changes {
        handling_unit: Some(Some(unit_id)),
        assignee: Some(assignee),
        ..Changes::detail(json!({ "unit": unit_name, "note": note, "due_on": ymd(due) }))
    })
}

/// The user `id`, when they handle cases at `path`; else a 422.
async fn handler_at(tx: &mut Tx, id: &str, path: &str) -> ApiResult<UserId> {
    let who = load_principal_tx(tx, UserKey::Id(&UserId::new(id)))
        .await
        .map_err(|_| ApiError::invalid("assignee_id", "用户不存在或已停用"))?;
    if !who.covers(&[Role::Handler], path) {
        return Err(ApiError::invalid(
            "assignee_id",
            "该用户不是承办单位的经办人",
        ));
    }
    Ok(who.user_id)
}

async fn dispatch(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    input: DispatchInput,
    facts: &Facts,
) -> ApiResult<Changes> {
    let note = note(input.note.as_deref())?;
    let due = internal_due(input.due_on.as_deref(), ctx.today, facts)?;
    if input.unit_ids.is_empty() || input.unit_ids.len() > MAX_PARTS {
        return Err(ApiError::invalid("unit_ids", "须指定 1 至 20 个单位"));
    }
    let mut names = Vec::new();
    let mut seen = BTreeSet::new();
    // Monotonic ids keep the parts in the order they were named.
    let mut ids = ulid::Generator::new();
    for (i, raw) in input.unit_ids.iter().enumerate() {
        let field = format!("unit_ids[{i}]");
        let (unit_id, unit_name, path) = unit(tx, &field, raw.trim()).await?;
        if !seen.insert(unit_id.clone()) {
            return Err(ApiError::invalid(field, "单位重复"));
        }
        if !ctx.p.covers(&[Role::Dispatcher], &path) {
            return Err(ApiError::invalid(field, "只能分办给本单位或下级单位"));
        }
        let id = AssignmentId::from(ids.generate().map_err(anyhow::Error::from)?);
        let opening = Opening {
            id: &id,
            kind: AssignmentKind::Part,
            unit: &unit_id,
            assignee: None,
            note: &note,
            due,
        };
        open_assignment(ctx, tx, opening).await?;
        let to = handlers_of(tx, &unit_id).await?;
        ctx.notify(tx, &to, due, &id).await?;
        names.push(unit_name);
    }
    let row = &ctx.case.row;
    Ok(Changes {
        handling_unit: row
            .handling_unit_id
            .is_none()
            .then(|| Some(row.unit_id.clone())),
        ..Changes::detail(json!({ "units": names, "note": note, "due_on": ymd(due) }))
    })
}

async fn reply(ctx: &Ctx<'_>, tx: &mut Tx, input: ReplyInput) -> ApiResult<Changes> {
    const ANSWER: &str = "UPDATE disclosure_assignments SET status = 'answered', answer = $2, answered_by = $3, \
         answered_at = $4 WHERE id = $1 AND status = 'open'";
    let answer = text("answer", Some(&input.answer), 5000, true)?;
    let assignment = answered_part(&ctx.case.access.parts, input.assignment_id.as_deref())?;
    let (by, now) = (&ctx.p.user_id, ctx.now);
    on_tx!(tx, c => sqlx::query(ANSWER).bind(&assignment).bind(&answer).bind(by).bind(now)
        .execute(c).await.map(|_| ()))?;
    let unit = ctx
        .case
        .assignments
        .iter()
        .find(|a| a.id == assignment)
        .map(|a| a.unit_name.clone());
    Ok(Changes::detail(
        json!({ "unit": unit, "assignment_id": assignment }),
    ))
}

/// Which of the caller's open `parts` a reply answers: the one named, or
/// the only one.
fn answered_part(parts: &[AssignmentId], named: Option<&str>) -> ApiResult<AssignmentId> {
    match named {
        Some(a) => parts
            .iter()
            .find(|x| x.as_str() == a)
            .cloned()
            .ok_or_else(|| ApiError::invalid("assignment_id", "不是本单位待答复的分办事项")),
        None if parts.len() == 1 => Ok(parts[0].clone()),
        None => Err(ApiError::invalid(
            "assignment_id",
            "请指明答复哪一项分办事项",
        )),
    }
}

/// Changes of a step whose work is to issue one notice.
fn issued(notice: notices::Issued, mut detail: Value) -> Changes {
    detail["notice_id"] = json!(notice.id);
    Changes {
        notice: Some(notice),
        ..Changes::detail(detail)
    }
}

async fn request_correction(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    input: CorrectionInput,
    facts: &Facts,
) -> ApiResult<Changes> {
    let items = text("items", Some(&input.items), 2000, true)?;
    let args = NoticeArgs {
        deadline: facts.correction_due_on,
        text: &items,
        ..Default::default()
    };
    let notice = ctx.notice(tx, NoticeKind::Correction, args).await?;
    let detail = json!({ "correction_due_on": facts.correction_due_on.map(ymd) });
    Ok(issued(notice, detail))
}

async fn abandon(ctx: &Ctx<'_>, tx: &mut Tx, input: NoteInput) -> ApiResult<Changes> {
    let result = CaseResult::correction_overdue();
    let label = result.label()?;
    let args = NoticeArgs {
        text: "您未在补正期限内补正申请，视为放弃申请，本机关不再处理该政府信息公开申请。",
        result: label,
        ..Default::default()
    };
    let notice = ctx.notice(tx, NoticeKind::Conclusion, args).await?;
    let detail = json!({ "note": note(input.note.as_deref())?, "result": label });
    Ok(Changes {
        result: Some(result),
        ..issued(notice, detail)
    })
}

async fn start_consultation(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    input: ConsultationInput,
    facts: &Facts,
) -> ApiResult<Changes> {
    let party = text("third_party", Some(&input.third_party), 100, false)?;
    let matter = text("matter", Some(&input.matter), 2000, true)?;
    let args = NoticeArgs {
        addressee: Some(&party),
        deadline: facts.consultation_due_on,
        text: &matter,
        ..Default::default()
    };
    let notice = ctx.notice(tx, NoticeKind::Consultation, args).await?;
    let detail = json!({ "consultation_due_on": facts.consultation_due_on.map(ymd) });
    Ok(issued(notice, detail))
}

async fn extend(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    input: ExtensionInput,
    facts: &Facts,
) -> ApiResult<Changes> {
    let reason = text("reason", Some(&input.reason), 500, true)?;
    let approver = extension_approver(ctx, tx, input.approver_id.trim()).await?;
    let args = NoticeArgs {
        deadline: facts.due_on,
        text: &reason,
        days: input.working_days,
        ..Default::default()
    };
    let notice = ctx.notice(tx, NoticeKind::Extension, args).await?;
    let detail = json!({ "working_days": input.working_days, "approver": approver.display_name });
    Ok(Changes {
        approver: Some(approver.user_id),
        ..issued(notice, detail)
    })
}

/// The head of the receiving unit's disclosure office named as approving
/// an extension: a dispatcher or unit administrator there (art. 33).
async fn extension_approver(ctx: &Ctx<'_>, tx: &mut Tx, id: &str) -> ApiResult<Principal> {
    let approver = load_principal_tx(tx, UserKey::Id(&UserId::new(id)))
        .await
        .map_err(|_| ApiError::invalid("approver_id", "用户不存在或已停用"))?;
    let roles = [Role::Dispatcher, Role::UnitAdmin];
    if !approver.covers(&roles, &ctx.case.row.unit_path) {
        return Err(ApiError::invalid(
            "approver_id",
            "须由受理机关政府信息公开工作机构负责人（分办人或单位管理员）批准",
        ));
    }
    Ok(approver)
}

async fn conclude(ctx: &Ctx<'_>, tx: &mut Tx, input: ConclusionInput) -> ApiResult<Changes> {
    let label = input.result.label()?;
    let reply = text("reply", Some(&input.reply), 5000, true)?;
    let args = NoticeArgs {
        text: &reply,
        result: label,
        ..Default::default()
    };
    let notice = ctx.notice(tx, NoticeKind::Conclusion, args).await?;
    Ok(Changes {
        result: Some(input.result),
        ..issued(notice, json!({ "result": label }))
    })
}

fn note(value: Option<&str>) -> ApiResult<String> {
    Ok(optional_text("note", value, 500)?.unwrap_or_default())
}

/// A unit by id, with its name and path, or a 422 naming `field`.
async fn unit(tx: &mut Tx, field: &str, id: &str) -> ApiResult<(UnitId, String, String)> {
    const SQL: &str = "SELECT id, name, path FROM org_units WHERE id = $1";
    let row: Option<(UnitId, String, String)> =
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
async fn handlers_of(tx: &mut Tx, unit_id: &UnitId) -> ApiResult<Vec<UserId>> {
    const SQL: &str = "SELECT DISTINCT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.unit_id = $1 AND ra.role = 'handler' AND u.status = 'active' ORDER BY ra.user_id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(unit_id).fetch_all(c).await)?)
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

impl Ctx<'_> {
    /// Tells `users` of work on this case due on `due`, once per user for
    /// the assignment `key`.
    async fn notify(
        &self,
        tx: &mut Tx,
        users: &[UserId],
        due: Date,
        key: &AssignmentId,
    ) -> ApiResult<()> {
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
                    ("case_id", case.id.as_str()),
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
        let r = &self.case.row;
        let applicant = match n.addressee {
            Some(a) => a.to_owned(),
            None => applicant_name(self.app, &r.applicant_sealed)?,
        };
        // Dates the way an official document writes them; a deadline that
        // reaches a year not yet published says it is an estimate.
        let calendar = self.app.calendar();
        let deadline = n
            .deadline
            .map(|d| deadline_label(d, calendar.provisional_between(self.today, d)));
        let facts = NoticeFacts {
            addressee: &applicant,
            case_no: &r.case_no,
            received_on: &parse_ymd(&r.received_on)
                .map_or_else(|| r.received_on.clone(), chinese_date),
            description: &r.description,
            agency: &r.unit_name,
            deadline: &deadline.unwrap_or_default(),
            text: n.text,
            days: n.days,
            result: n.result,
            issued_on: &chinese_date(self.today),
        };
        let body = notices::render(kind, &facts);
        notices::issue(self.app, tx, &r.id, kind, &body, self.p.user()).await
    }
}

fn applicant_name(app: &AppState, sealed: &[u8]) -> ApiResult<String> {
    Ok(match SealedApplicant::open(app, sealed)?.identity {
        Identity::Citizen { name, .. } | Identity::Company { name, .. } => name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_answers_the_named_part_or_the_only_one() {
        let (a, b) = (AssignmentId::new("A"), AssignmentId::new("B"));
        assert_eq!(answered_part(std::slice::from_ref(&a), None).unwrap(), a);
        assert_eq!(
            answered_part(&[a.clone(), b.clone()], Some("B")).unwrap(),
            b
        );
        assert!(answered_part(&[a.clone(), b], None).is_err());
        assert!(answered_part(&[a], Some("C")).is_err());
    }
}
