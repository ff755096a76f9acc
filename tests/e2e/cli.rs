//! The command line: migrate, config files, refusing bad database URLs.

use crate::common::{TestDb, run_cli};

#[tokio::test]
async fn migrate_alone_creates_the_schema_and_is_repeatable() {
    let db = TestDb::new().await;
    for _ in 0..2 {
        let out = run_cli(&db.url, &["migrate"], &[]).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let conn = db.connect().await;
    conn.check_ready().await.unwrap();
    let n: i64 = api::on_db!(&conn, p => sqlx::query_scalar("SELECT COUNT(*) FROM org_units").fetch_one(p).await).unwrap();
    assert_eq!(n, 0, "migrate loads no demo data");
}

#[tokio::test]
async fn an_ambiguous_database_url_is_refused() {
    let out = run_cli("./gov.db", &["migrate"], &[]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sqlite:// or postgres://"), "{stderr}");
    assert!(!std::path::Path::new("./gov.db").exists());
}

#[tokio::test]
async fn a_config_file_is_read_and_checked() {
    let db = TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("gov-cfg-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gov.toml");
    std::fs::write(&file, "[http]\nbody_limit_bytes = \"big\"\n").unwrap();
    let out = run_cli(
        &db.url,
        &["--config", file.to_str().unwrap(), "migrate"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("body_limit_bytes"));
    std::fs::write(&file, "[log]\nlevel = \"warn\"\n").unwrap();
    let out = run_cli(
        &db.url,
        &["--config", file.to_str().unwrap(), "migrate"],
        &[],
    )
    .await;
    assert!(out.status.success());
    let _ = std::fs::remove_dir_all(dir);
}
