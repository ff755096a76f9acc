//! The Huawei Push Kit stand-in: an OAuth token endpoint that checks the
//! client credentials, and `messages:send` that checks the bearer token and
//! app id, answers Huawei's body codes, and records each delivery.
//!
//! `GET /stand-in/huawei/messages?token=…` shows what a device received;
//! `POST /stand-in/huawei/gone {"token": "…"}` makes a token unregistered
//! (80300007); `POST /stand-in/huawei/faults {"status": 503, "retry_after_secs": 1, "times": 2}`
//! simulates an outage; `POST /stand-in/huawei/expire-tokens` expires the
//! OAuth tokens issued so far (80200003).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::standin_kit::{Delivery, Devices, NoExtra};
use axum::extract::{Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

pub const PATH: &str = "/stand-in/huawei";
pub const DEMO_APP_ID: &str = "104000001";
pub const DEMO_CLIENT_ID: &str = "104000001";
pub const DEMO_CLIENT_SECRET: &str = "demo-huawei-client-secret";

#[derive(Debug, Clone, Serialize)]
pub struct Delivered {
    pub token: String,
    pub title: String,
    pub body: String,
    pub link: String,
}

impl Delivery for Delivered {
    fn token(&self) -> &str {
        &self.token
    }
}

#[derive(Default)]
struct Books {
    oauth_tokens: HashSet<String>,
    tokens_issued: u64,
}

pub struct StandIn {
    app_id: String,
    client_id: String,
    client_secret: String,
    books: Mutex<Books>,
    devices: Arc<Devices<Delivered, NoExtra>>,
}

impl StandIn {
    pub fn new(app_id: &str, client_id: &str, client_secret: &str) -> Arc<Self> {
        Arc::new(StandIn {
            app_id: app_id.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            books: Mutex::new(Books::default()),
            devices: Arc::default(),
        })
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>(standin: Arc<StandIn>) -> Router<S> {
    Router::new()
        .route(&format!("{PATH}/oauth2/v3/token"), post(token))
        .route(&format!("{PATH}/v1/{{app_id}}/messages:send"), post(send))
        .route(&format!("{PATH}/expire-tokens"), post(expire_tokens))
        .route(&format!("{PATH}/stats"), get(stats))
        .with_state(standin.clone())
        .merge(standin.devices.routes(PATH))
}

async fn token(
    State(s): State<Arc<StandIn>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id") == Some(&s.client_id)
        && form
            .get("client_secret")
            .is_some_and(|c| api::crypto::mac_eq_str(c, &s.client_secret));
    if !ok {
        let body = json!({ "error": 1101, "error_description": "invalid client" });
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let token = format!("hw.{}", ulid::Ulid::new());
    let mut books = s.books();
    books.oauth_tokens.insert(token.clone());
    books.tokens_issued += 1;
    Json(json!({ "access_token": token, "expires_in": 3600, "token_type": "Bearer" }))
        .into_response()
}

fn code(status: StatusCode, code: &str, msg: &str) -> Response {
    (
        status,
        Json(json!({ "code": code, "msg": msg, "requestId": ulid::Ulid::new().to_string() })),
    )
        .into_response()
}

async fn send(
    State(s): State<Arc<StandIn>>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some((status, f)) = s.devices.fault().await {
        return f.finish(code(status, "81000001", "System inner error"));
    }
    let books = s.books();
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|b| books.oauth_tokens.contains(b)) {
        return code(StatusCode::UNAUTHORIZED, "80200003", "OAuth token expired");
    }
    if app_id != s.app_id {
        return code(
            StatusCode::BAD_REQUEST,
            "80300002",
            "The current app does not have the permission to send messages",
        );
    }
    let message = &body["message"];
    let tokens: Vec<String> = message["token"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let note = &message["android"]["notification"];
    let (Some(title), Some(text)) = (note["title"].as_str(), note["body"].as_str()) else {
        return code(StatusCode::BAD_REQUEST, "80100003", "Illegal payload");
    };
    let mut devices = s.devices.book();
    if tokens.is_empty() || tokens.iter().all(|t| devices.gone.contains(t)) {
        return code(StatusCode::OK, "80300007", "All the tokens are invalid");
    }
    let link = note["click_action"]["intent"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let live: Vec<String> = tokens
        .into_iter()
        .filter(|t| !devices.gone.contains(t))
        .collect();
    for token in live {
        devices.delivered.push(Delivered {
            token,
            title: title.to_owned(),
            body: text.to_owned(),
            link: link.clone(),
        });
    }
    code(StatusCode::OK, "80000000", "Success")
}

async fn expire_tokens(State(s): State<Arc<StandIn>>) -> StatusCode {
    s.books().oauth_tokens.clear();
    StatusCode::NO_CONTENT
}

async fn stats(State(s): State<Arc<StandIn>>) -> Json<Value> {
    let issued = s.books().tokens_issued;
    Json(json!({ "oauth_tokens_issued": issued, "delivered": s.devices.delivered_count() }))
}
