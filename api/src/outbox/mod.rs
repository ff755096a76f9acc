//! The enqueue side of the transactional outbox. Business code calls
//! [`enqueue_sms`] inside the transaction that made the change worth telling
//! someone about: if that transaction rolls back, nothing is sent. The
//! `notify` crate's dispatcher delivers what commits.

pub mod connector;
pub mod push;
pub mod task_notice;
pub mod templates;

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::clock;
use crate::db::{Db, Tx};
use crate::error::{ApiError, ApiResult};
use crate::on_tx;
use crate::pii::{Phone, PiiCipher};

pub const PAYLOAD_FIELD: &str = "outbox.payload";
/// Postgres channel the dispatcher listens on; a NOTIFY inside the enqueuing
/// transaction is delivered at commit, and never if it rolls back.
pub const PG_CHANNEL: &str = "gov_outbox";

#[derive(Clone, Copy)]
pub struct SmsMessage<'a> {
    pub kind: &'static str,
    pub phone: &'a Phone,
    pub params: &'a [(&'a str, &'a str)],
    /// A repeated enqueue with the same key is a no-op.
    pub idempotency_key: Option<&'a str>,
    /// Undelivered by then, the message is dead-lettered (a verification
    /// code is worthless after its own expiry).
    pub ttl: Duration,
}

/// What the dispatcher decrypts: who, and with what parameters.
pub fn sms_payload(phone: &Phone, params: &[(&str, &str)]) -> Value {
    let params: Map<String, Value> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({ "phone": phone.as_str(), "params": params })
}

crate::text_enum! {
    /// How a queued message travels.
    pub enum Channel {
        Sms = "sms",
        Push = "push",
        /// To a city platform (the two pages, the unified to-do).
        Connector = "connector",
    }
}

crate::text_enum! {
    /// Where a queued message stands.
    pub enum OutboxStatus {
        Queued = "queued",
        /// Claimed by a dispatcher, under a lease.
        Sending = "sending",
        Sent = "sent",
        /// Refused for good by the provider.
        Failed = "failed",
        /// Expired undelivered.
        Dead = "dead",
    }
}

/// One message to queue.
pub(crate) struct Row<'a> {
    /// A repeated enqueue with the same key is a no-op.
    pub key: Option<&'a str>,
    pub kind: &'a str,
    pub channel: Channel,
    pub provider: &'a str,
    /// Sealed before it is stored: it names people.
    pub payload: &'a Value,
    /// For the admin view (never personal data in the clear).
    pub recipient_masked: &'a str,
    pub ttl: Duration,
    /// Messages with the same order key are delivered in the order queued.
    pub order_key: Option<&'a str>,
}

/// Queues `row` inside `tx`; answers its id, or None when its key was seen
/// before. On PostgreSQL the dispatchers of every instance are woken at
/// commit (a NOTIFY in a transaction is delivered then, and never if it
/// rolls back); this process's own dispatcher is woken by the caller.
pub(crate) async fn insert(
    tx: &mut Tx,
    pii: &PiiCipher,
    row: Row<'_>,
) -> ApiResult<Option<String>> {
    const INSERT: &str = "INSERT INTO outbox (id, idempotency_key, kind, channel, provider, payload_cipher, \
         recipient_masked, status, attempts, next_attempt_at, expires_at, created_at, updated_at, order_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $9, $9, $11) \
         ON CONFLICT (idempotency_key) DO NOTHING";
    let id = ulid::Ulid::new().to_string();
    let sealed = pii.encrypt(PAYLOAD_FIELD, &row.payload.to_string());
    let now = clock::now();
    let inserted = on_tx!(tx, c => sqlx::query(INSERT)
        .bind(&id).bind(row.key).bind(row.kind).bind(row.channel).bind(row.provider).bind(&sealed)
        .bind(row.recipient_masked).bind(OutboxStatus::Queued).bind(now).bind(now + row.ttl).bind(row.order_key)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if inserted == 0 {
        return Ok(None);
    }
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(PG_CHANNEL)
            .execute(&mut **t)
            .await?;
    }
    Ok(Some(id))
}

/// Queues an SMS inside `tx`; answers the outbox id (the existing one when
/// the idempotency key was seen before).
pub async fn enqueue_sms(
    tx: &mut Tx,
    pii: &PiiCipher,
    provider: &str,
    msg: SmsMessage<'_>,
) -> ApiResult<String> {
    const EXISTING: &str = "SELECT id FROM outbox WHERE idempotency_key = $1";
    let template = templates::sms(msg.kind)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no SMS template {}", msg.kind)))?;
    templates::check_params(template, msg.params)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    let payload = sms_payload(msg.phone, msg.params);
    let row = Row {
        key: msg.idempotency_key,
        kind: msg.kind,
        channel: Channel::Sms,
        provider,
        payload: &payload,
        recipient_masked: &msg.phone.masked(),
        ttl: msg.ttl,
        order_key: None,
    };
    if let Some(id) = insert(tx, pii, row).await? {
        return Ok(id);
    }
    Ok(on_tx!(tx, c => sqlx::query_scalar(EXISTING).bind(msg.idempotency_key).fetch_one(c).await)?)
}

/// Queues one SMS in a transaction of its own and wakes the dispatcher.
pub async fn send_sms_now(
    db: &Db,
    pii: &PiiCipher,
    provider: &str,
    wake: &tokio::sync::Notify,
    msg: SmsMessage<'_>,
) -> ApiResult<String> {
    let mut tx = db.begin().await?;
    let id = enqueue_sms(&mut tx, pii, provider, msg).await?;
    tx.commit().await?;
    wake.notify_one();
    Ok(id)
}
