//! Health, readiness, metrics, request ids in logs, headers, shutdown.

use std::time::Duration;

use crate::common::{Options, TestDb, problem, spawn_app, spawn_with};

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let resp = app.get_as(None, "/healthz").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let resp = app.get_as(None, "/readyz").await;
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
}

#[tokio::test]
async fn not_ready_while_the_schema_is_behind_the_binary() {
    let app = spawn_app().await;
    let db = app.db.connect().await;
    let forget =
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)";
    api::on_db!(&db, p => sqlx::query(forget).execute(p).await.map(|_| ())).unwrap();
    problem(app.get_as(None, "/readyz").await, 503, "unavailable").await;
    // Liveness does not depend on the database.
    assert_eq!(app.get_as(None, "/healthz").await.status().as_u16(), 200);
}

#[tokio::test]
async fn not_ready_while_postgres_refuses_connections() {
    // The load below comes from one address to one number prefix.
    let env = vec![
        ("GOV_VERIFICATION__IP_PER_HOUR", "100000".to_owned()),
        ("GOV_VERIFICATION__PREFIX_MAX", "100000".to_owned()),
    ];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    if !app.db.is_postgres() {
        eprintln!(
            "SKIPPED: needs TEST_POSTGRES_URL (SQLite is embedded and cannot be unreachable)"
        );
        return;
    }
    let admin = sqlx::PgPool::connect(&std::env::var("TEST_POSTGRES_URL").unwrap())
        .await
        .unwrap();
    let name = app.db.url.rsplit('/').next().unwrap().to_owned();
    let run = |sql: String| {
        let admin = admin.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&admin)
                .await
                .unwrap()
        }
    };
    // Writes acknowledged before the outage.
    let send = |i: u32| {
        let body = serde_json::json!({ "phone": format!("1991239{i:04}"), "purpose": "disclosure_request" });
        let (client, url) = (app.client.clone(), app.url("/m/v1/verification-codes"));
        async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..5 {
        assert_eq!(send(i).await, 202);
    }
    // Load across the outage: each write is acknowledged or refused, never
    // acknowledged and lost.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = tokio::spawn({
        let (client, url, stop) = (
            app.client.clone(),
            app.url("/m/v1/verification-codes"),
            stop.clone(),
        );
        async move {
            let mut acknowledged = 0;
            for i in 0..10_000u32 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let body = serde_json::json!({ "phone": format!("1881239{i:04}"), "purpose": "disclosure_request" });
                let status = client.post(&url).json(&body).send().await.unwrap().status();
                match status.as_u16() {
                    202 => acknowledged += 1,
                    503 => {}
                    other => panic!("answered {other} during the outage"),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            acknowledged
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    run(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    run(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    problem(app.get_as(None, "/readyz").await, 503, "unavailable").await;
    // A write during the outage is refused, not acknowledged.
    assert_eq!(send(5).await, 503);
    run(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    let mut ready = false;
    for _ in 0..50 {
        if app.get_as(None, "/readyz").await.status().as_u16() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "ready again once the database is back");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acknowledged = load.await.unwrap();
    // The same process writes again, and nothing acknowledged was lost.
    assert_eq!(send(6).await, 202);
    let sends = app.count("SELECT COUNT(*) FROM verification_sends").await;
    // (A write whose commit raced the cut may be stored yet answered 503:
    // the client retries; what matters is that no 202 was lost.)
    assert!(
        sends >= 6 + acknowledged,
        "{sends} stored, {acknowledged} acknowledged during the outage"
    );
}

#[tokio::test]
async fn metrics_count_requests_per_route_template() {
    let app = spawn_app().await;
    let unit = app.unit_id("310104").await;
    for _ in 0..3 {
        app.get_as(Some("sysadmin"), &format!("/api/v1/org/units/{unit}"))
            .await;
    }
    app.get_as(None, "/no/such/path").await;
    let text = app.get_as(None, "/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            r#"gov_http_requests_total{method="GET",route="/api/v1/org/units/{id}",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#));
    assert!(text.contains(r#"gov_http_request_duration_seconds_bucket{le="#));
    // Raw ids never become labels.
    assert!(!text.contains(&unit));
}

#[tokio::test]
async fn every_log_line_of_a_request_carries_its_id() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .header("x-test-user", "sysadmin")
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-abc-123");
    // A hostile id is replaced, not echoed.
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "<script>")
        .send()
        .await
        .unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 26);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines: Vec<serde_json::Value> = app
        .logs()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["spans"][0]["request_id"] == "trace-abc-123")
        .collect();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .any(|v| v["message"] == "request finished" && v["status"] == 200)
    );
}

#[tokio::test]
async fn answers_carry_security_headers() {
    let app = spawn_app().await;
    let resp = app.get_as(None, "/healthz").await;
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
}

#[tokio::test]
async fn sigterm_drains_and_exits_cleanly() {
    let app = spawn_app().await;
    assert_eq!(app.get_as(None, "/healthz").await.status().as_u16(), 200);
    let (status, logs, _) = app.terminate().await;
    assert!(status.success(), "exit status {status}");
    assert!(logs.iter().any(|l| l.contains("shutdown requested")));
    assert!(logs.iter().any(|l| l.contains("\"stopped\"")));
}

#[tokio::test]
async fn sigterm_under_load_answers_in_flight_requests_and_leaves_nothing_claimed() {
    let app = spawn_app().await;
    // A slow SMS provider: messages are mid-send when the signal comes.
    let slow = serde_json::json!({ "delay_ms": 1500, "times": 20 });
    assert_eq!(
        app.post_json("/stand-in/sms/faults", slow)
            .await
            .status()
            .as_u16(),
        204
    );
    let mut load = Vec::new();
    for i in 0..12 {
        let (client, url) = (app.client.clone(), app.url("/m/v1/verification-codes"));
        load.push(tokio::spawn(async move {
            let body = serde_json::json!({ "phone": format!("199123800{i:02}"), "purpose": "disclosure_request" });
            client.post(url).json(&body).send().await.map(|r| r.status().as_u16())
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, _, db) = app.terminate().await;
    assert!(status.success(), "exit status {status}");
    // Every request that got an answer got a whole one; a request the
    // closing listener refused got no answer at all.
    let mut accepted = 0;
    for h in load {
        if let Ok(code) = h.await.unwrap() {
            assert_eq!(code, 202);
            accepted += 1;
        }
    }
    // Nothing is left claimed: what was mid-send finished or went back to
    // the queue, and every accepted request's message is in the outbox.
    let db = db.connect().await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            api::on_db!(&db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE status = 'sending'").await,
        0
    );
    assert_eq!(count("SELECT COUNT(*) FROM outbox").await, accepted);
}

#[tokio::test]
async fn openapi_is_served_and_matches_the_cli() {
    let app = spawn_app().await;
    let served = app
        .get_as(None, "/openapi.json")
        .await
        .text()
        .await
        .unwrap();
    let printed = app.cli(&["openapi"]).await;
    assert_eq!(served, String::from_utf8(printed.stdout).unwrap());
    let doc: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/org/units",
        "/api/v1/org/units/{id}",
        "/api/v1/me",
        "/m/v1/me",
        "/api/v1/users/{id}/roles",
        "/readyz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}

#[tokio::test]
async fn the_benchmark_floor_is_served_only_when_asked_for() {
    let app = spawn_app().await;
    let unit = app.unit_id("310104").await;
    let path = format!("/bench/units/{unit}");
    problem(app.get_as(None, &path).await, 404, "no_route").await;

    let env = vec![("GOV_HTTP__BENCH_ROUTE", "true".to_owned())];
    let bench = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let unit = bench.unit_id("310104").await;
    let resp = bench.get_as(None, &format!("/bench/units/{unit}")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.unwrap(), "上海市徐汇区人民政府");
    problem(
        bench.get_as(None, "/bench/units/nope").await,
        404,
        "not_found",
    )
    .await;
}
