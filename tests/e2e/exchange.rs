//! Work exchange between units (FW-04): a draft is saved, edited, given a
//! file and sent to a unit and a named person; they are told, read it (the
//! sender's unit sees who has), reply on the phone (the sender is told);
//! a replied note cannot be recalled; a recalled one shows only that;
//! outsiders find nothing; bad input changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{As, TestApp, ok, problem, spawn_app};
use crate::seals::user_id;

const SENDER: &str = "xh_fz";
const SENDER_PHONE: &str = "19900000027";
const GHZY: &str = "ghzy_fz";
const GHZY_PHONE: &str = "19900000026";
const NAMED: &str = "pd_handler";

async fn draft(app: &TestApp, subject: &str, units: Value, people: Value) -> Value {
    let body = json!({ "subject": subject, "body": "请于本周内提供贵单位相关规范性文件的制定依据。", "units": units, "people": people });
    As(app, SENDER)
        .expect(Method::POST, "/api/v1/legal/notes", None, body, 201)
        .await
}

async fn post(app: &TestApp, user: &str, path: &str, body: Value, status: u16) -> Value {
    As(app, user)
        .expect(Method::POST, path, None, body, status)
        .await
}

#[tokio::test]
async fn a_note_is_drafted_sent_read_and_replied_to_with_a_full_trace() {
    let app = spawn_app().await;
    let ghzy = app.unit_id("SH-GHZY").await;
    let named = user_id(&app, NAMED).await;
    // Bad recipients, named; nothing saved.
    let bad = json!({ "subject": "s", "body": "b", "units": ["01NOUNIT"], "people": [named, "01NOPERSON"] });
    let p = As(&app, SENDER)
        .refused(
            Method::POST,
            "/api/v1/legal/notes",
            None,
            bad,
            422,
            "invalid_fields",
        )
        .await;
    assert_eq!(
        crate::common::pluck(&p["errors"], "field"),
        ["units[0]", "people[1]"]
    );
    As(&app, SENDER)
        .refused(
            Method::POST,
            "/api/v1/legal/notes",
            None,
            json!({ "subject": "s", "body": "b" }),
            422,
            "invalid_field",
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM exchange_notes").await, 0);

    let d = draft(&app, "关于提供制定依据的函", json!([ghzy]), json!([named])).await;
    let id = d["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/legal/notes/{id}");
    assert_eq!(d["status"], "draft");
    app.get_json(NAMED, &path, 404).await;
    app.get_json("xh_fz_lead", &path, 404).await;
    let edited = json!({ "subject": "关于提供规范性文件制定依据的函", "body": "请于本周内提供。", "units": [ghzy], "people": [named] });
    As(&app, SENDER)
        .expect(Method::PUT, &path, None, edited, 200)
        .await;
    let file = ok(
        app.post_raw(
            SENDER,
            &format!("{path}/files?name=清单.pdf"),
            "application/pdf",
            b"%PDF-1.4 list".to_vec(),
        )
        .await,
        201,
    )
    .await;
    problem(
        app.post_raw(
            SENDER,
            &format!("{path}/files?name=x.exe"),
            "application/x-msdownload",
            b"MZ".to_vec(),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;

    let sent = post(&app, SENDER, &format!("{path}/send"), json!({}), 200).await;
    assert_eq!(sent["status"], "sent");
    let people = sent["deliveries"].as_array().unwrap().len();
    assert!(people >= 2, "{sent}");
    post(&app, SENDER, &format!("{path}/send"), json!({}), 409).await;
    app.wait_for_sms_with(GHZY_PHONE, "关于提供规范性文件制定依据")
        .await;

    // The unit's officer reads it; the sender's unit sees who has.
    let inbox = app.get_json(GHZY, "/api/v1/legal/notes/inbox", 200).await;
    assert_eq!(inbox["unread"], 1);
    let seen = app.get_json(GHZY, &path, 200).await;
    assert_eq!(
        (
            seen["subject"].as_str(),
            seen["history"].as_array().unwrap().len()
        ),
        (Some("关于提供规范性文件制定依据的函"), 0)
    );
    assert_eq!(
        app.get_json(GHZY, "/api/v1/legal/notes/inbox", 200).await["unread"],
        0
    );
    let bytes = app
        .get_as(
            Some(GHZY),
            &format!("{path}/files/{}", file["id"].as_str().unwrap()),
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), b"%PDF-1.4 list");
    let colleague = app.get_json("xh_fz_lead", &path, 200).await;
    let read: Vec<bool> = colleague["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| !d["read_at"].is_null())
        .collect();
    assert_eq!(read.iter().filter(|r| **r).count(), 1, "{colleague}");
    app.get_json("pd_admin", &path, 404).await;
    let sent_list = app
        .get_json("xh_fz_lead", "/api/v1/legal/notes/sent", 200)
        .await;
    assert_eq!(
        (
            sent_list[0]["read"].as_i64(),
            sent_list[0]["recipients"].as_i64()
        ),
        (Some(1), Some(people as i64))
    );

    // A reply on the phone; the sender is told; now it cannot be recalled.
    let m = app.get_json(NAMED, "/m/v1/legal/notes", 200).await;
    assert_eq!(m["unread"], 1);
    let replied = post(
        &app,
        NAMED,
        &format!("/m/v1/legal/notes/{id}/replies"),
        json!({ "body": "已收到，周五前报送。" }),
        201,
    )
    .await;
    let first = replied["replies"][0]["id"].as_str().unwrap().to_owned();
    post(
        &app,
        SENDER,
        &format!("{path}/replies"),
        json!({ "body": "好的。", "parent_id": first }),
        201,
    )
    .await;
    post(
        &app,
        SENDER,
        &format!("{path}/replies"),
        json!({ "body": "x", "parent_id": "01NOREPLY" }),
        422,
    )
    .await;
    app.wait_for_sms_with(SENDER_PHONE, "有新的回复").await;
    let r = As(&app, SENDER)
        .refused(
            Method::POST,
            &format!("{path}/recall"),
            None,
            json!({}),
            409,
            "already_replied",
        )
        .await;
    assert!(r["detail"].as_str().unwrap().contains("回复"));
    let trace = app.get_json(SENDER, &path, 200).await;
    let actions: Vec<&str> = trace["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["send", "read", "read", "reply", "reply"]);
    assert_eq!(trace["replies"][1]["parent_id"], first.as_str());
    assert_eq!(app.audited("legal.exchange.send").await, 1);
    assert_eq!(app.audited("legal.exchange.reply").await, 2);
}

#[tokio::test]
async fn a_recalled_note_shows_only_that_it_was_recalled() {
    let app = spawn_app().await;
    let named = user_id(&app, NAMED).await;
    let d = draft(
        &app,
        "关于召开清理工作推进会的通知",
        json!([]),
        json!([named]),
    )
    .await;
    let path = format!("/api/v1/legal/notes/{}", d["id"].as_str().unwrap());
    let file = ok(
        app.post_raw(
            SENDER,
            &format!("{path}/files?name=议程.pdf"),
            "application/pdf",
            b"%PDF-1.4 a".to_vec(),
        )
        .await,
        201,
    )
    .await;
    post(&app, SENDER, &format!("{path}/send"), json!({}), 200).await;
    post(&app, NAMED, &format!("{path}/recall"), json!({}), 403).await;
    let r = post(&app, SENDER, &format!("{path}/recall"), json!({}), 200).await;
    assert_eq!(r["status"], "recalled");
    let seen = app.get_json(NAMED, &path, 200).await;
    assert_eq!(
        (
            seen["status"].as_str(),
            seen["subject"].clone(),
            seen["body"].clone()
        ),
        (Some("recalled"), Value::Null, Value::Null)
    );
    assert_eq!(seen["files"], json!([]));
    let inbox = app.get_json(NAMED, "/api/v1/legal/notes/inbox", 200).await;
    assert_eq!(
        (
            inbox["unread"].as_i64(),
            inbox["items"][0]["subject"].clone()
        ),
        (Some(0), Value::Null)
    );
    As(&app, NAMED)
        .refused(
            Method::POST,
            &format!("{path}/replies"),
            None,
            json!({ "body": "?" }),
            409,
            "note_recalled",
        )
        .await;
    app.get_json(
        NAMED,
        &format!("{path}/files/{}", file["id"].as_str().unwrap()),
        404,
    )
    .await;
    post(&app, SENDER, &format!("{path}/recall"), json!({}), 409).await;
    // A draft is deleted by its sender only.
    let other = draft(&app, "草稿", json!([]), json!([named])).await;
    let other_path = format!("/api/v1/legal/notes/{}", other["id"].as_str().unwrap());
    let resp = As(&app, SENDER)
        .send(Method::DELETE, &other_path, None, json!({}))
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    app.get_json(SENDER, &other_path, 404).await;
    assert_eq!(
        app.audited_with("legal.exchange.recall", Some("success"))
            .await,
        1
    );
}
