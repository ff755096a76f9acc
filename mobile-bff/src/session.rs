//! Mobile sign-in, refresh, step-up and logout (GK-06).

use api::authz::Principal;
use api::error::{ApiError, ApiResult};
use api::http::extract::ApiJson;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sso::SsoState;
use sso::sessions::IssuedTokens;
use sso::sessions::routes::RefreshRequest;
use utoipa::ToSchema;

use crate::me::MobileMe;

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/m/v1/session", post(sign_in).delete(sign_out))
        .route("/m/v1/session/refresh", post(refresh))
        .route("/m/v1/session/step-up", post(step_up))
        .route("/m/v1/session/step-up/sms-code", post(step_up_code))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The one-time code the Suishenban SDK gave the app.
    pub auth_code: String,
    /// A stable id of this installation, shown in the session list.
    pub device_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    #[serde(flatten)]
    pub tokens: IssuedTokens,
    pub profile: MobileMe,
}

fn check_text(field: &str, value: &str) -> ApiResult<()> {
    let ok = !value.is_empty() && value.len() <= 128 && value.chars().all(|c| !c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(field, "须为 1 到 128 个可见字符"))
    }
}

/// Signs in with a Suishenban auth code: tokens and the home screen's profile.
#[utoipa::path(post, path = "/m/v1/session", tag = "mobile", request_body = SignIn,
    responses(
        (status = 200, body = SignedIn),
        (status = 400, body = api::error::Problem),
        (status = 401, description = "code invalid, used or expired; or no user linked", body = api::error::Problem),
        (status = 422, body = api::error::Problem),
        (status = 503, description = "Suishenban unreachable or not configured", body = api::error::Problem),
    ))]
pub async fn sign_in(
    State(sso): State<SsoState>,
    ApiJson(req): ApiJson<SignIn>,
) -> ApiResult<Json<SignedIn>> {
    check_text("auth_code", &req.auth_code)?;
    check_text("device_id", &req.device_id)?;
    let (tokens, principal) = sso::suishenban::login(&sso, &req.auth_code, &req.device_id).await?;
    Ok(Json(SignedIn {
        tokens,
        profile: MobileMe::of(principal),
    }))
}

/// Rotates the refresh token; a reused one ends the session.
#[utoipa::path(post, path = "/m/v1/session/refresh", tag = "mobile", request_body = RefreshRequest,
    responses((status = 200, body = IssuedTokens), (status = 401, body = api::error::Problem)))]
pub async fn refresh(
    State(sso): State<SsoState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<IssuedTokens>> {
    Ok(Json(
        sso::sessions::refresh(&sso, &req.refresh_token).await?,
    ))
}

/// Logs out: the session ends, its tokens stop working at once.
#[utoipa::path(delete, path = "/m/v1/session", tag = "mobile",
    responses((status = 204), (status = 401, body = api::error::Problem)))]
pub async fn sign_out(State(sso): State<SsoState>, principal: Principal) -> ApiResult<StatusCode> {
    sso::sessions::routes::end_current(&sso, &principal).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUp {
    /// A code from the authenticator app, or…
    pub totp_code: Option<String>,
    /// …the code sent by `POST /m/v1/session/step-up/sms-code`.
    pub sms_code: Option<String>,
}

/// Marks the session as freshly authenticated, for sensitive actions, with
/// exactly one of a TOTP code or an SMS code.
#[utoipa::path(post, path = "/m/v1/session/step-up", tag = "mobile", request_body = StepUp,
    responses(
        (status = 204),
        (status = 401, description = "wrong, used or expired code", body = api::error::Problem),
        (status = 422, description = "neither or both codes", body = api::error::Problem),
        (status = 429, body = api::error::Problem),
    ))]
pub async fn step_up(
    State(sso): State<SsoState>,
    principal: Principal,
    ApiJson(req): ApiJson<StepUp>,
) -> ApiResult<StatusCode> {
    match (req.totp_code, req.sms_code) {
        (Some(totp), None) => sso::local::routes::step_up_with_totp(&sso, &principal, &totp).await,
        (None, Some(sms)) => {
            sso::verification::step_up_with_sms(&sso, &principal, sms.trim()).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        _ => Err(ApiError::invalid(
            "totp_code",
            "须提供 totp_code 或 sms_code 之一",
        )),
    }
}

/// Sends a step-up code by SMS to the signed-in official's phone on file.
#[utoipa::path(post, path = "/m/v1/session/step-up/sms-code", tag = "mobile",
    responses(
        (status = 202, body = sso::verification::CodeSent),
        (status = 401, body = api::error::Problem),
        (status = 422, description = "no phone on file", body = api::error::Problem),
        (status = 429, body = api::error::Problem),
    ))]
pub async fn step_up_code(
    State(sso): State<SsoState>,
    principal: Principal,
) -> ApiResult<(StatusCode, Json<sso::verification::CodeSent>)> {
    principal
        .session
        .as_ref()
        .ok_or(ApiError::Unauthenticated)?;
    let sent = sso::verification::send_step_up_code(&sso, &principal).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}
