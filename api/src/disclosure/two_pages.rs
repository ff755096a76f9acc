//! Milestones pushed to the applicant's page on the "two pages" (市民主页 for
//! citizens, 企业专属网页 for companies, XT-01): each public step of a case and
//! each notice addressed to the applicant, with the applicant's one-net id,
//! the time of the step and the links, queued through the outbox in the
//! step's transaction and retried until the platform accepts it. Applicants
//! who did not come through the one-net service have no page to push to.
//! Exchange format: docs/integration/two-pages.md.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::intake::ONENET_FIELD;
use super::{ApplicantKind, CaseStatus};
use crate::db::Tx;
use crate::error::ApiResult;
use crate::outbox::connector::{self, ConnectorMessage};
use crate::state::AppState;

pub const PROVIDER: &str = "two_pages";
/// Milestones are retried this long.
const RETRY_FOR: Duration = Duration::from_secs(30 * 86_400);

/// One step to show on the applicant's page.
pub struct Milestone<'a> {
    /// The timeline event's id: the message's identity at the platform.
    pub event_id: &'a str,
    pub case_id: &'a crate::ids::CaseId,
    pub case_no: &'a str,
    pub agency: &'a str,
    pub applicant_kind: ApplicantKind,
    pub onenet_uid_sealed: Option<&'a [u8]>,
    /// `received` or a step of the flow.
    pub milestone: &'a str,
    pub label: &'a str,
    pub status: CaseStatus,
    pub occurred_at: OffsetDateTime,
    pub due_on: Option<String>,
    /// (id, title, sm3) of a notice addressed to the applicant.
    pub notice: Option<(&'a str, &'a str, &'a str)>,
}

/// Queues `m` for the applicant's page, when they have one.
pub async fn push(app: &AppState, tx: &mut Tx, m: Milestone<'_>) -> ApiResult<()> {
    let Some(sealed) = m.onenet_uid_sealed else {
        return Ok(());
    };
    let uid = app
        .pii
        .decrypt(ONENET_FIELD, sealed)
        .map_err(|e| anyhow::anyhow!("one-net id of case {}: {e}", m.case_id))?;
    let base = app.config.auth.issuer.trim_end_matches('/');
    let page = match m.applicant_kind {
        ApplicantKind::Citizen => "citizen",
        ApplicantKind::Company => "company",
    };
    let payload = json!({
        "event_id": m.event_id,
        "page": page,
        "onenet_uid": uid,
        "case_no": m.case_no,
        "agency": m.agency,
        "milestone": m.milestone,
        "title": m.label,
        "status": m.status,
        "occurred_at": crate::clock::rfc3339(m.occurred_at),
        "due_on": m.due_on,
        "detail_url": format!("{base}/m/v1/disclosure-requests/{}", m.case_id),
        "notice": m.notice.map(|(id, title, sm3)| json!({
            "title": title,
            "sm3": sm3,
            "download_url": format!("{base}/m/v1/disclosure-requests/{}/notices/{id}/pdf", m.case_id),
        })),
    });
    let label = format!("{} {}", m.case_no, m.label);
    let key = format!("two-pages:{}", m.event_id);
    let msg = ConnectorMessage {
        kind: "case_milestone",
        provider: PROVIDER,
        payload: &payload,
        label: &label,
        idempotency_key: &key,
        // A case's milestones arrive in the order they happened.
        order_key: Some(m.case_id.as_str()),
        ttl: RETRY_FOR,
    };
    connector::enqueue(tx, &app.pii, msg).await?;
    Ok(())
}
