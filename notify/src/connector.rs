//! A provider for the city's platforms that take signed JSON (the two pages,
//! the unified to-do): `POST {url}` with the outbox payload as the body and
//! three headers, `{prefix}-AppId`, `{prefix}-Timestamp` (unix seconds) and
//! `{prefix}-Signature` (hex HMAC-SM3 of `timestamp ‖ "\n" ‖ body`,
//! `api::crypto::signed_request`). The platform answers HTTP 200 with
//! `{"code": "0"}` once it has the message (a repeat included); `429` and
//! `5xx` (with `Retry-After`) and an unreachable platform are retried;
//! another `code` is permanent.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::provider::{Outgoing, Provider, SendError, SendFuture, retry_after};

/// The header names for a platform whose headers start with `prefix`
/// (e.g. `x-twopages`).
pub fn headers(prefix: &str) -> [String; 3] {
    [
        format!("{prefix}-appid"),
        format!("{prefix}-timestamp"),
        format!("{prefix}-signature"),
    ]
}

pub struct SignedConnector {
    name: &'static str,
    http: reqwest::Client,
    url: String,
    headers: [String; 3],
    app_id: String,
    secret: SecretString,
}

impl SignedConnector {
    pub fn new(
        name: &'static str,
        url: String,
        header_prefix: &str,
        app_id: &str,
        secret: SecretString,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(SignedConnector {
            name,
            http: reqwest::Client::builder().timeout(timeout).build()?,
            url,
            headers: headers(header_prefix),
            app_id: app_id.to_owned(),
            secret,
        })
    }
}

#[derive(Deserialize)]
struct Answer {
    code: String,
    #[serde(default)]
    msg: String,
}

impl Provider for SignedConnector {
    fn name(&self) -> &'static str {
        self.name
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            let body = msg.payload.to_string();
            let ts = time::OffsetDateTime::now_utc().unix_timestamp();
            let sig = api::crypto::signed_request::sign(
                self.secret.expose_secret().as_bytes(),
                ts,
                body.as_bytes(),
            );
            let [app_id, timestamp, signature] = &self.headers;
            let resp = self
                .http
                .post(&self.url)
                .header(app_id, &self.app_id)
                .header(timestamp, ts.to_string())
                .header(signature, sig)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| SendError::Transient {
                    reason: format!("unreachable: {}", e.without_url()),
                    retry_after: None,
                })?;
            let status = resp.status();
            if status.is_server_error() || status.as_u16() == 429 {
                return Err(SendError::Transient {
                    reason: format!("HTTP {status}"),
                    retry_after: retry_after(resp.headers()),
                });
            }
            let answer: Answer = resp.json().await.map_err(|e| SendError::Transient {
                reason: format!("HTTP {status}, unreadable answer: {e}"),
                retry_after: None,
            })?;
            if answer.code == "0" {
                Ok(msg.payload["event_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned())
            } else {
                Err(SendError::Permanent {
                    reason: format!("code {}: {}", answer.code, answer.msg),
                })
            }
        })
    }
}
