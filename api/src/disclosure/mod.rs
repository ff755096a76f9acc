//! Disclosure on application (依申请公开, 政府信息公开条例 ch. 4): cases
//! received from applicants, their statutory dates on the Shanghai working-day
//! calendar, and what applicants and handlers see of them.

/// The ids of the units in the subtrees where the user bound to `$1` holds
/// one of `$roles` (SQL string literals, e.g. `"'handler'"`): an
/// uncorrelated subquery, found once per query, so a list of cases costs
/// index lookups by unit, not a search of the caller's roles per case.
/// Defined before the modules so every one of them can use it.
macro_rules! units_where {
    ($roles:literal) => {
        concat!(
            "SELECT wu.id FROM role_assignments ra JOIN org_units su ON su.id = ra.unit_id \
             JOIN org_units wu ON substr(wu.path, 1, length(su.path)) = su.path \
             WHERE ra.user_id = $1 AND ra.role IN (",
            $roles,
            ")"
        )
    };
}

pub mod actions;
pub mod agencies;
pub mod applicant;
pub mod case_file;
pub mod case_list;
pub mod flow;
pub mod inbox;
pub mod intake;
pub mod my_requests;
pub mod notices;
pub mod pdf;
pub mod result;
pub mod steps;
pub mod two_pages;
pub mod watch;

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `YYYY-MM-DD`, as dates are stored and shown.
pub use crate::calendar::{parse_ymd, ymd};

/// Statutory reply period (art. 33): 20 working days from receipt.
pub const REPLY_WORKING_DAYS: u32 = 20;

pub use applicant::{ApplicantKind, Identity, VerifiedProfile};

crate::text_enum! {
    /// Where a case stands (see `flow` for the steps between them).
    pub enum CaseStatus {
        Registered = "registered",
        Handling = "handling",
        /// Waiting for the applicant's correction; the clock is stopped.
        Correction = "correction",
        /// Waiting for a third party's opinion; the clock is paused.
        Consultation = "consultation",
        Concluded = "concluded",
    }
}

impl CaseStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseStatus::Registered => "已登记",
            CaseStatus::Handling => "办理中",
            CaseStatus::Correction => "待补正",
            CaseStatus::Consultation => "征求意见中",
            CaseStatus::Concluded => "已办结",
        }
    }
}

crate::text_enum! {
    /// How the applicant wants the information (申请获取政府信息的方式).
    pub enum DeliveryMethod {
        /// 在线获取: through this channel, as a download.
        Online = "online",
        /// 邮寄: needs a postal address.
        Post = "post",
        /// 当面领取
        Pickup = "pickup",
    }
}

crate::text_enum! {
    /// Where the applicant's identity came from: verified by the one-net
    /// service, or typed in by the applicant.
    pub enum IdentitySource {
        Onenet = "onenet",
        Typed = "typed",
    }
}

crate::text_enum! {
    /// The channel a request arrived through.
    pub enum CaseChannel {
        Mobile = "mobile",
    }
}

crate::text_enum! {
    /// What an assignment of a case is.
    pub enum AssignmentKind {
        /// 送办理: the case's handling (one open at a time).
        Handling = "handling",
        /// 送分办: one unit's part of a dispatched case.
        Part = "part",
    }
}

crate::text_enum! {
    /// Where an assignment stands.
    pub enum AssignmentStatus {
        Open = "open",
        Answered = "answered",
        /// Replaced by a new handling assignment.
        Withdrawn = "withdrawn",
    }
}

/// One step of a case's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEvent {
    pub kind: String,
    /// The step as people read it, e.g. 收到申请.
    pub label: String,
    pub actor: String,
    pub at: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(FromRow)]
struct EventRow {
    kind: String,
    actor_label: String,
    occurred_at: OffsetDateTime,
    detail: String,
}

fn event_label(kind: &str) -> &'static str {
    match kind {
        "received" => return "收到申请",
        "overdue" => return "已超过答复期限",
        "deadline_recounted" => return "答复期限按节假日安排重新计算",
        _ => {}
    }
    flow::Step::ALL
        .into_iter()
        .find(|s| s.as_str() == kind)
        .map_or("办理", flow::Step::label_zh)
}

/// A case's timeline, oldest first: the applicant's milestones only when
/// `public_only`, every step for officials.
async fn timeline(
    db: &crate::db::Db,
    case_id: &crate::ids::CaseId,
    public_only: bool,
) -> crate::error::ApiResult<Vec<TimelineEvent>> {
    const SQL: &str = "SELECT kind, actor_label, occurred_at, detail FROM disclosure_events \
         WHERE case_id = $1 AND (public OR $2) ORDER BY occurred_at, id";
    let rows: Vec<EventRow> = crate::on_db!(db, p => sqlx::query_as(SQL)
        .bind(case_id).bind(!public_only).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(|r| TimelineEvent {
            label: event_label(&r.kind).to_owned(),
            kind: r.kind,
            actor: r.actor_label,
            at: crate::clock::rfc3339(r.occurred_at),
            detail: serde_json::from_str(&r.detail).unwrap_or_default(),
        })
        .collect())
}

/// The receiving agency, as shown with a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct Agency {
    #[schema(value_type = String)]
    pub id: crate::ids::UnitId,
    pub name: String,
}
