//! Notification drain benchmark: enqueues N messages (default 20 000) into
//! the outbox of a running `gov-server serve --demo`, half SMS and half
//! pushes to a person with three phones (Huawei Push Kit, APNs, FCM), and
//! measures how fast the dispatcher drains them through the real providers
//! to their stand-ins: messages per second, and enqueue-to-provider latency
//! percentiles (from the outbox's own `created_at` and `sent_at`).
//!
//! `cargo bench --bench notify_drain` (SQLite); with
//! `TEST_POSTGRES_URL=postgres://…/admin_db` on a fresh PostgreSQL database
//! (dropped afterwards). `DRAIN_MESSAGES=N` changes the count. Also run by
//! `scripts/bench.sh --scenario drain`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use api::config::DatabaseConfig;
use api::outbox::SmsMessage;
use api::outbox::push::{Notification, notify_user};
use api::pii::{Phone, PiiCipher};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

mod support;
use support::{FreshDb, machine, percentile};

const BIN: &str = env!("CARGO_BIN_EXE_gov-server");
const BATCH: usize = 500;

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("DRAIN_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let fresh = FreshDb::create().await;
    let (url, backend) = (fresh.url.clone(), fresh.backend);
    let mut server = Command::new(BIN)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env("GOV_LOG__LEVEL", "warn,gov_server=info")
        .env("GOV_ORG_SYNC__INTERVAL_SECS", "0")
        .env("GOV_NOTIFY__DISPATCHER__MAX_RATE_PER_SEC", "0")
        .env("GOV_NOTIFY__DISPATCHER__BATCH_SIZE", "64")
        .env("GOV_NOTIFY__DISPATCHER__PROVIDER_CONCURRENCY", "64")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut addr = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.contains("\"listening\"") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            addr = v["addr"].as_str().unwrap().to_owned();
            break;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let db = api::db::connect(&DatabaseConfig {
        url: url.clone().into(),
        max_connections: 4,
        acquire_timeout_secs: 30,
    })
    .await
    .unwrap();
    let config = api::config::Config::load(None).unwrap();
    let pii = PiiCipher::new(&config.crypto.pii_key, config.crypto.index_key.clone()).unwrap();
    let n_sms = n / 2;
    let phones: Vec<Phone> = (0..n_sms)
        .map(|i| Phone::parse(&format!("1980{i:07}")).unwrap())
        .collect();
    let person = api::ids::UserId::new(phones_of_one_person(&addr).await);
    let notify_config = config.notify.clone();

    let started = Instant::now();
    let begun = api::clock::now();
    // Pushes: each notification fans out to the person's three phones.
    let calls = (n - n_sms).div_ceil(3);
    for chunk in (0..calls).collect::<Vec<_>>().chunks(BATCH / 3) {
        let mut tx = db.begin().await.unwrap();
        for _ in chunk {
            let note = Notification {
                kind: "notification_test",
                user_id: &person,
                params: &[("time", "09:30")],
                idempotency_key: None,
                ttl: Duration::from_secs(3600),
            };
            notify_user(&mut tx, &pii, &notify_config, note)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    for chunk in phones.chunks(BATCH) {
        let mut tx = db.begin().await.unwrap();
        for phone in chunk {
            let msg = SmsMessage {
                kind: "notification_test",
                phone,
                params: &[("time", "09:30")],
                idempotency_key: None,
                ttl: Duration::from_secs(3600),
            };
            api::outbox::enqueue_sms(&mut tx, &pii, "aliyun", msg)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let enqueued = started.elapsed();
    let n: i64 = api::on_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE created_at >= $1").bind(begun).fetch_one(p).await).unwrap();
    let n = n as usize;
    loop {
        let done: i64 = api::on_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE created_at >= $1 AND status IN ('sent', 'failed', 'dead')").bind(begun).fetch_one(p).await).unwrap();
        if done as usize >= n {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "drain did not finish in 15 minutes ({done}/{n})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = started.elapsed();
    let rows: Vec<(time::OffsetDateTime, Option<time::OffsetDateTime>, String, String)> =
        api::on_db!(&db, p => sqlx::query_as("SELECT created_at, sent_at, status, provider FROM outbox WHERE created_at >= $1").bind(begun).fetch_all(p).await).unwrap();
    let failed = rows.iter().filter(|r| r.2 != "sent").count();
    let mut latency: Vec<f64> = rows
        .iter()
        .filter_map(|(c, s, _, _)| s.map(|s| (s - *c).as_seconds_f64() * 1e3))
        .collect();
    latency.sort_by(f64::total_cmp);
    let first_sent = rows.iter().filter_map(|r| r.1).min().unwrap();
    let last_sent = rows.iter().filter_map(|r| r.1).max().unwrap();
    let send_window = (last_sent - first_sent).as_seconds_f64().max(1e-6);
    let mut per_provider = std::collections::BTreeMap::<&str, usize>::new();
    for r in &rows {
        *per_provider.entry(r.3.as_str()).or_default() += 1;
    }
    println!(
        "notification drain: {n} messages through the real providers to their stand-ins, {backend}: {per_provider:?}"
    );
    println!("machine: {}", machine());
    println!(
        "{:<32}{:>12}",
        "enqueue (500 per transaction)",
        format!("{:.2} s", enqueued.as_secs_f64())
    );
    println!(
        "{:<32}{:>12}",
        "enqueue rate",
        format!("{:.0} msg/s", n as f64 / enqueued.as_secs_f64())
    );
    println!(
        "{:<32}{:>12}",
        "drain, from first enqueue",
        format!("{:.2} s", drained.as_secs_f64())
    );
    println!(
        "{:<32}{:>12}",
        "send throughput",
        format!("{:.0} msg/s", (n - failed) as f64 / send_window)
    );
    println!(
        "{:<32}{:>12}",
        "enqueue→provider p50",
        format!("{:.0} ms", percentile(&latency, 50.0))
    );
    println!(
        "{:<32}{:>12}",
        "enqueue→provider p95",
        format!("{:.0} ms", percentile(&latency, 95.0))
    );
    println!(
        "{:<32}{:>12}",
        "enqueue→provider p99",
        format!("{:.0} ms", percentile(&latency, 99.0))
    );
    println!("{:<32}{:>12}", "not sent", failed);

    // Idle: one message at a time, enqueued by the server itself (as
    // business code does), measured from commit to the provider's answer.
    let idle = idle_latency(&addr, &db, 50).await;
    println!(
        "{:<32}{:>12}",
        "idle, one at a time: p50",
        format!("{:.1} ms", percentile(&idle, 50.0))
    );
    println!(
        "{:<32}{:>12}",
        "idle, one at a time: p99",
        format!("{:.1} ms", percentile(&idle, 99.0))
    );
    println!(
        "{:<32}{:>12}",
        "idle, one at a time: max",
        format!("{:.1} ms", idle.last().copied().unwrap_or_default())
    );
    server.kill().await.ok();
    db.close().await;
    fresh.drop_it().await;
}

/// Signs pd_handler in on three phones (Huawei, iPhone, Android with FCM)
/// through the Suishenban stand-in and registers each for pushes; answers
/// their user id.
async fn phones_of_one_person(addr: &str) -> String {
    let http = reqwest::Client::new();
    let phones = [
        (
            "bench-huawei",
            "android",
            "huawei",
            "hw-bench-token-0001".to_owned(),
        ),
        ("bench-iphone", "ios", "apns", "ab".repeat(32)),
        (
            "bench-android",
            "android",
            "fcm",
            "fcm-bench-token-0001".to_owned(),
        ),
    ];
    let mut user = String::new();
    for (device, platform, provider, token) in phones {
        let code: serde_json::Value = http
            .post(format!("http://{addr}/stand-in/suishenban/auth-codes"))
            .json(&serde_json::json!({ "user": "pd_handler" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session: serde_json::Value = http
            .post(format!("http://{addr}/m/v1/session"))
            .json(&serde_json::json!({ "auth_code": code["auth_code"], "device_id": device }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token_ = session["access_token"].as_str().unwrap();
        let resp = http
            .put(format!("http://{addr}/m/v1/devices/{device}"))
            .bearer_auth(token_)
            .json(
                &serde_json::json!({ "platform": platform, "provider": provider, "token": token }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 204);
        let me: serde_json::Value = http
            .get(format!("http://{addr}/m/v1/me"))
            .bearer_auth(token_)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        user = me["id"].as_str().unwrap().to_owned();
    }
    user
}

/// Sends `count` test SMS through the admin API one after the other,
/// waiting for each; answers the sorted enqueue-to-provider latencies (ms).
async fn idle_latency(addr: &str, db: &api::db::Db, count: usize) -> Vec<f64> {
    let http = reqwest::Client::new();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let code = sso::local::totp::current_code(sso::local::DEMO_TOTP_SECRET, now).unwrap();
    let login: serde_json::Value = http
        .post(format!("http://{addr}/auth/admin/login"))
        .json(&serde_json::json!({ "login_name": "sysadmin", "password": sso::local::DEMO_PASSWORD, "totp_code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let resp: serde_json::Value = http
            .post(format!("http://{addr}/api/v1/notifications/test-sms"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "phone": format!("1970{i:07}") }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = resp["id"].as_str().unwrap().to_owned();
        loop {
            let row: (time::OffsetDateTime, Option<time::OffsetDateTime>) = api::on_db!(db, p =>
                sqlx::query_as("SELECT created_at, sent_at FROM outbox WHERE id = $1").bind(&id).fetch_one(p).await).unwrap();
            if let (c, Some(s)) = row {
                out.push((s - c).as_seconds_f64() * 1e3);
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    out.sort_by(f64::total_cmp);
    out
}
