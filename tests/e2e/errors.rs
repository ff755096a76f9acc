//! RFC 9457 problem answers: shape, language, and no leaked internals.

use crate::common::{problem, spawn_app};

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let body = problem(
        app.get_as(Some("sysadmin"), "/api/v1/nothing-here").await,
        404,
        "no_route",
    )
    .await;
    assert_eq!(body["title"], "接口不存在");
    let resp = app.client.delete(app.url("/healthz")).send().await.unwrap();
    problem(resp, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn titles_are_chinese_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let body = problem(resp, 401, "unauthenticated").await;
    assert_eq!(body["title"], "Not authenticated");
    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    let body = problem(resp, 401, "unauthenticated").await;
    assert_eq!(body["title"], "未登录或登录已失效");
}

#[tokio::test]
async fn a_server_error_shows_no_internals() {
    let app = spawn_app().await;
    // Break the schema under the running server, as a bad deploy would.
    let db = app.db.connect().await;
    api::on_db!(&db, p => sqlx::query("ALTER TABLE users RENAME COLUMN phone_cipher TO phone_gone")
        .execute(p).await.map(|_| ()))
    .unwrap();
    let resp = app.get_as(Some("sysadmin"), "/api/v1/me").await;
    let body = problem(resp, 500, "internal").await;
    let text = body.to_string();
    for secret in ["phone_cipher", "column", "sqlx", "SELECT", "users"] {
        assert!(!text.contains(secret), "500 body leaks {secret}: {text}");
    }
    assert_eq!(body["title"], "服务器内部错误");
    // The cause is in the server's log, with the same request id.
    let id = body["request_id"].as_str().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        app.logs()
            .iter()
            .any(|l| l.contains("phone_cipher") && l.contains(id) && l.contains("ERROR"))
    );
}
