//! Seals of a unit (PC, the unit's administrators): create, read, change,
//! suspend, delete while unused; every change audited.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{audit_change, unit_path};
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::validate::text;
use crate::{on_db, on_tx};

const MAX_IMAGE: usize = 256 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/seals", get(list).post(create))
        .route("/api/v1/seals/{id}", get(one).patch(change).delete(remove))
        .route("/api/v1/seals/{id}/image", get(image))
}

crate::text_enum! {
    pub enum SealStatus {
        Active = "active",
        Suspended = "suspended",
    }
}

impl SealStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            SealStatus::Active => "启用",
            SealStatus::Suspended => "停用",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SealView {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub name: String,
    pub kind: String,
    #[schema(value_type = String)]
    pub status: SealStatus,
    pub cert_ref: String,
    pub has_image: bool,
    /// The caller administers the seal's unit.
    pub can_manage: bool,
    /// The caller holds a live grant of the seal.
    pub granted_to_me: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, FromRow)]
pub(crate) struct SealRow {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub unit_path: String,
    pub name: String,
    pub kind: String,
    pub status: SealStatus,
    pub cert_ref: String,
    pub has_image: bool,
    pub granted: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

macro_rules! select_seals {
    () => {
        "SELECT s.id, s.unit_id, u.name AS unit_name, u.path AS unit_path, s.name, s.kind, s.status, s.cert_ref, \
         (s.image IS NOT NULL) AS has_image, \
         EXISTS (SELECT 1 FROM seal_grants g WHERE g.seal_id = s.id AND g.user_id = $1 AND g.revoked_at IS NULL) AS granted, \
         s.created_at, s.updated_at FROM seals s JOIN org_units u ON u.id = s.unit_id "
    };
}

impl SealRow {
    fn view(self, p: &Principal) -> SealView {
        SealView {
            can_manage: p.covers(&[Role::UnitAdmin], &self.unit_path),
            granted_to_me: self.granted,
            id: self.id,
            unit_id: self.unit_id,
            unit_name: self.unit_name,
            name: self.name,
            kind: self.kind,
            status: self.status,
            cert_ref: self.cert_ref,
            has_image: self.has_image,
            created_at: crate::clock::rfc3339(self.created_at),
            updated_at: crate::clock::rfc3339(self.updated_at),
        }
    }
}

/// A seal the caller administers or holds a grant of; anyone else: 404.
pub(crate) async fn load(app: &AppState, p: &Principal, id: &str) -> ApiResult<SealRow> {
    const SQL: &str = concat!(select_seals!(), "WHERE s.id = $2");
    let row: Option<SealRow> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(&p.user_id).bind(id).fetch_optional(c).await)?;
    row.filter(|r| r.granted || p.covers(&[Role::UnitAdmin], &r.unit_path))
        .ok_or(ApiError::NotFound)
}

/// Refuses unless `p` administers the seal's unit (audited).
pub(crate) async fn managed(
    app: &AppState,
    p: &Principal,
    id: &str,
    action: &'static str,
) -> ApiResult<SealRow> {
    let seal = load(app, p, id).await?;
    if !p.covers(&[Role::UnitAdmin], &seal.unit_path) {
        crate::audit::record_denied(app, p, action, "seal", id).await;
        return Err(ApiError::Forbidden);
    }
    Ok(seal)
}

/// Seals the caller administers, or holds a grant of.
#[utoipa::path(get, path = "/api/v1/seals", tag = "seals",
    responses((status = 200, body = [SealView]), (status = 401, body = crate::error::Problem)))]
pub async fn list(State(app): State<AppState>, p: Principal) -> ApiResult<Json<Vec<SealView>>> {
    const SQL: &str = concat!(
        select_seals!(),
        "WHERE EXISTS (SELECT 1 FROM seal_grants g WHERE g.seal_id = s.id AND g.user_id = $1 AND g.revoked_at IS NULL) \
         OR EXISTS (SELECT 1 FROM role_assignments ra JOIN org_units su ON su.id = ra.unit_id \
         WHERE ra.user_id = $1 AND ra.role = 'unit_admin' AND substr(u.path, 1, length(su.path)) = su.path) \
         ORDER BY u.path, s.name, s.id LIMIT 500"
    );
    let rows: Vec<SealRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(&p.user_id).fetch_all(c).await)?;
    Ok(Json(rows.into_iter().map(|r| r.view(&p)).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeal {
    pub unit_id: String,
    pub name: String,
    /// e.g. 政务公开专用章
    pub kind: String,
    /// The seal's certificate reference at the signing service.
    pub cert_ref: String,
    /// PNG, base64, at most 256 KiB.
    pub image_png_base64: Option<String>,
}

fn png(raw: Option<&str>) -> ApiResult<Option<Vec<u8>>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let bad = |why: &str| ApiError::invalid("image_png_base64", why);
    if raw.len() > MAX_IMAGE.div_ceil(3) * 4 + 4 {
        return Err(bad("印模图片不能超过 256 KB"));
    }
    let bytes = STANDARD
        .decode(raw.trim())
        .map_err(|_| bad("不是有效的 Base64 编码"))?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(bad("印模图片须为 PNG"));
    }
    Ok(Some(bytes))
}

/// Creates a seal of a unit the caller administers.
#[utoipa::path(post, path = "/api/v1/seals", tag = "seals", request_body = NewSeal,
    responses(
        (status = 201, body = SealView),
        (status = 403, description = "not an administrator of the unit", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewSeal>,
) -> ApiResult<(StatusCode, Json<SealView>)> {
    const SQL: &str = "INSERT INTO seals (id, unit_id, name, kind, status, cert_ref, image_type, image, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $9, $5, $6, $7, $8, $8)";
    let name = text("name", Some(&req.name), 50, false)?;
    let kind = text("kind", Some(&req.kind), 50, false)?;
    let cert_ref = text("cert_ref", Some(&req.cert_ref), 200, false)?;
    let image = png(req.image_png_base64.as_deref())?;
    let path = unit_path(&app, "unit_id", &req.unit_id).await?;
    if !p.covers(&[Role::UnitAdmin], &path) {
        crate::audit::record_denied(&app, &p, "seal.create", "org_unit", &req.unit_id).await;
        return Err(ApiError::Forbidden);
    }
    let id = ulid::Ulid::new().to_string();
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&req.unit_id).bind(&name).bind(&kind).bind(&cert_ref)
        .bind(image.as_ref().map(|_| "image/png")).bind(&image).bind(crate::clock::now())
        .bind(SealStatus::Active).execute(c).await.map(|_| ()))?;
    audit_change(
        &app,
        &mut tx,
        &p,
        "seal.create",
        &id,
        json!({ "unit_id": req.unit_id, "name": name, "kind": kind }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(load(&app, &p, &id).await?.view(&p)),
    ))
}

/// One seal.
#[utoipa::path(get, path = "/api/v1/seals/{id}", tag = "seals", params(("id" = String, Path)),
    responses((status = 200, body = SealView), (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<SealView>> {
    Ok(Json(load(&app, &p, &id).await?.view(&p)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealChange {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub cert_ref: Option<String>,
    /// Suspending a seal stops its pending applications from being approved.
    pub status: Option<SealStatus>,
    pub image_png_base64: Option<String>,
}

/// Changes a seal (name, kind, certificate, image, status).
#[utoipa::path(patch, path = "/api/v1/seals/{id}", tag = "seals", params(("id" = String, Path)), request_body = SealChange,
    responses(
        (status = 200, body = SealView),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn change(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SealChange>,
) -> ApiResult<Json<SealView>> {
    const SQL: &str = "UPDATE seals SET name = $2, kind = $3, cert_ref = $4, status = $5, \
         image_type = COALESCE($6, image_type), image = COALESCE($7, image), updated_at = $8 WHERE id = $1";
    let seal = managed(&app, &p, &id, "seal.change").await?;
    let name = match &req.name {
        Some(n) => text("name", Some(n), 50, false)?,
        None => seal.name.clone(),
    };
    let kind = match &req.kind {
        Some(k) => text("kind", Some(k), 50, false)?,
        None => seal.kind.clone(),
    };
    let cert_ref = match &req.cert_ref {
        Some(c) => text("cert_ref", Some(c), 200, false)?,
        None => seal.cert_ref.clone(),
    };
    let status = req.status.unwrap_or(seal.status);
    let image = png(req.image_png_base64.as_deref())?;
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&name).bind(&kind).bind(&cert_ref).bind(status)
        .bind(image.as_ref().map(|_| "image/png")).bind(&image).bind(crate::clock::now())
        .execute(c).await.map(|_| ()))?;
    let detail = json!({ "name": name, "kind": kind, "status": status, "image": image.is_some() });
    audit_change(&app, &mut tx, &p, "seal.change", &id, detail).await?;
    tx.commit().await?;
    Ok(Json(load(&app, &p, &id).await?.view(&p)))
}

/// Deletes a seal that was never granted or used; otherwise suspend it.
#[utoipa::path(delete, path = "/api/v1/seals/{id}", tag = "seals", params(("id" = String, Path)),
    responses(
        (status = 204),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "the seal has a history: suspend it instead", body = crate::error::Problem),
    ))]
pub async fn remove(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    const USED: &str = "SELECT (SELECT COUNT(*) FROM seal_grants WHERE seal_id = $1) + \
         (SELECT COUNT(*) FROM seal_applications WHERE seal_id = $1)";
    const SQL: &str = "DELETE FROM seals WHERE id = $1";
    managed(&app, &p, &id, "seal.delete").await?;
    let mut tx = app.db.begin().await?;
    let used: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(USED).bind(&id).fetch_one(c).await)?;
    if used > 0 {
        return Err(ApiError::Conflict {
            code: "seal_in_use",
            detail: "该印章已有授权或用印记录，不能删除，请改为停用".into(),
        });
    }
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).execute(c).await.map(|_| ()))?;
    audit_change(&app, &mut tx, &p, "seal.delete", &id, json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The seal's image (PNG).
#[utoipa::path(get, path = "/api/v1/seals/{id}/image", tag = "seals", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/png", description = "the seal's image"), (status = 404, body = crate::error::Problem)))]
pub async fn image(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    const SQL: &str = "SELECT image FROM seals WHERE id = $1";
    load(&app, &p, &id).await?;
    let image: Option<Option<Vec<u8>>> =
        on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(&id).fetch_optional(c).await)?;
    let bytes = image.flatten().ok_or(ApiError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], bytes).into_response())
}
