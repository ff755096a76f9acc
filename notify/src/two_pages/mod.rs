//! The "two pages" connector (XT-01): delivers case milestones, queued in
//! the outbox by `api::disclosure::two_pages`, to the citizen homepage and
//! company page platform.
//!
//! `POST {base}/api/v1/milestones` with the milestone as JSON, signed with
//! `X-TwoPages-AppId`, `X-TwoPages-Timestamp` and `X-TwoPages-Signature` (hex
//! HMAC-SM3 of `timestamp ‖ "\n" ‖ body`, `api::crypto::signed_request`). The
//! platform answers HTTP 200 `{"code": "0"}` when it has the milestone (a
//! repeated `event_id` included); `429`/`5xx` (with `Retry-After`) are
//! retried, as is an unreachable platform; another `code` is permanent.
//! Format: docs/integration/two-pages.md.

pub mod standin;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::provider::{Outgoing, Provider, SendError, SendFuture, retry_after};

pub const APP_ID_HEADER: &str = "x-twopages-appid";
pub const TIMESTAMP_HEADER: &str = "x-twopages-timestamp";
pub const SIGNATURE_HEADER: &str = "x-twopages-signature";

pub struct TwoPages {
    http: reqwest::Client,
    url: String,
    app_id: String,
    secret: SecretString,
}

impl TwoPages {
    pub fn new(
        base: &str,
        app_id: &str,
        secret: SecretString,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(TwoPages {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            url: format!("{}/api/v1/milestones", base.trim_end_matches('/')),
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

impl Provider for TwoPages {
    fn name(&self) -> &'static str {
        api::disclosure::two_pages::PROVIDER
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
            let resp = self
                .http
                .post(&self.url)
                .header(APP_ID_HEADER, &self.app_id)
                .header(TIMESTAMP_HEADER, ts.to_string())
                .header(SIGNATURE_HEADER, sig)
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
