//! SMS delivery through the outbox and the Aliyun stand-in.

use std::time::{Duration, Instant};

use api::outbox::SmsMessage;
use api::pii::Phone;
use serde_json::{Value, json};

use crate::common::{Options, TestApp, TestDb, problem, spawn_app, spawn_with};

/// The development keys the test servers run with.
fn dev_cipher() -> api::pii::PiiCipher {
    let config = api::config::Config::load(None).unwrap();
    api::pii::PiiCipher::new(&config.crypto.pii_key, config.crypto.index_key.clone()).unwrap()
}

/// Queues an SMS straight into the outbox, as business code does.
async fn enqueue(
    app: &TestApp,
    phone: &str,
    key: Option<&str>,
    ttl: Duration,
    commit: bool,
) -> String {
    let params = [("time", "12:00")];
    enqueue_as(app, "notification_test", &params, phone, key, ttl, commit).await
}

/// Queues an SMS of `kind` straight into the outbox, as a business
/// transaction would.
async fn enqueue_as(
    app: &TestApp,
    kind: &'static str,
    params: &[(&str, &str)],
    phone: &str,
    key: Option<&str>,
    ttl: Duration,
    commit: bool,
) -> String {
    let db = app.db.connect().await;
    let pii = dev_cipher();
    let phone = Phone::parse(phone).unwrap();
    let msg = SmsMessage {
        kind,
        phone: &phone,
        params,
        idempotency_key: key,
        ttl,
    };
    let mut tx = db.begin().await.unwrap();
    let id = api::outbox::enqueue_sms(&mut tx, &pii, "aliyun", msg)
        .await
        .unwrap();
    if commit {
        tx.commit().await.unwrap();
    } else {
        // Dropping rolls back; the pool cannot close while it is open.
        drop(tx);
    }
    db.close().await;
    id
}

async fn status(app: &TestApp, id: &str) -> Value {
    app.get_json("sysadmin", &format!("/api/v1/notifications/{id}"), 200)
        .await
}

/// Waits until `id` reaches `want`, up to `secs`.
async fn wait_status(app: &TestApp, id: &str, want: &str, secs: u64) -> Value {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = status(app, id).await;
        if s["status"] == want {
            return s;
        }
        assert!(
            Instant::now() < until,
            "{id} still {} after {secs}s: {s}",
            s["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_test_sms_reaches_the_phone_within_moments_of_commit() {
    // With polling slowed to a minute, only the wake-up can deliver quickly.
    let env = vec![(
        "GOV_NOTIFY__DISPATCHER__POLL_INTERVAL_MS",
        "60000".to_owned(),
    )];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let started = Instant::now();
    let resp = app
        .client
        .post(app.url("/api/v1/notifications/test-sms"))
        .header("x-test-user", "sysadmin")
        .json(&json!({ "phone": "19900000099" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = wait_status(&app, &id, "sent", 3).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let phone = app.sms_to("19900000099").await;
    assert_eq!(phone.len(), 1);
    assert_eq!(
        phone[0]["out_id"],
        id.as_str(),
        "the outbox id travels as OutId"
    );
    assert_eq!(phone[0]["sign_name"], "上海市政务服务");
    assert!(phone[0]["text"].as_str().unwrap().contains("测试短信"));
    assert_eq!(sent["provider"], "aliyun");
    assert_eq!(sent["recipient_masked"], "199****0099");
    assert_eq!(sent["provider_message_id"], phone[0]["biz_id"]);
    assert_eq!(sent["attempts"], 1);
    let list = app
        .get_json("sysadmin", "/api/v1/notifications?status=sent", 200)
        .await;
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert!(
        !list.to_string().contains("19900000099"),
        "numbers are masked in the admin view"
    );
    let metrics = app.get_as(None, "/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"gov_outbox_sent_total{channel="sms",provider="aliyun"} 1"#),
        "{metrics}"
    );
    assert_eq!(app.audited("notifications.test_sms").await, 1);
}

#[tokio::test]
async fn only_system_admins_see_and_test_notifications() {
    let app = spawn_app().await;
    for who in ["secadmin", "xh_admin"] {
        problem(
            app.get_as(Some(who), "/api/v1/notifications").await,
            403,
            "forbidden",
        )
        .await;
    }
    let bad = app
        .post_raw(
            "sysadmin",
            "/api/v1/notifications/test-sms",
            "application/json",
            r#"{"phone":"12345"}"#,
        )
        .await;
    assert_eq!(problem(bad, 422, "invalid_field").await["field"], "phone");
    let bad = app
        .get_as(Some("sysadmin"), "/api/v1/notifications?status=lost")
        .await;
    assert_eq!(problem(bad, 422, "invalid_field").await["field"], "status");
    problem(
        app.get_as(Some("sysadmin"), "/api/v1/notifications/nope")
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn a_rolled_back_enqueue_sends_nothing_and_a_key_sends_once() {
    let app = spawn_app().await;
    let gone = enqueue(&app, "19900000101", None, Duration::from_secs(300), false).await;
    let first = enqueue(
        &app,
        "19900000102",
        Some("case-7-assigned"),
        Duration::from_secs(300),
        true,
    )
    .await;
    let again = enqueue(
        &app,
        "19900000102",
        Some("case-7-assigned"),
        Duration::from_secs(300),
        true,
    )
    .await;
    assert_eq!(first, again);
    wait_status(&app, &first, "sent", 5).await;
    problem(
        app.get_as(Some("sysadmin"), &format!("/api/v1/notifications/{gone}"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert!(app.sms_to("19900000101").await.is_empty());
    assert_eq!(app.sms_to("19900000102").await.len(), 1);
}

#[tokio::test]
async fn an_outage_is_waited_out_as_the_provider_asks() {
    let app = spawn_app().await;
    let fault = json!({ "status": 503, "retry_after_secs": 2, "times": 1 });
    assert_eq!(
        app.post_json("/stand-in/sms/faults", fault)
            .await
            .status()
            .as_u16(),
        204
    );
    let started = Instant::now();
    let id = enqueue(&app, "19900000103", None, Duration::from_secs(300), true).await;
    let sent = wait_status(&app, &id, "sent", 10).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "retried before Retry-After: {took:?}"
    );
    assert_eq!(sent["attempts"], 2);
    assert_eq!(app.sms_to("19900000103").await.len(), 1);
}

#[tokio::test]
async fn flow_control_is_retried_later_and_expiry_dead_letters() {
    let app = spawn_app().await;
    // Aliyun allows one code a minute per number: the second waits, while a
    // notification to the same number goes through.
    let code = [("code", "123456"), ("minutes", "5")];
    let ttl = Duration::from_secs(300);
    let a = enqueue_as(
        &app,
        "verification_code",
        &code,
        "19900000104",
        None,
        ttl,
        true,
    )
    .await;
    wait_status(&app, &a, "sent", 5).await;
    let b = enqueue_as(
        &app,
        "verification_code",
        &code,
        "19900000104",
        None,
        ttl,
        true,
    )
    .await;
    let n = enqueue(&app, "19900000104", None, ttl, true).await;
    wait_status(&app, &n, "sent", 5).await;
    let until = Instant::now() + Duration::from_secs(5);
    let waiting = loop {
        let s = status(&app, &b).await;
        if s["attempts"] == 1 && s["status"] == "queued" {
            break s;
        }
        assert!(Instant::now() < until, "{s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        waiting["last_error"]
            .as_str()
            .unwrap()
            .contains("分钟级流控"),
        "{waiting}"
    );

    // A message that cannot get through before its expiry is dead-lettered.
    let fault = json!({ "status": 503, "retry_after_secs": 1, "times": 100 });
    app.post_json("/stand-in/sms/faults", fault).await;
    let c = enqueue(&app, "19900000105", None, Duration::from_secs(2), true).await;
    let dead = wait_status(&app, &c, "dead", 10).await;
    assert!(
        dead["last_error"].as_str().unwrap().contains("expired"),
        "{dead}"
    );
    assert!(app.sms_to("19900000105").await.is_empty());
}

#[tokio::test]
async fn a_message_claimed_by_a_crashed_dispatcher_is_sent_after_its_lease() {
    let app = spawn_app().await;
    // Enqueued and, in the same transaction, left as a dispatcher that
    // died mid-send leaves it: claimed, its lease run out.
    let db = app.db.connect().await;
    let pii = dev_cipher();
    let phone = Phone::parse("19900000106").unwrap();
    let msg = SmsMessage {
        kind: "notification_test",
        phone: &phone,
        params: &[("time", "12:00")],
        idempotency_key: None,
        ttl: Duration::from_secs(300),
    };
    let mut tx = db.begin().await.unwrap();
    let id = api::outbox::enqueue_sms(&mut tx, &pii, "aliyun", msg)
        .await
        .unwrap();
    let past = api::clock::now() - Duration::from_secs(5);
    api::on_tx!(&mut tx, c => sqlx::query("UPDATE outbox SET status = 'sending', attempts = 1, lease_until = $2 WHERE id = $1")
        .bind(&id).bind(past).execute(c).await.map(|_| ())).unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    let sent = wait_status(&app, &id, "sent", 5).await;
    assert_eq!(sent["attempts"], 2);
    assert_eq!(app.sms_to("19900000106").await.len(), 1);
}

#[tokio::test]
async fn two_dispatchers_on_one_database_never_send_twice() {
    let a = spawn_app().await;
    let env = vec![
        ("GOV_NOTIFY__SMS_PROVIDER", "aliyun".to_owned()),
        ("GOV_NOTIFY__ALIYUN__ENDPOINT", a.url("/stand-in/sms")),
        (
            "GOV_NOTIFY__ALIYUN__ACCESS_KEY_ID",
            notify::sms::standin::DEMO_ACCESS_KEY_ID.to_owned(),
        ),
        (
            "GOV_NOTIFY__ALIYUN__ACCESS_KEY_SECRET",
            notify::sms::standin::DEMO_ACCESS_KEY_SECRET.to_owned(),
        ),
        ("GOV_NOTIFY__DISPATCHER__BATCH_SIZE", "4".to_owned()),
    ];
    let b = spawn_with(a.db.shared(), Options { demo: false, env }).await;
    let mut ids = Vec::new();
    for i in 0..120 {
        ids.push(
            enqueue(
                &a,
                &format!("199002{i:05}"),
                None,
                Duration::from_secs(300),
                true,
            )
            .await,
        );
    }
    let until = Instant::now() + Duration::from_secs(30);
    while a
        .count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
        .await
        < 120
    {
        assert!(Instant::now() < until, "not all sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all: Value = a
        .get_as(None, "/stand-in/sms/messages")
        .await
        .json()
        .await
        .unwrap();
    let out_ids: std::collections::HashSet<_> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["out_id"].clone())
        .collect();
    assert_eq!(
        all.as_array().unwrap().len(),
        120,
        "a message was delivered twice"
    );
    assert_eq!(out_ids.len(), 120);
    drop(b);
}

#[tokio::test]
async fn the_log_provider_delivers_nothing_and_logs_no_number() {
    let env = vec![
        ("GOV_NOTIFY__SMS_PROVIDER", "log".to_owned()),
        (
            "GOV_NOTIFY__ALIYUN__ENDPOINT",
            "http://127.0.0.1:9/unused".to_owned(),
        ),
    ];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let resp = app
        .post_raw(
            "sysadmin",
            "/api/v1/notifications/test-sms",
            "application/json",
            r#"{"phone":"19900000107"}"#,
        )
        .await;
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = wait_status(&app, &id, "sent", 5).await;
    assert_eq!(sent["provider"], "log");
    assert!(
        sent["provider_message_id"]
            .as_str()
            .unwrap()
            .starts_with("log-")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = app.logs().join("\n");
    assert!(logs.contains("199****0107"));
    assert!(
        !logs.contains("19900000107"),
        "a full number reached the log"
    );
}

#[tokio::test]
async fn a_send_in_flight_at_kill_9_is_delivered_after_restart() {
    let env = || vec![("GOV_NOTIFY__DISPATCHER__LEASE_SECS", "2".to_owned())];
    let a = spawn_with(
        TestDb::new().await,
        Options {
            demo: true,
            env: env(),
        },
    )
    .await;
    // The provider is slow, so the send is in flight when the server dies.
    let slow = json!({ "delay_ms": 10_000, "times": 1 });
    assert_eq!(
        a.post_json("/stand-in/sms/faults", slow)
            .await
            .status()
            .as_u16(),
        204
    );
    let id = enqueue(&a, "19900000108", None, Duration::from_secs(300), true).await;
    let until = Instant::now() + Duration::from_secs(5);
    while a
        .count("SELECT COUNT(*) FROM outbox WHERE status = 'sending'")
        .await
        == 0
    {
        assert!(Instant::now() < until, "never claimed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let db = a.stop().await; // SIGKILL
    let b = spawn_with(
        db,
        Options {
            demo: true,
            env: env(),
        },
    )
    .await;
    let sent = wait_status(&b, &id, "sent", 10).await;
    assert_eq!(sent["attempts"], 2, "claimed again after the lease ran out");
    assert_eq!(b.sms_to("19900000108").await.len(), 1);
    assert_eq!(
        b.count("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'")
            .await,
        0,
        "nothing lost"
    );
}

#[tokio::test]
async fn an_instance_leaves_messages_for_providers_it_does_not_have() {
    // The demo instance queues, its dispatcher off; a second instance on the
    // same database has only the log SMS provider.
    let env = vec![("GOV_NOTIFY__DISPATCHER__ENABLED", "false".to_owned())];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let env = vec![("GOV_NOTIFY__DISPATCHER__POLL_INTERVAL_MS", "100".to_owned())];
    let other = spawn_with(app.db.shared(), Options { demo: false, env }).await;
    let id = enqueue(&app, "19900000107", None, Duration::from_secs(300), true).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let row = status(&app, &id).await;
    assert_eq!(row["status"], "queued", "{row}");
    assert_eq!(row["attempts"], 0, "{row}");
    drop(other);
}
