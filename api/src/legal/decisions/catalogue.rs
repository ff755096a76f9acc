//! The catalogue of major administrative decisions (重大行政决策目录): a
//! district government's or municipal department's reporting officer
//! declares a decision for a year; the legal affairs office moves its
//! filing progress on, one step at a time. The list answers the
//! statistics' drill-downs (by year, group and progress).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::progress::{Group, Progress, advance};
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::ids::{MajorDecisionId, UnitId};
use crate::org::UnitKind;
use crate::state::AppState;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/major-decisions", get(list).post(declare))
        .route("/api/v1/legal/major-decisions/{id}/progress", post(step))
}

#[derive(Debug, Clone, Serialize, ToSchema, FromRow)]
pub struct DecisionView {
    pub id: String,
    pub year: i64,
    pub unit_id: String,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    #[schema(value_type = String)]
    pub unit_kind: UnitKind,
    pub title: String,
    #[schema(value_type = String)]
    pub progress: Progress,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub declared_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
}

pub const SELECT: &str = "SELECT d.id, d.year, d.unit_id, u.name AS unit_name, u.path AS unit_path, \
     u.kind AS unit_kind, d.title, d.progress, d.declared_at, d.updated_at \
     FROM major_decisions d JOIN org_units u ON u.id = d.unit_id ";

fn sees(p: &Principal, path: &str) -> bool {
    p.has_role(Role::LegalAdmin) || p.covers(&[Role::LegalReporter, Role::LegalReviewer], path)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    #[schema(value_type = String)]
    pub unit_id: UnitId,
    pub year: i64,
    pub title: String,
}

/// Declares a major administrative decision (the unit's reporting officer).
#[utoipa::path(post, path = "/api/v1/legal/major-decisions", tag = "legal", request_body = Declaration,
    responses((status = 201, body = DecisionView), (status = 403, body = crate::error::Problem),
        (status = 422, description = "year, title, or a unit that does not declare", body = crate::error::Problem)))]
pub async fn declare(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<Declaration>,
) -> ApiResult<(StatusCode, Json<DecisionView>)> {
    const KIND: &str = "SELECT kind FROM org_units WHERE id = $1";
    const SQL: &str = "INSERT INTO major_decisions (id, year, unit_id, title, progress, declared_by, declared_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'declared', $5, $6, $6)";
    if !crate::legal::filing::store::reports_for(&p, &req.unit_id) {
        crate::audit::record_denied(
            &app,
            &p,
            "legal.decision.declare",
            "unit",
            req.unit_id.as_str(),
        )
        .await;
        return Err(ApiError::Forbidden);
    }
    if !(2000..=2100).contains(&req.year) {
        return Err(ApiError::invalid("year", "年度须在 2000 到 2100 之间"));
    }
    let title = crate::validate::text("title", Some(&req.title), 200, false)?;
    let kind: Option<UnitKind> =
        on_db!(&app.db, c => sqlx::query_scalar(KIND).bind(&req.unit_id).fetch_optional(c).await)?;
    if kind.and_then(Group::of).is_none() {
        return Err(ApiError::invalid(
            "unit_id",
            "只有区政府和市级部门申报重大行政决策",
        ));
    }
    let id = MajorDecisionId::generate();
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(req.year).bind(&req.unit_id).bind(&title)
        .bind(&p.user_id).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    let detail = json!({ "year": req.year, "unit_id": req.unit_id });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.decision.declare",
        ("major_decision", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(one(&app, &p, &id).await?)))
}

async fn one(app: &AppState, p: &Principal, id: &MajorDecisionId) -> ApiResult<DecisionView> {
    let sql = format!("{SELECT}WHERE d.id = $1");
    let row: Option<DecisionView> = on_db!(&app.db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(c).await)?;
    row.filter(|d| sees(p, &d.unit_path))
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressInput {
    /// The next progress: `catalogued`, `filed` or `published`.
    #[schema(value_type = String)]
    pub to: Progress,
}

/// Moves a decision's filing progress one step on (the office).
#[utoipa::path(post, path = "/api/v1/legal/major-decisions/{id}/progress", tag = "legal",
    params(("id" = String, Path)), request_body = ProgressInput,
    responses((status = 200, body = DecisionView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, description = "not the next step", body = crate::error::Problem)))]
pub async fn step(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<MajorDecisionId>,
    ApiJson(req): ApiJson<ProgressInput>,
) -> ApiResult<Json<DecisionView>> {
    const SQL: &str =
        "UPDATE major_decisions SET progress = $3, updated_at = $4 WHERE id = $1 AND progress = $2";
    let d = one(&app, &p, &id).await?;
    if !p.has_role(Role::LegalAdmin) {
        crate::audit::record_denied(
            &app,
            &p,
            "legal.decision.progress",
            "major_decision",
            id.as_str(),
        )
        .await;
        return Err(ApiError::Forbidden);
    }
    let to = advance(d.progress, req.to)?;
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(d.progress).bind(to).bind(crate::clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::Conflict {
            code: "changed_meanwhile",
            detail: "进度已被他人更新，请刷新后重试".into(),
        });
    }
    let detail = json!({ "from": d.progress, "to": to });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.decision.progress",
        ("major_decision", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(one(&app, &p, &id).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    pub year: Option<i64>,
    /// Years from (inclusive), as the statistics count them.
    pub from: Option<i64>,
    /// Years to (inclusive).
    pub to: Option<i64>,
    /// `district` or `municipal`.
    #[param(value_type = Option<String>)]
    pub group: Option<Group>,
    #[param(value_type = Option<String>)]
    pub progress: Option<Progress>,
    /// Words in the title or the unit's name.
    pub q: Option<String>,
    pub limit: Option<i64>,
}

/// The declarations the caller sees, filtered: what a count of the
/// statistics drills down to.
#[utoipa::path(get, path = "/api/v1/legal/major-decisions", tag = "legal", params(DecisionQuery),
    responses((status = 200, body = Vec<DecisionView>), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<DecisionQuery>,
) -> ApiResult<Json<Vec<DecisionView>>> {
    p.require_any(&[Role::LegalAdmin, Role::LegalReporter, Role::LegalReviewer])?;
    let limit = crate::pagination::page_limit(q.limit)?;
    let rows = matching(&app, &p, &q, limit).await?;
    Ok(Json(rows))
}

/// The declarations matching `q` that the caller sees, newest year first.
pub async fn matching(
    app: &AppState,
    p: &Principal,
    q: &DecisionQuery,
    limit: i64,
) -> ApiResult<Vec<DecisionView>> {
    let sql = format!(
        "{SELECT}WHERE ($1 IS NULL OR d.year = $1) AND ($2 IS NULL OR u.kind = $2) AND ($3 IS NULL OR d.progress = $3) \
         AND ($4 IS NULL OR d.title LIKE $4 ESCAPE '\\' OR u.name LIKE $4 ESCAPE '\\') \
         AND ($6 OR u.path LIKE $7 ESCAPE '\\' OR u.path LIKE $8 ESCAPE '\\' OR u.path LIKE $9 ESCAPE '\\') \
         AND ($10 IS NULL OR d.year >= $10) AND ($11 IS NULL OR d.year <= $11) \
         ORDER BY d.year DESC, u.name, d.id LIMIT $5"
    );
    let kind = q.group.map(|g| match g {
        Group::District => UnitKind::DistrictGovernment,
        Group::Municipal => UnitKind::MunicipalDepartment,
    });
    let scope = crate::legal::filing::store::unit_prefixes(p);
    let pattern =
        q.q.as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(crate::db::like_pattern);
    Ok(
        on_db!(&app.db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(q.year).bind(kind).bind(q.progress)
        .bind(pattern.as_deref()).bind(limit).bind(p.has_role(Role::LegalAdmin)).bind(scope[0].as_deref())
        .bind(scope[1].as_deref()).bind(scope[2].as_deref()).bind(q.from).bind(q.to).fetch_all(c).await)?,
    )
}
