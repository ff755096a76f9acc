//! Org and user sync with the unified office platform (GK-01): signed
//! pushes, pulls from the feed, idempotency, versions, immediate effects.

use serde_json::{Value, json};

use crate::common::{TestApp, problem, spawn_app};

const PUSH: &str = "/api/v1/sync/org-changes";

/// Has the platform stand-in sign and push `changes`; answers our answer.
async fn push(app: &TestApp, changes: Value) -> (u16, Value) {
    let resp = app
        .post_json(
            "/stand-in/unified-platform/org/push",
            json!({ "changes": changes }),
        )
        .await;
    let body: Value = resp.json().await.unwrap();
    (
        body["rp_status"].as_u64().unwrap() as u16,
        body["rp_body"].clone(),
    )
}

fn results(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap().to_owned())
        .collect()
}

fn new_unit(id: &str, version: i64) -> Value {
    json!({ "op": "upsert_unit", "change_id": id, "version": version,
            "unit": { "code": "310104-SFJ", "parent_code": "310104", "name": "徐汇区司法局", "kind": "district_bureau", "sort_order": 20 } })
}

fn user(id: &str, version: i64, unit: &str, status: &str) -> Value {
    json!({ "op": "upsert_user", "change_id": id, "version": version,
            "user": { "platform_id": "up-sfj_wang", "login_name": "sfj_wang", "name": "王法", "unit_code": unit,
                      "mobile": "19900009001", "status": status, "roles": [{ "role": "handler", "unit_code": unit }] } })
}

#[tokio::test]
async fn a_pushed_batch_creates_units_and_users_once() {
    let app = spawn_app().await;
    let batch = json!([new_unit("c1", 100), user("c2", 100, "310104-SFJ", "active")]);
    let (status, body) = push(&app, batch.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(results(&body), ["applied", "applied"]);
    let me = app.get_json("sfj_wang", "/api/v1/me", 200).await;
    assert_eq!(me["unit"]["name"], "徐汇区司法局");
    assert_eq!(me["roles"][0]["role"], "handler");
    assert_eq!(me["phone_masked"], "199****9001");
    let xuhui = app.unit_id("310104").await;
    let children = app
        .get_json(
            "xh_dispatcher",
            &format!("/api/v1/org/units?parent_id={xuhui}&limit=200"),
            200,
        )
        .await;
    assert!(
        children["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["name"] == "徐汇区司法局")
    );

    let counts = "SELECT (SELECT COUNT(*) FROM org_units) * 1000 + (SELECT COUNT(*) FROM users)";
    let before = app.count(counts).await;
    let (_, again) = push(&app, batch).await;
    assert_eq!(results(&again), ["duplicate", "duplicate"]);
    assert_eq!(app.count(counts).await, before);
    assert_eq!(app.audited_with("org.sync", Some("success")).await, 2);
}

#[tokio::test]
async fn an_older_version_never_overwrites_a_newer_one() {
    let app = spawn_app().await;
    push(&app, json!([new_unit("c1", 100)])).await;
    let (_, body) = push(
        &app,
        json!([
            user("c3", 500, "310104", "active"),
            user("c2", 300, "310104-SFJ", "active")
        ]),
    )
    .await;
    assert_eq!(results(&body), ["applied", "stale"]);
    let me = app.get_json("sfj_wang", "/api/v1/me", 200).await;
    assert_eq!(me["unit"]["name"], "上海市徐汇区人民政府");
}

#[tokio::test]
async fn a_moved_user_sees_their_new_scope_on_the_next_request() {
    let app = spawn_app().await;
    let code = app
        .post_json(
            "/stand-in/suishenban/auth-codes",
            json!({ "user": "xh_handler" }),
        )
        .await;
    let code: Value = code.json().await.unwrap();
    let tokens: Value = app
        .post_json(
            "/m/v1/session",
            json!({ "auth_code": code["auth_code"], "device_id": "d" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    let pudong_office = app.unit_id("310115-BGS").await;
    let path = format!("/api/v1/org/units/{pudong_office}");
    problem(app.get_bearer(token, &path).await, 404, "not_found").await;

    let moved = json!([{ "op": "upsert_user", "change_id": "m1", "version": 10,
        "user": { "platform_id": "up-xh_handler", "login_name": "xh_handler", "name": "何芳", "unit_code": "310115-BGS",
                  "mobile": null, "status": "active", "roles": [{ "role": "handler", "unit_code": "310115-BGS" }] } }]);
    let (status, body) = push(&app, moved).await;
    assert_eq!((status, results(&body)), (200, vec!["applied".to_owned()]));
    assert_eq!(app.get_bearer(token, &path).await.status().as_u16(), 200);
    let old = app.unit_id("310104-BGS").await;
    problem(
        app.get_bearer(token, &format!("/api/v1/org/units/{old}"))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_disabled_or_removed_user_is_signed_out_at_once() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for who in ["xjh_handler", "pd_dispatcher"] {
        let code: Value = app
            .post_json("/stand-in/suishenban/auth-codes", json!({ "user": who }))
            .await
            .json()
            .await
            .unwrap();
        let t: Value = app
            .post_json(
                "/m/v1/session",
                json!({ "auth_code": code["auth_code"], "device_id": "d" }),
            )
            .await
            .json()
            .await
            .unwrap();
        tokens.push(t["access_token"].as_str().unwrap().to_owned());
    }
    let batch = json!([
        { "op": "upsert_user", "change_id": "d1", "version": 10,
          "user": { "platform_id": "up-xjh_handler", "login_name": "xjh_handler", "name": "林涛", "unit_code": "310104-XJH",
                    "mobile": null, "status": "disabled", "roles": [] } },
        { "op": "remove_user", "change_id": "d2", "version": 10, "platform_id": "up-pd_dispatcher" },
    ]);
    let (_, body) = push(&app, batch).await;
    assert_eq!(results(&body), ["applied", "applied"]);
    for token in &tokens {
        problem(
            app.get_bearer(token, "/m/v1/me").await,
            401,
            "session_ended",
        )
        .await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE end_reason IN ('disabled_by_sync', 'removed_by_sync')").await, 2);
}

#[tokio::test]
async fn units_move_with_their_subtree_and_never_under_themselves() {
    let app = spawn_app().await;
    let street = json!({ "op": "upsert_unit", "change_id": "u1", "version": 10,
        "unit": { "code": "310104-XJH", "parent_code": "310115", "name": "徐家汇街道办事处", "kind": "street" } });
    let cycle = json!({ "op": "upsert_unit", "change_id": "u2", "version": 10,
        "unit": { "code": "310104", "parent_code": "310104-HJZ", "name": "上海市徐汇区人民政府", "kind": "district_government" } });
    let (_, body) = push(&app, json!([street, cycle])).await;
    assert_eq!(results(&body), ["applied", "rejected"]);
    assert!(
        body["results"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("下级")
    );
    let id = app.unit_id("310104-XJH").await;
    problem(
        app.get_as(Some("xh_dispatcher"), &format!("/api/v1/org/units/{id}"))
            .await,
        404,
        "not_found",
    )
    .await;
    let detail = app
        .get_json("pd_dispatcher", &format!("/api/v1/org/units/{id}"), 200)
        .await;
    assert_eq!(detail["ancestors"][0]["name"], "上海市浦东新区人民政府");
}

#[tokio::test]
async fn bad_records_are_rejected_one_by_one() {
    let app = spawn_app().await;
    let admin_role = json!({ "op": "upsert_user", "change_id": "r3", "version": 1,
        "user": { "platform_id": "up-x", "login_name": "x", "name": "某", "unit_code": "SH", "mobile": null,
                  "status": "active", "roles": [{ "role": "system_admin", "unit_code": "SH" }] } });
    let bad_phone = json!({ "op": "upsert_user", "change_id": "r4", "version": 1,
        "user": { "platform_id": "up-y", "login_name": "y", "name": "某", "unit_code": "SH", "mobile": "12345",
                  "status": "active", "roles": [] } });
    let taken_login = json!({ "op": "upsert_user", "change_id": "r5", "version": 1,
        "user": { "platform_id": "up-z", "login_name": "sysadmin", "name": "某", "unit_code": "SH", "mobile": null,
                  "status": "active", "roles": [] } });
    let batch = json!([
        user("r1", 1, "NO-SUCH-UNIT", "active"),
        { "op": "remove_unit", "change_id": "r2", "version": 1, "code": "310104" },
        admin_role, bad_phone, taken_login,
        new_unit("r6", 1),
    ]);
    let (status, body) = push(&app, batch).await;
    assert_eq!(status, 200);
    assert_eq!(
        results(&body),
        [
            "rejected", "rejected", "rejected", "rejected", "rejected", "applied"
        ]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM org_units WHERE code = '310104'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE platform_id IN ('up-x', 'up-y', 'up-z', 'up-sfj_wang')").await, 0);
}

#[tokio::test]
async fn unsigned_mis_signed_stale_and_malformed_pushes_change_nothing() {
    let app = spawn_app().await;
    let body = json!({ "changes": [new_unit("s1", 1)] }).to_string();
    let send = |ts: Option<String>, sig: Option<String>, body: String| {
        let mut req = app
            .client
            .post(app.url(PUSH))
            .header("content-type", "application/json")
            .body(body);
        if let Some(ts) = ts {
            req = req.header("x-sync-timestamp", ts);
        }
        if let Some(sig) = sig {
            req = req.header("x-sync-signature", sig);
        }
        req.send()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let secret = sso::sync::standin::DEMO_SECRET.as_bytes();
    problem(
        send(None, None, body.clone()).await.unwrap(),
        401,
        "signature_missing",
    )
    .await;
    let wrong = sso::sync::signature::sign(b"not the secret", now, body.as_bytes());
    problem(
        send(Some(now.to_string()), Some(wrong), body.clone())
            .await
            .unwrap(),
        401,
        "invalid_signature",
    )
    .await;
    let other_body = sso::sync::signature::sign(secret, now, b"{\"changes\":[]}");
    problem(
        send(Some(now.to_string()), Some(other_body), body.clone())
            .await
            .unwrap(),
        401,
        "invalid_signature",
    )
    .await;
    let old = now - 3600;
    let stale = sso::sync::signature::sign(secret, old, body.as_bytes());
    problem(
        send(Some(old.to_string()), Some(stale), body.clone())
            .await
            .unwrap(),
        401,
        "signature_stale",
    )
    .await;
    assert_eq!(app.audited_with("org.sync", Some("denied")).await, 4);

    // Correctly signed but not a batch.
    for junk in [
        "{\"changes\": [{\"op\": \"drop_table\"}]}",
        "not json",
        "{}",
    ] {
        let resp = app
            .client
            .post(app.url("/stand-in/unified-platform/org/push"))
            .body(junk)
            .send()
            .await
            .unwrap();
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["rp_status"], 400, "{junk}: {answer}");
        assert_eq!(answer["rp_body"]["code"], "malformed_body");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM org_units WHERE code = '310104-SFJ'")
            .await,
        0
    );
}

#[tokio::test]
async fn pulling_the_feed_resumes_where_it_stopped() {
    let app = spawn_app().await;
    let changes = json!([new_unit("p1", 1), user("p2", 1, "310104-SFJ", "active")]);
    let resp = app
        .post_json(
            "/stand-in/unified-platform/org/publish",
            json!({ "changes": changes }),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let env = |secret: &'static str| {
        vec![
            (
                "GOV_ORG_SYNC__BASE_URL",
                app.url("/stand-in/unified-platform"),
            ),
            (
                "GOV_ORG_SYNC__APP_KEY",
                sso::sync::standin::DEMO_APP_KEY.to_owned(),
            ),
            ("GOV_ORG_SYNC__SECRET", secret.to_owned()),
            ("GOV_ORG_SYNC__PAGE_SIZE", "1".to_owned()),
        ]
    };
    let run = |args: &'static [&'static str], env: Vec<(&'static str, String)>| {
        let db = app.db.url.clone();
        async move {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            crate::common::run_cli(&db, args, &env).await
        }
    };
    let out = run(&["sync", "org"], env(sso::sync::standin::DEMO_SECRET)).await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("2 applied") && text.contains("feed position 2"),
        "{text}"
    );
    assert_eq!(
        app.get_json("sfj_wang", "/api/v1/me", 200).await["unit"]["name"],
        "徐汇区司法局"
    );

    let out = run(&["sync", "org"], env(sso::sync::standin::DEMO_SECRET)).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 applied"));
    let out = run(
        &["sync", "org", "--full"],
        env(sso::sync::standin::DEMO_SECRET),
    )
    .await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 duplicate"));
    let out = run(&["sync", "org"], env("a wrong secret")).await;
    assert!(!out.status.success(), "the feed refuses a wrong signature");
}

#[tokio::test]
async fn the_scheduled_pull_picks_up_published_changes() {
    let db = crate::common::TestDb::new().await;
    let env = vec![("GOV_ORG_SYNC__INTERVAL_SECS", "1".to_owned())];
    let app = crate::common::spawn_with(db, crate::common::Options { demo: true, env }).await;
    let changes = json!([new_unit("t1", 1), user("t2", 1, "310104-SFJ", "active")]);
    app.post_json(
        "/stand-in/unified-platform/org/publish",
        json!({ "changes": changes }),
    )
    .await;
    for _ in 0..50 {
        if app
            .get_as(Some("sfj_wang"), "/api/v1/me")
            .await
            .status()
            .as_u16()
            == 200
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the scheduled pull did not apply the published changes within 5 s");
}
