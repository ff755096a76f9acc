//! PC sign-in through the unified office platform (OIDC + PKCE), against
//! its stand-in, and back-channel logout.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::common::{TestApp, problem, spawn_app};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The value of cookie `name` set by `resp`, with its attributes.
fn set_cookie(resp: &reqwest::Response, name: &str) -> (String, String) {
    let header = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"));
    let value = header
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    (value, header)
}

/// Starts a login: (authorize URL, state cookie value).
async fn start(app: &TestApp) -> (String, String) {
    let resp = browser()
        .get(app.url("/auth/pc/login?return_to=/cases"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let (state, attrs) = set_cookie(&resp, "gov_pc_state");
    assert!(
        attrs.contains("HttpOnly") && attrs.contains("SameSite=Lax"),
        "{attrs}"
    );
    (location(&resp), state)
}

/// The platform's redirect back to our callback, for `user`.
async fn authorize(url: &str, user: &str) -> String {
    let resp = browser()
        .get(format!("{url}&user={user}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    location(&resp)
}

async fn callback(callback_url: &str, state_cookie: &str) -> reqwest::Response {
    browser()
        .get(callback_url)
        .header(COOKIE, format!("gov_pc_state={state_cookie}"))
        .send()
        .await
        .unwrap()
}

async fn pc_token(app: &TestApp, refresh: &str) -> reqwest::Response {
    browser()
        .post(app.url("/auth/pc/token"))
        .header(COOKIE, format!("gov_pc_rt={refresh}"))
        .header("x-requested-with", "fetch")
        .send()
        .await
        .unwrap()
}

/// The whole sign-in: answers the refresh cookie and an access token.
async fn pc_login(app: &TestApp, user: &str) -> (String, String) {
    let (url, state) = start(app).await;
    let back = authorize(&url, user).await;
    let resp = callback(&back, &state).await;
    assert_eq!(
        resp.status().as_u16(),
        303,
        "{}",
        resp.text().await.unwrap()
    );
    assert_eq!(location(&resp), "/cases");
    let (refresh, attrs) = set_cookie(&resp, "gov_pc_rt");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/auth/pc"] {
        assert!(attrs.contains(attr), "{attrs} lacks {attr}");
    }
    let resp = pc_token(app, &refresh).await;
    assert_eq!(resp.status().as_u16(), 200);
    let (rotated, _) = set_cookie(&resp, "gov_pc_rt");
    assert_ne!(rotated, refresh);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "the refresh token never reaches script"
    );
    (rotated, body["access_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_official_signs_in_on_pc_through_the_platform() {
    let app = spawn_app().await;
    let (url, _) = start(&app).await;
    for param in [
        "code_challenge_method=S256",
        "response_type=code",
        "scope=openid",
        "nonce=",
        "state=",
        "client_id=gov-demo-pc",
    ] {
        assert!(url.contains(param), "{url} lacks {param}");
    }
    assert!(!url.contains("code_verifier"));
    // Without a user the stand-in shows a page to pick one.
    let page = browser()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("xh_admin") && page.contains("周杰"));

    let (_, access) = pc_login(&app, "xh_admin").await;
    let me = app.bearer_json(&access, "/api/v1/me").await;
    assert_eq!(me["display_name"], "周杰");
    let sessions = app.bearer_json(&access, "/api/v1/me/sessions").await;
    assert_eq!(sessions[0]["channel"], "pc");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND outcome = 'success' AND detail LIKE '%unified-platform%'").await, 1);
}

#[tokio::test]
async fn state_must_match_the_browser_and_is_single_use() {
    let app = spawn_app().await;
    let (url, state) = start(&app).await;
    let back = authorize(&url, "xh_admin").await;
    problem(
        callback(&back, "someone-elses-state").await,
        401,
        "invalid_state",
    )
    .await;
    let no_cookie = browser().get(&back).send().await.unwrap();
    problem(no_cookie, 401, "invalid_state").await;
    assert_eq!(callback(&back, &state).await.status().as_u16(), 303);
    problem(callback(&back, &state).await, 401, "invalid_state").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn a_code_redeemed_with_another_logins_verifier_fails_pkce() {
    let app = spawn_app().await;
    let (url_a, _) = start(&app).await;
    let (_, state_b) = start(&app).await;
    let back_a = authorize(&url_a, "xh_admin").await;
    let code_a = back_a
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    // The attacker's browser holds login B; it presents A's code with B's state.
    let forged = app.url(&format!("/auth/pc/callback?code={code_a}&state={state_b}"));
    problem(callback(&forged, &state_b).await, 401, "invalid_grant").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn the_platform_stand_in_enforces_pkce_s256_and_client_auth() {
    let app = spawn_app().await;
    let (url, _) = start(&app).await;
    let plain = url.replace("code_challenge_method=S256", "code_challenge_method=plain");
    let resp = browser()
        .get(format!("{plain}&user=xh_admin"))
        .send()
        .await
        .unwrap();
    assert!(location(&resp).contains("error=invalid_request"));
    let back = authorize(&url, "xh_admin").await;
    let code = back
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let token_url = app.url("/stand-in/unified-platform/token");
    let form = |verifier: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("redirect_uri", app.url("/auth/pc/callback")),
            ("code_verifier", verifier.to_owned()),
        ]
    };
    let resp = browser()
        .post(&token_url)
        .basic_auth("gov-demo-pc", Some("wrong"))
        .form(&form("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = browser()
        .post(&token_url)
        .basic_auth("gov-demo-pc", Some("demo-pc-client-secret"))
        .form(&form("a-verifier-that-does-not-match-the-challenge-xx"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_platform_refusal_and_an_unknown_user_fail_the_login() {
    let app = spawn_app().await;
    let (_, state) = start(&app).await;
    let refused = app.url(&format!(
        "/auth/pc/callback?error=access_denied&state={state}"
    ));
    problem(callback(&refused, &state).await, 401, "platform_refused").await;
    let db = app.db.connect().await;
    api::on_db!(&db, p => sqlx::query("UPDATE users SET status = 'disabled' WHERE login_name = 'pd_admin'")
        .execute(p).await.map(|_| ())).unwrap();
    let (url, state) = start(&app).await;
    let back = authorize(&url, "pd_admin").await;
    problem(callback(&back, &state).await, 401, "unknown_user").await;
}

#[tokio::test]
async fn the_token_call_needs_the_csrf_header_and_a_valid_cookie() {
    let app = spawn_app().await;
    let (refresh, _) = pc_login(&app, "xh_admin").await;
    let resp = browser()
        .post(app.url("/auth/pc/token"))
        .header(COOKIE, format!("gov_pc_rt={refresh}"))
        .send()
        .await
        .unwrap();
    problem(resp, 403, "forbidden").await;
    let resp = browser()
        .post(app.url("/auth/pc/token"))
        .header("x-requested-with", "fetch")
        .send()
        .await
        .unwrap();
    problem(resp, 401, "unauthenticated").await;
    problem(pc_token(&app, "made-up").await, 401, "invalid_grant").await;
}

#[tokio::test]
async fn logout_ends_the_session_and_goes_to_the_platform() {
    let app = spawn_app().await;
    let (refresh, access) = pc_login(&app, "xh_admin").await;
    let resp = browser()
        .post(app.url("/auth/pc/logout"))
        .header(COOKIE, format!("gov_pc_rt={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let to = location(&resp);
    assert!(
        to.contains("/stand-in/unified-platform/logout") && to.contains("client_id=gov-demo-pc"),
        "{to}"
    );
    let (cleared, _) = set_cookie(&resp, "gov_pc_rt");
    assert_eq!(cleared, "");
    problem(
        app.get_bearer(&access, "/api/v1/me").await,
        401,
        "session_ended",
    )
    .await;
    // The platform sends the browser back to us.
    let back = browser().get(&to).send().await.unwrap();
    assert_eq!(location(&back), app.url("/"));
}

#[tokio::test]
async fn back_channel_logout_ends_the_session_at_once_and_only_once() {
    let app = spawn_app().await;
    let (_, access) = pc_login(&app, "xh_admin").await;
    let (_, other) = pc_login(&app, "pd_admin").await;
    let resp = app
        .post_json(
            "/stand-in/unified-platform/backchannel-logout-trigger",
            json!({ "user": "xh_admin" }),
        )
        .await;
    let sent: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(sent["rp_status"], 200);
    problem(
        app.get_bearer(&access, "/api/v1/me").await,
        401,
        "session_ended",
    )
    .await;
    assert_eq!(
        app.get_bearer(&other, "/api/v1/me").await.status().as_u16(),
        200,
        "other users stay"
    );
    assert_eq!(app.audited("session.backchannel_logout").await, 1);

    let token = sent["logout_token"].as_str().unwrap();
    let post = |t: String| {
        browser()
            .post(app.url("/auth/backchannel-logout"))
            .form(&[("logout_token", t)])
            .send()
    };
    problem(
        post(token.to_owned()).await.unwrap(),
        400,
        "invalid_logout_token",
    )
    .await;

    // Tampered, forged with another key, and garbage tokens.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[1])
            .unwrap(),
    )
    .unwrap();
    claims["sub"] = json!("up-pd_admin");
    claims["jti"] = json!("fresh-jti");
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        claims.to_string(),
    );
    let tampered = format!("{}.{}.{}", parts[0], b64, parts[2]);
    let ours = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let pem =
        p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&ours, p256::pkcs8::LineEnding::LF).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = jsonwebtoken::decode_header(token).unwrap().kid;
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    for bad in [tampered, forged, "garbage".to_owned()] {
        problem(post(bad).await.unwrap(), 400, "invalid_logout_token").await;
    }
    let empty = browser()
        .post(app.url("/auth/backchannel-logout"))
        .send()
        .await
        .unwrap();
    problem(empty, 400, "invalid_logout_token").await;
    assert_eq!(
        app.get_bearer(&other, "/api/v1/me").await.status().as_u16(),
        200
    );

    // By subject alone: every PC session of that user ends.
    let resp = app
        .post_json(
            "/stand-in/unified-platform/backchannel-logout-trigger",
            json!({ "user": "pd_admin", "by_sub": true }),
        )
        .await;
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["rp_status"],
        200
    );
    problem(
        app.get_bearer(&other, "/api/v1/me").await,
        401,
        "session_ended",
    )
    .await;
}

#[tokio::test]
async fn id_tokens_that_are_not_exactly_right_are_refused() {
    let app = spawn_app().await;
    for fault in [
        "wrong_audience",
        "expired",
        "wrong_nonce",
        "wrong_issuer",
        "wrong_key",
        "alg_none",
    ] {
        let resp = app
            .post_json(
                "/stand-in/unified-platform/faults",
                json!({ "id_token": fault }),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 204);
        let (url, state) = start(&app).await;
        let back = authorize(&url, "xh_admin").await;
        let resp = callback(&back, &state).await;
        assert_eq!(resp.status().as_u16(), 401, "{fault} was accepted");
        problem(resp, 401, "invalid_grant").await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    // With the faults used up, the same login works.
    pc_login(&app, "xh_admin").await;
}
