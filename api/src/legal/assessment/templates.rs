//! The year's assessment: the office creates it for a track (municipal
//! units or district governments), builds the indicator tree while it is
//! a draft, publishes it to the units of the track (who are told), and at
//! the end publishes the results. Lists are searched by year and track.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::points::Points;
use super::store::{
    self, AssessmentRow, AssessmentStatus, IndicatorRow, Track, matches, select_assessments,
};
use super::tree::{Category, TreeInput, check};
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::ids::{AssessmentId, IndicatorId, UnitId};
use crate::legal::cleanup::campaigns::deadline;
use crate::legal::cleanup::store::{administers, people};
use crate::outbox::task_notice::{TaskNotice, tell};
use crate::state::AppState;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/assessments", get(index).post(create))
        .route("/api/v1/legal/assessments/{id}", get(show))
        .route("/api/v1/legal/assessments/{id}/indicators", put(indicators))
        .route("/api/v1/legal/assessments/{id}/publication", post(publish))
        .route(
            "/api/v1/legal/assessments/{id}/results/publication",
            post(publish_results),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    pub year: i32,
    #[schema(value_type = String)]
    pub track: Track,
    /// The last day for supporting material, YYYY-MM-DD.
    pub deadline_on: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    pub id: String,
    pub name: String,
    #[schema(value_type = f64)]
    pub max_score: Points,
    pub guide: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    /// The sum of its indicators' maximums.
    #[schema(value_type = f64)]
    pub max_score: Points,
    pub indicators: Vec<IndicatorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    pub id: String,
    pub year: i64,
    #[schema(value_type = String)]
    pub track: Track,
    pub title: String,
    pub deadline_on: String,
    #[schema(value_type = String)]
    pub status: AssessmentStatus,
    pub status_label: String,
    #[schema(value_type = f64)]
    pub max_score: Points,
    pub categories: Vec<CategoryView>,
    /// Units assessed (once published).
    pub units: usize,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub published_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub results_published_at: Option<OffsetDateTime>,
}

/// "2026年度法治政府建设考核（区政府）"
pub fn title(row: &AssessmentRow) -> String {
    format!(
        "{}年度法治政府建设考核（{}）",
        row.year,
        row.track.label_zh()
    )
}

/// The rows of the tree as categories with their indicators.
pub fn tree_view(rows: &[IndicatorRow]) -> Vec<CategoryView> {
    let mut out: Vec<CategoryView> = Vec::new();
    for r in rows {
        match &r.parent_id {
            None => out.push(CategoryView {
                id: r.id.to_string(),
                name: r.name.clone(),
                max_score: Points(0),
                indicators: Vec::new(),
            }),
            Some(_) => {
                if let Some(c) = out.last_mut() {
                    c.max_score = c.max_score + r.max();
                    c.indicators.push(IndicatorView {
                        id: r.id.to_string(),
                        name: r.name.clone(),
                        max_score: r.max(),
                        guide: r.guide.clone(),
                    });
                }
            }
        }
    }
    out
}

async fn view(app: &AppState, row: &AssessmentRow) -> ApiResult<AssessmentView> {
    let categories = tree_view(&store::indicators(app, &row.id).await?);
    let units = store::assessed_units(app, &row.id).await?.len();
    Ok(AssessmentView {
        id: row.id.to_string(),
        year: row.year,
        track: row.track,
        title: title(row),
        deadline_on: row.deadline_on.clone(),
        status: row.status,
        status_label: row.status.label_zh().to_owned(),
        max_score: categories.iter().map(|c| c.max_score).sum(),
        categories,
        units,
        published_at: row.published_at,
        results_published_at: row.results_published_at,
    })
}

/// Creates the year's assessment of a track, as a draft.
#[utoipa::path(post, path = "/api/v1/legal/assessments", tag = "legal", request_body = AssessmentInput,
    responses((status = 201, body = AssessmentView), (status = 403, body = crate::error::Problem),
        (status = 409, description = "that year's assessment of the track exists", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<AssessmentInput>,
) -> ApiResult<(StatusCode, Json<AssessmentView>)> {
    const SQL: &str = "INSERT INTO assessments (id, office_unit_id, year, track, deadline_on, status, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7) ON CONFLICT (office_unit_id, year, track) DO NOTHING";
    p.require_any(&[Role::LegalAdmin])?;
    let office = p
        .grants
        .iter()
        .find(|g| g.role == Role::LegalAdmin)
        .and_then(|g| g.unit_id.clone())
        .ok_or(ApiError::Forbidden)?;
    if !(2000..=2100).contains(&req.year) {
        return Err(ApiError::invalid("year", "年度须在 2000 至 2100 之间"));
    }
    let deadline_on = deadline(req.deadline_on.as_deref())?;
    let id = AssessmentId::generate();
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&office).bind(i64::from(req.year)).bind(req.track)
        .bind(&deadline_on).bind(&p.user_id).bind(crate::clock::now()).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::Conflict {
            code: "assessment_exists",
            detail: format!("{}年度{}的考核已存在", req.year, req.track.label_zh()),
        });
    }
    let detail = json!({ "year": req.year, "track": req.track });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.assessment.create",
        ("assessment", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    let (row, _) = store::assessment(&app, &p, &id).await?;
    Ok((StatusCode::CREATED, Json(view(&app, &row).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    /// Fuzzy: a year ("2026"), a track ("区政府") or part of the title.
    pub q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentItem {
    pub id: String,
    pub year: i64,
    #[schema(value_type = String)]
    pub track: Track,
    pub title: String,
    #[schema(value_type = String)]
    pub status: AssessmentStatus,
    pub status_label: String,
    pub deadline_on: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentList {
    pub items: Vec<AssessmentItem>,
}

/// The assessments the caller runs, or that assess their unit (once
/// published); newest year first.
#[utoipa::path(get, path = "/api/v1/legal/assessments", tag = "legal", params(AssessmentQuery),
    responses((status = 200, body = AssessmentList), (status = 403, body = crate::error::Problem)))]
pub async fn index(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<AssessmentQuery>,
) -> ApiResult<Json<AssessmentList>> {
    const ALL: &str = concat!(
        select_assessments!(),
        "ORDER BY a.year DESC, a.track LIMIT 200"
    );
    const MINE: &str =
        "SELECT DISTINCT assessment_id FROM assessment_units WHERE unit_id IN ({in})";
    p.require_any(&[Role::LegalAdmin, Role::LegalReporter, Role::LegalReviewer])?;
    let rows: Vec<AssessmentRow> = on_db!(&app.db, c => sqlx::query_as(ALL).fetch_all(c).await)?;
    let units: Vec<&str> = store::legal_units(&p)
        .into_iter()
        .map(UnitId::as_str)
        .collect();
    let mine: Vec<(AssessmentId,)> = crate::db::fetch_in(&app.db, MINE, &units).await?;
    let items = rows
        .iter()
        .filter(|r| {
            administers(&p, &r.office_path)
                || (r.status != AssessmentStatus::Draft && mine.iter().any(|(m,)| *m == r.id))
        })
        .map(|r| (r, title(r)))
        .filter(|(r, t)| {
            matches(
                q.q.as_deref(),
                &format!("{} {t} {}", r.year, r.status.label_zh()),
            )
        })
        .map(|(r, title)| AssessmentItem {
            id: r.id.to_string(),
            year: r.year,
            track: r.track,
            title,
            status: r.status,
            status_label: r.status.label_zh().to_owned(),
            deadline_on: r.deadline_on.clone(),
        })
        .collect();
    Ok(Json(AssessmentList { items }))
}

/// An assessment with its indicator tree.
#[utoipa::path(get, path = "/api/v1/legal/assessments/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = AssessmentView), (status = 404, body = crate::error::Problem)))]
pub async fn show(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<AssessmentId>,
) -> ApiResult<Json<AssessmentView>> {
    let (row, _) = store::assessment(&app, &p, &id).await?;
    Ok(Json(view(&app, &row).await?))
}

/// Replaces the indicator tree of a draft.
#[utoipa::path(put, path = "/api/v1/legal/assessments/{id}/indicators", tag = "legal", params(("id" = String, Path)),
    request_body = TreeInput,
    responses((status = 200, body = AssessmentView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "already published", body = crate::error::Problem),
        (status = 422, description = "each problem by field", body = crate::error::Problem)))]
pub async fn indicators(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<AssessmentId>,
    ApiJson(req): ApiJson<TreeInput>,
) -> ApiResult<Json<AssessmentView>> {
    let row = store::managed(&app, &p, &id).await?;
    let tree = check(&req).map_err(ApiError::InvalidFields)?;
    let mut tx = app.db.begin().await?;
    still(&mut tx, &id, AssessmentStatus::Draft).await?;
    write_tree(&mut tx, &id, &tree).await?;
    let n: usize = tree.iter().map(|c| c.indicators.len()).sum();
    let detail = json!({ "categories": tree.len(), "indicators": n });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.assessment.indicators",
        ("assessment", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(view(&app, &row).await?))
}

/// The assessment is still `status` (in the transaction), else 409.
async fn still(tx: &mut Tx, id: &AssessmentId, status: AssessmentStatus) -> ApiResult<()> {
    const SQL: &str = "SELECT status FROM assessments WHERE id = $1";
    let now: AssessmentStatus =
        on_tx!(tx, c => sqlx::query_scalar(SQL).bind(id).fetch_one(c).await)?;
    if now != status {
        return Err(ApiError::Conflict {
            code: "wrong_assessment_state",
            detail: format!("考核当前为“{}”，不能进行该操作", now.label_zh()),
        });
    }
    Ok(())
}

pub async fn write_tree(tx: &mut Tx, id: &AssessmentId, tree: &[Category]) -> ApiResult<()> {
    const DELETE: &str = "DELETE FROM assessment_indicators WHERE assessment_id = $1";
    const INSERT: &str = "INSERT INTO assessment_indicators (id, assessment_id, parent_id, position, name, \
         max_tenths, guide) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_tx!(tx, c => sqlx::query(DELETE).bind(id).execute(c).await.map(|_| ()))?;
    for (i, cat) in tree.iter().enumerate() {
        let cid = IndicatorId::generate();
        on_tx!(tx, c => sqlx::query(INSERT).bind(&cid).bind(id).bind(None::<&str>).bind(i as i64)
            .bind(&cat.name).bind(None::<i64>).bind("").execute(c).await.map(|_| ()))?;
        for (j, ind) in cat.indicators.iter().enumerate() {
            on_tx!(tx, c => sqlx::query(INSERT).bind(IndicatorId::generate()).bind(id).bind(&cid).bind(j as i64)
                .bind(&ind.name).bind(ind.max.0).bind(&ind.guide).execute(c).await.map(|_| ()))?;
        }
    }
    Ok(())
}

/// Publishes the indicators to every unit of the track; they are told.
#[utoipa::path(post, path = "/api/v1/legal/assessments/{id}/publication", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = AssessmentView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "not a draft, or no indicator yet", body = crate::error::Problem)))]
pub async fn publish(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<AssessmentId>,
) -> ApiResult<Json<AssessmentView>> {
    const UNITS: &str = "SELECT id FROM org_units WHERE kind = $1 ORDER BY path";
    const ASSESS: &str = "INSERT INTO assessment_units (assessment_id, unit_id) VALUES ($1, $2)";
    const MARK: &str =
        "UPDATE assessments SET status = 'published', published_at = $2 WHERE id = $1";
    let row = store::managed(&app, &p, &id).await?;
    if !store::indicators(&app, &id)
        .await?
        .iter()
        .any(|i| i.parent_id.is_some())
    {
        return Err(ApiError::Conflict {
            code: "no_indicators",
            detail: "请先设置考核指标".into(),
        });
    }
    let mut tx = app.db.begin().await?;
    still(&mut tx, &id, AssessmentStatus::Draft).await?;
    let units: Vec<UnitId> =
        on_tx!(&mut tx, c => sqlx::query_scalar(UNITS).bind(row.track.kind()).fetch_all(c).await)?;
    on_tx!(&mut tx, c => sqlx::query(MARK).bind(&id).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    let title = title(&row);
    let notice = TaskNotice {
        kind: "assessment_published",
        title: &title,
        deadline_on: &row.deadline_on,
        link: ("assessment_id", id.as_str()),
        occasion: "published",
    };
    for unit in &units {
        on_tx!(&mut tx, c => sqlx::query(ASSESS).bind(&id).bind(unit).execute(c).await.map(|_| ()))?;
        let reporters = people(&mut tx, unit, Role::LegalReporter).await?;
        tell(&app, &mut tx, &notice, &reporters).await?;
    }
    let detail = json!({ "units": units.len() });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.assessment.publish",
        ("assessment", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    let (row, _) = store::assessment(&app, &p, &id).await?;
    Ok(Json(view(&app, &row).await?))
}

/// Publishes the results: every assessed unit sees the totals and the
/// ranking; scores are frozen.
#[utoipa::path(post, path = "/api/v1/legal/assessments/{id}/results/publication", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = AssessmentView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "not published, or already", body = crate::error::Problem)))]
pub async fn publish_results(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<AssessmentId>,
) -> ApiResult<Json<AssessmentView>> {
    const MARK: &str = "UPDATE assessments SET status = 'results_published', results_published_at = $2 WHERE id = $1";
    store::managed(&app, &p, &id).await?;
    let mut tx = app.db.begin().await?;
    still(&mut tx, &id, AssessmentStatus::Published).await?;
    on_tx!(&mut tx, c => sqlx::query(MARK).bind(&id).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.assessment.publish_results",
        ("assessment", id.as_str()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    let (row, _) = store::assessment(&app, &p, &id).await?;
    Ok(Json(view(&app, &row).await?))
}

/// 409 unless scores may change now.
pub async fn scoring(tx: &mut Tx, id: &AssessmentId) -> ApiResult<()> {
    still(tx, id, AssessmentStatus::Published).await
}
