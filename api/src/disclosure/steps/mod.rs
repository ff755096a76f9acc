//! Taking a step on a case: the request's input checked, the caller's right
//! to the step checked (403 when they see the case but may not act, 404 when
//! they may not see it), the flow's rule checked (409), and then, in one
//! transaction, the case updated, the assignment or notice stored, the
//! timeline extended, the assignees notified and the step audited.
//!
//! The parts: [`flow::apply`] decides the new facts (pure); `work` does
//! what the step does besides the facts (assignments, notices, who is
//! told) and says what else changed; `record` writes the case, its
//! timeline, the applicant's milestone and the audit entry.

mod inputs;
mod record;
mod work;

use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

pub use inputs::*;

use super::case_file::{LoadedCase, reload, reload_unscoped, remaining};
use super::flow::{self, Step};
use super::ymd;
use crate::authz::Principal;
use crate::calendar::shanghai_date;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::CaseId;
use crate::state::AppState;

/// How long the applicant has to correct, in working days.
pub const CORRECTION_DAYS: u32 = 15;

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

    /// The extension in working days the command asks for (0 for others).
    fn extension(&self) -> u32 {
        match self {
            Command::Extend(e) => e.working_days,
            _ => 0,
        }
    }
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
    #[schema(value_type = String)]
    pub case_id: CaseId,
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
    id: &CaseId,
    cmd: Command,
) -> ApiResult<StepDone> {
    let case = reload(tx, p, id).await?;
    // A refusal is audited by the caller, after this transaction is gone.
    authorise(&case, cmd.step())?;
    execute(app, tx, p, &case, cmd).await
}

/// Closes a case whose correction deadline passed without a correction
/// (art. 30: the request counts as abandoned), as the system, inside `tx`.
/// Answers false, changing nothing, when the case is not such a case.
pub async fn close_abandoned(app: &AppState, tx: &mut Tx, id: &CaseId) -> ApiResult<bool> {
    let case = reload_unscoped(tx, id).await?;
    let today = shanghai_date(crate::clock::now());
    let facts = case.row.facts()?;
    let overdue = facts.status == super::CaseStatus::Correction
        && facts.correction_due_on.is_some_and(|d| d < today);
    if !overdue {
        return Ok(false);
    }
    let system = Principal::system("system:deadline-watch", "系统（期限监控）");
    let cmd = Command::Abandon(NoteInput { note: None });
    execute(app, tx, &system, &case, cmd).await?;
    Ok(true)
}

/// The step being taken: who takes it, on which case, when (one instant
/// for every row it writes), on which Shanghai day.
struct Ctx<'a> {
    app: &'a AppState,
    p: &'a Principal,
    case: &'a LoadedCase,
    now: OffsetDateTime,
    today: Date,
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
    let now = crate::clock::now();
    let today = shanghai_date(now);
    let mut facts = case.row.facts()?;
    let calendar = app.calendar();
    flow::apply(
        &calendar,
        &mut facts,
        step,
        today,
        CORRECTION_DAYS,
        cmd.extension(),
    )?;
    let ctx = Ctx {
        app,
        p,
        case,
        now,
        today,
    };
    let changes = work::carry_out(&ctx, tx, cmd, &facts).await?;
    record::store(&ctx, tx, step, &facts, changes).await?;
    Ok(StepDone {
        case_id: case.row.id.clone(),
        step,
        status: facts.status,
        status_label: facts.status.label_zh().to_owned(),
        due_on: facts.due_on.map(ymd),
        remaining_working_days: remaining(app, &facts, today),
    })
}
