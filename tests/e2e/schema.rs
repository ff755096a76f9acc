//! Both migration folders must describe the same tables and columns.

use std::collections::BTreeSet;

use crate::common::{TestDb, run_cli};

type Columns = BTreeSet<(String, String)>;

async fn sqlite_columns() -> Columns {
    let dir = std::env::temp_dir().join(format!("gov-schema-{}", ulid::Ulid::new()));
    let url = format!("sqlite://{}", dir.join("gov.db").display());
    assert!(
        run_cli(&url, &["migrate"], &[("TEST_POSTGRES_URL", "")])
            .await
            .status
            .success()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let _ = std::fs::remove_dir_all(dir);
    rows.into_iter().collect()
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_agree() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("SKIPPED: needs TEST_POSTGRES_URL; CI runs it");
        return;
    }
    assert!(run_cli(&db.url, &["migrate"], &[]).await.status.success());
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let pg: Columns = sqlx::query_as::<_, (String, String)>(
        "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let sqlite = sqlite_columns().await;
    assert!(sqlite.iter().any(|(t, _)| t == "audit_log"));
    let only_sqlite: Vec<_> = sqlite.difference(&pg).collect();
    let only_pg: Vec<_> = pg.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_pg:?}"
    );
}
