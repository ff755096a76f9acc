//! Application warnings (GK-16 to GK-19): categories and rules managed by
//! the General Office, requests counted at registration across agencies
//! and phones, the hint on the case screen, the warning told to every
//! agency concerned, replies, versions, and bad input.

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::file_case;
use crate::common::{As, Options, TestApp, TestDb, spawn_app, spawn_with};

const ADMIN: &str = "gk_admin";
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

pub async fn category(app: &TestApp, name: &str) -> String {
    let c = As(app, ADMIN)
        .expect(
            POST,
            "/api/v1/warning-categories",
            None,
            json!({ "name": name, "business_type": "申请频次" }),
            201,
        )
        .await;
    c["id"].as_str().unwrap().to_owned()
}

pub fn monthly(category: &str, threshold: u32) -> Value {
    json!({ "category_id": category, "name": "同一申请人本月申请过多", "measure": "requests", "scope": "city",
        "window": "calendar_month", "threshold": threshold, "hint_threshold": threshold - 1, "severity": "medium" })
}

pub async fn rule(app: &TestApp, spec: Value) -> String {
    let r = As(app, ADMIN)
        .expect(POST, "/api/v1/warning-rules", None, spec, 201)
        .await;
    r["id"].as_str().unwrap().to_owned()
}

/// The warnings `user` finds with the list's `query` (`?…` or empty).
pub async fn items(app: &TestApp, user: &str, query: &str) -> Vec<Value> {
    let page = app
        .get_json(user, &format!("/api/v1/warnings{query}"), 200)
        .await;
    page["items"]
        .as_array()
        .expect("a page of warnings")
        .clone()
}

/// The same applicant (one ID number) files to three agencies from three
/// phones.
async fn three_requests(app: &TestApp) -> Vec<String> {
    let mut cases = Vec::new();
    for (code, phone) in [
        ("310104", "19912380001"),
        ("310115", "19912380002"),
        ("SH-GHZY", "19912380003"),
    ] {
        cases.push(file_case(app, code, phone).await);
    }
    cases
}

#[tokio::test]
async fn requests_across_agencies_raise_one_warning_told_to_each_agency_which_replies() {
    let app = spawn_app().await;
    let cat = category(&app, "申请频次").await;
    let rule_id = rule(&app, monthly(&cat, 3)).await;
    let cases = three_requests(&app).await;
    // The second request: a hint for the registering unit, nothing else.
    let second = app
        .get_json(
            "pd_dispatcher",
            &format!("/api/v1/disclosure/cases/{}", cases[1]),
            200,
        )
        .await;
    let hint = second["warning_hint"].as_str().unwrap_or_default();
    assert!(
        hint.starts_with("提示") && hint.contains("2 件申请"),
        "{second}"
    );
    let third = app
        .get_json(
            "ghzy_handler",
            &format!("/api/v1/disclosure/cases/{}", cases[2]),
            200,
        )
        .await;
    assert!(
        third["warning_hint"]
            .as_str()
            .unwrap()
            .contains("已触发预警"),
        "{third}"
    );

    let all = items(&app, ADMIN, "").await;
    assert_eq!(all.len(), 1, "{all:?}");
    let w = &all[0];
    assert_eq!(
        (
            w["count"].as_i64(),
            w["rule_version"].as_i64(),
            w["rule_id"].as_str()
        ),
        (Some(3), Some(1), Some(rule_id.as_str()))
    );
    assert_eq!(w["applicant"], "吴*（310***********0039）");
    assert_eq!(w["agencies"].as_array().unwrap().len(), 3);
    let id = w["id"].as_str().unwrap().to_owned();
    // Each agency's dispatchers and handlers are told, and get a to-do item.
    assert!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'application_warning'")
            .await
            >= 3
    );
    // An agency sees its warnings; a unit not concerned sees nothing.
    assert_eq!(items(&app, "pd_dispatcher", "").await.len(), 1);
    assert!(items(&app, "xjh_handler", "").await.is_empty());
    app.get_json("xjh_handler", &format!("/api/v1/warnings/{id}"), 404)
        .await;

    let path = format!("/api/v1/warnings/{id}/reply");
    let reply = json!({ "reply": "已电话联系申请人，建议合并申请" });
    As(&app, "xjh_handler")
        .refused(POST, &path, None, reply.clone(), 404, "not_found")
        .await;
    As(&app, "pd_dispatcher")
        .refused(
            POST,
            &path,
            None,
            json!({ "reply": " " }),
            422,
            "invalid_field",
        )
        .await;
    As(&app, "pd_dispatcher")
        .expect(POST, &path, None, reply.clone(), 200)
        .await;
    As(&app, "pd_dispatcher")
        .expect(POST, &path, None, reply.clone(), 200)
        .await;
    As(&app, "pd_dispatcher")
        .refused(
            POST,
            &path,
            None,
            json!({ "reply": "改口" }),
            409,
            "already_replied",
        )
        .await;
    assert_eq!(app.audited("warning.reply").await, 1);
    let seen = app
        .get_json(ADMIN, &format!("/api/v1/warnings/{id}"), 200)
        .await;
    let replied: Vec<&Value> = seen["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["reply"].is_string())
        .collect();
    assert_eq!(replied.len(), 1);
    assert_eq!(replied[0]["unit_name"], "上海市浦东新区人民政府");
    // The applicant sees nothing of it.
    let mine = app
        .count("SELECT COUNT(*) FROM warning_requests WHERE hint IS NOT NULL")
        .await;
    assert_eq!(mine, 2);

    // A new version does not rewrite the warning raised under the old one.
    let v2 = As(&app, ADMIN)
        .expect(
            PUT,
            &format!("/api/v1/warning-rules/{rule_id}"),
            None,
            monthly(&cat, 5),
            200,
        )
        .await;
    assert_eq!(
        (
            v2["version"].as_i64(),
            v2["history"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    let again = app
        .get_json(ADMIN, &format!("/api/v1/warnings/{id}"), 200)
        .await;
    assert_eq!(again["rule_version"], 1);
    assert_eq!(app.audited("warning.rule.change").await, 1);
}

#[tokio::test]
async fn bad_rules_and_categories_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let cat = category(&app, "重复申请").await;
    As(&app, ADMIN)
        .refused(
            POST,
            "/api/v1/warning-categories",
            None,
            json!({ "name": "重复申请", "business_type": "x" }),
            409,
            "category_exists",
        )
        .await;
    let mut bad = monthly(&cat, 3);
    bad["threshold"] = json!(0);
    bad["hint_threshold"] = json!(4);
    bad["window"] = json!("rolling_days");
    bad["window_days"] = json!(0);
    let p = As(&app, ADMIN)
        .refused(
            POST,
            "/api/v1/warning-rules",
            None,
            bad,
            422,
            "invalid_fields",
        )
        .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["threshold", "hint_threshold", "window_days"],
        "{p}"
    );
    let p = As(&app, ADMIN)
        .refused(
            POST,
            "/api/v1/warning-rules",
            None,
            monthly("01NOCATEGORY00000000000000", 3),
            422,
            "invalid_fields",
        )
        .await;
    assert_eq!(p["errors"][0]["field"], "category_id");
    let mut typo = monthly(&cat, 3);
    typo["threshhold"] = json!(3);
    As(&app, ADMIN)
        .refused(
            POST,
            "/api/v1/warning-rules",
            None,
            typo,
            400,
            "malformed_body",
        )
        .await;
    // Not the General Office's disclosure administrator.
    As(&app, "xh_dispatcher")
        .refused(
            POST,
            "/api/v1/warning-rules",
            None,
            monthly(&cat, 3),
            403,
            "forbidden",
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM warning_rules").await, 0);

    // A category with rules cannot go; disabled, its rules raise nothing.
    rule(&app, monthly(&cat, 2)).await;
    let cat_path = format!("/api/v1/warning-categories/{cat}");
    As(&app, ADMIN)
        .refused(DELETE, &cat_path, None, json!(null), 409, "category_in_use")
        .await;
    As(&app, ADMIN)
        .expect(PATCH, &cat_path, None, json!({ "enabled": false }), 200)
        .await;
    As(&app, ADMIN)
        .refused(
            POST,
            "/api/v1/warning-rules",
            None,
            monthly(&cat, 3),
            422,
            "invalid_fields",
        )
        .await;
    three_requests(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM warnings").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM warning_requests").await, 3);
    let empty = category(&app, "空类别").await;
    let resp = As(&app, ADMIN)
        .send(
            DELETE,
            &format!("/api/v1/warning-categories/{empty}"),
            None,
            json!(null),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 204);
}

#[tokio::test]
async fn a_rule_made_after_the_requests_finds_them_in_the_next_watch_round() {
    let env = vec![("GOV_DISCLOSURE__WATCH_INTERVAL_SECS", "1".to_owned())];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    three_requests(&app).await;
    let cat = category(&app, "多机关申请").await;
    let mut spec = monthly(&cat, 3);
    spec["measure"] = json!("same_text");
    spec["name"] = json!("同一内容向多个机关申请");
    rule(&app, spec).await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.count("SELECT COUNT(*) FROM warnings").await == 0 {
        assert!(
            std::time::Instant::now() < until,
            "the watch raised nothing"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let w = &items(&app, ADMIN, "").await[0];
    assert_eq!(
        (w["count"].as_i64(), w["agencies"].as_array().unwrap().len()),
        (Some(3), 3)
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM warnings").await,
        1,
        "counted once"
    );
}

/// The statistics' bucket of `key` in `breakdown` (`open.by_district`…).
fn bucket<'a>(stats: &'a Value, breakdown: &str, key: &str) -> &'a Value {
    let (part, by) = breakdown.split_once('.').unwrap();
    stats[part][by]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {breakdown}: {stats}"))
}

async fn statistics(app: &TestApp) -> Value {
    app.get_json(ADMIN, "/api/v1/warning-statistics", 200).await
}

/// The warnings behind a bucket: its link, followed.
async fn drilled(app: &TestApp, bucket: &Value) -> usize {
    let path = bucket["list"].as_str().unwrap();
    let query = path.strip_prefix("/api/v1/warnings").unwrap();
    items(app, ADMIN, query).await.len()
}

#[tokio::test]
async fn statistics_count_open_and_past_warnings_and_drill_down_to_them() {
    let app = spawn_app().await;
    let cat = category(&app, "申请频次").await;
    let rule_id = rule(&app, monthly(&cat, 3)).await;
    three_requests(&app).await;
    let (xuhui, pudong) = (app.unit_id("310104").await, app.unit_id("310115").await);
    let stats = statistics(&app).await;
    assert_eq!(stats["open"]["total"], 1, "{stats}");
    assert_eq!(bucket(&stats, "open.by_category", &cat)["count"], 1);
    // 徐汇 and 浦东 are districts; the planning bureau is city level.
    for key in ["city", xuhui.as_str(), pudong.as_str()] {
        let b = bucket(&stats, "open.by_district", key);
        assert_eq!((b["count"].as_i64(), drilled(&app, b).await), (Some(1), 1));
    }
    assert_eq!(stats["open"]["by_district"]["buckets"][0]["label"], "市级");
    let chart = &stats["history"]["by_month"]["chart"];
    assert_eq!(chart["labels"].as_array().unwrap().len(), 12, "{chart}");
    assert_eq!(chart["series"][0]["data"][11], 1);
    let by_rule = bucket(&stats, "history.by_rule", &rule_id);
    assert_eq!(by_rule["label"], "同一申请人本月申请过多");
    assert_eq!(drilled(&app, by_rule).await, 1);

    // 浦东 replies with a letter attached: its district is no longer open.
    let id = items(&app, ADMIN, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    reply_with_a_file(&app, &id).await;
    let stats = statistics(&app).await;
    assert!(
        stats["open"]["by_district"]["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["key"] != pudong.as_str()),
        "{stats}"
    );
    let open_pd = format!("?district={pudong}&open=true");
    assert!(items(&app, ADMIN, &open_pd).await.is_empty());
    let pd = bucket(&stats, "history.by_agency", &pudong);
    assert_eq!(
        (pd["count"].as_i64(), pd["answered"].as_i64()),
        (Some(1), Some(1))
    );
    // The others reply: nothing open, the month's warning answered.
    let reply = json!({ "reply": "已核实" });
    for user in ["xh_dispatcher", "ghzy_handler"] {
        As(&app, user)
            .expect(
                POST,
                &format!("/api/v1/warnings/{id}/reply"),
                None,
                reply.clone(),
                200,
            )
            .await;
    }
    let stats = statistics(&app).await;
    assert_eq!(stats["open"]["total"], 0);
    assert_eq!(
        stats["history"]["by_month"]["chart"]["series"][1]["data"][11],
        1
    );
    assert!(items(&app, ADMIN, "?open=true").await.is_empty());
    assert_eq!(items(&app, ADMIN, "?open=false").await.len(), 1);
    statistics_export_and_refusals(&app).await;
}

/// 浦东's dispatcher attaches a letter (after two refused files) and
/// replies; the reply's files are then frozen.
async fn reply_with_a_file(app: &TestApp, id: &str) {
    let path = format!("/api/v1/warnings/{id}/files?name=复函.pdf");
    let bad = app
        .post_raw("pd_dispatcher", &path, "text/plain", "hello")
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let lying = app
        .post_raw("pd_dispatcher", &path, "application/pdf", "MZ not a pdf")
        .await;
    assert_eq!(lying.status().as_u16(), 422);
    let none = app
        .post_raw("xjh_handler", &path, "application/pdf", "%PDF-1.4 x")
        .await;
    assert_eq!(none.status().as_u16(), 404);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM warning_reply_files").await,
        0
    );
    let pdf = b"%PDF-1.4 the letter".to_vec();
    let resp = app
        .post_raw("pd_dispatcher", &path, "application/pdf", pdf.clone())
        .await;
    let file: Value = crate::common::ok(resp, 201).await;
    let url = format!("/api/v1/warning-files/{}", file["id"].as_str().unwrap());
    let got = app.get_as(Some(ADMIN), &url).await;
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), pdf);
    assert_eq!(
        app.get_as(Some("xjh_handler"), &url)
            .await
            .status()
            .as_u16(),
        404
    );
    As(app, "pd_dispatcher")
        .expect(
            POST,
            &format!("/api/v1/warnings/{id}/reply"),
            None,
            json!({ "reply": "见复函" }),
            200,
        )
        .await;
    let late = app
        .post_raw("pd_dispatcher", &path, "application/pdf", "%PDF-1.4 y")
        .await;
    assert_eq!(late.status().as_u16(), 409);
    let w = app
        .get_json(ADMIN, &format!("/api/v1/warnings/{id}"), 200)
        .await;
    let pd = w["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["unit_name"] == "上海市浦东新区人民政府")
        .unwrap();
    assert_eq!(pd["files"][0]["file_name"], "复函.pdf", "{w}");
    assert_eq!(app.audited("warning.attach").await, 1);
}

async fn statistics_export_and_refusals(app: &TestApp) {
    let resp = app
        .get_as(
            Some(ADMIN),
            "/api/v1/warning-statistics/export?from=2026-01&to=2026-12",
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("历史预警").unwrap();
    let first = sheet
        .get_value((0, 0))
        .map(|v| v.to_string())
        .unwrap_or_default();
    assert_eq!(first, "统计期间：2026-01 至 2026-12");
    assert_eq!(app.audited("warning.statistics.export").await, 1);
    for (query, field) in [
        ("?from=2026-13", "from"),
        ("?from=2026-05&to=2026-04", "from"),
        ("?from=2020-01&to=2026-12", "from"),
        ("?to=26-01", "to"),
    ] {
        let resp = app
            .get_as(Some(ADMIN), &format!("/api/v1/warning-statistics{query}"))
            .await;
        assert_eq!(resp.status().as_u16(), 422, "{query}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    let not_a_district = app.unit_id("SH-GHZY").await;
    let resp = app
        .get_as(
            Some(ADMIN),
            &format!("/api/v1/warnings?district={not_a_district}"),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let agency = app
        .get_as(Some("pd_dispatcher"), "/api/v1/warning-statistics")
        .await;
    assert_eq!(agency.status().as_u16(), 403);
}
