//! Configuring forms (GK-11), PC, by the form senders of a unit: create,
//! edit and delete drafts, view, list with a fuzzy title search, copy a
//! form as a new draft, make the next version of a distributed one, and
//! read a form as JSON Schema.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::status::FormStatus;
use super::store::{self, FormRow, definition_text, parse_definition, select_forms};
use crate::authz::Principal;
use crate::calendar::parse_ymd;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::ids::{FormId, UnitId};
use crate::state::AppState;
use crate::validate::text;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/forms", get(list).post(create))
        .route("/api/v1/forms/{id}", get(one).put(edit).delete(remove))
        .route("/api/v1/forms/{id}/copy", post(copy))
        .route("/api/v1/forms/{id}/versions", post(next_version))
        .route("/api/v1/forms/{id}/schema", get(schema))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormView {
    pub id: String,
    /// Shared by every version of the form.
    pub lineage_id: String,
    pub version: i64,
    pub unit_id: String,
    pub unit_name: String,
    pub title: String,
    pub description: String,
    pub deadline_on: String,
    #[schema(value_type = String)]
    pub status: FormStatus,
    /// The definition document (docs/forms.md).
    #[schema(value_type = Object)]
    pub definition: Value,
    pub created_at: String,
    pub updated_at: String,
    pub distributed_at: Option<String>,
}

impl FormRow {
    pub fn view(&self) -> ApiResult<FormView> {
        Ok(FormView {
            id: self.id.to_string(),
            lineage_id: self.lineage_id.clone(),
            version: self.version,
            unit_id: self.unit_id.to_string(),
            unit_name: self.unit_name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            deadline_on: self.deadline_on.clone(),
            status: self.status,
            definition: serde_json::to_value(self.definition()?).unwrap_or_default(),
            created_at: crate::clock::rfc3339(self.created_at),
            updated_at: crate::clock::rfc3339(self.updated_at),
            distributed_at: self.distributed_at.map(crate::clock::rfc3339),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormInput {
    /// The sender's unit; default: the caller's own unit.
    pub unit_id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The last day to submit, `YYYY-MM-DD`.
    pub deadline_on: String,
    /// Sections of fields (docs/forms.md).
    #[schema(value_type = Object)]
    pub definition: Value,
}

/// What a form's input holds once checked.
struct Checked {
    title: String,
    description: String,
    deadline_on: String,
    definition: String,
}

fn check_input(req: &FormInput) -> ApiResult<Checked> {
    let title = text("title", Some(&req.title), 100, false)?;
    let description = text("description", Some(&req.description), 2000, true).or_else(|e| {
        if req.description.trim().is_empty() {
            Ok(String::new())
        } else {
            Err(e)
        }
    })?;
    parse_ymd(&req.deadline_on)
        .ok_or_else(|| ApiError::invalid("deadline_on", "日期格式为 YYYY-MM-DD"))?;
    let def = parse_definition(&req.definition)?;
    Ok(Checked {
        title,
        description,
        deadline_on: req.deadline_on.clone(),
        definition: definition_text(&def),
    })
}

/// The unit a new form is for: one the caller sends for (403, audited).
async fn sender_unit(app: &AppState, p: &Principal, unit_id: Option<&str>) -> ApiResult<UnitId> {
    if p.require_any(&[crate::authz::Role::FormSender]).is_err() {
        crate::audit::record_denied(app, p, "form.create", "form", "").await;
        return Err(ApiError::Forbidden);
    }
    let unit = match unit_id {
        Some(id) => UnitId::new(id),
        None => p
            .unit_id
            .clone()
            .ok_or_else(|| ApiError::invalid("unit_id", "须指定发布单位"))?,
    };
    let path = crate::seal::unit_path(app, "unit_id", unit.as_str()).await?;
    if !store::sends_for(p, &path) {
        crate::audit::record_denied(app, p, "form.create", "org_unit", unit.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    Ok(unit)
}

const INSERT: &str = "INSERT INTO forms (id, lineage_id, version, unit_id, title, description, deadline_on, definition, \
     status, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', $9, $10, $10)";

/// Stores a new draft and audits it; answers its view.
async fn insert(
    app: &AppState,
    p: &Principal,
    (lineage, version): (Option<String>, i64),
    unit: &UnitId,
    c: Checked,
    action: &'static str,
) -> ApiResult<FormView> {
    let id = FormId::generate();
    let lineage = lineage.unwrap_or_else(|| id.to_string());
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, t => sqlx::query(INSERT).bind(&id).bind(&lineage).bind(version).bind(unit).bind(&c.title)
        .bind(&c.description).bind(&c.deadline_on).bind(&c.definition).bind(&p.user_id).bind(crate::clock::now())
        .execute(t).await.map(|_| ()))?;
    let detail =
        json!({ "title": c.title, "unit_id": unit, "lineage_id": lineage, "version": version });
    crate::audit::success(app, &mut tx, p, action, ("form", id.as_str()), detail).await?;
    tx.commit().await?;
    store::form(app, p, &id).await?.view()
}

/// Creates a draft form.
#[utoipa::path(post, path = "/api/v1/forms", tag = "forms", request_body = FormInput,
    responses((status = 201, body = FormView), (status = 403, body = crate::error::Problem),
        (status = 422, description = "each field and rule that failed, in `errors`", body = crate::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<FormInput>,
) -> ApiResult<(StatusCode, Json<FormView>)> {
    let unit = sender_unit(&app, &p, req.unit_id.as_deref()).await?;
    let checked = check_input(&req)?;
    let view = insert(&app, &p, (None, 1), &unit, checked, "form.create").await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A draft the caller may change: 409 once distributed.
async fn draft(app: &AppState, p: &Principal, id: &FormId) -> ApiResult<FormRow> {
    let form = store::form(app, p, id).await?;
    if form.status != FormStatus::Draft {
        return Err(ApiError::Conflict {
            code: "form_frozen",
            detail: "表单已下发，不能修改；请新建版本".into(),
        });
    }
    Ok(form)
}

/// Replaces a draft's title, description, deadline and definition.
#[utoipa::path(put, path = "/api/v1/forms/{id}", tag = "forms", params(("id" = String, Path)), request_body = FormInput,
    responses((status = 200, body = FormView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "distributed: make a new version", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn edit(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
    ApiJson(req): ApiJson<FormInput>,
) -> ApiResult<Json<FormView>> {
    const SQL: &str = "UPDATE forms SET title = $2, description = $3, deadline_on = $4, definition = $5, updated_at = $6 \
         WHERE id = $1 AND status = 'draft'";
    let form = draft(&app, &p, &id).await?;
    if req
        .unit_id
        .as_deref()
        .is_some_and(|u| u != form.unit_id.as_str())
    {
        return Err(ApiError::invalid("unit_id", "不能更改表单的发布单位"));
    }
    let c = check_input(&req)?;
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, t => sqlx::query(SQL).bind(&id).bind(&c.title).bind(&c.description).bind(&c.deadline_on)
        .bind(&c.definition).bind(crate::clock::now()).execute(t).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::Conflict {
            code: "form_frozen",
            detail: "表单已下发，不能修改".into(),
        });
    }
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "form.edit",
        ("form", id.as_str()),
        json!({ "title": c.title }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(store::form(&app, &p, &id).await?.view()?))
}

/// Deletes a draft.
#[utoipa::path(delete, path = "/api/v1/forms/{id}", tag = "forms", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn remove(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
) -> ApiResult<StatusCode> {
    const SQL: &str = "DELETE FROM forms WHERE id = $1 AND status = 'draft'";
    let form = draft(&app, &p, &id).await?;
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, t => sqlx::query(SQL).bind(&id).execute(t).await.map(|_| ()))?;
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "form.delete",
        ("form", id.as_str()),
        json!({ "title": form.title }),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One form.
#[utoipa::path(get, path = "/api/v1/forms/{id}", tag = "forms", params(("id" = String, Path)),
    responses((status = 200, body = FormView), (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
) -> ApiResult<Json<FormView>> {
    Ok(Json(store::form(&app, &p, &id).await?.view()?))
}

/// The form as JSON Schema (draft 2020-12) of a submitted return.
#[utoipa::path(get, path = "/api/v1/forms/{id}/schema", tag = "forms", params(("id" = String, Path)),
    responses((status = 200, description = "JSON Schema", body = Object), (status = 404, body = crate::error::Problem)))]
pub async fn schema(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
) -> ApiResult<Json<Value>> {
    let form = store::form(&app, &p, &id).await?;
    Ok(Json(super::schema::of(&form.definition()?, &form.title)))
}

/// A form's content as the input of a new draft.
fn as_input(form: &FormRow, title: String) -> Checked {
    Checked {
        title,
        description: form.description.clone(),
        deadline_on: form.deadline_on.clone(),
        definition: form.definition.clone(),
    }
}

/// Copies a form as the start of a new one: a new draft (new ids, version 1).
#[utoipa::path(post, path = "/api/v1/forms/{id}/copy", tag = "forms", params(("id" = String, Path)),
    responses((status = 201, body = FormView), (status = 404, body = crate::error::Problem)))]
pub async fn copy(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
) -> ApiResult<(StatusCode, Json<FormView>)> {
    let form = store::form(&app, &p, &id).await?;
    let mut title: String = format!("{}（副本）", form.title);
    if title.chars().count() > 100 {
        title = form.title.clone();
    }
    let view = insert(
        &app,
        &p,
        (None, 1),
        &form.unit_id,
        as_input(&form, title),
        "form.create",
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Starts the next version of a distributed form, as a draft of the same
/// lineage; the distributed one stays as it was, with its returns.
#[utoipa::path(post, path = "/api/v1/forms/{id}/versions", tag = "forms", params(("id" = String, Path)),
    responses((status = 201, body = FormView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "a draft already is the newest version", body = crate::error::Problem)))]
pub async fn next_version(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
) -> ApiResult<(StatusCode, Json<FormView>)> {
    const LATEST: &str = "SELECT MAX(version) FROM forms WHERE lineage_id = $1";
    let form = store::form(&app, &p, &id).await?;
    let latest: Option<i64> =
        on_db!(&app.db, c => sqlx::query_scalar(LATEST).bind(&form.lineage_id).fetch_one(c).await)?;
    if form.status == FormStatus::Draft || latest != Some(form.version) {
        return Err(ApiError::Conflict {
            code: "form_not_latest",
            detail: "只能从已下发的最新版本新建版本".into(),
        });
    }
    let lineage = (Some(form.lineage_id.clone()), form.version + 1);
    let c = as_input(&form, form.title.clone());
    let view = insert(&app, &p, lineage, &form.unit_id, c, "form.create").await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FormQuery {
    /// Words of the title, in any order (each must appear).
    pub q: Option<String>,
    /// draft or distributed.
    #[param(value_type = Option<String>)]
    pub status: Option<FormStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormSummary {
    pub id: String,
    pub lineage_id: String,
    pub version: i64,
    pub unit_name: String,
    pub title: String,
    pub deadline_on: String,
    #[schema(value_type = String)]
    pub status: FormStatus,
    pub updated_at: String,
}

/// The forms of the units the caller sends for, newest first, at most 200;
/// `q` finds titles containing each of its first three words.
#[utoipa::path(get, path = "/api/v1/forms", tag = "forms", params(FormQuery),
    responses((status = 200, body = [FormSummary]), (status = 401, body = crate::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<FormQuery>,
) -> ApiResult<Json<Vec<FormSummary>>> {
    const SQL: &str = concat!(
        select_forms!(),
        "WHERE EXISTS (SELECT 1 FROM role_assignments ra JOIN org_units su ON su.id = ra.unit_id \
         WHERE ra.user_id = $1 AND ra.role = 'form_sender' AND substr(u.path, 1, length(su.path)) = su.path) \
         AND ($2 IS NULL OR f.status = $2) AND ($3 IS NULL OR f.title LIKE $3 ESCAPE '\\') \
         AND ($4 IS NULL OR f.title LIKE $4 ESCAPE '\\') AND ($5 IS NULL OR f.title LIKE $5 ESCAPE '\\') \
         ORDER BY f.updated_at DESC, f.id LIMIT 200"
    );
    let mut words =
        q.q.as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(crate::db::like_pattern);
    let status = q.status.map(|s| s.as_str());
    let (w1, w2, w3) = (words.next(), words.next(), words.next());
    let rows: Vec<FormRow> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(&p.user_id).bind(status)
        .bind(&w1).bind(&w2).bind(&w3).fetch_all(c).await)?;
    let found = rows
        .into_iter()
        .map(|f| FormSummary {
            id: f.id.to_string(),
            lineage_id: f.lineage_id,
            version: f.version,
            unit_name: f.unit_name,
            title: f.title,
            deadline_on: f.deadline_on,
            status: f.status,
            updated_at: crate::clock::rfc3339(f.updated_at),
        })
        .collect();
    Ok(Json(found))
}
