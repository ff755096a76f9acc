//! Case handling (GK-05): the statutory flow through every branch, dispatch
//! to several units, who may see and act, idempotent retries, notices.

use serde_json::{Value, json};

use crate::common::{TestApp, problem, spawn_app};
use crate::disclosure::{onenet_session, submit, typed_citizen, verified};

/// Files a request to the unit with `code` as an applicant with `phone`;
/// answers the case id.
pub(crate) async fn file_case(app: &TestApp, code: &str, phone: &str) -> String {
    let agency = app.unit_id(code).await;
    let token = verified(app, phone, "disclosure_request").await;
    let key = format!("file-{phone}");
    let resp = submit(app, None, Some(&key), &typed_citizen(&agency, &token)).await;
    assert_eq!(resp.status().as_u16(), 201);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn user_id(app: &TestApp, login: &str) -> String {
    app.get_json(login, "/api/v1/me", 200).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One case's step endpoints, on the PC (`/api/v1/disclosure/cases/{id}`)
/// or on the phone (`/m/v1/cases/{id}`).
struct Steps<'a> {
    app: &'a TestApp,
    base: String,
}

impl<'a> Steps<'a> {
    fn pc(app: &'a TestApp, id: &str) -> Self {
        let base = format!("/api/v1/disclosure/cases/{id}");
        Self { app, base }
    }

    fn phone(app: &'a TestApp, id: &str) -> Self {
        let base = format!("/m/v1/cases/{id}");
        Self { app, base }
    }

    /// POSTs `step` as `user` with an idempotency key.
    async fn post(&self, user: &str, step: &str, key: &str, body: Value) -> reqwest::Response {
        let app = self.app;
        app.client
            .post(app.url(&format!("{}/{step}", self.base)))
            .header("x-test-user", user)
            .header("Idempotency-Key", format!("case-step-{key}"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// The step succeeds (200); answers the case as it now is.
    async fn ok(&self, user: &str, step: &str, key: &str, body: Value) -> Value {
        let resp = self.post(user, step, key, body).await;
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "{step}: {answer}");
        answer
    }

    /// The step is refused with `status` and the problem `code`.
    async fn refused(
        &self,
        user: &str,
        step: &str,
        key: &str,
        body: Value,
        status: u16,
        code: &str,
    ) -> Value {
        problem(self.post(user, step, key, body).await, status, code).await
    }
}

async fn case(app: &TestApp, user: &str, id: &str) -> Value {
    app.get_json(user, &format!("/api/v1/disclosure/cases/{id}"), 200)
        .await
}

/// The text of a PDF, as `pdftotext` (poppler-utils) extracts it. Without
/// pdftotext the check is skipped, except in CI, which installs it.
pub(crate) fn pdf_text(pdf: &[u8]) -> Option<String> {
    let file = std::env::temp_dir().join(format!("notice-{}.pdf", ulid::Ulid::new()));
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&file);
    match out {
        Ok(out) if out.status.success() => Some(String::from_utf8(out.stdout).unwrap()),
        other => {
            assert!(
                std::env::var("CI").is_err(),
                "pdftotext failed in CI: {other:?}"
            );
            eprintln!("pdftotext unavailable: PDF text not checked");
            None
        }
    }
}

/// Downloads a PDF (as `user`, or with an applicant's bearer token).
/// Empty when the server has no CJK font to set notices in (outside CI).
pub(crate) async fn download(
    app: &TestApp,
    user: Option<&str>,
    bearer: Option<&str>,
    path: &str,
) -> Vec<u8> {
    let mut req = app.client.get(app.url(path));
    if let Some(u) = user {
        req = req.header("x-test-user", u);
    }
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let resp = req.send().await.unwrap();
    if resp.status().as_u16() == 503 {
        // No CJK font on this machine: CI installs one; elsewhere say so.
        assert!(std::env::var("CI").is_err(), "no CJK font in CI");
        eprintln!("no CJK font: PDF notices not checked (apt-get install fonts-wqy-microhei)");
        return Vec::new();
    }
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    resp.bytes().await.unwrap().to_vec()
}

fn actions(case: &Value) -> Vec<&str> {
    case["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_case_goes_through_every_step_of_the_statutory_flow() {
    let app = spawn_app().await;
    let id = file_case(&app, "310104", "19912350001").await;
    let base = format!("/api/v1/disclosure/cases/{id}");
    let pc = Steps::pc(&app, &id);
    let phone = Steps::phone(&app, &id);
    let handler = user_id(&app, "xh_handler").await;

    // New: the district's dispatcher sees it to dispatch; handlers of the
    // district's office do not yet, nor anyone in Pudong.
    let inbox = app
        .get_json("xh_dispatcher", "/m/v1/cases?tab=dispatch", 200)
        .await;
    assert_eq!(inbox["tabs"][0]["count"], 1);
    assert_eq!(inbox["items"][0]["id"], id.as_str());
    let left = inbox["items"][0]["remaining_working_days"]
        .as_i64()
        .unwrap();
    assert!(left >= 20, "{left}");
    for outsider in ["xh_handler", "pd_handler", "pd_dispatcher"] {
        problem(app.get_as(Some(outsider), &base).await, 404, "not_found").await;
        let p = pc
            .post(
                outsider,
                "conclusion",
                "k-outsider",
                json!({
            "result": {"category": "disclosed"}, "reply": "x"}),
            )
            .await;
        problem(p, 404, "not_found").await;
    }
    let c = case(&app, "xh_dispatcher", &id).await;
    assert_eq!(c["status"], "registered");
    assert_eq!(actions(&c), ["assign", "dispatch", "request_correction"]);
    // Illegal from here: nothing changes.
    pc.refused(
        "xh_dispatcher",
        "conclusion",
        "k-early",
        json!({
        "result": {"category": "disclosed"}, "reply": "予以公开"}),
        409,
        "illegal_transition",
    )
    .await;

    // Send for handling to the district office's handler.
    let bgs = app.unit_id("310104-BGS").await;
    let assign = json!({ "unit_id": bgs, "assignee_id": handler, "note": "请于一周内拟办" });
    let done = pc
        .ok("xh_dispatcher", "handling", "k-assign", assign.clone())
        .await;
    assert_eq!(done["status"], "handling");
    // A retry answers the same and assigns nothing more.
    let again = pc.ok("xh_dispatcher", "handling", "k-assign", assign).await;
    assert_eq!(again, done);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM disclosure_assignments")
            .await,
        1
    );
    // The handler hears of it (no device: by SMS).
    app.wait_for_sms_with("19900000013", "待办理").await;

    // Now the handler sees it in their to-do and may act, but not dispatch.
    let inbox = app.get_json("xh_handler", "/m/v1/cases", 200).await;
    assert_eq!(inbox["tab"], "handle");
    assert_eq!(inbox["items"][0]["id"], id.as_str());
    let c = app
        .get_json("xh_handler", &format!("/m/v1/cases/{id}"), 200)
        .await;
    assert_eq!(
        actions(&c),
        [
            "request_correction",
            "start_consultation",
            "extend",
            "conclude"
        ]
    );
    assert_eq!(c["applicant"]["name"], "吴*");
    phone
        .refused(
            "xh_handler",
            "dispatch",
            "k-h-dispatch",
            json!({ "unit_ids": [bgs] }),
            403,
            "forbidden",
        )
        .await;
    assert_eq!(
        app.audited_with("disclosure.case.step", Some("denied"))
            .await,
        1
    );

    // Correction: the clock stops, a notice waits for its seal.
    let done = pc
        .ok(
            "xh_handler",
            "correction",
            "k-corr",
            json!({ "items": "请写明所需信息的文件名称或文号" }),
        )
        .await;
    assert_eq!(done["status"], "correction");
    assert_eq!(done["due_on"], Value::Null);
    let c = case(&app, "xh_handler", &id).await;
    assert_eq!(c["notices"][0]["kind"], "correction");
    assert_eq!(c["notices"][0]["seal_status"], "awaiting_seal");
    assert_eq!(c["notices"][0]["sm3"].as_str().unwrap().len(), 64);
    assert!(c["correction_due_on"].is_string());
    // The notice, as PDF, holds the case number and its Chinese text.
    let notice = c["notices"][0]["id"].as_str().unwrap();
    let pdf = download(
        &app,
        Some("xh_handler"),
        None,
        &format!("{base}/notices/{notice}/pdf"),
    )
    .await;
    assert!(pdf.is_empty() || pdf.starts_with(b"%PDF-"));
    if !pdf.is_empty()
        && let Some(text) = pdf_text(&pdf)
    {
        let flat: String = text.split_whitespace().collect();
        assert!(flat.contains("政府信息公开申请补正告知书"), "{text}");
        assert!(flat.contains(c["case_no"].as_str().unwrap()), "{text}");
        assert!(flat.contains("请写明所需信息的文件名称或文号"), "{text}");
        assert!(
            flat.contains("吴晓："),
            "addressed to the applicant by name: {text}"
        );
        assert!(flat.contains("待加盖印章"), "{text}");
    }
    problem(
        app.get_as(Some("pd_handler"), &format!("{base}/notices/{notice}/pdf"))
            .await,
        404,
        "not_found",
    )
    .await;
    for (path, body) in [
        (
            "conclusion",
            json!({"result": {"category": "disclosed"}, "reply": "x"}),
        ),
        (
            "extension",
            json!({"working_days": 5, "reason": "x", "approver_id": handler}),
        ),
        ("correction", json!({"items": "again"})),
        ("abandonment", json!({})),
    ] {
        let code = if path == "abandonment" {
            "correction_not_overdue"
        } else {
            "illegal_transition"
        };
        pc.refused(
            "xh_handler",
            path,
            &format!("k-bad-{path}"),
            body,
            409,
            code,
        )
        .await;
    }

    // The corrected request arrives: the clock restarts from it.
    let done = pc
        .ok(
            "xh_handler",
            "correction-received",
            "k-corrected",
            json!({}),
        )
        .await;
    assert_eq!(done["status"], "handling");
    let restarted = done["remaining_working_days"].as_i64().unwrap();
    assert!((20..=21).contains(&restarted), "{done}");
    // A second correction is refused (once only).
    pc.refused(
        "xh_handler",
        "correction",
        "k-corr-2",
        json!({ "items": "再补正" }),
        409,
        "correction_once",
    )
    .await;

    // Consultation pauses the clock; ended the same day it moves nothing.
    let due = done["due_on"].clone();
    let paused = pc.ok("xh_handler", "consultation", "k-consult", json!({ "third_party": "上海某某物业有限公司", "matter": "拟公开的合同中涉及贵公司的报价" })).await;
    assert_eq!(paused["status"], "consultation");
    assert_eq!(paused["remaining_working_days"], Value::Null);
    let resumed = pc
        .ok(
            "xh_handler",
            "consultation-end",
            "k-consult-end",
            json!({ "outcome": "no_answer" }),
        )
        .await;
    assert_eq!(resumed["due_on"], due);

    // Extension: approved by the head of the disclosure office, once.
    pc.refused("xh_handler", "extension", "k-ext-bad", json!({ "working_days": 5, "reason": "需要调取档案", "approver_id": user_id(&app, "pd_admin").await }), 422, "invalid_field").await;
    pc.refused("xh_handler", "extension", "k-ext-long", json!({ "working_days": 21, "reason": "需要调取档案", "approver_id": user_id(&app, "xh_admin").await }), 422, "invalid_field").await;
    let extended = pc.ok("xh_handler", "extension", "k-ext", json!({ "working_days": 5, "reason": "需要调取档案", "approver_id": user_id(&app, "xh_admin").await })).await;
    assert_eq!(
        extended["remaining_working_days"].as_i64().unwrap(),
        resumed["remaining_working_days"].as_i64().unwrap() + 5
    );
    pc.refused("xh_handler", "extension", "k-ext-2", json!({ "working_days": 1, "reason": "再延", "approver_id": user_id(&app, "xh_admin").await }), 409, "extension_once").await;

    // Conclusion: one Table 3 row, checked.
    pc.refused(
        "xh_handler",
        "conclusion",
        "k-end-bad",
        json!({ "result": {"category": "withheld"}, "reply": "不予公开" }),
        422,
        "invalid_field",
    )
    .await;
    let done = pc.ok("xh_handler", "conclusion", "k-end", json!({ "result": {"category": "withheld", "reason": "third_party_rights"}, "reply": "经征求第三方意见，不予公开。" })).await;
    assert_eq!(done["status"], "concluded");
    let c = case(&app, "xh_handler", &id).await;
    assert_eq!(
        c["result"],
        json!({"category": "withheld", "reason": "third_party_rights"})
    );
    assert_eq!(c["actions"], json!([]));
    let kinds = crate::common::kinds(&c["notices"]);
    assert_eq!(
        kinds,
        ["correction", "consultation", "extension", "conclusion"]
    );
    let steps = crate::common::kinds(&c["timeline"]);
    assert_eq!(
        steps,
        [
            "received",
            "assign",
            "request_correction",
            "corrected",
            "start_consultation",
            "end_consultation",
            "extend",
            "conclude"
        ]
    );
    // Every event says how many working days were left.
    assert!(c["timeline"][3]["detail"]["remaining_working_days"].is_i64());
    pc.refused(
        "xh_handler",
        "consultation",
        "k-after",
        json!({ "third_party": "x", "matter": "y" }),
        409,
        "illegal_transition",
    )
    .await;
    assert_eq!(
        app.audited_with("disclosure.case.step", Some("success"))
            .await,
        7
    );
}

#[tokio::test]
async fn the_applicant_sees_the_milestones_but_not_the_internal_steps() {
    let app = spawn_app().await;
    let session = onenet_session(&app, "onenet-citizen-li").await;
    let token = verified(&app, "19900001002", "disclosure_request").await;
    let xjh = app.unit_id("310104-XJH").await;
    let mut body = typed_citizen(&xjh, &token);
    body["applicant"] = json!({ "from_onenet": true });
    let resp = submit(&app, Some(&session), Some("milestones-1"), &body).await;
    assert_eq!(resp.status().as_u16(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pc = Steps::pc(&app, &id);
    pc.ok(
        "xh_dispatcher",
        "handling",
        "a-1",
        json!({ "unit_id": xjh, "note": "内部备注" }),
    )
    .await;
    pc.ok(
        "xjh_handler",
        "conclusion",
        "a-2",
        json!({ "result": {"category": "disclosed"}, "reply": "予以公开，见附件。" }),
    )
    .await;
    let detail = app
        .bearer_json(&session, &format!("/m/v1/disclosure-requests/{id}"))
        .await;
    let steps = crate::common::kinds(&detail["timeline"]);
    assert_eq!(steps, ["received", "conclude"]);
    assert_eq!(detail["status"], "concluded");
    assert_eq!(detail["status_label"], "已办结");
    assert_eq!(detail["timeline"][1]["actor"], "徐家汇街道办事处");
    assert_eq!(detail["timeline"][1]["label"], "办结");
    assert!(!detail.to_string().contains("内部备注"));
    // The reply notice is the applicant's to download.
    assert_eq!(detail["notices"].as_array().unwrap().len(), 1);
    let pdf_path = detail["notices"][0]["pdf"].as_str().unwrap();
    let pdf = download(&app, None, Some(&session), pdf_path).await;
    if !pdf.is_empty()
        && let Some(text) = pdf_text(&pdf)
    {
        let flat: String = text.split_whitespace().collect();
        assert!(
            flat.contains("政府信息公开申请答复书") && flat.contains("李娜："),
            "{text}"
        );
        assert!(flat.contains("予以公开"), "{text}");
    }
}

#[tokio::test]
async fn a_case_dispatched_to_three_units_shows_who_answered_and_who_is_late() {
    let app = spawn_app().await;
    let id = file_case(&app, "310104", "19912350003").await;
    let base = format!("/api/v1/disclosure/cases/{id}");
    let phone = Steps::phone(&app, &id);
    let (bgs, xjh, jyj) = (
        app.unit_id("310104-BGS").await,
        app.unit_id("310104-XJH").await,
        app.unit_id("310104-JYJ").await,
    );
    problem(
        app.get_as(Some("xjh_handler"), &base).await,
        404,
        "not_found",
    )
    .await;
    // Units outside the dispatcher's district, or named twice, are refused
    // and nothing is stored.
    for (units, field) in [
        (json!([bgs, app.unit_id("310115").await]), "unit_ids[1]"),
        (json!([bgs, bgs]), "unit_ids[1]"),
        (json!([]), "unit_ids"),
    ] {
        let p = phone
            .refused(
                "xh_dispatcher",
                "dispatch",
                "d-bad",
                json!({ "unit_ids": units }),
                422,
                "invalid_field",
            )
            .await;
        assert_eq!(p["field"], field);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM disclosure_assignments")
            .await,
        0
    );
    let done = phone
        .ok(
            "xh_dispatcher",
            "dispatch",
            "d-1",
            json!({ "unit_ids": [bgs, xjh, jyj], "note": "请各自提供本单位掌握的部分" }),
        )
        .await;
    assert_eq!(done["status"], "handling");

    // Each unit's handler owes a part and now sees the case.
    let inbox = app
        .get_json("xjh_handler", "/m/v1/cases?tab=reply", 200)
        .await;
    assert_eq!(inbox["items"][0]["id"], id.as_str());
    assert_eq!(
        inbox["tabs"][2],
        json!({ "tab": "reply", "label": "待答复", "count": 1 })
    );
    phone
        .ok(
            "xh_handler",
            "reply",
            "r-bgs",
            json!({ "answer": "区府办未掌握相关信息" }),
        )
        .await;
    phone
        .ok(
            "xjh_handler",
            "reply",
            "r-xjh",
            json!({ "answer": "见附件清单" }),
        )
        .await;
    // A part answered is not answered again.
    phone
        .refused(
            "xjh_handler",
            "reply",
            "r-xjh-2",
            json!({ "answer": "补充" }),
            403,
            "forbidden",
        )
        .await;
    // The education bureau lets its due date pass (as if a day went by).
    let db = app.db.connect().await;
    let sql = "UPDATE disclosure_assignments SET due_on = '2000-01-03' WHERE unit_id = $1";
    api::on_db!(&db, p => sqlx::query(sql).bind(&jyj).execute(p).await.map(|_| ())).unwrap();
    let c = case(&app, "xh_dispatcher", &id).await;
    let parts: Vec<(String, String, bool)> = c["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["unit"]["name"].as_str().unwrap().to_owned(),
                a["status"].as_str().unwrap().to_owned(),
                a["late"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            (
                "徐汇区人民政府办公室".to_owned(),
                "answered".to_owned(),
                false
            ),
            ("徐家汇街道办事处".to_owned(), "answered".to_owned(), false),
            ("徐汇区教育局".to_owned(), "open".to_owned(), true),
        ]
    );
    // Someone in Pudong sees none of it.
    problem(
        app.get_as(Some("pd_handler"), &base).await,
        404,
        "not_found",
    )
    .await;
    let listed = app
        .get_json("pd_dispatcher", "/api/v1/disclosure/cases", 200)
        .await;
    assert_eq!(listed["items"], json!([]));
    // The units' handlers find it in their case list too.
    let listed = app
        .get_json(
            "xjh_handler",
            "/api/v1/disclosure/cases?case_no=310104-",
            200,
        )
        .await;
    assert_eq!(listed["items"][0]["id"], id.as_str());
}

/// What the two-pages stand-in holds for `uid`, waiting until it holds `n`.
async fn page_of(app: &TestApp, uid: &str, n: usize) -> Vec<Value> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v: Value = app
            .get_as(
                None,
                &format!("/stand-in/two-pages/milestones?onenet_uid={uid}"),
            )
            .await
            .json()
            .await
            .unwrap();
        let got = v["milestones"].as_array().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        assert!(std::time::Instant::now() < until, "{uid} got {got:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn milestones_reach_the_applicants_page_retried_after_the_platform_fails() {
    let app = spawn_app().await;
    // The platform is down for the first two attempts.
    let fault = json!({ "status": 503, "retry_after_secs": 1, "times": 2 });
    let resp = app.post_json("/stand-in/two-pages/faults", fault).await;
    assert_eq!(resp.status().as_u16(), 204);
    let session = onenet_session(&app, "onenet-company-pujiang").await;
    let token = verified(&app, "19900001003", "disclosure_request").await;
    let xjh = app.unit_id("310104-XJH").await;
    let mut body = typed_citizen(&xjh, &token);
    body["applicant"] = json!({ "from_onenet": true, "org_type": "research_institution" });
    let resp = submit(&app, Some(&session), Some("two-pages-1"), &body).await;
    assert_eq!(resp.status().as_u16(), 201);
    let receipt: Value = resp.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap();
    let pc = Steps::pc(&app, id);
    let started = std::time::Instant::now();
    let page = page_of(&app, "onenet-company-pujiang", 1).await;
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "retried before Retry-After"
    );
    assert_eq!(page[0]["milestone"], "received");
    assert_eq!(page[0]["page"], "company");
    assert_eq!(page[0]["case_no"], receipt["case_no"]);
    assert_eq!(page[0]["due_on"], receipt["due_on"]);

    // Internal steps are not pushed; milestones and notices are.
    pc.ok(
        "xh_dispatcher",
        "handling",
        "tp-1",
        json!({ "unit_id": xjh }),
    )
    .await;
    pc.ok(
        "xjh_handler",
        "correction",
        "tp-2",
        json!({ "items": "请补充文件名称" }),
    )
    .await;
    let page = page_of(&app, "onenet-company-pujiang", 2).await;
    assert_eq!(page.len(), 2, "{page:?}");
    let m = &page[1];
    assert_eq!(m["milestone"], "request_correction");
    assert_eq!(m["title"], "告知补正");
    assert_eq!(m["status"], "correction");
    let link = m["notice"]["download_url"].as_str().unwrap();
    assert!(
        link.ends_with("/pdf")
            && link.contains(&format!("/m/v1/disclosure-requests/{id}/notices/")),
        "{link}"
    );
    assert_eq!(m["notice"]["title"], "政府信息公开申请补正告知书");
    assert_eq!(m["notice"]["sm3"].as_str().unwrap().len(), 64);
    // The link works for the applicant.
    let path = &link[link.find("/m/v1/").unwrap()..];
    let pdf = download(&app, None, Some(&session), path).await;
    assert!(pdf.is_empty() || pdf.starts_with(b"%PDF-"));
    // Every message was delivered once, after the failures.
    let sent = app
        .count("SELECT COUNT(*) FROM outbox WHERE provider = 'two_pages' AND status = 'sent'")
        .await;
    assert_eq!(sent, 2);
}

#[tokio::test]
async fn the_deadline_watch_warns_once_and_marks_overdue_cases() {
    let env = vec![("GOV_DISCLOSURE__WATCH_INTERVAL_SECS", "1".to_owned())];
    let db = crate::common::TestDb::new().await;
    let app = crate::common::spawn_with(
        db,
        crate::common::Options {
            demo: true,
            env: env.clone(),
        },
    )
    .await;
    // A second instance on the same database (its dispatcher off: it has no
    // stand-ins to deliver to): only one of the two runs the watch.
    let mut env = env;
    env.push(("GOV_NOTIFY__DISPATCHER__ENABLED", "false".to_owned()));
    let other =
        crate::common::spawn_with(app.db.shared(), crate::common::Options { demo: false, env })
            .await;
    let id = file_case(&app, "310104", "19912350004").await;
    let pc = Steps::pc(&app, &id);
    let handler = user_id(&app, "xjh_handler").await;
    let xjh = app.unit_id("310104-XJH").await;
    pc.ok(
        "xh_dispatcher",
        "handling",
        "w-1",
        json!({ "unit_id": xjh, "assignee_id": handler }),
    )
    .await;
    // Due today: within the warning horizon.
    let today = crate::disclosure::shanghai_today();
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let db = app.db.connect().await;
    let set_due = |due: String| {
        let db = db.clone();
        let id = id.clone();
        async move {
            let sql = "UPDATE disclosure_cases SET due_on = $1 WHERE id = $2";
            api::on_db!(&db, p => sqlx::query(sql).bind(&due).bind(&id).execute(p).await.map(|_| ())).unwrap();
        }
    };
    set_due(today.format(fmt).unwrap()).await;
    let texts = |app: &TestApp| {
        let app_base = app.base.clone();
        let client = app.client.clone();
        async move {
            let v: Value = client
                .get(format!(
                    "{app_base}/stand-in/sms/messages?phone=19900000014"
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = texts(&app).await;
        if got
            .iter()
            .any(|t| t.contains("将于") && t.contains("剩余0个工作日"))
        {
            break;
        }
        assert!(std::time::Instant::now() < until, "{got:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Past due: marked overdue, told once more; later rounds repeat nothing.
    set_due("2000-01-03".to_owned()).await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = texts(&app).await;
        if got.iter().any(|t| t.contains("已超过答复期限")) {
            break;
        }
        assert!(std::time::Instant::now() < until, "{got:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let got = texts(&app).await;
    assert_eq!(
        got.iter().filter(|t| t.contains("将于")).count(),
        1,
        "{got:?}"
    );
    assert_eq!(
        got.iter().filter(|t| t.contains("已超过")).count(),
        1,
        "{got:?}"
    );
    let overdue = app
        .count("SELECT COUNT(*) FROM disclosure_cases WHERE overdue_since IS NOT NULL")
        .await;
    assert_eq!(overdue, 1);
    let c = case(&app, "xh_dispatcher", &id).await;
    assert!(
        c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "overdue")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM job_leases").await, 1);

    // A correction not made by its deadline: the watch closes the request
    // as abandoned.
    let id2 = file_case(&app, "310104", "19912350006").await;
    Steps::pc(&app, &id2)
        .ok(
            "xh_dispatcher",
            "correction",
            "w-2",
            json!({ "items": "请说明所需信息的年份" }),
        )
        .await;
    let sql = "UPDATE disclosure_cases SET correction_due_on = '2000-01-03' WHERE id = $1";
    api::on_db!(&db, p => sqlx::query(sql).bind(&id2).execute(p).await.map(|_| ())).unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let closed = loop {
        let c = case(&app, "xh_dispatcher", &id2).await;
        if c["status"] == "concluded" {
            break c;
        }
        assert!(std::time::Instant::now() < until, "{c}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        closed["result"],
        json!({ "category": "other", "reason": "correction_overdue" })
    );
    let last = closed["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "abandon");
    assert_eq!(last["actor"], "上海市徐汇区人民政府");
    drop(other);
}

#[tokio::test]
async fn an_uncorrected_request_is_closed_as_abandoned_after_its_deadline() {
    let app = spawn_app().await;
    let id = file_case(&app, "310104-XJH", "19912350005").await;
    let pc = Steps::pc(&app, &id);
    // A dispatcher may ask for the correction before sending the case on.
    pc.ok(
        "xh_dispatcher",
        "correction",
        "ab-1",
        json!({ "items": "请说明所需信息的年份" }),
    )
    .await;
    pc.refused(
        "xh_dispatcher",
        "abandonment",
        "ab-2",
        json!({}),
        409,
        "correction_not_overdue",
    )
    .await;
    // The correction deadline passes without an answer.
    let db = app.db.connect().await;
    let sql = "UPDATE disclosure_cases SET correction_due_on = '2000-01-03' WHERE id = $1";
    api::on_db!(&db, p => sqlx::query(sql).bind(&id).execute(p).await.map(|_| ())).unwrap();
    let done = pc
        .ok(
            "xh_dispatcher",
            "abandonment",
            "ab-3",
            json!({ "note": "逾期未补正" }),
        )
        .await;
    assert_eq!(done["status"], "concluded");
    let c = case(&app, "xh_dispatcher", &id).await;
    assert_eq!(
        c["result"],
        json!({ "category": "other", "reason": "correction_overdue" })
    );
    let kinds = crate::common::kinds(&c["notices"]);
    assert_eq!(kinds, ["correction", "conclusion"]);
    assert_eq!(c["actions"], json!([]));
}
