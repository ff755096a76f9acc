//! The org tree read API, scoped by role and unit.

use std::collections::HashSet;

use crate::common::{pluck, problem, spawn_app};

#[tokio::test]
async fn city_wide_admin_sees_the_whole_tree_page_by_page() {
    let app = spawn_app().await;
    let roots = app.get_json("sysadmin", "/api/v1/org/units", 200).await;
    let items = roots["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "上海市人民政府");
    assert_eq!(items[0]["kind"], "city_government");
    let root_id = items[0]["id"].as_str().unwrap().to_owned();
    let child_count = items[0]["child_count"].as_i64().unwrap();

    // Walk the root's children 7 at a time: every child once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/org/units?parent_id={root_id}&limit=7");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get_json("sysadmin", &path, 200).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        seen.extend(items.iter().map(|u| {
            (
                u["name"].as_str().unwrap().to_owned(),
                u["kind"].as_str().unwrap().to_owned(),
            )
        }));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, child_count);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a unit appeared on two pages");
    let count = |kind: &str| seen.iter().filter(|(_, k)| k == kind).count();
    assert_eq!(count("district_government"), 16);
    assert!(count("municipal_department") >= 10);
    assert!(seen.iter().any(|(n, _)| n == "上海市人民政府办公厅"));
}

#[tokio::test]
async fn district_official_sees_only_their_district() {
    let app = spawn_app().await;
    let xuhui = app.unit_id("310104").await;
    let pudong = app.unit_id("310115").await;
    let street = app.unit_id("310104-XJH").await;

    let roots = app
        .get_json("xh_dispatcher", "/api/v1/org/units", 200)
        .await;
    let names = pluck(&roots["items"], "name");
    assert_eq!(names, ["上海市徐汇区人民政府"]);

    let children = app
        .get_json(
            "xh_dispatcher",
            &format!("/api/v1/org/units?parent_id={xuhui}&limit=200"),
            200,
        )
        .await;
    let kinds: HashSet<_> = pluck(&children["items"], "kind").into_iter().collect();
    for kind in ["street", "town", "district_bureau"] {
        assert!(kinds.contains(kind), "no {kind} under 徐汇区");
    }

    // Another district, the city root, and a unit that does not exist all
    // answer the same 404: nothing leaks about what lies outside the scope.
    let missing = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
    for id in [pudong.as_str(), missing] {
        let resp = app
            .get_as(Some("xh_dispatcher"), &format!("/api/v1/org/units/{id}"))
            .await;
        let body = problem(resp, 404, "not_found").await;
        assert_eq!(body["detail"], "资源不存在");
    }
    let root = app.unit_id("SH").await;
    let resp = app
        .get_as(
            Some("xh_dispatcher"),
            &format!("/api/v1/org/units?parent_id={root}"),
        )
        .await;
    problem(resp, 404, "not_found").await;

    // Breadcrumbs stop at the top of the caller's scope.
    let detail = app
        .get_json("xh_dispatcher", &format!("/api/v1/org/units/{street}"), 200)
        .await;
    assert_eq!(detail["name"], "徐家汇街道办事处");
    let crumbs = pluck(&detail["ancestors"], "name");
    assert_eq!(crumbs, ["上海市徐汇区人民政府"]);
    let detail = app
        .get_json("sysadmin", &format!("/api/v1/org/units/{street}"), 200)
        .await;
    let crumbs = pluck(&detail["ancestors"], "name");
    assert_eq!(crumbs, ["上海市人民政府", "上海市徐汇区人民政府"]);
    assert_eq!(detail["code"], "310104-XJH");
    assert_eq!(detail["kind_label"], "街道");
}

#[tokio::test]
async fn street_handler_cannot_climb_to_the_district() {
    let app = spawn_app().await;
    let xuhui = app.unit_id("310104").await;
    let resp = app
        .get_as(Some("xjh_handler"), &format!("/api/v1/org/units/{xuhui}"))
        .await;
    problem(resp, 404, "not_found").await;
    let roots = app.get_json("xjh_handler", "/api/v1/org/units", 200).await;
    assert_eq!(roots["items"][0]["name"], "徐家汇街道办事处");
    assert_eq!(roots["items"][0]["child_count"], 0);
    // An applicant holds no unit and sees no tree.
    let roots = app
        .get_json("applicant_zhou", "/api/v1/org/units", 200)
        .await;
    assert_eq!(roots["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn bad_paging_parameters_are_refused_by_name() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("limit=ten", "query"),
    ] {
        let resp = app
            .get_as(Some("sysadmin"), &format!("/api/v1/org/units?{query}"))
            .await;
        let body = problem(resp, 422, "invalid_field").await;
        assert_eq!(body["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn org_routes_need_a_signed_in_user() {
    let app = spawn_app().await;
    for path in ["/api/v1/org/units", "/api/v1/me", "/m/v1/me"] {
        problem(app.get_as(None, path).await, 401, "unauthenticated").await;
        // An unknown user is no better than none.
        problem(
            app.get_as(Some("nobody"), path).await,
            401,
            "unauthenticated",
        )
        .await;
    }
}

#[tokio::test]
async fn me_shows_unit_roles_and_a_masked_phone() {
    let app = spawn_app().await;
    let me = app.get_json("pd_handler", "/api/v1/me", 200).await;
    assert_eq!(me["display_name"], "梁燕");
    assert_eq!(me["unit"]["name"], "浦东新区人民政府办公室");
    let phone = me["phone_masked"].as_str().unwrap();
    assert!(phone.starts_with("199****"), "{phone}");
    let roles = pluck(&me["roles"], "role");
    assert_eq!(roles, ["handler", "seal_approver"]);
    assert_eq!(me["roles"][0]["role_label"], "经办人");
    assert_eq!(me["roles"][0]["unit_name"], "浦东新区人民政府办公室");

    let m = app.get_json("pd_handler", "/m/v1/me", 200).await;
    assert_eq!(m["name"], "梁燕");
    assert_eq!(m["unit"], "浦东新区人民政府办公室");
    assert_eq!(m["roles"], serde_json::json!(["handler", "seal_approver"]));
}
