//! Applicant intake (GK-14, GK-15): one-net sign-in and prefill, SMS-verified
//! disclosure requests, their case numbers and statutory dates, and who may
//! see them.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use time::{Date, Duration as Days, OffsetDateTime, UtcOffset, Weekday};

use crate::common::{Options, TestApp, TestDb, problem, spawn_app, spawn_with};

const PDF: &[u8] = b"%PDF-1.4\n% test attachment\n";

/// A verification token for `phone`, earned the way an applicant earns it:
/// ask for a code, read it off the phone (the SMS stand-in), verify it.
pub(crate) async fn verified(app: &TestApp, phone: &str, purpose: &str) -> String {
    let before = app.sms_to(phone).await.len();
    let resp = app
        .post_json(
            "/m/v1/verification-codes",
            json!({ "phone": phone, "purpose": purpose }),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 202);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let code = loop {
        let got = app.sms_to(phone).await;
        if got.len() > before {
            break got.last().unwrap()["params"]["code"]
                .as_str()
                .unwrap()
                .to_owned();
        }
        assert!(std::time::Instant::now() < until, "no code reached {phone}");
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    };
    app.posted(
        "/m/v1/verification-codes/verify",
        json!({ "phone": phone, "purpose": purpose, "code": code }),
        200,
    )
    .await["verification_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Signs in at the one-net stand-in as `uid` and trades the ticket for an
/// applicant session.
pub(crate) async fn onenet_session(app: &TestApp, uid: &str) -> String {
    let ticket = app
        .posted("/stand-in/onenet/tickets", json!({ "uid": uid }), 201)
        .await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let body: Value = app
        .posted(
            "/m/v1/applicant/session",
            json!({ "onenet_ticket": ticket }),
            201,
        )
        .await;
    assert_eq!(body["onenet"], true);
    // The ticket is single use.
    let again = app
        .post_json(
            "/m/v1/applicant/session",
            json!({ "onenet_ticket": ticket }),
        )
        .await;
    problem(again, 401, "invalid_onenet_ticket").await;
    body["access_token"].as_str().unwrap().to_owned()
}

/// Signs in by a phone verified with an SMS code.
async fn phone_session(app: &TestApp, phone: &str) -> String {
    let token = verified(app, phone, "applicant_login").await;
    app.posted(
        "/m/v1/applicant/session",
        json!({ "verification_token": token }),
        201,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn submit(
    app: &TestApp,
    session: Option<&str>,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/m/v1/disclosure-requests"))
        .json(body);
    if let Some(s) = session {
        req = req.bearer_auth(s);
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap()
}

pub(crate) fn typed_citizen(agency: &str, token: &str) -> Value {
    json!({
        "agency_id": agency,
        "applicant": {
            "kind": "citizen",
            "name": "吴晓",
            "id_type": "resident_id",
            "id_number": "310112197802010039",
            "address": "上海市闵行区七宝镇1号",
        },
        "description": "2025年徐家汇街道老旧小区加装电梯补贴资金的分配名单",
        "purpose": "了解补贴政策执行情况",
        "delivery_method": "online",
        "verification_token": token,
    })
}

async fn cases_of(app: &TestApp, user: &str) -> Vec<Value> {
    app.get_json(user, "/api/v1/disclosure/cases", 200).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

pub(crate) fn shanghai_today() -> Date {
    OffsetDateTime::now_utc()
        .to_offset(UtcOffset::from_hms(8, 0, 0).unwrap())
        .date()
}

#[tokio::test]
async fn an_applicant_signed_in_at_one_net_files_a_request_and_follows_it() {
    let app = spawn_app().await;
    let agencies = app
        .get_as(
            None,
            "/m/v1/disclosure/agencies?q=%E5%BE%90%E5%AE%B6%E6%B1%87",
        )
        .await;
    assert_eq!(agencies.status().as_u16(), 200);
    let agencies: Value = agencies.json().await.unwrap();
    assert_eq!(agencies["items"][0]["name"], "徐家汇街道办事处");
    let agency = agencies["items"][0]["id"].as_str().unwrap().to_owned();

    // The form's prefill comes from the one-net profile, masked for display.
    let session = onenet_session(&app, "onenet-citizen-zhou").await;
    let prefill = app.bearer_json(&session, "/m/v1/applicant/profile").await;
    assert_eq!(prefill["kind"], "citizen");
    assert_eq!(
        prefill["fields"]["name"],
        json!({ "value": "周明", "from_onenet": true, "masked": false })
    );
    assert_eq!(
        prefill["fields"]["id_number"]["value"],
        "310***********0021"
    );
    assert_eq!(prefill["fields"]["phone"]["value"], "199****1001");
    assert_eq!(prefill["fields"]["id_type"]["value"], "居民身份证");

    let token = verified(&app, "19900001001", "disclosure_request").await;
    let body = json!({
        "agency_id": agency,
        "applicant": { "from_onenet": true },
        "description": "徐家汇街道2025年度老旧小区综合改造项目的招标文件及中标结果",
        "purpose": "了解本小区改造安排",
        "delivery_method": "post",
        "postal_address": "上海市徐汇区漕溪北路1号",
        "verification_token": token,
        "attachments": [{
            "file_name": "身份证明.pdf",
            "content_type": "application/pdf",
            "content_base64": STANDARD.encode(PDF),
        }],
    });
    // A one-net sign-in is not an SMS verification: the token is needed.
    let mut untokened = body.clone();
    untokened
        .as_object_mut()
        .unwrap()
        .remove("verification_token");
    let p = problem(
        submit(&app, Some(&session), Some("req-0000-abcdef"), &untokened).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(p["field"], "verification_token");
    let resp = submit(&app, Some(&session), Some("req-0001-abcdef"), &body).await;
    assert_eq!(resp.status().as_u16(), 201);
    let receipt: Value = resp.json().await.unwrap();
    let year = receipt["received_on"].as_str().unwrap()[..4].to_owned();
    assert_eq!(receipt["case_no"], format!("310104-XJH-{year}-00001"));
    assert_eq!(receipt["status"], "registered");
    assert_eq!(receipt["status_label"], "已登记");
    assert_eq!(receipt["agency"]["name"], "徐家汇街道办事处");
    let received = Date::parse(
        receipt["received_on"].as_str().unwrap(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    assert!(received >= shanghai_today());
    assert!(receipt["due_on"].as_str().unwrap() > receipt["received_on"].as_str().unwrap());

    // A retry (the phone lost the answer) gets the same receipt, files
    // nothing new; the same key on another request is refused.
    let again = submit(&app, Some(&session), Some("req-0001-abcdef"), &body).await;
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.json::<Value>().await.unwrap(), receipt);
    // A client that serialises the body again, members in another order,
    // gets the stored receipt too.
    let members: Vec<String> = body
        .as_object()
        .unwrap()
        .iter()
        .rev()
        .map(|(k, v)| format!("{}: {v}", json!(k)))
        .collect();
    let reordered = app
        .client
        .post(app.url("/m/v1/disclosure-requests"))
        .bearer_auth(&session)
        .header("Idempotency-Key", "req-0001-abcdef")
        .header("content-type", "application/json")
        .body(format!("{{ {} }}", members.join(",\n ")))
        .send()
        .await
        .unwrap();
    assert_eq!(reordered.status().as_u16(), 201);
    assert_eq!(reordered.json::<Value>().await.unwrap(), receipt);
    let mut other = body.clone();
    other["purpose"] = json!("另一个用途");
    problem(
        submit(&app, Some(&session), Some("req-0001-abcdef"), &other).await,
        409,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM disclosure_cases").await, 1);

    // The receipt reaches the verified phone.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let texts: Vec<String> = app
            .sms_to("19900001001")
            .await
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
            .collect();
        if let Some(t) = texts.iter().find(|t| t.contains("已登记")) {
            assert!(t.contains(receipt["case_no"].as_str().unwrap()), "{t}");
            assert!(t.contains(receipt["due_on"].as_str().unwrap()), "{t}");
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "no receipt SMS: {texts:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The applicant sees the request, its status and timeline.
    let mine = app.bearer_json(&session, "/m/v1/disclosure-requests").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let id = receipt["id"].as_str().unwrap();
    let detail = app
        .bearer_json(&session, &format!("/m/v1/disclosure-requests/{id}"))
        .await;
    assert_eq!(detail["case_no"], receipt["case_no"]);
    assert_eq!(detail["delivery_method"], "post");
    assert_eq!(
        detail["applicant"],
        json!({ "kind": "citizen", "name": "周*", "id_number": "310***********0021",
                "phone": "199****1001", "from_onenet": true })
    );
    assert_eq!(detail["timeline"][0]["kind"], "received");
    assert_eq!(detail["timeline"][0]["label"], "收到申请");
    let sm3: String = api::crypto::sm3(PDF)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(detail["attachments"][0]["sm3"], sm3);
    assert_eq!(detail["attachments"][0]["size_bytes"], PDF.len());

    // The receiving agency's handler sees the new case; another unit's
    // dispatcher does not; an applicant account is not a handler.
    let listed = cases_of(&app, "xjh_handler").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["case_no"], receipt["case_no"]);
    assert_eq!(listed[0]["applicant"], "周*");
    let remaining = listed[0]["remaining_working_days"].as_i64().unwrap();
    if received == shanghai_today() {
        assert_eq!(remaining, 20);
    } else {
        assert_eq!(remaining, 21, "received on the next working day");
    }
    assert!(cases_of(&app, "pd_dispatcher").await.is_empty());
    problem(
        app.get_as(Some("applicant_zhou"), "/api/v1/disclosure/cases")
            .await,
        403,
        "forbidden",
    )
    .await;
    let denied = app
        .audited_with("disclosure.case.list", Some("denied"))
        .await;
    assert_eq!(denied, 1);

    // Someone else, signed in by their own phone, sees none of it.
    let stranger = phone_session(&app, "19912340000").await;
    let theirs = app
        .bearer_json(&stranger, "/m/v1/disclosure-requests")
        .await;
    assert_eq!(theirs["items"], json!([]));
    problem(
        app.get_bearer(&stranger, &format!("/m/v1/disclosure-requests/{id}"))
            .await,
        404,
        "not_found",
    )
    .await;
    // Signing out ends the session.
    let out = app
        .call(
            reqwest::Method::DELETE,
            "/m/v1/applicant/session",
            &stranger,
            None,
        )
        .await;
    assert_eq!(out.status().as_u16(), 204);
    problem(
        app.get_bearer(&stranger, "/m/v1/disclosure-requests").await,
        401,
        "unauthenticated",
    )
    .await;

    // Audited, with the phone masked.
    let audit = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'disclosure.request.submit' AND actor_label = '申请人（199****1001）'")
        .await;
    assert_eq!(audit, 1);
    let logs = app.logs().join("\n");
    assert!(!logs.contains("19900001001") && !logs.contains("310104198503120021"));
}

#[tokio::test]
async fn a_company_signed_in_by_phone_types_its_details() {
    let app = spawn_app().await;
    let agency = app.unit_id("310115").await;
    let session = phone_session(&app, "19912340001").await;
    let prefill = app.bearer_json(&session, "/m/v1/applicant/profile").await;
    assert_eq!(
        prefill,
        json!({ "kind": null, "from_onenet": false,
                "fields": { "phone": { "value": "199****0001", "from_onenet": false, "masked": true } } })
    );
    // Signed in by an SMS code just now: that verification covers one
    // request, so no second code (Aliyun would not send it within a minute).
    let body = json!({
        "agency_id": agency,
        "applicant": {
            "kind": "company",
            "name": "上海浦江示范科技有限公司",
            "uscc": "91310115MA1K4ABCDD",
            "legal_representative": "王强",
            "contact_name": "陈静",
        },
        "description": "浦东新区2025年度科技型中小企业扶持资金的申报指南",
        "purpose": "企业申报",
        "delivery_method": "online",
    });
    // An organisation says what kind it is (the annual report's column).
    let resp = submit(&app, Some(&session), Some("company-key-0"), &body).await;
    assert_eq!(resp.status().as_u16(), 422);
    let refused: Value = resp.json().await.unwrap();
    assert_eq!(refused["field"], "applicant.org_type", "{refused}");
    let mut body = body;
    body["applicant"]["org_type"] = json!("commercial_enterprise");
    let resp = submit(&app, Some(&session), Some("company-key-1"), &body).await;
    assert_eq!(resp.status().as_u16(), 201);
    let receipt: Value = resp.json().await.unwrap();
    // Once only: the next request needs a code of its own.
    let p = problem(
        submit(&app, Some(&session), Some("company-key-2"), &body).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(p["field"], "verification_token");
    let mine = app.bearer_json(&session, "/m/v1/disclosure-requests").await;
    assert_eq!(mine["items"][0]["id"], receipt["id"]);
    // The district's dispatcher sees it with the company named in full.
    let listed = cases_of(&app, "pd_dispatcher").await;
    assert_eq!(listed[0]["applicant"], "上海浦江示范科技有限公司");
    assert_eq!(listed[0]["applicant_kind"], "company");
    // A handler of a Xuhui street does not.
    assert!(cases_of(&app, "xjh_handler").await.is_empty());
}

/// Changes a good request into a bad one.
type Spoil = Box<dyn Fn(&mut Value)>;

#[tokio::test]
async fn bad_requests_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let agency = app.unit_id("310104-XJH").await;
    let token = verified(&app, "19912340002", "disclosure_request").await;
    let good = typed_citizen(&agency, &token);
    let key = Some("bad-input-key-1");

    problem(
        submit(&app, None, None, &good).await,
        400,
        "idempotency_key",
    )
    .await;
    problem(
        submit(&app, None, Some("short"), &good).await,
        400,
        "idempotency_key",
    )
    .await;

    let cases: Vec<(&str, Spoil)> = vec![
        (
            "agency_id",
            Box::new(|b| b["agency_id"] = json!("01NOSUCHUNIT")),
        ),
        (
            "applicant.id_number",
            Box::new(|b| b["applicant"]["id_number"] = json!("310112197802010038")),
        ),
        (
            "applicant.name",
            Box::new(|b| b["applicant"]["name"] = json!("   ")),
        ),
        (
            "applicant.kind",
            Box::new(|b| {
                b["applicant"].as_object_mut().unwrap().remove("kind");
            }),
        ),
        (
            "applicant.uscc",
            Box::new(|b| b["applicant"]["uscc"] = json!("91310115MA1K4ABCDD")),
        ),
        (
            "applicant.from_onenet",
            Box::new(|b| b["applicant"] = json!({ "from_onenet": true })),
        ),
        (
            "applicant.name",
            Box::new(|b| b["applicant"] = json!({ "from_onenet": true, "name": "冒名" })),
        ),
        (
            "description",
            Box::new(|b| b["description"] = json!("政".repeat(2001))),
        ),
        ("description", Box::new(|b| b["description"] = json!(""))),
        ("purpose", Box::new(|b| b["purpose"] = json!("用途\u{0}"))),
        (
            "postal_address",
            Box::new(|b| b["delivery_method"] = json!("post")),
        ),
        (
            "verification_token",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("verification_token");
            }),
        ),
        (
            "verification_token",
            Box::new(|b| {
                b["verification_token"] = json!("forged-token-forged-token-forged-token-xx")
            }),
        ),
        (
            "attachments[0].content_type",
            Box::new(
                |b| b["attachments"] = json!([{ "file_name": "a.exe", "content_type": "application/x-msdownload", "content_base64": "TVo=" }]),
            ),
        ),
        (
            "attachments[0].content_base64",
            Box::new(
                |b| b["attachments"] = json!([{ "file_name": "a.pdf", "content_type": "application/pdf", "content_base64": STANDARD.encode(b"MZ not a pdf") }]),
            ),
        ),
        (
            "attachments[0].content_base64",
            Box::new(
                |b| b["attachments"] = json!([{ "file_name": "a.pdf", "content_type": "application/pdf", "content_base64": "%%%" }]),
            ),
        ),
        (
            "attachments[0].file_name",
            Box::new(
                |b| b["attachments"] = json!([{ "file_name": "../../etc/passwd", "content_type": "application/pdf", "content_base64": STANDARD.encode(PDF) }]),
            ),
        ),
        (
            "attachments[0].content_base64",
            Box::new(|b| {
                let mut big = PDF.to_vec();
                big.resize((1 << 20) + 1, b' ');
                b["attachments"] = json!([{ "file_name": "big.pdf", "content_type": "application/pdf", "content_base64": STANDARD.encode(big) }]);
            }),
        ),
    ];
    for (field, spoil) in &cases {
        let mut body = good.clone();
        spoil(&mut body);
        let p = problem(submit(&app, None, key, &body).await, 422, "invalid_field").await;
        assert_eq!(p["field"], *field, "{body:.200}");
    }
    // Wrong types and unknown fields are refused before any check.
    for spoil in [
        json!({ "description": 123 }),
        json!({ "delivery_method": "fax" }),
        json!({ "attachments": "none" }),
        json!({ "surprise": true }),
    ] {
        let mut body = good.clone();
        for (k, v) in spoil.as_object().unwrap() {
            body[k] = v.clone();
        }
        problem(submit(&app, None, key, &body).await, 400, "malformed_body").await;
    }
    // More than the body limit: refused whole.
    let mut huge = good.clone();
    huge["description"] = json!("x".repeat(6 << 20));
    problem(
        submit(&app, None, key, &huge).await,
        413,
        "payload_too_large",
    )
    .await;

    // Nothing was filed, and the token survived every refusal.
    assert_eq!(app.count("SELECT COUNT(*) FROM disclosure_cases").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 0);
    let resp = submit(&app, None, key, &good).await;
    assert_eq!(resp.status().as_u16(), 201);
    // A used token is refused on a new request; a token earned for
    // sign-in is refused for a request.
    let p = problem(
        submit(&app, None, Some("bad-input-key-2"), &good).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(p["field"], "verification_token");
    let login_token = verified(&app, "19912340003", "applicant_login").await;
    let cross = typed_citizen(&agency, &login_token);
    let p = problem(
        submit(&app, None, Some("bad-input-key-3"), &cross).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(p["field"], "verification_token");
    assert_eq!(app.count("SELECT COUNT(*) FROM disclosure_cases").await, 1);
    // Without a session the applicant routes answer 401; an official's
    // token is not an applicant session.
    problem(
        app.get_as(None, "/m/v1/disclosure-requests").await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        app.get_as(None, "/m/v1/applicant/profile").await,
        401,
        "unauthenticated",
    )
    .await;
    let both = app
        .post_json(
            "/m/v1/applicant/session",
            json!({ "verification_token": "x", "onenet_ticket": "y" }),
        )
        .await;
    problem(both, 422, "invalid_field").await;
}

#[tokio::test]
async fn parallel_retries_of_one_request_file_one_case() {
    let app = spawn_app().await;
    let agency = app.unit_id("310104-XJH").await;
    let token = verified(&app, "19912340004", "disclosure_request").await;
    let body = typed_citizen(&agency, &token);
    let answers = futures_join(&app, &body, 6).await;
    let first = &answers[0];
    assert!(answers.iter().all(|a| a == first), "{answers:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM disclosure_cases").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM disclosure_events").await, 1);
}

async fn futures_join(app: &TestApp, body: &Value, n: usize) -> Vec<Value> {
    let mut handles = Vec::new();
    for _ in 0..n {
        let (client, url, body) = (
            app.client.clone(),
            app.url("/m/v1/disclosure-requests"),
            body.clone(),
        );
        handles.push(tokio::spawn(async move {
            let resp = client
                .post(url)
                .header("Idempotency-Key", "parallel-retry-1")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201);
            resp.json::<Value>().await.unwrap()
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// The n-th working day after `start` on a week with `off` days off and
/// `on` weekend days worked: the test's own count, independent of the
/// server's calendar code.
fn nth_working_day(start: Date, n: u32, off: &BTreeSet<Date>, on: &BTreeSet<Date>) -> Date {
    let works = |d: Date| {
        on.contains(&d)
            || (!off.contains(&d) && !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday))
    };
    let mut d = start;
    let mut left = n;
    while left > 0 {
        d += Days::days(1);
        if works(d) {
            left -= 1;
        }
    }
    d
}

#[tokio::test]
async fn the_deadline_counts_working_days_on_the_calendar_data() {
    // A calendar in which today and the next two days are a holiday, and the
    // first weekend after them has a make-up working day: the request
    // submitted today is received on the first working day after the
    // holiday, and the 20 working days count the make-up day.
    let today = shanghai_today();
    let off: BTreeSet<Date> = (0..3).map(|i| today + Days::days(i)).collect();
    let mut d = today + Days::days(3);
    while d.weekday() != Weekday::Saturday {
        d += Days::days(1);
    }
    let on: BTreeSet<Date> = [d].into();
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let mut text = String::new();
    for year in today.year()..=today.year() + 1 {
        text += &format!("year {year} confirmed 测试日历\n");
        for h in off.iter().filter(|h| h.year() == year) {
            text += &format!("holiday {} 测试假日\n", h.format(fmt).unwrap());
        }
        for w in on.iter().filter(|w| w.year() == year) {
            text += &format!("workday {} 测试调休上班\n", w.format(fmt).unwrap());
        }
    }
    let file = std::env::temp_dir().join(format!("gov-calendar-{}.txt", ulid::Ulid::new()));
    std::fs::write(&file, text).unwrap();
    let env = vec![("GOV_DISCLOSURE__CALENDAR_FILE", file.display().to_string())];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let agency = app.unit_id("310104-XJH").await;
    let token = verified(&app, "19912340005", "disclosure_request").await;
    let resp = submit(
        &app,
        None,
        Some("calendar-key-1"),
        &typed_citizen(&agency, &token),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 201);
    let receipt: Value = resp.json().await.unwrap();
    let received = nth_working_day(today, 1, &off, &on);
    let due = nth_working_day(received, 20, &off, &on);
    assert_eq!(receipt["received_on"], received.format(fmt).unwrap());
    assert_eq!(receipt["due_on"], due.format(fmt).unwrap());
    assert_eq!(receipt["due_provisional"], false);
    // Without the make-up day the deadline would be a working day later.
    assert!(nth_working_day(received, 20, &off, &BTreeSet::new()) > due);
    let _ = std::fs::remove_file(file);
}
