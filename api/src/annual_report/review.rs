//! The unit above: its agencies' reports and their states, returning with
//! a reason or accepting, and the roll-up of the submitted tables (a
//! district's, or the city's for the General Office).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::reports::{ReportView, parse, view, year, year_path};
use super::status::{EventKind, ReportStatus, Step, after};
use super::store::{self, Agency, Party};
use super::table3::Counts;
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::ids::UnitId;
use crate::on_tx;
use crate::org::UnitKind;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/annual-reports", get(list))
        .route(
            "/api/v1/annual-reports/{unit_id}/{year}/return",
            post(return_report),
        )
        .route(
            "/api/v1/annual-reports/{unit_id}/{year}/accept",
            post(accept),
        )
        .route(
            "/api/v1/annual-report-rollups/{unit_id}/{year}",
            get(rollup),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub year: i64,
    /// The reviewing unit (a district government or the General Office,
    /// or one of its offices) where the caller is a disclosure
    /// administrator; default: the caller's own.
    #[param(value_type = Option<String>)]
    pub unit_id: Option<UnitId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyStatus {
    pub unit_id: String,
    pub unit_name: String,
    /// not_started, draft, submitted, returned, accepted
    pub status: String,
    pub status_label: String,
    pub updated_at: Option<String>,
}

/// The reviewing unit (asked for, or the caller's own), if the caller is
/// one of its disclosure administrators; 403 (audited) otherwise. An office
/// (处室) stands for the unit it belongs to: the General Office's 政务公开办公室
/// for the General Office.
async fn reviewer(
    app: &AppState,
    p: &Principal,
    unit: Option<&UnitId>,
    action: &'static str,
) -> ApiResult<Agency> {
    const SQL: &str = "SELECT u.id, u.name, u.path, u.kind FROM org_units o \
         JOIN org_units u ON u.id = CASE WHEN o.kind = 'office' THEN o.parent_id ELSE o.id END WHERE o.id = $1";
    let own = p
        .grants
        .iter()
        .find(|g| g.role == crate::authz::Role::DisclosureAdmin)
        .and_then(|g| g.unit_id.clone());
    let asked = unit.cloned().or(own).unwrap_or_else(|| UnitId::new(""));
    let a: Option<Agency> =
        crate::on_db!(&app.db, c => sqlx::query_as(SQL).bind(&asked).fetch_optional(c).await)?;
    let a = a.filter(|a| {
        matches!(
            a.kind,
            UnitKind::DistrictGovernment | UnitKind::GeneralOffice
        )
    });
    match a {
        Some(a) if store::reviews(app, p, Some(&a.id)).await? => Ok(a),
        _ => {
            crate::audit::record_denied(app, p, action, "org_unit", asked.as_str()).await;
            Err(ApiError::Forbidden)
        }
    }
}

/// The state of every agency's report that goes to the unit.
#[utoipa::path(get, path = "/api/v1/annual-reports", tag = "annual-report", params(ListQuery),
    responses((status = 200, body = [AgencyStatus]), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<AgencyStatus>>> {
    const SQL: &str = "SELECT unit_id, status, updated_at FROM annual_reports WHERE year = $1";
    year(q.year)?;
    let r = reviewer(&app, &p, q.unit_id.as_ref(), "annual_report.list").await?;
    let agencies = store::agencies_of(&app, &r).await?;
    let rows: Vec<(UnitId, ReportStatus, time::OffsetDateTime)> =
        crate::on_db!(&app.db, c => sqlx::query_as(SQL).bind(q.year).fetch_all(c).await)?;
    let by_unit: std::collections::HashMap<UnitId, (ReportStatus, time::OffsetDateTime)> =
        rows.into_iter().map(|(u, s, t)| (u, (s, t))).collect();
    Ok(Json(
        agencies
            .into_iter()
            .map(|a| {
                let found = by_unit.get(&a.id);
                let (status, label) = found.map_or(("not_started", "未开始"), |(s, _)| {
                    (s.as_str(), s.label_zh())
                });
                AgencyStatus {
                    unit_id: a.id.to_string(),
                    unit_name: a.name,
                    status: status.to_owned(),
                    status_label: label.to_owned(),
                    updated_at: found.map(|(_, t)| crate::clock::rfc3339(*t)),
                }
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    pub reason: String,
}

/// Decides a submitted report: `step` is Return (with a reason) or Accept.
async fn decide(
    app: &AppState,
    p: &Principal,
    (unit, y): (&UnitId, i64),
    step: Step,
    reason: Option<&str>,
) -> ApiResult<ReportView> {
    const SQL: &str = "UPDATE annual_reports SET status = $2, return_reason = $3, revision = revision + 1, updated_at = $4 \
         WHERE id = $1 AND status = 'submitted'";
    let (action, kind) = match step {
        Step::Return => ("annual_report.return", EventKind::Returned),
        _ => ("annual_report.accept", EventKind::Accepted),
    };
    let a = store::agency(app, unit).await?;
    if store::party(app, p, &a).await? != Party::Reviewer {
        crate::audit::record_denied(app, p, action, "annual_report", unit.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    let r = store::find(app, unit, y).await?.ok_or(ApiError::NotFound)?;
    let to = after(r.status, step)?;
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&r.id).bind(to).bind(reason).bind(crate::clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::Conflict {
            code: "report_not_submitted",
            detail: "报告已不在报送状态".into(),
        });
    }
    store::event(&mut tx, &r.id, kind, p, reason).await?;
    let detail = json!({ "unit_id": unit, "year": y, "reason": reason });
    crate::audit::success(app, &mut tx, p, action, ("annual_report", &r.id), detail).await?;
    tx.commit().await?;
    let r = store::find(app, unit, y).await?.ok_or(ApiError::NotFound)?;
    view(app, &a, r).await
}

/// Returns a submitted report to its agency with a reason.
#[utoipa::path(post, path = "/api/v1/annual-reports/{unit_id}/{year}/return", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)), request_body = ReturnInput,
    responses((status = 200, body = ReportView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn return_report(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
    ApiJson(req): ApiJson<ReturnInput>,
) -> ApiResult<Json<ReportView>> {
    let y = year_path(&raw_year)?;
    let reason = crate::validate::text("reason", Some(&req.reason), 500, true)?;
    Ok(Json(
        decide(&app, &p, (&unit, y), Step::Return, Some(&reason)).await?,
    ))
}

/// Accepts a submitted report; it is frozen.
#[utoipa::path(post, path = "/api/v1/annual-reports/{unit_id}/{year}/accept", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)),
    responses((status = 200, body = ReportView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn accept(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
) -> ApiResult<Json<ReportView>> {
    let y = year_path(&raw_year)?;
    Ok(Json(
        decide(&app, &p, (&unit, y), Step::Accept, None).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportRollup {
    pub unit_id: String,
    pub unit_name: String,
    pub year: i64,
    /// Reports counted (submitted or accepted) of the units below.
    pub reports: usize,
    /// Section 3 summed over them.
    #[schema(value_type = Object)]
    pub table3: Counts,
}

/// The sum of the submitted and accepted tables below the unit: a
/// district's reports for its district government, every report of the
/// city for the General Office.
#[utoipa::path(get, path = "/api/v1/annual-report-rollups/{unit_id}/{year}", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)),
    responses((status = 200, body = ReportRollup), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn rollup(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
) -> ApiResult<Json<ReportRollup>> {
    let y = year_path(&raw_year)?;
    let r = reviewer(&app, &p, Some(&unit), "annual_report.rollup").await?;
    let under = if r.kind == UnitKind::DistrictGovernment {
        r.path.clone()
    } else {
        "/".to_owned()
    };
    let tables: Vec<Counts> = store::decided_under(&app, &under, y)
        .await?
        .iter()
        .map(|(_, t)| parse("table", t))
        .collect::<ApiResult<_>>()?;
    Ok(Json(ReportRollup {
        unit_id: r.id.to_string(),
        unit_name: r.name,
        year: y,
        reports: tables.len(),
        table3: Counts::sum(&tables),
    }))
}
