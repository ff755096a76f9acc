//! Firebase Cloud Messaging HTTP v1. The service account signs an RS256
//! JWT (`iss` = client email, `scope` = firebase.messaging, `aud` = token
//! URI) which its token endpoint exchanges for an OAuth access token (cached
//! until five minutes before expiry), then
//! `POST {api}/v1/projects/{project}/messages:send`.
//!
//! Errors come in Google's envelope; the FCM `errorCode` decides:
//! `UNREGISTERED` (404) means the device is gone, as does `INVALID_ARGUMENT`
//! when it names the registration token; `QUOTA_EXCEEDED` (429) is retried no
//! sooner than a minute; `UNAVAILABLE`/`INTERNAL` are retried honouring
//! `Retry-After`; a 401 means our OAuth token lapsed (fetched again once);
//! `SENDER_ID_MISMATCH`, other `INVALID_ARGUMENT`s and
//! `THIRD_PARTY_AUTH_ERROR` are permanent.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::token_cache::TokenCache;
use crate::provider::{Outgoing, Provider, SendError, SendFuture, retry_after};

pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's guidance for QUOTA_EXCEEDED: back off at least a minute.
pub const QUOTA_MIN_BACKOFF: Duration = Duration::from_secs(60);

pub struct Fcm {
    http: reqwest::Client,
    send_url: String,
    client_email: String,
    token_uri: String,
    key: EncodingKey,
    token: TokenCache,
}

#[derive(Deserialize)]
struct SendAnswer {
    name: String,
}

fn transient(reason: String, retry_after: Option<Duration>) -> SendError {
    SendError::Transient {
        reason,
        retry_after,
    }
}

/// The FCM error code in Google's envelope: the `FcmError` detail's
/// `errorCode` when present, else the gRPC `status`.
pub fn error_code(envelope: &Value) -> (String, String) {
    let error = &envelope["error"];
    let message = error["message"].as_str().unwrap_or_default().to_owned();
    let detail = error["details"].as_array().and_then(|details| {
        details
            .iter()
            .find_map(|d| d["errorCode"].as_str().map(str::to_owned))
    });
    let code = detail
        .or_else(|| error["status"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (code, message)
}

enum Attempt {
    Done(Result<String, SendError>),
    Unauthenticated,
}

impl Fcm {
    pub fn new(
        api_base: &str,
        project_id: &str,
        client_email: &str,
        private_key: &SecretString,
        token_uri: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Fcm {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            send_url: format!(
                "{}/v1/projects/{project_id}/messages:send",
                api_base.trim_end_matches('/')
            ),
            client_email: client_email.to_owned(),
            token_uri: token_uri.to_owned(),
            key: EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())?,
            token: TokenCache::default(),
        })
    }

    async fn access_token(&self) -> Result<String, SendError> {
        self.token
            .get(&self.http, &self.token_uri, || {
                let now = api::clock::now().unix_timestamp();
                let claims = json!({ "iss": self.client_email, "scope": SCOPE, "aud": self.token_uri, "iat": now, "exp": now + 3600 });
                let assertion = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
                    .map_err(|e| SendError::Permanent { reason: format!("signing the service-account JWT: {e}") })?;
                Ok(vec![("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned()), ("assertion", assertion)])
            })
            .await
    }

    async fn attempt(&self, msg: &Outgoing) -> Result<Attempt, SendError> {
        let p = &msg.payload;
        let device = p["token"].as_str().ok_or_else(|| SendError::Permanent {
            reason: "no token".into(),
        })?;
        let ttl = (msg.expires_at - api::clock::now()).whole_seconds().max(0);
        let body = json!({ "message": {
            "token": device,
            "notification": { "title": p["title"], "body": p["body"] },
            "data": { "link": p["link"], "outbox_id": msg.id },
            "android": { "priority": "high", "ttl": format!("{ttl}s"), "collapse_key": msg.kind },
        }});
        let bearer = self.access_token().await?;
        let resp = self
            .http
            .post(&self.send_url)
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .map_err(|e| transient(format!("unreachable: {}", e.without_url()), None))?;
        let status = resp.status();
        if status.is_success() {
            let answer: SendAnswer = resp
                .json()
                .await
                .map_err(|e| transient(e.to_string(), None))?;
            return Ok(Attempt::Done(Ok(answer.name)));
        }
        if status.as_u16() == 401 {
            return Ok(Attempt::Unauthenticated);
        }
        let wait = retry_after(resp.headers());
        let envelope: Value = resp.json().await.unwrap_or(Value::Null);
        let (code, message) = error_code(&envelope);
        let reason = format!("HTTP {status} {code}: {message}");
        Ok(Attempt::Done(Err(match code.as_str() {
            "UNREGISTERED" => SendError::TokenGone { reason },
            "INVALID_ARGUMENT" if message.contains("registration token") => {
                SendError::TokenGone { reason }
            }
            "QUOTA_EXCEEDED" => transient(
                reason,
                Some(wait.unwrap_or_default().max(QUOTA_MIN_BACKOFF)),
            ),
            "UNAVAILABLE" | "INTERNAL" => transient(reason, wait),
            _ if status.is_server_error() => transient(reason, wait),
            _ => SendError::Permanent { reason },
        })))
    }
}

impl Provider for Fcm {
    fn name(&self) -> &'static str {
        "fcm"
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            for _ in 0..2 {
                match self.attempt(msg).await? {
                    Attempt::Done(result) => return result,
                    Attempt::Unauthenticated => self.token.clear().await,
                }
            }
            Err(transient("FCM refused our OAuth token twice".into(), None))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_code_prefers_the_fcm_detail() {
        let quota = json!({ "error": { "code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED",
            "details": [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "QUOTA_EXCEEDED" }] } });
        assert_eq!(error_code(&quota).0, "QUOTA_EXCEEDED");
        let plain = json!({ "error": { "code": 503, "message": "down", "status": "UNAVAILABLE" } });
        assert_eq!(
            error_code(&plain),
            ("UNAVAILABLE".to_owned(), "down".to_owned())
        );
        assert_eq!(error_code(&Value::Null).0, "");
    }
}
