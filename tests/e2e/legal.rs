//! Legal affairs, clean-up campaigns (FW-01): the three report lines end to
//! end (fill, the unit's check, the level above's return and accept, the
//! district's consolidation, the office's import), progress, the `.xlsx`
//! report, notices, the watch's reminders, and bad input that changes
//! nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{As, Options, TestApp, TestDb, kinds, problem, spawn_app, spawn_with};
use crate::forms::wait_for;

const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const OFFICE: &str = "fw_staff";
const XH_REPORTER: &str = "xh_fz";
const XH_REVIEWER: &str = "xh_fz_lead";
const XJH: &str = "xjh_fz";
const GHZY: &str = "ghzy_fz";
const XH_REPORTER_PHONE: &str = "19900000027";
const GHZY_PHONE: &str = "19900000026";

fn in_days(n: i64) -> String {
    api::calendar::ymd(crate::disclosure::shanghai_today() + time::Duration::days(n))
}

pub async fn campaign(app: &TestApp, title: &str, line: &str, deadline: &str) -> String {
    let body = json!({ "title": title, "scope": "2020年底前印发的规范性文件", "line": line, "deadline_on": deadline });
    let c = As(app, OFFICE)
        .expect(POST, "/api/v1/legal/cleanup/campaigns", None, body, 201)
        .await;
    assert_eq!(c["status"], "draft", "{c}");
    c["id"].as_str().unwrap().to_owned()
}

/// A departments' campaign distributed to 徐汇区: (campaign, its list).
pub async fn distributed_to_xuhui(app: &TestApp) -> (String, String) {
    let id = campaign(app, "矩阵测试清理", "departments", "2099-12-31").await;
    distribute(app, &id, json!({ "units": [app.unit_id("310104").await] })).await;
    let list = list_of(app, XH_REPORTER, &id, "310104", "own").await;
    (id, list)
}

/// Previews the distribution of `body`, then confirms it.
async fn distribute(app: &TestApp, id: &str, mut body: Value) -> Value {
    let path = format!("/api/v1/legal/cleanup/campaigns/{id}/distribution");
    let preview = As(app, OFFICE)
        .expect(POST, &path, None, body.clone(), 200)
        .await;
    assert_eq!(preview["distributed"], false);
    body["confirm"] = preview["token"].clone();
    As(app, OFFICE).expect(POST, &path, None, body, 200).await
}

/// The id of `unit`'s list of `kind` in the campaign, as `user` sees it.
async fn list_of(app: &TestApp, user: &str, campaign: &str, unit: &str, kind: &str) -> String {
    let unit = app.unit_id(unit).await;
    let c = app
        .get_json(
            user,
            &format!("/api/v1/legal/cleanup/campaigns/{campaign}"),
            200,
        )
        .await;
    let found = c["lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["unit_id"] == unit.as_str() && l["kind"] == kind);
    found.unwrap_or_else(|| panic!("{user} sees no list of {unit}: {c}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn doc(no: &str, title: &str, decision: Option<&str>) -> Value {
    let (reason, basis) = match decision {
        Some("keep") | None => ("", ""),
        _ => ("上位法已修改", "《中华人民共和国行政处罚法》"),
    };
    json!({ "doc_no": no, "title": title, "issued_on": "2019-06-01", "decision": decision,
            "reason": reason, "legal_basis": basis })
}

async fn save(
    app: &TestApp,
    user: &str,
    list: &str,
    revision: i64,
    docs: Value,
    status: u16,
) -> Value {
    let path = format!("/api/v1/legal/cleanup/lists/{list}/documents");
    let body = json!({ "revision": revision, "documents": docs });
    As(app, user).expect(PUT, &path, None, body, status).await
}

async fn step(
    app: &TestApp,
    user: &str,
    list: &str,
    step: &str,
    reason: Option<&str>,
) -> reqwest::Response {
    let path = format!("/api/v1/legal/cleanup/lists/{list}/steps");
    As(app, user)
        .send(POST, &path, None, json!({ "step": step, "reason": reason }))
        .await
}

async fn stepped(app: &TestApp, user: &str, list: &str, s: &str, reason: Option<&str>) -> Value {
    crate::common::ok(step(app, user, list, s, reason).await, 200).await
}

async fn list(app: &TestApp, user: &str, id: &str) -> Value {
    app.get_json(user, &format!("/api/v1/legal/cleanup/lists/{id}"), 200)
        .await
}

#[tokio::test]
async fn a_department_line_list_is_filled_checked_returned_and_accepted() {
    let app = spawn_app().await;
    // Only the office creates; a deadline must not be past.
    let body =
        json!({ "title": "t", "scope": "s", "line": "departments", "deadline_on": in_days(10) });
    As(&app, XH_REPORTER)
        .refused(
            POST,
            "/api/v1/legal/cleanup/campaigns",
            None,
            body,
            403,
            "forbidden",
        )
        .await;
    let past =
        json!({ "title": "t", "scope": "s", "line": "departments", "deadline_on": in_days(-1) });
    As(&app, OFFICE)
        .refused(
            POST,
            "/api/v1/legal/cleanup/campaigns",
            None,
            past,
            422,
            "invalid_field",
        )
        .await;
    let id = campaign(
        &app,
        "2026年规范性文件集中清理",
        "departments",
        &in_days(10),
    )
    .await;
    let (xh, ghzy, xjh) = (
        app.unit_id("310104").await,
        app.unit_id("SH-GHZY").await,
        app.unit_id("310104-XJH").await,
    );
    // A street is not on this line.
    let path = format!("/api/v1/legal/cleanup/campaigns/{id}/distribution");
    let wrong = As(&app, OFFICE)
        .refused(
            POST,
            &path,
            None,
            json!({ "units": [xjh] }),
            422,
            "invalid_field",
        )
        .await;
    assert!(wrong.to_string().contains("units[0]"), "{wrong}");
    let sent = distribute(&app, &id, json!({ "units": [xh, ghzy] })).await;
    assert_eq!(
        (
            sent["distributed"].clone(),
            sent["units"].as_array().unwrap().len()
        ),
        (json!(true), 2)
    );
    As(&app, OFFICE)
        .refused(
            POST,
            &path,
            None,
            json!({ "units": [xh] }),
            409,
            "campaign_distributed",
        )
        .await;
    let sms = app
        .wait_for_sms_with(XH_REPORTER_PHONE, "2026年规范性文件集中清理")
        .await;
    assert!(!sms.is_empty());

    // The unit sees only its own list; another unit finds nothing.
    let l = list_of(&app, XH_REPORTER, &id, "310104", "own").await;
    let seen = app
        .get_json(
            XH_REPORTER,
            &format!("/api/v1/legal/cleanup/campaigns/{id}"),
            200,
        )
        .await;
    assert_eq!(seen["lists"].as_array().unwrap().len(), 1, "{seen}");
    app.get_json(GHZY, &format!("/api/v1/legal/cleanup/lists/{l}"), 404)
        .await;
    app.get_json(
        "pd_filler",
        &format!("/api/v1/legal/cleanup/lists/{l}"),
        404,
    )
    .await;

    bad_documents_change_nothing(&app, &l).await;
    let docs = json!([
        doc("徐府规〔2018〕3号", "徐汇区停车管理办法", Some("keep")),
        doc("徐府规〔2019〕1号", "徐汇区市容管理规定", Some("amend")),
        doc("徐府规〔2019〕7号", "徐汇区摊点管理办法", None),
    ]);
    let v = save(&app, XH_REPORTER, &l, 0, docs.clone(), 200).await;
    assert_eq!(
        (v["revision"].as_i64(), v["counts"]["undecided"].as_i64()),
        (Some(1), Some(1))
    );
    // A save based on an old revision is refused.
    let stale = save(&app, XH_REPORTER, &l, 0, docs.clone(), 409).await;
    assert_eq!(stale["code"], "list_changed");
    // Incomplete: not to the reviewer yet. The reviewer does not send it.
    let r = problem(
        step(&app, XH_REPORTER, &l, "send_for_check", None).await,
        422,
        "invalid_fields",
    )
    .await;
    assert!(r.to_string().contains("documents[2].decision"), "{r}");
    problem(
        step(&app, XH_REVIEWER, &l, "send_for_check", None).await,
        403,
        "forbidden",
    )
    .await;
    let mut docs = docs;
    docs[2] = doc("徐府规〔2019〕7号", "徐汇区摊点管理办法", Some("repeal"));
    save(&app, XH_REPORTER, &l, 1, docs.clone(), 200).await;
    let v = stepped(&app, XH_REPORTER, &l, "send_for_check", None).await;
    assert_eq!(
        (v["status"].as_str(), v["editable"].as_bool()),
        (Some("checking"), Some(false))
    );
    save(&app, XH_REPORTER, &l, 3, docs.clone(), 409).await;
    // The unit's reviewer sends it back (a reason is required), then submits.
    problem(
        step(&app, XH_REVIEWER, &l, "send_back", None).await,
        422,
        "invalid_field",
    )
    .await;
    stepped(
        &app,
        XH_REVIEWER,
        &l,
        "send_back",
        Some("请核对第二件的依据"),
    )
    .await;
    stepped(&app, XH_REPORTER, &l, "send_for_check", None).await;
    problem(
        step(&app, XH_REVIEWER, &l, "accept", None).await,
        403,
        "forbidden",
    )
    .await;
    let v = stepped(&app, XH_REVIEWER, &l, "submit", None).await;
    assert_eq!(
        (v["status"].as_str(), v["reason"].clone()),
        (Some("submitted"), Value::Null)
    );

    // The office returns it with a reason; the unit sees the reason.
    stepped(&app, OFFICE, &l, "return", Some("废止的文件请补充依据条款")).await;
    let v = list(&app, XH_REPORTER, &l).await;
    assert_eq!(v["status"], "returned");
    assert_eq!(v["reason"], "废止的文件请补充依据条款");
    assert_eq!(v["steps"], json!(["send_for_check"]));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'cleanup_returned'")
            .await,
        2
    );
    stepped(&app, XH_REPORTER, &l, "send_for_check", None).await;
    // On the phone: the unit's reviewer finds it to check, the office
    // finds it to decide, and accepts it there.
    let waiting = app.get_json(XH_REVIEWER, "/m/v1/legal/reviews", 200).await;
    assert_eq!(
        (
            waiting[0]["list_id"].as_str(),
            waiting[0]["action"].as_str()
        ),
        (Some(l.as_str()), Some("check")),
        "{waiting}"
    );
    assert_eq!(
        app.get_json(OFFICE, "/m/v1/legal/reviews", 200).await,
        json!([])
    );
    stepped(&app, XH_REVIEWER, &l, "submit", None).await;
    let waiting = app.get_json(OFFICE, "/m/v1/legal/reviews", 200).await;
    assert_eq!(waiting[0]["action"], "decide", "{waiting}");
    let screen = app
        .get_json(OFFICE, &format!("/m/v1/legal/cleanup-lists/{l}"), 200)
        .await;
    assert_eq!(screen["status"], "submitted");
    let v = As(&app, OFFICE)
        .expect(
            POST,
            &format!("/m/v1/legal/cleanup-lists/{l}/steps"),
            None,
            json!({ "step": "accept" }),
            200,
        )
        .await;
    assert_eq!(v["status"], "accepted");
    assert_eq!(
        app.get_json(OFFICE, "/m/v1/legal/reviews", 200).await,
        json!([])
    );
    // Accepted: frozen.
    let r = problem(
        step(&app, OFFICE, &l, "return", Some("再改")).await,
        409,
        "list_frozen",
    )
    .await;
    assert!(r["detail"].as_str().unwrap().contains("已通过"));
    save(
        &app,
        XH_REPORTER,
        &l,
        v["revision"].as_i64().unwrap(),
        docs,
        409,
    )
    .await;
    assert_eq!(
        kinds(&v["history"]),
        [
            "distributed",
            "send_for_check",
            "send_back",
            "send_for_check",
            "submit",
            "return",
            "send_for_check",
            "submit",
            "accept"
        ]
    );
    for (action, n) in [
        ("legal.cleanup.distribute", 1),
        ("legal.cleanup.submit", 2),
        ("legal.cleanup.return", 1),
        ("legal.cleanup.accept", 1),
        ("legal.cleanup.send_for_check", 3),
    ] {
        assert_eq!(
            app.audited_with(action, Some("success")).await,
            n,
            "{action}"
        );
    }
    // The refusals were audited too.
    assert_eq!(
        app.audited_with("legal.cleanup.accept", Some("denied"))
            .await,
        1
    );
    progress_and_export(&app, &id).await;
}

/// Duplicate numbers (brackets written two ways), a date that does not
/// exist, a decision not on the list: refused, and the list unchanged.
async fn bad_documents_change_nothing(app: &TestApp, l: &str) {
    let dup = json!([
        doc("徐府规〔2019〕1号", "甲", None),
        doc("徐府规[2019]1号", "乙", None)
    ]);
    let r = save(app, XH_REPORTER, l, 0, dup, 422).await;
    assert!(r.to_string().contains("documents[1].doc_no"), "{r}");
    let mut bad_date = doc("徐府规〔2019〕2号", "丙", None);
    bad_date["issued_on"] = json!("2019-02-30");
    let r = save(app, XH_REPORTER, l, 0, json!([bad_date]), 422).await;
    assert!(r.to_string().contains("documents[0].issued_on"), "{r}");
    let outside = json!([doc("徐府规〔2019〕3号", "丁", Some("abolish"))]);
    let resp = As(app, XH_REPORTER)
        .send(
            PUT,
            &format!("/api/v1/legal/cleanup/lists/{l}/documents"),
            None,
            json!({ "revision": 0, "documents": outside }),
        )
        .await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let v = list(app, XH_REPORTER, l).await;
    assert_eq!(
        (
            v["revision"].as_i64(),
            v["documents"].as_array().unwrap().len()
        ),
        (Some(0), 0)
    );
}

async fn progress_and_export(app: &TestApp, id: &str) {
    let p = app
        .get_json(
            OFFICE,
            &format!("/api/v1/legal/cleanup/progress?campaign_id={id}"),
            200,
        )
        .await;
    let line = &p["lines"][0];
    assert_eq!(
        (line["line"].as_str(), line["lists"].as_i64()),
        (Some("departments"), Some(2)),
        "{p}"
    );
    let accepted = line["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "accepted")
        .unwrap();
    assert_eq!(accepted["lists"], 1);
    assert_eq!(
        (
            line["counts"]["keep"].as_i64(),
            line["counts"]["total"].as_i64()
        ),
        (Some(1), Some(3))
    );
    assert_eq!(p["units"].as_array().unwrap().len(), 2);
    // A unit's progress is its own list only.
    let mine = app
        .get_json(XH_REPORTER, "/api/v1/legal/cleanup/progress", 200)
        .await;
    assert_eq!(mine["units"].as_array().unwrap().len(), 1, "{mine}");

    let resp = app
        .get_as(
            Some(OFFICE),
            &format!("/api/v1/legal/cleanup/campaigns/{id}/export"),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    use calamine::Reader;
    let mut book =
        calamine::Xlsx::new(std::io::Cursor::new(resp.bytes().await.unwrap().to_vec())).unwrap();
    let summary = book.worksheet_range("汇总").unwrap();
    let text = |r: &calamine::Range<calamine::Data>, row: u32, col: u32| {
        r.get_value((row, col))
            .map(|c| c.to_string())
            .unwrap_or_default()
    };
    let xh_row = (3..5)
        .find(|r| text(&summary, *r, 1) == "上海市徐汇区人民政府")
        .unwrap();
    assert_eq!(text(&summary, xh_row, 4), "已通过");
    // 继续有效, 修改, 废止 one each; 合计 3; the totals row the same.
    let counts: Vec<String> = (5..11).map(|c| text(&summary, xh_row, c)).collect();
    assert_eq!(counts, ["1", "1", "1", "0", "0", "3"]);
    assert_eq!(text(&summary, 5, 1), "合计");
    assert_eq!(text(&summary, 5, 10), "3");
    let docs = book.worksheet_range("清理清单").unwrap();
    assert_eq!(text(&docs, 2, 2), "文件名称");
    assert_eq!(text(&docs, 5, 5), "废止");
    assert_eq!(app.audited("legal.cleanup.export").await, 1);
    // Someone with no list in it finds nothing to export.
    let resp = app
        .get_as(
            Some(XJH),
            &format!("/api/v1/legal/cleanup/campaigns/{id}/export"),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test]
async fn a_district_decides_its_street_and_then_consolidates_for_the_city() {
    let app = spawn_app().await;
    let id = campaign(&app, "街镇规范性文件清理", "districts", &in_days(10)).await;
    let xjh = app.unit_id("310104-XJH").await;
    let sent = distribute(&app, &id, json!({ "units": [xjh] })).await;
    assert_eq!(
        sent["units"][0]["reviewer_unit_name"], "上海市徐汇区人民政府",
        "{sent}"
    );
    assert_eq!(sent["consolidating"], json!(["上海市徐汇区人民政府"]));
    let street = list_of(&app, XJH, &id, "310104-XJH", "own").await;
    let district = list_of(&app, XH_REVIEWER, &id, "310104", "consolidated").await;
    // Nothing to consolidate until the street's list is accepted.
    let r = problem(
        step(&app, XH_REPORTER, &district, "send_for_check", None).await,
        409,
        "subordinates_pending",
    )
    .await;
    assert!(r["detail"].as_str().unwrap().contains('1'), "{r}");
    let docs = json!([doc(
        "徐家汇办〔2020〕2号",
        "徐家汇街道门责管理办法",
        Some("declare_invalid")
    )]);
    save(&app, XJH, &street, 0, docs, 200).await;
    stepped(&app, XJH, &street, "send_for_check", None).await;
    stepped(&app, XJH, &street, "submit", None).await;
    // The district decides the street's list, not the city.
    problem(
        step(&app, OFFICE, &street, "accept", None).await,
        403,
        "forbidden",
    )
    .await;
    stepped(&app, XH_REVIEWER, &street, "accept", None).await;
    let v = stepped(&app, XH_REPORTER, &district, "send_for_check", None).await;
    assert_eq!(v["subordinates"][0]["status"], "accepted", "{v}");
    assert_eq!(v["documents"][0]["unit_name"], "徐家汇街道办事处");
    assert_eq!(v["counts"]["declare_invalid"], 1);
    // A consolidated list has no documents of its own to edit.
    save(
        &app,
        XH_REPORTER,
        &district,
        v["revision"].as_i64().unwrap(),
        json!([]),
        409,
    )
    .await;
    stepped(&app, XH_REVIEWER, &district, "submit", None).await;
    let v = stepped(&app, OFFICE, &district, "accept", None).await;
    assert_eq!(v["status"], "accepted");
    // The district's reviewer's progress: the street's list and its own.
    let p = app
        .get_json(XH_REVIEWER, "/api/v1/legal/cleanup/progress", 200)
        .await;
    assert_eq!(p["lines"][1]["lists"], 2, "{p}");
    assert_eq!(p["lines"][1]["counts"]["declare_invalid"], 1, "{p}");
}

/// A sheet with `rows` under the import's headers.
fn sheet(headers: &[&str], rows: &[[&str; 5]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let s = book.add_worksheet();
    for (c, h) in headers.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            s.write_string(1 + r as u32, c as u16, *v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

const HEADERS: [&str; 5] = ["文件名称", "文号", "印发日期", "起草单位", "清理意见"];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[tokio::test]
async fn the_city_documents_are_imported_row_by_row_or_not_at_all() {
    let app = spawn_app().await;
    let id = campaign(&app, "市政府文件清理", "city_documents", &in_days(10)).await;
    let path = format!("/api/v1/legal/cleanup/campaigns/{id}/import");
    let dist = format!("/api/v1/legal/cleanup/campaigns/{id}/distribution");
    As(&app, OFFICE)
        .refused(
            POST,
            &dist,
            None,
            json!({ "units": [] }),
            409,
            "import_instead",
        )
        .await;
    // Every bad row is named; nothing is imported.
    let bad = sheet(
        &HEADERS,
        &[
            [
                "上海市某某管理办法",
                "沪府规〔2020〕1号",
                "2020-02-30",
                "上海市人民政府办公厅",
                "继续有效",
            ],
            [
                "上海市某某实施细则",
                "沪府规[2020]1号",
                "2020/3/1",
                "上海市规划和自然资源局",
                "",
            ],
            [
                "上海市某某规定",
                "沪府规〔2020〕9号",
                "2020年3月1日",
                "不存在的局",
                "取消",
            ],
        ],
    );
    let r = problem(
        app.post_raw(OFFICE, &path, XLSX, bad).await,
        422,
        "invalid_fields",
    )
    .await;
    let text = r["errors"].to_string();
    for field in ["rows[2].印发日期", "rows[3].文号", "rows[4].清理意见"] {
        assert!(text.contains(field), "{field} in {r}");
    }
    let missing = sheet(&HEADERS[..3], &[]);
    let r = problem(
        app.post_raw(OFFICE, &path, XLSX, missing).await,
        422,
        "invalid_fields",
    )
    .await;
    assert!(r["errors"].to_string().contains("起草单位"), "{r}");
    let r = problem(
        app.post_raw(OFFICE, &path, XLSX, b"not a workbook".to_vec())
            .await,
        422,
        "invalid_field",
    )
    .await;
    assert!(r.to_string().contains("content_type"), "{r}");
    let unknown_unit = sheet(
        &HEADERS,
        &[[
            "某办法",
            "沪府规〔2020〕3号",
            "2020-01-02",
            "不存在的局",
            "",
        ]],
    );
    let r = problem(
        app.post_raw(OFFICE, &path, XLSX, unknown_unit).await,
        422,
        "invalid_fields",
    )
    .await;
    assert!(r["errors"].to_string().contains("rows[2].起草单位"), "{r}");
    assert_eq!(app.count("SELECT COUNT(*) FROM cleanup_lists").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cleanup_campaigns WHERE status = 'draft'")
            .await,
        1
    );
    // Only the office imports.
    let good = sheet(
        &HEADERS,
        &[
            [
                "上海市某某管理办法",
                "沪府规〔2020〕1号",
                "2020-02-03",
                "上海市人民政府办公厅",
                "继续有效",
            ],
            [
                "上海市某某实施细则",
                "沪府规〔2020〕2号",
                "2020/3/1",
                "上海市规划和自然资源局",
                "",
            ],
            [
                "上海市某某规定",
                "沪府办规〔2020〕9号",
                "2020年3月1日",
                "上海市人民政府",
                "废止",
            ],
        ],
    );
    assert_eq!(
        app.post_raw(GHZY, &path, XLSX, good.clone())
            .await
            .status()
            .as_u16(),
        404
    );
    let done = crate::common::ok(app.post_raw(OFFICE, &path, XLSX, good.clone()).await, 200).await;
    assert_eq!(done["rows"], 3);
    let mut lists: Vec<(String, i64)> = done["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["unit_name"].as_str().unwrap().to_owned(),
                l["documents"].as_i64().unwrap(),
            )
        })
        .collect();
    lists.sort();
    assert_eq!(
        lists,
        [
            ("上海市规划和自然资源局".to_owned(), 1),
            ("法律事务处".to_owned(), 2)
        ]
    );
    problem(
        app.post_raw(OFFICE, &path, XLSX, good).await,
        409,
        "campaign_distributed",
    )
    .await;
    app.wait_for_sms_with(GHZY_PHONE, "市政府文件清理").await;
    assert_eq!(app.audited("legal.cleanup.import").await, 1);

    // The drafting unit gives its opinion; the office decides it.
    let ghzy = list_of(&app, GHZY, &id, "SH-GHZY", "own").await;
    let v = list(&app, GHZY, &ghzy).await;
    assert_eq!(v["documents"][0]["doc_no"], "沪府规〔2020〕2号");
    let docs = json!([{ "doc_no": "沪府规〔2020〕2号", "title": "上海市某某实施细则", "issued_on": "2020-03-01",
                        "decision": "amend", "reason": "与新修订的条例不一致", "legal_basis": "《上海市某某条例》" }]);
    save(&app, GHZY, &ghzy, 0, docs, 200).await;
    stepped(&app, GHZY, &ghzy, "send_for_check", None).await;
    stepped(&app, GHZY, &ghzy, "submit", None).await;
    stepped(&app, OFFICE, &ghzy, "accept", None).await;
    // The office fills and decides its own list itself.
    let own = list_of(&app, OFFICE, &id, "SH-BGT-FW", "own").await;
    let v = list(&app, OFFICE, &own).await;
    assert_eq!(v["counts"]["undecided"], 0, "{v}");
    assert_eq!(v["counts"]["repeal"], 1);
    let r = problem(
        step(&app, OFFICE, &own, "send_for_check", None).await,
        422,
        "invalid_fields",
    )
    .await;
    assert!(r.to_string().contains("legal_basis"), "{r}");
}

#[tokio::test]
async fn the_import_template_is_a_sheet_the_import_reads() {
    let app = spawn_app().await;
    let resp = app
        .get_as(Some(OFFICE), "/api/v1/legal/cleanup/import-template")
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    let id = campaign(&app, "模板导入", "city_documents", &in_days(5)).await;
    let path = format!("/api/v1/legal/cleanup/campaigns/{id}/import");
    let done = crate::common::ok(app.post_raw(OFFICE, &path, XLSX, bytes).await, 200).await;
    assert_eq!(done["rows"], 1, "{done}");
    assert_eq!(
        app.get_as(Some(XH_REPORTER), "/api/v1/legal/cleanup/import-template")
            .await
            .status()
            .as_u16(),
        403
    );
}

#[tokio::test]
async fn the_watch_reminds_reporters_before_the_deadline_and_after_it() {
    let env = vec![("GOV_DISCLOSURE__WATCH_INTERVAL_SECS", "1".to_owned())];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let id = campaign(&app, "催报清理", "departments", &in_days(1)).await;
    distribute(&app, &id, json!({ "units": [app.unit_id("310104").await] })).await;
    wait_for(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'cleanup_reminder'",
        1,
    )
    .await;
    let db = app.db.connect().await;
    api::on_db!(&db, p => sqlx::query("UPDATE cleanup_campaigns SET deadline_on = $1").bind(in_days(-1))
        .execute(p).await.map(|_| ())).unwrap();
    db.close().await;
    wait_for(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'cleanup_overdue'",
        1,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind LIKE 'cleanup_%'")
            .await,
        3
    );
    let p = app
        .get_json(OFFICE, "/api/v1/legal/cleanup/progress", 200)
        .await;
    assert_eq!(p["lines"][0]["overdue"], 1, "{p}");
}
