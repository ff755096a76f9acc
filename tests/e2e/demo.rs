//! Demo data: realistic, complete, idempotent, and never in production.

use crate::common::{Options, TestDb, run_cli, spawn_app, spawn_with};

#[tokio::test]
async fn demo_has_every_role_and_encrypted_test_range_phones() {
    let app = spawn_app().await;
    for role in [
        "system_admin",
        "security_admin",
        "audit_admin",
        "unit_admin",
        "seal_approver",
        "handler",
        "dispatcher",
        "legal_admin",
        "legal_reporter",
        "legal_reviewer",
        "form_sender",
        "form_filler",
        "disclosure_admin",
        "applicant",
    ] {
        let db = app.db.connect().await;
        let n: i64 = api::on_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM role_assignments WHERE role = $1").bind(role).fetch_one(p).await).unwrap();
        assert!(n >= 1, "no demo user holds {role}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM org_units WHERE kind = 'district_government'")
            .await,
        16
    );
    assert!(
        app.count("SELECT COUNT(*) FROM org_units WHERE kind = 'municipal_department'")
            .await
            >= 10
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(DISTINCT parent_id) FROM org_units WHERE kind IN ('street', 'town')"
        )
        .await,
        3
    );
    for name in ["法律事务处", "政务公开办公室"] {
        let db = app.db.connect().await;
        let parent: String = api::on_db!(&db, p => sqlx::query_scalar(
            "SELECT p.name FROM org_units u JOIN org_units p ON p.id = u.parent_id WHERE u.name = $1")
            .bind(name).fetch_one(p).await).unwrap();
        assert_eq!(parent, "上海市人民政府办公厅");
    }
    // Phones are stored encrypted, with a blind index, never in clear.
    let db = app.db.connect().await;
    let rows: Vec<(Vec<u8>, String)> = api::on_db!(&db, p => sqlx::query_as(
        "SELECT phone_cipher, phone_index FROM users").fetch_all(p).await)
    .unwrap();
    assert_eq!(rows.len(), 29);
    for (cipher, index) in rows {
        assert!(!cipher.windows(7).any(|w| w == b"1990000"));
        assert_eq!(index.len(), 64);
    }
}

#[tokio::test]
async fn a_second_demo_start_adds_nothing() {
    let app = spawn_app().await;
    let counts = "SELECT (SELECT COUNT(*) FROM org_units) * 1000000 + (SELECT COUNT(*) FROM users) * 1000 + (SELECT COUNT(*) FROM role_assignments)";
    let before = app.count(counts).await;
    let audits = app.count("SELECT COUNT(*) FROM audit_log").await;
    let db = app.stop().await;
    let again = spawn_with(
        db,
        Options {
            demo: true,
            env: vec![],
        },
    )
    .await;
    assert_eq!(again.count(counts).await, before);
    assert_eq!(again.count("SELECT COUNT(*) FROM audit_log").await, audits);
    assert!(again.logs().iter().any(|l| l.contains("demo data loaded")
        && l.contains("\"units\":0")
        && l.contains("\"users\":0")));
}

#[tokio::test]
async fn production_refuses_demo_mode() {
    let db = TestDb::new().await;
    let env = [
        ("GOV_PROFILE", "production"),
        ("GOV_CRYPTO__PII_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        ("GOV_CRYPTO__INDEX_KEY", "a production index key"),
        ("GOV_CRYPTO__AUDIT_KEY", "a production audit key"),
        (
            "GOV_CRYPTO__SIGNING_KEY",
            "6a3d1f0b2c4e5d7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7",
        ),
    ];
    let out = run_cli(
        &db.url,
        &["serve", "--demo", "--listen", "127.0.0.1:0"],
        &env,
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--demo is refused"), "{stderr}");

    // Production with the published development keys does not start at all.
    let out = run_cli(&db.url, &["migrate"], &[("GOV_PROFILE", "production")]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("crypto.pii_key"));
}
