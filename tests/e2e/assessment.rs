//! Legal affairs, the yearly work assessment (FW-02): the indicator tree
//! checked and published to the track's units, scores within the maximum
//! with a reason for each deduction, material through the file store, the
//! ranking, what a unit sees before and after the results, fuzzy search,
//! and the export in a saved choice of columns.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{As, Options, TestApp, TestDb, problem, spawn_app, spawn_with};

const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const OFFICE: &str = "fw_staff";
const XH: &str = "xh_fz";
const XH_PHONE: &str = "19900000027";

pub fn tree() -> Value {
    json!({ "categories": [
        { "name": "依法决策", "indicators": [
            { "name": "重大行政决策程序", "max_score": 10, "guide": "未履行公众参与、专家论证等程序的，每项扣2分" },
            { "name": "合法性审查", "max_score": 7.5, "guide": "未经合法性审查的，每件扣1分" } ] },
        { "name": "规范性文件管理", "indicators": [
            { "name": "备案审查", "max_score": 5, "guide": "逾期报备的，每件扣0.5分" } ] } ] })
}

/// A published assessment of the district governments: (id, indicator ids).
pub async fn published(app: &TestApp, year: i32, deadline: &str) -> (String, Vec<String>) {
    let body = json!({ "year": year, "track": "district", "deadline_on": deadline });
    let a = As(app, OFFICE)
        .expect(POST, "/api/v1/legal/assessments", None, body, 201)
        .await;
    let id = a["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/legal/assessments/{id}/indicators");
    let v = As(app, OFFICE).expect(PUT, &path, None, tree(), 200).await;
    let leaves = v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["indicators"].as_array().unwrap().iter())
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let path = format!("/api/v1/legal/assessments/{id}/publication");
    As(app, OFFICE)
        .expect(POST, &path, None, json!(null), 200)
        .await;
    (id, leaves)
}

fn score(ind: &str, s: f64, why: Option<&str>) -> Value {
    json!({ "indicator_id": ind, "score": s, "deduction_reason": why })
}

#[tokio::test]
async fn an_assessment_is_built_published_scored_ranked_and_exported() {
    let app = spawn_app().await;
    let body = json!({ "year": 2026, "track": "district", "deadline_on": "2099-12-31" });
    As(&app, XH)
        .refused(
            POST,
            "/api/v1/legal/assessments",
            None,
            body.clone(),
            403,
            "forbidden",
        )
        .await;
    let a = As(&app, OFFICE)
        .expect(POST, "/api/v1/legal/assessments", None, body.clone(), 201)
        .await;
    let id = a["id"].as_str().unwrap().to_owned();
    As(&app, OFFICE)
        .refused(
            POST,
            "/api/v1/legal/assessments",
            None,
            body,
            409,
            "assessment_exists",
        )
        .await;
    // A bad tree names every problem; nothing is written.
    let bad = json!({ "categories": [ { "name": "依法决策", "indicators": [
        { "name": "甲", "max_score": 2.25 }, { "name": "", "max_score": 5 } ] } ] });
    let path = format!("/api/v1/legal/assessments/{id}/indicators");
    let r = As(&app, OFFICE)
        .refused(PUT, &path, None, bad, 422, "invalid_fields")
        .await;
    let text = r["errors"].to_string();
    assert!(
        text.contains("categories[0].indicators[0].max_score")
            && text.contains("categories[0].indicators[1].name"),
        "{r}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM assessment_indicators")
            .await,
        0
    );
    let v = As(&app, OFFICE).expect(PUT, &path, None, tree(), 200).await;
    assert_eq!(
        (
            v["max_score"].as_f64(),
            v["categories"][0]["max_score"].as_f64()
        ),
        (Some(22.5), Some(17.5))
    );
    // Not visible to units while a draft.
    app.get_json(XH, &format!("/api/v1/legal/assessments/{id}"), 404)
        .await;
    let pubpath = format!("/api/v1/legal/assessments/{id}/publication");
    let v = As(&app, OFFICE)
        .expect(POST, &pubpath, None, json!(null), 200)
        .await;
    assert_eq!(
        (v["status"].as_str(), v["units"].as_i64()),
        (Some("published"), Some(16))
    );
    As(&app, OFFICE)
        .refused(PUT, &path, None, tree(), 409, "wrong_assessment_state")
        .await;
    app.wait_for_sms_with(XH_PHONE, "法治政府建设考核").await;
    let leaves: Vec<String> = v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["indicators"].as_array().unwrap().iter())
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();

    scores_are_checked_and_entered(&app, &id, &leaves).await;
    units_see_their_own_and_send_material(&app, &id, &leaves).await;
    ranking_and_export(&app, &id).await;

    // The results go out: every district sees the ranking; scores freeze.
    let path = format!("/api/v1/legal/assessments/{id}/results/publication");
    As(&app, OFFICE)
        .expect(POST, &path, None, json!(null), 200)
        .await;
    let r = app
        .get_json(XH, &format!("/api/v1/legal/assessments/{id}/results"), 200)
        .await;
    assert_eq!(r["rows"].as_array().unwrap().len(), 16, "{r}");
    assert_eq!(r["rows"][0]["unit_name"], "上海市浦东新区人民政府");
    assert_eq!(r["rows"][0]["rank"], 1);
    let xuhui = app.unit_id("310104").await;
    let s = format!("/api/v1/legal/assessments/{id}/units/{xuhui}/scores");
    As(&app, OFFICE)
        .refused(
            PUT,
            &s,
            None,
            json!({ "scores": [score(&leaves[0], 9.0, Some("x"))] }),
            409,
            "wrong_assessment_state",
        )
        .await;
    for (action, n) in [
        ("legal.assessment.create", 1),
        ("legal.assessment.indicators", 1),
        ("legal.assessment.publish", 1),
        ("legal.assessment.score", 2),
        ("legal.assessment.material", 1),
        ("legal.assessment.export", 1),
        ("legal.assessment.publish_results", 1),
    ] {
        assert_eq!(
            app.audited_with(action, Some("success")).await,
            n,
            "{action}"
        );
    }
    // The list is searched by year and track.
    let l = app
        .get_json(XH, "/api/v1/legal/assessments?q=2026", 200)
        .await;
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    let l = app
        .get_json(OFFICE, "/api/v1/legal/assessments?q=市级单位", 200)
        .await;
    assert_eq!(l["items"].as_array().unwrap().len(), 0);
}

async fn scores_are_checked_and_entered(app: &TestApp, id: &str, leaves: &[String]) {
    let xuhui = app.unit_id("310104").await;
    let pudong = app.unit_id("310115").await;
    let path = |u: &str| format!("/api/v1/legal/assessments/{id}/units/{u}/scores");
    for (body, field) in [
        (
            json!({ "scores": [score(&leaves[0], 10.5, None)] }),
            "scores[0].score",
        ),
        (
            json!({ "scores": [score(&leaves[0], 9.0, None)] }),
            "scores[0].deduction_reason",
        ),
        (
            json!({ "scores": [score(&leaves[0], 9.25, Some("x"))] }),
            "scores[0].score",
        ),
        (
            json!({ "scores": [score("no-such", 1.0, Some("x"))] }),
            "scores[0].indicator_id",
        ),
    ] {
        let r = As(app, OFFICE)
            .refused(PUT, &path(&xuhui), None, body, 422, "invalid_field")
            .await;
        assert!(r.to_string().contains(field), "{field}: {r}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM assessment_scores").await, 0);
    // Only the office scores.
    let ok = json!({ "scores": [score(&leaves[0], 10.0, None)] });
    As(app, XH)
        .refused(PUT, &path(&xuhui), None, ok, 403, "forbidden")
        .await;
    let xh = json!({ "scores": [score(&leaves[0], 10.0, None), score(&leaves[1], 6.0, Some("1件规章草案未经合法性审查")),
                                score(&leaves[2], 5.0, None)] });
    let v = As(app, OFFICE)
        .expect(PUT, &path(&xuhui), None, xh, 200)
        .await;
    assert_eq!(v["total"].as_f64(), Some(21.0), "{v}");
    let pd = json!({ "scores": [score(&leaves[0], 10.0, None), score(&leaves[1], 7.5, None),
                                score(&leaves[2], 4.0, Some("2件文件逾期报备"))] });
    As(app, OFFICE)
        .expect(PUT, &path(&pudong), None, pd, 200)
        .await;
}

async fn units_see_their_own_and_send_material(app: &TestApp, id: &str, leaves: &[String]) {
    let xuhui = app.unit_id("310104").await;
    let pudong = app.unit_id("310115").await;
    let own = app
        .get_json(
            XH,
            &format!("/api/v1/legal/assessments/{id}/units/{xuhui}/scores?q=合法性"),
            200,
        )
        .await;
    assert_eq!(own["lines"].as_array().unwrap().len(), 1, "{own}");
    assert_eq!(
        own["lines"][0]["deduction_reason"],
        "1件规章草案未经合法性审查"
    );
    app.get_json(
        XH,
        &format!("/api/v1/legal/assessments/{id}/units/{pudong}/scores"),
        404,
    )
    .await;
    let r = app
        .get_json(XH, &format!("/api/v1/legal/assessments/{id}/results"), 200)
        .await;
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(
        (rows.len(), rows[0]["rank"].clone()),
        (1, Value::Null),
        "{r}"
    );
    app.get_json("pd_filler", &format!("/api/v1/legal/assessments/{id}"), 404)
        .await;
    // Material explaining the deduction.
    let path = format!(
        "/api/v1/legal/assessments/{id}/units/{xuhui}/materials?indicator_id={}&name=说明.pdf",
        leaves[1]
    );
    let pdf = b"%PDF-1.4 explanation".to_vec();
    assert_eq!(
        app.post_raw(OFFICE, &path, "application/pdf", pdf.clone())
            .await
            .status()
            .as_u16(),
        403
    );
    let bad = app
        .post_raw(XH, &path, "application/pdf", b"not a pdf".to_vec())
        .await;
    problem(bad, 422, "invalid_field").await;
    let m = crate::common::ok(
        app.post_raw(XH, &path, "application/pdf", pdf.clone())
            .await,
        201,
    )
    .await;
    let own = app
        .get_json(
            XH,
            &format!("/api/v1/legal/assessments/{id}/units/{xuhui}/scores"),
            200,
        )
        .await;
    assert_eq!(own["lines"][1]["materials"][0]["id"], m["id"]);
    let file = format!(
        "/api/v1/legal/assessment-materials/{}",
        m["id"].as_str().unwrap()
    );
    let got = app.get_as(Some(OFFICE), &file).await;
    assert_eq!(got.bytes().await.unwrap().to_vec(), pdf);
    assert_eq!(
        app.get_as(Some("ghzy_fz"), &file).await.status().as_u16(),
        404
    );
}

async fn ranking_and_export(app: &TestApp, id: &str) {
    let r = app
        .get_json(
            OFFICE,
            &format!("/api/v1/legal/assessments/{id}/results"),
            200,
        )
        .await;
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let top: Vec<(i64, &str, f64)> = rows[..3]
        .iter()
        .map(|r| {
            (
                r["rank"].as_i64().unwrap(),
                r["unit_name"].as_str().unwrap(),
                r["total"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(top[0], (1, "上海市浦东新区人民政府", 21.5));
    assert_eq!(top[1], (2, "上海市徐汇区人民政府", 21.0));
    // Unscored districts tie at 0, sharing third place.
    assert_eq!((top[2].0, top[2].2), (3, 0.0));
    assert_eq!(rows[1]["deducted"].as_f64(), Some(1.5));
    assert_eq!(rows[1]["materials"], 1);
    let r = app
        .get_json(
            OFFICE,
            &format!("/api/v1/legal/assessments/{id}/results?q=徐汇"),
            200,
        )
        .await;
    assert_eq!(r["rows"].as_array().unwrap().len(), 1);

    // A saved choice of columns, and the export that follows it.
    let t = "/api/v1/export-templates/assessment_results/简表";
    let bad = As(app, OFFICE)
        .refused(
            PUT,
            t,
            None,
            json!({ "columns": ["unit", "bogus"] }),
            422,
            "invalid_field",
        )
        .await;
    assert!(bad.to_string().contains("columns[1]"), "{bad}");
    As(app, OFFICE)
        .refused(
            PUT,
            t,
            None,
            json!({ "columns": ["unit", "unit"] }),
            422,
            "invalid_field",
        )
        .await;
    As(app, OFFICE)
        .expect(
            PUT,
            t,
            None,
            json!({ "columns": ["unit", "total", "rank"] }),
            200,
        )
        .await;
    let saved = app
        .get_json(
            OFFICE,
            "/api/v1/export-templates?subject=assessment_results",
            200,
        )
        .await;
    assert_eq!(
        saved["templates"][0]["columns"],
        json!(["unit", "total", "rank"])
    );
    assert_eq!(saved["columns"].as_array().unwrap().len(), 8);
    // Another user does not see it.
    let other = app
        .get_json(
            XH,
            "/api/v1/export-templates?subject=assessment_results",
            200,
        )
        .await;
    assert_eq!(other["templates"], json!([]));
    let q = format!(
        "/api/v1/legal/assessments/{id}/export?template={}",
        "%E7%AE%80%E8%A1%A8"
    );
    let resp = app.get_as(Some(OFFICE), &q).await;
    assert_eq!(resp.status().as_u16(), 200);
    use calamine::Reader;
    let mut book =
        calamine::Xlsx::new(std::io::Cursor::new(resp.bytes().await.unwrap().to_vec())).unwrap();
    let sheet = book.worksheet_range("考核结果").unwrap();
    let text = |r: u32, c: u32| {
        sheet
            .get_value((r, c))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        (text(2, 0), text(2, 1), text(2, 2)),
        ("单位".into(), "得分".into(), "排名".into())
    );
    assert_eq!(
        (text(3, 0), text(3, 1), text(3, 2)),
        ("上海市浦东新区人民政府".into(), "21.5".into(), "1".into())
    );
    assert_eq!(text(2, 3), "");
    let bad = app
        .get_as(
            Some(OFFICE),
            &format!("/api/v1/legal/assessments/{id}/export?columns=unit,bogus"),
        )
        .await;
    problem(bad, 422, "invalid_field").await;
    let missing = app
        .get_as(
            Some(OFFICE),
            &format!("/api/v1/legal/assessments/{id}/export?template=nope"),
        )
        .await;
    problem(missing, 422, "invalid_field").await;
}

#[tokio::test]
async fn the_watch_reminds_the_assessed_units_once_before_the_deadline() {
    let env = vec![("GOV_DISCLOSURE__WATCH_INTERVAL_SECS", "1".to_owned())];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let tomorrow =
        api::calendar::ymd(crate::disclosure::shanghai_today() + time::Duration::days(1));
    published(&app, 2026, &tomorrow).await;
    // Of the sixteen districts only Xuhui has a reporting officer.
    let sql = "SELECT COUNT(*) FROM outbox WHERE kind = 'assessment_reminder'";
    crate::forms::wait_for(&app, sql, 1).await;
    app.wait_for_sms_with(XH_PHONE, "截止报送").await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(app.count(sql).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM assessment_units WHERE reminded")
            .await,
        16
    );
}
