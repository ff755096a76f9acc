//! What needs an official's action, for the phone's case screen: one call
//! answers the tab's cases, most urgent first, and the count of every tab.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use super::{Agency, CaseStatus, parse_ymd};
use crate::authz::Principal;
use crate::calendar::shanghai_date;
use crate::error::ApiResult;
use crate::ids::{CaseId, UnitId};
use crate::on_db;
use crate::state::AppState;

const MAX_ITEMS: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// New cases to send for handling or dispatch (dispatchers).
    Dispatch,
    /// Cases the caller's unit handles, or that name the caller (handlers).
    Handle,
    /// Parts of dispatched cases the caller's unit owes (handlers).
    Reply,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::Dispatch, Tab::Handle, Tab::Reply];

    fn label_zh(self) -> &'static str {
        match self {
            Tab::Dispatch => "待分办",
            Tab::Handle => "待办理",
            Tab::Reply => "待答复",
        }
    }
}

/// The statuses of cases being handled.
macro_rules! handle_statuses {
    () => {
        "('handling', 'correction', 'consultation')"
    };
}

/// Each tab's condition on `disclosure_cases c` / `org_units u` for the
/// user bound to `$1`, in `Tab::ALL` order. Each starts from the caller's
/// units (and assignments), so its cost follows what the caller sees, not
/// how many cases the city holds.
macro_rules! tab_conditions {
    ($wrap:ident) => {
        [
            $wrap!(concat!(
                "c.status = 'registered' AND c.unit_id IN (",
                units_where!("'dispatcher'"),
                ")"
            )),
            // Assigned to the caller, or at a unit they handle for: the
            // handling unit, or the receiving unit while none is set. Each
            // branch is found through its own index; the status test sits
            // inside, so nothing scans every open case.
            $wrap!(concat!(
                "c.id IN (SELECT id FROM disclosure_cases WHERE assignee_id = $1 AND status IN ",
                handle_statuses!(),
                " UNION SELECT id FROM disclosure_cases WHERE status IN ",
                handle_statuses!(),
                " AND handling_unit_id IN (",
                units_where!("'handler'"),
                ") UNION SELECT id FROM disclosure_cases WHERE status IN ",
                handle_statuses!(),
                " AND handling_unit_id IS NULL AND unit_id IN (",
                units_where!("'handler'"),
                "))"
            )),
            $wrap!(concat!(
                "c.status = 'handling' AND c.id IN (SELECT a.case_id FROM disclosure_assignments a \
                 WHERE a.kind = 'part' AND a.status = 'open' AND a.unit_id IN (",
                units_where!("'handler'"),
                "))"
            )),
        ]
    };
}

macro_rules! count_sql {
    ($cond:expr) => {
        concat!(
            "SELECT COUNT(*) FROM disclosure_cases c JOIN org_units u ON u.id = c.unit_id WHERE ",
            $cond
        )
    };
}

macro_rules! list_sql {
    ($cond:expr) => {
        concat!(
            "SELECT c.id, c.case_no, c.status, c.unit_id, u.name AS unit_name, c.applicant_label, \
             substr(c.description, 1, 60) AS description, c.due_on \
             FROM disclosure_cases c JOIN org_units u ON u.id = c.unit_id WHERE ",
            $cond,
            " ORDER BY c.due_on, c.id LIMIT $2"
        )
    };
}

const COUNTS: [&str; 3] = tab_conditions!(count_sql);
const LISTS: [&str; 3] = tab_conditions!(list_sql);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Which tab's cases (default: handle).
    pub tab: Option<Tab>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TabCount {
    pub tab: Tab,
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    #[schema(value_type = String)]
    pub id: CaseId,
    pub case_no: String,
    pub status: CaseStatus,
    pub status_label: String,
    pub agency: Agency,
    pub applicant: String,
    pub excerpt: String,
    pub due_on: String,
    /// Working days left (negative when overdue); absent while the clock is
    /// stopped or paused.
    pub remaining_working_days: Option<i64>,
    /// The mobile deep link.
    pub link: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    pub tab: Tab,
    pub tabs: Vec<TabCount>,
    /// Most urgent first (at most 100).
    pub items: Vec<InboxItem>,
}

#[derive(FromRow)]
struct Row {
    id: CaseId,
    case_no: String,
    status: CaseStatus,
    unit_id: UnitId,
    unit_name: String,
    applicant_label: String,
    description: String,
    due_on: String,
}

pub async fn inbox(app: &AppState, p: &Principal, tab: Option<Tab>) -> ApiResult<Inbox> {
    let tab = tab.unwrap_or(Tab::Handle);
    let mut tabs = Vec::with_capacity(3);
    for (t, sql) in Tab::ALL.into_iter().zip(COUNTS) {
        let count: i64 =
            on_db!(&app.db, c => sqlx::query_scalar(sql).bind(&p.user_id).fetch_one(c).await)?;
        tabs.push(TabCount {
            tab: t,
            label: t.label_zh().to_owned(),
            count,
        });
    }
    let sql = LISTS[Tab::ALL.iter().position(|t| *t == tab).unwrap_or(1)];
    let rows: Vec<Row> = on_db!(&app.db, c => sqlx::query_as(sql).bind(&p.user_id).bind(MAX_ITEMS).fetch_all(c).await)?;
    let today = shanghai_date(crate::clock::now());
    let calendar = app.calendar();
    let items = rows
        .into_iter()
        .map(|r| {
            let status = r.status;
            let running = matches!(status, CaseStatus::Registered | CaseStatus::Handling);
            InboxItem {
                remaining_working_days: parse_ymd(&r.due_on)
                    .filter(|_| running)
                    .map(|due| calendar.working_days_left(today, due)),
                link: format!("govapp://cases/{}", r.id),
                id: r.id,
                case_no: r.case_no,
                status,
                status_label: status.label_zh().to_owned(),
                agency: Agency {
                    id: r.unit_id,
                    name: r.unit_name,
                },
                applicant: r.applicant_label,
                excerpt: r.description,
                due_on: r.due_on,
            }
        })
        .collect();
    Ok(Inbox { tab, tabs, items })
}
