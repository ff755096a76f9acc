//! Warning rules (GK-18) as data: created, listed, read with their
//! versions, and changed by saving a new version (the old one is kept,
//! with the warnings it raised). Checked on save, 422 naming each field;
//! the General Office's disclosure administrators only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::admin;
use super::rule::RuleSpec;
use crate::authz::Principal;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/warning-rules", get(list).post(create))
        .route("/api/v1/warning-rules/{id}", get(one).put(change))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub id: String,
    pub version: i64,
    pub spec: RuleSpec,
    pub created_at: String,
    /// Earlier versions, newest first (for a single rule's view).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<RuleVersion>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleVersion {
    pub version: i64,
    pub spec: RuleSpec,
    pub created_at: String,
    pub superseded_at: Option<String>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    version: i64,
    spec: String,
    created_at: time::OffsetDateTime,
    superseded_at: Option<time::OffsetDateTime>,
}

impl Row {
    fn spec(&self) -> ApiResult<RuleSpec> {
        serde_json::from_str(&self.spec)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("rule {}: {e}", self.id)))
    }

    fn view(self) -> ApiResult<RuleView> {
        Ok(RuleView {
            spec: self.spec()?,
            id: self.id,
            version: self.version,
            created_at: crate::clock::rfc3339(self.created_at),
            history: Vec::new(),
        })
    }
}

/// The spec's category exists and is enabled, and its unit exists: 422
/// naming the field otherwise.
async fn check(app: &AppState, spec: &RuleSpec) -> ApiResult<()> {
    const CATEGORY: &str = "SELECT enabled FROM warning_categories WHERE id = $1";
    const UNIT: &str = "SELECT COUNT(*) FROM org_units WHERE id = $1";
    spec.check().map_err(ApiError::InvalidFields)?;
    let enabled: Option<bool> = on_db!(&app.db, c => sqlx::query_scalar(CATEGORY).bind(&spec.category_id).fetch_optional(c).await)?;
    let mut problems = Vec::new();
    match enabled {
        None => problems.push(("category_id", "预警类别不存在")),
        Some(false) => problems.push(("category_id", "预警类别已停用")),
        Some(true) => {}
    }
    if let Some(unit) = &spec.scope_unit_id {
        let n: i64 = on_db!(&app.db, c => sqlx::query_scalar(UNIT).bind(unit).fetch_one(c).await)?;
        if n == 0 {
            problems.push(("scope_unit_id", "单位不存在"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let errors = problems
        .into_iter()
        .map(|(f, r)| FieldError {
            field: f.into(),
            reason: r.into(),
        })
        .collect();
    Err(ApiError::InvalidFields(errors))
}

async fn insert(
    tx: &mut Tx,
    p: &Principal,
    id: &str,
    version: i64,
    spec: &RuleSpec,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO warning_rules (id, version, category_id, spec, enabled, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let text = serde_json::to_string(spec).map_err(anyhow::Error::from)?;
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(version).bind(&spec.category_id).bind(&text).bind(spec.enabled)
        .bind(&p.user_id).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Creates a rule, version 1.
#[utoipa::path(post, path = "/api/v1/warning-rules", tag = "warnings", request_body = RuleSpec,
    responses((status = 201, body = RuleView), (status = 403, body = crate::error::Problem),
        (status = 422, description = "each field that failed, in `errors`", body = crate::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(spec): ApiJson<RuleSpec>,
) -> ApiResult<(StatusCode, Json<RuleView>)> {
    admin(&app, &p, "warning.rule.create").await?;
    check(&app, &spec).await?;
    let id = ulid::Ulid::new().to_string();
    let mut tx = app.db.begin().await?;
    insert(&mut tx, &p, &id, 1, &spec).await?;
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "warning.rule.create",
        ("warning_rule", &id),
        json!({ "version": 1, "spec": spec }),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(load(&app, &id).await?)))
}

/// Saves a new version of a rule; warnings raised under the old one keep
/// naming it.
#[utoipa::path(put, path = "/api/v1/warning-rules/{id}", tag = "warnings", params(("id" = String, Path)),
    request_body = RuleSpec,
    responses((status = 200, body = RuleView), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn change(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<RuleSpec>,
) -> ApiResult<Json<RuleView>> {
    const SUPERSEDE: &str = "UPDATE warning_rules SET superseded_at = $3 WHERE id = $1 AND version = $2 AND superseded_at IS NULL";
    admin(&app, &p, "warning.rule.change").await?;
    let current = load(&app, &id).await?;
    check(&app, &spec).await?;
    if spec == current.spec {
        return Ok(Json(current));
    }
    let version = current.version + 1;
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SUPERSEDE).bind(&id).bind(current.version).bind(crate::clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::Conflict {
            code: "rule_changed",
            detail: "该规则刚被他人修改，请刷新后再改".into(),
        });
    }
    insert(&mut tx, &p, &id, version, &spec).await?;
    let detail = json!({ "version": version, "spec": spec });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "warning.rule.change",
        ("warning_rule", &id),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(load(&app, &id).await?))
}

/// A rule's live version with its history.
async fn load(app: &AppState, id: &str) -> ApiResult<RuleView> {
    const SQL: &str = "SELECT id, version, spec, created_at, superseded_at FROM warning_rules WHERE id = $1 ORDER BY version DESC";
    let mut rows: Vec<Row> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    if rows.is_empty() {
        return Err(ApiError::NotFound);
    }
    let live = rows.remove(0);
    let history = rows
        .into_iter()
        .map(|r| {
            Ok(RuleVersion {
                spec: r.spec()?,
                version: r.version,
                created_at: crate::clock::rfc3339(r.created_at),
                superseded_at: r.superseded_at.map(crate::clock::rfc3339),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let mut view = live.view()?;
    view.history = history;
    Ok(view)
}

/// One rule with its versions.
#[utoipa::path(get, path = "/api/v1/warning-rules/{id}", tag = "warnings", params(("id" = String, Path)),
    responses((status = 200, body = RuleView), (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<RuleView>> {
    admin(&app, &p, "warning.rule.read").await?;
    Ok(Json(load(&app, &id).await?))
}

/// The live version of every rule.
#[utoipa::path(get, path = "/api/v1/warning-rules", tag = "warnings",
    responses((status = 200, body = [RuleView]), (status = 403, body = crate::error::Problem)))]
pub async fn list(State(app): State<AppState>, p: Principal) -> ApiResult<Json<Vec<RuleView>>> {
    const SQL: &str = "SELECT id, version, spec, created_at, superseded_at FROM warning_rules \
         WHERE superseded_at IS NULL ORDER BY created_at, id";
    admin(&app, &p, "warning.rule.list").await?;
    let rows: Vec<Row> = on_db!(&app.db, c => sqlx::query_as(SQL).fetch_all(c).await)?;
    Ok(Json(
        rows.into_iter()
            .map(Row::view)
            .collect::<ApiResult<Vec<_>>>()?,
    ))
}
