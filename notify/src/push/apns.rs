//! Apple Push Notification service over HTTP/2, with token-based
//! authentication: an ES256 JWT (`kid` = key id, `iss` = team id, `iat`)
//! sent as `authorization: bearer`. Apple wants the token renewed at least
//! hourly and refuses renewals more often than every 20 minutes
//! (`TooManyProviderTokenUpdates`): we re-sign after 50 minutes, or on
//! `ExpiredProviderToken`/`InvalidProviderToken` once the token is at least
//! 20 minutes old.
//!
//! Answers: 200 sent (Apple echoes `apns-id`, which carries the outbox id);
//! 410 `Unregistered`, 400 `BadDeviceToken` or `DeviceTokenNotForTopic` mean
//! the device is gone; 429 and 5xx are retried (honouring `Retry-After`);
//! other 4xx are permanent.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use crate::provider::{Outgoing, Provider, SendError, SendFuture, retry_after};

/// Re-sign the provider token when it is this old.
pub const RENEW_AFTER: Duration = Duration::from_secs(50 * 60);
/// Apple refuses renewals more often than this.
pub const MIN_RENEWAL: Duration = Duration::from_secs(20 * 60);

pub struct Apns {
    http: reqwest::Client,
    base: String,
    topic: String,
    team_id: String,
    key_id: String,
    key: EncodingKey,
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct Reason {
    reason: String,
}

/// An outbox id (ULID) in the UUID form `apns-id` requires.
pub fn apns_id(outbox_id: &str) -> String {
    let n = ulid::Ulid::from_string(outbox_id)
        .map(u128::from)
        .unwrap_or_default();
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

enum Attempt {
    Done(Result<String, SendError>),
    RenewToken,
}

impl Apns {
    pub fn new(
        base: &str,
        topic: &str,
        team_id: &str,
        key_id: &str,
        private_key: &SecretString,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut http = reqwest::Client::builder().timeout(timeout);
        // APNs speaks only HTTP/2: over TLS it is negotiated, in clear (the
        // stand-in) it must be assumed.
        if base.starts_with("http://") {
            http = http.http2_prior_knowledge();
        }
        Ok(Apns {
            http: http.build()?,
            base: base.trim_end_matches('/').to_owned(),
            topic: topic.to_owned(),
            team_id: team_id.to_owned(),
            key_id: key_id.to_owned(),
            key: EncodingKey::from_ec_pem(private_key.expose_secret().as_bytes())?,
            token: Mutex::new(None),
        })
    }

    /// The provider token; `force` renews it if Apple allows a renewal yet.
    async fn provider_token(&self, force: bool) -> Result<String, SendError> {
        let mut cached = self.token.lock().await;
        if let Some((token, signed)) = cached.as_ref() {
            let age = signed.elapsed();
            let keep = if force {
                age < MIN_RENEWAL
            } else {
                age < RENEW_AFTER
            };
            if keep {
                return Ok(token.clone());
            }
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = json!({ "iss": self.team_id, "iat": api::clock::now().unix_timestamp() });
        let token = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| {
            SendError::Permanent {
                reason: format!("signing the provider token: {e}"),
            }
        })?;
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    async fn attempt(&self, msg: &Outgoing, force_renew: bool) -> Result<Attempt, SendError> {
        let p = &msg.payload;
        let device = p["token"].as_str().ok_or_else(|| SendError::Permanent {
            reason: "no token".into(),
        })?;
        let expires = msg.expires_at.unix_timestamp().to_string();
        let body = json!({
            "aps": { "alert": { "title": p["title"], "body": p["body"] }, "sound": "default" },
            "link": p["link"],
        });
        let bearer = self.provider_token(force_renew).await?;
        let resp = self
            .http
            .post(format!("{}/3/device/{device}", self.base))
            .header("authorization", format!("bearer {bearer}"))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", expires)
            .header("apns-collapse-id", &msg.kind)
            .header("apns-id", apns_id(&msg.id))
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError::Transient {
                reason: format!("unreachable: {}", e.without_url()),
                retry_after: None,
            })?;
        let status = resp.status();
        if status.is_success() {
            let id = resp
                .headers()
                .get("apns-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            return Ok(Attempt::Done(Ok(id)));
        }
        let wait = retry_after(resp.headers());
        let reason = resp
            .json::<Reason>()
            .await
            .map(|r| r.reason)
            .unwrap_or_default();
        let said = format!("HTTP {status} {reason}");
        Ok(match (status.as_u16(), reason.as_str()) {
            (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => {
                Attempt::Done(Err(SendError::TokenGone { reason: said }))
            }
            (403, "ExpiredProviderToken" | "InvalidProviderToken") => Attempt::RenewToken,
            (429, _) | (500..=599, _) => Attempt::Done(Err(SendError::Transient {
                reason: said,
                retry_after: wait,
            })),
            _ => Attempt::Done(Err(SendError::Permanent { reason: said })),
        })
    }
}

impl Provider for Apns {
    fn name(&self) -> &'static str {
        "apns"
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            match self.attempt(msg, false).await? {
                Attempt::Done(result) => result,
                Attempt::RenewToken => match self.attempt(msg, true).await? {
                    Attempt::Done(result) => result,
                    Attempt::RenewToken => Err(SendError::Transient {
                        reason: "APNs refuses the provider token; renewal not allowed yet".into(),
                        retry_after: Some(MIN_RENEWAL),
                    }),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apns_id_is_the_ulid_as_a_uuid() {
        let id = apns_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(id, "01563e3a-b5d3-d676-4c61-efb99302bd5b");
    }
}
