//! Categories of warning rules (GK-17), by business type: create, rename,
//! enable or disable, list; a category that has rules cannot be deleted
//! (disable it instead). The General Office's disclosure administrators
//! only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::admin;
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::validate::text;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/warning-categories", get(list).post(create))
        .route(
            "/api/v1/warning-categories/{id}",
            patch(change).delete(remove),
        )
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    pub business_type: String,
    pub enabled: bool,
    /// Live rules in the category.
    pub rules: i64,
}

macro_rules! select_categories {
    () => {
        "SELECT c.id, c.name, c.business_type, c.enabled, \
         (SELECT COUNT(*) FROM warning_rules r WHERE r.category_id = c.id AND r.superseded_at IS NULL) AS rules \
         FROM warning_categories c "
    };
}

/// One category; 404 when there is none.
pub(super) async fn one(app: &AppState, id: &str) -> ApiResult<CategoryView> {
    const SQL: &str = concat!(select_categories!(), "WHERE c.id = $1");
    let row: Option<CategoryView> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.ok_or(ApiError::NotFound)
}

/// Every category, by name.
#[utoipa::path(get, path = "/api/v1/warning-categories", tag = "warnings",
    responses((status = 200, body = [CategoryView]), (status = 403, body = crate::error::Problem)))]
pub async fn list(State(app): State<AppState>, p: Principal) -> ApiResult<Json<Vec<CategoryView>>> {
    admin(&app, &p, "warning.category.list").await?;
    const SQL: &str = concat!(select_categories!(), "ORDER BY c.name");
    let rows: Vec<CategoryView> = on_db!(&app.db, c => sqlx::query_as(SQL).fetch_all(c).await)?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub name: String,
    /// e.g. 申请频次, 重复申请, 多机关申请.
    pub business_type: String,
}

/// A second category of the same name is a 409, not a 500.
fn duplicate(e: sqlx::Error) -> ApiError {
    if crate::db::constraint::violated(&e).is_some() {
        return ApiError::Conflict {
            code: "category_exists",
            detail: "已有同名的预警类别".into(),
        };
    }
    e.into()
}

/// Creates a category (enabled).
#[utoipa::path(post, path = "/api/v1/warning-categories", tag = "warnings", request_body = NewCategory,
    responses((status = 201, body = CategoryView), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewCategory>,
) -> ApiResult<(StatusCode, Json<CategoryView>)> {
    const SQL: &str = "INSERT INTO warning_categories (id, name, business_type, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, TRUE, $4, $4)";
    admin(&app, &p, "warning.category.create").await?;
    let name = text("name", Some(&req.name), 50, false)?;
    let kind = text("business_type", Some(&req.business_type), 50, false)?;
    let id = ulid::Ulid::new().to_string();
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&name).bind(&kind).bind(crate::clock::now())
        .execute(c).await.map(|_| ())).map_err(duplicate)?;
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "warning.category.create",
        ("warning_category", &id),
        json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(one(&app, &id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    pub name: Option<String>,
    pub business_type: Option<String>,
    /// A disabled category's rules raise nothing.
    pub enabled: Option<bool>,
}

/// Renames, retypes, enables or disables a category.
#[utoipa::path(patch, path = "/api/v1/warning-categories/{id}", tag = "warnings", params(("id" = String, Path)),
    request_body = CategoryChange,
    responses((status = 200, body = CategoryView), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn change(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CategoryChange>,
) -> ApiResult<Json<CategoryView>> {
    const SQL: &str = "UPDATE warning_categories SET name = $2, business_type = $3, enabled = $4, updated_at = $5 WHERE id = $1";
    admin(&app, &p, "warning.category.change").await?;
    let now = one(&app, &id).await?;
    let name = match &req.name {
        Some(n) => text("name", Some(n), 50, false)?,
        None => now.name,
    };
    let kind = match &req.business_type {
        Some(k) => text("business_type", Some(k), 50, false)?,
        None => now.business_type,
    };
    let enabled = req.enabled.unwrap_or(now.enabled);
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&name).bind(&kind).bind(enabled).bind(crate::clock::now())
        .execute(c).await.map(|_| ())).map_err(duplicate)?;
    let detail = json!({ "name": name, "business_type": kind, "enabled": enabled });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "warning.category.change",
        ("warning_category", &id),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(one(&app, &id).await?))
}

/// Deletes a category without rules.
#[utoipa::path(delete, path = "/api/v1/warning-categories/{id}", tag = "warnings", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem),
        (status = 409, description = "the category has rules: disable it instead", body = crate::error::Problem)))]
pub async fn remove(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    const USED: &str = "SELECT (SELECT COUNT(*) FROM warning_rules WHERE category_id = $1) + \
         (SELECT COUNT(*) FROM warnings WHERE category_id = $1)";
    const SQL: &str = "DELETE FROM warning_categories WHERE id = $1";
    admin(&app, &p, "warning.category.delete").await?;
    one(&app, &id).await?;
    let mut tx = app.db.begin().await?;
    let used: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(USED).bind(&id).fetch_one(c).await)?;
    if used > 0 {
        return Err(ApiError::Conflict {
            code: "category_in_use",
            detail: "该类别下有预警规则，不能删除，请改为停用".into(),
        });
    }
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).execute(c).await.map(|_| ()))?;
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "warning.category.delete",
        ("warning_category", &id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
