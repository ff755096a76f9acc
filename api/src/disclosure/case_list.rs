//! Cases as the receiving agency's handlers and dispatchers see them on PC,
//! scoped to the units where they hold a role (another unit's cases are not
//! listed).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::{Agency, ApplicantKind, CaseChannel, CaseStatus};
use crate::authz::{Principal, Role};
use crate::calendar::shanghai_date;
use crate::error::ApiResult;
use crate::http::extract::ApiQuery;
use crate::ids::{CaseId, UnitId};
use crate::on_db;
use crate::pagination::page_limit;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/disclosure/cases", get(list_cases))
}

/// Roles that work on disclosure cases.
pub const CASE_ROLES: [Role; 2] = [Role::Handler, Role::Dispatcher];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCasesQuery {
    /// Only cases in this status.
    pub status: Option<CaseStatus>,
    /// Case numbers containing this, e.g. `2026-000`.
    pub case_no: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    #[schema(value_type = String)]
    pub id: CaseId,
    pub case_no: String,
    pub status: CaseStatus,
    pub status_label: String,
    pub agency: Agency,
    pub applicant_kind: ApplicantKind,
    /// Masked for citizens (周*), in full for companies.
    pub applicant: String,
    pub excerpt: String,
    #[schema(value_type = String)]
    pub channel: CaseChannel,
    pub submitted_at: String,
    pub received_on: String,
    pub due_on: String,
    pub due_provisional: bool,
    /// The deadline as a person reads it: 2027年1月15日, or with 预计 and a
    /// note when `due_provisional`.
    pub due_label: String,
    /// Working days left until `due_on`; negative once overdue.
    pub remaining_working_days: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    pub next_cursor: Option<String>,
}

#[derive(FromRow)]
struct Row {
    id: CaseId,
    case_no: String,
    status: CaseStatus,
    unit_id: UnitId,
    unit_name: String,
    applicant_kind: ApplicantKind,
    applicant_label: String,
    description: String,
    channel: CaseChannel,
    submitted_at: OffsetDateTime,
    received_on: String,
    due_on: String,
    due_provisional: bool,
}

/// A SQL condition, true when the user bound to `$1` may see the case
/// aliased `c` (receiving unit aliased `u`): a handler or dispatcher of the
/// receiving unit or above, or a handler of a unit the case was assigned or
/// dispatched to (or above). The same rule as `case_file::load`.
macro_rules! case_visible_sql {
    () => {
        concat!(
            "(c.unit_id IN (",
            units_where!("'handler', 'dispatcher'"),
            ") OR c.id IN (SELECT a.case_id FROM disclosure_assignments a \
             WHERE a.status <> 'withdrawn' AND a.unit_id IN (",
            units_where!("'handler'"),
            ")))"
        )
    };
}

/// Cases of the caller's units, newest first, by status and case number.
#[utoipa::path(get, path = "/api/v1/disclosure/cases", tag = "disclosure", params(ListCasesQuery),
    responses(
        (status = 200, body = CasePage),
        (status = 401, body = crate::error::Problem),
        (status = 403, description = "not a handler or dispatcher", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn list_cases(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ListCasesQuery>,
) -> ApiResult<Json<CasePage>> {
    const SQL: &str = concat!(
        "SELECT c.id, c.case_no, c.status, c.unit_id, u.name AS unit_name, c.applicant_kind, \
         c.applicant_label, substr(c.description, 1, 60) AS description, c.channel, c.submitted_at, \
         c.received_on, c.due_on, c.due_provisional \
         FROM disclosure_cases c JOIN org_units u ON u.id = c.unit_id WHERE ",
        case_visible_sql!(),
        " AND ($2 = '' OR c.status = $2) AND ($5 = '' OR c.case_no LIKE $5) \
         AND c.id < $3 ORDER BY c.id DESC LIMIT $4"
    );
    if let Err(denied) = principal.require_any(&CASE_ROLES) {
        crate::audit::record_denied(
            &app,
            &principal,
            "disclosure.case.list",
            "disclosure_case",
            "*",
        )
        .await;
        return Err(denied);
    }
    let limit = page_limit(q.limit)?;
    let before = crate::pagination::before_id(q.cursor.as_deref())?;
    let status = q.status.map(CaseStatus::as_str).unwrap_or_default();
    let case_no = match q.case_no.as_deref().map(str::trim) {
        None | Some("") => String::new(),
        Some(n) if n.len() <= 40 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            format!("%{n}%")
        }
        Some(_) => {
            return Err(crate::error::ApiError::invalid(
                "case_no",
                "案件编号只含字母、数字和 -",
            ));
        }
    };
    let mut rows: Vec<Row> = on_db!(&app.db, p => sqlx::query_as(SQL)
        .bind(&principal.user_id).bind(status).bind(&before).bind(limit + 1).bind(&case_no)
        .fetch_all(p).await)?;
    let next_cursor = crate::pagination::trim_page(&mut rows, limit, |r| r.id.to_string());
    let today = shanghai_date(crate::clock::now());
    let calendar = app.calendar();
    let items = rows
        .into_iter()
        .map(|r| {
            let status = r.status;
            let remaining = super::parse_ymd(&r.due_on)
                .map(|due| calendar.working_days_left(today, due))
                .unwrap_or_default();
            CaseSummary {
                id: r.id,
                case_no: r.case_no,
                status,
                status_label: status.label_zh().to_owned(),
                agency: Agency {
                    id: r.unit_id,
                    name: r.unit_name,
                },
                applicant_kind: r.applicant_kind,
                applicant: r.applicant_label,
                excerpt: r.description,
                channel: r.channel,
                submitted_at: crate::clock::rfc3339(r.submitted_at),
                received_on: r.received_on,
                due_label: crate::calendar::deadline_label_of(&r.due_on, r.due_provisional),
                due_on: r.due_on,
                due_provisional: r.due_provisional,
                remaining_working_days: remaining,
            }
        })
        .collect();
    Ok(Json(CasePage { items, next_cursor }))
}
