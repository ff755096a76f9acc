//! Writing down a step: the case row (guarded by its version), the
//! timeline event, the applicant's milestone when the step is public, and
//! the audit entry.

use serde_json::json;

use super::Ctx;
use super::work::Changes;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::db::Tx;
use crate::disclosure::case_file::remaining;
use crate::disclosure::flow::{Facts, Step};
use crate::disclosure::notices;
use crate::disclosure::two_pages::{self, Milestone};
use crate::disclosure::{CaseStatus, ymd};
use crate::error::{ApiError, ApiResult};
use crate::on_tx;

pub(super) async fn store(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    step: Step,
    f: &Facts,
    changes: Changes,
) -> ApiResult<()> {
    update_case(ctx, tx, f, &changes).await?;
    // Milestones the applicant sees; assignments and parts are internal.
    let public = !matches!(step, Step::Assign | Step::Dispatch | Step::Reply);
    let event_id = append_event(ctx, tx, step, f, changes.detail, public).await?;
    if public {
        milestone(ctx, tx, step, f, &event_id, changes.notice.as_ref()).await?;
    }
    let entry = Entry {
        actor: if ctx.p.is_system() {
            Actor::system(&ctx.p.login_name)
        } else {
            Actor::from(ctx.p)
        },
        action: "disclosure.case.step",
        target_type: Some("disclosure_case"),
        target_id: Some(ctx.case.row.id.to_string()),
        outcome: Outcome::Success,
        detail: json!({ "step": step.as_str(), "status": f.status.as_str() }),
    };
    audit::append(tx, ctx.app.audit_key(), entry).await?;
    Ok(())
}

/// Writes the new facts and changes, unless someone else changed the case
/// since it was loaded (409).
async fn update_case(ctx: &Ctx<'_>, tx: &mut Tx, f: &Facts, changes: &Changes) -> ApiResult<()> {
    const UPDATE: &str = "UPDATE disclosure_cases SET status = $3, received_on = $4, due_on = $5, extended_days = $6, \
         corrections = $7, correction_due_on = $8, paused_on = $9, consultation_due_on = $10, \
         handling_unit_id = $11, assignee_id = $12, extension_approver_id = COALESCE($13, extension_approver_id), \
         result_category = $14, result_reason = $15, concluded_at = $16, updated_at = $17, \
         due_provisional = COALESCE($18, due_provisional), version = version + 1 \
         WHERE id = $1 AND version = $2";
    let (r, now) = (&ctx.case.row, ctx.now);
    let handling = changes
        .handling_unit
        .as_ref()
        .unwrap_or(&r.handling_unit_id);
    let assignee = changes.assignee.as_ref().unwrap_or(&r.assignee_id);
    let (category, reason) = match &changes.result {
        Some(res) => (Some(&res.category), res.reason.as_ref()),
        None => (r.result_category.as_ref(), r.result_reason.as_ref()),
    };
    let concluded = (f.status == CaseStatus::Concluded).then_some(now);
    // The stored due date survives a correction's stop, for the record.
    let due = f.due_on.map_or_else(|| r.due_on.clone(), ymd);
    // A step that moves the deadline (extension, correction, consultation)
    // may carry it into a year not yet published.
    let provisional = f
        .due_on
        .map(|d| ctx.app.calendar().provisional_between(f.received_on, d));
    let changed = on_tx!(tx, c => sqlx::query(UPDATE).bind(&r.id).bind(r.version)
        .bind(f.status).bind(ymd(f.received_on)).bind(&due).bind(f.extended_days).bind(f.corrections)
        .bind(f.correction_due_on.map(ymd)).bind(f.paused_on.map(ymd)).bind(f.consultation_due_on.map(ymd))
        .bind(handling).bind(assignee).bind(&changes.approver).bind(category).bind(reason).bind(concluded).bind(now)
        .bind(provisional).execute(c).await.map(|r| r.rows_affected()))?;
    if changed != 1 {
        return Err(ApiError::Conflict {
            code: "case_changed",
            detail: "案件已被他人同时处理，请刷新后重试".into(),
        });
    }
    Ok(())
}

/// Appends the step to the case's timeline; answers the event's id.
async fn append_event(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    step: Step,
    f: &Facts,
    mut detail: serde_json::Value,
    public: bool,
) -> ApiResult<String> {
    const EVENT: &str = "INSERT INTO disclosure_events (id, case_id, kind, actor_label, occurred_at, detail, public) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let r = &ctx.case.row;
    detail["remaining_working_days"] = json!(remaining(ctx.app, f, ctx.today));
    detail["due_on"] = json!(f.due_on.map(ymd));
    let actor = if public {
        // The applicant sees the agency act, and no internal note.
        if let Some(o) = detail.as_object_mut() {
            o.remove("note");
        }
        &r.unit_name
    } else {
        &ctx.p.display_name
    };
    let (event_id, now) = (ulid::Ulid::new().to_string(), ctx.now);
    on_tx!(tx, c => sqlx::query(EVENT).bind(&event_id).bind(&r.id).bind(step)
        .bind(actor).bind(now).bind(detail.to_string()).bind(public).execute(c).await.map(|_| ()))?;
    Ok(event_id)
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
) -> ApiResult<()> {
    let r = &ctx.case.row;
    // Only notices addressed to the applicant go to their page.
    let notice = notice.filter(|n| n.kind.to_applicant());
    let m = Milestone {
        event_id,
        case_id: &r.id,
        case_no: &r.case_no,
        agency: &r.unit_name,
        applicant_kind: r.applicant_kind,
        onenet_uid_sealed: r.onenet_uid_sealed.as_deref(),
        milestone: step.as_str(),
        label: step.label_zh(),
        status: f.status,
        occurred_at: ctx.now,
        due_on: f.due_on.map(ymd),
        notice: notice.map(|n| (n.id.as_str(), n.kind.title(), n.sm3.as_str())),
    };
    two_pages::push(ctx.app, tx, m).await
}
