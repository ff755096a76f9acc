//! Operations endpoints: liveness, readiness, metrics, the API description.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub status: &'static str,
}

/// The process is up (says nothing about the database).
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// The database answers and its schema is current; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Status), (status = 503, body = crate::error::Problem)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Status>> {
    match tokio::time::timeout(Duration::from_secs(2), state.db.check_ready()).await {
        Ok(Ok(())) => Ok(Json(Status { status: "ready" })),
        Ok(Err(why)) => {
            tracing::warn!(reason = %why, "not ready");
            Err(ApiError::Unavailable)
        }
        Err(_) => {
            tracing::warn!("not ready: database check timed out");
            Err(ApiError::Unavailable)
        }
    }
}

/// Prometheus / OpenMetrics text.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// The benchmark floor (`http.bench_route`): a unit's name by primary key,
/// as plain text. Not part of the API and not in its description.
pub fn bench_routes() -> Router<AppState> {
    Router::new().route("/bench/units/{id}", get(bench_unit))
}

async fn bench_unit(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<String> {
    const SQL: &str = "SELECT name FROM org_units WHERE id = $1";
    let name: Option<String> =
        crate::on_db!(&state.db, p => sqlx::query_scalar(SQL).bind(&id).fetch_optional(p).await)?;
    name.ok_or(ApiError::NotFound)
}

async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.to_string(),
    )
}
