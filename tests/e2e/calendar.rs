//! The holiday calendar kept current: importing a year through the PC API
//! and the command line, checked whole and audited; open cases counted
//! again; the weekly reminder while next year is missing.

use serde_json::{Value, json};

use crate::cases::file_case;
use crate::common::{Options, TestApp, TestDb, problem, spawn_with};
use crate::seals::user_id;

const PUT_2028: &str = "/api/v1/calendar/years/2028";

async fn put_year(app: &TestApp, user: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .header("x-test-user", user)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// 2028's National Day week as a notice might give it: 10-01 to 10-06 off,
/// no weekend worked.
fn national_day_2028() -> Value {
    json!({
        "source": "国务院办公厅关于2028年部分节假日安排的通知（测试）",
        "holidays": [{ "dates": "2028-10-01..2028-10-06", "name": "国庆节、中秋节" }],
        "workdays": [],
    })
}

async fn calendar_years(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM calendar_years").await
}

/// A case in handling whose 20 working days run from Thu 2028-09-28 over
/// National Day, counted on the statutory fallback: due Tue 2028-10-31.
async fn case_in_2028(app: &TestApp) -> String {
    let id = file_case(app, "310104", "19912370001").await;
    let xjh = app.unit_id("310104-XJH").await;
    let handler = user_id(app, "xjh_handler").await;
    let path = format!("/api/v1/disclosure/cases/{id}/handling");
    let resp = app
        .client
        .post(app.url(&path))
        .header("x-test-user", "xh_dispatcher")
        .header("Idempotency-Key", "cal-handling-1")
        .json(&json!({ "unit_id": xjh, "assignee_id": handler }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let db = app.db.connect().await;
    let sql = "UPDATE disclosure_cases SET received_on = '2028-09-28', due_on = '2028-10-31', \
               due_provisional = TRUE WHERE id = $1";
    api::on_db!(&db, p => sqlx::query(sql).bind(&id).execute(p).await.map(|_| ())).unwrap();
    db.close().await;
    id
}

async fn demo_app(env: Vec<(&'static str, String)>) -> TestApp {
    spawn_with(TestDb::new().await, Options { demo: true, env }).await
}

#[tokio::test]
async fn a_bad_year_is_refused_whole_naming_its_dates() {
    let app = demo_app(vec![]).await;
    let mut bad = national_day_2028();
    bad["holidays"] = json!([
        { "dates": "2028-10-01..2028-10-06", "name": "国庆节" },
        { "dates": "2029-01-01", "name": "元旦" },
        { "dates": "2028-02-30", "name": "春节" },
    ]);
    bad["workdays"] = json!([
        { "dates": "2028-10-09", "name": "周一" },
        { "dates": "2028-10-01", "name": "国庆节" },
    ]);
    let p = problem(
        put_year(&app, "secadmin", PUT_2028, &bad).await,
        422,
        "invalid_field",
    )
    .await;
    let detail = p["detail"].as_str().unwrap();
    for named in ["2029-01-01", "2028-02-30", "2028-10-09", "2028-10-01"] {
        assert!(detail.contains(named), "{named} not named in {detail}");
    }
    assert!(
        detail.contains("周六或周日") && detail.contains("既是放假日"),
        "{detail}"
    );
    // Wrong shapes: an unknown member, a year outside the tables, no source.
    let mut extra = national_day_2028();
    extra["bridging"] = json!([]);
    problem(
        put_year(&app, "secadmin", PUT_2028, &extra).await,
        400,
        "malformed_body",
    )
    .await;
    let p = problem(
        put_year(
            &app,
            "secadmin",
            "/api/v1/calendar/years/2150",
            &national_day_2028(),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(p["field"], "year");
    let mut unsourced = national_day_2028();
    unsourced["source"] = json!(" ");
    let p = problem(
        put_year(&app, "secadmin", PUT_2028, &unsourced).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(p["field"], "source");
    // Only a security administrator imports; the refusal is audited.
    problem(
        put_year(&app, "xh_dispatcher", PUT_2028, &national_day_2028()).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(app.audited_with("calendar.import", Some("denied")).await, 1);
    assert_eq!(calendar_years(&app).await, 0, "nothing was stored");
    assert_eq!(
        app.audited_with("calendar.import", Some("success")).await,
        0
    );
}

#[tokio::test]
async fn importing_a_year_recounts_open_cases_and_tells_their_handlers() {
    let app = demo_app(vec![]).await;
    let id = case_in_2028(&app).await;
    let before = app
        .get_json(
            "xjh_handler",
            &format!("/api/v1/disclosure/cases/{id}"),
            200,
        )
        .await;
    assert_eq!(before["due_on"], "2028-10-31");
    assert_eq!(before["due_provisional"], true);
    assert_eq!(
        before["due_label"],
        "预计2028年10月31日（以国务院公布的节假日安排为准）"
    );

    let resp = put_year(&app, "secadmin", PUT_2028, &national_day_2028()).await;
    assert_eq!(resp.status().as_u16(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(
        (report["holidays"].as_i64(), report["workdays"].as_i64()),
        (Some(6), Some(0))
    );
    // 10-05 and 10-06 are now off too: two working days later.
    assert_eq!(report["moved"][0]["case_id"], json!(id));
    assert_eq!(
        (&report["moved"][0]["from"], &report["moved"][0]["to"]),
        (&json!("2028-10-31"), &json!("2028-11-02"))
    );
    let after = app
        .get_json(
            "xjh_handler",
            &format!("/api/v1/disclosure/cases/{id}"),
            200,
        )
        .await;
    assert_eq!(after["due_on"], "2028-11-02");
    assert_eq!(after["due_provisional"], false, "2028 is published now");
    assert_eq!(after["due_label"], "2028年11月2日");
    let recounted: Vec<&Value> = after["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "deadline_recounted")
        .collect();
    assert_eq!(recounted.len(), 1, "{}", after["timeline"]);
    assert_eq!(recounted[0]["label"], "答复期限按节假日安排重新计算");
    // The handler hears of it (no device: by SMS).
    app.wait_for_sms_with("19900000014", "调整为2028-11-02")
        .await;
    assert_eq!(
        app.audited_with("calendar.import", Some("success")).await,
        1
    );
    let years = app
        .get_json("xh_dispatcher", "/api/v1/calendar/years", 200)
        .await;
    let y2028 = years
        .as_array()
        .unwrap()
        .iter()
        .find(|y| y["year"] == 2028)
        .unwrap();
    assert_eq!(y2028["published"], true);

    // The same year again moves nothing.
    let again: Value = put_year(&app, "secadmin", PUT_2028, &national_day_2028())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["moved"], json!([]));
    assert_eq!(calendar_years(&app).await, 1);
}

#[tokio::test]
async fn the_command_line_imports_a_file_and_every_instance_follows() {
    let app = demo_app(vec![("GOV_DISCLOSURE__CALENDAR_REFRESH_SECS", "1".into())]).await;
    let dir = std::env::temp_dir().join(format!("cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.txt");
    std::fs::write(
        &bad,
        "year 2027 测试\nholiday 2027-02-05..2027-02-11 春节\nworkday 2027-02-15 周一\n",
    )
    .unwrap();
    let out = app
        .cli(&["calendar", "import", bad.to_str().unwrap()])
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2027-02-15") && err.contains("nothing imported"),
        "{err}"
    );
    assert_eq!(calendar_years(&app).await, 0);

    let good = dir.join("2027.txt");
    std::fs::write(
        &good,
        "year 2027 国务院办公厅关于2027年部分节假日安排的通知（测试）\n\
         holiday 2027-01-01..2027-01-03 元旦\n\
         holiday 2027-02-05..2027-02-11 春节\n\
         workday 2027-02-20 春节调休上班\n",
    )
    .unwrap();
    let out = app
        .cli(&["calendar", "import", good.to_str().unwrap()])
        .await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("2027: 10 days off, 1 make-up working days"),
        "{said}"
    );
    // The running server, which did not import it, counts on it shortly.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let years = app
            .get_json("xh_dispatcher", "/api/v1/calendar/years", 200)
            .await;
        let published = years
            .as_array()
            .unwrap()
            .iter()
            .any(|y| y["year"] == 2027 && y["published"] == true);
        if published {
            break;
        }
        assert!(std::time::Instant::now() < until, "{years}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        app.audited_with("calendar.import", Some("success")).await,
        1
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Reminding from today (`disclosure.calendar_reminder_from`), the system
/// administrator (demo: sysadmin, 19900000001) hears once in three rounds
/// that next year is missing. The rule's dates (from 1 November, once per
/// ISO week) are unit-tested in api/src/calendar/reminder.rs.
#[tokio::test]
async fn the_watch_reminds_once_a_week_while_next_year_is_missing() {
    let today = crate::disclosure::shanghai_today();
    let from = format!("{:02}-{:02}", u8::from(today.month()), today.day());
    let env = vec![
        ("GOV_DISCLOSURE__WATCH_INTERVAL_SECS", "1".into()),
        ("GOV_DISCLOSURE__CALENDAR_REMINDER_FROM", from),
    ];
    let app = demo_app(env).await;
    let texts = app.wait_for_sms("19900000001").await;
    assert!(
        texts[0]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("{}年节假日安排尚未导入", today.year() + 1)),
        "{texts:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(app.sms_to("19900000001").await.len(), 1, "once this week");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar_reminders").await,
        1
    );
}
