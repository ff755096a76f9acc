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
