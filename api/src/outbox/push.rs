//! Notifying a person: push to their active devices first, SMS when they
//! have none (or, later, when every push fails for good). One call queues
//! everything inside the business transaction.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::templates::{self, PushTemplate};
use super::{Channel, Row, SmsMessage, enqueue_sms, insert};
use crate::db::Tx;
use crate::devices::TOKEN_FIELD;
use crate::error::{ApiError, ApiResult};
use crate::on_tx;
use crate::org::users::PHONE_FIELD;
use crate::pii::{Phone, PiiCipher};

/// How a kind reaches people (`notify.channel_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelPolicy {
    /// Push to active devices; SMS when there are none or every push fails
    /// for good.
    PushThenSms,
    PushOnly,
    SmsOnly,
}

impl ChannelPolicy {
    pub fn for_kind(config: &crate::config::DeliveryPolicy, kind: &str) -> Self {
        let policy = config.channel_policy.get(kind).copied();
        policy.unwrap_or(ChannelPolicy::PushThenSms)
    }
}

pub struct Notification<'a> {
    pub kind: &'static str,
    pub user_id: &'a crate::ids::UserId,
    /// The union of the push and SMS templates' parameters.
    pub params: &'a [(&'a str, &'a str)],
    /// Makes a repeated call a no-op (per device, and for the fallback SMS).
    pub idempotency_key: Option<&'a str>,
    pub ttl: Duration,
}

/// What the dispatcher needs to fall back to SMS after a push fails for
/// good: the notification, not the text.
pub fn fallback_of(kind: &str, user_id: &str, group: &str, params: &Map<String, Value>) -> Value {
    json!({ "kind": kind, "user_id": user_id, "group": group, "params": params })
}

/// Queues `n` by the kind's channel policy: push to every active device of
/// the user, SMS when they have none (unless push only) or when the policy
/// says SMS. Answers the outbox ids queued.
pub async fn notify_user(
    tx: &mut Tx,
    pii: &PiiCipher,
    config: &crate::config::DeliveryPolicy,
    n: Notification<'_>,
) -> ApiResult<Vec<String>> {
    const DEVICES: &str = "SELECT id, provider, token_cipher FROM devices WHERE user_id = $1 AND disabled_at IS NULL ORDER BY id";
    let policy = ChannelPolicy::for_kind(config, n.kind);
    let sms_provider = config.sms_provider.as_str();
    let template = templates::push(n.kind).filter(|_| policy != ChannelPolicy::SmsOnly);
    let all: Map<String, Value> = n
        .params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let devices: Vec<(String, String, Vec<u8>)> = match template {
        Some(_) => on_tx!(tx, c => sqlx::query_as(DEVICES).bind(n.user_id).fetch_all(c).await)?,
        None => Vec::new(),
    };
    let group = n
        .idempotency_key
        .map_or_else(|| ulid::Ulid::new().to_string(), str::to_owned);
    if devices.is_empty() {
        if policy == ChannelPolicy::PushOnly {
            return Ok(Vec::new());
        }
        return Ok(sms_fallback(
            tx,
            pii,
            sms_provider,
            n.kind,
            n.user_id.as_str(),
            &group,
            &all,
            n.ttl,
        )
        .await?
        .into_iter()
        .collect());
    }
    let template = template
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no push template {}", n.kind)))?;
    let (title, body, link) =
        render_push(template, &all).map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    let mut ids = Vec::with_capacity(devices.len());
    for (device_row, provider, token_cipher) in devices {
        let token = pii
            .decrypt(TOKEN_FIELD, &token_cipher)
            .map_err(|e| ApiError::Internal(e.into()))?;
        let fallback = match policy {
            ChannelPolicy::PushOnly => Value::Null,
            _ => fallback_of(n.kind, n.user_id.as_str(), &group, &all),
        };
        let payload = json!({
            "device": device_row, "token": token, "title": title, "body": body, "link": link,
            "fallback": fallback,
        });
        let key = format!("{group}:{device_row}");
        let masked = format!(
            "设备 {}…",
            &device_row[device_row.len().saturating_sub(6)..]
        );
        let row = Row {
            key: Some(&key),
            kind: n.kind,
            channel: Channel::Push,
            provider: &provider,
            payload: &payload,
            recipient_masked: &masked,
            ttl: n.ttl,
            order_key: None,
        };
        ids.extend(insert(tx, pii, row).await?);
    }
    Ok(ids)
}

/// The SMS for a notification, to the user's phone, at most once per
/// notification group. None when the user has no phone or the kind has no
/// SMS template.
#[allow(clippy::too_many_arguments)]
pub async fn sms_fallback(
    tx: &mut Tx,
    pii: &PiiCipher,
    sms_provider: &str,
    kind: &str,
    user_id: &str,
    group: &str,
    params: &Map<String, Value>,
    ttl: Duration,
) -> ApiResult<Option<String>> {
    const PHONE: &str = "SELECT phone_cipher FROM users WHERE id = $1";
    let Some(template) = templates::sms(kind) else {
        return Ok(None);
    };
    let cipher: Option<Option<Vec<u8>>> =
        on_tx!(tx, c => sqlx::query_scalar(PHONE).bind(user_id).fetch_optional(c).await)?;
    let Some(cipher) = cipher.flatten() else {
        return Ok(None);
    };
    let phone = pii
        .decrypt(PHONE_FIELD, &cipher)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let phone = Phone::parse(&phone).map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    let values: Vec<(&str, String)> = template
        .params
        .iter()
        .map(|p| {
            (
                *p,
                params
                    .get(*p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let sms_params: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let key = format!("sms:{group}");
    let msg = SmsMessage {
        kind: template.kind,
        phone: &phone,
        params: &sms_params,
        idempotency_key: Some(&key),
        ttl,
    };
    enqueue_sms(tx, pii, sms_provider, msg).await.map(Some)
}

fn render_push(
    t: &PushTemplate,
    params: &Map<String, Value>,
) -> Result<(String, String, String), String> {
    for name in t.params {
        if params
            .get(*name)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!("push template {} needs parameter {name}", t.kind));
        }
    }
    Ok((
        templates::render(t.title, params),
        templates::render(t.body, params),
        templates::render(t.link, params),
    ))
}
