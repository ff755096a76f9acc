//! `Idempotency-Key` for POSTs from phones, whose networks drop answers: a
//! retry with the same key and the same body gets the first answer and
//! causes no second side effect.
//!
//! The key is claimed inside the transaction that does the work, before the
//! work: a concurrent retry waits on the claim (the row lock on PostgreSQL,
//! the write lock on SQLite) and then reads the stored answer. A request that
//! fails rolls back its claim with everything else, so fixing the request and
//! sending it again with the same key works. Keys are kept for a day.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::clock;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::on_tx;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
const KEEP: time::Duration = time::Duration::days(1);

/// A client's key: 8 to 128 characters of `A-Z a-z 0-9 - _ . :` (UUIDs and
/// ULIDs fit).
#[derive(Debug, Clone)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key a request carries; requests that must have one are refused
    /// without it.
    pub fn required(headers: &HeaderMap) -> ApiResult<Self> {
        let bad = |why: &str| ApiError::BadRequest {
            code: "idempotency_key",
            detail: format!("请求头 Idempotency-Key {why}"),
        };
        let raw = headers
            .get(HEADER)
            .ok_or_else(|| bad("缺失"))?
            .to_str()
            .map_err(|_| bad("含有非法字符"))?;
        let ok = (8..=128).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(bad("须为 8–128 位字母、数字或 -_.:"))
        }
    }
}

/// What claiming a key found.
pub enum Claim {
    /// First use: do the work, then [`finish`].
    Fresh,
    /// A retry: answer this and do nothing else.
    Replay(StatusCode, Value),
}

/// Claims `key` within `scope` (a route, and the caller where there is one)
/// for a request whose body hashes to `request_hash`.
pub async fn claim(
    tx: &mut Tx,
    scope: &str,
    key: &IdempotencyKey,
    request_hash: &str,
) -> ApiResult<Claim> {
    const SWEEP: &str =
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at < $3";
    const CLAIM: &str = "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at) \
         VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (scope, key) DO NOTHING";
    const FIND: &str =
        "SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2";
    let now = clock::now();
    on_tx!(tx, c => sqlx::query(SWEEP).bind(scope).bind(&key.0).bind(now - KEEP).execute(c).await.map(|_| ()))?;
    let claimed = on_tx!(tx, c => sqlx::query(CLAIM).bind(scope).bind(&key.0).bind(request_hash).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if claimed == 1 {
        return Ok(Claim::Fresh);
    }
    let (hash, status, body): (String, i32, String) =
        on_tx!(tx, c => sqlx::query_as(FIND).bind(scope).bind(&key.0).fetch_one(c).await)?;
    if !crate::crypto::mac_eq_str(&hash, request_hash) {
        return Err(ApiError::Conflict {
            code: "idempotency_key_reused",
            detail: "该 Idempotency-Key 已用于另一个请求".into(),
        });
    }
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| anyhow::anyhow!("idempotency record with status {status}"))?;
    let body = serde_json::from_str(&body).map_err(anyhow::Error::from)?;
    Ok(Claim::Replay(status, body))
}

/// Stores the answer to a fresh claim, in the same transaction as the work.
pub async fn finish(
    tx: &mut Tx,
    scope: &str,
    key: &IdempotencyKey,
    status: StatusCode,
    body: &Value,
) -> ApiResult<()> {
    const SQL: &str =
        "UPDATE idempotency_keys SET status = $3, body = $4 WHERE scope = $1 AND key = $2";
    on_tx!(tx, c => sqlx::query(SQL).bind(scope).bind(&key.0).bind(i32::from(status.as_u16()))
        .bind(body.to_string()).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The whole sequence, for a handler: claims `key` in a new transaction,
/// replays the stored answer to a retry, or runs `work` once in that
/// transaction, stores its answer with `status`, commits, and wakes the
/// outbox for what the work queued. A failed `work` rolls everything back,
/// the claim included.
pub async fn run_once<T, F>(
    app: &AppState,
    key: &IdempotencyKey,
    scope: &str,
    request_hash: &str,
    status: StatusCode,
    work: F,
) -> ApiResult<Response>
where
    T: Serialize,
    F: AsyncFnOnce(&mut Tx) -> ApiResult<T>,
{
    let mut tx = app.db.begin().await?;
    if let Claim::Replay(status, body) = claim(&mut tx, scope, key, request_hash).await? {
        return Ok((status, Json(body)).into_response());
    }
    let answer = work(&mut tx).await?;
    let body = serde_json::to_value(&answer).map_err(anyhow::Error::from)?;
    finish(&mut tx, scope, key, status, &body).await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    Ok((status, Json(body)).into_response())
}

/// The hash a claim compares: SM3 over the request's canonical JSON
/// ([`canonical_json`]), so that a client that serialises the same request
/// again on retry, members in another order or `1.0` for `1`, is answered
/// with the stored reply; a body that is not JSON is hashed as it came.
pub fn request_hash(bytes: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(bytes)
        .map(|v| canonical_json(&v).into_bytes())
        .unwrap_or_else(|_| bytes.to_vec());
    hex::encode(crate::crypto::sm3(&canonical))
}

/// One text per JSON meaning, after RFC 8785's idea: object members sorted
/// by name, no insignificant whitespace, a number written one way (an
/// integral value as an integer, any other in its shortest round-trip form).
pub fn canonical_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(members) => {
            let mut sorted: Vec<_> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (name, value)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Number(n) => out.push_str(&normal_number(n)),
        other => out.push_str(&other.to_string()),
    }
}

fn normal_number(n: &serde_json::Number) -> String {
    /// Integers up to 2^53 are exact in a double, as JSON peers read them.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or_default();
    if f.fract() == 0.0 && f.abs() <= EXACT {
        return format!("{}", f as i64);
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_meaning_hashes_the_same() {
        let a = br#"{"b": [1, {"y": 2.0, "x": "\u5f20"}], "a": 1e2}"#;
        let b = r#"{"a":100,"b":[1,{"x":"张","y":2}]}"#.as_bytes();
        assert_eq!(request_hash(a), request_hash(b));
        assert_eq!(
            canonical_json(&serde_json::from_slice(a).unwrap()),
            r#"{"a":100,"b":[1,{"x":"张","y":2}]}"#
        );
    }

    #[test]
    fn another_value_or_order_of_items_hashes_differently() {
        let base = request_hash(br#"{"a": [1, 2], "b": "x"}"#);
        assert_ne!(base, request_hash(br#"{"a": [2, 1], "b": "x"}"#));
        assert_ne!(base, request_hash(br#"{"a": [1, 2], "b": "y"}"#));
        assert_ne!(base, request_hash(br#"{"a": [1, 2.5], "b": "x"}"#));
        assert_ne!(request_hash(b"not json"), request_hash(b"not  json"));
    }
}
