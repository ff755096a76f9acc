//! The calendar on the PC API: which years are published, and importing a
//! year's arrangement (security administrators, SEC-02).

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::arrangement::{Arrangement, ArrangementInput, DateProblem};
use super::store::{self, ImportReport};
use super::{shanghai_date, statutory};
use crate::audit::{self, Actor};
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/calendar/years", get(list_years))
        .route("/api/v1/calendar/years/{year}", put(import_year))
}

/// One year of the calendar, as deadlines are counted on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct YearView {
    pub year: i32,
    /// True when the State Council's arrangement is loaded; false when the
    /// year counts on the statutory days off alone and its deadlines are
    /// provisional.
    pub published: bool,
    pub source: Option<String>,
    pub holidays: usize,
    pub workdays: usize,
}

/// The published years, and last, this year and next whether published or
/// not. Any signed-in official.
#[utoipa::path(get, path = "/api/v1/calendar/years", tag = "calendar",
    responses((status = 200, body = Vec<YearView>), (status = 401, body = crate::error::Problem)))]
pub async fn list_years(
    State(app): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Vec<YearView>>> {
    if !p.grants.iter().any(|g| g.role != Role::Applicant) {
        return Err(ApiError::Forbidden);
    }
    let calendar = app.calendar();
    let this_year = shanghai_date(crate::clock::now()).year();
    let mut views: Vec<YearView> = calendar.published().map(view).collect();
    for year in [this_year, this_year + 1] {
        if !calendar.is_published(year) {
            let days = statutory::days_off(year).unwrap_or_default();
            views.push(YearView {
                year,
                published: false,
                source: None,
                holidays: days.len(),
                workdays: 0,
            });
        }
    }
    views.sort_by_key(|v| v.year);
    Ok(Json(views))
}

fn view(a: &Arrangement) -> YearView {
    YearView {
        year: a.year,
        published: true,
        source: Some(a.source.clone()),
        holidays: a.holidays.len(),
        workdays: a.workdays.len(),
    }
}

/// Loads (or replaces) a year's holiday arrangement from the State
/// Council's notice. Security administrators, signed in or stepped up
/// recently. Every date is checked (inside the year, not both off and
/// worked, make-up days on weekends only); a bad year changes nothing and
/// the 422 names each bad date. Open cases the year touches are counted
/// again in the same transaction.
#[utoipa::path(put, path = "/api/v1/calendar/years/{year}", tag = "calendar",
    params(("year" = i32, Path, description = "the calendar year")),
    request_body = ArrangementInput,
    responses(
        (status = 200, body = ImportReport),
        (status = 400, description = "malformed body", body = crate::error::Problem),
        (status = 401, description = "not signed in, or `step_up_required`", body = crate::error::Problem),
        (status = 403, description = "not a security administrator", body = crate::error::Problem),
        (status = 422, description = "bad dates, each named", body = crate::error::Problem),
    ))]
pub async fn import_year(
    State(app): State<AppState>,
    p: Principal,
    Path(year): Path<String>,
    ApiJson(input): ApiJson<ArrangementInput>,
) -> ApiResult<Json<ImportReport>> {
    if !p.has_role(Role::SecurityAdmin) {
        audit::record_denied(&app, &p, "calendar.import", "calendar_year", &year).await;
        return Err(ApiError::Forbidden);
    }
    p.require_recent_auth(std::time::Duration::from_secs(
        app.config.auth.step_up_max_age_secs,
    ))?;
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| statutory::YEARS.contains(y))
        .ok_or_else(|| ApiError::invalid("year", "年份须在 2000 至 2099 之间"))?;
    let arrangement = Arrangement::from_input(year, &input).map_err(|p| refused(&p))?;
    Ok(Json(
        store::import(&app, Actor::from(&p), arrangement).await?,
    ))
}

/// The 422 for a year with bad dates: every date and why, in one detail.
pub fn refused(problems: &[DateProblem]) -> ApiError {
    let field = if problems.iter().any(|p| p.reason.contains("来源")) {
        "source"
    } else {
        "dates"
    };
    let detail: Vec<String> = problems
        .iter()
        .map(|p| format!("{}：{}", p.date, p.reason))
        .collect();
    ApiError::invalid(field, detail.join("；"))
}
