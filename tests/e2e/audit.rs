//! The audit chain detects changed, deleted and reordered records.

use crate::common::{TestApp, spawn_app};

/// Runs raw SQL against the app's database after removing the append-only
/// guard, as an attacker with database access would.
async fn tamper(app: &TestApp, statements: &[&'static str]) {
    let db = app.db.connect().await;
    let unguard: &[&'static str] = if app.db.is_postgres() {
        &["DROP TRIGGER audit_log_no_update ON audit_log"]
    } else {
        &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ]
    };
    for sql in unguard.iter().chain(statements) {
        api::on_db!(&db, p => sqlx::query(*sql).execute(p).await.map(|_| ())).unwrap();
    }
    db.close().await;
}

async fn verify(app: &TestApp) -> (bool, String) {
    let out = app.cli(&["audit", "verify"]).await;
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn an_untouched_chain_verifies() {
    let app = spawn_app().await;
    let n = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert!(n > 20, "the demo load is audited ({n} records)");
    let (ok, out) = verify(&app).await;
    assert!(ok, "{out}");
    assert!(out.contains(&format!("intact: {n} records")), "{out}");
}

#[tokio::test]
async fn the_log_refuses_updates_and_deletes() {
    let app = spawn_app().await;
    let db = app.db.connect().await;
    for sql in [
        "UPDATE audit_log SET outcome = 'failure' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
    ] {
        let err = api::on_db!(&db, p => sqlx::query(sql).execute(p).await.map(|_| ())).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
}

#[tokio::test]
async fn a_changed_record_is_named() {
    let app = spawn_app().await;
    tamper(
        &app,
        &["UPDATE audit_log SET actor_label = 'someone-else' WHERE seq = 5"],
    )
    .await;
    let (ok, out) = verify(&app).await;
    assert!(!ok);
    assert!(out.contains("seq=5") && out.contains("changed"), "{out}");
}

#[tokio::test]
async fn a_deleted_record_is_named() {
    let app = spawn_app().await;
    tamper(&app, &["DELETE FROM audit_log WHERE seq = 7"]).await;
    let (ok, out) = verify(&app).await;
    assert!(!ok);
    assert!(out.contains("seq=8") && out.contains("deleted"), "{out}");
}

#[tokio::test]
async fn reordered_records_are_named() {
    let app = spawn_app().await;
    // Swap the contents of records 3 and 4, keeping their sequence numbers.
    tamper(
        &app,
        &[
            "UPDATE audit_log SET seq = -3 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = 4",
            "UPDATE audit_log SET seq = 4 WHERE seq = -3",
        ],
    )
    .await;
    let (ok, out) = verify(&app).await;
    assert!(!ok);
    assert!(out.contains("seq=3"), "{out}");
}

#[tokio::test]
async fn a_cut_off_tail_is_noticed() {
    let app = spawn_app().await;
    tamper(
        &app,
        &["DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)"],
    )
    .await;
    let (ok, out) = verify(&app).await;
    assert!(!ok);
    assert!(out.contains("records at the end were deleted"), "{out}");
}
