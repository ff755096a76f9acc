//! Mobile sign-in through Suishenban (GK-06), against its stand-in.

use serde_json::json;

use crate::common::{TestApp, problem, spawn_app};

async fn auth_code(app: &TestApp, user: &str, ttl: Option<u64>) -> String {
    let mut body = json!({ "user": user });
    if let Some(ttl) = ttl {
        body["ttl_secs"] = json!(ttl);
    }
    let resp = app.post_json("/stand-in/suishenban/auth-codes", body).await;
    assert_eq!(resp.status().as_u16(), 201);
    resp.json::<serde_json::Value>().await.unwrap()["auth_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sign_in(app: &TestApp, code: &str) -> reqwest::Response {
    app.post_json(
        "/m/v1/session",
        json!({ "auth_code": code, "device_id": "iPhone-15-abc" }),
    )
    .await
}

async fn stats(app: &TestApp) -> serde_json::Value {
    app.stand_in("/stand-in/suishenban/stats").await
}

#[tokio::test]
async fn an_official_signs_in_on_the_phone() {
    let app = spawn_app().await;
    let code = auth_code(&app, "pd_handler", None).await;
    let resp = sign_in(&app, &code).await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["profile"]["name"], "梁燕");
    assert_eq!(body["profile"]["unit"], "浦东新区人民政府办公室");
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap();
    let me = app.bearer_json(token, "/m/v1/me").await;
    assert_eq!(me["roles"], json!(["handler", "seal_approver"]));
    // First sign-in linked the Suishenban id through the verified mobile.
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE login_name = 'pd_handler' AND suishenban_id LIKE 'ssb-%'").await, 1);
    let sessions = app.bearer_json(token, "/api/v1/me/sessions").await;
    assert_eq!(sessions[0]["channel"], "mobile");
    assert_eq!(sessions[0]["device_id"], "iPhone-15-abc");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND outcome = 'success' AND detail LIKE '%suishenban%'").await, 1);

    // A second sign-in goes by the linked id.
    let again = sign_in(&app, &auth_code(&app, "pd_handler", None).await).await;
    assert_eq!(again.status().as_u16(), 200);
}

#[tokio::test]
async fn used_expired_and_made_up_codes_get_a_clear_401() {
    let app = spawn_app().await;
    let code = auth_code(&app, "xh_dispatcher", None).await;
    assert_eq!(sign_in(&app, &code).await.status().as_u16(), 200);
    let body = problem(sign_in(&app, &code).await, 401, "invalid_auth_code").await;
    assert!(body["detail"].as_str().unwrap().contains("已使用或已过期"));
    let expired = auth_code(&app, "xh_dispatcher", Some(0)).await;
    problem(sign_in(&app, &expired).await, 401, "invalid_auth_code").await;
    problem(
        sign_in(&app, "made-up-code").await,
        401,
        "invalid_auth_code",
    )
    .await;
    assert_eq!(app.audited_with("login", Some("failure")).await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn malformed_sign_in_requests_are_refused() {
    let app = spawn_app().await;
    let resp = app
        .post_json("/m/v1/session", json!({ "auth_code": "abc" }))
        .await;
    let body = problem(resp, 400, "malformed_body").await;
    assert!(body["detail"].as_str().unwrap().contains("device_id"));
    let resp = app
        .post_json(
            "/m/v1/session",
            json!({ "auth_code": "", "device_id": "d" }),
        )
        .await;
    assert_eq!(
        problem(resp, 422, "invalid_field").await["field"],
        "auth_code"
    );
    let resp = app
        .post_json(
            "/m/v1/session",
            json!({ "auth_code": "x", "device_id": "a\nb" }),
        )
        .await;
    assert_eq!(
        problem(resp, 422, "invalid_field").await["field"],
        "device_id"
    );
    let resp = app
        .post_json(
            "/stand-in/suishenban/auth-codes",
            json!({ "user": "nobody" }),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test]
async fn the_app_token_is_fetched_once_for_a_burst_and_again_when_expired() {
    let app = spawn_app().await;
    let mut codes = Vec::new();
    for _ in 0..10 {
        codes.push(auth_code(&app, "gk_dispatcher", None).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for code in codes {
        let (client, url) = (app.client.clone(), app.url("/m/v1/session"));
        tasks.spawn(async move {
            let resp = client
                .post(url)
                .json(&json!({ "auth_code": code, "device_id": "d" }))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        });
    }
    for (status, body) in tasks.join_all().await {
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(stats(&app).await["app_tokens_issued"], 1);

    let resp = app
        .client
        .post(app.url("/stand-in/suishenban/expire-app-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let code = auth_code(&app, "gk_dispatcher", None).await;
    assert_eq!(sign_in(&app, &code).await.status().as_u16(), 200);
    assert_eq!(stats(&app).await["app_tokens_issued"], 2);
}

#[tokio::test]
async fn refresh_and_logout_on_the_phone() {
    let app = spawn_app().await;
    let code = auth_code(&app, "xjh_handler", None).await;
    let first: serde_json::Value = sign_in(&app, &code).await.json().await.unwrap();
    let refreshed = app
        .post_json(
            "/m/v1/session/refresh",
            json!({ "refresh_token": first["refresh_token"] }),
        )
        .await;
    assert_eq!(refreshed.status().as_u16(), 200);
    let refreshed: serde_json::Value = refreshed.json().await.unwrap();
    let token = refreshed["access_token"].as_str().unwrap();
    let resp = app
        .call(reqwest::Method::DELETE, "/m/v1/session", token, None)
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    problem(
        app.get_bearer(token, "/m/v1/me").await,
        401,
        "session_ended",
    )
    .await;
    let after = app
        .post_json(
            "/m/v1/session/refresh",
            json!({ "refresh_token": refreshed["refresh_token"] }),
        )
        .await;
    problem(after, 401, "invalid_grant").await;
    // Logging out twice, or without a session, is unauthenticated.
    let resp = app
        .call(reqwest::Method::DELETE, "/m/v1/session", token, None)
        .await;
    problem(resp, 401, "session_ended").await;
}

#[tokio::test]
async fn an_official_steps_up_with_an_sms_code() {
    let app = spawn_app().await;
    let code = auth_code(&app, "pd_handler", None).await;
    let body: serde_json::Value = sign_in(&app, &code).await.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let resp = app
        .call(
            reqwest::Method::POST,
            "/m/v1/session/step-up/sms-code",
            token,
            None,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 202);
    let sms = app.wait_for_sms("19900000018").await[0]["params"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let step_up = |body: serde_json::Value| {
        app.call(
            reqwest::Method::POST,
            "/m/v1/session/step-up",
            token,
            Some(body),
        )
    };
    let wrong = if sms == "000000" { "111111" } else { "000000" };
    problem(
        step_up(json!({ "sms_code": wrong })).await,
        401,
        "invalid_sms_code",
    )
    .await;
    for bad in [json!({}), json!({ "sms_code": sms, "totp_code": "123456" })] {
        problem(step_up(bad).await, 422, "invalid_field").await;
    }
    assert_eq!(
        step_up(json!({ "sms_code": sms })).await.status().as_u16(),
        204
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE step_up_at IS NOT NULL")
            .await,
        1
    );
    problem(
        step_up(json!({ "sms_code": sms })).await,
        401,
        "invalid_sms_code",
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'session.step_up' AND detail LIKE '%sms%'").await,
        3
    );
}
