//! Online forms (GK-11 to GK-13): a sender configures a form, distributes
//! it to districts and a street, the fillers save, attach, submit; the
//! sender returns, accepts, sees the progress and the aggregate, and
//! exports; reminders come from the deadline watch. Bad input of every
//! kind gets a clear answer and changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{As, Options, TestApp, TestDb, spawn_app, spawn_with};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

const SENDER: &str = "gk_forms";
/// 徐汇区's filler (and, by the subtree, its streets').
const XH: &str = "xh_filler";
const XH_PHONE: &str = "19900000021";
/// 浦东新区's filler.
const PD: &str = "pd_filler";

fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date()
}

fn ymd(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A small report form: two counts, a computed difference, an amount, a
/// choice, a contact phone, a document table with its page total, and a
/// scan.
pub fn report_definition() -> Value {
    json!({ "sections": [
        { "title": "基本情况", "fields": [
            { "key": "received", "label": "收到申请数", "type": "integer", "min": 0, "required": true },
            { "key": "answered", "label": "已答复数", "type": "integer", "min": 0, "required": true },
            { "key": "pending", "label": "未答复数", "type": "integer", "computed": "received - answered" },
            { "key": "fees", "label": "收费（万元）", "type": "decimal", "scale": 2, "min": "0" },
            { "key": "channel", "label": "主要渠道", "type": "single_choice", "options": ["网上", "窗口", "信函"] },
            { "key": "contact", "label": "联系电话", "type": "phone", "required": true },
        ] },
        { "title": "文件清单", "fields": [
            { "key": "docs", "label": "文件清单", "type": "table", "columns": [
                { "key": "title", "label": "文件名称", "type": "short_text", "required": true, "max_length": 100 },
                { "key": "pages", "label": "页数", "type": "integer", "min": 1 } ] },
            { "key": "pages_total", "label": "总页数", "type": "integer", "computed": "sum(docs.pages)" },
            { "key": "scan", "label": "扫描件", "type": "attachment", "max_files": 2, "types": ["application/pdf"] },
        ] },
    ] })
}

pub async fn create_form(app: &TestApp, title: &str, deadline: &str) -> String {
    let body = json!({ "title": title, "description": "请各单位如实填报", "deadline_on": deadline,
        "definition": report_definition() });
    let form = As(app, SENDER)
        .expect(POST, "/api/v1/forms", None, body, 201)
        .await;
    form["id"].as_str().unwrap().to_owned()
}

/// Distributes `form` to every district government plus 徐家汇街道 (preview,
/// then confirm); answers the confirmation.
pub async fn distribute(app: &TestApp, form: &str) -> Value {
    let path = format!("/api/v1/forms/{form}/distribution");
    let root = app.unit_id("SH").await;
    let xjh = app.unit_id("310104-XJH").await;
    let mut body = json!({ "units": [xjh], "subtrees": [{ "unit_id": root, "kinds": ["district_government"] }] });
    let preview = As(app, SENDER)
        .expect(POST, &path, None, body.clone(), 200)
        .await;
    assert_eq!(preview["distributed"], false);
    body["confirm"] = preview["token"].clone();
    As(app, SENDER).expect(POST, &path, None, body, 200).await
}

/// The return of `form` at the unit `code`, as its filler finds it.
pub async fn return_at(app: &TestApp, filler: &str, unit: &str) -> Value {
    let list = app.get_json(filler, "/api/v1/form-returns", 200).await;
    let found = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_name"] == unit);
    let id = found.unwrap_or_else(|| panic!("{unit} not in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get_json(filler, &format!("/api/v1/form-returns/{id}"), 200)
        .await
}

fn answers() -> Value {
    json!({ "received": 12, "answered": 9, "fees": "0.10", "channel": "网上", "contact": "13812345678",
        "docs": [{ "title": "关于公开的通知", "pages": 3 }, { "title": "办事指南", "pages": 5 }] })
}

#[tokio::test]
async fn a_form_is_configured_distributed_filled_returned_accepted_and_exported() {
    let app = spawn_app().await;
    let deadline = ymd(today() + time::Duration::days(10));
    let form = create_form(&app, "2026年政务公开工作情况统计", &deadline).await;
    // Found by a word of its title; read back as JSON Schema.
    let found = app
        .get_json(
            SENDER,
            "/api/v1/forms?q=%E5%85%AC%E5%BC%80%20%E7%BB%9F%E8%AE%A1",
            200,
        )
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    let none = app.get_json(SENDER, "/api/v1/forms?q=%25", 200).await;
    assert_eq!(
        none.as_array().unwrap().len(),
        0,
        "a % is a literal character: {none}"
    );
    let schema = app
        .get_json(SENDER, &format!("/api/v1/forms/{form}/schema"), 200)
        .await;
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["properties"]["pending"]["readOnly"], true);

    let sent = distribute(&app, &form).await;
    assert_eq!(sent["distributed"], true);
    let units: Vec<&str> = sent["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit_name"].as_str().unwrap())
        .collect();
    assert!(
        units.contains(&"徐家汇街道办事处") && units.contains(&"上海市浦东新区人民政府"),
        "{units:?}"
    );
    assert!(!units.contains(&"上海市人民政府办公厅"), "{units:?}");
    let n = units.len() as i64;
    assert_eq!(app.count("SELECT COUNT(*) FROM form_assignments").await, n);
    // The district's filler is told (no device: by SMS).
    let sms = app.wait_for_sms(XH_PHONE).await;
    assert!(
        sms[0]["text"]
            .as_str()
            .unwrap()
            .contains("2026年政务公开工作情况统计"),
        "{sms:?}"
    );
    // Frozen: no edit, no delete, no second distribution.
    let frozen =
        json!({ "title": "改", "deadline_on": deadline, "definition": report_definition() });
    As(&app, SENDER)
        .refused(
            PUT,
            &format!("/api/v1/forms/{form}"),
            None,
            frozen,
            409,
            "form_frozen",
        )
        .await;
    As(&app, SENDER)
        .refused(
            DELETE,
            &format!("/api/v1/forms/{form}"),
            None,
            json!(null),
            409,
            "form_frozen",
        )
        .await;

    let ret = return_at(&app, XH, "上海市徐汇区人民政府").await;
    let id = ret["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (ret["status"].as_str(), ret["revision"].as_i64()),
        (Some("assigned"), Some(0))
    );
    // 浦东's filler does not see 徐汇's return at all.
    app.get_json(PD, &format!("/api/v1/form-returns/{id}"), 404)
        .await;

    let draft_path = format!("/api/v1/form-returns/{id}/draft");
    let saved = As(&app, XH)
        .expect(
            PUT,
            &draft_path,
            None,
            json!({ "revision": 0, "answers": answers() }),
            200,
        )
        .await;
    assert_eq!(
        (
            saved["answers"]["pending"].as_i64(),
            saved["answers"]["pages_total"].as_i64()
        ),
        (Some(3), Some(8))
    );
    assert_eq!(
        saved["answers"]["contact"], "13812345678",
        "the filler sees its own data"
    );
    assert_eq!(saved["revision"], 1);
    // A colleague's save based on revision 0 is refused, not merged.
    let stale = json!({ "revision": 0, "answers": { "received": 1 } });
    As(&app, XH)
        .refused(PUT, &draft_path, None, stale, 409, "stale_revision")
        .await;
    // At rest the phone is sealed.
    let at_rest = app
        .count("SELECT COUNT(*) FROM form_assignments WHERE answers LIKE '%13812345678%'")
        .await;
    assert_eq!(at_rest, 0);

    let submit_path = format!("/api/v1/form-returns/{id}/submission");
    let submitted = As(&app, XH)
        .expect(
            POST,
            &submit_path,
            None,
            json!({ "revision": 1, "answers": answers() }),
            200,
        )
        .await;
    assert_eq!(
        (submitted["status"].as_str(), submitted["late"].as_bool()),
        (Some("submitted"), Some(false))
    );
    // Submitting the same again: the same return, nothing new.
    let again = As(&app, XH)
        .expect(
            POST,
            &submit_path,
            None,
            json!({ "revision": 1, "answers": answers() }),
            200,
        )
        .await;
    assert_eq!(again["revision"], submitted["revision"]);
    assert_eq!(app.audited("form.submit").await, 1);

    // The sender sees it masked, returns it with a reason; the unit sees why.
    let seen = app
        .get_json(SENDER, &format!("/api/v1/form-returns/{id}"), 200)
        .await;
    assert_eq!(seen["answers"]["contact"], "138****5678");
    let review = format!("/api/v1/form-returns/{id}/review");
    As(&app, SENDER)
        .refused(
            POST,
            &review,
            None,
            json!({ "decision": "return" }),
            422,
            "invalid_field",
        )
        .await;
    As(&app, SENDER)
        .expect(
            POST,
            &review,
            None,
            json!({ "decision": "return", "reason": "收费金额请核实" }),
            200,
        )
        .await;
    let back = app
        .get_json(XH, &format!("/api/v1/form-returns/{id}"), 200)
        .await;
    assert_eq!(
        (back["status"].as_str(), back["return_reason"].as_str()),
        (Some("returned"), Some("收费金额请核实"))
    );
    let mut fixed = answers();
    fixed["fees"] = json!("0.2");
    let rev = back["revision"].as_i64().unwrap();
    As(&app, XH)
        .expect(
            POST,
            &submit_path,
            None,
            json!({ "revision": rev, "answers": fixed }),
            200,
        )
        .await;
    As(&app, SENDER)
        .expect(POST, &review, None, json!({ "decision": "accept" }), 200)
        .await;
    As(&app, XH)
        .refused(
            PUT,
            &draft_path,
            None,
            json!({ "revision": rev + 2, "answers": {} }),
            409,
            "return_state",
        )
        .await;

    // 浦东 submits too; the aggregate adds both up and rolls up the tree.
    let pd = return_at(&app, PD, "上海市浦东新区人民政府").await;
    let pd_answers = json!({ "received": 8, "answered": 8, "fees": "0.15", "channel": "窗口", "contact": "13900001111",
        "docs": [{ "title": "年度报告", "pages": 10 }] });
    let pd_submit = format!(
        "/api/v1/form-returns/{}/submission",
        pd["id"].as_str().unwrap()
    );
    As(&app, PD)
        .expect(
            POST,
            &pd_submit,
            None,
            json!({ "revision": 0, "answers": pd_answers }),
            200,
        )
        .await;
    let progress = app
        .get_json(SENDER, &format!("/api/v1/forms/{form}/progress"), 200)
        .await;
    let counts = &progress["counts"];
    assert_eq!(
        (
            counts["units"].as_i64(),
            counts["accepted"].as_i64(),
            counts["submitted"].as_i64()
        ),
        (Some(n), Some(1), Some(1))
    );
    assert_eq!(counts["assigned"].as_i64(), Some(n - 2));
    let agg = &progress["aggregate"];
    let number = |key: &str| {
        agg["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == key)
            .unwrap()
            .clone()
    };
    assert_eq!(number("received")["sum"], "20");
    assert_eq!(number("fees")["sum"], "0.35");
    assert_eq!(number("pending")["sum"], "3");
    assert_eq!(number("docs.pages")["sum"], "18");
    assert_eq!(agg["tables"][0]["rows"].as_array().unwrap().len(), 3);
    assert_eq!(agg["rollups"][0]["unit_name"], "上海市人民政府");
    assert_eq!(agg["rollups"][0]["sums"]["received"], "20");
    // A filler is not the sender: no progress, no export.
    app.get_json(XH, &format!("/api/v1/forms/{form}/progress"), 404)
        .await;

    let resp = app
        .get_as(Some(SENDER), &format!("/api/v1/forms/{form}/export"))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    use calamine::Reader;
    let mut book =
        calamine::Xlsx::new(std::io::Cursor::new(resp.bytes().await.unwrap().to_vec())).unwrap();
    assert_eq!(book.sheet_names(), ["汇总", "填报明细", "文件清单"]);
    let cell = |s: &calamine::Range<calamine::Data>, r: u32, c: u32| {
        s.get_value((r, c))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    let summary = book.worksheet_range("汇总").unwrap();
    assert_eq!(
        (
            cell(&summary, 3, 0).as_str(),
            cell(&summary, 4, 0).as_str(),
            cell(&summary, 4, 2).as_str()
        ),
        ("字段", "收到申请数", "20")
    );
    let details = book.worksheet_range("填报明细").unwrap();
    assert_eq!(cell(&details, 0, 4), "收到申请数");
    let rows: Vec<String> = (1..=n as u32).map(|r| cell(&details, r, 9)).collect();
    assert!(
        rows.contains(&"138****5678".to_owned()),
        "phones masked in the export: {rows:?}"
    );
    let docs = book.worksheet_range("文件清单").unwrap();
    assert_eq!((cell(&docs, 0, 1).as_str(), docs.height()), ("文件名称", 4));
    for action in [
        "form.create",
        "form.distribute",
        "form.return",
        "form.accept",
        "form.export",
    ] {
        assert_eq!(app.audited(action).await, 1, "{action}");
    }
    assert_eq!(app.audited("form.submit").await, 3);
}

#[tokio::test]
async fn bad_definitions_and_bad_answers_are_refused_naming_each_field() {
    let app = spawn_app().await;
    let deadline = ymd(today() + time::Duration::days(3));
    let mut def = report_definition();
    def["sections"][0]["fields"][2]["computed"] = json!("answered + pending");
    def["sections"][0]["fields"][1]["computed"] = json!("pending * 2");
    def["sections"][0]["fields"][3]["computed"] = json!("fees +");
    let body = json!({ "title": "有问题的表单", "deadline_on": deadline, "definition": def });
    let p = As(&app, SENDER)
        .refused(POST, "/api/v1/forms", None, body, 422, "invalid_fields")
        .await;
    let named: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(named.contains(&"fees"), "{p}");
    let mut cyclic = report_definition();
    cyclic["sections"][0]["fields"][1]["computed"] = json!("pending * 2");
    let body = json!({ "title": "循环", "deadline_on": deadline, "definition": cyclic });
    let p = As(&app, SENDER)
        .refused(POST, "/api/v1/forms", None, body, 422, "invalid_fields")
        .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("answered → pending → answered"),
        "{p}"
    );
    let unknown = json!({ "title": "x", "deadline_on": deadline, "definition": { "sections": [{ "fields": [{ "key": "a", "label": "甲", "type": "float" }] }] } });
    As(&app, SENDER)
        .refused(POST, "/api/v1/forms", None, unknown, 422, "invalid_field")
        .await;
    let bad_date =
        json!({ "title": "x", "deadline_on": "2026-02-30", "definition": report_definition() });
    As(&app, SENDER)
        .refused(POST, "/api/v1/forms", None, bad_date, 422, "invalid_field")
        .await;
    // Not a form sender: refused, and audited.
    let fine = json!({ "title": "x", "deadline_on": deadline, "definition": report_definition() });
    As(&app, XH)
        .refused(POST, "/api/v1/forms", None, fine, 403, "forbidden")
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM forms").await, 0);

    // A draft can be copied (new ids) and deleted; a past deadline cannot go out.
    let form = create_form(&app, "测试表单", &deadline).await;
    let copy = As(&app, SENDER)
        .expect(
            POST,
            &format!("/api/v1/forms/{form}/copy"),
            None,
            json!(null),
            201,
        )
        .await;
    assert_ne!(copy["id"].as_str(), Some(form.as_str()));
    assert_eq!(
        (copy["status"].as_str(), copy["version"].as_i64()),
        (Some("draft"), Some(1))
    );
    let copy_path = format!("/api/v1/forms/{}", copy["id"].as_str().unwrap());
    assert_eq!(
        As(&app, SENDER)
            .send(DELETE, &copy_path, None, json!(null))
            .await
            .status()
            .as_u16(),
        204
    );
    app.get_json(SENDER, &copy_path, 404).await;
    // The sender's form is invisible to a unit it was not sent to.
    app.get_json(PD, &format!("/api/v1/forms/{form}"), 404)
        .await;

    distribute(&app, &form).await;
    let ret = return_at(&app, XH, "上海市徐汇区人民政府").await;
    let path = format!(
        "/api/v1/form-returns/{}/submission",
        ret["id"].as_str().unwrap()
    );
    let bad = json!({ "revision": 0, "answers": { "received": "many", "answered": -1, "pending": 4, "colour": "red",
        "contact": "12345", "channel": "电报", "docs": [{ "pages": 0 }] } });
    let p = As(&app, XH)
        .refused(POST, &path, None, bad, 422, "invalid_fields")
        .await;
    let mut named: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    named.sort();
    assert_eq!(
        named,
        [
            "answered",
            "channel",
            "colour",
            "contact",
            "docs[0].pages",
            "docs[0].title",
            "pending",
            "received"
        ],
        "{p}"
    );
    // Required fields left out of a submission are named too.
    let p = As(&app, XH)
        .refused(
            POST,
            &path,
            None,
            json!({ "revision": 0, "answers": {} }),
            422,
            "invalid_fields",
        )
        .await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 3, "{p}");
    let not_json = app.post_raw(XH, &path, "application/json", "{").await;
    assert_eq!(not_json.status().as_u16(), 400);
    let unchanged = app
        .get_json(
            XH,
            &format!("/api/v1/form-returns/{}", ret["id"].as_str().unwrap()),
            200,
        )
        .await;
    assert_eq!(
        (unchanged["status"].as_str(), unchanged["revision"].as_i64()),
        (Some("assigned"), Some(0))
    );
}

#[tokio::test]
async fn attachments_are_checked_stored_by_hash_and_downloaded_only_by_the_two_units() {
    let app = spawn_app().await;
    let form = create_form(&app, "附件测试", &ymd(today() + time::Duration::days(5))).await;
    distribute(&app, &form).await;
    let ret = return_at(&app, XH, "上海市徐汇区人民政府").await;
    let id = ret["id"].as_str().unwrap();
    let upload = |field: &str, ct: &str, body: Vec<u8>| {
        let path = format!(
            "/api/v1/form-returns/{id}/attachments?field={field}&name=%E6%B8%85%E5%8D%95.pdf"
        );
        let app = &app;
        let ct = ct.to_owned();
        async move { app.post_raw(XH, &path, &ct, body).await }
    };
    let pdf = b"%PDF-1.4\n% a small document\n".to_vec();
    let resp = upload("scan", "application/pdf", pdf.clone()).await;
    assert_eq!(resp.status().as_u16(), 201);
    let a: Value = resp.json().await.unwrap();
    assert_eq!(a["content_hash"].as_str().unwrap().len(), 64);
    // Wrong type, a type that lies, an unknown field, too large.
    assert_eq!(
        upload("scan", "image/png", b"\x89PNG\r\n\x1a\n".to_vec())
            .await
            .status()
            .as_u16(),
        422
    );
    assert_eq!(
        upload("scan", "application/pdf", b"MZ not a pdf".to_vec())
            .await
            .status()
            .as_u16(),
        422
    );
    assert_eq!(
        upload("docs", "application/pdf", pdf.clone())
            .await
            .status()
            .as_u16(),
        422
    );
    let mut big = pdf.clone();
    big.resize(11 * 1024 * 1024, b' ');
    assert_eq!(
        upload("scan", "application/pdf", big)
            .await
            .status()
            .as_u16(),
        413
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM form_attachments").await, 1);

    // It goes into the answers by id; an id of nothing is refused.
    let mut body = answers();
    body["scan"] = json!([a["id"]]);
    let draft = format!("/api/v1/form-returns/{id}/draft");
    As(&app, XH)
        .expect(
            PUT,
            &draft,
            None,
            json!({ "revision": 0, "answers": body }),
            200,
        )
        .await;
    let mut wrong = answers();
    wrong["scan"] = json!(["01NOATTACHMENT000000000000"]);
    As(&app, XH)
        .refused(
            PUT,
            &draft,
            None,
            json!({ "revision": 1, "answers": wrong }),
            422,
            "invalid_fields",
        )
        .await;

    let file = format!("/api/v1/form-attachments/{}", a["id"].as_str().unwrap());
    for (who, status) in [(XH, 200), (SENDER, 200), (PD, 404), ("xh_handler", 404)] {
        let resp = app.get_as(Some(who), &file).await;
        assert_eq!(resp.status().as_u16(), status, "{who}");
        if status == 200 {
            assert_eq!(resp.bytes().await.unwrap().to_vec(), pdf);
        }
    }
    // The sender cannot attach to a unit's return.
    let path = format!("/api/v1/form-returns/{id}/attachments?field=scan&name=x.pdf");
    assert_eq!(
        app.post_raw(SENDER, &path, "application/pdf", pdf)
            .await
            .status()
            .as_u16(),
        403
    );
}

#[tokio::test]
async fn the_watch_reminds_before_the_deadline_and_after_it_once_each() {
    let env = vec![("GOV_DISCLOSURE__WATCH_INTERVAL_SECS", "1".to_owned())];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let form = create_form(&app, "催报测试", &ymd(today() + time::Duration::days(1))).await;
    distribute(&app, &form).await;
    let reminded = "SELECT COUNT(*) FROM outbox WHERE kind = 'form_reminder'";
    let fillers_told = app
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'form_assigned'")
        .await;
    wait_for(&app, reminded, fillers_told).await;
    // Past the deadline: told once more, as overdue, and late if submitted.
    let db = app.db.connect().await;
    let yesterday = ymd(today() - time::Duration::days(1));
    api::on_db!(&db, p => sqlx::query("UPDATE forms SET deadline_on = $1").bind(&yesterday).execute(p).await.map(|_| ())).unwrap();
    db.close().await;
    wait_for(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'form_overdue'",
        fillers_told,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        app.count(reminded).await,
        fillers_told,
        "no second reminder"
    );
    let ret = return_at(&app, XH, "上海市徐汇区人民政府").await;
    assert_eq!(ret["overdue"], true);
    let path = format!(
        "/api/v1/form-returns/{}/submission",
        ret["id"].as_str().unwrap()
    );
    let late = As(&app, XH)
        .expect(
            POST,
            &path,
            None,
            json!({ "revision": 0, "answers": answers() }),
            200,
        )
        .await;
    assert_eq!(
        (late["late"].as_bool(), late["overdue"].as_bool()),
        (Some(true), Some(false))
    );
    let progress = app
        .get_json(SENDER, &format!("/api/v1/forms/{form}/progress"), 200)
        .await;
    assert_eq!(progress["counts"]["late"], 1);
}

pub async fn wait_for(app: &TestApp, sql: &'static str, want: i64) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.count(sql).await < want {
        assert!(
            std::time::Instant::now() < until,
            "{sql}: {} of {want}",
            app.count(sql).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_sender_reminds_and_withdraws_and_the_phone_fills_and_shows_progress() {
    let app = spawn_app().await;
    let form = create_form(&app, "手机填报", &ymd(today() + time::Duration::days(5))).await;
    distribute(&app, &form).await;
    let ret = return_at(&app, XH, "徐家汇街道办事处").await;
    let id = ret["id"].as_str().unwrap();
    let told = app
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'form_reminder'")
        .await;
    As(&app, SENDER)
        .expect(
            POST,
            &format!("/api/v1/form-returns/{id}/reminder"),
            None,
            json!(null),
            200,
        )
        .await;
    As(&app, SENDER)
        .expect(
            POST,
            &format!("/api/v1/form-returns/{id}/reminder"),
            None,
            json!(null),
            200,
        )
        .await;
    assert!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'form_reminder'")
            .await
            >= told + 2
    );
    assert_eq!(app.audited("form.remind").await, 2);
    // A filler cannot remind or review.
    As(&app, XH)
        .refused(
            POST,
            &format!("/api/v1/form-returns/{id}/reminder"),
            None,
            json!(null),
            403,
            "forbidden",
        )
        .await;

    // On the phone: the list, the return, a save with computed fields, submit.
    let list = app.get_json(XH, "/m/v1/forms/returns", 200).await;
    assert!(list.as_array().unwrap().iter().any(|r| r["id"] == id));
    let m = format!("/m/v1/forms/returns/{id}");
    let saved = As(&app, XH)
        .expect(
            PUT,
            &format!("{m}/draft"),
            None,
            json!({ "revision": 0, "answers": answers() }),
            200,
        )
        .await;
    assert_eq!(saved["answers"]["pending"], 3);
    As(&app, XH)
        .expect(
            POST,
            &format!("{m}/submission"),
            None,
            json!({ "revision": 1, "answers": answers() }),
            200,
        )
        .await;
    let screen = app
        .get_json(SENDER, &format!("/m/v1/forms/{form}/progress"), 200)
        .await;
    assert_eq!(screen["counts"]["submitted"], 1);

    // Withdrawn: the unit no longer sees it; a withdrawn one cannot be again.
    let other = return_at(&app, PD, "上海市浦东新区人民政府").await;
    let other_id = other["id"].as_str().unwrap();
    As(&app, SENDER)
        .expect(
            POST,
            &format!("/api/v1/form-returns/{other_id}/withdrawal"),
            None,
            json!(null),
            200,
        )
        .await;
    app.get_json(PD, &format!("/api/v1/form-returns/{other_id}"), 404)
        .await;
    let list = app.get_json(PD, "/api/v1/form-returns", 200).await;
    assert!(list.as_array().unwrap().is_empty(), "{list}");
    As(&app, SENDER)
        .refused(
            POST,
            &format!("/api/v1/form-returns/{other_id}/withdrawal"),
            None,
            json!(null),
            409,
            "return_state",
        )
        .await;
    // The next version starts from the distributed one, as a draft.
    let v2 = As(&app, SENDER)
        .expect(
            POST,
            &format!("/api/v1/forms/{form}/versions"),
            None,
            json!(null),
            201,
        )
        .await;
    assert_eq!(
        (v2["version"].as_i64(), v2["status"].as_str()),
        (Some(2), Some("draft"))
    );
    As(&app, SENDER)
        .refused(
            POST,
            &format!("/api/v1/forms/{form}/versions"),
            None,
            json!(null),
            409,
            "form_not_latest",
        )
        .await;
    let _ = GET;
}
