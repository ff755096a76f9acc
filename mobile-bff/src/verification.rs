//! Phone verification for applicants (GK-15): public endpoints, so every
//! input is checked and every answer is the same for known and unknown
//! numbers.

use api::error::{ApiError, ApiResult};
use api::http::context;
use api::http::extract::ApiJson;
use api::pii::Phone;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use sso::SsoState;
use sso::verification::{self, CodeSent, Purpose, Verified};
use utoipa::ToSchema;

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/m/v1/verification-codes", post(send))
        .route("/m/v1/verification-codes/verify", post(verify))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendCode {
    /// Mainland mobile number.
    pub phone: String,
    pub purpose: Purpose,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyCode {
    pub phone: String,
    pub purpose: Purpose,
    /// The 6 digits from the SMS.
    pub code: String,
}

fn phone(raw: &str) -> ApiResult<Phone> {
    Phone::parse(raw).map_err(|why| ApiError::invalid("phone", why))
}

/// Sends a verification code by SMS. A new request replaces the previous
/// code.
#[utoipa::path(post, path = "/m/v1/verification-codes", tag = "mobile", request_body = SendCode,
    responses(
        (status = 202, body = CodeSent),
        (status = 400, body = api::error::Problem),
        (status = 422, description = "not a mainland mobile number", body = api::error::Problem),
        (status = 429, description = "a throttle; see Retry-After", body = api::error::Problem),
    ))]
pub async fn send(
    State(sso): State<SsoState>,
    ApiJson(req): ApiJson<SendCode>,
) -> ApiResult<(StatusCode, Json<CodeSent>)> {
    let phone = phone(&req.phone)?;
    let ip = context::current().source_ip;
    let sent = verification::send_code(&sso, &phone, req.purpose, ip).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Checks a code; a correct one answers a single-use verification token.
#[utoipa::path(post, path = "/m/v1/verification-codes/verify", tag = "mobile", request_body = VerifyCode,
    responses(
        (status = 200, body = Verified),
        (status = 400, body = api::error::Problem),
        (status = 422, description = "wrong, used, expired or exhausted code", body = api::error::Problem),
    ))]
pub async fn verify(
    State(sso): State<SsoState>,
    ApiJson(req): ApiJson<VerifyCode>,
) -> ApiResult<Json<Verified>> {
    let phone = phone(&req.phone)?;
    Ok(Json(
        verification::verify_code(&sso, &phone, req.purpose, req.code.trim()).await?,
    ))
}
