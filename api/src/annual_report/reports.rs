//! One agency's report for one year: reading it, computing its tables from
//! the cases (on demand), saving the entered sections, and submitting it
//! to the unit above once every check passes. Drafted by the agency's
//! disclosure dispatchers and handlers; read also by the unit above.

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::checks::{self, Failed};
use super::entered::Entered;
use super::status::{EventKind, Step, after};
use super::store::{self, Agency, Party, ReportRow};
use super::table3::{self, Column, Counts, RowDef};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::UnitId;
use crate::on_tx;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/annual-reports/{unit_id}/{year}", get(read))
        .route(
            "/api/v1/annual-reports/{unit_id}/{year}/refresh",
            post(refresh),
        )
        .route("/api/v1/annual-reports/{unit_id}/{year}/entered", put(save))
        .route(
            "/api/v1/annual-reports/{unit_id}/{year}/submit",
            post(submit),
        )
}

/// A column of Table 3.
#[derive(Debug, Serialize, ToSchema)]
pub struct ColumnDef {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub unit_id: String,
    pub unit_name: String,
    pub year: i64,
    /// draft, submitted, returned, accepted
    pub status: String,
    pub status_label: String,
    /// When section 3 was last computed from the cases.
    pub computed_at: String,
    /// False when no case counts in the year (the year is before the
    /// system's data, or the agency had none).
    pub has_data: bool,
    pub rows: Vec<RowDef>,
    /// The six applicant columns, then 总计.
    pub columns: Vec<ColumnDef>,
    /// Section 3: per row key, one figure per column.
    #[schema(value_type = Object)]
    pub table3: Counts,
    /// Cases concluded without a Table 3 result: to be corrected before
    /// the report can be submitted.
    pub uncounted: Vec<String>,
    pub entered: Entered,
    /// The checks that fail now (submitting needs none).
    pub checks: Vec<Failed>,
    pub revision: i64,
    pub return_reason: Option<String>,
    pub updated_at: String,
    /// Every step taken on the report, oldest first.
    pub history: Vec<store::ReportEvent>,
}

/// The year asked for: not in the future, not before 2000.
pub fn year(y: i64) -> ApiResult<i32> {
    let now = crate::calendar::shanghai_date(crate::clock::now()).year();
    match i32::try_from(y) {
        Ok(y) if y > now => Err(ApiError::invalid("year", "不能编制未来年度的报告")),
        Ok(y) if y >= 2000 => Ok(y),
        _ => Err(ApiError::invalid("year", "年份须在 2000 年以后")),
    }
}

/// The year of a path: a number (else 422, as a problem), then [`year`].
pub fn year_path(raw: &str) -> ApiResult<i64> {
    let y: i64 = raw
        .parse()
        .map_err(|_| ApiError::invalid("year", "年份须为数字"))?;
    year(y)?;
    Ok(y)
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> ApiResult<T> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("annual report {what}: {e}")))
}

/// The report as the caller sees it, with the checks as they stand.
pub(super) async fn view(app: &AppState, a: &Agency, r: ReportRow) -> ApiResult<ReportView> {
    let table3: Counts = parse("table", &r.computed)?;
    let uncounted: Vec<String> = parse("uncounted", &r.uncounted)?;
    let entered: Entered = parse("entered", &r.entered)?;
    let last = store::find(app, &a.id, r.year - 1).await?;
    let last: Option<Counts> = last.map(|l| parse("table", &l.computed)).transpose()?;
    let checks = checks::run(&table3, &entered, last.as_ref(), &uncounted);
    let mut columns: Vec<ColumnDef> = Column::ALL
        .iter()
        .map(|c| ColumnDef {
            key: c.as_str().to_owned(),
            label: c.label_zh().to_owned(),
        })
        .collect();
    columns.push(ColumnDef {
        key: "total".into(),
        label: "总计".into(),
    });
    Ok(ReportView {
        unit_id: a.id.to_string(),
        unit_name: a.name.clone(),
        year: r.year,
        status: r.status.as_str().to_owned(),
        status_label: r.status.label_zh().to_owned(),
        computed_at: crate::clock::rfc3339(r.computed_at),
        has_data: table3.get("new")[6] + table3.get("carried_over")[6] > 0,
        rows: table3::rows(),
        columns,
        table3,
        uncounted,
        entered,
        checks,
        revision: r.revision,
        return_reason: r.return_reason,
        updated_at: crate::clock::rfc3339(r.updated_at),
        history: store::history(app, &r.id).await?,
    })
}

/// The agency, the year and the caller's part, for a route on one report.
async fn open(
    app: &AppState,
    p: &Principal,
    unit: &UnitId,
    y: i64,
) -> ApiResult<(Agency, i32, Party)> {
    let a = store::agency(app, unit).await?;
    let party = store::party(app, p, &a).await?;
    Ok((a, year(y)?, party))
}

/// Refuses (403, audited) unless the caller drafts the agency's report.
pub(super) async fn drafter(
    app: &AppState,
    p: &Principal,
    party: Party,
    action: &'static str,
    unit: &UnitId,
) -> ApiResult<()> {
    if party == Party::Drafter {
        return Ok(());
    }
    crate::audit::record_denied(app, p, action, "annual_report", unit.as_str()).await;
    Err(ApiError::Forbidden)
}

/// One report; 404 while it is not started.
#[utoipa::path(get, path = "/api/v1/annual-reports/{unit_id}/{year}", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)),
    responses((status = 200, body = ReportView), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn read(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
) -> ApiResult<Json<ReportView>> {
    let y = year_path(&raw_year)?;
    let (a, _, _) = open(&app, &p, &unit, y).await?;
    let r = store::find(&app, &unit, y)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(&app, &a, r).await?))
}

/// Starts the report, or computes section 3 again from the cases (a draft
/// or a returned report).
#[utoipa::path(post, path = "/api/v1/annual-reports/{unit_id}/{year}/refresh", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)),
    responses((status = 200, body = ReportView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn refresh(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
) -> ApiResult<Json<ReportView>> {
    let y = year_path(&raw_year)?;
    const INSERT: &str = "INSERT INTO annual_reports (id, unit_id, year, status, computed, uncounted, computed_at, entered, \
         revision, created_by, created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, 1, $8, $6, $6)";
    const UPDATE: &str = "UPDATE annual_reports SET computed = $2, uncounted = $3, computed_at = $4, \
         revision = revision + 1, updated_at = $4 WHERE id = $1";
    let (a, year, party) = open(&app, &p, &unit, y).await?;
    drafter(&app, &p, party, "annual_report.refresh", &unit).await?;
    let facts: Vec<_> = store::facts(&app, year, Some(&unit))
        .await?
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let (table, uncounted) = table3::compute(&facts, year);
    let (table, uncounted) = (json!(table).to_string(), json!(uncounted).to_string());
    let now = crate::clock::now();
    let mut tx = app.db.begin().await?;
    let (id, kind) = match store::current(&mut tx, &unit, y).await? {
        Some(r) => {
            after(r.status, Step::Edit)?;
            on_tx!(&mut tx, c => sqlx::query(UPDATE).bind(&r.id).bind(&table).bind(&uncounted).bind(now)
                .execute(c).await.map(|_| ()))?;
            (r.id, EventKind::Refreshed)
        }
        None => {
            let id = ulid::Ulid::new().to_string();
            let entered = json!(Entered::default()).to_string();
            on_tx!(&mut tx, c => sqlx::query(INSERT).bind(&id).bind(&unit).bind(y).bind(&table).bind(&uncounted)
                .bind(now).bind(&entered).bind(&p.user_id).execute(c).await.map(|_| ()))?;
            (id, EventKind::Created)
        }
    };
    store::event(&mut tx, &id, kind, &p, None).await?;
    tx.commit().await?;
    let r = store::find(&app, &unit, y)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(&app, &a, r).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveInput {
    /// The revision read; a report changed since is 409 `stale_revision`.
    pub revision: i64,
    pub entered: Entered,
}

/// Saves the entered sections (2, 4 and the texts) of a draft or a
/// returned report.
#[utoipa::path(put, path = "/api/v1/annual-reports/{unit_id}/{year}/entered", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)), request_body = SaveInput,
    responses((status = 200, body = ReportView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn save(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
    ApiJson(req): ApiJson<SaveInput>,
) -> ApiResult<Json<ReportView>> {
    let y = year_path(&raw_year)?;
    const SQL: &str = "UPDATE annual_reports SET entered = $2, revision = revision + 1, updated_at = $3 \
         WHERE id = $1 AND revision = $4";
    let (a, _, party) = open(&app, &p, &unit, y).await?;
    drafter(&app, &p, party, "annual_report.save", &unit).await?;
    let problems = req.entered.check();
    if !problems.is_empty() {
        return Err(ApiError::InvalidFields(problems));
    }
    let mut tx = app.db.begin().await?;
    let r = store::current(&mut tx, &unit, y)
        .await?
        .ok_or(ApiError::NotFound)?;
    after(r.status, Step::Edit)?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&r.id).bind(json!(req.entered).to_string())
        .bind(crate::clock::now()).bind(req.revision).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(stale(r.revision, req.revision));
    }
    store::event(&mut tx, &r.id, EventKind::Saved, &p, None).await?;
    tx.commit().await?;
    let r = store::find(&app, &unit, y)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(&app, &a, r).await?))
}

fn stale(current: i64, sent: i64) -> ApiError {
    ApiError::Conflict {
        code: "stale_revision",
        detail: format!("报告已被他人修改（当前版本 {current}，您的版本 {sent}），请刷新后再改"),
    }
}

/// Submits the report to the unit above: every check must pass (422
/// `checks_failed` listing each, with the cells it compares).
#[utoipa::path(post, path = "/api/v1/annual-reports/{unit_id}/{year}/submit", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)),
    responses((status = 200, body = ReportView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, description = "failed checks", body = crate::error::Problem)))]
pub async fn submit(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
) -> ApiResult<Json<ReportView>> {
    let y = year_path(&raw_year)?;
    const SQL: &str = "UPDATE annual_reports SET status = 'submitted', return_reason = NULL, revision = revision + 1, \
         updated_at = $2 WHERE id = $1 AND revision = $3";
    let (a, _, party) = open(&app, &p, &unit, y).await?;
    drafter(&app, &p, party, "annual_report.submit", &unit).await?;
    let r = store::find(&app, &unit, y)
        .await?
        .ok_or(ApiError::NotFound)?;
    after(r.status, Step::Submit)?;
    let (id, revision) = (r.id.clone(), r.revision);
    let v = view(&app, &a, r).await?;
    if !v.checks.is_empty() {
        let errors = v
            .checks
            .iter()
            .map(|f| crate::error::FieldError {
                field: f.cells.join(","),
                reason: f.message.clone(),
            })
            .collect();
        return Err(ApiError::InvalidFields(errors));
    }
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(crate::clock::now()).bind(revision)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(stale(revision + 1, revision));
    }
    store::event(&mut tx, &id, EventKind::Submitted, &p, None).await?;
    let detail = json!({ "unit_id": unit, "year": y, "total": v.table3.get("new")[6] });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "annual_report.submit",
        ("annual_report", &id),
        detail,
    )
    .await?;
    tx.commit().await?;
    let r = store::find(&app, &unit, y)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(&app, &a, r).await?))
}
