//! Failed-login throttling per source address, in fixed windows, counted in
//! the database so that every instance sees the same numbers.
//!
//! Two scopes: one address against all accounts (stops credential stuffing),
//! and one address against one account, which is refused one failure before
//! the account would lock. So a single address can never lock someone
//! else's account; it only shuts itself out.

use std::net::IpAddr;
use std::time::Duration;

use api::clock;
use api::config::LockoutConfig;
use api::db::{Db, Tx};
use api::error::{ApiError, ApiResult};
use api::{on_db, on_tx};
use time::OffsetDateTime;

fn window_start(now: OffsetDateTime, window: u64) -> OffsetDateTime {
    let secs = now.unix_timestamp();
    let start = secs - secs.rem_euclid(window.max(1) as i64);
    OffsetDateTime::from_unix_timestamp(start).unwrap_or(now)
}

fn scopes(ip: IpAddr, login: &str) -> (String, String) {
    (format!("ip:{ip}"), format!("ip:{ip}|login:{login}"))
}

/// Refuses an address that is over either limit, before any password work.
pub async fn check(db: &Db, cfg: &LockoutConfig, ip: Option<IpAddr>, login: &str) -> ApiResult<()> {
    let Some(ip) = ip else { return Ok(()) };
    const SQL: &str =
        "SELECT scope, failures FROM login_throttle WHERE window_start = $1 AND scope IN ($2, $3)";
    let now = clock::now();
    let start = window_start(now, cfg.ip_window_secs);
    let (all, one) = scopes(ip, login);
    let rows: Vec<(String, i32)> =
        on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(&all).bind(&one).fetch_all(p).await)?;
    let over = rows.iter().any(|(scope, n)| {
        let limit = if *scope == all {
            cfg.ip_max_failures
        } else {
            cfg.max_failures.saturating_sub(1).max(1)
        };
        *n as u32 >= limit
    });
    if over {
        let retry = (start + Duration::from_secs(cfg.ip_window_secs) - now)
            .whole_seconds()
            .max(1) as u64;
        return Err(ApiError::TooManyRequests {
            code: "too_many_attempts",
            detail: "登录失败次数过多，请稍后再试".into(),
            retry_after_secs: retry,
        });
    }
    Ok(())
}

/// Counts one failure from `ip` against `login` in both scopes.
pub async fn record_failure(
    tx: &mut Tx,
    cfg: &LockoutConfig,
    ip: Option<IpAddr>,
    login: &str,
) -> ApiResult<()> {
    let Some(ip) = ip else { return Ok(()) };
    const SQL: &str = "INSERT INTO login_throttle (scope, window_start, failures) VALUES ($1, $2, 1) \
         ON CONFLICT (scope, window_start) DO UPDATE SET failures = login_throttle.failures + 1";
    let start = window_start(clock::now(), cfg.ip_window_secs);
    let (all, one) = scopes(ip, login);
    for scope in [all, one] {
        on_tx!(tx, c => sqlx::query(SQL).bind(&scope).bind(start).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}
