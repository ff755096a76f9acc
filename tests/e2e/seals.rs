//! E-seals (GK-04, GK-07, GK-08, GK-10, SEC-05): seals, grants, approvers,
//! applications to stamp a case notice, signed decisions, stamps.

use serde_json::{Value, json};

use crate::common::{Options, TestApp, TestDb, problem, spawn_app, spawn_with};
use crate::disclosure::{submit, typed_citizen, verified};

pub(crate) async fn user_id(app: &TestApp, login: &str) -> String {
    app.get_json(login, "/api/v1/me", 200).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

use reqwest::Method;

use crate::common::{As, ok};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const PATCH: Method = Method::PATCH;

/// The seal's grant history, as its administrator reads it.
async fn grant_history(app: &TestApp, seal: &str) -> Value {
    let path = format!("/api/v1/seals/{seal}/grants");
    As(app, "xh_admin")
        .expect(GET, &path, None, json!(null), 200)
        .await
}

/// Revokes a grant as the seal's administrator.
async fn revoke(app: &TestApp, seal: &str, grant: &str, reason: &str) {
    let path = format!("/api/v1/seals/{seal}/grants/{grant}/revocation");
    As(app, "xh_admin")
        .expect(POST, &path, None, json!({ "reason": reason }), 200)
        .await;
}

/// Gives `login` the seal-approver role at the unit `code`.
async fn make_approver(app: &TestApp, login: &str, code: &str) {
    let user = user_id(app, login).await;
    let unit = app.unit_id(code).await;
    let resp = As(app, "secadmin")
        .send(
            POST,
            &format!("/api/v1/users/{user}/roles"),
            None,
            json!({ "role": "seal_approver", "unit_id": unit }),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

/// Xuhui's seal, granted to xh_handler, with `approvers` under `policy`.
pub(crate) async fn xuhui_seal(app: &TestApp, approvers: &[&str], policy: &str) -> String {
    let unit = app.unit_id("310104").await;
    let seal = As(app, "xh_admin")
        .expect(
            POST,
            "/api/v1/seals",
            None,
            json!({
        "unit_id": unit, "name": "上海市徐汇区人民政府政务公开专用章", "kind": "政务公开专用章",
        "cert_ref": "sh-ca:seal:310104:gk" }),
            201,
        )
        .await;
    let id = seal["id"].as_str().unwrap().to_owned();
    let handler = user_id(app, "xh_handler").await;
    As(app, "xh_admin")
        .expect(
            POST,
            &format!("/api/v1/seals/{id}/grants"),
            None,
            json!({ "user_id": handler, "reason": "办理政务公开告知书" }),
            201,
        )
        .await;
    let mut ids = Vec::new();
    for a in approvers {
        ids.push(user_id(app, a).await);
    }
    As(app, "xh_admin")
        .expect(
            PUT,
            &format!("/api/v1/units/{unit}/seal-approvers"),
            None,
            json!({ "policy": policy, "approver_ids": ids }),
            200,
        )
        .await;
    id
}

/// A case of the Xuhui government handled by xh_handler, with a correction
/// notice awaiting its seal: (case id, notice id).
pub(crate) async fn notice(app: &TestApp, phone: &str) -> (String, String) {
    let agency = app.unit_id("310104").await;
    let token = verified(app, phone, "disclosure_request").await;
    let resp = submit(
        app,
        None,
        Some(&format!("seal-case-{phone}")),
        &typed_citizen(&agency, &token),
    )
    .await;
    let case = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/api/v1/disclosure/cases/{case}");
    let bgs = app.unit_id("310104-BGS").await;
    let handler = user_id(app, "xh_handler").await;
    As(app, "xh_dispatcher")
        .expect(
            POST,
            &format!("{base}/handling"),
            Some(&format!("h-{phone}")),
            json!({ "unit_id": bgs, "assignee_id": handler }),
            200,
        )
        .await;
    As(app, "xh_handler")
        .expect(
            POST,
            &format!("{base}/correction"),
            Some(&format!("c-{phone}")),
            json!({ "items": "请写明文件名称" }),
            200,
        )
        .await;
    let c = app.get_json("xh_handler", &base, 200).await;
    (case, c["notices"][0]["id"].as_str().unwrap().to_owned())
}

pub(crate) async fn apply(
    app: &TestApp,
    user: &str,
    seal: &str,
    notice: &str,
    key: &str,
) -> reqwest::Response {
    As(app, user)
        .send(
            POST,
            "/m/v1/seal-applications",
            Some(key),
            json!({ "notice_id": notice, "seal_id": seal, "reason": "补正告知书用印" }),
        )
        .await
}

/// Applies as `user` and expects 201; answers the application's id.
pub(crate) async fn applied(
    app: &TestApp,
    user: &str,
    seal: &str,
    notice: &str,
    key: &str,
) -> String {
    let answer = ok(apply(app, user, seal, notice, key).await, 201).await;
    answer["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn decide(
    app: &TestApp,
    user: &str,
    id: &str,
    decision: &str,
    key: &str,
) -> reqwest::Response {
    As(app, user)
        .send(
            POST,
            &format!("/api/v1/seal-applications/{id}/decision"),
            Some(key),
            json!({ "decision": decision, "comment": "同意" }),
        )
        .await
}

/// The to-do item of `assignee` at the stand-in, once it is in `state`.
async fn todo_item(app: &TestApp, assignee: &str, state: &str) -> Value {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let v: Value = app
            .stand_in(&format!("/stand-in/todo/items?assignee={assignee}"))
            .await;
        if let Some(item) = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["state"] == state)
        {
            return item.clone();
        }
        assert!(std::time::Instant::now() < until, "{assignee}: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The states of the to-do items of `assignees`, once there are `n` and
/// none is pending.
async fn settled(app: &TestApp, assignees: &[&str], n: usize) -> Vec<String> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let mut states = Vec::new();
        for a in assignees {
            let v: Value = app
                .stand_in(&format!("/stand-in/todo/items?assignee={a}"))
                .await;
            states.extend(
                v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["state"].as_str().unwrap().to_owned()),
            );
        }
        if states.len() == n && !states.iter().any(|s| s == "pending") {
            return states;
        }
        assert!(std::time::Instant::now() < until, "{states:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn texts(app: &TestApp, phone: &str) -> Vec<String> {
    app.sms_to(phone)
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn wait_text(app: &TestApp, phone: &str, needle: &str) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let got = texts(app, phone).await;
        if got.iter().any(|t| t.contains(needle)) {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "{phone} has no {needle:?}: {got:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_notice_is_stamped_after_approval_on_the_phone() {
    let env = vec![("GOV_AUTH__STEP_UP_MAX_AGE_SECS", "2".to_owned())];
    let app = spawn_with(TestDb::new().await, Options { demo: true, env }).await;
    let seal = xuhui_seal(&app, &["xh_approver"], "any").await;
    let (case, notice_id) = notice(&app, "19912360001").await;

    // The to-do platform is down for a while: the item's create waits, and
    // its complete, queued meanwhile, must not overtake it.
    let fault = json!({ "status": 503, "retry_after_secs": 2, "times": 3 });
    assert_eq!(
        app.post_json("/stand-in/todo/faults", fault)
            .await
            .status()
            .as_u16(),
        204
    );
    // The handler applies on the phone; a retry files nothing new.
    let first = ok(
        apply(&app, "xh_handler", &seal, &notice_id, "apply-1").await,
        201,
    )
    .await;
    let again = ok(
        apply(&app, "xh_handler", &seal, &notice_id, "apply-1").await,
        201,
    )
    .await;
    assert_eq!(first, again);
    let id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(app.count("SELECT COUNT(*) FROM seal_applications").await, 1);
    // The approver is told at once (no device: by SMS).
    wait_text(&app, "19900000011", "提交了用印申请").await;

    // The approver signs in on the phone and opens the inbox.
    let code = app
        .post_json(
            "/stand-in/suishenban/auth-codes",
            json!({ "user": "xh_approver" }),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["auth_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let session: Value = app
        .post_json(
            "/m/v1/session",
            json!({ "auth_code": code, "device_id": "approver-phone" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let inbox = app.bearer_json(&token, "/m/v1/inbox").await;
    assert_eq!(inbox["seal_applications"]["count"], 1);
    assert_eq!(inbox["seal_applications"]["items"][0]["id"], id.as_str());
    let detail = app
        .bearer_json(&token, &format!("/m/v1/seal-applications/{id}"))
        .await;
    assert_eq!(detail["can_decide"], true);
    assert_eq!(detail["notice"]["seal_status"], "awaiting_seal");
    let preview = detail["notice"]["preview"].as_str().unwrap().to_owned();
    let pdf = app.get_bearer(&token, &preview).await;
    // 503: no CJK font on this machine (CI has one).
    let status = pdf.status().as_u16();
    assert!(
        status == 200 || (status == 503 && std::env::var("CI").is_err()),
        "the approver reads what they are asked to seal: {status}"
    );

    // Too long since sign-in: step up first.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let call = |key: &'static str| {
        app.client
            .post(app.url(&format!("/m/v1/seal-applications/{id}/decision")))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&json!({ "decision": "approve" }))
            .send()
    };
    problem(
        call("decision-key-1").await.unwrap(),
        401,
        "step_up_required",
    )
    .await;
    let resp = app
        .call(POST, "/m/v1/session/step-up/sms-code", &token, None)
        .await;
    assert_eq!(resp.status().as_u16(), 202);
    wait_text(&app, "19900000011", "验证码").await;
    let sms = app.sms_to("19900000011").await;
    let code = sms
        .iter()
        .rev()
        .find_map(|m| m["params"]["code"].as_str())
        .unwrap()
        .to_owned();
    let resp = app
        .call(
            POST,
            "/m/v1/session/step-up",
            &token,
            Some(json!({ "sms_code": code })),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    let decided = ok(call("decision-key-1").await.unwrap(), 200).await;
    assert_eq!(decided["status"], "approved");
    // A retried decision answers the same; a notice is never stamped twice.
    assert_eq!(
        ok(call("decision-key-1").await.unwrap(), 200).await,
        decided
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM seal_stamps").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM disclosure_notices WHERE seal_status = 'sealed'")
            .await,
        1
    );
    let c = app
        .get_json(
            "xh_handler",
            &format!("/api/v1/disclosure/cases/{case}"),
            200,
        )
        .await;
    assert_eq!(c["notices"][0]["seal_status"], "sealed");
    problem(
        apply(&app, "xh_handler", &seal, &notice_id, "apply-2").await,
        409,
        "notice_sealed",
    )
    .await;
    // The applicant is told; the approver's to-do item was created, then
    // completed, in that order.
    wait_text(&app, "19900000013", "已批准").await;
    let item = todo_item(&app, "up-xh_approver", "done").await;
    assert_eq!(item["actions"], json!(["create", "complete"]));
    assert_eq!(item["kind"], "seal_approval");
    assert_eq!(
        item["mobile_url"],
        format!("govapp://seal-applications/{id}")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE provider = 'todo' AND status = 'sent'")
            .await,
        2
    );

    // The decision is signed; any change to its record breaks the signature.
    let decision = decided["decision_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/seal-decisions/{decision}/verification");
    assert_eq!(app.get_json("xh_approver", &path, 200).await["valid"], true);
    let out = app.cli(&["verify-decision", &decision]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("signature valid"));
    let db = app.db.connect().await;
    let other = user_id(&app, "xh_admin").await;
    for (column, value) in [
        ("decision", "reject"),
        ("approver_id", other.as_str()),
        ("notice_sm3", "00"),
        ("comment", "x"),
    ] {
        let read = format!("SELECT {column} FROM seal_decisions WHERE id = $1");
        let before: String = api::on_db!(&db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(read)).bind(&decision).fetch_one(p).await).unwrap();
        let write = format!("UPDATE seal_decisions SET {column} = $1 WHERE id = $2");
        api::on_db!(&db, p => sqlx::query(sqlx::AssertSqlSafe(write.clone())).bind(value).bind(&decision).execute(p).await.map(|_| ())).unwrap();
        let verdict = app.get_json("auditadmin", &path, 200).await["valid"].clone();
        let out = app.cli(&["verify-decision", &decision]).await;
        api::on_db!(&db, p => sqlx::query(sqlx::AssertSqlSafe(write)).bind(&before).bind(&decision).execute(p).await.map(|_| ())).unwrap();
        // The comment is not part of what is signed; every other field is.
        let signed = column != "comment";
        assert_eq!(verdict, json!(!signed), "{column}");
        assert_eq!(out.status.success(), !signed, "{column}");
    }
    let sql = "UPDATE seal_decisions SET decided_at = $1 WHERE id = $2";
    let earlier = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    api::on_db!(&db, p => sqlx::query(sql).bind(earlier).bind(&decision).execute(p).await.map(|_| ())).unwrap();
    assert_eq!(
        app.get_json("auditadmin", &path, 200).await["valid"],
        false,
        "decided_at"
    );
    // Someone with no part in it cannot see the decision.
    problem(
        app.get_as(Some("pd_approver"), &path).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn approval_policies_races_and_refusals() {
    let app = spawn_app().await;
    make_approver(&app, "xh_dispatcher", "310104").await;
    let seal = xuhui_seal(&app, &["xh_dispatcher", "xh_approver"], "any").await;

    // Any one approver: two deciding at once, exactly one wins.
    let (_, n1) = notice(&app, "19912360002").await;
    let id = applied(&app, "xh_handler", &seal, &n1, "race-apply").await;
    let (a, b) = tokio::join!(
        decide(&app, "xh_dispatcher", &id, "approve", "race-a"),
        decide(&app, "xh_approver", &id, "approve", "race-b"),
    );
    let mut codes = vec![a.status().as_u16(), b.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 409]);
    // The winner's to-do item is done, the other's cancelled.
    let mut states = settled(&app, &["up-xh_dispatcher", "up-xh_approver"], 2).await;
    states.sort();
    assert_eq!(states, ["cancelled", "done"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM seal_decisions").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM seal_stamps").await, 1);

    // Refusals change nothing.
    let (_, n2) = notice(&app, "19912360003").await;
    // No grant.
    problem(
        apply(&app, "xjh_handler", &seal, &n2, "no-grant").await,
        404,
        "not_found",
    )
    .await;
    problem(
        apply(&app, "xh_dispatcher", &seal, &n2, "no-grant-2").await,
        403,
        "forbidden",
    )
    .await;
    // A notice of another unit's case.
    As(&app, "pd_handler")
        .refused(
            POST,
            "/api/v1/seal-applications",
            Some("other-unit"),
            json!({ "notice_id": n2, "seal_id": seal }),
            404,
            "not_found",
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM seal_applications").await, 1);

    // A pending application stops when the seal is suspended, or the grant
    // revoked; an approver cannot then approve.
    let id2 = applied(&app, "xh_handler", &seal, &n2, "pending-2").await;
    As(&app, "xh_admin")
        .expect(
            PATCH,
            &format!("/api/v1/seals/{seal}"),
            None,
            json!({ "status": "suspended" }),
            200,
        )
        .await;
    problem(
        decide(&app, "xh_approver", &id2, "approve", "susp").await,
        409,
        "seal_suspended",
    )
    .await;
    As(&app, "xh_admin")
        .expect(
            PATCH,
            &format!("/api/v1/seals/{seal}"),
            None,
            json!({ "status": "active" }),
            200,
        )
        .await;
    let grants = grant_history(&app, &seal).await;
    let grant = grants[0]["id"].as_str().unwrap();
    revoke(&app, &seal, grant, "岗位调整").await;
    problem(
        decide(&app, "xh_approver", &id2, "approve", "revoked").await,
        409,
        "grant_revoked",
    )
    .await;
    // Neither the applicant nor a non-approver decides; nothing was decided.
    problem(
        decide(&app, "xh_handler", &id2, "approve", "self").await,
        403,
        "forbidden",
    )
    .await;
    problem(
        decide(&app, "pd_approver", &id2, "approve", "stranger").await,
        404,
        "not_found",
    )
    .await;
    // A rejection needs its reason, and tells the applicant.
    As(&app, "xh_approver")
        .refused(
            POST,
            &format!("/api/v1/seal-applications/{id2}/decision"),
            Some("no-reason"),
            json!({ "decision": "reject" }),
            422,
            "invalid_field",
        )
        .await;
    let rejected = As(&app, "xh_approver")
        .expect(
            POST,
            &format!("/api/v1/seal-applications/{id2}/decision"),
            Some("reject-2"),
            json!({ "decision": "reject", "comment": "授权已撤销" }),
            200,
        )
        .await;
    assert_eq!(rejected["status"], "rejected");
    wait_text(&app, "19900000013", "未获批准").await;

    // The grant history keeps who granted and revoked, when and why.
    let history = grant_history(&app, &seal).await;
    assert_eq!(history[0]["live"], false);
    assert_eq!(history[0]["revoke_reason"], "岗位调整");
    assert_eq!(history[0]["granted_by"], "周杰");
    assert!(history[0]["revoked_at"].is_string());
    // Only the unit's administrators manage it.
    As(&app, "pd_admin")
        .refused(
            PATCH,
            &format!("/api/v1/seals/{seal}"),
            None,
            json!({ "status": "suspended" }),
            404,
            "not_found",
        )
        .await;
    As(&app, "xh_handler")
        .refused(
            GET,
            &format!("/api/v1/seals/{seal}/grants"),
            None,
            json!(null),
            404,
            "not_found",
        )
        .await;
}

#[tokio::test]
async fn all_approvers_in_order_and_withdrawal() {
    let app = spawn_app().await;
    make_approver(&app, "xh_dispatcher", "310104").await;
    let seal = xuhui_seal(&app, &["xh_dispatcher", "xh_approver"], "sequential").await;
    let (_, n1) = notice(&app, "19912360004").await;
    let id = applied(&app, "xh_handler", &seal, &n1, "seq-1").await;
    // Only the first in line is told, and may decide.
    wait_text(&app, "19900000012", "提交了用印申请").await;
    assert!(texts(&app, "19900000011").await.is_empty());
    problem(
        decide(&app, "xh_approver", &id, "approve", "seq-early").await,
        409,
        "not_your_turn",
    )
    .await;
    let first = ok(
        decide(&app, "xh_dispatcher", &id, "approve", "seq-a").await,
        200,
    )
    .await;
    assert_eq!(first["status"], "pending");
    wait_text(&app, "19900000011", "提交了用印申请").await;
    let inbox = app.get_json("xh_approver", "/m/v1/inbox", 200).await;
    assert_eq!(inbox["seal_applications"]["count"], 1);
    let done = ok(
        decide(&app, "xh_approver", &id, "approve", "seq-b").await,
        200,
    )
    .await;
    assert_eq!(done["status"], "approved");
    let view = app
        .get_json(
            "xh_handler",
            &format!("/api/v1/seal-applications/{id}"),
            200,
        )
        .await;
    assert_eq!(view["decisions"].as_array().unwrap().len(), 2);

    // The applicant may withdraw a pending application; then nobody decides.
    let (_, n2) = notice(&app, "19912360005").await;
    let id2 = applied(&app, "xh_handler", &seal, &n2, "seq-2").await;
    As(&app, "xh_dispatcher")
        .refused(
            POST,
            &format!("/api/v1/seal-applications/{id2}/withdrawal"),
            None,
            json!({}),
            403,
            "forbidden",
        )
        .await;
    let withdrawn = As(&app, "xh_handler")
        .expect(
            POST,
            &format!("/api/v1/seal-applications/{id2}/withdrawal"),
            None,
            json!({}),
            200,
        )
        .await;
    assert_eq!(withdrawn["status"], "withdrawn");
    // Its open to-do item is cancelled.
    let mut states = settled(&app, &["up-xh_dispatcher"], 2).await;
    states.sort();
    assert_eq!(states, ["cancelled", "done"]);
    problem(
        decide(&app, "xh_dispatcher", &id2, "approve", "seq-late").await,
        409,
        "application_decided",
    )
    .await;
    // The notice can be applied for again.
    ok(apply(&app, "xh_handler", &seal, &n2, "seq-3").await, 201).await;
}

#[tokio::test]
async fn authorisation_statistics_as_json_and_xlsx() {
    let app = spawn_app().await;
    let seal = xuhui_seal(&app, &["xh_approver"], "any").await;
    let unit = app.unit_id("310104").await;
    // A second seal; the first is granted twice more, once revoked.
    let second = As(&app, "xh_admin").expect(POST, "/api/v1/seals", None, json!({
        "unit_id": unit, "name": "上海市徐汇区人民政府办公室印章", "kind": "行政公章", "cert_ref": "sh-ca:seal:310104:bgs" }), 201).await;
    let second = second["id"].as_str().unwrap().to_owned();
    for (s, login) in [
        (&seal, "xh_dispatcher"),
        (&seal, "xjh_handler"),
        (&second, "xh_handler"),
    ] {
        let user = user_id(&app, login).await;
        As(&app, "xh_admin")
            .expect(
                POST,
                &format!("/api/v1/seals/{s}/grants"),
                None,
                json!({ "user_id": user, "reason": "工作需要" }),
                201,
            )
            .await;
    }
    let grants = grant_history(&app, &seal).await;
    let dispatcher_grant = grants[1]["id"].as_str().unwrap();
    revoke(&app, &seal, dispatcher_grant, "调岗").await;

    let r = app
        .get_json(
            "xh_admin",
            &format!("/api/v1/seal-statistics?unit_id={unit}"),
            200,
        )
        .await;
    assert_eq!(
        r["totals"],
        json!({ "seals": 2, "grants_in_period": 4, "current_grantees": 3, "former_grantees": 1 })
    );
    let first = r["seals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seal_id"] == seal.as_str())
        .unwrap();
    assert_eq!(first["grants_in_period"], 3);
    assert_eq!(first["current_grantees"].as_array().unwrap().len(), 2);
    assert_eq!(first["former_grantees"][0]["name"], "郑强");
    assert_eq!(r["chart"]["labels"].as_array().unwrap().len(), 2);
    assert_eq!(r["chart"]["series"][0]["name"], "期间授权次数");
    // A period before any grant counts none.
    let r = app
        .get_json(
            "xh_admin",
            &format!("/api/v1/seal-statistics?unit_id={unit}&from=2025-01-01&to=2025-12-31"),
            200,
        )
        .await;
    assert_eq!(r["totals"]["grants_in_period"], 0);
    assert_eq!(r["totals"]["current_grantees"], 3);
    problem(
        app.get_as(
            Some("xh_admin"),
            &format!("/api/v1/seal-statistics?unit_id={unit}&from=2026-13-01"),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    problem(
        app.get_as(
            Some("pd_admin"),
            &format!("/api/v1/seal-statistics?unit_id={unit}"),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    // The workbook opens and holds the same numbers under Chinese headers.
    let resp = app
        .get_as(
            Some("xh_admin"),
            &format!("/api/v1/seal-statistics/export?unit_id={unit}"),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("印章授权统计").unwrap();
    let cell = |r: u32, c: u32| {
        sheet
            .get_value((r, c))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    assert_eq!(cell(2, 0), "印章名称");
    assert_eq!(cell(2, 3), "期间授权次数");
    let rows: Vec<(String, String, String)> = (3..5)
        .map(|r| (cell(r, 0), cell(r, 3), cell(r, 4)))
        .collect();
    assert!(
        rows.contains(&(
            "上海市徐汇区人民政府政务公开专用章".into(),
            "3".into(),
            "2".into()
        )),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(
            "上海市徐汇区人民政府办公室印章".into(),
            "1".into(),
            "1".into()
        )),
        "{rows:?}"
    );
    assert_eq!(
        (cell(5, 0), cell(5, 3), cell(5, 4), cell(5, 5)),
        ("合计".into(), "4".into(), "3".into(), "1".into())
    );
    let detail = book.worksheet_range("被授权人明细").unwrap();
    assert_eq!(detail.height(), 5, "a header and four grants");
    // Times are date-time cells in Shanghai time, not UTC text; the period
    // is two date cells.
    let granted = match detail.get_value((1, 2)) {
        Some(calamine::Data::DateTime(t)) => t.as_f64(),
        other => panic!("授权时间 is {other:?}"),
    };
    let shanghai =
        time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
    let epoch = time::macros::date!(1899 - 12 - 30);
    let serial = (shanghai.date() - epoch).whole_days() as f64
        + f64::from(shanghai.time().hour()) / 24.0
        + f64::from(shanghai.time().minute()) / 1440.0;
    assert!(
        (granted - serial).abs() < 0.05,
        "granted {granted}, now in Shanghai {serial}"
    );
    assert!(matches!(
        sheet.get_value((0, 1)),
        Some(calamine::Data::DateTime(_))
    ));
}
