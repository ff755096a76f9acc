//! Granting roles: security administrators only, and 三权分立 (SEC-02).

use serde_json::json;

use crate::common::{TestApp, problem, spawn_app};

async fn user_id(app: &TestApp, login: &str) -> String {
    app.get_json(login, "/api/v1/me", 200).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn grant(
    app: &TestApp,
    as_user: &str,
    user: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.post_raw(
        as_user,
        &format!("/api/v1/users/{user}/roles"),
        "application/json",
        body.to_string(),
    )
    .await
}

#[tokio::test]
async fn security_admin_grants_a_role_and_it_is_audited() {
    let app = spawn_app().await;
    let target = user_id(&app, "xjh_handler").await;
    let unit = app.unit_id("310104-XJH").await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;

    let resp = grant(
        &app,
        "secadmin",
        &target,
        json!({ "role": "dispatcher", "unit_id": unit }),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 201);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["role"], "dispatcher");
    assert_eq!(body["role_label"], "分办人");

    let me = app.get_json("xjh_handler", "/m/v1/me", 200).await;
    assert_eq!(me["roles"], json!(["dispatcher", "handler"]));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log").await,
        audit_before + 1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'role.grant' AND actor_label = 'secadmin'").await, 1);

    // The same grant again is a conflict, and changes nothing.
    let resp = grant(
        &app,
        "secadmin",
        &target,
        json!({ "role": "dispatcher", "unit_id": unit }),
    )
    .await;
    problem(resp, 409, "role_already_granted").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log").await,
        audit_before + 1
    );
}

#[tokio::test]
async fn the_three_administrator_roles_are_mutually_exclusive() {
    let app = spawn_app().await;
    let sysadmin = user_id(&app, "sysadmin").await;
    let root = app.unit_id("SH").await;
    let grants_before = app.count("SELECT COUNT(*) FROM role_assignments").await;
    for role in ["security_admin", "audit_admin"] {
        let resp = grant(
            &app,
            "secadmin",
            &sysadmin,
            json!({ "role": role, "unit_id": root }),
        )
        .await;
        let body = problem(resp, 409, "separated_admin_roles").await;
        assert!(
            body["detail"].as_str().unwrap().contains("系统管理员"),
            "{body}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM role_assignments").await,
        grants_before
    );
    // Non-administrator roles can still be added to an administrator.
    let resp = grant(
        &app,
        "secadmin",
        &sysadmin,
        json!({ "role": "handler", "unit_id": root }),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 201);
}

#[tokio::test]
async fn the_database_itself_refuses_a_second_administrator_role() {
    // Even a write that skips the service's check (a concurrent request, a
    // hand-written script) is stopped by the unique index.
    let app = spawn_app().await;
    let sysadmin = user_id(&app, "sysadmin").await;
    let db = app.db.connect().await;
    let err = api::on_db!(&db, p => sqlx::query(
        "INSERT INTO role_assignments (id, user_id, role, unit_id, granted_at) VALUES ('x', $1, 'audit_admin', NULL, $2)")
        .bind(&sysadmin).bind(api::clock::now()).execute(p).await.map(|_| ()))
    .unwrap_err();
    assert!(api::db::constraint::violated(&err).is_some(), "{err}");
}

#[tokio::test]
async fn only_security_admins_grant_and_denials_are_audited() {
    let app = spawn_app().await;
    let target = user_id(&app, "xjh_handler").await;
    let unit = app.unit_id("310104-XJH").await;
    for who in ["sysadmin", "auditadmin", "xh_admin"] {
        let resp = grant(
            &app,
            who,
            &target,
            json!({ "role": "unit_admin", "unit_id": unit }),
        )
        .await;
        problem(resp, 403, "forbidden").await;
    }
    assert_eq!(app.audited_with("role.grant", Some("denied")).await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM role_assignments WHERE role = 'unit_admin' AND unit_id IS NOT NULL AND user_id IN (SELECT id FROM users WHERE login_name = 'xjh_handler')").await, 0);
}

#[tokio::test]
async fn bad_grant_requests_name_the_problem_and_change_nothing() {
    let app = spawn_app().await;
    let target = user_id(&app, "xjh_handler").await;
    let unit = app.unit_id("310104-XJH").await;
    let path = format!("/api/v1/users/{target}/roles");
    let grants = "SELECT COUNT(*) FROM role_assignments";
    let audits = "SELECT COUNT(*) FROM audit_log";
    let (g0, a0) = (app.count(grants).await, app.count(audits).await);

    let cases: Vec<(&str, String, u16, &str, &str)> = vec![
        (
            "application/json",
            "{\"role\": ".into(),
            400,
            "malformed_body",
            "EOF",
        ),
        (
            "application/json",
            "[1,2]".into(),
            400,
            "malformed_body",
            "expected",
        ),
        (
            "application/json",
            json!({ "unit_id": unit }).to_string(),
            400,
            "malformed_body",
            "missing field `role`",
        ),
        (
            "application/json",
            json!({ "role": 7, "unit_id": unit }).to_string(),
            400,
            "malformed_body",
            "role",
        ),
        (
            "application/json",
            json!({ "role": "emperor", "unit_id": unit }).to_string(),
            400,
            "malformed_body",
            "unknown variant `emperor`",
        ),
        (
            "application/json",
            json!({ "role": "handler", "unit_id": unit, "extra": 1 }).to_string(),
            400,
            "malformed_body",
            "unknown field `extra`",
        ),
        (
            "application/json",
            json!({ "role": "handler" }).to_string(),
            422,
            "invalid_field",
            "unit_id",
        ),
        (
            "application/json",
            json!({ "role": "applicant", "unit_id": unit }).to_string(),
            422,
            "invalid_field",
            "unit_id",
        ),
        (
            "application/json",
            json!({ "role": "handler", "unit_id": "01JNOSUCHUNIT0000000000000" }).to_string(),
            422,
            "invalid_field",
            "unit_id",
        ),
        (
            "text/plain",
            json!({ "role": "handler", "unit_id": unit }).to_string(),
            415,
            "unsupported_media_type",
            "",
        ),
    ];
    for (ct, body, status, code, mentions) in cases {
        let resp = app.post_raw("secadmin", &path, ct, body.clone()).await;
        let problem = problem(resp, status, code).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(mentions),
            "{}: {detail}",
            &body[..body.len().min(60)]
        );
    }
    let resp = app
        .post_raw(
            "secadmin",
            "/api/v1/users/01JNOSUCHUSER0000000000000/roles",
            "application/json",
            json!({ "role": "handler", "unit_id": unit }).to_string(),
        )
        .await;
    problem(resp, 404, "not_found").await;
    // Oversized: the server answers before reading it all and closes the
    // connection, so this goes on a client of its own.
    let huge = format!(
        "{{\"role\":\"handler\",\"unit_id\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let resp = reqwest::Client::new()
        .post(app.url(&path))
        .header("x-test-user", "secadmin")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    problem(resp, 413, "payload_too_large").await;
    assert_eq!((app.count(grants).await, app.count(audits).await), (g0, a0));
}
