//! Jobs that must run on one instance at a time (the deadline watch): a
//! lease row per job in the database, taken when free or expired, renewed by
//! its holder at each round, so that with several instances only the holder
//! runs the job, and another takes over when the holder dies and its lease
//! runs out.

use std::time::Duration;

use crate::clock;
use crate::db::Db;
use crate::error::ApiResult;
use crate::on_db;

/// Runs `round` every `every` (never when zero) on the runtime, from now
/// on; a failed round is logged as `what` and the next tick tries again.
pub fn spawn_every<F, Fut>(every: Duration, what: &'static str, mut round: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ApiResult<()>> + Send,
{
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = round().await {
                tracing::warn!(error = %e, "{what} failed; retrying at the next interval");
            }
        }
    });
}

/// This process's name as a lease holder.
pub fn instance_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| ulid::Ulid::new().to_string())
}

/// Takes (or renews) the lease on `job` for `holder`; answers whether this
/// holder has it now.
pub async fn try_lease(db: &Db, job: &str, holder: &str, ttl: Duration) -> ApiResult<bool> {
    const SQL: &str = "INSERT INTO job_leases (name, holder, lease_until) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = $2, lease_until = $3 \
         WHERE job_leases.lease_until < $4 OR job_leases.holder = $2";
    let now = clock::now();
    let taken = on_db!(db, c => sqlx::query(SQL).bind(job).bind(holder).bind(now + ttl).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(taken == 1)
}
