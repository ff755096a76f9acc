//! One case as officials work on it: loaded with its assignments, checked
//! against the caller's roles (who may see it, who may take which step),
//! and shown as one screen's worth.

use serde::Serialize;
use sqlx::FromRow;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use super::flow::{Facts, Step, allowed_from};
use super::my_requests::{ApplicantShown, shown};
use super::notices::{NoticeKind, NoticeSealStatus};
use super::{
    Agency, ApplicantKind, AssignmentKind, AssignmentStatus, CaseChannel, CaseStatus,
    DeliveryMethod, IdentitySource, TimelineEvent, parse_ymd, ymd,
};
use crate::authz::{Principal, Role};
use crate::calendar::shanghai_date;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::{AssignmentId, CaseId, NoticeId, UnitId, UserId};
use crate::state::AppState;
use crate::{on_db, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct CaseRow {
    pub id: CaseId,
    pub case_no: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub unit_path: String,
    pub status: CaseStatus,
    pub identity_source: IdentitySource,
    pub applicant_kind: ApplicantKind,
    pub applicant_sealed: Vec<u8>,
    pub onenet_uid_sealed: Option<Vec<u8>>,
    pub description: String,
    pub purpose: String,
    pub delivery_method: DeliveryMethod,
    pub channel: CaseChannel,
    pub submitted_at: OffsetDateTime,
    pub received_on: String,
    pub due_on: String,
    pub due_provisional: bool,
    pub handling_unit_id: Option<UnitId>,
    pub handling_unit_name: Option<String>,
    pub handling_unit_path: Option<String>,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub extended_days: i32,
    pub corrections: i32,
    pub correction_due_on: Option<String>,
    pub paused_on: Option<String>,
    pub consultation_due_on: Option<String>,
    pub result_category: Option<String>,
    pub result_reason: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct AssignmentRow {
    pub id: AssignmentId,
    pub kind: AssignmentKind,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub unit_path: String,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub note: String,
    pub due_on: String,
    pub status: AssignmentStatus,
    pub answer: Option<String>,
    pub answered_at: Option<OffsetDateTime>,
}

const SELECT_CASE: &str = "SELECT c.id, c.case_no, c.unit_id, u.name AS unit_name, u.path AS unit_path, c.status, \
     c.identity_source, c.applicant_kind, c.applicant_sealed, c.onenet_uid_sealed, c.description, c.purpose, c.delivery_method, c.channel, c.submitted_at, \
     c.received_on, c.due_on, c.due_provisional, c.handling_unit_id, hu.name AS handling_unit_name, \
     hu.path AS handling_unit_path, c.assignee_id, au.display_name AS assignee_name, c.extended_days, c.corrections, \
     c.correction_due_on, c.paused_on, c.consultation_due_on, c.result_category, c.result_reason, c.version \
     FROM disclosure_cases c JOIN org_units u ON u.id = c.unit_id \
     LEFT JOIN org_units hu ON hu.id = c.handling_unit_id LEFT JOIN users au ON au.id = c.assignee_id \
     WHERE c.id = $1";

const SELECT_ASSIGNMENTS: &str = "SELECT a.id, a.kind, a.unit_id, u.name AS unit_name, u.path AS unit_path, \
     a.assignee_id, us.display_name AS assignee_name, a.note, a.due_on, a.status, a.answer, a.answered_at \
     FROM disclosure_assignments a JOIN org_units u ON u.id = a.unit_id LEFT JOIN users us ON us.id = a.assignee_id \
     WHERE a.case_id = $1 ORDER BY a.id";

/// A case with what the caller may do on it.
pub struct LoadedCase {
    pub row: CaseRow,
    pub assignments: Vec<AssignmentRow>,
    pub access: Access,
}

/// What the caller's roles allow on one case.
#[derive(Debug, Default)]
pub struct Access {
    /// A dispatcher of the receiving unit (or above).
    pub dispatcher: bool,
    /// A handler of the handling unit (or above), or the named assignee.
    pub handler: bool,
    /// Open part assignments of units the caller handles.
    pub parts: Vec<AssignmentId>,
    /// A handler of a unit the case was assigned or dispatched to (the
    /// same rule as `case_visible_sql!`).
    pub involved: bool,
}

impl Access {
    pub fn sees(&self) -> bool {
        self.dispatcher || self.handler || self.involved
    }
}

/// True when `p` holds one of `roles` at `path` or above.
pub fn covers(p: &Principal, roles: &[Role], path: &str) -> bool {
    p.covers(roles, path)
}

impl CaseRow {
    pub fn facts(&self) -> ApiResult<Facts> {
        let date = |s: &str| {
            parse_ymd(s).ok_or_else(|| anyhow::anyhow!("bad date {s} on case {}", self.id))
        };
        let opt = |s: &Option<String>| s.as_deref().map(date).transpose();
        let status = self.status;
        Ok(Facts {
            status,
            received_on: date(&self.received_on)?,
            due_on: if status == CaseStatus::Correction {
                None
            } else {
                Some(date(&self.due_on)?)
            },
            extended_days: self.extended_days,
            corrections: self.corrections,
            correction_due_on: opt(&self.correction_due_on)?,
            paused_on: opt(&self.paused_on)?,
            consultation_due_on: opt(&self.consultation_due_on)?,
        })
    }
}

fn access(p: &Principal, row: &CaseRow, assignments: &[AssignmentRow]) -> Access {
    let handling_path = row.handling_unit_path.as_deref().unwrap_or(&row.unit_path);
    let mine = |a: &AssignmentRow| {
        covers(p, &[Role::Handler], &a.unit_path) || a.assignee_id.as_ref() == Some(&p.user_id)
    };
    Access {
        involved: assignments
            .iter()
            .any(|a| a.status != AssignmentStatus::Withdrawn && mine(a)),
        dispatcher: covers(p, &[Role::Dispatcher], &row.unit_path),
        handler: covers(p, &[Role::Handler], handling_path)
            || row.assignee_id.as_ref() == Some(&p.user_id),
        parts: assignments
            .iter()
            .filter(|a| a.kind == AssignmentKind::Part && a.status == AssignmentStatus::Open)
            .filter(|a| mine(a))
            .map(|a| a.id.clone())
            .collect(),
    }
}

/// The case as `p` may have it: 404 when they may not see it.
fn for_principal(
    p: &Principal,
    row: Option<CaseRow>,
    assignments: Vec<AssignmentRow>,
) -> ApiResult<LoadedCase> {
    let row = row.ok_or(ApiError::NotFound)?;
    let access = access(p, &row, &assignments);
    if !access.sees() {
        return Err(ApiError::NotFound);
    }
    Ok(LoadedCase {
        row,
        assignments,
        access,
    })
}

/// Loads a case for `p`; a case they may not see answers 404.
pub async fn load(app: &AppState, p: &Principal, id: &CaseId) -> ApiResult<LoadedCase> {
    let row: Option<CaseRow> =
        on_db!(&app.db, c => sqlx::query_as(SELECT_CASE).bind(id).fetch_optional(c).await)?;
    let assignments: Vec<AssignmentRow> =
        on_db!(&app.db, c => sqlx::query_as(SELECT_ASSIGNMENTS).bind(id).fetch_all(c).await)?;
    for_principal(p, row, assignments)
}

/// Loads a case inside `tx`, to take a step on it.
pub async fn reload(tx: &mut Tx, p: &Principal, id: &CaseId) -> ApiResult<LoadedCase> {
    let row: Option<CaseRow> =
        on_tx!(tx, c => sqlx::query_as(SELECT_CASE).bind(id).fetch_optional(c).await)?;
    let assignments: Vec<AssignmentRow> =
        on_tx!(tx, c => sqlx::query_as(SELECT_ASSIGNMENTS).bind(id).fetch_all(c).await)?;
    for_principal(p, row, assignments)
}

/// Loads a case inside `tx` for the system's own steps: no caller, so no
/// scope, and the access of the receiving unit's dispatcher.
pub async fn reload_unscoped(tx: &mut Tx, id: &CaseId) -> ApiResult<LoadedCase> {
    let row: Option<CaseRow> =
        on_tx!(tx, c => sqlx::query_as(SELECT_CASE).bind(id).fetch_optional(c).await)?;
    let assignments: Vec<AssignmentRow> =
        on_tx!(tx, c => sqlx::query_as(SELECT_ASSIGNMENTS).bind(id).fetch_all(c).await)?;
    Ok(LoadedCase {
        row: row.ok_or(ApiError::NotFound)?,
        assignments,
        access: Access {
            dispatcher: true,
            ..Access::default()
        },
    })
}

/// One case's screen for `p`.
pub async fn screen(app: &AppState, p: &Principal, id: &CaseId) -> ApiResult<CaseView> {
    let loaded = load(app, p, id).await?;
    view(app, loaded).await
}

impl LoadedCase {
    /// The steps the caller may take now.
    pub fn available(&self) -> Vec<Step> {
        let status = self.row.status;
        Step::ALL
            .into_iter()
            .filter(|s| allowed_from(status, *s))
            .filter(|s| match s {
                Step::Assign | Step::Dispatch => self.access.dispatcher,
                Step::Reply => !self.access.parts.is_empty(),
                _ => self.access.dispatcher || self.access.handler,
            })
            .collect()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    #[schema(value_type = String)]
    pub id: AssignmentId,
    /// handling (送办理) or part (送分办)
    #[schema(value_type = String)]
    pub kind: AssignmentKind,
    pub unit: Agency,
    pub assignee: Option<String>,
    pub note: String,
    /// Internal due date.
    pub due_on: String,
    /// open, answered or withdrawn
    #[schema(value_type = String)]
    pub status: AssignmentStatus,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    /// Open past its due date, or answered after it.
    pub late: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeInfo {
    #[schema(value_type = String)]
    pub id: NoticeId,
    #[schema(value_type = String)]
    pub kind: NoticeKind,
    pub title: String,
    pub sm3: String,
    /// awaiting_seal or sealed
    #[schema(value_type = String)]
    pub seal_status: NoticeSealStatus,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    #[schema(value_type = String)]
    pub id: CaseId,
    pub case_no: String,
    pub status: CaseStatus,
    pub status_label: String,
    pub agency: Agency,
    pub handling_unit: Option<Agency>,
    pub assignee: Option<String>,
    pub applicant: ApplicantShown,
    pub description: String,
    pub purpose: String,
    pub delivery_method: DeliveryMethod,
    #[schema(value_type = String)]
    pub channel: CaseChannel,
    pub submitted_at: String,
    pub received_on: String,
    /// Absent while the clock is stopped for a correction.
    pub due_on: Option<String>,
    pub due_provisional: bool,
    /// The deadline as a person reads it: 2027年1月15日, or with 预计 and a
    /// note when `due_provisional`.
    pub due_label: Option<String>,
    /// Working days left; absent while the clock is stopped or paused.
    pub remaining_working_days: Option<i64>,
    pub extended_days: i32,
    pub correction_due_on: Option<String>,
    pub consultation_due_on: Option<String>,
    pub result: Option<super::result::CaseResult>,
    pub assignments: Vec<AssignmentView>,
    pub notices: Vec<NoticeInfo>,
    pub timeline: Vec<TimelineEvent>,
    /// What the caller may do now.
    pub actions: Vec<Step>,
    /// For the receiving unit's dispatchers and handlers: what the warning
    /// rules found about this applicant when the request was registered
    /// (docs/warnings.md). Never shown to the applicant.
    pub warning_hint: Option<String>,
}

/// Working days left on the clock, when it runs.
pub fn remaining(app: &AppState, facts: &Facts, today: Date) -> Option<i64> {
    match facts.status {
        CaseStatus::Handling | CaseStatus::Registered => facts
            .due_on
            .map(|due| app.calendar().working_days_left(today, due)),
        _ => None,
    }
}

pub async fn view(app: &AppState, case: LoadedCase) -> ApiResult<CaseView> {
    let today = shanghai_date(crate::clock::now());
    let facts = case.row.facts()?;
    let actions = case.available();
    let warning_hint = match case.access.dispatcher || case.access.handler {
        true => crate::warning::evaluate::hint_of(app, &case.row.id).await?,
        false => None,
    };
    let r = case.row;
    let status = r.status;
    Ok(CaseView {
        warning_hint,
        applicant: shown(
            app,
            &r.applicant_sealed,
            r.identity_source == IdentitySource::Onenet,
        )?,
        timeline: super::timeline(&app.db, &r.id, false).await?,
        notices: notices_of(app, &r.id).await?,
        remaining_working_days: remaining(app, &facts, today),
        due_on: facts.due_on.map(ymd),
        due_label: facts
            .due_on
            .map(|d| crate::calendar::deadline_label(d, r.due_provisional)),
        assignments: case
            .assignments
            .into_iter()
            .map(|a| AssignmentView::of(a, today))
            .collect(),
        actions,
        id: r.id,
        case_no: r.case_no,
        status,
        status_label: status.label_zh().to_owned(),
        agency: Agency {
            id: r.unit_id,
            name: r.unit_name,
        },
        handling_unit: r
            .handling_unit_id
            .zip(r.handling_unit_name)
            .map(|(id, name)| Agency { id, name }),
        assignee: r.assignee_name,
        description: r.description,
        purpose: r.purpose,
        delivery_method: r.delivery_method,
        channel: r.channel,
        submitted_at: crate::clock::rfc3339(r.submitted_at),
        received_on: r.received_on,
        due_provisional: r.due_provisional,
        extended_days: r.extended_days,
        correction_due_on: r.correction_due_on,
        consultation_due_on: r.consultation_due_on,
        result: r.result_category.map(|category| super::result::CaseResult {
            category,
            reason: r.result_reason,
        }),
    })
}

impl AssignmentView {
    /// An assignment as shown on `today`: late when open past its due
    /// date, or answered after it.
    fn of(a: AssignmentRow, today: Date) -> Self {
        let due = parse_ymd(&a.due_on);
        let answered = a.answered_at.map(shanghai_date);
        let late = match (a.status, due) {
            (AssignmentStatus::Open, Some(d)) => today > d,
            (AssignmentStatus::Answered, Some(d)) => answered.is_some_and(|on| on > d),
            _ => false,
        };
        AssignmentView {
            id: a.id,
            kind: a.kind,
            unit: Agency {
                id: a.unit_id,
                name: a.unit_name,
            },
            assignee: a.assignee_name,
            note: a.note,
            due_on: a.due_on,
            status: a.status,
            answer: a.answer,
            answered_at: a.answered_at.map(crate::clock::rfc3339),
            late,
        }
    }
}

/// The case's notices, oldest first.
async fn notices_of(app: &AppState, case_id: &CaseId) -> ApiResult<Vec<NoticeInfo>> {
    const NOTICES: &str = "SELECT id, kind, title, sm3, seal_status, created_at FROM disclosure_notices \
         WHERE case_id = $1 ORDER BY id";
    type Row = (
        NoticeId,
        NoticeKind,
        String,
        String,
        NoticeSealStatus,
        OffsetDateTime,
    );
    let rows: Vec<Row> =
        on_db!(&app.db, c => sqlx::query_as(NOTICES).bind(case_id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, title, sm3, seal_status, at)| NoticeInfo {
            id,
            kind,
            title,
            sm3,
            seal_status,
            created_at: crate::clock::rfc3339(at),
        })
        .collect())
}
