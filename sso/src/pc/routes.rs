//! `/auth/pc/…` and `/auth/backchannel-logout`.

use std::time::Duration;

use api::audit::{self, Actor, Entry, Outcome};
use api::authz::{UserKey, load_principal};
use api::clock;
use api::error::{ApiError, ApiResult};
use api::{on_db, on_tx};
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::client::{OidcClient, OidcError};
use super::{REFRESH_COOKIE, STATE_COOKIE, cookie, safe_return_to, set_cookie};
use crate::SsoState;
use crate::sessions::{self, Channel, IssuedTokens, NewSession};

/// A login must come back from the platform within this time.
const LOGIN_TTL: Duration = Duration::from_secs(600);

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/auth/pc/login", get(login))
        .route("/auth/pc/callback", get(callback))
        .route("/auth/pc/token", post(token))
        .route("/auth/pc/logout", post(logout))
        .route("/auth/backchannel-logout", post(backchannel_logout))
}

fn platform(sso: &SsoState) -> ApiResult<&OidcClient> {
    sso.platform.as_deref().ok_or(ApiError::Unavailable)
}

fn unreachable_platform(e: OidcError) -> ApiError {
    tracing::error!(error = %e, "unified platform");
    ApiError::Unavailable
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    /// A path on this site to return to after sign-in (default `/`).
    pub return_to: Option<String>,
}

/// Starts PC sign-in: redirects to the platform with `state`, `nonce` and a
/// PKCE S256 challenge.
#[utoipa::path(get, path = "/auth/pc/login", tag = "identity", params(LoginQuery),
    responses((status = 302, description = "to the platform's authorization endpoint"), (status = 503, body = api::error::Problem)))]
pub async fn login(
    State(sso): State<SsoState>,
    Query(q): Query<LoginQuery>,
) -> ApiResult<Response> {
    const SQL: &str = "INSERT INTO oidc_logins (state, nonce, code_verifier, return_to, created_at) VALUES ($1, $2, $3, $4, $5)";
    const SWEEP: &str = "DELETE FROM oidc_logins WHERE created_at < $1";
    let start = platform(&sso)?
        .start_login()
        .await
        .map_err(unreachable_platform)?;
    let return_to = safe_return_to(q.return_to.as_deref());
    let now = clock::now();
    let db = &sso.app.db;
    on_db!(db, p => sqlx::query(SWEEP).bind(now - LOGIN_TTL).execute(p).await.map(|_| ()))?;
    on_db!(db, p => sqlx::query(SQL).bind(&start.state).bind(&start.nonce).bind(&start.code_verifier)
        .bind(&return_to).bind(now).execute(p).await.map(|_| ()))?;
    // SameSite=Lax: the callback is a top-level navigation from the platform.
    let state_cookie = set_cookie(STATE_COOKIE, &start.state, "Lax", LOGIN_TTL.as_secs());
    Ok((
        StatusCode::FOUND,
        [(LOCATION, start.url), (SET_COOKIE, state_cookie)],
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the platform when it refused (RFC 6749 §4.1.2.1).
    pub error: Option<String>,
}

fn login_failed(code: &'static str, detail: &str) -> ApiError {
    ApiError::AuthFailed {
        code,
        detail: detail.to_owned(),
    }
}

/// The platform's redirect back: checks `state` against the browser's
/// cookie and the stored login, exchanges the code, validates the ID token,
/// starts the session, and sends the browser on with its refresh cookie.
#[utoipa::path(get, path = "/auth/pc/callback", tag = "identity", params(CallbackQuery),
    responses(
        (status = 303, description = "signed in; to the page the login started from"),
        (status = 401, description = "state mismatch, refused code, invalid ID token, or unknown user", body = api::error::Problem),
    ))]
pub async fn callback(
    State(sso): State<SsoState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    const TAKE: &str = "DELETE FROM oidc_logins WHERE state = $1 RETURNING nonce, code_verifier, return_to, created_at";
    const USER: &str = "SELECT id FROM users WHERE platform_id = $1 AND status = 'active'";
    let app = &sso.app;
    let client = platform(&sso)?;
    if let Some(error) = &q.error {
        let why = format!("platform error {error}");
        return refuse(app, why, "platform_refused", "统一办公平台拒绝了登录请求").await;
    }
    let (Some(code), Some(state)) = (q.code.as_deref(), q.state.as_deref()) else {
        return Err(ApiError::invalid("code", "缺少 code 或 state 参数"));
    };
    if cookie(&headers, STATE_COOKIE) != Some(state) {
        let why = "state does not match the browser".into();
        return refuse(app, why, "invalid_state", "登录状态校验失败，请重新登录").await;
    }
    let taken: Option<(String, String, String, OffsetDateTime)> =
        on_db!(&app.db, p => sqlx::query_as(TAKE).bind(state).fetch_optional(p).await)?;
    let Some((nonce, verifier, return_to, _)) = taken.filter(|t| clock::now() - t.3 <= LOGIN_TTL)
    else {
        let why = "unknown, used or stale state".into();
        return refuse(app, why, "invalid_state", "登录已过期或已使用，请重新登录").await;
    };
    let claims = match client.finish_login(code, &verifier, &nonce).await {
        Ok(c) => c,
        Err(OidcError::Transport(e)) => return Err(unreachable_platform(OidcError::Transport(e))),
        Err(e) => {
            let detail = "统一办公平台登录校验失败，请重新登录";
            return refuse(app, e.to_string(), "invalid_grant", detail).await;
        }
    };
    let user_id: Option<api::ids::UserId> =
        on_db!(&app.db, p => sqlx::query_scalar(USER).bind(&claims.sub).fetch_optional(p).await)?;
    let Some(user_id) = user_id else {
        let why = format!("no active user for platform id {}", claims.sub);
        return refuse(app, why, "unknown_user", "该统一办公平台账号未在本系统启用").await;
    };
    let tokens = start_session(&sso, &user_id, claims.sid.as_deref()).await?;
    signed_in_redirect(app, &tokens, return_to)
}

/// Audits a refused PC login (`why`, for the record) and answers the
/// refusal the browser sees.
async fn refuse(
    app: &api::state::AppState,
    why: String,
    code: &'static str,
    detail: &str,
) -> ApiResult<Response> {
    let entry = Entry {
        actor: Actor::system("unified-platform"),
        action: "login",
        target_type: None,
        target_id: None,
        outcome: Outcome::Failure,
        detail: json!({ "channel": "pc", "result": why }),
    };
    audit::record(&app.db, app.audit_key(), entry).await?;
    Err(login_failed(code, detail))
}

/// Starts the PC session of `user_id`, audited.
async fn start_session(
    sso: &SsoState,
    user_id: &api::ids::UserId,
    platform_sid: Option<&str>,
) -> ApiResult<IssuedTokens> {
    let app = &sso.app;
    let principal = load_principal(&app.db, UserKey::Id(user_id)).await?;
    let mut tx = app.db.begin().await?;
    let new = NewSession {
        channel: Channel::Pc,
        device_id: None,
        amr: &["sso"],
        platform_sid,
    };
    let tokens = sessions::start(sso, &mut tx, &principal, new).await?;
    let entry = Entry {
        actor: Actor::from(&principal),
        action: "login",
        target_type: Some("user"),
        target_id: Some(user_id.to_string()),
        outcome: Outcome::Success,
        detail: json!({ "channel": "pc", "via": "unified-platform" }),
    };
    audit::append(&mut tx, app.audit_key(), entry).await?;
    tx.commit().await?;
    Ok(tokens)
}

/// Sends the browser back where the login started, with its refresh
/// cookie set and the login's state cookie cleared.
fn signed_in_redirect(
    app: &api::state::AppState,
    tokens: &IssuedTokens,
    return_to: String,
) -> ApiResult<Response> {
    let refresh = set_cookie(
        REFRESH_COOKIE,
        &tokens.refresh_token,
        "Strict",
        app.config.auth.pc.absolute_secs,
    );
    let clear_state = set_cookie(STATE_COOKIE, "", "Lax", 0);
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, return_to)]).into_response();
    for cookie in [refresh, clear_state] {
        let value = cookie.parse().map_err(|_| ApiError::Unavailable)?;
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PcAccessToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub session_id: String,
}

/// Trades the refresh cookie for an access token, rotating the cookie.
/// Needs `X-Requested-With` (see the module documentation on CSRF).
#[utoipa::path(post, path = "/auth/pc/token", tag = "identity",
    responses(
        (status = 200, body = PcAccessToken),
        (status = 401, description = "no, unknown, expired or reused refresh cookie", body = api::error::Problem),
        (status = 403, description = "missing X-Requested-With", body = api::error::Problem),
    ))]
pub async fn token(State(sso): State<SsoState>, headers: HeaderMap) -> ApiResult<Response> {
    if !headers.contains_key("x-requested-with") {
        return Err(ApiError::Forbidden);
    }
    let refresh = cookie(&headers, REFRESH_COOKIE).ok_or(ApiError::Unauthenticated)?;
    let tokens = sessions::refresh(&sso, refresh).await?;
    let set = set_cookie(
        REFRESH_COOKIE,
        &tokens.refresh_token,
        "Strict",
        sso.app.config.auth.pc.absolute_secs,
    );
    let body = PcAccessToken {
        access_token: tokens.access_token,
        token_type: "Bearer",
        expires_in: tokens.expires_in,
        session_id: tokens.session_id,
    };
    Ok(([(SET_COOKIE, set)], Json(body)).into_response())
}

/// Ends the PC session (found by its refresh cookie, or by the bearer token)
/// and sends the browser to the platform's logout.
#[utoipa::path(post, path = "/auth/pc/logout", tag = "identity",
    responses((status = 303, description = "to the platform's end-session endpoint"), (status = 401, body = api::error::Problem)))]
pub async fn logout(State(sso): State<SsoState>, headers: HeaderMap) -> ApiResult<Response> {
    const BY_COOKIE: &str = "SELECT s.id, s.user_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id \
         WHERE rt.token_hash = $1 AND s.ended_at IS NULL";
    let found: Option<(String, api::ids::UserId)> = match cookie(&headers, REFRESH_COOKIE) {
        Some(rt) => {
            let hash = sessions::hash_token(rt);
            on_db!(&sso.app.db, p => sqlx::query_as(BY_COOKIE).bind(&hash).fetch_optional(p).await)?
        }
        None => {
            let mut parts = axum::http::Request::new(()).into_parts().0;
            parts.headers = headers.clone();
            let principal = sso.app.authn.authenticate(&parts, &sso.app.db).await?;
            principal.session.map(|s| (s.id, principal.user_id))
        }
    };
    let (session_id, user_id) = found.ok_or(ApiError::Unauthenticated)?;
    sessions::end(&sso, &user_id, &session_id, "logout").await?;
    let to = match sso.platform.as_deref() {
        Some(client) => client.logout_url().await.unwrap_or_else(|| "/".into()),
        None => "/".into(),
    };
    let clear = set_cookie(REFRESH_COOKIE, "", "Strict", 0);
    Ok((StatusCode::SEE_OTHER, [(LOCATION, to), (SET_COOKIE, clear)]).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoutTokenForm {
    pub logout_token: String,
}

/// OIDC Back-Channel Logout 1.0: the platform tells us a user's platform
/// session ended; the matching sessions end at once.
#[utoipa::path(post, path = "/auth/backchannel-logout", tag = "identity",
    request_body(content = LogoutTokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "sessions ended"), (status = 400, description = "invalid or replayed logout token", body = api::error::Problem)))]
pub async fn backchannel_logout(
    State(sso): State<SsoState>,
    form: Result<Form<LogoutTokenForm>, axum::extract::rejection::FormRejection>,
) -> ApiResult<Response> {
    const SEEN: &str =
        "INSERT INTO oidc_seen_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
    const SWEEP: &str = "DELETE FROM oidc_seen_jtis WHERE expires_at < $1";
    const BY_SID: &str = "UPDATE sessions SET ended_at = $2, end_reason = 'backchannel_logout' \
         WHERE platform_sid = $1 AND ended_at IS NULL";
    const BY_SUB: &str = "UPDATE sessions SET ended_at = $2, end_reason = 'backchannel_logout' \
         WHERE channel = 'pc' AND ended_at IS NULL AND user_id = (SELECT id FROM users WHERE platform_id = $1)";
    let bad = |detail: &str| ApiError::BadRequest {
        code: "invalid_logout_token",
        detail: detail.to_owned(),
    };
    let Ok(Form(form)) = form else {
        return Err(bad("缺少 logout_token"));
    };
    let client = platform(&sso)?;
    let claims = client
        .validate_logout_token(&form.logout_token)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "back-channel logout token refused");
            bad("logout_token 无效")
        })?;
    let app = &sso.app;
    let now = clock::now();
    let mut tx = app.db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(SWEEP).bind(now).execute(c).await.map(|_| ()))?;
    let keep_until = now + Duration::from_secs(600);
    let fresh = on_tx!(&mut tx, c => sqlx::query(SEEN).bind(&claims.jti).bind(keep_until).execute(c).await.map(|r| r.rows_affected()))?;
    if fresh == 0 {
        return Err(bad("logout_token 已被使用过"));
    }
    let ended = match (&claims.sid, &claims.sub) {
        (Some(sid), _) => {
            on_tx!(&mut tx, c => sqlx::query(BY_SID).bind(sid).bind(now).execute(c).await.map(|r| r.rows_affected()))?
        }
        (None, Some(sub)) => {
            on_tx!(&mut tx, c => sqlx::query(BY_SUB).bind(sub).bind(now).execute(c).await.map(|r| r.rows_affected()))?
        }
        (None, None) => 0,
    };
    let entry = Entry {
        actor: Actor::system("unified-platform"),
        action: "session.backchannel_logout",
        target_type: Some("platform_session"),
        target_id: claims.sid.clone().or(claims.sub.clone()),
        outcome: Outcome::Success,
        detail: json!({ "sessions_ended": ended }),
    };
    audit::append(&mut tx, app.audit_key(), entry).await?;
    tx.commit().await?;
    Ok(([(CACHE_CONTROL, "no-store")], StatusCode::OK).into_response())
}
