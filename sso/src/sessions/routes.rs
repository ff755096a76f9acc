//! Session endpoints shared by every channel.

use api::authz::Principal;
use api::error::{ApiError, ApiResult};
use api::http::extract::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{IssuedTokens, SessionView};
use crate::SsoState;

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/api/v1/me/sessions", get(list_sessions))
        .route("/api/v1/me/sessions/{id}", delete(end_session))
}

/// The public keys that verify our access tokens (RFC 7517).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "identity",
    responses((status = 200, description = "JWK set", body = Object)))]
pub async fn jwks(State(sso): State<SsoState>) -> Json<serde_json::Value> {
    Json(sso.keys.jwks().await)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchanges a refresh token for new tokens (PC and admin sessions; the
/// phone uses `/m/v1/session/refresh`). The refresh token is rotated.
#[utoipa::path(post, path = "/auth/refresh", tag = "identity", request_body = RefreshRequest,
    responses(
        (status = 200, body = IssuedTokens),
        (status = 400, body = api::error::Problem),
        (status = 401, description = "unknown, expired or reused refresh token", body = api::error::Problem),
    ))]
pub async fn refresh(
    State(sso): State<SsoState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<IssuedTokens>> {
    Ok(Json(super::refresh(&sso, &req.refresh_token).await?))
}

/// Ends the session the access token belongs to.
#[utoipa::path(post, path = "/auth/logout", tag = "identity",
    responses((status = 204), (status = 401, body = api::error::Problem)))]
pub async fn logout(State(sso): State<SsoState>, principal: Principal) -> ApiResult<StatusCode> {
    end_current(&sso, &principal).await
}

/// Logout for any channel: ends the caller's current session.
pub async fn end_current(sso: &SsoState, principal: &Principal) -> ApiResult<StatusCode> {
    let session = principal
        .session
        .as_ref()
        .ok_or(ApiError::Unauthenticated)?;
    super::end(sso, &principal.user_id, &session.id, "logout").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's open sessions, most recently used first.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "identity",
    responses((status = 200, body = [SessionView]), (status = 401, body = api::error::Problem)))]
pub async fn list_sessions(
    State(sso): State<SsoState>,
    principal: Principal,
) -> ApiResult<Json<Vec<SessionView>>> {
    let current = principal.session.as_ref().map(|s| s.id.as_str());
    Ok(Json(
        super::list(&sso.app.db, &principal.user_id, current).await?,
    ))
}

/// Ends one of the caller's sessions (for example a lost phone's).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "identity",
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 204),
        (status = 401, body = api::error::Problem),
        (status = 404, description = "no such open session of the caller", body = api::error::Problem),
    ))]
pub async fn end_session(
    State(sso): State<SsoState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if super::end(&sso, &principal.user_id, &id, "ended_by_user").await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
