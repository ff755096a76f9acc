//! SMS verification codes for applicants (GK-15), read from the SMS stand-in.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Options, TestApp, TestDb, problem, spawn_app, spawn_with};

async fn app_with(env: &[(&'static str, &str)]) -> TestApp {
    let env = env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    spawn_with(TestDb::new().await, Options { demo: true, env }).await
}

async fn send(app: &TestApp, phone: &str) -> reqwest::Response {
    app.post_json(
        "/m/v1/verification-codes",
        json!({ "phone": phone, "purpose": "disclosure_request" }),
    )
    .await
}

async fn verify(app: &TestApp, phone: &str, code: &str) -> reqwest::Response {
    let body = json!({ "phone": phone, "purpose": "disclosure_request", "code": code });
    app.post_json("/m/v1/verification-codes/verify", body).await
}

/// The code the phone received last, as the applicant reads it.
async fn code_on_phone(app: &TestApp, phone: &str) -> String {
    let got = app.wait_for_sms(phone).await;
    got.last().unwrap()["params"]["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_applicant_verifies_their_phone_once() {
    let app = spawn_app().await;
    let resp = send(&app, "19912345678").await;
    assert_eq!(resp.status().as_u16(), 202);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "resend_after_secs": 60, "expires_in_secs": 300 })
    );
    let code = code_on_phone(&app, "19912345678").await;
    assert_eq!(code.len(), 6);
    let resp = verify(&app, "19912345678", &code).await;
    assert_eq!(resp.status().as_u16(), 200);
    let token = resp.json::<Value>().await.unwrap()["verification_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 43);
    // Single use: the same code again fails.
    problem(
        verify(&app, "19912345678", &code).await,
        422,
        "invalid_field",
    )
    .await;
    // The code is stored only as a hash, and never logged.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM verification_codes").await,
        0
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = app.logs().join("\n");
    assert!(!logs.contains(&code) && !logs.contains(&token) && !logs.contains("19912345678"));

    // The token is single-use and bound to its purpose.
    let db = app.db.connect().await;
    let config = api::config::Config::load(None).unwrap();
    let pii =
        api::pii::PiiCipher::new(&config.crypto.pii_key, config.crypto.index_key.clone()).unwrap();
    let mut tx = db.begin().await.unwrap();
    use sso::verification::{Purpose, consume_token};
    assert!(
        consume_token(&mut tx, &pii, &token, Purpose::ApplicantLogin)
            .await
            .is_err(),
        "cross-purpose"
    );
    let phone = consume_token(&mut tx, &pii, &token, Purpose::DisclosureRequest)
        .await
        .unwrap();
    assert_eq!(phone.as_str(), "19912345678");
    assert!(
        consume_token(&mut tx, &pii, &token, Purpose::DisclosureRequest)
            .await
            .is_err(),
        "replayed"
    );
    assert!(
        consume_token(&mut tx, &pii, "made-up", Purpose::DisclosureRequest)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn known_and_unknown_numbers_get_the_same_answer() {
    let app = spawn_app().await;
    let known = send(&app, "19900000018").await;
    let unknown = send(&app, "19987654321").await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(
        known.json::<Value>().await.unwrap(),
        unknown.json::<Value>().await.unwrap()
    );
}

#[tokio::test]
async fn one_code_a_minute_per_phone_and_the_hour_and_day_limits() {
    let app = spawn_app().await;
    assert_eq!(send(&app, "19911110000").await.status().as_u16(), 202);
    let resp = send(&app, "19911110000").await;
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    problem(resp, 429, "too_many_codes").await;

    let app = app_with(&[("GOV_VERIFICATION__PHONE_PER_MINUTE", "100")]).await;
    for _ in 0..5 {
        assert_eq!(send(&app, "19911110001").await.status().as_u16(), 202);
    }
    let body = problem(send(&app, "19911110001").await, 429, "too_many_codes").await;
    assert!(body["detail"].as_str().unwrap().contains("本小时"));

    let app = app_with(&[
        ("GOV_VERIFICATION__PHONE_PER_MINUTE", "100"),
        ("GOV_VERIFICATION__PHONE_PER_HOUR", "100"),
    ])
    .await;
    for _ in 0..10 {
        assert_eq!(send(&app, "19911110002").await.status().as_u16(), 202);
    }
    let body = problem(send(&app, "19911110002").await, 429, "too_many_codes").await;
    assert!(body["detail"].as_str().unwrap().contains("今日"));
}

#[tokio::test]
async fn one_address_and_one_number_prefix_are_limited() {
    let app = app_with(&[("GOV_VERIFICATION__IP_PER_HOUR", "3")]).await;
    for i in 0..3 {
        assert_eq!(
            send(&app, &format!("1991222000{i}"))
                .await
                .status()
                .as_u16(),
            202
        );
    }
    problem(send(&app, "19912220009").await, 429, "too_many_codes").await;

    let app = app_with(&[("GOV_VERIFICATION__PREFIX_MAX", "3")]).await;
    for i in 0..3 {
        assert_eq!(
            send(&app, &format!("1981333000{i}"))
                .await
                .status()
                .as_u16(),
            202
        );
    }
    let body = problem(send(&app, "19813330009").await, 429, "too_many_codes").await;
    assert!(body["detail"].as_str().unwrap().contains("异常"));
    // Another prefix is unaffected.
    assert_eq!(send(&app, "19914440000").await.status().as_u16(), 202);
}

#[tokio::test]
async fn five_wrong_codes_kill_the_code_and_codes_expire() {
    let app = spawn_app().await;
    send(&app, "19915550000").await;
    let code = code_on_phone(&app, "19915550000").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        problem(
            verify(&app, "19915550000", wrong).await,
            422,
            "invalid_field",
        )
        .await;
    }
    problem(
        verify(&app, "19915550000", &code).await,
        422,
        "invalid_field",
    )
    .await;

    let app = app_with(&[("GOV_VERIFICATION__CODE_TTL_SECS", "1")]).await;
    send(&app, "19915550001").await;
    let code = code_on_phone(&app, "19915550001").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    problem(
        verify(&app, "19915550001", &code).await,
        422,
        "invalid_field",
    )
    .await;
}

#[tokio::test]
async fn twenty_parallel_requests_send_one_code() {
    let app = spawn_app().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (client, url) = (app.client.clone(), app.url("/m/v1/verification-codes"));
        tasks.spawn(async move {
            client
                .post(url)
                .json(&json!({ "phone": "19916660000", "purpose": "disclosure_request" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = tasks.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM verification_sends").await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'verification_code'")
            .await,
        1
    );
}

#[tokio::test]
async fn malformed_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    for (body, status, code, field) in [
        (
            json!({ "phone": "12345", "purpose": "disclosure_request" }),
            422,
            "invalid_field",
            Some("phone"),
        ),
        (
            json!({ "phone": "19917770000", "purpose": "lottery" }),
            400,
            "malformed_body",
            None,
        ),
        (
            json!({ "phone": 19917770000u64, "purpose": "disclosure_request" }),
            400,
            "malformed_body",
            None,
        ),
        (
            json!({ "purpose": "disclosure_request" }),
            400,
            "malformed_body",
            None,
        ),
    ] {
        let resp = app.post_json("/m/v1/verification-codes", body).await;
        let p = problem(resp, status, code).await;
        if let Some(field) = field {
            assert_eq!(p["field"], field);
        }
    }
    let bad = verify(&app, "19917770000", "12ab56").await;
    assert_eq!(problem(bad, 422, "invalid_field").await["field"], "code");
    let huge = format!(
        "{{\"phone\":\"{}\",\"purpose\":\"disclosure_request\"}}",
        "1".repeat(2_000_000)
    );
    let resp = reqwest::Client::new()
        .post(app.url("/m/v1/verification-codes"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    problem(resp, 413, "payload_too_large").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM verification_sends").await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
}
