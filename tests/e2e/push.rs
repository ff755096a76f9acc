//! Push first, SMS as fallback: the device registry and Huawei Push Kit,
//! against their stand-ins.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Options, TestApp, TestDb, problem, spawn_app, spawn_with};

/// Signs `user` in on the phone; answers their access token.
async fn phone_session(app: &TestApp, user: &str) -> String {
    let code: Value = app
        .post_json("/stand-in/suishenban/auth-codes", json!({ "user": user }))
        .await
        .json()
        .await
        .unwrap();
    let t: Value = app
        .post_json(
            "/m/v1/session",
            json!({ "auth_code": code["auth_code"], "device_id": "phone-1" }),
        )
        .await
        .json()
        .await
        .unwrap();
    t["access_token"].as_str().unwrap().to_owned()
}

async fn register(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.call(
        reqwest::Method::PUT,
        "/m/v1/devices/phone-1",
        token,
        Some(body),
    )
    .await
}

/// A device registration body.
fn device(platform: &str, provider: &str, token: &str) -> Value {
    json!({ "platform": platform, "provider": provider, "token": token })
}

/// Signs `user` in on the phone and registers the phone as `device`;
/// answers the access token.
async fn phone_of(app: &TestApp, user: &str, device: Value) -> String {
    let token = phone_session(app, user).await;
    assert_eq!(register(app, &token, device).await.status().as_u16(), 204);
    token
}

/// pd_handler's phone, registered for push with `provider`.
async fn phone_with(app: &TestApp, platform: &str, provider: &str, token: &str) -> String {
    phone_of(app, "pd_handler", device(platform, provider, token)).await
}

async fn disabled_devices(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM devices WHERE disabled_at IS NOT NULL")
        .await
}

fn assert_sent_by(sent: &Value, provider: &str) {
    assert_eq!(
        (sent["status"].as_str(), sent["provider"].as_str()),
        (Some("sent"), Some(provider)),
        "{sent}"
    );
}

fn assert_last_error(settled: &Value, needle: &str) {
    let error = settled["last_error"].as_str().unwrap_or_default();
    assert!(error.contains(needle), "{settled}");
}

async fn test_notification(app: &TestApp, login: &str) -> Vec<String> {
    let user = app.get_json(login, "/api/v1/me", 200).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .client
        .post(app.url("/api/v1/notifications/test"))
        .header("x-test-user", "sysadmin")
        .json(&json!({ "user_id": user }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let body: Value = resp.json().await.unwrap();
    body["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

async fn settle(app: &TestApp, id: &str) -> Value {
    settle_within(app, id, 5).await
}

async fn pushes_to(app: &TestApp, token: &str) -> Vec<Value> {
    let v: Value = app
        .stand_in(&format!("/stand-in/huawei/messages?token={token}"))
        .await;
    v.as_array().unwrap().clone()
}

const HUAWEI_PHONE: &str = "hw-device-token-0001";
/// pd_handler's demo number.
const PD_HANDLER_PHONE: &str = "19900000018";

#[tokio::test]
async fn a_registered_phone_gets_the_push_and_no_sms() {
    let app = spawn_app().await;
    let token = phone_session(&app, "pd_handler").await;
    let body = json!({ "platform": "android", "provider": "huawei", "token": HUAWEI_PHONE, "app_version": "2.5.0", "locale": "zh-CN" });
    assert_eq!(register(&app, &token, body).await.status().as_u16(), 204);
    let ids = test_notification(&app, "pd_handler").await;
    assert_eq!(ids.len(), 1);
    let sent = settle(&app, &ids[0]).await;
    assert_eq!(
        (
            sent["status"].as_str(),
            sent["channel"].as_str(),
            sent["provider"].as_str()
        ),
        (Some("sent"), Some("push"), Some("huawei"))
    );
    let pushes = pushes_to(&app, HUAWEI_PHONE).await;
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0]["title"], "测试通知");
    assert_eq!(pushes[0]["link"], "govapp://home");
    assert!(app.sms_to(PD_HANDLER_PHONE).await.is_empty());
}

#[tokio::test]
async fn a_gone_token_disables_the_device_and_the_person_gets_an_sms() {
    let app = spawn_app().await;
    phone_with(&app, "android", "huawei", HUAWEI_PHONE).await;
    app.post_json("/stand-in/huawei/gone", json!({ "token": HUAWEI_PHONE }))
        .await;
    let ids = test_notification(&app, "pd_handler").await;
    let failed = settle(&app, &ids[0]).await;
    assert_eq!(failed["status"], "failed");
    assert_last_error(&failed, "80300007");
    assert_eq!(disabled_devices(&app).await, 1);
    app.wait_for_sms(PD_HANDLER_PHONE).await;
    assert!(
        app.sms_to(PD_HANDLER_PHONE).await[0]["text"]
            .as_str()
            .unwrap()
            .contains("测试短信")
    );
    // With the device disabled, the next notification goes by SMS at once.
    let next = test_notification(&app, "pd_handler").await;
    let row = app
        .get_json(
            "sysadmin",
            &format!("/api/v1/notifications/{}", next[0]),
            200,
        )
        .await;
    assert_eq!(row["channel"], "sms");
}

#[tokio::test]
async fn without_a_device_the_notification_is_an_sms() {
    let app = spawn_app().await;
    let ids = test_notification(&app, "xh_admin").await;
    let sent = settle(&app, &ids[0]).await;
    assert_eq!(
        (sent["channel"].as_str(), sent["status"].as_str()),
        (Some("sms"), Some("sent"))
    );
    assert_eq!(app.sms_to("19900000010").await.len(), 1);
}

#[tokio::test]
async fn logout_removes_the_sessions_device() {
    let app = spawn_app().await;
    let token = phone_of(&app, "xjh_handler", device("harmony", "huawei", "hw-x")).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM devices").await, 1);
    let resp = app
        .call(reqwest::Method::DELETE, "/m/v1/session", &token, None)
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(app.count("SELECT COUNT(*) FROM devices").await, 0);
}

#[tokio::test]
async fn device_registration_refuses_bad_input() {
    let app = spawn_app().await;
    let token = phone_session(&app, "xjh_handler").await;
    let bad = register(&app, &token, device("windows", "huawei", "t")).await;
    assert!(
        problem(bad, 400, "malformed_body").await["detail"]
            .as_str()
            .unwrap()
            .contains("platform")
    );
    let bad = register(&app, &token, device("ios", "apns", "")).await;
    assert_eq!(problem(bad, 422, "invalid_field").await["field"], "token");
    let bad = register(
        &app,
        &token,
        json!({ "platform": "ios", "provider": "apns", "token": "t", "imei": "x" }),
    )
    .await;
    problem(bad, 400, "malformed_body").await;
    let resp = app
        .call(reqwest::Method::DELETE, "/m/v1/devices/nope", &token, None)
        .await;
    problem(resp, 404, "not_found").await;
    let resp = app
        .client
        .put(app.url("/m/v1/devices/phone-1"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(resp, 401, "unauthenticated").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM devices").await, 0);
    // Updating is idempotent and re-enables.
    for _ in 0..2 {
        let ok = register(&app, &token, device("ios", "huawei", "t2")).await;
        assert_eq!(ok.status().as_u16(), 204);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM devices").await, 1);
}

#[tokio::test]
async fn an_expired_huawei_oauth_token_is_renewed_once() {
    let app = spawn_app().await;
    phone_with(&app, "android", "huawei", HUAWEI_PHONE).await;
    let first = test_notification(&app, "pd_handler").await;
    assert_eq!(settle(&app, &first[0]).await["status"], "sent");
    app.client
        .post(app.url("/stand-in/huawei/expire-tokens"))
        .send()
        .await
        .unwrap();
    let second = test_notification(&app, "pd_handler").await;
    assert_eq!(settle(&app, &second[0]).await["status"], "sent");
    let stats: Value = app.stand_in("/stand-in/huawei/stats").await;
    assert_eq!(stats["oauth_tokens_issued"], 2);
    assert_eq!(pushes_to(&app, HUAWEI_PHONE).await.len(), 2);
}

const IPHONE: &str = "7a3f9c0d1e2b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f";

async fn until_settled(app: &TestApp, login: &str) -> Value {
    let ids = test_notification(app, login).await;
    settle(app, &ids[0]).await
}

#[tokio::test]
async fn an_iphone_gets_the_push_over_apns_with_apples_headers() {
    let app = spawn_app().await;
    phone_with(&app, "ios", "apns", IPHONE).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let sent = until_settled(&app, "pd_handler").await;
        assert_sent_by(&sent, "apns");
        ids.push(sent["id"].as_str().unwrap().to_owned());
    }
    let delivered: Value = app.stand_in("/stand-in/apns/messages").await;
    let first = &delivered[0];
    assert_eq!(first["token"], IPHONE);
    assert_eq!(
        first["apns_id"],
        notify::push::apns::apns_id(&ids[0]).as_str(),
        "the outbox id travels as apns-id"
    );
    assert_eq!(first["collapse_id"], "notification_test");
    assert_eq!(first["payload"]["aps"]["alert"]["title"], "测试通知");
    let stats: Value = app.stand_in("/stand-in/apns/stats").await;
    assert_eq!(
        stats["provider_tokens_used"], 1,
        "the provider token is reused, not re-signed per push"
    );
}

#[tokio::test]
async fn apns_unregistered_and_bad_tokens_disable_the_device() {
    let app = spawn_app().await;
    let token = phone_with(&app, "ios", "apns", IPHONE).await;
    app.post_json("/stand-in/apns/gone", json!({ "token": IPHONE }))
        .await;
    let failed = until_settled(&app, "pd_handler").await;
    assert_last_error(&failed, "410 Gone Unregistered");
    assert_eq!(disabled_devices(&app).await, 1);
    // A malformed token is as gone as an unregistered one.
    register(&app, &token, device("ios", "apns", "not-hex")).await;
    let failed = until_settled(&app, "pd_handler").await;
    assert_last_error(&failed, "BadDeviceToken");
}

#[tokio::test]
async fn apns_outages_are_retried_after_the_asked_delay() {
    let app = spawn_app().await;
    phone_with(&app, "ios", "apns", IPHONE).await;
    let fault =
        json!({ "status": 503, "reason": "ServiceUnavailable", "retry_after_secs": 1, "times": 1 });
    app.post_json("/stand-in/apns/faults", fault).await;
    let started = Instant::now();
    let sent = until_settled(&app, "pd_handler").await;
    assert_eq!(
        (sent["status"].as_str(), sent["attempts"].as_i64()),
        (Some("sent"), Some(2))
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn an_android_phone_gets_the_push_over_fcm() {
    let app = spawn_app().await;
    phone_with(&app, "android", "fcm", "fcm-token-1").await;
    let sent = until_settled(&app, "pd_handler").await;
    assert_sent_by(&sent, "fcm");
    assert!(
        sent["provider_message_id"]
            .as_str()
            .unwrap()
            .starts_with("projects/gov-sh-demo/messages/")
    );
    let delivered: Value = app.stand_in("/stand-in/fcm/messages").await;
    assert_eq!(delivered[0]["message"]["notification"]["title"], "测试通知");
    assert_eq!(delivered[0]["message"]["data"]["outbox_id"], sent["id"]);
}

#[tokio::test]
async fn fcm_unregistered_falls_back_and_quota_waits_a_minute() {
    let app = spawn_app().await;
    phone_with(&app, "android", "fcm", "fcm-token-1").await;
    let fault =
        json!({ "status": 429, "error_code": "QUOTA_EXCEEDED", "retry_after_secs": 1, "times": 1 });
    app.post_json("/stand-in/fcm/faults", fault).await;
    let ids = test_notification(&app, "pd_handler").await;
    let until = Instant::now() + Duration::from_secs(5);
    let waiting = loop {
        let s = app
            .get_json(
                "sysadmin",
                &format!("/api/v1/notifications/{}", ids[0]),
                200,
            )
            .await;
        if s["attempts"] == 1 && s["status"] == "queued" {
            break s;
        }
        assert!(Instant::now() < until, "{s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_last_error(&waiting, "QUOTA_EXCEEDED");
    let next: time::OffsetDateTime = time::OffsetDateTime::parse(
        waiting["next_attempt_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let wait = next - time::OffsetDateTime::now_utc();
    assert!(
        wait > time::Duration::seconds(50),
        "QUOTA_EXCEEDED retried after only {wait}"
    );

    app.post_json("/stand-in/fcm/gone", json!({ "token": "fcm-token-1" }))
        .await;
    phone_of(&app, "xjh_handler", device("android", "fcm", "fcm-token-1")).await;
    let failed = until_settled(&app, "xjh_handler").await;
    assert_last_error(&failed, "UNREGISTERED");
    app.wait_for_sms("19900000014").await;
}

async fn app_with(env: Vec<(&'static str, String)>) -> TestApp {
    crate::common::spawn_with(
        crate::common::TestDb::new().await,
        crate::common::Options { demo: true, env },
    )
    .await
}

#[tokio::test]
async fn a_permanent_push_failure_falls_back_without_disabling_the_device() {
    let app = spawn_app().await;
    phone_with(&app, "android", "fcm", "fcm-token-1").await;
    let fault = json!({ "status": 403, "error_code": "SENDER_ID_MISMATCH", "times": 1 });
    app.post_json("/stand-in/fcm/faults", fault).await;
    let failed = until_settled(&app, "pd_handler").await;
    assert_eq!(failed["status"], "failed");
    assert_last_error(&failed, "SENDER_ID_MISMATCH");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM devices WHERE disabled_at IS NULL")
            .await,
        1
    );
    app.wait_for_sms(PD_HANDLER_PHONE).await;
}

#[tokio::test]
async fn channel_policies_choose_per_kind() {
    let sms_only = app_with(vec![(
        "GOV_NOTIFY__CHANNEL_POLICY__NOTIFICATION_TEST",
        "sms_only".into(),
    )])
    .await;
    phone_of(
        &sms_only,
        "pd_handler",
        device("android", "huawei", HUAWEI_PHONE),
    )
    .await;
    let sent = until_settled(&sms_only, "pd_handler").await;
    assert_eq!(sent["channel"], "sms");
    assert!(pushes_to(&sms_only, HUAWEI_PHONE).await.is_empty());

    let push_only = app_with(vec![(
        "GOV_NOTIFY__CHANNEL_POLICY__NOTIFICATION_TEST",
        "push_only".into(),
    )])
    .await;
    assert!(
        test_notification(&push_only, "xh_admin").await.is_empty(),
        "no device, no SMS"
    );
    phone_of(
        &push_only,
        "pd_handler",
        device("android", "huawei", HUAWEI_PHONE),
    )
    .await;
    push_only
        .post_json("/stand-in/huawei/gone", json!({ "token": HUAWEI_PHONE }))
        .await;
    assert_eq!(
        until_settled(&push_only, "pd_handler").await["status"],
        "failed"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        push_only
            .count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms'")
            .await,
        0
    );

    let bad = crate::common::run_cli(
        &push_only.db.url,
        &["migrate"],
        &[(
            "GOV_NOTIFY__CHANNEL_POLICY__NOTIFICATION_TEST",
            "carrier_pigeon",
        )],
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn the_log_provider_for_push_delivers_nothing() {
    let app = app_with(vec![("GOV_NOTIFY__PUSH_DELIVERY", "log".into())]).await;
    phone_with(&app, "ios", "apns", IPHONE).await;
    let sent = until_settled(&app, "pd_handler").await;
    assert_sent_by(&sent, "apns");
    assert!(
        sent["provider_message_id"]
            .as_str()
            .unwrap()
            .starts_with("log-")
    );
    let delivered: Value = app.stand_in("/stand-in/apns/messages").await;
    assert!(delivered.as_array().unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !app.logs().join("\n").contains(IPHONE),
        "a device token reached the log"
    );
}

/// Waits up to `secs` for an outbox message to leave the queue.
async fn settle_within(app: &TestApp, id: &str, secs: u64) -> Value {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = app
            .get_json("sysadmin", &format!("/api/v1/notifications/{id}"), 200)
            .await;
        if !matches!(s["status"].as_str(), Some("queued" | "sending")) {
            return s;
        }
        assert!(Instant::now() < until, "{id} still {}", s["status"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every provider is down for a while, first answering 503 with
/// Retry-After, then too slow to wait for; then it recovers. Every message
/// arrives once, after the recovery, and no retry came before the provider
/// said it could.
#[tokio::test]
async fn outages_and_timeouts_at_every_provider_are_waited_out() {
    let env = vec![
        ("GOV_NOTIFY__ALIYUN__TIMEOUT_SECS", "1".to_owned()),
        ("GOV_NOTIFY__HUAWEI__TIMEOUT_SECS", "1".to_owned()),
        ("GOV_NOTIFY__APNS__TIMEOUT_SECS", "1".to_owned()),
        ("GOV_NOTIFY__FCM__TIMEOUT_SECS", "1".to_owned()),
        ("GOV_NOTIFY__DISPATCHER__BASE_BACKOFF_MS", "200".to_owned()),
    ];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    // (user, device, stand-in, the outage's answer in that provider's words)
    let phones = [
        (
            "pd_handler",
            device("android", "huawei", HUAWEI_PHONE),
            "/stand-in/huawei",
            json!({ "status": 503 }),
        ),
        (
            "xh_handler",
            device("ios", "apns", IPHONE),
            "/stand-in/apns",
            json!({ "status": 503, "reason": "ServiceUnavailable" }),
        ),
        (
            "gk_handler",
            device("android", "fcm", "fcm-token-1"),
            "/stand-in/fcm",
            json!({ "status": 503, "error_code": "UNAVAILABLE" }),
        ),
    ];
    let sms_phones = ["19900000201", "19900000202"];
    let outage = |base: &Value, times: usize| {
        let mut refused = base.clone();
        refused["retry_after_secs"] = json!(2);
        refused["times"] = json!(times);
        // Answers only after the client has given up.
        let mut slow = base.clone();
        slow["delay_ms"] = json!(3000);
        slow["times"] = json!(times);
        [refused, slow]
    };
    for (user, device, standin, base) in &phones {
        let token = phone_session(&app, user).await;
        assert_eq!(
            register(&app, &token, device.clone())
                .await
                .status()
                .as_u16(),
            204
        );
        for fault in outage(base, 1) {
            let resp = app.post_json(&format!("{standin}/faults"), fault).await;
            assert_eq!(resp.status().as_u16(), 204);
        }
    }
    for fault in outage(&json!({ "status": 503 }), sms_phones.len()) {
        let resp = app.post_json("/stand-in/sms/faults", fault).await;
        assert_eq!(resp.status().as_u16(), 204);
    }

    let started = Instant::now();
    let mut ids = Vec::new();
    for (user, ..) in &phones {
        ids.extend(test_notification(&app, user).await);
    }
    for phone in sms_phones {
        let resp = app
            .post_raw(
                "sysadmin",
                "/api/v1/notifications/test-sms",
                "application/json",
                json!({ "phone": phone }).to_string(),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 202);
        ids.push(
            resp.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(ids.len(), 5);
    for id in &ids {
        let sent = settle_within(&app, id, 30).await;
        // Refused, timed out, delivered.
        assert_eq!(
            (sent["status"].as_str(), sent["attempts"].as_i64()),
            (Some("sent"), Some(3)),
            "{sent}"
        );
    }
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "delivered before Retry-After plus a timeout could pass: {:?}",
        started.elapsed()
    );
    // Once each: a request that timed out was not delivered by the provider.
    assert_eq!(pushes_to(&app, HUAWEI_PHONE).await.len(), 1);
    for standin in ["/stand-in/apns", "/stand-in/fcm"] {
        let got: Value = app.stand_in(&format!("{standin}/messages")).await;
        assert_eq!(got.as_array().unwrap().len(), 1, "{standin}: {got}");
    }
    for phone in sms_phones {
        assert_eq!(app.sms_to(phone).await.len(), 1, "{phone}");
    }
    // No person got an SMS in place of a push that was only delayed.
    assert!(app.sms_to(PD_HANDLER_PHONE).await.is_empty());
}
