//! The enqueue side of the transactional outbox. Business code calls
//! [`enqueue_sms`] inside the transaction that made the change worth telling
//! someone about: if that transaction rolls back, nothing is sent. The
//! `notify` crate's dispatcher delivers what commits.

pub mod connector;
pub mod push;
pub mod templates;

use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

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

/// Queues an SMS inside `tx`; answers the outbox id (the existing one when
/// the idempotency key was seen before).
pub async fn enqueue_sms(
    tx: &mut Tx,
    pii: &PiiCipher,
    provider: &str,
    msg: SmsMessage<'_>,
) -> ApiResult<String> {
    const INSERT: &str = "INSERT INTO outbox (id, idempotency_key, kind, channel, provider, payload_cipher, \
         recipient_masked, status, attempts, next_attempt_at, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'sms', $4, $5, $6, 'queued', 0, $7, $8, $7, $7) \
         ON CONFLICT (idempotency_key) DO NOTHING";
    const EXISTING: &str = "SELECT id FROM outbox WHERE idempotency_key = $1";
    let template = templates::sms(msg.kind)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no SMS template {}", msg.kind)))?;
    templates::check_params(template, msg.params)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    let payload = sms_payload(msg.phone, msg.params).to_string();
    let sealed = pii.encrypt(PAYLOAD_FIELD, &payload);
    let id = ulid::Ulid::new().to_string();
    let now = clock::now();
    let expires: OffsetDateTime = now + msg.ttl;
    let inserted = on_tx!(tx, c => sqlx::query(INSERT)
        .bind(&id).bind(msg.idempotency_key).bind(msg.kind).bind(provider).bind(&sealed)
        .bind(msg.phone.masked()).bind(now).bind(expires)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if inserted == 0 {
        let existing: String = on_tx!(tx, c => sqlx::query_scalar(EXISTING).bind(msg.idempotency_key).fetch_one(c).await)?;
        return Ok(existing);
    }
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(PG_CHANNEL)
            .execute(&mut **t)
            .await?;
    }
    Ok(id)
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
