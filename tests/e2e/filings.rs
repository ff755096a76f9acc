//! Filings across the air gap (FW-05): a package made on the internet-side
//! server is imported on an internal-side server with its own database and
//! key, reviewed and returned there, and comes back; a returned filing may
//! change only the fields named; every refusal (a tampered byte, an
//! altered record, a bad signature, an untrusted signer, an unknown format,
//! a missing or extra file, a package too large or inflating too far) is
//! whole, and importing twice changes nothing. Then the office platforms'
//! pushed documents (XT-01).

use std::io::{Cursor, Read, Write};

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{As, Options, TestApp, TestDb, ok, problem, spawn_app, spawn_with};

const OFFICE: &str = "fw_staff";
const REPORTER: &str = "xh_fz";
const KEY_A: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const KEY_B: &str = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";

fn pem(key: &str) -> String {
    use api::seal::adapter::{LocalSignService, SignService};
    LocalSignService::new(key)
        .unwrap()
        .public_key_pem()
        .to_owned()
}

async fn side(side: &str, key: &str, peer: &str, extra: Vec<(&'static str, String)>) -> TestApp {
    let mut env = vec![
        ("GOV_LEGAL__FILING_SIDE", side.to_owned()),
        ("GOV_CRYPTO__SIGNING_KEY", key.to_owned()),
        ("GOV_LEGAL__FILING_PEERS", pem(peer)),
    ];
    env.extend(extra);
    spawn_with(TestDb::new().await, Options { demo: true, env }).await
}

pub fn document(doc_no: &str) -> Value {
    json!({ "title": "上海市徐汇区公共停车场管理办法", "doc_no": doc_no, "issuing_unit": "上海市徐汇区人民政府",
        "issued_on": "2026-03-01", "effective_on": "2026-04-01", "full_text": "第一条 为了加强公共停车场管理……" })
}

/// A filing of 徐汇区 by its reporting officer, with a PDF attached.
pub async fn filed(app: &TestApp, doc_no: &str) -> (String, String) {
    let unit = app.unit_id("310104").await;
    let f = As(app, REPORTER)
        .expect(
            Method::POST,
            "/api/v1/legal/filings",
            None,
            json!({ "unit_id": unit, "document": document(doc_no) }),
            201,
        )
        .await;
    let id = f["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/legal/filings/{id}/files?name=正文.pdf");
    let file = ok(
        app.post_raw(
            REPORTER,
            &path,
            "application/pdf",
            b"%PDF-1.4 filing".to_vec(),
        )
        .await,
        201,
    )
    .await;
    (id, file["hash"].as_str().unwrap().to_owned())
}

/// The package the office exports with `selection`, and its id.
pub async fn export(app: &TestApp, selection: Value) -> (Vec<u8>, String) {
    let resp = As(app, OFFICE)
        .send(
            Method::POST,
            "/api/v1/legal/filing-packages/export",
            None,
            selection,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    let id = resp.headers()["x-package-id"].to_str().unwrap().to_owned();
    (resp.bytes().await.unwrap().to_vec(), id)
}

async fn import(app: &TestApp, bytes: Vec<u8>) -> reqwest::Response {
    app.post_raw(
        OFFICE,
        "/api/v1/legal/filing-packages",
        "application/zip",
        bytes,
    )
    .await
}

async fn imported(app: &TestApp, bytes: Vec<u8>) -> Value {
    ok(import(app, bytes).await, 200).await
}

async fn step(app: &TestApp, user: &str, id: &str, body: Value, status: u16) -> Value {
    As(app, user)
        .expect(
            Method::POST,
            &format!("/api/v1/legal/filings/{id}/steps"),
            None,
            body,
            status,
        )
        .await
}

async fn filing(app: &TestApp, user: &str, id: &str) -> Value {
    app.get_json(user, &format!("/api/v1/legal/filings/{id}"), 200)
        .await
}

#[tokio::test]
async fn a_filing_crosses_to_review_comes_back_returned_and_changes_only_what_was_named() {
    let a = side("internet", KEY_A, KEY_B, vec![]).await;
    let b = side("internal", KEY_B, KEY_A, vec![]).await;
    let (id, hash) = filed(&a, "徐府规〔2026〕1号").await;
    // Reporting is on the internet side, review on the internal one.
    let unit_b = b.unit_id("310104").await;
    As(&b, REPORTER)
        .refused(
            Method::POST,
            "/api/v1/legal/filings",
            None,
            json!({ "unit_id": unit_b, "document": document("x") }),
            409,
            "wrong_network",
        )
        .await;
    problem(
        As(&a, OFFICE)
            .send(
                Method::POST,
                &format!("/api/v1/legal/filings/{id}/steps"),
                None,
                json!({ "step": "start_review" }),
            )
            .await,
        409,
        "wrong_network",
    )
    .await;

    let (package, package_id) = export(&a, json!({})).await;
    let (empty, _) = export(&a, json!({})).await;
    let r = imported(&b, package.clone()).await;
    assert_eq!(
        (r["created"].as_i64(), r["repeated"].as_bool()),
        (Some(1), Some(false)),
        "{r}"
    );
    assert_eq!(r["package_id"], package_id);
    let again = imported(&b, package.clone()).await;
    // The same disc again: its first report, and nothing changed.
    assert_eq!(
        (again["created"].as_i64(), again["repeated"].as_bool()),
        (Some(1), Some(true)),
        "{again}"
    );
    assert_eq!(b.count("SELECT COUNT(*) FROM filings").await, 1);
    assert_eq!(
        imported(&b, empty).await["records"],
        0,
        "nothing changed since the first package"
    );
    let on_b = filing(&b, OFFICE, &id).await;
    assert_eq!(on_b["document"]["doc_no"], "徐府规〔2026〕1号");
    assert_eq!(on_b["history"][0]["action"], "submit");
    let file = b
        .get_as(
            Some(OFFICE),
            &format!("/api/v1/legal/filings/{id}/files/{hash}"),
        )
        .await;
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"%PDF-1.4 filing");
    let progress = b
        .get_json(
            OFFICE,
            &format!("/api/v1/legal/filing-packages/{package_id}"),
            200,
        )
        .await;
    assert_eq!(
        (
            progress["records_done"].as_i64(),
            progress["status"].as_str()
        ),
        (Some(1), Some("done"))
    );

    // Reviewed and returned on the internal side, naming the title.
    step(&b, OFFICE, &id, json!({ "step": "start_review" }), 200).await;
    step(
        &b,
        OFFICE,
        &id,
        json!({ "step": "return", "opinion": "标题与内容不符" }),
        422,
    )
    .await;
    step(
        &b,
        OFFICE,
        &id,
        json!({ "step": "return", "opinion": "标题与内容不符", "fields": ["title"] }),
        200,
    )
    .await;
    let (back, _) = export(&b, json!({})).await;
    assert_eq!(imported(&a, back).await["updated"], 1);
    let on_a = filing(&a, REPORTER, &id).await;
    assert_eq!(
        (on_a["status"].as_str(), on_a["review_opinion"].as_str()),
        (Some("returned"), Some("标题与内容不符"))
    );
    assert_eq!(on_a["returned_fields"], json!(["title"]));

    // Only the title may change.
    let path = format!("/api/v1/legal/filings/{id}");
    let refused = As(&a, REPORTER)
        .refused(
            Method::PATCH,
            &path,
            None,
            json!({ "title": "新标题", "doc_no": "徐府规〔2026〕9号" }),
            422,
            "invalid_fields",
        )
        .await;
    assert_eq!(refused["errors"][0]["field"], "doc_no", "{refused}");
    assert_eq!(
        filing(&a, REPORTER, &id).await["document"]["title"],
        on_a["document"]["title"],
        "nothing changed"
    );
    As(&a, REPORTER)
        .expect(
            Method::PATCH,
            &path,
            None,
            json!({ "title": "上海市徐汇区公共停车场管理规定" }),
            200,
        )
        .await;
    step(&a, REPORTER, &id, json!({ "step": "resubmit" }), 200).await;

    // Back for review, accepted, and exported back for publication.
    let (changed, _) = export(&a, json!({})).await;
    assert_eq!(imported(&b, changed).await["updated"], 1);
    step(&b, OFFICE, &id, json!({ "step": "start_review" }), 200).await;
    step(
        &b,
        OFFICE,
        &id,
        json!({ "step": "accept", "opinion": "准予备案" }),
        200,
    )
    .await;
    let (accepted, _) = export(&b, json!({ "status": "accepted", "since": "2000-01-01" })).await;
    assert_eq!(imported(&a, accepted).await["updated"], 1);
    let published = step(&a, OFFICE, &id, json!({ "step": "publish" }), 200).await;
    assert_eq!(
        published["document"]["title"],
        "上海市徐汇区公共停车场管理规定"
    );
    let actions: Vec<&str> = published["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "start_review",
            "return",
            "edit",
            "resubmit",
            "start_review",
            "accept",
            "publish"
        ]
    );
    assert!(a.audited("legal.filing.package_import").await >= 2);
    assert!(b.audited("legal.filing.package_export").await >= 2);
}

#[tokio::test]
async fn a_record_changed_on_both_sides_is_a_conflict_and_is_not_overwritten() {
    let a = side("internet", KEY_A, KEY_B, vec![]).await;
    let b = side("internal", KEY_B, KEY_A, vec![]).await;
    let (id, _) = filed(&a, "徐府规〔2026〕2号").await;
    let (first, _) = export(&a, json!({})).await;
    imported(&b, first).await;
    // Both change version 2 of it: a second file here, the review there.
    let path = format!("/api/v1/legal/filings/{id}/files?name=附件.pdf");
    ok(
        a.post_raw(
            REPORTER,
            &path,
            "application/pdf",
            b"%PDF-1.4 annex".to_vec(),
        )
        .await,
        201,
    )
    .await;
    step(&b, OFFICE, &id, json!({ "step": "start_review" }), 200).await;
    let (from_b, _) = export(&b, json!({})).await;
    let r = imported(&a, from_b).await;
    assert_eq!(r["updated"], 0, "{r}");
    assert_eq!(r["conflicts"][0]["id"], id.as_str(), "{r}");
    assert_eq!(
        filing(&a, REPORTER, &id).await["status"],
        "submitted",
        "kept as it is here"
    );
    // And the other way: the internal side keeps its review.
    let (from_a, _) = export(&a, json!({})).await;
    let r = imported(&b, from_a).await;
    assert_eq!(r["conflicts"][0]["id"], id.as_str(), "{r}");
    let on_b = filing(&b, OFFICE, &id).await;
    assert_eq!(
        (
            on_b["status"].as_str(),
            on_b["files"].as_array().unwrap().len()
        ),
        (Some("under_review"), 1)
    );
}

/// The package's files, by name.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            (f.name().unwrap().into_owned(), out)
        })
        .collect()
}

fn rezip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn edit(
    files: &[(String, Vec<u8>)],
    name: &str,
    change: impl Fn(&mut Value),
) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|(n, b)| {
            if n.starts_with(name) {
                let mut v: Value = serde_json::from_slice(b).unwrap();
                change(&mut v);
                (n.clone(), serde_json::to_vec(&v).unwrap())
            } else {
                (n.clone(), b.clone())
            }
        })
        .collect()
}

async fn refused_for(app: &TestApp, bytes: Vec<u8>, field: &str, detail: &str) {
    let p = problem(import(app, bytes).await, 422, "invalid_field").await;
    assert!(p["detail"].as_str().unwrap().contains(detail), "{p}");
    assert!(p["detail"].as_str().unwrap().contains(field), "{p}");
}

#[tokio::test]
async fn a_package_with_any_fault_is_refused_whole() {
    let big = ("GOV_LEGAL__MAX_PACKAGE_BYTES", "300000".to_owned());
    let inflated = ("GOV_LEGAL__MAX_UNPACKED_BYTES", "1000000".to_owned());
    let a = side("internet", KEY_A, KEY_B, vec![]).await;
    let b = side("internal", KEY_B, KEY_A, vec![big, inflated]).await;
    let (id, _) = filed(&a, "徐府规〔2026〕3号").await;
    let (good, _) = export(&a, json!({})).await;
    let files = unzip(&good);
    let record = format!("records/{id}.json");

    // One byte inside the manifest's compressed data (its local header is
    // 30 bytes and its name 13).
    let mut flipped = good.clone();
    flipped[60] ^= 0x5a;
    let p = problem(import(&b, flipped).await, 422, "invalid_field").await;
    assert!(p["detail"].as_str().unwrap().len() > 4, "{p}");
    refused_for(
        &b,
        rezip(&edit(&files, "records/", |v| {
            v["content"]["title"] = json!("改过的标题")
        })),
        &record,
        "哈希不符",
    )
    .await;
    refused_for(
        &b,
        rezip(&edit(&files, "manifest.json", |v| {
            v["created_at"] = json!("2020-01-01T00:00:00Z")
        })),
        "manifest.sig",
        "签名校验失败",
    )
    .await;
    refused_for(
        &b,
        rezip(&edit(&files, "manifest.json", |v| {
            v["format"] = json!("gov-filing-package/9")
        })),
        "manifest.json",
        "gov-filing-package/9",
    )
    .await;
    let without: Vec<_> = files
        .iter()
        .filter(|(n, _)| !n.starts_with("files/"))
        .cloned()
        .collect();
    refused_for(&b, rezip(&without), "files/", "缺少").await;
    let mut extra = files.clone();
    extra.push(("run.sh".into(), b"rm -rf /".to_vec()));
    refused_for(&b, rezip(&extra), "run.sh", "不在清单中").await;
    // Signed by a key the internal side does not trust.
    let stranger = api::crypto::sign::Sm2Signer::generate().unwrap();
    let mut forged = edit(&files, "manifest.json", |v| {
        let pem = stranger.public_key_pem().unwrap();
        v["signer"] =
            json!({ "key_id": api::seal::adapter::key_id_of(&pem), "public_key_pem": pem });
    });
    let manifest = forged
        .iter()
        .find(|(n, _)| n == "manifest.json")
        .unwrap()
        .1
        .clone();
    for (n, b) in forged.iter_mut() {
        if n == "manifest.sig" {
            *b = hex::encode(stranger.sign_der(&manifest)).into_bytes();
        }
    }
    refused_for(&b, rezip(&forged), "manifest.sig", "不在信任列表中").await;
    // A package from this same network.
    let (own, _) = export(&b, json!({ "since": "2000-01-01" })).await;
    refused_for(&b, own, "manifest.json", "来自本网").await;
    // Too large: refused as it arrives.
    problem(
        import(&b, vec![b'P'; 400_000]).await,
        413,
        "payload_too_large",
    )
    .await;
    // A zip bomb: 2 MB of zeros, a few kilobytes packed.
    let (id2, _) = filed(&a, "徐府规〔2026〕4号").await;
    let mut zeros = b"%PDF-1.4 ".to_vec();
    zeros.resize(2_000_000, 0);
    ok(
        a.post_raw(
            REPORTER,
            &format!("/api/v1/legal/filings/{id2}/files?name=z.pdf"),
            "application/pdf",
            zeros,
        )
        .await,
        201,
    )
    .await;
    let (packed, _) = export(&a, json!({})).await;
    assert!(packed.len() < 300_000, "{}", packed.len());
    refused_for(&b, packed, "package", "解压后超过").await;
    assert_eq!(
        b.count("SELECT COUNT(*) FROM filings").await,
        0,
        "nothing was written"
    );
    assert!(
        b.audited_with("legal.filing.package_import", Some("denied"))
            .await
            >= 8
    );
    // And the good package still imports.
    assert_eq!(imported(&b, good).await["created"], 1);
}

async fn pushed(app: &TestApp, body: Value) -> Value {
    app.posted("/stand-in/unified-platform/documents/push", body, 200)
        .await
}

fn official(version: i64, doc_no: &str) -> Value {
    json!({ "platform": "310104", "document_id": "oa-2026-0001", "version": version, "unit_code": "310104",
        "document": document(doc_no) })
}

#[tokio::test]
async fn the_office_platform_pushes_official_documents_once_each_version() {
    let app = spawn_app().await;
    let r = pushed(&app, official(1, "徐府发〔2026〕7号")).await;
    assert_eq!(
        (r["rp_status"].as_i64(), r["rp_body"]["result"].as_str()),
        (Some(201), Some("created")),
        "{r}"
    );
    let id = r["rp_body"]["filing_id"].as_str().unwrap().to_owned();
    assert_eq!(
        pushed(&app, official(1, "徐府发〔2026〕7号")).await["rp_body"]["result"],
        "duplicate"
    );
    assert_eq!(
        pushed(&app, official(2, "徐府发〔2026〕8号")).await["rp_body"]["result"],
        "updated"
    );
    assert_eq!(
        pushed(&app, official(1, "徐府发〔2026〕7号")).await["rp_body"]["result"],
        "stale"
    );
    let f = filing(&app, OFFICE, &id).await;
    assert_eq!(
        (f["document"]["doc_no"].as_str(), f["source"].as_str()),
        (Some("徐府发〔2026〕8号"), Some("platform"))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM filings").await, 1);
    // Reviewed: a newer version no longer replaces it.
    step(&app, OFFICE, &id, json!({ "step": "start_review" }), 200).await;
    let r = pushed(&app, official(3, "徐府发〔2026〕9号")).await;
    assert_eq!(
        (r["rp_status"].as_i64(), r["rp_body"]["code"].as_str()),
        (Some(409), Some("already_in_review")),
        "{r}"
    );
    // Bad input, named.
    let mut bad = official(4, "");
    bad["document_id"] = json!("oa-2026-0002");
    let r = pushed(&app, bad).await;
    assert_eq!(
        (
            r["rp_status"].as_i64(),
            r["rp_body"]["errors"][0]["field"].as_str()
        ),
        (Some(422), Some("doc_no")),
        "{r}"
    );
    let mut nowhere = official(1, "沪府发〔2026〕1号");
    nowhere["unit_code"] = json!("999999");
    assert_eq!(pushed(&app, nowhere).await["rp_body"]["field"], "unit_code");
    // Unsigned or mis-signed: 401, audited.
    let resp = app
        .post_json("/api/v1/legal/filings/intake", official(9, "x"))
        .await;
    problem(resp, 401, "signature_missing").await;
    let resp = app
        .client
        .post(app.url("/api/v1/legal/filings/intake"))
        .header(
            "x-filing-timestamp",
            api::clock::now().unix_timestamp().to_string(),
        )
        .header("x-filing-signature", "00".repeat(32))
        .json(&official(9, "x"))
        .send()
        .await
        .unwrap();
    problem(resp, 401, "invalid_signature").await;
    assert!(
        app.audited_with("legal.filing.intake", Some("denied"))
            .await
            >= 4
    );
    assert_eq!(
        app.audited_with("legal.filing.intake", Some("success"))
            .await,
        4
    );
}

#[tokio::test]
async fn major_decisions_are_declared_moved_on_and_counted_with_drill_downs() {
    let app = spawn_app().await;
    let xuhui = app.unit_id("310104").await;
    let street = app.unit_id("310104-XJH").await;
    let declare = |user: &'static str, unit: String, title: &'static str| {
        let app = &app;
        async move {
            As(app, user)
                .send(
                    Method::POST,
                    "/api/v1/legal/major-decisions",
                    None,
                    json!({ "unit_id": unit, "year": 2026, "title": title }),
                )
                .await
        }
    };
    let d = ok(
        declare(REPORTER, xuhui.clone(), "徐汇滨江公共空间更新方案").await,
        201,
    )
    .await;
    ok(
        declare(REPORTER, xuhui.clone(), "徐汇区养老服务设施布局规划").await,
        201,
    )
    .await;
    problem(
        declare("xjh_fz", street, "街道决策").await,
        422,
        "invalid_field",
    )
    .await;
    problem(declare(OFFICE, xuhui, "代报").await, 403, "forbidden").await;
    let id = d["id"].as_str().unwrap();
    let path = format!("/api/v1/legal/major-decisions/{id}/progress");
    As(&app, OFFICE)
        .refused(
            Method::POST,
            &path,
            None,
            json!({ "to": "filed" }),
            409,
            "wrong_state",
        )
        .await;
    let moved = As(&app, OFFICE)
        .expect(
            Method::POST,
            &path,
            None,
            json!({ "to": "catalogued" }),
            200,
        )
        .await;
    assert_eq!(moved["progress"], "catalogued");
    As(&app, REPORTER)
        .refused(
            Method::POST,
            &path,
            None,
            json!({ "to": "filed" }),
            403,
            "forbidden",
        )
        .await;

    let s = app
        .get_json(
            OFFICE,
            "/api/v1/legal/major-decisions/statistics?from=2025&to=2026",
            200,
        )
        .await;
    assert_eq!(s["declarations"]["labels"], json!(["2025", "2026"]));
    assert_eq!(
        s["declarations"]["series"][0],
        json!({ "name": "区政府", "data": [0, 2] })
    );
    assert_eq!(s["progress"]["series"][0]["data"], json!([1, 1, 0, 0]));
    let cell = s["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["measure"] == "progress" && c["progress"] == "catalogued" && c["group"] == "district"
        })
        .unwrap();
    let drilled = app
        .get_json(OFFICE, cell["drill"].as_str().unwrap(), 200)
        .await;
    assert_eq!(
        crate::common::pluck(&drilled, "title"),
        ["徐汇滨江公共空间更新方案"]
    );
    app.get_json(
        OFFICE,
        "/api/v1/legal/major-decisions/statistics?from=2026&to=2020",
        422,
    )
    .await;
    let resp = app
        .get_as(
            Some(OFFICE),
            "/api/v1/legal/major-decisions/statistics.xlsx?from=2026&to=2026",
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    use calamine::{Reader, Xlsx};
    let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("决策目录").unwrap();
    assert_eq!(sheet.height(), 3, "a header and the two declarations");
    assert_eq!(app.audited("legal.decision.export").await, 1);
}

#[tokio::test]
async fn a_large_package_is_written_in_chunks_and_shows_its_progress() {
    let a = side("internet", KEY_A, KEY_B, vec![]).await;
    let b = side("internal", KEY_B, KEY_A, vec![]).await;
    let unit = a.unit_id("310104").await;
    for i in 0..230 {
        let body =
            json!({ "unit_id": unit, "document": document(&format!("徐府规〔2026〕{i}号")) });
        As(&a, REPORTER)
            .expect(Method::POST, "/api/v1/legal/filings", None, body, 201)
            .await;
    }
    let (package, id) = export(&a, json!({})).await;
    let r = imported(&b, package).await;
    assert_eq!(
        (r["records"].as_i64(), r["created"].as_i64()),
        (Some(230), Some(230)),
        "{r}"
    );
    let p = b
        .get_json(OFFICE, &format!("/api/v1/legal/filing-packages/{id}"), 200)
        .await;
    assert_eq!(
        (p["records_total"].as_i64(), p["records_done"].as_i64()),
        (Some(230), Some(230)),
        "{p}"
    );
    assert_eq!(p["report"]["created"], 230);
    let listed = b
        .get_json(OFFICE, "/api/v1/legal/filings?limit=200", 200)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 200);
    let found = b
        .get_json(OFFICE, "/api/v1/legal/filings?q=〔2026〕229号", 200)
        .await;
    assert_eq!(
        crate::common::pluck(&found, "doc_no"),
        ["徐府规〔2026〕229号"]
    );
}
