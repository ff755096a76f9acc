//! The composition root, in-process: the same `Application::build` that
//! `gov-server serve` runs (and through it every other test here).

use std::time::Duration;

use gov_server::startup::{Application, Mode, Settings};

use crate::common::TestDb;

#[tokio::test]
async fn the_application_builds_serves_on_its_port_and_stops() {
    let db = TestDb::new().await;
    let mut settings = Settings::load(None).unwrap();
    settings.core.database.url = db.url.clone().into();
    settings.core.listen = "127.0.0.1:0".parse().unwrap();
    settings.core.http.shutdown_grace_secs = 2;
    let app = Application::build(settings, Mode::Production)
        .await
        .unwrap();
    let port = app.port();
    assert_ne!(port, 0, "port 0 picks a free port, and port() tells which");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let base = format!("http://127.0.0.1:{port}");
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    // Production mode mounts no stand-in, and a platform that is not
    // configured answers 503 where it is needed.
    let standin = reqwest::get(format!("{base}/stand-in/sms/messages"))
        .await
        .unwrap();
    assert_eq!(standin.status(), 404);
    let client = reqwest::Client::new();
    let sign_in = client
        .post(format!("{base}/m/v1/session"))
        .json(&serde_json::json!({ "auth_code": "x", "device_id": "phone-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 503);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stops when told")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn demo_mode_is_refused_by_the_production_profile() {
    let db = TestDb::new().await;
    let mut settings = Settings::load(None).unwrap();
    settings.core.database.url = db.url.clone().into();
    settings.core.listen = "127.0.0.1:0".parse().unwrap();
    settings.core.profile = api::config::Profile::Production;
    let err = Application::build(settings, Mode::Demo)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("profile = \"production\""),
        "{err}"
    );
}
