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
const CALLERS: [&str; 19] = [
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
    "fw_staff",
    "xh_fz",
];

/// Routes that are not called here, and why.
const NOT_CALLED: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/api/v1/legal/filings/intake",
        "signed by the office platform, not roles: tests/e2e/filings.rs",
    ),
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
    ("GET", "/healthz", "", "AAAAAAAAAAAAAAAAAAA"),
    ("GET", "/readyz", "", "AAAAAAAAAAAAAAAAAAA"),
    ("GET", "/metrics", "", "AAAAAAAAAAAAAAAAAAA"),
    ("GET", "/.well-known/jwks.json", "", "AAAAAAAAAAAAAAAAAAA"),
    (
        "GET",
        "/m/v1/disclosure/agencies",
        "",
        "AAAAAAAAAAAAAAAAAAA",
    ),
    (
        "POST",
        "/m/v1/verification-codes",
        r#"{"phone":"19912370000","purpose":"disclosure_request"}"#,
        "AAAAAAAAAAAAAAAAAAA",
    ),
    (
        "POST",
        "/m/v1/verification-codes/verify",
        r#"{"phone":"19912370000","purpose":"disclosure_request","code":"000000"}"#,
        "AAAAAAAAAAAAAAAAAAA",
    ),
    (
        "POST",
        "/m/v1/disclosure-requests",
        "{}",
        "AAAAAAAAAAAAAAAAAAA",
    ),
    // Applicant sessions only: an official's sign-in is not one.
    ("GET", "/m/v1/applicant/profile", "", "UUUUUUUUUUUUUUUUUUU"),
    (
        "DELETE",
        "/m/v1/applicant/session",
        "",
        "UUUUUUUUUUUUUUUUUUU",
    ),
    (
        "GET",
        "/m/v1/disclosure-requests",
        "",
        "UUUUUUUUUUUUUUUUUUU",
    ),
    (
        "GET",
        "/m/v1/disclosure-requests/{case}",
        "",
        "UUUUUUUUUUUUUUUUUUU",
    ),
    (
        "GET",
        "/m/v1/disclosure-requests/{case}/notices/{notice}/pdf",
        "",
        "UUUUUUUUUUUUUUUUUUU",
    ),
    // Any signed-in person.
    ("GET", "/api/v1/me", "", "UAAAAAAAAAAAAAAAAAA"),
    ("GET", "/m/v1/me", "", "UAAAAAAAAAAAAAAAAAA"),
    ("GET", "/api/v1/me/sessions", "", "UAAAAAAAAAAAAAAAAAA"),
    (
        "DELETE",
        "/api/v1/me/sessions/01NOSESSION0000000000000000",
        "",
        "UNNNNNNNNNNNNNNNNNN",
    ),
    ("GET", "/m/v1/inbox", "", "UAAAAAAAAAAAAAAAAAA"),
    ("GET", "/m/v1/cases", "", "UAAAAAAAAAAAAAAAAAA"),
    (
        "PUT",
        "/m/v1/devices/matrix-device-1",
        r#"{"platform":"android","provider":"huawei","token":"matrix-token-0123456789"}"#,
        "UAAAAAAAAAAAAAAAAAA",
    ),
    (
        "DELETE",
        "/m/v1/devices/matrix-device-1",
        "",
        "UAAAAAAAAAAAAAAAAAA",
    ),
    ("GET", "/api/v1/seals", "", "UAAAAAAAAAAAAAAAAAA"),
    // The org tree: within each caller's scope.
    ("GET", "/api/v1/org/units", "", "UAAAAAAAAAAAAAAAAAA"),
    ("GET", "/api/v1/org/units/{unit}", "", "UAANANNNNAAANNANNNA"),
    // Role grants: security administrators.
    (
        "POST",
        "/api/v1/users/{user}/roles",
        r#"{"role":"legal_reporter","unit_id":"{unit}"}"#,
        "UFFFFFFFFFAFFFFFFFF",
    ),
    // The calendar: every official reads it; security administrators
    // import a year (`{year}` stays unfilled here, so the import is 422 and
    // changes nothing).
    ("GET", "/api/v1/calendar/years", "", "UAAAAAAAAAAAFAAAAAA"),
    (
        "PUT",
        "/api/v1/calendar/years/{year}",
        r#"{"source":"x","holidays":[],"workdays":[]}"#,
        "UFFFFFFFFFAFFFFFFFF",
    ),
    // Notifications: system administrators.
    ("GET", "/api/v1/notifications", "", "UFFFFFFFFAFFFFFFFFF"),
    (
        "GET",
        "/api/v1/notifications/01NONOTIFICATION00000000000",
        "",
        "UFFFFFFFFNFFFFFFFFF",
    ),
    (
        "POST",
        "/api/v1/notifications/test-sms",
        r#"{"phone":"19912370001"}"#,
        "UFFFFFFFFAFFFFFFFFF",
    ),
    (
        "POST",
        "/api/v1/notifications/test",
        r#"{"user_id":"{user}"}"#,
        "UFFFFFFFFAFFFFFFFFF",
    ),
    // Cases: handlers and dispatchers of the unit; the assignee.
    ("GET", "/api/v1/disclosure/cases", "", "UFAAFFAAFFFFFFFFFFF"),
    (
        "GET",
        "/api/v1/disclosure/cases/{case}",
        "",
        "UNAANNNNNNNNNNNNNNN",
    ),
    ("GET", "/m/v1/cases/{case}", "", "UNAANNNNNNNNNNNNNNN"),
    (
        "GET",
        "/api/v1/disclosure/cases/{case}/notices/{notice}/pdf",
        "",
        "UNAAANNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/correction-received",
        "{}",
        "UNAANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/handling",
        r#"{"unit_id":"{bgs}","assignee_id":"{user}"}"#,
        "UNAFNNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/cases/{case}/handling",
        r#"{"unit_id":"{bgs}","assignee_id":"{user}"}"#,
        "UNAFNNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/dispatch",
        r#"{"unit_ids":["{bgs}"]}"#,
        "UNAFNNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/cases/{case}/dispatch",
        r#"{"unit_ids":["{bgs}"]}"#,
        "UNAFNNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/reply",
        r#"{"answer":"无"}"#,
        "UNFANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/cases/{case}/reply",
        r#"{"answer":"无"}"#,
        "UNFANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/correction",
        r#"{"items":"x"}"#,
        "UNAANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/abandonment",
        "{}",
        "UNAANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/consultation",
        r#"{"third_party":"x","matter":"y"}"#,
        "UNAANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/consultation-end",
        r#"{"outcome":"no_answer"}"#,
        "UNAANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/extension",
        r#"{"working_days":1,"reason":"x","approver_id":"{user}"}"#,
        "UNAANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/disclosure/cases/{case}/conclusion",
        r#"{"result":{"category":"disclosed"},"reply":"x"}"#,
        "UNAANNNNNNNNNNNNNNN",
    ),
    // Seals: the unit's administrators; grantees see their seals.
    (
        "POST",
        "/api/v1/seals",
        r#"{"unit_id":"{unit}","name":"矩阵测试章","kind":"测试","cert_ref":"x"}"#,
        "UAFFFFFFFFFFFFFFFFF",
    ),
    ("GET", "/api/v1/seals/{seal}", "", "UANANNNNNNNNNNNNNNN"),
    ("PATCH", "/api/v1/seals/{seal}", "{}", "UANFNNNNNNNNNNNNNNN"),
    ("DELETE", "/api/v1/seals/{seal}", "", "UANFNNNNNNNNNNNNNNN"),
    (
        "GET",
        "/api/v1/seals/{seal}/image",
        "",
        "UNNNNNNNNNNNNNNNNNN",
    ),
    (
        "GET",
        "/api/v1/seals/{seal}/grants",
        "",
        "UANFNNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/seals/{seal}/grants",
        r#"{"user_id":"{user}","reason":"x"}"#,
        "UANFNNNNNNNNNNNNNNN",
    ),
    (
        "GET",
        "/api/v1/units/{unit}/seal-approvers",
        "",
        "UAFFFFFFFFFFFFFFFFF",
    ),
    (
        "PUT",
        "/api/v1/units/{unit}/seal-approvers",
        r#"{"policy":"any","approver_ids":["{approver}"]}"#,
        "UAFFFFFFFFFFFFFFFFF",
    ),
    (
        "GET",
        "/api/v1/seal-statistics?unit_id={unit}",
        "",
        "UAFFFFFFFFFFFFFFFFF",
    ),
    (
        "GET",
        "/api/v1/seal-statistics/export?unit_id={unit}",
        "",
        "UAFFFFFFFFFFFFFFFFF",
    ),
    // Seal use: grantees apply; the application's approvers decide.
    (
        "POST",
        "/api/v1/seal-applications",
        r#"{"notice_id":"{notice}","seal_id":"{seal}"}"#,
        "UNFANNNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/seal-applications",
        r#"{"notice_id":"{notice}","seal_id":"{seal}"}"#,
        "UNFANNNNNNNNNNNNNNN",
    ),
    (
        "GET",
        "/api/v1/seal-applications/{pending}",
        "",
        "UANAANNNNNNNNNNNNNN",
    ),
    (
        "GET",
        "/m/v1/seal-applications/{pending}",
        "",
        "UANAANNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/seal-applications/{pending}/decision",
        r#"{"decision":"reject","comment":"x"}"#,
        "UFNFANNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/m/v1/seal-applications/{pending}/decision",
        r#"{"decision":"reject","comment":"x"}"#,
        "UFNFANNNNNNNNNNNNNN",
    ),
    (
        "POST",
        "/api/v1/seal-applications/{pending}/withdrawal",
        "{}",
        "UFNAFNNNNNNNNNNNNNN",
    ),
    (
        "GET",
        "/api/v1/seal-decisions/{decision}/verification",
        "",
        "UANAANNNNNAANNNNNNN",
    ),
    // Forms: the senders of the form's unit (政务公开办公室) configure,
    // distribute and review; the fillers of a receiving unit (徐汇区) fill;
    // a unit not assigned (浦东) finds nothing.
    ("GET", "/api/v1/forms", "", "UAAAAAAAAAAAAAAAAAA"),
    (
        "POST",
        "/api/v1/forms",
        r#"{"title":"x","deadline_on":"2099-01-01","definition":{"sections":[{"fields":[{"key":"a","label":"甲","type":"integer"}]}]}}"#,
        "UFFFFFFFFFFFFAFFFFF",
    ),
    ("GET", "/api/v1/forms/{form}", "", "UNNNNNNNNNNNNANNNNN"),
    (
        "PUT",
        "/api/v1/forms/{draft}",
        r#"{"title":"x","deadline_on":"2099-01-01","definition":{"sections":[{"fields":[{"key":"a","label":"甲","type":"integer"}]}]}}"#,
        "UNNNNNNNNNNNNANNNNN",
    ),
    (
        "POST",
        "/api/v1/forms/{form}/copy",
        "",
        "UNNNNNNNNNNNNANNNNN",
    ),
    (
        "POST",
        "/api/v1/forms/{form}/versions",
        "",
        "UNNNNNNNNNNNNANNNNN",
    ),
    (
        "GET",
        "/api/v1/forms/{form}/schema",
        "",
        "UNNNNNNNNNNNNANNNNN",
    ),
    (
        "POST",
        "/api/v1/forms/{draft}/distribution",
        r#"{"units":["{unit}"]}"#,
        "UNNNNNNNNNNNNANNNNN",
    ),
    (
        "GET",
        "/api/v1/forms/{form}/progress",
        "",
        "UNNNNNNNNNNNNANNNNN",
    ),
    (
        "GET",
        "/m/v1/forms/{form}/progress",
        "",
        "UNNNNNNNNNNNNANNNNN",
    ),
    (
        "GET",
        "/api/v1/forms/{form}/export",
        "",
        "UNNNNNNNNNNNNANNNNN",
    ),
    ("GET", "/api/v1/form-returns", "", "UAAAAAAAAAAAAAAAAAA"),
    ("GET", "/m/v1/forms/returns", "", "UAAAAAAAAAAAAAAAAAA"),
    (
        "GET",
        "/api/v1/form-returns/{ret}",
        "",
        "UNNNNNNNNNNNNAANNNN",
    ),
    (
        "GET",
        "/m/v1/forms/returns/{ret}",
        "",
        "UNNNNNNNNNNNNAANNNN",
    ),
    (
        "PUT",
        "/api/v1/form-returns/{ret}/draft",
        r#"{"revision":0,"answers":{}}"#,
        "UNNNNNNNNNNNNFANNNN",
    ),
    (
        "PUT",
        "/m/v1/forms/returns/{ret}/draft",
        r#"{"revision":0,"answers":{}}"#,
        "UNNNNNNNNNNNNFANNNN",
    ),
    (
        "POST",
        "/api/v1/form-returns/{ret}/submission",
        r#"{"revision":0,"answers":{}}"#,
        "UNNNNNNNNNNNNFANNNN",
    ),
    (
        "POST",
        "/m/v1/forms/returns/{ret}/submission",
        r#"{"revision":0,"answers":{}}"#,
        "UNNNNNNNNNNNNFANNNN",
    ),
    (
        "POST",
        "/api/v1/form-returns/{ret}/attachments?field=scan&name=x.pdf",
        "{}",
        "UNNNNNNNNNNNNFANNNN",
    ),
    (
        "GET",
        "/api/v1/form-attachments/{attachment}",
        "",
        "UNNNNNNNNNNNNAANNNN",
    ),
    (
        "POST",
        "/api/v1/form-returns/{ret}/review",
        r#"{"decision":"accept"}"#,
        "UNNNNNNNNNNNNAFNNNN",
    ),
    (
        "POST",
        "/api/v1/form-returns/{ret}/reminder",
        "",
        "UNNNNNNNNNNNNAFNNNN",
    ),
    // Warnings: the General Office's disclosure administrator manages
    // categories and rules; the agencies concerned (徐汇, 浦东, here) see and
    // reply to their warning; the administrator sees every reply.
    (
        "GET",
        "/api/v1/warning-categories",
        "",
        "UFFFFFFFFFFFFFFFAFF",
    ),
    (
        "POST",
        "/api/v1/warning-categories",
        r#"{"name":"矩阵类别","business_type":"x"}"#,
        "UFFFFFFFFFFFFFFFAFF",
    ),
    (
        "PATCH",
        "/api/v1/warning-categories/{category}",
        "{}",
        "UFFFFFFFFFFFFFFFAFF",
    ),
    (
        "DELETE",
        "/api/v1/warning-categories/{category}",
        "",
        "UFFFFFFFFFFFFFFFAFF",
    ),
    ("GET", "/api/v1/warning-rules", "", "UFFFFFFFFFFFFFFFAFF"),
    (
        "POST",
        "/api/v1/warning-rules",
        r#"{"category_id":"{category}","name":"矩阵规则","measure":"requests","scope":"city","window":"calendar_month","threshold":9,"severity":"low"}"#,
        "UFFFFFFFFFFFFFFFAFF",
    ),
    (
        "GET",
        "/api/v1/warning-rules/{rule}",
        "",
        "UFFFFFFFFFFFFFFFAFF",
    ),
    (
        "PUT",
        "/api/v1/warning-rules/{rule}",
        r#"{"category_id":"{category}","name":"矩阵规则","measure":"requests","scope":"city","window":"calendar_month","threshold":9,"severity":"low"}"#,
        "UFFFFFFFFFFFFFFFAFF",
    ),
    ("GET", "/api/v1/warnings", "", "UAAAAAAAAAAAAAAAAAA"),
    (
        "GET",
        "/api/v1/warnings/{warning}",
        "",
        "UNANNNANNNNNNNNNANN",
    ),
    (
        "POST",
        "/api/v1/warnings/{warning}/files?name=x.pdf",
        "{}",
        "UNANNNANNNNNNNNNFNN",
    ),
    (
        "GET",
        "/api/v1/warning-files/{warning_file}",
        "",
        "UNANNNANNNNNNNNNANN",
    ),
    (
        "POST",
        "/api/v1/warnings/{warning}/reply",
        r#"{"reply":"已处理"}"#,
        "UNANNNANNNNNNNNNFNN",
    ),
    (
        "GET",
        "/api/v1/warning-statistics",
        "",
        "UFFFFFFFFFFFFFFFAFF",
    ),
    (
        "GET",
        "/api/v1/warning-statistics/export",
        "",
        "UFFFFFFFFFFFFFFFAFF",
    ),
    // The annual report of 徐汇 for 2010 (a draft), and the General Office.
    (
        "GET",
        "/api/v1/annual-reports/{xuhui}/{year}",
        "",
        "UNANNNNNNNNNNNNNANN",
    ),
    (
        "POST",
        "/api/v1/annual-reports/{xuhui}/{year}/refresh",
        "",
        "UNANNNNNNNNNNNNNFNN",
    ),
    (
        "PUT",
        "/api/v1/annual-reports/{xuhui}/{year}/entered",
        r#"{"revision":999,"entered":{}}"#,
        "UNANNNNNNNNNNNNNFNN",
    ),
    (
        "POST",
        "/api/v1/annual-reports/{xuhui}/{year}/submit",
        "",
        "UNANNNNNNNNNNNNNFNN",
    ),
    (
        "POST",
        "/api/v1/annual-reports/{xuhui}/{year}/return",
        r#"{"reason":"矩阵"}"#,
        "UNFNNNNNNNNNNNNNANN",
    ),
    (
        "POST",
        "/api/v1/annual-reports/{xuhui}/{year}/accept",
        "",
        "UNFNNNNNNNNNNNNNANN",
    ),
    (
        "GET",
        "/api/v1/annual-reports/{xuhui}/{year}/cases?row=new&column=total",
        "",
        "UNANNNNNNNNNNNNNANN",
    ),
    (
        "GET",
        "/api/v1/annual-reports/{xuhui}/{year}/export",
        "",
        "UNANNNNNNNNNNNNNANN",
    ),
    (
        "GET",
        "/api/v1/annual-reports/{xuhui}/{year}/pdf",
        "",
        "UNANNNNNNNNNNNNNANN",
    ),
    (
        "GET",
        "/api/v1/annual-reports?year=2010&unit_id={office}",
        "",
        "UFFFFFFFFFFFFFFFAFF",
    ),
    (
        "GET",
        "/api/v1/annual-report-rollups/{office}/{year}",
        "",
        "UFFFFFFFFFFFFFFFAFF",
    ),
    // Legal affairs, clean-up (FW-01): the office (fw_staff) and Xuhui's
    // reporting officer (xh_fz); xh_handler was made a reporting officer
    // at Xuhui by the role grant above; everyone else has no legal role.
    (
        "GET",
        "/api/v1/legal/cleanup/campaigns",
        "",
        "UFFAFFFFFFFFFFFFFAA",
    ),
    (
        "POST",
        "/api/v1/legal/cleanup/campaigns",
        r#"{"title":"t","scope":"s","line":"departments","deadline_on":"2000-01-01"}"#,
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "GET",
        "/api/v1/legal/cleanup/campaigns/{campaign}",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "POST",
        "/api/v1/legal/cleanup/campaigns/{campaign}/distribution",
        r#"{"units":[]}"#,
        "UNNNNNNNNNNNNNNNNAN",
    ),
    (
        "POST",
        "/api/v1/legal/cleanup/campaigns/{city_campaign}/import",
        "",
        "UNNNNNNNNNNNNNNNNAN",
    ),
    (
        "GET",
        "/api/v1/legal/cleanup/import-template",
        "",
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "GET",
        "/api/v1/legal/cleanup/lists/{cleanup_list}",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "PUT",
        "/api/v1/legal/cleanup/lists/{cleanup_list}/documents",
        r#"{"revision":99,"documents":[]}"#,
        "UNNANNNNNNNNNNNNNFA",
    ),
    (
        "POST",
        "/api/v1/legal/cleanup/lists/{cleanup_list}/steps",
        r#"{"step":"accept"}"#,
        "UNNFNNNNNNNNNNNNNAF",
    ),
    (
        "GET",
        "/api/v1/legal/cleanup/progress",
        "",
        "UFFAFFFFFFFFFFFFFAA",
    ),
    (
        "GET",
        "/api/v1/legal/cleanup/campaigns/{campaign}/export",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    // The work assessment (FW-02): one of the district governments,
    // published, scored for Xuhui, with Xuhui's material.
    (
        "GET",
        "/api/v1/legal/assessments",
        "",
        "UFFAFFFFFFFFFFFFFAA",
    ),
    (
        "POST",
        "/api/v1/legal/assessments",
        r#"{"year":1999,"track":"district","deadline_on":"2099-01-01"}"#,
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "GET",
        "/api/v1/legal/assessments/{assessment}",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "PUT",
        "/api/v1/legal/assessments/{assessment}/indicators",
        r#"{"categories":[]}"#,
        "UNNFNNNNNNNNNNNNNAF",
    ),
    (
        "POST",
        "/api/v1/legal/assessments/{assessment}/publication",
        "",
        "UNNFNNNNNNNNNNNNNAF",
    ),
    (
        "GET",
        "/api/v1/legal/assessments/{assessment}/units/{unit}/scores",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "PUT",
        "/api/v1/legal/assessments/{assessment}/units/{unit}/scores",
        r#"{"scores":[]}"#,
        "UNNFNNNNNNNNNNNNNAF",
    ),
    (
        "POST",
        "/api/v1/legal/assessments/{assessment}/units/{unit}/materials?indicator_id=none&name=a.pdf",
        "",
        "UNNANNNNNNNNNNNNNFA",
    ),
    (
        "GET",
        "/api/v1/legal/assessment-materials/{material}",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "GET",
        "/api/v1/legal/assessments/{assessment}/results",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "GET",
        "/api/v1/legal/assessments/{assessment}/export",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "POST",
        "/api/v1/legal/assessments/{assessment}/results/publication",
        "",
        "UNNFNNNNNNNNNNNNNAF",
    ),
    // Filings (FW-05) on a single-network server: Xuhui's filing with a
    // file, a package the office made; Xuhui's major decision (FW-07).
    ("GET", "/api/v1/legal/filings", "", "UFFAFFFFFFFFFFFFFAA"),
    (
        "POST",
        "/api/v1/legal/filings",
        r#"{"unit_id":"{unit}","document":{"title":"t","doc_no":"n","issuing_unit":"u","issued_on":"2026-01-01","full_text":"x"}}"#,
        "UFFAFFFFFFFFFFFFFFA",
    ),
    (
        "GET",
        "/api/v1/legal/filings/{filing}",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "PATCH",
        "/api/v1/legal/filings/{filing}",
        r#"{"title":"x"}"#,
        "UNNANNNNNNNNNNNNNFA",
    ),
    (
        "POST",
        "/api/v1/legal/filings/{filing}/files?name=a.pdf",
        "",
        "UNNANNNNNNNNNNNNNFA",
    ),
    (
        "GET",
        "/api/v1/legal/filings/{filing}/files/{hash}",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "POST",
        "/api/v1/legal/filings/{filing}/steps",
        r#"{"step":"accept","opinion":"x"}"#,
        "UNNFNNNNNNNNNNNNNAF",
    ),
    (
        "POST",
        "/api/v1/legal/filing-packages/export",
        r#"{"since":"2999-01-01"}"#,
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "GET",
        "/api/v1/legal/filing-packages",
        "",
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "POST",
        "/api/v1/legal/filing-packages",
        "",
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "GET",
        "/api/v1/legal/filing-packages/{package}",
        "",
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "POST",
        "/api/v1/legal/major-decisions",
        r#"{"unit_id":"{unit}","year":2026,"title":"t"}"#,
        "UFFAFFFFFFFFFFFFFFA",
    ),
    (
        "GET",
        "/api/v1/legal/major-decisions",
        "",
        "UFFAFFFFFFFFFFFFFAA",
    ),
    (
        "POST",
        "/api/v1/legal/major-decisions/{major_decision}/progress",
        r#"{"to":"filed"}"#,
        "UNNFNNNNNNNNNNNNNAF",
    ),
    (
        "GET",
        "/api/v1/legal/major-decisions/statistics",
        "",
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "GET",
        "/api/v1/legal/major-decisions/statistics.xlsx",
        "",
        "UFFFFFFFFFFFFFFFFAF",
    ),
    // The expert library (FW-03): every unit reads, the office edits.
    ("GET", "/api/v1/legal/experts", "", "UAAAAAAAAAAAFAAAAAA"),
    (
        "POST",
        "/api/v1/legal/experts",
        r#"{"category":"c","name":"n","unit_name":"u","post":"p"}"#,
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "GET",
        "/api/v1/legal/experts/overview",
        "",
        "UAAAAAAAAAAAFAAAAAA",
    ),
    (
        "GET",
        "/api/v1/legal/experts/export",
        "",
        "UAAAAAAAAAAAFAAAAAA",
    ),
    (
        "GET",
        "/api/v1/legal/experts/{expert}",
        "",
        "UAAAAAAAAAAAFAAAAAA",
    ),
    (
        "PUT",
        "/api/v1/legal/experts/{expert}",
        r#"{"category":"c","name":"n","unit_name":"u","post":"p"}"#,
        "UFFFFFFFFFFFFFFFFAF",
    ),
    (
        "DELETE",
        "/api/v1/legal/experts/{expert}",
        "",
        "UFFFFFFFFFFFFFFFFAF",
    ),
    // Work exchange (FW-04): a note of xh_fz's (Xuhui) with a file, sent
    // to xh_handler.
    (
        "POST",
        "/api/v1/legal/notes",
        r#"{"subject":"s","body":"b","people":["{user}"]}"#,
        "UAAAAAAAAAAAFAAAAAA",
    ),
    ("GET", "/api/v1/legal/notes/sent", "", "UAAAAAAAAAAAFAAAAAA"),
    (
        "GET",
        "/api/v1/legal/notes/inbox",
        "",
        "UAAAAAAAAAAAAAAAAAA",
    ),
    (
        "GET",
        "/api/v1/legal/notes/{note}",
        "",
        "UAAAANNNNNNNNNANNNA",
    ),
    (
        "GET",
        "/api/v1/legal/notes/{note}/files/{note_file}",
        "",
        "UAAAANNNNNNNNNANNNA",
    ),
    (
        "PUT",
        "/api/v1/legal/notes/{note}",
        r#"{"subject":"s","body":"b","people":["{user}"]}"#,
        "UFFFFNNNNNNNNNFNNNA",
    ),
    (
        "POST",
        "/api/v1/legal/notes/{note}/files?name=a.pdf",
        "",
        "UFFFFNNNNNNNNNFNNNA",
    ),
    (
        "POST",
        "/api/v1/legal/notes/{note}/send",
        "",
        "UFFFFNNNNNNNNNFNNNA",
    ),
    (
        "POST",
        "/api/v1/legal/notes/{note}/replies",
        r#"{"body":""}"#,
        "UAAAANNNNNNNNNANNNA",
    ),
    (
        "POST",
        "/api/v1/legal/notes/{note}/recall",
        "",
        "UFFFFNNNNNNNNNFNNNA",
    ),
    (
        "DELETE",
        "/api/v1/legal/notes/{note}",
        "",
        "UFFFFNNNNNNNNNFNNNA",
    ),
    ("GET", "/m/v1/legal/notes", "", "UAAAAAAAAAAAAAAAAAA"),
    ("GET", "/m/v1/legal/notes/{note}", "", "UAAAANNNNNNNNNANNNA"),
    (
        "POST",
        "/m/v1/legal/notes/{note}/replies",
        r#"{"body":""}"#,
        "UAAAANNNNNNNNNANNNA",
    ),
    // A reviewer's clean-up lists on the phone (FW-01).
    ("GET", "/m/v1/legal/reviews", "", "UAAAAAAAAAAAAAAAAAA"),
    (
        "GET",
        "/m/v1/legal/cleanup-lists/{cleanup_list}",
        "",
        "UNNANNNNNNNNNNNNNAA",
    ),
    (
        "POST",
        "/m/v1/legal/cleanup-lists/{cleanup_list}/steps",
        r#"{"step":"accept"}"#,
        "UNNFNNNNNNNNNNNNNAF",
    ),
    // Export templates: each signed-in user's own.
    (
        "GET",
        "/api/v1/export-templates?subject=assessment_results",
        "",
        "UAAAAAAAAAAAAAAAAAA",
    ),
    (
        "PUT",
        "/api/v1/export-templates/{subject}/{name}",
        r#"{"columns":["unit"]}"#,
        "UAAAAAAAAAAAAAAAAAA",
    ),
    (
        "DELETE",
        "/api/v1/export-templates/{subject}/{name}",
        "",
        "UAAAAAAAAAAAAAAAAAA",
    ),
    // Last of the forms: the draft goes, the return is taken back.
    ("DELETE", "/api/v1/forms/{draft}", "", "UNNNNNNNNNNNNANNNNN"),
    (
        "POST",
        "/api/v1/form-returns/{ret}/withdrawal",
        "",
        "UNNNNNNNNNNNNANNNNN",
    ),
    // Last: it takes the handler's grant away (the administrator calls
    // first), so the handler no longer sees the seal.
    (
        "POST",
        "/api/v1/seals/{seal}/grants/{grant}/revocation",
        r#"{"reason":"x"}"#,
        "UANNNNNNNNNNNNNNNNN",
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
    legal_fixtures(app, &mut f).await;
    assessment_fixtures(app, &mut f).await;
    filing_fixtures(app, &mut f).await;
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

/// A clean-up campaign distributed to 徐汇区 (its list), and a draft one
/// of the city documents to import into.
async fn legal_fixtures(app: &TestApp, f: &mut BTreeMap<&'static str, String>) {
    let (campaign, list) = crate::legal::distributed_to_xuhui(app).await;
    f.insert("campaign", campaign);
    f.insert("cleanup_list", list);
    let city = crate::legal::campaign(app, "矩阵测试导入", "city_documents", "2099-12-31").await;
    f.insert("city_campaign", city);
}

/// Xuhui's filing with a file, a package of it, Xuhui's major decision.
async fn filing_fixtures(app: &TestApp, f: &mut BTreeMap<&'static str, String>) {
    let (filing, hash) = crate::filings::filed(app, "矩阵〔2026〕1号").await;
    let (_, package) = crate::filings::export(app, serde_json::json!({})).await;
    let unit = app.unit_id("310104").await;
    let body = serde_json::json!({ "unit_id": unit, "year": 2026, "title": "矩阵测试决策" });
    let d = crate::common::As(app, "xh_fz")
        .expect(
            reqwest::Method::POST,
            "/api/v1/legal/major-decisions",
            None,
            body,
            201,
        )
        .await;
    f.insert("filing", filing);
    f.insert("hash", hash);
    f.insert("package", package);
    f.insert("major_decision", d["id"].as_str().unwrap().to_owned());
    let e = crate::common::As(app, "fw_staff")
        .expect(
            reqwest::Method::POST,
            "/api/v1/legal/experts",
            None,
            crate::experts::zhang(),
            201,
        )
        .await;
    f.insert("expert", e["id"].as_str().unwrap().to_owned());
    let handler = crate::seals::user_id(app, "xh_handler").await;
    let body = serde_json::json!({ "subject": "矩阵", "body": "b", "people": [handler] });
    let n = crate::common::As(app, "xh_fz")
        .expect(
            reqwest::Method::POST,
            "/api/v1/legal/notes",
            None,
            body,
            201,
        )
        .await;
    let note = n["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/legal/notes/{note}/files?name=a.pdf");
    let file: serde_json::Value = ok(
        app.post_raw("xh_fz", &path, "application/pdf", b"%PDF-1.4 x".to_vec())
            .await,
        201,
    )
    .await;
    crate::common::As(app, "xh_fz")
        .expect(
            reqwest::Method::POST,
            &format!("/api/v1/legal/notes/{note}/send"),
            None,
            serde_json::json!({}),
            200,
        )
        .await;
    f.insert("note", note);
    f.insert("note_file", file["id"].as_str().unwrap().to_owned());
}

/// A published assessment of the districts with Xuhui's material.
async fn assessment_fixtures(app: &TestApp, f: &mut BTreeMap<&'static str, String>) {
    let (id, leaves) = crate::assessment::published(app, 2099, "2099-12-31").await;
    let xuhui = app.unit_id("310104").await;
    let path = format!(
        "/api/v1/legal/assessments/{id}/units/{xuhui}/materials?indicator_id={}&name=a.pdf",
        leaves[0]
    );
    let m: Value = ok(
        app.post_raw("xh_fz", &path, "application/pdf", b"%PDF-1.4 x".to_vec())
            .await,
        201,
    )
    .await;
    f.insert("material", m["id"].as_str().unwrap().to_owned());
    f.insert("assessment", id);
    f.insert("subject", "assessment_results".to_owned());
    f.insert("name", "matrix".to_owned());
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
