//! `PUT /m/v1/devices/{device_id}` and `DELETE /m/v1/devices/{device_id}`:
//! where the signed-in official's pushes go.

use api::authz::Principal;
use api::devices::{self, Platform, PushProvider, Registration};
use api::error::{ApiError, ApiResult};
use api::http::extract::ApiJson;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use serde::Deserialize;
use sso::SsoState;
use utoipa::ToSchema;

pub fn routes() -> Router<SsoState> {
    Router::new().route("/m/v1/devices/{device_id}", put(register).delete(remove))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRegistration {
    pub platform: Platform,
    pub provider: PushProvider,
    /// The push token the provider's SDK gave the app.
    pub token: String,
    pub app_version: Option<String>,
    pub locale: Option<String>,
}

fn check(field: &str, value: &str, max: usize) -> ApiResult<()> {
    let ok = !value.is_empty() && value.len() <= max && value.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("须为 1 到 {max} 个可见 ASCII 字符"),
        ))
    }
}

/// Registers (or updates) this phone for pushes.
#[utoipa::path(put, path = "/m/v1/devices/{device_id}", tag = "mobile",
    params(("device_id" = String, Path, description = "the app installation's id")),
    request_body = DeviceRegistration,
    responses(
        (status = 204),
        (status = 400, body = api::error::Problem),
        (status = 401, body = api::error::Problem),
        (status = 422, body = api::error::Problem),
    ))]
pub async fn register(
    State(sso): State<SsoState>,
    principal: Principal,
    Path(device_id): Path<String>,
    ApiJson(req): ApiJson<DeviceRegistration>,
) -> ApiResult<StatusCode> {
    check("device_id", &device_id, 128)?;
    check("token", &req.token, 4096)?;
    for (field, value) in [("app_version", &req.app_version), ("locale", &req.locale)] {
        if let Some(v) = value {
            check(field, v, 32)?;
        }
    }
    let app = &sso.app;
    let mut tx = app.db.begin().await?;
    let registration = Registration {
        user_id: &principal.user_id,
        device_id: &device_id,
        session_id: principal.session.as_ref().map(|s| s.id.as_str()),
        platform: req.platform,
        provider: req.provider,
        token: &req.token,
        app_version: req.app_version.as_deref(),
        locale: req.locale.as_deref(),
    };
    devices::register(&mut tx, &app.pii, registration).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops pushes to this phone.
#[utoipa::path(delete, path = "/m/v1/devices/{device_id}", tag = "mobile",
    params(("device_id" = String, Path, description = "the app installation's id")),
    responses((status = 204), (status = 401, body = api::error::Problem), (status = 404, body = api::error::Problem)))]
pub async fn remove(
    State(sso): State<SsoState>,
    principal: Principal,
    Path(device_id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = sso.app.db.begin().await?;
    let removed = devices::remove(&mut tx, &principal.user_id, &device_id).await?;
    tx.commit().await?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
