//! The unified office platform's org API, stood in: a change feed that
//! checks the app key and the HMAC-SM3 signature of every read (401 with
//! `{"error": "invalid_signature"}` otherwise), and a pusher that signs
//! batches and sends them to our push endpoint, as the platform would.
//!
//! `POST …/org/publish {"changes": [...]}` appends to the feed (what an
//! administrator changing the org tree at the platform causes);
//! `POST …/org/push {"changes": [...]}` pushes a batch to us and answers our
//! status and body.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify};
use super::{Batch, Change};

pub const PATH: &str = "/stand-in/unified-platform";
pub const DEMO_APP_KEY: &str = "gov-demo-sync";
pub const DEMO_SECRET: &str = "demo-org-sync-shared-secret";

pub struct StandIn {
    app_key: String,
    secret: String,
    push_url: String,
    feed: Mutex<Vec<Change>>,
    http: reqwest::Client,
}

impl StandIn {
    pub fn new(app_key: &str, secret: &str, push_url: String) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(StandIn {
            app_key: app_key.to_owned(),
            secret: secret.to_owned(),
            push_url,
            feed: Mutex::new(Vec::new()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        }))
    }

    fn feed(&self) -> std::sync::MutexGuard<'_, Vec<Change>> {
        self.feed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>(standin: Arc<StandIn>) -> Router<S> {
    Router::new()
        .route(&format!("{PATH}/org/changes"), get(changes))
        .route(&format!("{PATH}/org/publish"), post(publish))
        .route(&format!("{PATH}/org/push"), post(push))
        .with_state(standin)
}

#[derive(Deserialize)]
struct Since {
    since: Option<String>,
    limit: Option<usize>,
}

async fn changes(
    State(s): State<Arc<StandIn>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(q): Query<Since>,
) -> Response {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let payload = format!("GET {}?{}", uri.path(), uri.query().unwrap_or_default());
    let now = api::clock::now().unix_timestamp();
    let signed = verify(
        s.secret.as_bytes(),
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        payload.as_bytes(),
        now,
    );
    if header("x-app-key") != Some(s.app_key.as_str()) || signed.is_err() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_signature" })),
        )
            .into_response();
    }
    let Ok(since) = q.since.as_deref().unwrap_or("0").parse::<usize>() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid since" })),
        )
            .into_response();
    };
    let limit = q.limit.unwrap_or(500).clamp(1, 1000);
    let feed = s.feed();
    let page: Vec<&Change> = feed.iter().skip(since).take(limit).collect();
    let next = since + page.len();
    Json(json!({ "changes": page, "next": next.to_string(), "has_more": next < feed.len() }))
        .into_response()
}

async fn publish(
    State(s): State<Arc<StandIn>>,
    Json(batch): Json<Batch>,
) -> Json<serde_json::Value> {
    let mut feed = s.feed();
    feed.extend(batch.changes);
    Json(json!({ "position": feed.len() }))
}

/// Signs `body` as the platform does and pushes it to us; the body is sent
/// as given, so a test can also push malformed batches.
async fn push(State(s): State<Arc<StandIn>>, body: Bytes) -> Json<serde_json::Value> {
    let headers = (TIMESTAMP_HEADER, SIGNATURE_HEADER);
    signed_post(&s.http, &s.push_url, headers, s.secret.as_bytes(), body).await
}

/// POSTs `body` signed with `secret` under the two `headers` (timestamp,
/// signature), as every city platform signs; answers our status and body.
pub async fn signed_post(
    http: &reqwest::Client,
    url: &str,
    headers: (&str, &str),
    secret: &[u8],
    body: Bytes,
) -> Json<serde_json::Value> {
    let ts = api::clock::now().unix_timestamp();
    let sig = sign(secret, ts, &body);
    let sent = http
        .post(url)
        .header("content-type", "application/json")
        .header(headers.0, ts.to_string())
        .header(headers.1, sig)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
            Json(json!({ "rp_status": status, "rp_body": body }))
        }
        Err(e) => Json(json!({ "rp_status": 0, "error": e.to_string() })),
    }
}
