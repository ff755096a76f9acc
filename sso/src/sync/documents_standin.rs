//! The unified office platforms' official-document filing push (公文备案,
//! docs/integration/filing-intake.md), stood in: `POST …/documents/push`
//! with a document as the platform would send it signs it with the intake
//! secret and pushes it to our intake, answering our status and body. The
//! demo uses it to file documents "issued" at the platform.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use super::standin::signed_post;

pub const PATH: &str = "/stand-in/unified-platform/documents";
pub const DEMO_SECRET: &str = "demo-filing-intake-shared-secret";

struct Pusher {
    url: String,
    http: reqwest::Client,
}

pub fn routes<S: Clone + Send + Sync + 'static>(intake_url: String) -> anyhow::Result<Router<S>> {
    let pusher = Arc::new(Pusher {
        url: intake_url,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
    });
    Ok(Router::new()
        .route(&format!("{PATH}/push"), post(push))
        .with_state(pusher))
}

async fn push(State(p): State<Arc<Pusher>>, body: Bytes) -> Json<serde_json::Value> {
    let headers = (
        api::legal::filing::intake::TIMESTAMP_HEADER,
        api::legal::filing::intake::SIGNATURE_HEADER,
    );
    signed_post(&p.http, &p.url, headers, DEMO_SECRET.as_bytes(), body).await
}
