//! Messages to the city's platforms (the "two pages", the unified to-do),
//! queued in the business transaction like SMS and push, and delivered by
//! the dispatcher through the connector's provider, retried until accepted.

use std::time::Duration;

use serde_json::Value;

use super::{PAYLOAD_FIELD, PG_CHANNEL};
use crate::clock;
use crate::db::Tx;
use crate::error::ApiResult;
use crate::on_tx;
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
    const INSERT: &str = "INSERT INTO outbox (id, idempotency_key, kind, channel, provider, payload_cipher, \
         recipient_masked, status, attempts, next_attempt_at, expires_at, created_at, updated_at, order_key) \
         VALUES ($1, $2, $3, 'connector', $4, $5, $6, 'queued', 0, $7, $8, $7, $7, $9) \
         ON CONFLICT (idempotency_key) DO NOTHING";
    let now = clock::now();
    let sealed = pii.encrypt(PAYLOAD_FIELD, &msg.payload.to_string());
    let inserted = on_tx!(tx, c => sqlx::query(INSERT)
        .bind(ulid::Ulid::new().to_string()).bind(msg.idempotency_key).bind(msg.kind).bind(msg.provider)
        .bind(&sealed).bind(msg.label).bind(now).bind(now + msg.ttl).bind(msg.order_key)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if inserted == 1
        && let Tx::Postgres(t) = tx
    {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(PG_CHANNEL)
            .execute(&mut **t)
            .await?;
    }
    Ok(inserted == 1)
}
