//! Huawei Push Kit: an app-level OAuth 2.0 client-credentials token, then
//! `POST {api}/v1/{appId}/messages:send`. The answer's body `code` says what
//! happened: `80000000` success; `80300007` every token invalid (the device
//! is gone); `80200001`/`80200003` the OAuth token is missing or expired (we
//! fetch a new one and retry once); `80300008`/`80100003`-style request
//! errors are permanent; `81000001` and HTTP 5xx/429 are transient.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::token_cache::TokenCache;
use crate::provider::{Outgoing, Provider, SendError, SendFuture, retry_after};

pub struct HuaweiPush {
    http: reqwest::Client,
    token_url: String,
    send_url: String,
    client_id: String,
    client_secret: SecretString,
    token: TokenCache,
}

#[derive(Deserialize)]
struct SendAnswer {
    code: String,
    #[serde(default)]
    msg: String,
    #[serde(default, rename = "requestId")]
    request_id: String,
}

fn transient(reason: String, retry_after: Option<Duration>) -> SendError {
    SendError::Transient {
        reason,
        retry_after,
    }
}

enum Attempt {
    Done(Result<String, SendError>),
    TokenExpired,
}

impl HuaweiPush {
    pub fn new(
        token_url: &str,
        api_base: &str,
        app_id: &str,
        client_id: &str,
        client_secret: SecretString,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(HuaweiPush {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            token_url: token_url.to_owned(),
            send_url: format!(
                "{}/v1/{app_id}/messages:send",
                api_base.trim_end_matches('/')
            ),
            client_id: client_id.to_owned(),
            client_secret,
            token: TokenCache::default(),
        })
    }

    async fn access_token(&self) -> Result<String, SendError> {
        self.token
            .get(&self.http, &self.token_url, || {
                Ok(vec![
                    ("grant_type", "client_credentials".to_owned()),
                    ("client_id", self.client_id.clone()),
                    (
                        "client_secret",
                        self.client_secret.expose_secret().to_owned(),
                    ),
                ])
            })
            .await
    }

    async fn attempt(&self, msg: &Outgoing) -> Result<Attempt, SendError> {
        let p = &msg.payload;
        let token = p["token"].as_str().ok_or_else(|| SendError::Permanent {
            reason: "no token".into(),
        })?;
        let body = json!({
            "validate_only": false,
            "message": {
                "data": json!({ "link": p["link"], "outbox_id": msg.id }).to_string(),
                "android": {
                    "collapse_key": -1,
                    "notification": {
                        "title": p["title"], "body": p["body"],
                        "click_action": { "type": 1, "intent": p["link"] },
                    },
                },
                "token": [token],
            },
        });
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
        let wait = retry_after(resp.headers());
        if status.is_server_error() || status.as_u16() == 429 {
            return Ok(Attempt::Done(Err(transient(
                format!("HTTP {status}"),
                wait,
            ))));
        }
        let answer: SendAnswer = resp
            .json()
            .await
            .map_err(|e| transient(format!("HTTP {status}: {e}"), None))?;
        let reason = format!("{}: {}", answer.code, answer.msg);
        Ok(match answer.code.as_str() {
            "80000000" => Attempt::Done(Ok(answer.request_id)),
            "80200001" | "80200003" => Attempt::TokenExpired,
            "80300007" => Attempt::Done(Err(SendError::TokenGone { reason })),
            "81000001" => Attempt::Done(Err(transient(reason, wait))),
            _ => Attempt::Done(Err(SendError::Permanent { reason })),
        })
    }
}

impl Provider for HuaweiPush {
    fn name(&self) -> &'static str {
        "huawei"
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            for _ in 0..2 {
                match self.attempt(msg).await? {
                    Attempt::Done(result) => return result,
                    Attempt::TokenExpired => self.token.clear().await,
                }
            }
            Err(transient("OAuth token refused twice".into(), None))
        })
    }
}
