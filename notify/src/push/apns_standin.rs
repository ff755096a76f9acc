//! The APNs stand-in: speaks only HTTP/2 (as Apple does), checks the
//! provider token (ES256, our key id, team id as `iss`, not older than an
//! hour), the headers Apple requires (`apns-topic`, `apns-push-type`,
//! `apns-priority`, `apns-expiration`, a UUID `apns-id`) and the device
//! token's form, answers Apple's reasons, and records deliveries.
//!
//! `POST /stand-in/apns/gone {"token": "…"}` unregisters a device (410);
//! `POST /stand-in/apns/faults {"status": 503, "reason": "ServiceUnavailable", "retry_after_secs": 1, "times": 2}`
//! injects failures; `GET /stand-in/apns/messages` lists deliveries and
//! `GET /stand-in/apns/stats` how many distinct provider tokens were used.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::standin_kit::{Delivery, Devices};
use axum::Json;
use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const PATH: &str = "/stand-in/apns";
pub const DEMO_TOPIC: &str = "cn.gov.sh.govapp";
pub const DEMO_TEAM_ID: &str = "DEMOTEAM01";
pub const DEMO_KEY_ID: &str = "DEMOKEY001";

#[derive(Debug, Clone, Serialize)]
pub struct Delivered {
    pub token: String,
    pub apns_id: String,
    pub collapse_id: Option<String>,
    pub payload: Value,
}

impl Delivery for Delivered {
    fn token(&self) -> &str {
        &self.token
    }
}

/// Apple's own field of an injected fault.
#[derive(Debug, Clone, Deserialize)]
struct FaultReason {
    reason: String,
}

#[derive(Default)]
struct Books {
    provider_tokens: HashSet<String>,
}

pub struct StandIn {
    topic: String,
    team_id: String,
    key_id: String,
    key: DecodingKey,
    books: Mutex<Books>,
    devices: Arc<Devices<Delivered, FaultReason>>,
}

impl StandIn {
    /// `public_key_pem`: the public half of the provider's .p8 key.
    pub fn new(
        topic: &str,
        team_id: &str,
        key_id: &str,
        public_key_pem: &str,
    ) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(StandIn {
            topic: topic.to_owned(),
            team_id: team_id.to_owned(),
            key_id: key_id.to_owned(),
            key: DecodingKey::from_ec_pem(public_key_pem.as_bytes())?,
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
        .route(&format!("{PATH}/3/device/{{token}}"), post(push))
        .route(&format!("{PATH}/stats"), get(stats))
        .with_state(standin.clone())
        .merge(standin.devices.routes(PATH))
}

fn reason(status: StatusCode, reason: &str) -> Response {
    let mut body = json!({ "reason": reason });
    if status == StatusCode::GONE {
        body["timestamp"] = json!(api::clock::now().unix_timestamp() * 1000);
    }
    (status, Json(body)).into_response()
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[derive(Deserialize)]
struct ProviderClaims {
    iss: String,
    iat: i64,
}

impl StandIn {
    /// The provider token of `authorization` (`bearer <JWT>`), when Apple
    /// would take it: ES256 under our key id, the team as issuer, issued
    /// within the hour. Else Apple's reason.
    fn provider_token(&self, authorization: Option<String>) -> Result<String, &'static str> {
        let Some(bearer) = authorization.and_then(|a| a.strip_prefix("bearer ").map(str::to_owned))
        else {
            return Err("MissingProviderToken");
        };
        let kid_ok = jsonwebtoken::decode_header(&bearer)
            .is_ok_and(|hd| hd.alg == Algorithm::ES256 && hd.kid.as_deref() == Some(&self.key_id));
        let mut v = Validation::new(Algorithm::ES256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        let claims =
            jsonwebtoken::decode::<ProviderClaims>(&bearer, &self.key, &v).map(|d| d.claims);
        let Ok(claims) = claims.map_err(|_| ()).and_then(|c| {
            if kid_ok && c.iss == self.team_id {
                Ok(c)
            } else {
                Err(())
            }
        }) else {
            return Err("InvalidProviderToken");
        };
        if api::clock::now().unix_timestamp() - claims.iat > 3600 {
            return Err("ExpiredProviderToken");
        }
        Ok(bearer)
    }
}

async fn push(State(s): State<Arc<StandIn>>, Path(token): Path<String>, req: Request) -> Response {
    if req.version() != Version::HTTP_2 {
        return reason(StatusCode::BAD_REQUEST, "HTTP/2 required");
    }
    if let Some((status, f)) = s.devices.fault().await {
        return f.finish(reason(status, &f.extra.reason));
    }
    let h = req.headers().clone();
    let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bearer = match s.provider_token(header("authorization")) {
        Ok(bearer) => bearer,
        Err(why) => return reason(StatusCode::FORBIDDEN, why),
    };
    if header("apns-topic").as_deref() != Some(s.topic.as_str()) {
        return reason(
            StatusCode::BAD_REQUEST,
            if header("apns-topic").is_none() {
                "MissingTopic"
            } else {
                "DeviceTokenNotForTopic"
            },
        );
    }
    if !matches!(
        header("apns-push-type").as_deref(),
        Some("alert" | "background" | "voip")
    ) {
        return reason(StatusCode::BAD_REQUEST, "InvalidPushType");
    }
    if !matches!(
        header("apns-priority").as_deref(),
        None | Some("5" | "10" | "1")
    ) {
        return reason(StatusCode::BAD_REQUEST, "BadPriority");
    }
    if header("apns-expiration").is_some_and(|e| e.parse::<i64>().is_err()) {
        return reason(StatusCode::BAD_REQUEST, "BadExpirationDate");
    }
    let apns_id =
        header("apns-id").unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into());
    if !is_uuid(&apns_id) {
        return reason(StatusCode::BAD_REQUEST, "BadMessageId");
    }
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return reason(StatusCode::BAD_REQUEST, "BadDeviceToken");
    }
    let Ok(body) = to_bytes(req.into_body(), 5 * 1024).await else {
        return reason(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge");
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return reason(StatusCode::BAD_REQUEST, "PayloadEmpty");
    };
    if s.devices.is_gone(&token) {
        return reason(StatusCode::GONE, "Unregistered");
    }
    s.books().provider_tokens.insert(bearer);
    s.devices.deliver(Delivered {
        token,
        apns_id: apns_id.clone(),
        collapse_id: header("apns-collapse-id"),
        payload,
    });
    (StatusCode::OK, [("apns-id", apns_id)]).into_response()
}

async fn stats(State(s): State<Arc<StandIn>>) -> Json<Value> {
    let used = s.books().provider_tokens.len();
    Json(json!({ "provider_tokens_used": used, "delivered": s.devices.delivered_count() }))
}
