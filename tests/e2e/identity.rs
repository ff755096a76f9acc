//! Local administrator login, access tokens, refresh rotation, sessions.

use std::net::IpAddr;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::common::{
    Options, TestApp, TestDb, demo_totp, demo_totp_at, problem, spawn_app, spawn_with,
};

async fn app_with(env: Vec<(&'static str, String)>) -> TestApp {
    spawn_with(TestDb::new().await, Options { demo: true, env }).await
}

fn from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn try_login(
    app: &TestApp,
    client: &reqwest::Client,
    login: &str,
    password: &str,
    code: &str,
) -> reqwest::Response {
    client
        .post(app.url("/auth/admin/login"))
        .json(&json!({ "login_name": login, "password": password, "totp_code": code }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_administrator_signs_in_with_password_and_totp() {
    let app = spawn_app().await;
    let tokens = app.admin_login("secadmin", 0).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    assert_eq!(tokens["refresh_token"].as_str().unwrap().len(), 43);
    let access = tokens["access_token"].as_str().unwrap();

    // The token is an ES256 JWT whose key is published.
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    let jwks: serde_json::Value = app.stand_in("/.well-known/jwks.json").await;
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == header.kid.clone().unwrap().as_str())
    );
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            access.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    assert_eq!(claims["channel"], "admin");
    assert_eq!(claims["roles"], json!(["security_admin"]));
    assert_eq!(claims["sid"], tokens["session_id"]);

    let me = app.get_bearer(access, "/api/v1/me").await;
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(
        me.json::<serde_json::Value>().await.unwrap()["login_name"],
        "secadmin"
    );
    assert_eq!(app.audited_with("login", Some("success")).await, 1);
}

#[tokio::test]
async fn wrong_factors_fail_alike_and_a_used_code_cannot_be_replayed() {
    let app = spawn_app().await;
    let c = &app.client;
    for (login, password, code) in [
        ("secadmin", "Wrong-Passw0rd!2025", demo_totp(0)),
        ("secadmin", sso::local::DEMO_PASSWORD, "000000".to_owned()),
        ("nobody", sso::local::DEMO_PASSWORD, demo_totp(0)),
        ("gk_handler", sso::local::DEMO_PASSWORD, demo_totp(0)),
    ] {
        let body = problem(
            try_login(&app, c, login, password, &code).await,
            401,
            "invalid_credentials",
        )
        .await;
        assert_eq!(body["detail"], "登录名、密码或动态口令错误");
    }
    let used = app.admin_login("auditadmin", 0).await["totp_step"]
        .as_i64()
        .unwrap();
    let replay = try_login(
        &app,
        c,
        "auditadmin",
        sso::local::DEMO_PASSWORD,
        &demo_totp_at(used),
    )
    .await;
    problem(replay, 401, "invalid_credentials").await;
    assert_eq!(app.audited_with("login", Some("failure")).await, 5);
}

#[tokio::test]
async fn one_address_cannot_lock_an_account_but_several_can() {
    let app = spawn_app().await;
    let wrong = "Wrong-Passw0rd!2025";
    let a = from("127.0.0.2");
    for _ in 0..4 {
        problem(
            try_login(&app, &a, "sysadmin", wrong, "123456").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // The fifth try from the same address is refused before it counts.
    let resp = try_login(&app, &a, "sysadmin", wrong, "123456").await;
    assert!(resp.headers().get("retry-after").is_some());
    problem(resp, 429, "too_many_attempts").await;
    // The owner, elsewhere, still gets in.
    let owner = from("127.0.0.3");
    let ok = try_login(
        &app,
        &owner,
        "sysadmin",
        sso::local::DEMO_PASSWORD,
        &demo_totp(0),
    )
    .await;
    assert_eq!(ok.status().as_u16(), 200);

    // Five failures from two addresses lock the account for everyone.
    let b = from("127.0.0.4");
    for _ in 0..4 {
        problem(
            try_login(&app, &b, "sysadmin", wrong, "123456").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    problem(
        try_login(&app, &from("127.0.0.5"), "sysadmin", wrong, "123456").await,
        401,
        "invalid_credentials",
    )
    .await;
    let locked = try_login(
        &app,
        &owner,
        "sysadmin",
        sso::local::DEMO_PASSWORD,
        &demo_totp(1),
    )
    .await;
    let body = problem(locked, 429, "account_locked").await;
    assert!(body["detail"].as_str().unwrap().contains("锁定"));
    assert_eq!(app.audited("login.lockout").await, 1);
    assert_eq!(app.audited("login.locked").await, 1);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_session() {
    let app = app_with(vec![("GOV_AUTH__REFRESH_OVERLAP_SECS", "0".into())]).await;
    let first = app.admin_login("secadmin", 0).await;
    let second: serde_json::Value = app
        .post_json(
            "/auth/refresh",
            json!({ "refresh_token": first["refresh_token"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["session_id"], first["session_id"]);
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_bearer(access, "/api/v1/me").await.status().as_u16(),
        200
    );

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let reuse = app
        .post_json(
            "/auth/refresh",
            json!({ "refresh_token": first["refresh_token"] }),
        )
        .await;
    problem(reuse, 401, "refresh_token_reused").await;
    // The whole family is gone: the newest refresh token and the access token.
    let next = app
        .post_json(
            "/auth/refresh",
            json!({ "refresh_token": second["refresh_token"] }),
        )
        .await;
    problem(next, 401, "invalid_grant").await;
    problem(
        app.get_bearer(access, "/api/v1/me").await,
        401,
        "session_ended",
    )
    .await;
    assert_eq!(app.audited("session.refresh_reuse").await, 1);

    for bad in [json!({ "refresh_token": "not-a-token" }), json!({})] {
        let resp = app.post_json("/auth/refresh", bad).await;
        assert!(matches!(resp.status().as_u16(), 400 | 401));
    }
}

#[tokio::test]
async fn a_racing_retry_within_the_overlap_is_forgiven() {
    let app = spawn_app().await;
    let first = app.admin_login("secadmin", 0).await;
    let body = json!({ "refresh_token": first["refresh_token"] });
    let (a, b) = tokio::join!(
        app.post_json("/auth/refresh", body.clone()),
        app.post_json("/auth/refresh", body)
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
}

#[tokio::test]
async fn logout_and_ended_sessions_stop_their_tokens_at_once() {
    let app = spawn_app().await;
    let pc = app.admin_login("secadmin", 0).await;
    let other = app.admin_login("secadmin", 1).await;
    let token = pc["access_token"].as_str().unwrap();

    let list = app.bearer_json(token, "/api/v1/me/sessions").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);

    // End the other session from this one.
    let other_id = other["session_id"].as_str().unwrap();
    let resp = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/sessions/{other_id}"),
            token,
            None,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    problem(
        app.get_bearer(other["access_token"].as_str().unwrap(), "/api/v1/me")
            .await,
        401,
        "session_ended",
    )
    .await;
    let again = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/sessions/{other_id}"),
            token,
            None,
        )
        .await;
    problem(again, 404, "not_found").await;

    let resp = app
        .call(reqwest::Method::POST, "/auth/logout", token, None)
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    problem(
        app.get_bearer(token, "/api/v1/me").await,
        401,
        "session_ended",
    )
    .await;
    assert_eq!(app.audited("session.end").await, 2);
}

#[tokio::test]
async fn a_disabled_user_is_out_on_the_next_request() {
    let app = spawn_app().await;
    let tokens = app.admin_login("auditadmin", 0).await;
    let token = tokens["access_token"].as_str().unwrap();
    let db = app.db.connect().await;
    api::on_db!(&db, p => sqlx::query("UPDATE users SET status = 'disabled' WHERE login_name = 'auditadmin'")
        .execute(p).await.map(|_| ())).unwrap();
    problem(
        app.get_bearer(token, "/api/v1/me").await,
        401,
        "unauthenticated",
    )
    .await;
    let refresh = app
        .post_json(
            "/auth/refresh",
            json!({ "refresh_token": tokens["refresh_token"] }),
        )
        .await;
    problem(refresh, 401, "invalid_grant").await;
}

/// The server's current signing key, decrypted as an attacker who stole the
/// database and the development keys could: to mint tokens that are
/// correctly signed but wrong in every other way.
async fn stolen_key(app: &TestApp) -> (String, EncodingKey) {
    let db = app.db.connect().await;
    let (kid, sealed): (String, Vec<u8>) = api::on_db!(&db, p => sqlx::query_as(
        "SELECT kid, private_key FROM signing_keys WHERE retired_at IS NULL").fetch_one(p).await)
    .unwrap();
    let config = api::config::Config::load(None).unwrap();
    let pii =
        api::pii::PiiCipher::new(&config.crypto.pii_key, config.crypto.index_key.clone()).unwrap();
    let pem = pii.decrypt("signing_keys.private_key", &sealed).unwrap();
    (kid, EncodingKey::from_ec_pem(pem.as_bytes()).unwrap())
}

#[tokio::test]
async fn forged_tampered_and_expired_tokens_are_refused() {
    let app = spawn_app().await;
    let tokens = app.admin_login("secadmin", 0).await;
    let good = tokens["access_token"].as_str().unwrap().to_owned();
    let parts: Vec<&str> = good.split('.').collect();
    let b64 = |v: serde_json::Value| {
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            v.to_string(),
        )
    };
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[1])
            .unwrap(),
    )
    .unwrap();

    let mut forged = Vec::new();
    // alg: none, no signature.
    forged.push(format!(
        "{}.{}.",
        b64(json!({ "alg": "none", "typ": "JWT" })),
        parts[1]
    ));
    // Claims changed under the original signature.
    let mut more = claims.clone();
    more["roles"] = json!(["system_admin"]);
    forged.push(format!("{}.{}.{}", parts[0], b64(more), parts[2]));
    // HS256 "signed" with the public JWK as the secret.
    let jwks = app
        .get_as(None, "/.well-known/jwks.json")
        .await
        .text()
        .await
        .unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = jsonwebtoken::decode_header(&good).unwrap().kid;
    forged.push(
        jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(jwks.as_bytes())).unwrap(),
    );
    // A key of our own under the server's kid.
    let ours = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let pem =
        p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&ours, p256::pkcs8::LineEnding::LF).unwrap();
    let mut es = Header::new(Algorithm::ES256);
    es.kid = hs.kid.clone();
    forged.push(
        jsonwebtoken::encode(
            &es,
            &claims,
            &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap(),
    );
    // The real key, but expired, for another audience, or another issuer.
    let (kid, key) = stolen_key(&app).await;
    let mut real = Header::new(Algorithm::ES256);
    real.kid = Some(kid);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (field, value) in [
        ("exp", json!(now - 60)),
        ("aud", json!("another-app")),
        ("iss", json!("https://evil.example")),
    ] {
        let mut c = claims.clone();
        c[field] = value;
        forged.push(jsonwebtoken::encode(&real, &c, &key).unwrap());
    }
    forged.push("garbage".into());
    for token in &forged {
        problem(
            app.get_bearer(token, "/api/v1/me").await,
            401,
            "invalid_token",
        )
        .await;
    }
    // And the genuine one still works.
    assert_eq!(
        app.get_bearer(&good, "/api/v1/me").await.status().as_u16(),
        200
    );
    // Correctly signed and unexpired, but for a session that never existed.
    let mut c = claims.clone();
    c["sid"] = json!("01JNOSUCHSESSION0000000000");
    let token = jsonwebtoken::encode(&real, &c, &key).unwrap();
    problem(
        app.get_bearer(&token, "/api/v1/me").await,
        401,
        "session_ended",
    )
    .await;
}

#[tokio::test]
async fn key_rotation_logs_nobody_out() {
    let app = spawn_app().await;
    let tokens = app.admin_login("secadmin", 0).await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let out = app.cli(&["keys", "rotate"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        app.get_bearer(&token, "/api/v1/me").await.status().as_u16(),
        200
    );
    let db = app.stop().await;
    let app = spawn_with(db, Options::default()).await;
    assert_eq!(
        app.get_bearer(&token, "/api/v1/me").await.status().as_u16(),
        200
    );
    let jwks: serde_json::Value = app.stand_in("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    let newer = app.admin_login("auditadmin", 0).await;
    let new_kid = jsonwebtoken::decode_header(newer["access_token"].as_str().unwrap())
        .unwrap()
        .kid;
    assert_ne!(new_kid, jsonwebtoken::decode_header(&token).unwrap().kid);
}

#[tokio::test]
async fn step_up_with_a_fresh_code_and_not_with_a_used_one() {
    let app = spawn_app().await;
    let tokens = app.admin_login("sysadmin", 0).await;
    let token = tokens["access_token"].as_str().unwrap();
    let step_up = |code: String| {
        app.client
            .post(app.url("/auth/step-up"))
            .bearer_auth(token)
            .json(&json!({ "totp_code": code }))
            .send()
    };
    let used = tokens["totp_step"].as_i64().unwrap();
    problem(
        step_up(demo_totp_at(used)).await.unwrap(),
        401,
        "invalid_otp",
    )
    .await;
    assert_eq!(
        step_up(demo_totp_at(used + 1))
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE step_up_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(app.audited("session.step_up").await, 2);
}

#[tokio::test]
async fn enrolment_prints_an_otpauth_uri_and_enforces_the_password_policy() {
    let app = spawn_app().await;
    let out = crate::common::run_cli(
        &app.db.url,
        &["admin", "enrol", "auditadmin"],
        &[("GOV_ENROL_PASSWORD", "short")],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password refused"));
    let out = crate::common::run_cli(
        &app.db.url,
        &["admin", "enrol", "gk_handler"],
        &[("GOV_ENROL_PASSWORD", "Another-Passw0rd-9")],
    )
    .await;
    assert!(
        !out.status.success(),
        "only the three administrator roles sign in locally"
    );
    let out = crate::common::run_cli(
        &app.db.url,
        &["admin", "enrol", "auditadmin"],
        &[("GOV_ENROL_PASSWORD", "Another-Passw0rd-9")],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let uri = String::from_utf8(out.stdout).unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("issuer="), "{uri}");
    // The old demo password no longer works; the new password with a code
    // from the URI's secret does, and completes enrolment.
    let old = try_login(
        &app,
        &app.client,
        "auditadmin",
        sso::local::DEMO_PASSWORD,
        &demo_totp(0),
    )
    .await;
    problem(old, 401, "invalid_credentials").await;
    let secret = base32_decode(
        uri.split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap(),
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let code = sso::local::totp::current_code(&secret, now).unwrap();
    let ok = try_login(&app, &app.client, "auditadmin", "Another-Passw0rd-9", &code).await;
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM local_credentials WHERE totp_pending IS NULL AND totp_secret IS NOT NULL AND user_id IN (SELECT id FROM users WHERE login_name = 'auditadmin')").await, 1);
}

/// RFC 4648 base32 without padding, as in otpauth URIs.
fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut acc, mut out) = (0u32, 0u64, Vec::new());
    for c in s.trim_end_matches('=').bytes() {
        acc = (acc << 5) | ALPHABET.iter().position(|a| *a == c).unwrap() as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[tokio::test]
async fn granting_roles_needs_a_recent_authentication() {
    let app = spawn_app().await;
    let tokens = app.admin_login("secadmin", 0).await;
    let token = tokens["access_token"].as_str().unwrap();
    let target: serde_json::Value = app.get_json("xjh_handler", "/api/v1/me", 200).await;
    let unit = app.unit_id("310104-XJH").await;
    let grant = |role: &str| {
        app.client
            .post(app.url(&format!(
                "/api/v1/users/{}/roles",
                target["id"].as_str().unwrap()
            )))
            .bearer_auth(token)
            .json(&json!({ "role": role, "unit_id": unit }))
            .send()
    };
    assert_eq!(
        grant("dispatcher").await.unwrap().status().as_u16(),
        201,
        "fresh from login"
    );
    // An hour later…
    let db = app.db.connect().await;
    let an_hour_ago = api::clock::now() - std::time::Duration::from_secs(3600);
    api::on_db!(&db, p => sqlx::query("UPDATE sessions SET auth_time = $1").bind(an_hour_ago).execute(p).await.map(|_| ())).unwrap();
    let body = problem(grant("unit_admin").await.unwrap(), 401, "step_up_required").await;
    assert!(body["detail"].as_str().unwrap().contains("10 分钟"));
    let step_up = app
        .client
        .post(app.url("/auth/step-up"))
        .bearer_auth(token)
        .json(&json!({ "totp_code": demo_totp_at(tokens["totp_step"].as_i64().unwrap() + 1) }))
        .send()
        .await
        .unwrap();
    assert_eq!(step_up.status().as_u16(), 204);
    assert_eq!(grant("unit_admin").await.unwrap().status().as_u16(), 201);
}
