//! The FCM HTTP v1 stand-in: a service-account token endpoint that verifies
//! the RS256 JWT assertion (issuer, audience, scope, signature), and
//! `messages:send` that checks the bearer token and project, requires
//! exactly one target, answers in Google's error envelope, and records
//! deliveries.
//!
//! `POST /stand-in/fcm/gone {"token": "…"}` unregisters a token (404
//! UNREGISTERED); `POST /stand-in/fcm/faults {"status": 429, "error_code": "QUOTA_EXCEEDED", "retry_after_secs": 1, "times": 1}`
//! injects failures; `GET /stand-in/fcm/messages` lists deliveries.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::standin_kit::{Delivery, Devices};
use axum::extract::{Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::fcm::SCOPE;

pub const PATH: &str = "/stand-in/fcm";
pub const DEMO_PROJECT: &str = "gov-sh-demo";
pub const DEMO_CLIENT_EMAIL: &str = "push@gov-sh-demo.iam.gserviceaccount.com";
/// Demo only: see `notify/src/push/demo/README.md`.
pub const DEMO_PRIVATE_KEY: &str = include_str!("demo/fcm-service-account-key.pem");
pub const DEMO_PUBLIC_KEY: &str = include_str!("demo/fcm-service-account-key.pub.pem");

#[derive(Debug, Clone, Serialize)]
pub struct Delivered {
    pub token: String,
    pub message: Value,
}

impl Delivery for Delivered {
    fn token(&self) -> &str {
        &self.token
    }
}

/// FCM's own field of an injected fault.
#[derive(Debug, Clone, Deserialize)]
struct FaultCode {
    error_code: String,
}

#[derive(Default)]
struct Books {
    access_tokens: HashSet<String>,
    tokens_issued: u64,
}

pub struct StandIn {
    project: String,
    client_email: String,
    token_uri: String,
    key: DecodingKey,
    books: Mutex<Books>,
    devices: Arc<Devices<Delivered, FaultCode>>,
}

impl StandIn {
    pub fn new(
        project: &str,
        client_email: &str,
        token_uri: &str,
        public_key_pem: &str,
    ) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(StandIn {
            project: project.to_owned(),
            client_email: client_email.to_owned(),
            token_uri: token_uri.to_owned(),
            key: DecodingKey::from_rsa_pem(public_key_pem.as_bytes())?,
            books: Mutex::new(Books::default()),
            devices: Arc::default(),
        }))
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>(standin: Arc<StandIn>) -> Router<S> {
    Router::new()
        .route(&format!("{PATH}/token"), post(token))
        .route(
            &format!("{PATH}/v1/projects/{{project}}/messages:send"),
            post(send),
        )
        .with_state(standin.clone())
        .merge(standin.devices.routes(PATH))
}

#[derive(Deserialize)]
struct Assertion {
    iss: String,
    scope: String,
}

async fn token(
    State(s): State<Arc<StandIn>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let bad = |e: &str| (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return bad("unsupported_grant_type");
    }
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[&s.token_uri]);
    v.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims = form
        .get("assertion")
        .and_then(|a| jsonwebtoken::decode::<Assertion>(a, &s.key, &v).ok())
        .map(|d| d.claims);
    if !claims.is_some_and(|c| c.iss == s.client_email && c.scope.split(' ').any(|x| x == SCOPE)) {
        return bad("invalid_grant");
    }
    let token = format!("ya29.{}", ulid::Ulid::new());
    let mut books = s.books();
    books.access_tokens.insert(token.clone());
    books.tokens_issued += 1;
    Json(json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" }))
        .into_response()
}

fn envelope(status: StatusCode, error_code: &str, message: &str) -> Response {
    let grpc = match error_code {
        "UNREGISTERED" => "NOT_FOUND",
        "QUOTA_EXCEEDED" => "RESOURCE_EXHAUSTED",
        "SENDER_ID_MISMATCH" => "PERMISSION_DENIED",
        other => other,
    };
    let body = json!({ "error": { "code": status.as_u16(), "message": message, "status": grpc,
        "details": [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code }] } });
    (status, Json(body)).into_response()
}

async fn send(
    State(s): State<Arc<StandIn>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some((status, f)) = s.devices.fault().await {
        return f.finish(envelope(status, &f.extra.error_code, "injected"));
    }
    let books = s.books();
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|b| books.access_tokens.contains(b)) {
        let body = json!({ "error": { "code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED" } });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    if project != s.project {
        return envelope(
            StatusCode::FORBIDDEN,
            "SENDER_ID_MISMATCH",
            "SenderId mismatch",
        );
    }
    let message = &body["message"];
    let targets = ["token", "topic", "condition"]
        .iter()
        .filter(|t| message.get(**t).is_some())
        .count();
    let Some(token) = message["token"].as_str().filter(|_| targets == 1) else {
        return envelope(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Exactly one of token, topic or condition is required",
        );
    };
    if token.is_empty() {
        return envelope(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        );
    }
    if s.devices.is_gone(token) {
        return envelope(
            StatusCode::NOT_FOUND,
            "UNREGISTERED",
            "Requested entity was not found.",
        );
    }
    s.devices.deliver(Delivered {
        token: token.to_owned(),
        message: message.clone(),
    });
    let name = format!("projects/{project}/messages/0:{}", ulid::Ulid::new());
    Json(json!({ "name": name })).into_response()
}
