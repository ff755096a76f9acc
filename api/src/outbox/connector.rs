//! Messages to the city's platforms (the "two pages", the unified to-do),
//! queued in the business transaction like SMS and push, and delivered by
//! the dispatcher through the connector's provider, retried until accepted.

use std::time::Duration;

use serde_json::Value;

use super::{Channel, Row, insert};
use crate::db::Tx;
use crate::error::ApiResult;
use crate::pii::PiiCipher;

pub struct ConnectorMessage<'a> {
    pub kind: &'static str,
    /// The provider that delivers it, e.g. `two_pages`.
    pub provider: &'static str,
    pub payload: &'a Value,
    /// For the admin view (never personal data).
    pub label: &'a str,
    /// A repeated enqueue with the same key is a no-op.
    pub idempotency_key: &'a str,
    /// Messages with the same order key are delivered in the order queued.
    pub order_key: Option<&'a str>,
    /// Retried until then.
    pub ttl: Duration,
}

/// Queues `msg` inside `tx`; answers whether it was new.
pub async fn enqueue(tx: &mut Tx, pii: &PiiCipher, msg: ConnectorMessage<'_>) -> ApiResult<bool> {
    let row = Row {
        key: Some(msg.idempotency_key),
        kind: msg.kind,
        channel: Channel::Connector,
        provider: msg.provider,
        payload: msg.payload,
        recipient_masked: msg.label,
        ttl: msg.ttl,
        order_key: msg.order_key,
    };
    Ok(insert(tx, pii, row).await?.is_some())
}
