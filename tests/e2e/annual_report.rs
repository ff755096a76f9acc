//! The annual report (GK-20): section 3 computed from the cases with a
//! drill-down to them, the entered sections checked, submit refused while
//! a check fails, return and accept by the General Office, the roll-up,
//! the `.xlsx` in the national layout, and bad input.

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::file_case;
use crate::common::{As, Options, TestApp, TestDb, spawn_app, spawn_with};

const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DRAFTER: &str = "xh_dispatcher";
const REVIEWER: &str = "gk_admin";

fn this_year() -> i32 {
    crate::disclosure::shanghai_today().year()
}

/// Concludes `case` now with a Table 3 result (or none: a broken record).
async fn conclude(app: &TestApp, case: &str, category: Option<&str>, reason: Option<&str>) {
    let db = app.db.connect().await;
    let sql = "UPDATE disclosure_cases SET status = 'concluded', concluded_at = $2, result_category = $3, \
               result_reason = $4 WHERE id = $1";
    let now = time::OffsetDateTime::now_utc();
    api::on_db!(&db, p => sqlx::query(sql).bind(case).bind(now).bind(category).bind(reason)
        .execute(p).await.map(|_| ()))
    .unwrap();
    db.close().await;
}

/// 徐汇区人民政府's cases this year: four, of which one disclosed, one
/// withheld as a state secret, one concluded without a result, one open.
async fn cases(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push(file_case(app, "310104", &format!("1991239000{n}")).await);
    }
    conclude(app, &ids[0], Some("disclosed"), None).await;
    conclude(app, &ids[1], Some("withheld"), Some("state_secret")).await;
    conclude(app, &ids[2], None, None).await;
    ids
}

fn at(report: &Value, row: &str, col: usize) -> i64 {
    report["table3"][row][col].as_i64().unwrap_or(-1)
}

#[tokio::test]
async fn a_district_drafts_checks_submits_and_the_general_office_decides() {
    let app = spawn_app().await;
    let ids = cases(&app).await;
    let (xuhui, y) = (app.unit_id("310104").await, this_year());
    let base = format!("/api/v1/annual-reports/{xuhui}/{y}");
    app.get_json(DRAFTER, &base, 404).await;
    let r = As(&app, DRAFTER)
        .expect(POST, &format!("{base}/refresh"), None, json!(null), 200)
        .await;
    // The case concluded without a result is counted nowhere, and listed.
    assert_eq!((at(&r, "new", 6), at(&r, "new", 0)), (3, 3), "{r}");
    assert_eq!(
        (
            at(&r, "disclosed", 6),
            at(&r, "withheld", 6),
            at(&r, "withheld.state_secret", 0)
        ),
        (1, 1, 1)
    );
    assert_eq!(at(&r, "carried_forward", 6), 1);
    assert_eq!(r["uncounted"].as_array().unwrap().len(), 1, "{r}");
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "uncounted")
    );
    // Drill-down from a cell to its cases.
    let cell = app
        .get_json(
            DRAFTER,
            &format!("{base}/cases?row=withheld&column=natural_person"),
            200,
        )
        .await;
    assert_eq!(cell.as_array().unwrap().len(), 1);
    assert_eq!(cell[0]["case_id"], json!(ids[1]));
    // The entered sections: a negative figure names its field.
    let mut entered = json!({
        "proactive": { "rules": { "issued": 2, "repealed": 0, "in_force": 30 },
            "normative_documents": { "issued": 5, "repealed": 1, "in_force": 120 },
            "licensing_decisions": 1200, "penalties": 300, "coercive_measures": 12, "fees_10k_yuan": "35.5" },
        "appeals": { "reconsideration": { "upheld": 2, "corrected": 1, "other": 0, "pending": 1, "total": 4 },
            "litigation_direct": { "upheld": 1, "corrected": 0, "other": 0, "pending": 0, "total": 1 },
            "litigation_after_reconsideration": { "upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0 } },
        "overview": "本年度……" });
    entered["proactive"]["penalties"] = json!(-1);
    let bad = As(&app, DRAFTER)
        .send(
            PUT,
            &format!("{base}/entered"),
            None,
            json!({ "revision": r["revision"], "entered": entered }),
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "proactive.penalties", "{body}");
    // A figure left out is 0; a partial body is checked as well.
    let partial =
        json!({ "revision": r["revision"], "entered": { "proactive": { "fees_10k_yuan": "-2" } } });
    let bad = As(&app, DRAFTER)
        .send(PUT, &format!("{base}/entered"), None, partial)
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    entered["proactive"]["penalties"] = json!(300);
    let saved = As(&app, DRAFTER)
        .expect(
            PUT,
            &format!("{base}/entered"),
            None,
            json!({ "revision": r["revision"], "entered": entered }),
            200,
        )
        .await;
    As(&app, DRAFTER)
        .refused(
            PUT,
            &format!("{base}/entered"),
            None,
            json!({ "revision": r["revision"], "entered": entered }),
            409,
            "stale_revision",
        )
        .await;
    // A failing check refuses the submit, naming it; the record mended, it goes.
    let refused = As(&app, DRAFTER)
        .send(POST, &format!("{base}/submit"), None, json!(null))
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    conclude(&app, &ids[2], Some("unable"), Some("not_held")).await;
    As(&app, DRAFTER)
        .expect(POST, &format!("{base}/refresh"), None, json!(null), 200)
        .await;
    let sent = As(&app, DRAFTER)
        .expect(POST, &format!("{base}/submit"), None, json!(null), 200)
        .await;
    assert_eq!(sent["status"], "submitted");
    assert_eq!(saved["entered"]["proactive"]["fees_10k_yuan"], "35.5");
    As(&app, DRAFTER)
        .refused(
            PUT,
            &format!("{base}/entered"),
            None,
            json!({ "revision": sent["revision"], "entered": entered }),
            409,
            "report_frozen",
        )
        .await;
    review(&app, &base, &xuhui, y).await;
    export(&app, &base).await;
    assert_eq!(app.audited("annual_report.submit").await, 2);
}

/// The General Office sees the state, returns with a reason, accepts the
/// resubmitted report and sees it in the city's roll-up.
async fn review(app: &TestApp, base: &str, xuhui: &str, y: i32) {
    let office = app.unit_id("SH-BGT").await;
    let states = app
        .get_json(
            REVIEWER,
            &format!("/api/v1/annual-reports?year={y}&unit_id={office}"),
            200,
        )
        .await;
    // The caller's own reviewing unit is the default.
    let own = app
        .get_json(REVIEWER, &format!("/api/v1/annual-reports?year={y}"), 200)
        .await;
    assert_eq!(own, states);
    let mine = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["unit_id"] == xuhui)
        .unwrap();
    assert_eq!(mine["status"], "submitted");
    assert!(
        states
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["status"] == "not_started")
    );
    As(app, DRAFTER)
        .refused(
            POST,
            &format!("{base}/accept"),
            None,
            json!(null),
            403,
            "forbidden",
        )
        .await;
    let back = As(app, REVIEWER)
        .expect(
            POST,
            &format!("{base}/return"),
            None,
            json!({ "reason": "请补充总体情况" }),
            200,
        )
        .await;
    assert_eq!(
        (back["status"].as_str(), back["return_reason"].as_str()),
        (Some("returned"), Some("请补充总体情况"))
    );
    As(app, DRAFTER)
        .expect(POST, &format!("{base}/submit"), None, json!(null), 200)
        .await;
    let done = As(app, REVIEWER)
        .expect(POST, &format!("{base}/accept"), None, json!(null), 200)
        .await;
    assert_eq!(done["status"], "accepted");
    let kinds = crate::common::kinds(&done["history"]);
    assert_eq!(
        kinds,
        [
            "created",
            "saved",
            "refreshed",
            "submitted",
            "returned",
            "submitted",
            "accepted"
        ],
        "{done}"
    );
    assert!(
        done["history"][6]["actor"]
            .as_str()
            .unwrap()
            .starts_with("韩雪")
    );
    assert_eq!(done["history"][4]["reason"], "请补充总体情况");
    As(app, REVIEWER)
        .refused(
            POST,
            &format!("{base}/return"),
            None,
            json!({ "reason": "x" }),
            409,
            "report_not_submitted",
        )
        .await;
    let city = app
        .get_json(
            REVIEWER,
            &format!("/api/v1/annual-report-rollups/{office}/{y}"),
            200,
        )
        .await;
    assert_eq!(
        (city["reports"].as_i64(), at(&city, "new", 6)),
        (Some(1), 4)
    );
    assert_eq!(app.audited("annual_report.return").await, 1);
    assert_eq!(
        app.audited_with("annual_report.accept", Some("success"))
            .await,
        1
    );
    assert_eq!(
        app.audited_with("annual_report.accept", Some("denied"))
            .await,
        1
    );
}

async fn export(app: &TestApp, base: &str) {
    let resp = app.get_as(Some(REVIEWER), &format!("{base}/export")).await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("三、依申请公开").unwrap();
    let text = |r: u32, c: u32| {
        sheet
            .get_value((r, c))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    assert_eq!(text(1, 3), "申请人情况");
    assert_eq!(text(2, 4), "法人或其他组织");
    assert_eq!(text(4, 0), "一、本年新收政府信息公开申请数量");
    assert_eq!(text(4, 9), "4");
    let merged = book
        .worksheet_merge_cells("三、依申请公开")
        .unwrap()
        .unwrap();
    assert!(merged.len() > 10, "merged header and label cells");
    assert_eq!(app.audited("annual_report.export").await, 1);
    // The whole report as PDF: the tables' labels and figures as text.
    let pdf = crate::cases::download(app, Some(REVIEWER), None, &format!("{base}/pdf")).await;
    assert_eq!(app.audited("annual_report.export").await, 2);
    if pdf.is_empty() {
        return;
    }
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(text) = crate::cases::pdf_text(&pdf) {
        for needle in [
            "政府信息公开工作年度报告",
            "一、本年新收政府信息公开申请数量",
            "四、政府信息公开行政复议、行政诉讼情况",
            "行政规范性文件",
            "社会公益",
        ] {
            assert!(
                text.contains(needle),
                "{needle} missing from the PDF:\n{text}"
            );
        }
    }
}

#[tokio::test]
async fn bad_years_other_units_and_wrong_roles_are_refused() {
    let app = spawn_app().await;
    let xuhui = app.unit_id("310104").await;
    let future = this_year() + 1;
    As(&app, DRAFTER)
        .refused(
            POST,
            &format!("/api/v1/annual-reports/{xuhui}/{future}/refresh"),
            None,
            json!(null),
            422,
            "invalid_field",
        )
        .await;
    for year in ["9223372036854775808", "二〇二六"] {
        let resp = app
            .get_as(
                Some(DRAFTER),
                &format!("/api/v1/annual-reports/{xuhui}/{year}"),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 422, "{year}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("application/problem+json"), "{ct}");
    }
    // A year before the system's data: allowed, and says there is none.
    let old = As(&app, DRAFTER)
        .expect(
            POST,
            &format!("/api/v1/annual-reports/{xuhui}/2010/refresh"),
            None,
            json!(null),
            200,
        )
        .await;
    assert_eq!(old["has_data"], false);
    // Another district's drafter finds nothing; a handler cannot review.
    app.get_json(
        "pd_dispatcher",
        &format!("/api/v1/annual-reports/{xuhui}/2010"),
        404,
    )
    .await;
    let office = app.unit_id("SH-BGT").await;
    let resp = app
        .get_as(
            Some(DRAFTER),
            &format!("/api/v1/annual-reports?year=2010&unit_id={office}"),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let bad_cell = app
        .get_as(
            Some(DRAFTER),
            &format!("/api/v1/annual-reports/{xuhui}/2010/cases?row=nope&column=total"),
        )
        .await;
    assert_eq!(bad_cell.status().as_u16(), 422);
    assert_eq!(app.count("SELECT COUNT(*) FROM annual_reports").await, 1);
}

fn with_history() -> Options {
    Options {
        demo: true,
        env: vec![("GOV_DISCLOSURE__DEMO_HISTORY", "true".to_owned())],
    }
}

/// The demo's last year: every result row of Table 3 filled, the report
/// balanced, three cases carried into this year; the district reviews its
/// street's report; a second start adds no case.
#[tokio::test]
async fn the_demo_has_a_full_last_year_that_the_district_reviews() {
    let app = spawn_with(TestDb::new().await, with_history()).await;
    let last = this_year() - 1;
    let (xuhui, street) = (app.unit_id("310104").await, app.unit_id("310104-XJH").await);
    let r = As(&app, DRAFTER)
        .expect(
            POST,
            &format!("/api/v1/annual-reports/{xuhui}/{last}/refresh"),
            None,
            json!(null),
            200,
        )
        .await;
    assert_eq!(r["has_data"], true);
    assert_eq!(
        (at(&r, "new", 6), at(&r, "carried_forward", 6)),
        (36, 3),
        "{r}"
    );
    for row in r["rows"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        if row["leaf"] == true && !["new", "carried_over"].contains(&key) {
            assert!(at(&r, key, 6) > 0, "row {key} is empty");
        }
    }
    assert!(
        at(&r, "new", 0) > 0 && at(&r, "new", 5) > 0,
        "persons and organisations"
    );
    assert_eq!(r["checks"], json!([]), "{r}");
    // The cases carried over conclude this year.
    let now = As(&app, DRAFTER)
        .expect(
            POST,
            &format!("/api/v1/annual-reports/{xuhui}/{}/refresh", last + 1),
            None,
            json!(null),
            200,
        )
        .await;
    assert_eq!(at(&now, "carried_over", 6), 3, "{now}");
    // The street's report goes to the district's disclosure administrator.
    let base = format!("/api/v1/annual-reports/{street}/{last}");
    As(&app, DRAFTER)
        .expect(POST, &format!("{base}/refresh"), None, json!(null), 200)
        .await;
    As(&app, DRAFTER)
        .expect(POST, &format!("{base}/submit"), None, json!(null), 200)
        .await;
    let list = app
        .get_json(
            "xh_gk_admin",
            &format!("/api/v1/annual-reports?year={last}"),
            200,
        )
        .await;
    let mine = list["items"]
        .as_array()
        .or(list.as_array())
        .unwrap()
        .iter()
        .find(|a| a["unit_id"] == json!(street))
        .cloned()
        .unwrap();
    assert_eq!(mine["status"], "submitted", "{list}");
    let done = As(&app, "xh_gk_admin")
        .expect(POST, &format!("{base}/accept"), None, json!(null), 200)
        .await;
    assert_eq!(done["status"], "accepted");
    let last_step = &done["history"][2];
    assert_eq!(last_step["kind"], "accepted", "{done}");
    assert_eq!(last_step["label"], "采纳");
    assert!(
        last_step["actor"].as_str().unwrap().starts_with("潘悦"),
        "{done}"
    );
    // Not the city's General Office's to decide.
    let gk = As(&app, REVIEWER)
        .send(
            POST,
            &format!("{base}/return"),
            None,
            json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(gk.status().as_u16(), 404);
    // Loaded once.
    let cases = app.count("SELECT COUNT(*) FROM disclosure_cases").await;
    let again = spawn_with(app.stop().await, with_history()).await;
    assert_eq!(
        again.count("SELECT COUNT(*) FROM disclosure_cases").await,
        cases
    );
    assert_eq!(cases, 68);
}
