//! `POST /api/v1/sync/org-changes`: the platform pushes a signed batch.

use crate::SsoState;
use api::audit::{self, Actor, Entry, Outcome};
use api::error::{ApiError, ApiResult};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::routing::post;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::signature::{self, Refusal, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::{Batch, ChangeResult, apply_batch};

pub fn routes(max_batch_bytes: usize) -> Router<SsoState> {
    Router::new()
        .route("/api/v1/sync/org-changes", post(push))
        .layer(DefaultBodyLimit::max(max_batch_bytes))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushAnswer {
    pub results: Vec<ChangeResult>,
}

/// Applies a batch of org and user changes pushed by the unified office
/// platform. Signed with HMAC-SM3 (see `docs/integration/org-sync.md`).
#[utoipa::path(post, path = "/api/v1/sync/org-changes", tag = "org",
    request_body = Batch,
    params(
        ("x-sync-timestamp" = String, Header, description = "unix seconds"),
        ("x-sync-signature" = String, Header, description = "hex HMAC-SM3(secret, timestamp + \"\\n\" + body)"),
    ),
    responses(
        (status = 200, body = PushAnswer),
        (status = 400, description = "not a valid batch", body = api::error::Problem),
        (status = 401, description = "unsigned, mis-signed or stale", body = api::error::Problem),
        (status = 413, body = api::error::Problem),
        (status = 503, description = "sync not configured", body = api::error::Problem),
    ))]
pub async fn push(
    State(sso): State<SsoState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PushAnswer>> {
    let app = &sso.app;
    let secret = sso.config.org_sync.secret.expose_secret().as_bytes();
    if secret.is_empty() {
        return Err(ApiError::Unavailable);
    }
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let now = api::clock::now().unix_timestamp();
    if let Err(refusal) = signature::verify(
        secret,
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &body,
        now,
    ) {
        let entry = Entry {
            actor: Actor::system("org-sync"),
            action: "org.sync",
            target_type: None,
            target_id: None,
            outcome: Outcome::Denied,
            detail: json!({ "source": "push", "refused": format!("{refusal:?}") }),
        };
        audit::record(&app.db, app.audit_key(), entry).await?;
        let (code, detail) = match refusal {
            Refusal::Missing => ("signature_missing", "缺少签名或时间戳"),
            Refusal::Stale => ("signature_stale", "签名时间戳与服务器时间相差超过 5 分钟"),
            Refusal::Mismatch => ("invalid_signature", "签名校验失败"),
        };
        return Err(ApiError::AuthFailed {
            code,
            detail: detail.into(),
        });
    }
    let batch: Batch =
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    let results = apply_batch(app, "push", &batch.changes).await?;
    Ok(Json(PushAnswer { results }))
}
