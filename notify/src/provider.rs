//! The seam between the dispatcher and the providers.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A message as the dispatcher hands it to a provider.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The outbox id: providers pass it on as their dedupe field.
    pub id: String,
    pub kind: String,
    /// Decrypted recipient and parameters (see `api::outbox`).
    pub payload: serde_json::Value,
    /// Undelivered by then, the message is worthless (APNs
    /// `apns-expiration`, FCM `ttl`).
    pub expires_at: time::OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again: after `retry_after` if the provider said so.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Never worth trying again (bad number, rejected template, …).
    Permanent { reason: String },
    /// The device's push token is gone (uninstalled, expired): disable the
    /// device, and tell the person another way.
    TokenGone { reason: String },
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>>;

pub trait Provider: Send + Sync + 'static {
    /// As stored in `outbox.provider`.
    fn name(&self) -> &'static str;
    /// Delivers; answers the provider's message id.
    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a>;
}

/// Reads `Retry-After` as seconds (the form providers use).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
