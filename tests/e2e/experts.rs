//! The expert library (FW-03): the office edits, every unit searches and
//! reads with the contacts masked, fuzzy search over name, unit, post and
//! fields, the overview by category, soft delete, the export in the
//! user's saved columns, and contacts sealed at rest.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{As, pluck, problem, spawn_app};

const OFFICE: &str = "fw_staff";
const UNIT: &str = "xh_handler";

pub fn zhang() -> Value {
    json!({ "category": "法学", "name": "张三", "unit_name": "华东政法大学", "post": "教授",
        "fields": ["行政法", "规范性文件审查"], "phone": "+86 139 1234 5678",
        "email": "zhangsan@ecupl.edu.cn", "profile": "长期从事行政法研究" })
}

fn li() -> Value {
    json!({ "category": "城市规划", "name": "李四", "unit_name": "同济大学", "post": "研究员",
        "fields": ["国土空间规划"], "phone": null, "email": null })
}

#[tokio::test]
async fn the_office_keeps_the_library_and_every_unit_searches_it_masked() {
    let app = spawn_app().await;
    let office = As(&app, OFFICE);
    let e = office
        .expect(Method::POST, "/api/v1/legal/experts", None, zhang(), 201)
        .await;
    assert_eq!(
        (e["phone"].as_str(), e["email"].as_str()),
        (Some("13912345678"), Some("zhangsan@ecupl.edu.cn"))
    );
    office
        .expect(Method::POST, "/api/v1/legal/experts", None, li(), 201)
        .await;
    let id = e["id"].as_str().unwrap().to_owned();

    // Any unit's official finds 张 in 张三, and sees the contacts masked.
    let found = app.get_json(UNIT, "/api/v1/legal/experts?q=张", 200).await;
    assert_eq!(pluck(&found, "name"), ["张三"]);
    assert_eq!(
        (found[0]["phone"].as_str(), found[0]["email"].as_str()),
        (Some("139****5678"), Some("z***@ecupl.edu.cn"))
    );
    for q in ["政法", "审查", "研究员", "规划"] {
        let hits = app
            .get_json(UNIT, &format!("/api/v1/legal/experts?q={q}"), 200)
            .await;
        assert_eq!(hits.as_array().unwrap().len(), 1, "{q}: {hits}");
    }
    assert_eq!(
        app.get_json(UNIT, "/api/v1/legal/experts?q=%25", 200).await,
        json!([]),
        "LIKE's own characters are literal"
    );
    assert_eq!(
        pluck(
            &app.get_json(UNIT, "/api/v1/legal/experts?category=法学", 200)
                .await,
            "name"
        ),
        ["张三"]
    );
    assert_eq!(
        app.get_json(OFFICE, &format!("/api/v1/legal/experts/{id}"), 200)
            .await["phone"],
        "13912345678"
    );
    let overview = app
        .get_json(UNIT, "/api/v1/legal/experts/overview", 200)
        .await;
    assert_eq!(
        overview,
        json!([{ "category": "城市规划", "experts": 1 }, { "category": "法学", "experts": 1 }])
    );

    // Only the office edits.
    As(&app, UNIT)
        .refused(
            Method::POST,
            "/api/v1/legal/experts",
            None,
            zhang(),
            403,
            "forbidden",
        )
        .await;
    let path = format!("/api/v1/legal/experts/{id}");
    As(&app, "xh_fz")
        .refused(Method::PUT, &path, None, zhang(), 403, "forbidden")
        .await;
    As(&app, "xh_fz")
        .refused(Method::DELETE, &path, None, json!({}), 403, "forbidden")
        .await;

    // Sealed at rest: the stored bytes do not hold the number.
    let db = app.db.connect().await;
    const SEALED: &str = "SELECT phone FROM experts WHERE name = '张三'";
    let stored: Vec<u8> =
        api::on_db!(&db, c => sqlx::query_scalar(SEALED).fetch_one(c).await).unwrap();
    db.close().await;
    assert!(!stored.windows(11).any(|w| w == b"13912345678"));

    let mut changed = zhang();
    changed["post"] = json!("教授、博士生导师");
    let e = office.expect(Method::PUT, &path, None, changed, 200).await;
    assert_eq!(e["post"], "教授、博士生导师");
    let resp = office.send(Method::DELETE, &path, None, json!({})).await;
    assert_eq!(resp.status().as_u16(), 204);
    app.get_json(UNIT, &path, 404).await;
    assert_eq!(
        pluck(
            &app.get_json(UNIT, "/api/v1/legal/experts", 200).await,
            "name"
        ),
        ["李四"]
    );
    assert_eq!(
        office
            .send(Method::DELETE, &path, None, json!({}))
            .await
            .status()
            .as_u16(),
        404
    );
    for action in [
        "legal.expert.create",
        "legal.expert.update",
        "legal.expert.delete",
    ] {
        assert!(app.audited(action).await >= 1, "{action}");
    }
}

#[tokio::test]
async fn bad_experts_are_refused_naming_each_field() {
    let app = spawn_app().await;
    let office = As(&app, OFFICE);
    let mut bad = zhang();
    bad["name"] = json!("");
    bad["phone"] = json!("010-1234");
    bad["email"] = json!("not-an-address");
    let p = office
        .refused(
            Method::POST,
            "/api/v1/legal/experts",
            None,
            bad,
            422,
            "invalid_fields",
        )
        .await;
    assert_eq!(pluck(&p["errors"], "field"), ["name", "phone", "email"]);
    let mut extra = zhang();
    extra["salary"] = json!(1);
    office
        .refused(
            Method::POST,
            "/api/v1/legal/experts",
            None,
            extra,
            400,
            "malformed_body",
        )
        .await;
    let mut wrong = zhang();
    wrong["fields"] = json!("行政法");
    office
        .refused(
            Method::POST,
            "/api/v1/legal/experts",
            None,
            wrong,
            400,
            "malformed_body",
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM experts").await, 0);
    problem(
        office
            .send(Method::PUT, "/api/v1/legal/experts/01NONE", None, zhang())
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_library_exports_in_the_columns_saved_by_name() {
    use calamine::{Reader, Xlsx};
    let app = spawn_app().await;
    As(&app, OFFICE)
        .expect(Method::POST, "/api/v1/legal/experts", None, zhang(), 201)
        .await;
    let sheet = |bytes: Vec<u8>| -> Vec<Vec<String>> {
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("专家库").unwrap();
        range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    };
    let get = |user: &'static str, query: &'static str| {
        let app = &app;
        async move {
            let resp = app
                .get_as(Some(user), &format!("/api/v1/legal/experts/export?{query}"))
                .await;
            assert_eq!(resp.status().as_u16(), 200, "{query}");
            resp.bytes().await.unwrap().to_vec()
        }
    };
    let rows = sheet(get(UNIT, "columns=name,phone").await);
    assert_eq!(
        rows,
        [vec!["姓名", "手机号码"], vec!["张三", "139****5678"]]
    );
    let save = json!({ "columns": ["phone", "name", "fields"] });
    As(&app, OFFICE)
        .expect(
            Method::PUT,
            "/api/v1/export-templates/experts/联系表",
            None,
            save,
            200,
        )
        .await;
    let rows = sheet(get(OFFICE, "template=%E8%81%94%E7%B3%BB%E8%A1%A8").await);
    assert_eq!(rows[1], ["13912345678", "张三", "行政法、规范性文件审查"]);
    let p = app
        .get_as(
            Some(OFFICE),
            "/api/v1/legal/experts/export?columns=name,salary",
        )
        .await;
    problem(p, 422, "invalid_field").await;
    assert_eq!(app.audited("legal.expert.export").await, 2);
}
