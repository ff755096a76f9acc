//! The audit log (SEC-03): append-only, tamper-evident.
//!
//! Each record carries `mac = HMAC-SM3(key, prev_mac ‖ 0 ‖ canonical(record))`,
//! where `canonical` covers every column including the sequence number. A
//! changed record breaks its own MAC; a deleted one leaves a gap in the
//! sequence; swapped records break the chain; a cut-off tail disagrees with
//! `audit_head`. Database triggers refuse UPDATE and DELETE, so tampering
//! also needs a privileged hand on the database, and then `gov-server audit
//! verify` names the first bad record.
//!
//! Appends are serialised through the single `audit_head` row: the first
//! statement of an append is an UPDATE of that row, which takes the write
//! lock (SQLite) or the row lock (PostgreSQL) before anything is read.

mod verify;

pub use verify::{BadRecord, VerifyReport, verify_chain};

use sqlx::FromRow;
use time::OffsetDateTime;

use crate::authz::Principal;
use crate::clock;
use crate::crypto::hmac_sm3;
use crate::db::{Db, Tx};
use crate::http::context;
use crate::on_tx;

/// The MAC that the first record chains from.
pub const GENESIS_MAC: &str = "genesis";

crate::text_enum! {
    pub enum Outcome {
        Success = "success",
        Failure = "failure",
        Denied = "denied",
    }
}

/// Who acted: a signed-in user, or the system itself (CLI, seeding, jobs).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<String>,
    pub label: String,
}

impl Actor {
    /// A user known by id only (no principal loaded): labelled by the id.
    pub fn user(id: &crate::ids::UserId) -> Self {
        Actor {
            id: Some(id.to_string()),
            label: id.to_string(),
        }
    }

    pub fn system(label: &str) -> Self {
        Actor {
            id: None,
            label: label.to_owned(),
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Actor {
            id: Some(p.user_id.to_string()),
            label: p.login_name.clone(),
        }
    }
}

/// One thing that happened. `detail` must never hold secrets, codes, tokens
/// or unmasked personal data.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: Actor,
    pub action: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub outcome: Outcome,
    pub detail: serde_json::Value,
}

/// A stored record, as read back for verification and listing.
#[derive(Debug, Clone, FromRow)]
pub struct Record {
    pub seq: i64,
    pub id: String,
    pub occurred_at: OffsetDateTime,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub source_ip: Option<String>,
    pub outcome: String,
    pub detail: String,
    pub request_id: Option<String>,
    pub prev_mac: String,
    pub mac: String,
}

impl Record {
    /// The bytes the MAC covers: a JSON array of every column but the MACs.
    fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(&(
            self.seq,
            &self.id,
            clock::rfc3339(self.occurred_at),
            &self.actor_id,
            &self.actor_label,
            &self.action,
            &self.target_type,
            &self.target_id,
            &self.source_ip,
            &self.outcome,
            &self.detail,
            &self.request_id,
        ))
        .unwrap_or_default()
    }

    pub fn expected_mac(&self, key: &[u8]) -> String {
        hex::encode(hmac_sm3(
            key,
            &[self.prev_mac.as_bytes(), &[0], &self.canonical()],
        ))
    }
}

/// Appends `entry` inside `tx`, so the record commits or rolls back with the
/// change it describes.
pub async fn append(tx: &mut Tx, key: &[u8], entry: Entry) -> Result<(), sqlx::Error> {
    const BUMP: &str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, mac";
    const INSERT: &str = "INSERT INTO audit_log (seq, id, occurred_at, actor_id, actor_label, action, \
         target_type, target_id, source_ip, outcome, detail, request_id, prev_mac, mac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
    const HEAD: &str = "UPDATE audit_head SET mac = $1 WHERE id = 1";

    let (seq, prev_mac): (i64, String) = on_tx!(tx, c => sqlx::query_as(BUMP).fetch_one(c).await)?;
    let ctx = context::current();
    let mut record = Record {
        seq,
        id: ulid::Ulid::new().to_string(),
        occurred_at: clock::now(),
        actor_id: entry.actor.id,
        actor_label: entry.actor.label,
        action: entry.action.to_owned(),
        target_type: entry.target_type.map(str::to_owned),
        target_id: entry.target_id,
        source_ip: ctx.source_ip.map(|ip| ip.to_string()),
        outcome: entry.outcome.as_str().to_owned(),
        detail: entry.detail.to_string(),
        request_id: Some(ctx.request_id).filter(|id| !id.is_empty()),
        prev_mac,
        mac: String::new(),
    };
    record.mac = record.expected_mac(key);
    let r = &record;
    on_tx!(tx, c => sqlx::query(INSERT)
        .bind(r.seq).bind(&r.id).bind(r.occurred_at).bind(&r.actor_id).bind(&r.actor_label)
        .bind(&r.action).bind(&r.target_type).bind(&r.target_id).bind(&r.source_ip)
        .bind(&r.outcome).bind(&r.detail).bind(&r.request_id).bind(&r.prev_mac).bind(&r.mac)
        .execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query(HEAD).bind(&r.mac).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Appends the success of `action` by `principal` on `target` (type, id)
/// inside the transaction of the change it records.
pub async fn success(
    state: &crate::state::AppState,
    tx: &mut Tx,
    principal: &Principal,
    action: &'static str,
    target: (&'static str, &str),
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let entry = Entry {
        actor: Actor::from(principal),
        action,
        target_type: Some(target.0),
        target_id: Some(target.1.to_owned()),
        outcome: Outcome::Success,
        detail,
    };
    append(tx, state.audit_key(), entry).await
}

/// Records the success of an action that changes nothing to ride on (an
/// export, a download of personal data), in its own transaction.
pub async fn success_alone(
    state: &crate::state::AppState,
    principal: &Principal,
    action: &'static str,
    target: (&'static str, &str),
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let mut tx = state.db.begin().await?;
    success(state, &mut tx, principal, action, target, detail).await?;
    tx.commit().await
}

/// Records that `principal` was refused `action` on a target. Failing to
/// write the record is logged, not answered: the caller is refused anyway.
pub async fn record_denied(
    state: &crate::state::AppState,
    principal: &Principal,
    action: &'static str,
    target_type: &'static str,
    target_id: &str,
) {
    let entry = Entry {
        actor: Actor::from(principal),
        action,
        target_type: Some(target_type),
        target_id: Some(target_id.to_owned()),
        outcome: Outcome::Denied,
        detail: serde_json::json!({}),
    };
    if let Err(e) = record(&state.db, state.audit_key(), entry).await {
        tracing::error!(error = %e, action, "could not write the audit record of a denial");
    }
}

/// Records an event on its own, for outcomes with no business change to
/// ride on (a denied request, a failed login, a CLI run).
pub async fn record(db: &Db, key: &[u8], entry: Entry) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    append(&mut tx, key, entry).await?;
    tx.commit().await
}
