//! The outbox dispatcher: claims due messages, sends them, records the
//! answer, retries transient failures with exponential backoff and jitter
//! (honouring `Retry-After`) until the message expires, then dead-letters it.
//!
//! Claiming sets `status = 'sending'` with a lease. On PostgreSQL the claim
//! skips rows another dispatcher holds (`FOR UPDATE SKIP LOCKED`), so
//! instances never send the same row; SQLite has one writer. A dispatcher
//! that dies mid-send leaves its rows leased: when the lease runs out they
//! are claimed again, so nothing is lost (a message whose send was in
//! flight at the crash may be delivered twice; the provider's dedupe field
//! carries the outbox id for that case).
//!
//! It wakes within milliseconds of a commit: in-process through a `Notify`,
//! across instances through PostgreSQL's LISTEN/NOTIFY, and polls as a
//! fallback.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::DispatcherConfig;
use api::clock;
use api::db::Db;
use api::outbox::{Channel, OutboxStatus, PAYLOAD_FIELD, PG_CHANNEL};
use api::state::AppState;
use rand::Rng;
use sqlx::FromRow;
use time::OffsetDateTime;
use tokio::sync::{Mutex, Semaphore, watch};

use crate::provider::{Outgoing, Provider, SendError};

#[derive(FromRow)]
struct Claimed {
    id: String,
    kind: String,
    channel: Channel,
    provider: String,
    payload_cipher: Vec<u8>,
    attempts: i32,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
}

/// A provider and the permits that bound its concurrent sends.
type Lane = (Arc<dyn Provider>, Arc<Semaphore>);

pub struct Dispatcher {
    app: AppState,
    cfg: DispatcherConfig,
    providers: HashMap<&'static str, Lane>,
    /// `,name,name,`: the claim takes only messages this instance can send,
    /// and leaves the others to an instance that can.
    provider_list: String,
    /// The earliest time the next send may start (global rate limit).
    next_slot: Mutex<Instant>,
}

impl Dispatcher {
    pub fn new(
        app: AppState,
        cfg: DispatcherConfig,
        providers: Vec<Arc<dyn Provider>>,
    ) -> Arc<Self> {
        let provider_list = format!(
            ",{},",
            providers
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(",")
        );
        let providers = providers
            .into_iter()
            .map(|p| {
                (
                    p.name(),
                    (p, Arc::new(Semaphore::new(cfg.provider_concurrency.max(1)))),
                )
            })
            .collect();
        Arc::new(Dispatcher {
            app,
            cfg,
            providers,
            provider_list,
            next_slot: Mutex::new(Instant::now()),
        })
    }

    /// Runs until `shutdown` turns true; the round in progress finishes.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut listener = match &self.app.db {
            Db::Postgres(pool) => match sqlx::postgres::PgListener::connect_with(pool).await {
                Ok(mut l) => l.listen(PG_CHANNEL).await.ok().map(|_| l),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: no LISTEN connection; polling only");
                    None
                }
            },
            Db::Sqlite(..) => None,
        };
        let poll = Duration::from_millis(self.cfg.poll_interval_ms.max(10));
        let mut last_gauge = Instant::now() - Duration::from_secs(60);
        while !*shutdown.borrow() {
            let handled = match self.clone().round().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "outbox round failed");
                    0
                }
            };
            if last_gauge.elapsed() > Duration::from_secs(10) {
                self.update_gauge().await;
                last_gauge = Instant::now();
            }
            if handled > 0 {
                continue;
            }
            let pg = async {
                match listener.as_mut() {
                    Some(l) => {
                        if l.recv().await.is_err() {
                            tokio::time::sleep(poll).await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = self.app.outbox_wake.notified() => {}
                () = pg => {}
                () = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("outbox dispatcher stopped");
    }

    /// Claims a batch and sends it; answers how many were claimed.
    pub async fn round(self: Arc<Self>) -> anyhow::Result<usize> {
        let now = clock::now();
        let lease = now + Duration::from_secs(self.cfg.lease_secs);
        let claimed = claim(
            &self.app.db,
            now,
            lease,
            i64::from(self.cfg.batch_size),
            &self.provider_list,
        )
        .await?;
        let n = claimed.len();
        let mut tasks = tokio::task::JoinSet::new();
        for row in claimed {
            let me = self.clone();
            tasks.spawn(async move {
                if let Err(e) = me.deliver(row).await {
                    tracing::error!(error = %format!("{e:#}"), "recording an outbox result failed");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        Ok(n)
    }

    async fn wait_for_slot(&self) {
        if self.cfg.max_rate_per_sec == 0 {
            return;
        }
        let gap = Duration::from_secs_f64(1.0 / f64::from(self.cfg.max_rate_per_sec));
        let start = {
            let mut next = self.next_slot.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + gap;
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }

    async fn deliver(&self, row: Claimed) -> anyhow::Result<()> {
        let (channel, provider_name) = (row.channel.as_str(), row.provider.as_str());
        let metrics = &self.app.metrics.outbox;
        let (msg, (provider, permits)) = match self.prepare(&row) {
            Ok(ready) => ready,
            Err(refused) => {
                match refused {
                    Finish::Dead(_) => metrics.dead(channel, provider_name),
                    _ => metrics.failed(channel, provider_name),
                }
                return finish(&self.app.db, &row.id, refused).await;
            }
        };
        let _permit = permits.acquire().await?;
        self.wait_for_slot().await;
        let result = provider.send(&msg).await;
        let outcome = self.judge(&row, &msg, result).await?;
        finish(&self.app.db, &row.id, outcome).await
    }

    /// The message ready to send with its provider and that provider's
    /// permits; or why it will never be sent (expired, a provider this
    /// instance does not have, a payload that does not decrypt).
    fn prepare(&self, row: &Claimed) -> Result<(Outgoing, &Lane), Finish> {
        if clock::now() >= row.expires_at {
            return Err(Finish::Dead("expired before it could be sent".into()));
        }
        // The claim takes only our providers' messages; this guards a change
        // of configuration between claim and send.
        let Some(lane) = self.providers.get(row.provider.as_str()) else {
            let why = format!(
                "provider {} is not configured in this instance",
                row.provider
            );
            return Err(Finish::Failed(why));
        };
        let payload = self
            .app
            .pii
            .decrypt(PAYLOAD_FIELD, &row.payload_cipher)
            .ok()
            .and_then(|p| serde_json::from_str(&p).ok())
            .ok_or_else(|| Finish::Failed("payload does not decrypt".into()))?;
        let msg = Outgoing {
            id: row.id.clone(),
            kind: row.kind.clone(),
            payload,
            expires_at: row.expires_at,
        };
        Ok((msg, lane))
    }

    /// What the provider's answer makes of the message: sent, retried after
    /// a backoff (at least its `Retry-After`), failed, or dead once retrying
    /// would outlive it. A push that failed for good may fall back to SMS.
    async fn judge(
        &self,
        row: &Claimed,
        msg: &Outgoing,
        result: Result<String, SendError>,
    ) -> anyhow::Result<Finish> {
        let (channel, provider) = (row.channel.as_str(), row.provider.as_str());
        let metrics = &self.app.metrics.outbox;
        let now = clock::now();
        Ok(match result {
            Ok(provider_id) => {
                metrics.sent(channel, provider, (now - row.created_at).as_seconds_f64());
                Finish::Sent(provider_id)
            }
            Err(SendError::TokenGone { reason }) => {
                metrics.failed(channel, provider);
                tracing::info!(outbox_id = %row.id, provider, reason = %reason, "device token gone");
                self.push_failed(msg, Some(&reason), row.expires_at).await?;
                Finish::Failed(format!("device token gone: {reason}"))
            }
            Err(SendError::Permanent { reason }) => {
                metrics.failed(channel, provider);
                if row.channel == Channel::Push {
                    self.push_failed(msg, None, row.expires_at).await?;
                }
                tracing::warn!(outbox_id = %row.id, provider, reason = %reason, "permanent failure");
                Finish::Failed(reason)
            }
            Err(SendError::Transient {
                reason,
                retry_after,
            }) => {
                let delay = backoff(&self.cfg, row.attempts).max(retry_after.unwrap_or_default());
                let next = now + delay;
                if next >= row.expires_at {
                    metrics.dead(channel, provider);
                    let why = format!(
                        "expired after {} attempts; last error: {reason}",
                        row.attempts
                    );
                    Finish::Dead(why)
                } else {
                    metrics.retried(channel, provider);
                    tracing::info!(outbox_id = %row.id, provider, reason = %reason,
                        retry_in_ms = delay.as_millis() as u64, "transient failure; will retry");
                    Finish::Retry(next, reason)
                }
            }
        })
    }

    /// A push failed for good. A gone token (`gone_reason`) disables its
    /// device. When the person has no other active device, and the kind's
    /// policy allows (the payload carries a fallback), the notification goes
    /// out as SMS instead, at most once per notification.
    async fn push_failed(
        &self,
        msg: &Outgoing,
        gone_reason: Option<&str>,
        expires_at: OffsetDateTime,
    ) -> anyhow::Result<()> {
        const DISABLE: &str = "UPDATE devices SET disabled_at = $2, disabled_reason = $3, updated_at = $2 WHERE id = $1";
        const OTHERS: &str =
            "SELECT COUNT(*) FROM devices WHERE user_id = $1 AND disabled_at IS NULL AND id <> $2";
        let device = msg.payload["device"].as_str().unwrap_or_default();
        let fallback = &msg.payload["fallback"];
        let mut tx = self.app.db.begin().await?;
        if let Some(reason) = gone_reason {
            api::on_tx!(&mut tx, c => sqlx::query(DISABLE).bind(device).bind(clock::now()).bind(reason)
                .execute(c).await.map(|_| ()))?;
        }
        let (Some(user_id), Some(kind), Some(group), Some(params)) = (
            fallback["user_id"].as_str(),
            fallback["kind"].as_str(),
            fallback["group"].as_str(),
            fallback["params"].as_object(),
        ) else {
            tx.commit().await?;
            return Ok(());
        };
        let others: i64 = api::on_tx!(&mut tx, c => sqlx::query_scalar(OTHERS).bind(user_id).bind(device).fetch_one(c).await)?;
        if others == 0 {
            let ttl = (expires_at - clock::now())
                .max(time::Duration::ZERO)
                .unsigned_abs();
            let provider = self.app.config.notify.sms_provider.as_str();
            api::outbox::push::sms_fallback(
                &mut tx,
                &self.app.pii,
                provider,
                kind,
                user_id,
                group,
                params,
                ttl,
            )
            .await
            .map_err(|e| anyhow::anyhow!("queueing the SMS fallback: {e}"))?;
        }
        tx.commit().await?;
        self.app.outbox_wake.notify_one();
        Ok(())
    }

    async fn update_gauge(&self) {
        const SQL: &str = "SELECT status, COUNT(*) FROM outbox GROUP BY status";
        let rows: Result<Vec<(String, i64)>, _> =
            api::on_db!(&self.app.db, p => sqlx::query_as(SQL).fetch_all(p).await);
        if let Ok(rows) = rows {
            for (status, n) in rows {
                self.app.metrics.outbox.set_backlog(&status, n);
            }
        }
    }
}

/// Exponential backoff with full jitter: a random delay up to
/// `base × 2^(attempts−1)`, capped, and never under half of it.
fn backoff(cfg: &DispatcherConfig, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let ceiling = Duration::from_millis(cfg.base_backoff_ms.saturating_mul(1u64 << exp))
        .min(Duration::from_secs(cfg.max_backoff_secs));
    let half = ceiling / 2;
    half + rand::thread_rng().gen_range(Duration::ZERO..=half)
}

enum Finish {
    Sent(String),
    Retry(OffsetDateTime, String),
    Failed(String),
    Dead(String),
}

async fn finish(db: &Db, id: &str, outcome: Finish) -> anyhow::Result<()> {
    // Only a row still being sent is finished: when a lease ran out and a
    // second dispatcher took the message, the first answer wins and a late
    // one changes nothing.
    const SENT: &str = "UPDATE outbox SET status = $4, sent_at = $2, provider_message_id = $3, \
         lease_until = NULL, last_error = NULL, updated_at = $2 WHERE id = $1 AND status = $5";
    const RETRY: &str = "UPDATE outbox SET status = $5, next_attempt_at = $3, lease_until = NULL, \
         last_error = $4, updated_at = $2 WHERE id = $1 AND status = $6";
    const END: &str = "UPDATE outbox SET status = $3, lease_until = NULL, last_error = $4, updated_at = $2 \
         WHERE id = $1 AND status = $5";
    let now = clock::now();
    let sending = OutboxStatus::Sending;
    let done = match outcome {
        Finish::Sent(pid) => api::on_db!(db, p => sqlx::query(SENT).bind(id).bind(now).bind(&pid)
            .bind(OutboxStatus::Sent).bind(sending).execute(p).await.map(|_| ())),
        Finish::Retry(next, why) => {
            api::on_db!(db, p => sqlx::query(RETRY).bind(id).bind(now).bind(next).bind(&why)
            .bind(OutboxStatus::Queued).bind(sending).execute(p).await.map(|_| ()))
        }
        Finish::Failed(why) => {
            api::on_db!(db, p => sqlx::query(END).bind(id).bind(now).bind(OutboxStatus::Failed)
            .bind(&why).bind(sending).execute(p).await.map(|_| ()))
        }
        Finish::Dead(why) => {
            api::on_db!(db, p => sqlx::query(END).bind(id).bind(now).bind(OutboxStatus::Dead)
            .bind(&why).bind(sending).execute(p).await.map(|_| ()))
        }
    };
    Ok(done?)
}

/// Claims up to `limit` due messages (queued and due, or sending with an
/// expired lease). The one statement that differs by dialect.
async fn claim(
    db: &Db,
    now: OffsetDateTime,
    lease: OffsetDateTime,
    limit: i64,
    providers: &str,
) -> Result<Vec<Claimed>, sqlx::Error> {
    macro_rules! claim_sql {
        ($lock:literal) => {
            concat!(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = $2, updated_at = $1 \
                 WHERE id IN (SELECT id FROM outbox WHERE ((status = 'queued' AND next_attempt_at <= $1) \
                 OR (status = 'sending' AND lease_until < $1)) \
                 AND (order_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox earlier \
                 WHERE earlier.order_key = outbox.order_key AND earlier.id < outbox.id \
                 AND earlier.status IN ('queued', 'sending'))) \
                 AND $4 LIKE '%,' || provider || ',%' ORDER BY next_attempt_at LIMIT $3",
                $lock,
                ") RETURNING id, kind, channel, provider, payload_cipher, attempts, expires_at, created_at"
            )
        };
    }
    const SQLITE: &str = claim_sql!("");
    const POSTGRES: &str = claim_sql!(" FOR UPDATE SKIP LOCKED");
    match db {
        Db::Sqlite(..) => {
            let mut tx = db.begin().await?;
            let rows = api::on_tx!(&mut tx, c => sqlx::query_as(SQLITE)
                .bind(now)
                .bind(lease)
                .bind(limit)
                .bind(providers)
                .fetch_all(c)
                .await)?;
            tx.commit().await?;
            Ok(rows)
        }
        Db::Postgres(p) => {
            sqlx::query_as(POSTGRES)
                .bind(now)
                .bind(lease)
                .bind(limit)
                .bind(providers)
                .fetch_all(p)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DispatcherConfig {
        DispatcherConfig {
            enabled: true,
            batch_size: 8,
            lease_secs: 60,
            poll_interval_ms: 100,
            base_backoff_ms: 1000,
            max_backoff_secs: 300,
            provider_concurrency: 4,
            max_rate_per_sec: 0,
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempts in 1..=12 {
            let ceiling =
                Duration::from_millis(1000 * (1 << (attempts - 1))).min(Duration::from_secs(300));
            for _ in 0..50 {
                let d = backoff(&cfg(), attempts);
                assert!(
                    d >= ceiling / 2 && d <= ceiling,
                    "attempt {attempts}: {d:?}"
                );
            }
        }
        assert!(backoff(&cfg(), 100) <= Duration::from_secs(300));
    }
}
