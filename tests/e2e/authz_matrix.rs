//! The authorisation matrix (SEC-02): every route of the OpenAPI document,
//! called by the holders of each role in a unit (徐汇) and in a sibling unit
//! (浦东), and by the city-level administrators, against a table kept here.
//! A route in the document without a row fails the test, so a new route
//! cannot ship without saying who may call it.
//!
//! Expectations, one letter per caller in `CALLERS` order: `A` allowed (any
//! answer but 401, 403 and 404), `F` 403, `N` 404, `U` 401.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::ok;
use crate::common::{TestApp, spawn_app};
use crate::seals::{applied, apply, decide, notice, user_id, xuhui_seal};

/// Who calls: nobody, then demo users by login.
const CALLERS: [&str; 17] = [
    "",
    "xh_admin",
    "xh_dispatcher",
    "xh_handler",
    "xh_approver",
    "pd_admin",
    "pd_dispatcher",
    "pd_handler",
    "pd_approver",
    "sysadmin",
    "secadmin",
    "auditadmin",
    "applicant_zhou",
    "gk_forms",
    "xh_filler",
    "pd_filler",
    "gk_admin",
];

/// Routes that are not called here, and why.
const NOT_CALLED: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/auth/admin/login",
        "credentials, not roles: tests/e2e/identity.rs",
    ),
    (
        "POST",
        "/auth/backchannel-logout",
        "a signed logout token from the platform: tests/e2e/pc.rs",
    ),
    ("POST", "/auth/logout", "a refresh cookie: tests/e2e/pc.rs"),
    (
        "GET",
        "/auth/pc/callback",
        "the platform's redirect: tests/e2e/pc.rs",
    ),
    (
        "GET",
        "/auth/pc/login",
        "a browser redirect: tests/e2e/pc.rs",
    ),
    (
        "POST",
        "/auth/pc/logout",
        "a refresh cookie: tests/e2e/pc.rs",
    ),
    (
        "POST",
        "/auth/pc/token",
        "a refresh cookie: tests/e2e/pc.rs",
    ),
    (
        "POST",
        "/auth/refresh",
        "a refresh token: tests/e2e/identity.rs",
    ),
    (
        "POST",
        "/auth/step-up",
        "a TOTP code: tests/e2e/identity.rs",
    ),
    (
        "POST",
        "/api/v1/sync/org-changes",
        "a signed push from the platform: tests/e2e/sync.rs",
    ),
    (
        "POST",
        "/m/v1/session",
        "a Suishenban code: tests/e2e/mobile.rs",
    ),
    (
        "POST",
        "/m/v1/session/refresh",
        "a refresh token: tests/e2e/mobile.rs",
    ),
    (
        "DELETE",
        "/m/v1/session",
        "a bearer session: tests/e2e/mobile.rs",
    ),
    (
        "POST",
        "/m/v1/session/step-up",
        "a bearer session: tests/e2e/mobile.rs",
    ),
    (
        "POST",
        "/m/v1/session/step-up/sms-code",
        "a bearer session: tests/e2e/mobile.rs",
    ),
    (
        "POST",
        "/m/v1/applicant/session",
        "a verification token or one-net ticket: tests/e2e/disclosure.rs",
    ),
];

/// (method, path, body, expectations). The path and body may name the
/// fixtures: {case}, {notice}, {seal}, {grant}, {unit}, {user}, {pending},
/// {decision}, {bgs}.
const MATRIX: &[(&str, &str, &str, &str)] = &[
    ("GET", "/healthz", "", "AAAAAAAAAAAAAAAAA"),
    ("GET", "/readyz", "", "AAAAAAAAAAAAAAAAA"),
    ("GET", "/metrics", "", "AAAAAAAAAAAAAAAAA"),
    ("GET", "/.well-known/jwks.json", "", "AAAAAAAAAAAAAAAAA"),
    ("GET", "/m/v1/disclosure/agencies", "", "AAAAAAAAAAAAAAAAA"),
    (
        "POST",
        "/m/v1/verification-codes",
        r#"{"phone":"19912370000","purpose":"disclosure_request"}"#,
        "AAAAAAAAAAAAAAAAA",
    ),
    (
        "POST",
        "/m/v1/verification-codes/verify",
        r#"{"phone":"19912370000","purpose":"disclosure_request","code":"000000"}"#,
        "AAAAAAAAAAAAAAAAA",
    ),
    (
        "POST",
        "/m/v1/disclosure-requests",
        "{}",
        "AAAAAAAAAAAAAAAAA",
    ),
    // Applicant sessions only: an official's sign-in is not one.
    ("GET", "/m/v1/applicant/profile", "", "UUUUUUUUUUUUUUUUU"),
    ("DELETE", "/m/v1/applicant/session", "", "UUUUUUUUUUUUUUUUU"),
    ("GET", "/m/v1/disclosure-requests", "", "UUUUUUUUUUUUUUUUU"),
    (
        "GET",
        "/m/v1/disclosure-requests/{case}",
        "",
        "UUUUUUUUUUUUUUUUU",
    ),
    (
        "GET",
        "/m/v1/disclosure-requests/{case}/notices/{notice}/pdf",
        "",
        "UUUUUUUUUUUUUUUUU",
    ),
    // Any signed-in person.
    ("GET", "/api/v1/me", "", "UAAAAAAAAAAAAAAAA"),
    ("GET", "/m/v1/me", "", "UAAAAAAAAAAAAAAAA"),
    ("GET", "/api/v1/me/sessions", "", "UAAAAAAAAAAAAAAAA"),
    (
        "DELETE",
        "/api/v1/me/sessions/01NOSESSION0000000000000000",
        "",
        "UNNNNNNNNNNNNNNNN",
    ),
    ("GET", "/m/v1/inbox", "", "UAAAAAAAAAAAAAAAA"),
    ("GET", "/m/v1/cases", "", "UAAAAAAAAAAAAAAAA"),
    (
        "PUT",
        "/m/v1/devices/matrix-device-1",
        r#"{"platform":"android","provider":"huawei","token":"matrix-token-0123456789"}"#,
        "UAAAAAAAAAAAAAAAA",
    ),
    (
        "DELETE",
        "/m/v1/devices/matrix-device-1",
        "",
        "UAAAAAAAAAAAAAAAA",
    ),
    ("GET", "/api/v1/seals", "", "UAAAAAAAAAAAAAAAA"),
    // The org tree: within each caller's scope.
    ("GET", "/api/v1/org/units", "", "UAAAAAAAAAAAAAAAA"),
    ("GET", "/api/v1/org/units/{unit}", "", "UAANANNNNAAANNANN"),
    // Role grants: security administrators.
    (
        "POST",
        "/api/v1/users/{user}/roles",
        r#"{"role":"legal_reporter","unit_id":"{unit}"}"#,
        "UFFFFFFFFFAFFFFFF",
    ),
    // The calendar: every official reads it; security administrators
    // import a year (`{year}` stays unfilled here, so the import is 422 and
    // changes nothing).
    ("GET", "/api/v1/calendar/years", "", "UAAAAAAAAAAAFAAAA"),
    (
        "PUT",
        "/api/v1/calendar/years/{year}",
        r#"{"source":"x","holidays":[],"workdays":[]}"#,
        "UFFFFFFFFFAFFFFFF",
    ),
    // Notifications: system administrators.
    ("GET", "/api/v1/notifications", "", "UFFFFFFFFAFFFFFFF"),
    (
        "GET",
        "/api/v1/notifications/01NONOTIFICATION00000000000",
        "",
        "UFFFFFFFFNFFFFFFF",
    ),
    (
        "POST",
        "/api/v1/notifications/test-sms",
        r#"{"phone":"19912370001"}"#,
        "UFFFFFFFFAFFFFFFF",
    ),
    (
        "POST",
        "/api/v1/notifications/test",
        r#"{"user_id":"{user}"}"#,
        "UFFFFFFFFAFFFFFFF",
    ),
    // Cases: handlers and dispatchers of the unit; the assignee.
    ("GET", "/api/v1/disclosure/cases", "", "UFAAFFAAFFFFFFFFF"),
    (
        "GET",
        "/api/v1/disclosure/cases/{case}",
        "",
        "UNAANNNNNNNNNNNNN",
    ),
    ("GET", "/m/v1/cases/{case}", "", "UNAANNNNNNNNNNNNN"),
    (
        "GET",
        "/api/v1/disclosure/cases/{case}/notices/{notice}/pdf",
        "",
        "UNAAANNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/correction-received",
        "{}",
        "UNAANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/handling",
        r#"{"unit_id":"{bgs}","assignee_id":"{user}"}"#,
        "UNAFNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/cases/{case}/handling",
        r#"{"unit_id":"{bgs}","assignee_id":"{user}"}"#,
        "UNAFNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/dispatch",
        r#"{"unit_ids":["{bgs}"]}"#,
        "UNAFNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/cases/{case}/dispatch",
        r#"{"unit_ids":["{bgs}"]}"#,
        "UNAFNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/reply",
        r#"{"answer":"无"}"#,
        "UNFANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/cases/{case}/reply",
        r#"{"answer":"无"}"#,
        "UNFANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/correction",
        r#"{"items":"x"}"#,
        "UNAANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/abandonment",
        "{}",
        "UNAANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/consultation",
        r#"{"third_party":"x","matter":"y"}"#,
        "UNAANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/consultation-end",
        r#"{"outcome":"no_answer"}"#,
        "UNAANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/extension",
        r#"{"working_days":1,"reason":"x","approver_id":"{user}"}"#,
        "UNAANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/conclusion",
        r#"{"result":{"category":"disclosed"},"reply":"x"}"#,
        "UNAANNNNNNNNNNNNN",
    ),
    // Seals: the unit's administrators; grantees see their seals.
    (
        "POST",
        "/api/v1/seals",
        r#"{"unit_id":"{unit}","name":"矩阵测试章","kind":"测试","cert_ref":"x"}"#,
        "UAFFFFFFFFFFFFFFF",
    ),
    ("GET", "/api/v1/seals/{seal}", "", "UANANNNNNNNNNNNNN"),
    ("PATCH", "/api/v1/seals/{seal}", "{}", "UANFNNNNNNNNNNNNN"),
    ("DELETE", "/api/v1/seals/{seal}", "", "UANFNNNNNNNNNNNNN"),
    ("GET", "/api/v1/seals/{seal}/image", "", "UNNNNNNNNNNNNNNNN"),
    (
        "GET",
        "/api/v1/seals/{seal}/grants",
        "",
        "UANFNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/seals/{seal}/grants",
        r#"{"user_id":"{user}","reason":"x"}"#,
        "UANFNNNNNNNNNNNNN",
    ),
    (
        "GET",
        "/api/v1/units/{unit}/seal-approvers",
        "",
        "UAFFFFFFFFFFFFFFF",
    ),
    (
        "PUT",
        "/api/v1/units/{unit}/seal-approvers",
        r#"{"policy":"any","approver_ids":["{approver}"]}"#,
        "UAFFFFFFFFFFFFFFF",
    ),
    (
        "GET",
        "/api/v1/seal-statistics?unit_id={unit}",
        "",
        "UAFFFFFFFFFFFFFFF",
    ),
    (
        "GET",
        "/api/v1/seal-statistics/export?unit_id={unit}",
        "",
        "UAFFFFFFFFFFFFFFF",
    ),
    // Seal use: grantees apply; the application's approvers decide.
    (
        "POST",
        "/api/v1/seal-applications",
        r#"{"notice_id":"{notice}","seal_id":"{seal}"}"#,
        "UNFANNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/seal-applications",
        r#"{"notice_id":"{notice}","seal_id":"{seal}"}"#,
        "UNFANNNNNNNNNNNNN",
    ),
    (
        "GET",
        "/api/v1/seal-applications/{pending}",
        "",
        "UANAANNNNNNNNNNNN",
    ),
    (
        "GET",
        "/m/v1/seal-applications/{pending}",
        "",
        "UANAANNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/seal-applications/{pending}/decision",
        r#"{"decision":"reject","comment":"x"}"#,
        "UFNFANNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/seal-applications/{pending}/decision",
        r#"{"decision":"reject","comment":"x"}"#,
        "UFNFANNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/seal-applications/{pending}/withdrawal",
        "{}",
        "UFNAFNNNNNNNNNNNN",
    ),
    (
        "GET",
        "/api/v1/seal-decisions/{decision}/verification",
        "",
        "UANAANNNNNAANNNNN",
    ),
    // Forms: the senders of the form's unit (政务公开办公室) configure,
    // distribute and review; the fillers of a receiving unit (徐汇区) fill;
    // a unit not assigned (浦东) finds nothing.
    ("GET", "/api/v1/forms", "", "UAAAAAAAAAAAAAAAA"),
    (
        "POST",
        "/api/v1/forms",
        r#"{"title":"x","deadline_on":"2099-01-01","definition":{"sections":[{"fields":[{"key":"a","label":"甲","type":"integer"}]}]}}"#,
        "UFFFFFFFFFFFFAFFF",
    ),
    ("GET", "/api/v1/forms/{form}", "", "UNNNNNNNNNNNNANNN"),
    (
        "PUT",
        "/api/v1/forms/{draft}",
        r#"{"title":"x","deadline_on":"2099-01-01","definition":{"sections":[{"fields":[{"key":"a","label":"甲","type":"integer"}]}]}}"#,
        "UNNNNNNNNNNNNANNN",
    ),
    ("POST", "/api/v1/forms/{form}/copy", "", "UNNNNNNNNNNNNANNN"),
    (
        "POST",
        "/api/v1/forms/{form}/versions",
        "",
        "UNNNNNNNNNNNNANNN",
    ),
    (
        "GET",
        "/api/v1/forms/{form}/schema",
        "",
        "UNNNNNNNNNNNNANNN",
    ),
    (
        "POST",
        "/api/v1/forms/{draft}/distribution",
        r#"{"units":["{unit}"]}"#,
        "UNNNNNNNNNNNNANNN",
    ),
    (
        "GET",
        "/api/v1/forms/{form}/progress",
        "",
        "UNNNNNNNNNNNNANNN",
    ),
    (
        "GET",
        "/m/v1/forms/{form}/progress",
        "",
        "UNNNNNNNNNNNNANNN",
    ),
    (
        "GET",
        "/api/v1/forms/{form}/export",
        "",
        "UNNNNNNNNNNNNANNN",
    ),
    ("GET", "/api/v1/form-returns", "", "UAAAAAAAAAAAAAAAA"),
    ("GET", "/m/v1/forms/returns", "", "UAAAAAAAAAAAAAAAA"),
    ("GET", "/api/v1/form-returns/{ret}", "", "UNNNNNNNNNNNNAANN"),
    ("GET", "/m/v1/forms/returns/{ret}", "", "UNNNNNNNNNNNNAANN"),
    (
        "PUT",
        "/api/v1/form-returns/{ret}/draft",
        r#"{"revision":0,"answers":{}}"#,
        "UNNNNNNNNNNNNFANN",
    ),
    (
        "PUT",
        "/m/v1/forms/returns/{ret}/draft",
        r#"{"revision":0,"answers":{}}"#,
        "UNNNNNNNNNNNNFANN",
    ),
    (
        "POST",
        "/api/v1/form-returns/{ret}/submission",
        r#"{"revision":0,"answers":{}}"#,
        "UNNNNNNNNNNNNFANN",
    ),
    (
        "POST",
        "/m/v1/forms/returns/{ret}/submission",
        r#"{"revision":0,"answers":{}}"#,
        "UNNNNNNNNNNNNFANN",
    ),
    (
        "POST",
        "/api/v1/form-returns/{ret}/attachments?field=scan&name=x.pdf",
        "{}",
        "UNNNNNNNNNNNNFANN",
    ),
    (
        "GET",
        "/api/v1/form-attachments/{attachment}",
        "",
        "UNNNNNNNNNNNNAANN",
    ),
    (
        "POST",
        "/api/v1/form-returns/{ret}/review",
        r#"{"decision":"accept"}"#,
        "UNNNNNNNNNNNNAFNN",
    ),
    (
        "POST",
        "/api/v1/form-returns/{ret}/reminder",
        "",
        "UNNNNNNNNNNNNAFNN",
    ),
    // Warnings: the General Office's disclosure administrator manages
    // categories and rules; the agencies concerned (徐汇, 浦东, here) see and
    // reply to their warning; the administrator sees every reply.
    ("GET", "/api/v1/warning-categories", "", "UFFFFFFFFFFFFFFFA"),
    (
        "POST",
        "/api/v1/warning-categories",
        r#"{"name":"矩阵类别","business_type":"x"}"#,
        "UFFFFFFFFFFFFFFFA",
    ),
    (
        "PATCH",
        "/api/v1/warning-categories/{category}",
        "{}",
        "UFFFFFFFFFFFFFFFA",
    ),
    (
        "DELETE",
        "/api/v1/warning-categories/{category}",
        "",
        "UFFFFFFFFFFFFFFFA",
    ),
    ("GET", "/api/v1/warning-rules", "", "UFFFFFFFFFFFFFFFA"),
    (
        "POST",
        "/api/v1/warning-rules",
        r#"{"category_id":"{category}","name":"矩阵规则","measure":"requests","scope":"city","window":"calendar_month","threshold":9,"severity":"low"}"#,
        "UFFFFFFFFFFFFFFFA",
    ),
    (
        "GET",
        "/api/v1/warning-rules/{rule}",
        "",
        "UFFFFFFFFFFFFFFFA",
    ),
    (
        "PUT",
        "/api/v1/warning-rules/{rule}",
        r#"{"category_id":"{category}","name":"矩阵规则","measure":"requests","scope":"city","window":"calendar_month","threshold":9,"severity":"low"}"#,
        "UFFFFFFFFFFFFFFFA",
    ),
    ("GET", "/api/v1/warnings", "", "UAAAAAAAAAAAAAAAA"),
    ("GET", "/api/v1/warnings/{warning}", "", "UNANNNANNNNNNNNNA"),
    (
        "POST",
        "/api/v1/warnings/{warning}/files?name=x.pdf",
        "{}",
        "UNANNNANNNNNNNNNF",
    ),
    (
        "GET",
        "/api/v1/warning-files/{warning_file}",
        "",
        "UNANNNANNNNNNNNNA",
    ),
    (
        "POST",
        "/api/v1/warnings/{warning}/reply",
        r#"{"reply":"已处理"}"#,
        "UNANNNANNNNNNNNNF",
    ),
    ("GET", "/api/v1/warning-statistics", "", "UFFFFFFFFFFFFFFFA"),
    (
        "GET",
        "/api/v1/warning-statistics/export",
        "",
        "UFFFFFFFFFFFFFFFA",
    ),
    // The annual report of 徐汇 for 2010 (a draft), and the General Office.
    (
        "GET",
        "/api/v1/annual-reports/{xuhui}/{year}",
        "",
        "UNANNNNNNNNNNNNNA",
    ),
    (
        "POST",
        "/api/v1/annual-reports/{xuhui}/{year}/refresh",
        "",
        "UNANNNNNNNNNNNNNF",
    ),
    (
        "PUT",
        "/api/v1/annual-reports/{xuhui}/{year}/entered",
        r#"{"revision":999,"entered":{}}"#,
        "UNANNNNNNNNNNNNNF",
    ),
    (
        "POST",
        "/api/v1/annual-reports/{xuhui}/{year}/submit",
        "",
        "UNANNNNNNNNNNNNNF",
    ),
    (
        "POST",
        "/api/v1/annual-reports/{xuhui}/{year}/return",
        r#"{"reason":"矩阵"}"#,
        "UNFNNNNNNNNNNNNNA",
    ),
    (
        "POST",
        "/api/v1/annual-reports/{xuhui}/{year}/accept",
        "",
        "UNFNNNNNNNNNNNNNA",
    ),
    (
        "GET",
        "/api/v1/annual-reports/{xuhui}/{year}/cases?row=new&column=total",
        "",
        "UNANNNNNNNNNNNNNA",
    ),
    (
        "GET",
        "/api/v1/annual-reports/{xuhui}/{year}/export",
        "",
        "UNANNNNNNNNNNNNNA",
    ),
    (
        "GET",
        "/api/v1/annual-reports/{xuhui}/{year}/pdf",
        "",
        "UNANNNNNNNNNNNNNA",
    ),
    (
        "GET",
        "/api/v1/annual-reports?year=2010&unit_id={office}",
        "",
        "UFFFFFFFFFFFFFFFA",
    ),
    (
        "GET",
        "/api/v1/annual-report-rollups/{office}/{year}",
        "",
        "UFFFFFFFFFFFFFFFA",
    ),
    // Last of the forms: the draft goes, the return is taken back.
    ("DELETE", "/api/v1/forms/{draft}", "", "UNNNNNNNNNNNNANNN"),
    (
        "POST",
        "/api/v1/form-returns/{ret}/withdrawal",
        "",
        "UNNNNNNNNNNNNANNN",
    ),
    // Last: it takes the handler's grant away (the administrator calls
    // first), so the handler no longer sees the seal.
    (
        "POST",
        "/api/v1/seals/{seal}/grants/{grant}/revocation",
        r#"{"reason":"x"}"#,
        "UANNNNNNNNNNNNNNN",
    ),
];

struct Fixtures(BTreeMap<&'static str, String>);

impl Fixtures {
    fn fill(&self, s: &str) -> String {
        self.0.iter().fold(s.to_owned(), |acc, (k, v)| {
            acc.replace(&format!("{{{k}}}"), v)
        })
    }
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let seal = xuhui_seal(app, &["xh_approver"], "any").await;
    let (_, first) = notice(app, "19912370002").await;
    let (case, second) = notice(app, "19912370003").await;
    let decided = applied(app, "xh_handler", &seal, &first, "matrix-1").await;
    let decision = ok(
        decide(app, "xh_approver", &decided, "approve", "matrix-2").await,
        200,
    )
    .await;
    let pending = ok(
        apply(app, "xh_handler", &seal, &second, "matrix-3").await,
        201,
    )
    .await;
    let grants = app
        .get_json("xh_admin", &format!("/api/v1/seals/{seal}/grants"), 200)
        .await;
    let mut f = BTreeMap::new();
    // The case of the notice with the pending application.
    f.insert("case", case);
    f.insert("notice", second);
    f.insert("seal", seal);
    f.insert("grant", grants[0]["id"].as_str().unwrap().to_owned());
    f.insert("unit", app.unit_id("310104").await);
    f.insert("bgs", app.unit_id("310104-BGS").await);
    f.insert("user", user_id(app, "xh_handler").await);
    f.insert("approver", user_id(app, "xh_approver").await);
    f.insert("pending", pending["id"].as_str().unwrap().to_owned());
    f.insert(
        "decision",
        decision["decision_id"].as_str().unwrap().to_owned(),
    );
    forms_fixtures(app, &mut f).await;
    warnings_fixtures(app, &mut f).await;
    let xuhui = app.unit_id("310104").await;
    let path = format!("/api/v1/annual-reports/{xuhui}/2010/refresh");
    let resp = app
        .post_raw("xh_dispatcher", &path, "application/json", "")
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    f.insert("xuhui", xuhui);
    f.insert("office", app.unit_id("SH-BGT").await);
    f.insert("year", "2010".to_owned());
    Fixtures(f)
}

/// A rule of a category, and the warning it raised for requests to 徐汇,
/// 浦东 and the planning bureau.
async fn warnings_fixtures(app: &TestApp, f: &mut BTreeMap<&'static str, String>) {
    use crate::warnings::{category, monthly, rule};
    let cat = category(app, "矩阵测试类别").await;
    f.insert("rule", rule(app, monthly(&cat, 3)).await);
    for (code, phone) in [
        ("310104", "19912380011"),
        ("310115", "19912380012"),
        ("SH-GHZY", "19912380013"),
    ] {
        crate::cases::file_case(app, code, phone).await;
    }
    let all = crate::warnings::items(app, "gk_admin", "").await;
    let warning = all[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/warnings/{warning}/files?name=letter.pdf");
    let pdf = b"%PDF-1.4 x".to_vec();
    let file: Value = ok(
        app.post_raw("xh_dispatcher", &path, "application/pdf", pdf)
            .await,
        201,
    )
    .await;
    f.insert("warning_file", file["id"].as_str().unwrap().to_owned());
    f.insert("warning", warning);
    f.insert("category", cat);
}

/// A form distributed to 徐汇区 with an attachment on its return, and a
/// draft.
async fn forms_fixtures(app: &TestApp, f: &mut BTreeMap<&'static str, String>) {
    use crate::forms::{create_form, distribute, return_at};
    let form = create_form(app, "矩阵测试表单", "2099-12-31").await;
    distribute(app, &form).await;
    let ret = return_at(app, "xh_filler", "上海市徐汇区人民政府").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/form-returns/{ret}/attachments?field=scan&name=x.pdf");
    let a: Value = ok(
        app.post_raw(
            "xh_filler",
            &path,
            "application/pdf",
            b"%PDF-1.4 x".to_vec(),
        )
        .await,
        201,
    )
    .await;
    f.insert("attachment", a["id"].as_str().unwrap().to_owned());
    f.insert(
        "draft",
        create_form(app, "矩阵测试草稿", "2099-12-31").await,
    );
    f.insert("form", form);
    f.insert("ret", ret);
}

fn class(status: u16) -> char {
    match status {
        401 => 'U',
        403 => 'F',
        404 => 'N',
        _ => 'A',
    }
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_table_says() {
    let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut routes = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            routes.push((method.to_uppercase(), path.clone()));
        }
    }
    // Every route has a row (or a reason it is not called here).
    let rows: Vec<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _, _)| {
            (
                m.to_string(),
                p.split('?')
                    .next()
                    .unwrap()
                    .replace("{case}", "{id}")
                    .to_owned(),
            )
        })
        .chain(
            NOT_CALLED
                .iter()
                .map(|(m, p, _)| (m.to_string(), p.to_string())),
        )
        .collect();
    let normalise = |p: &str| {
        p.split('/')
            .map(|seg| {
                if seg.starts_with('{') || seg.starts_with("01NO") || seg == "matrix-device-1" {
                    "{}"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let known: Vec<(String, String)> = rows
        .iter()
        .map(|(m, p)| (m.clone(), normalise(p)))
        .collect();
    let missing: Vec<&(String, String)> = routes
        .iter()
        .filter(|(m, p)| !known.contains(&(m.clone(), normalise(p))))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the matrix: {missing:?}"
    );

    let app = spawn_app().await;
    let f = fixtures(&app).await;
    let mut wrong = Vec::new();
    for (n, (method, path, body, expect)) in MATRIX.iter().enumerate() {
        let url = app.url(&f.fill(path));
        let mut got = String::new();
        for (i, caller) in CALLERS.iter().enumerate() {
            let mut req = app
                .client
                .request(method.parse().unwrap(), &url)
                .header("Idempotency-Key", format!("matrix-{n}-{i}-key"));
            if !caller.is_empty() {
                req = req.header("x-test-user", *caller);
            }
            if !body.is_empty() {
                req = req
                    .header("content-type", "application/json")
                    .body(f.fill(body));
            }
            let status = req.send().await.unwrap().status().as_u16();
            got.push(class(status));
        }
        if got != *expect {
            wrong.push(format!("{method} {path}: expected {expect}, got {got}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "callers answered otherwise:\n{}",
        wrong.join("\n")
    );
    // Every refusal for want of a role was audited.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied'")
            .await
            > 20
    );
}
