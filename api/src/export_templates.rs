//! User-defined exports: for a kind of export (a subject) the user picks
//! columns from the subject's list and orders them, and may save the
//! choice under a name; an export then takes `?template=NAME` or
//! `?columns=a,b,c`. Templates are each user's own. The subjects and their
//! columns are declared by the modules that export them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::validate::text;
use crate::{on_db, on_tx};

/// A column an export can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Column {
    pub key: &'static str,
    /// The header in the sheet.
    pub label: &'static str,
}

/// The subjects and their columns, in their default order.
pub const SUBJECTS: &[(&str, &[Column])] = &[
    (
        "assessment_results",
        crate::legal::assessment::results::COLUMNS,
    ),
    (
        crate::legal::experts::export::SUBJECT,
        crate::legal::experts::export::COLUMNS,
    ),
];

const MAX_TEMPLATES: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/export-templates", get(index))
        .route(
            "/api/v1/export-templates/{subject}/{name}",
            put(save).delete(remove),
        )
}

fn columns_of(subject: &str) -> ApiResult<&'static [Column]> {
    SUBJECTS
        .iter()
        .find(|(s, _)| *s == subject)
        .map(|(_, c)| *c)
        .ok_or_else(|| ApiError::invalid("subject", "没有这种导出"))
}

/// `keys` as columns of `subject`: known, each once, at least one.
pub fn pick(subject: &str, field: &str, keys: &[String]) -> ApiResult<Vec<Column>> {
    let all = columns_of(subject)?;
    if keys.is_empty() || keys.len() > all.len() {
        return Err(ApiError::invalid(field, "请选择至少一列，且每列只选一次"));
    }
    let mut out: Vec<Column> = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let col = all.iter().find(|c| c.key == k.trim()).ok_or_else(|| {
            ApiError::invalid(format!("{field}[{i}]"), format!("没有“{k}”这一列"))
        })?;
        if out.contains(col) {
            return Err(ApiError::invalid(
                format!("{field}[{i}]"),
                "同一列只能选一次",
            ));
        }
        out.push(*col);
    }
    Ok(out)
}

/// The columns an export request asks for: a saved template of the
/// caller's, a list in the query, or else every column in order.
pub async fn chosen(
    app: &AppState,
    p: &Principal,
    subject: &str,
    template: Option<&str>,
    columns: Option<&str>,
) -> ApiResult<Vec<Column>> {
    const SQL: &str =
        "SELECT columns FROM export_templates WHERE user_id = $1 AND subject = $2 AND name = $3";
    if let Some(name) = template {
        let saved: Option<String> = on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(&p.user_id).bind(subject)
            .bind(name).fetch_optional(c).await)?;
        let saved = saved.ok_or_else(|| ApiError::invalid("template", "没有这个导出模板"))?;
        let keys: Vec<String> = serde_json::from_str(&saved).map_err(anyhow::Error::from)?;
        // A column dropped from the subject since is skipped, not an error.
        let all = columns_of(subject)?;
        return Ok(keys
            .iter()
            .filter_map(|k| all.iter().find(|c| c.key == k))
            .copied()
            .collect());
    }
    match columns {
        Some(list) => {
            let keys: Vec<String> = list.split(',').map(str::to_owned).collect();
            pick(subject, "columns", &keys)
        }
        None => Ok(columns_of(subject)?.to_vec()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    pub subject: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportTemplate {
    pub name: String,
    /// The column keys, in order.
    pub columns: Vec<String>,
}

#[derive(FromRow)]
struct TemplateRow {
    name: String,
    columns: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportTemplates {
    /// Every column the subject has, in the default order.
    pub columns: Vec<Column>,
    /// The caller's saved templates, by name.
    pub templates: Vec<ExportTemplate>,
}

/// The columns of a subject and the caller's saved templates for it.
#[utoipa::path(get, path = "/api/v1/export-templates", tag = "exports", params(TemplateQuery),
    responses((status = 200, body = ExportTemplates), (status = 422, body = crate::error::Problem)))]
pub async fn index(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<TemplateQuery>,
) -> ApiResult<Json<ExportTemplates>> {
    const SQL: &str = "SELECT name, columns FROM export_templates WHERE user_id = $1 AND subject = $2 ORDER BY name";
    let columns = columns_of(&q.subject)?.to_vec();
    let rows: Vec<TemplateRow> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(&p.user_id).bind(&q.subject).fetch_all(c).await)?;
    let templates = rows
        .into_iter()
        .map(|r| ExportTemplate {
            name: r.name,
            columns: serde_json::from_str(&r.columns).unwrap_or_default(),
        })
        .collect();
    Ok(Json(ExportTemplates { columns, templates }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub columns: Vec<String>,
}

/// Saves (or replaces) the caller's template `name` for `subject`.
#[utoipa::path(put, path = "/api/v1/export-templates/{subject}/{name}", tag = "exports",
    params(("subject" = String, Path), ("name" = String, Path)), request_body = TemplateInput,
    responses((status = 200, body = ExportTemplate), (status = 422, description = "unknown subject or column, a column twice, too many templates", body = crate::error::Problem)))]
pub async fn save(
    State(app): State<AppState>,
    p: Principal,
    Path((subject, name)): Path<(String, String)>,
    ApiJson(req): ApiJson<TemplateInput>,
) -> ApiResult<Json<ExportTemplate>> {
    const COUNT: &str =
        "SELECT COUNT(*) FROM export_templates WHERE user_id = $1 AND subject = $2 AND name <> $3";
    const SQL: &str = "INSERT INTO export_templates (id, user_id, subject, name, columns, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, subject, name) DO UPDATE \
         SET columns = excluded.columns, updated_at = excluded.updated_at";
    let name = text("name", Some(&name), 50, false)?;
    let columns: Vec<String> = pick(&subject, "columns", &req.columns)?
        .iter()
        .map(|c| c.key.to_owned())
        .collect();
    let mut tx = app.db.begin().await?;
    let n: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(COUNT).bind(&p.user_id).bind(&subject).bind(&name)
        .fetch_one(c).await)?;
    if n >= MAX_TEMPLATES {
        return Err(ApiError::invalid(
            "name",
            format!("每种导出最多保存 {MAX_TEMPLATES} 个模板"),
        ));
    }
    let json = serde_json::to_string(&columns).map_err(anyhow::Error::from)?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(ulid::Ulid::new().to_string()).bind(&p.user_id).bind(&subject)
        .bind(&name).bind(&json).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    tx.commit().await?;
    Ok(Json(ExportTemplate { name, columns }))
}

/// Deletes the caller's template.
#[utoipa::path(delete, path = "/api/v1/export-templates/{subject}/{name}", tag = "exports",
    params(("subject" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn remove(
    State(app): State<AppState>,
    p: Principal,
    Path((subject, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    const SQL: &str =
        "DELETE FROM export_templates WHERE user_id = $1 AND subject = $2 AND name = $3";
    let n = on_db!(&app.db, c => sqlx::query(SQL).bind(&p.user_id).bind(&subject).bind(&name)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}
