//! Seal authorisation (GK-07): a unit administrator grants a seal to named
//! people of the unit and revokes grants; the full history is kept (who
//! granted or revoked, when, why).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::audit_change;
use super::seals::managed;
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::validate::text;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/seals/{id}/grants", get(history).post(grant))
        .route(
            "/api/v1/seals/{id}/grants/{grant_id}/revocation",
            post(revoke),
        )
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct GrantView {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub reason: String,
    pub granted_by: String,
    #[serde(skip)]
    pub granted_at_t: OffsetDateTime,
    #[sqlx(skip)]
    pub granted_at: String,
    pub revoked_by: Option<String>,
    #[serde(skip)]
    pub revoked_at_t: Option<OffsetDateTime>,
    #[sqlx(skip)]
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
    /// Live until revoked.
    #[sqlx(skip)]
    pub live: bool,
}

const HISTORY: &str = "SELECT g.id, g.user_id, u.display_name AS user_name, g.reason, gb.display_name AS granted_by, \
     g.granted_at AS granted_at_t, rb.display_name AS revoked_by, g.revoked_at AS revoked_at_t, g.revoke_reason \
     FROM seal_grants g JOIN users u ON u.id = g.user_id JOIN users gb ON gb.id = g.granted_by \
     LEFT JOIN users rb ON rb.id = g.revoked_by WHERE g.seal_id = $1 ORDER BY g.granted_at, g.id";

/// Every grant of the seal, live and revoked, oldest first.
#[utoipa::path(get, path = "/api/v1/seals/{id}/grants", tag = "seals", params(("id" = String, Path)),
    responses((status = 200, body = [GrantView]), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn history(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<GrantView>>> {
    managed(&app, &p, &id, "seal.grants.read").await?;
    let mut rows: Vec<GrantView> =
        on_db!(&app.db, c => sqlx::query_as(HISTORY).bind(&id).fetch_all(c).await)?;
    for r in &mut rows {
        r.granted_at = crate::clock::rfc3339(r.granted_at_t);
        r.revoked_at = r.revoked_at_t.map(crate::clock::rfc3339);
        r.live = r.revoked_at_t.is_none();
    }
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    /// A person of the seal's unit (or a unit below it).
    pub user_id: String,
    pub reason: String,
}

/// Grants the seal to a person of its unit.
#[utoipa::path(post, path = "/api/v1/seals/{id}/grants", tag = "seals", params(("id" = String, Path)), request_body = NewGrant,
    responses(
        (status = 201, body = [GrantView]),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "the person already holds a live grant", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn grant(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewGrant>,
) -> ApiResult<(StatusCode, Json<Vec<GrantView>>)> {
    const PERSON: &str = "SELECT o.path FROM users u JOIN org_units o ON o.id = u.unit_id \
         WHERE u.id = $1 AND u.status = 'active'";
    const LIVE: &str = "SELECT COUNT(*) FROM seal_grants WHERE seal_id = $1 AND user_id = $2 AND revoked_at IS NULL";
    const SQL: &str = "INSERT INTO seal_grants (id, seal_id, user_id, reason, granted_by, granted_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    let seal = managed(&app, &p, &id, "seal.grant").await?;
    let reason = text("reason", Some(&req.reason), 200, false)?;
    let path: Option<String> = on_db!(&app.db, c => sqlx::query_scalar(PERSON).bind(&req.user_id).fetch_optional(c).await)?;
    if !path.is_some_and(|p| p.starts_with(&seal.unit_path)) {
        return Err(ApiError::invalid("user_id", "只能授权给本单位在职人员"));
    }
    let mut tx = app.db.begin().await?;
    let live: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(LIVE).bind(&id).bind(&req.user_id).fetch_one(c).await)?;
    if live > 0 {
        return Err(ApiError::Conflict {
            code: "already_granted",
            detail: "该人员已获授权使用此印章".into(),
        });
    }
    let grant_id = ulid::Ulid::new().to_string();
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&grant_id).bind(&id).bind(&req.user_id).bind(&reason)
        .bind(&p.user_id).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    audit_change(
        &app,
        &mut tx,
        &p,
        "seal.grant",
        &id,
        json!({ "grant_id": grant_id, "user_id": req.user_id }),
    )
    .await?;
    tx.commit().await?;
    let Json(all) = history(State(app), p, Path(id)).await?;
    Ok((StatusCode::CREATED, Json(all)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub reason: String,
}

/// Revokes a live grant. Pending applications made under it can no longer
/// be approved.
#[utoipa::path(post, path = "/api/v1/seals/{id}/grants/{grant_id}/revocation", tag = "seals",
    params(("id" = String, Path), ("grant_id" = String, Path)), request_body = Revocation,
    responses(
        (status = 200, body = [GrantView]),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "already revoked", body = crate::error::Problem),
    ))]
pub async fn revoke(
    State(app): State<AppState>,
    p: Principal,
    Path((id, grant_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<Revocation>,
) -> ApiResult<Json<Vec<GrantView>>> {
    const SQL: &str = "UPDATE seal_grants SET revoked_by = $3, revoked_at = $4, revoke_reason = $5 \
         WHERE id = $1 AND seal_id = $2 AND revoked_at IS NULL";
    const EXISTS: &str = "SELECT COUNT(*) FROM seal_grants WHERE id = $1 AND seal_id = $2";
    managed(&app, &p, &id, "seal.revoke").await?;
    let reason = text("reason", Some(&req.reason), 200, false)?;
    let mut tx = app.db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&grant_id).bind(&id).bind(&p.user_id)
        .bind(crate::clock::now()).bind(&reason).execute(c).await.map(|r| r.rows_affected()))?;
    if changed == 0 {
        let known: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(EXISTS).bind(&grant_id).bind(&id).fetch_one(c).await)?;
        return Err(if known == 0 {
            ApiError::NotFound
        } else {
            ApiError::Conflict {
                code: "already_revoked",
                detail: "该授权已撤销".into(),
            }
        });
    }
    audit_change(
        &app,
        &mut tx,
        &p,
        "seal.revoke",
        &id,
        json!({ "grant_id": grant_id }),
    )
    .await?;
    tx.commit().await?;
    history(State(app), p, Path(id)).await
}
