//! The expert library's routes: every unit searches and reads it; only
//! the legal affairs office creates, edits and deletes (soft, audited).
//! Contacts are decrypted for the office and masked for everyone else.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::record::{Expert, ExpertInput, check, mask_email, shown};
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::ids::ExpertId;
use crate::pii::PiiCipher;
use crate::pii::mask_phone;
use crate::state::AppState;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/experts", get(list).post(create))
        .route("/api/v1/legal/experts/overview", get(overview))
        .route(
            "/api/v1/legal/experts/{id}",
            get(one).put(update).delete(remove),
        )
}

const PHONE: &str = "experts.phone";
const EMAIL: &str = "experts.email";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpertView {
    pub id: String,
    pub category: String,
    pub name: String,
    pub unit_name: String,
    pub post: String,
    pub fields: Vec<String>,
    /// Whole for the legal affairs office, masked for everyone else.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub profile: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
}

#[derive(FromRow)]
pub struct ExpertRow {
    pub id: ExpertId,
    category: String,
    name: String,
    unit_name: String,
    post: String,
    fields: String,
    phone: Option<Vec<u8>>,
    email: Option<Vec<u8>>,
    profile: String,
    updated_at: OffsetDateTime,
}

pub const SELECT: &str = "SELECT id, category, name, unit_name, post, fields, phone, email, profile, updated_at \
     FROM experts WHERE deleted_at IS NULL ";

/// Any official of a unit reads the library.
pub fn reader(p: &Principal) -> ApiResult<()> {
    if p.unit_id.is_some() || p.has_role(Role::LegalAdmin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The office sees contacts whole.
pub fn sees_contacts(p: &Principal) -> bool {
    p.has_role(Role::LegalAdmin)
}

pub fn view(app: &AppState, r: ExpertRow, whole: bool) -> ApiResult<ExpertView> {
    let open = |field: &str, sealed: Option<Vec<u8>>| -> ApiResult<Option<String>> {
        sealed
            .map(|s| app.pii.decrypt(field, &s))
            .transpose()
            .map_err(|e| ApiError::Internal(e.into()))
    };
    let phone = open(PHONE, r.phone)?;
    let email = open(EMAIL, r.email)?;
    Ok(ExpertView {
        id: r.id.into_string(),
        category: r.category,
        name: r.name,
        unit_name: r.unit_name,
        post: r.post,
        fields: serde_json::from_str(&r.fields).unwrap_or_default(),
        phone: shown(phone.as_deref(), whole, mask_phone),
        email: shown(email.as_deref(), whole, mask_email),
        profile: r.profile,
        updated_at: r.updated_at,
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExpertQuery {
    /// Finds the text in the name, unit, post or fields (`张` finds 张三).
    pub q: Option<String>,
    pub category: Option<String>,
    pub limit: Option<i64>,
}

/// The experts matching `q`, by category and name.
pub async fn matching(app: &AppState, q: &ExpertQuery, limit: i64) -> ApiResult<Vec<ExpertRow>> {
    let sql = format!(
        "{SELECT}AND ($1 IS NULL OR search LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR category = $2) \
         ORDER BY category, name, id LIMIT $3"
    );
    let pattern =
        q.q.as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| crate::db::like_pattern(&w.to_lowercase()));
    Ok(
        on_db!(&app.db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(pattern.as_deref())
        .bind(q.category.as_deref()).bind(limit).fetch_all(c).await)?,
    )
}

/// Searches the library (every unit).
#[utoipa::path(get, path = "/api/v1/legal/experts", tag = "legal", params(ExpertQuery),
    responses((status = 200, body = Vec<ExpertView>), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ExpertQuery>,
) -> ApiResult<Json<Vec<ExpertView>>> {
    reader(&p)?;
    let limit = crate::pagination::page_limit(q.limit)?;
    let whole = sees_contacts(&p);
    let rows = matching(&app, &q, limit).await?;
    let views = rows
        .into_iter()
        .map(|r| view(&app, r, whole))
        .collect::<ApiResult<_>>()?;
    Ok(Json(views))
}

async fn find(app: &AppState, id: &ExpertId) -> ApiResult<ExpertRow> {
    let sql = format!("{SELECT}AND id = $1");
    let row: Option<ExpertRow> = on_db!(&app.db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(c).await)?;
    row.ok_or(ApiError::NotFound)
}

/// One expert (every unit).
#[utoipa::path(get, path = "/api/v1/legal/experts/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = ExpertView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ExpertId>,
) -> ApiResult<Json<ExpertView>> {
    reader(&p)?;
    let row = find(&app, &id).await?;
    Ok(Json(view(&app, row, sees_contacts(&p))?))
}

fn editor(p: &Principal) -> ApiResult<()> {
    p.require_any(&[Role::LegalAdmin])
}

fn checked(input: ExpertInput) -> ApiResult<Expert> {
    check(input).map_err(ApiError::InvalidFields)
}

/// Adds an expert (the legal affairs office).
#[utoipa::path(post, path = "/api/v1/legal/experts", tag = "legal", request_body = ExpertInput,
    responses((status = 201, body = ExpertView), (status = 403, body = crate::error::Problem),
        (status = 422, description = "each problem by field", body = crate::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(input): ApiJson<ExpertInput>,
) -> ApiResult<(StatusCode, Json<ExpertView>)> {
    editor(&p)?;
    let e = checked(input)?;
    let id = ExpertId::generate();
    write(&app, &p, &id, &e, "legal.expert.create").await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&app, find(&app, &id).await?, true)?),
    ))
}

/// Replaces an expert's record (the legal affairs office).
#[utoipa::path(put, path = "/api/v1/legal/experts/{id}", tag = "legal", params(("id" = String, Path)),
    request_body = ExpertInput,
    responses((status = 200, body = ExpertView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ExpertId>,
    ApiJson(input): ApiJson<ExpertInput>,
) -> ApiResult<Json<ExpertView>> {
    editor(&p)?;
    find(&app, &id).await?;
    let e = checked(input)?;
    write(&app, &p, &id, &e, "legal.expert.update").await?;
    Ok(Json(view(&app, find(&app, &id).await?, true)?))
}

async fn write(
    app: &AppState,
    p: &Principal,
    id: &ExpertId,
    e: &Expert,
    action: &'static str,
) -> ApiResult<()> {
    let mut tx = app.db.begin().await?;
    save(&mut tx, &app.pii, id, e).await?;
    // The audit names the expert, never the contacts.
    let detail = json!({ "name": e.name, "category": e.category });
    crate::audit::success(app, &mut tx, p, action, ("expert", id.as_str()), detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes (or replaces) an expert, contacts sealed, search text derived.
pub async fn save(tx: &mut Tx, pii: &PiiCipher, id: &ExpertId, e: &Expert) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO experts (id, category, name, unit_name, post, fields, phone, email, profile, search, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
         ON CONFLICT (id) DO UPDATE SET category = excluded.category, name = excluded.name, \
         unit_name = excluded.unit_name, post = excluded.post, fields = excluded.fields, phone = excluded.phone, \
         email = excluded.email, profile = excluded.profile, search = excluded.search, updated_at = excluded.updated_at";
    let fields = serde_json::to_string(&e.fields).map_err(anyhow::Error::from)?;
    let phone = e.phone.as_ref().map(|ph| pii.encrypt(PHONE, ph.as_str()));
    let email = e.email.as_deref().map(|m| pii.encrypt(EMAIL, m));
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(&e.category).bind(&e.name).bind(&e.unit_name).bind(&e.post)
        .bind(&fields).bind(phone).bind(email).bind(&e.profile).bind(e.search_text()).bind(crate::clock::now())
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Deletes an expert (soft: the row stays for the audit trail).
#[utoipa::path(delete, path = "/api/v1/legal/experts/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn remove(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ExpertId>,
) -> ApiResult<StatusCode> {
    const SQL: &str = "UPDATE experts SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL";
    editor(&p)?;
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(crate::clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.expert.delete",
        ("expert", id.as_str()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct CategoryCount {
    pub category: String,
    pub experts: i64,
}

/// The library by category, with counts (every unit).
#[utoipa::path(get, path = "/api/v1/legal/experts/overview", tag = "legal",
    responses((status = 200, body = Vec<CategoryCount>), (status = 403, body = crate::error::Problem)))]
pub async fn overview(
    State(app): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Vec<CategoryCount>>> {
    const SQL: &str = "SELECT category, COUNT(*) AS experts FROM experts WHERE deleted_at IS NULL \
         GROUP BY category ORDER BY category";
    reader(&p)?;
    Ok(Json(
        on_db!(&app.db, c => sqlx::query_as(SQL).fetch_all(c).await)?,
    ))
}
