//! A crash under load: SIGKILL while approvals and code sends are in
//! flight, then a restart on the same database.
//!
//! The stand-ins (SMS, to-do, two pages) run in a second server process, so
//! what they received survives the crash and SMS duplicates can be counted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Options, TestApp, TestDb, run_cli, spawn_app, spawn_with};

/// What the load got a 2xx for before the kill.
#[derive(Default)]
struct Acknowledged {
    applied: Vec<String>,
    approved: Vec<String>,
    codes: Vec<String>,
}

fn env(providers: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        ("GOV_NOTIFY__SMS_PROVIDER", "aliyun".to_owned()),
        (
            "GOV_NOTIFY__ALIYUN__ENDPOINT",
            providers.url("/stand-in/sms"),
        ),
        (
            "GOV_NOTIFY__ALIYUN__ACCESS_KEY_ID",
            notify::sms::standin::DEMO_ACCESS_KEY_ID.to_owned(),
        ),
        (
            "GOV_NOTIFY__ALIYUN__ACCESS_KEY_SECRET",
            notify::sms::standin::DEMO_ACCESS_KEY_SECRET.to_owned(),
        ),
        // The platforms' stand-ins, too, keep what they got across the crash.
        ("GOV_TODO__BASE_URL", providers.url("/stand-in/todo")),
        (
            "GOV_TODO__APP_ID",
            notify::todo::standin::DEMO_APP_ID.to_owned(),
        ),
        (
            "GOV_TODO__SECRET",
            notify::todo::standin::DEMO_SECRET.to_owned(),
        ),
        (
            "GOV_TWO_PAGES__BASE_URL",
            providers.url("/stand-in/two-pages"),
        ),
        (
            "GOV_TWO_PAGES__APP_ID",
            notify::two_pages::standin::DEMO_APP_ID.to_owned(),
        ),
        (
            "GOV_TWO_PAGES__SECRET",
            notify::two_pages::standin::DEMO_SECRET.to_owned(),
        ),
        // A dead instance's claims run out quickly.
        ("GOV_NOTIFY__DISPATCHER__LEASE_SECS", "2".to_owned()),
        // A send that failed at the kill is retried within seconds.
        ("GOV_NOTIFY__DISPATCHER__MAX_BACKOFF_SECS", "2".to_owned()),
        // Every request comes from one address.
        ("GOV_VERIFICATION__IP_PER_HOUR", "100000".to_owned()),
        ("GOV_VERIFICATION__PREFIX_MAX", "100000".to_owned()),
    ]
}

/// A handler applies to seal each of `notices` and an approver approves,
/// until `stop`; answers what got a 2xx.
async fn approvals(
    app: (reqwest::Client, String),
    handler: String,
    approver: String,
    seal: String,
    notices: Vec<String>,
    stop: Arc<AtomicBool>,
) -> Acknowledged {
    let (client, base) = app;
    let mut ack = Acknowledged::default();
    for notice in notices {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let applied = client
            .post(format!("{base}/api/v1/seal-applications"))
            .header("x-test-user", &handler)
            .header("Idempotency-Key", format!("crash-apply-{notice}"))
            .json(&json!({ "notice_id": notice, "seal_id": seal, "reason": "补正告知书用印" }))
            .send()
            .await;
        let Ok(resp) = applied else { break };
        if resp.status().as_u16() != 201 {
            break;
        }
        let Ok(body) = resp.json::<Value>().await else {
            break;
        };
        let id = body["id"].as_str().unwrap().to_owned();
        ack.applied.push(id.clone());
        let decided = client
            .post(format!("{base}/api/v1/seal-applications/{id}/decision"))
            .header("x-test-user", &approver)
            .header("Idempotency-Key", format!("crash-decide-{id}"))
            .json(&json!({ "decision": "approve", "comment": "同意" }))
            .send()
            .await;
        match decided {
            Ok(r) if r.status().as_u16() == 200 => ack.approved.push(id),
            _ => break,
        }
        // Paced, so that approvals are still coming at the kill.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ack
}

/// Code sends for distinct numbers until `stop`.
async fn code_sends(
    app: (reqwest::Client, String),
    lane: usize,
    stop: Arc<AtomicBool>,
) -> Acknowledged {
    let (client, base) = app;
    let mut ack = Acknowledged::default();
    for n in 0..10_000 {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let phone = format!("1370{lane:03}{n:04}");
        let sent = client
            .post(format!("{base}/m/v1/verification-codes"))
            .json(&json!({ "phone": phone, "purpose": "applicant_login" }))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().as_u16() == 202 => ack.codes.push(phone),
            _ => break,
        }
        // A steady trickle, so that sends are mid-flight at the kill.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ack
}

#[tokio::test]
async fn sigkill_under_approvals_and_code_sends_loses_nothing_acknowledged() {
    let providers = spawn_app().await;
    // A provider that takes its time, so that sends are mid-flight at the kill.
    let slow = json!({ "delay_ms": 150, "times": 100_000 });
    let resp = providers.post_json("/stand-in/sms/faults", slow).await;
    assert_eq!(resp.status().as_u16(), 204);
    let db = TestDb::new().await;
    let manifest_path = std::env::temp_dir().join(format!("crash-{}.json", ulid::Ulid::new()));
    let path = manifest_path.to_str().unwrap();
    let made = run_cli(
        &db.url,
        &[
            "demo-data",
            "--units",
            "2",
            "--cases",
            "120",
            "--audit-records",
            "0",
            "--manifest",
            path,
        ],
        &[],
    )
    .await;
    assert!(made.status.success(), "{made:?}");
    let manifest: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    std::fs::remove_file(path).unwrap();
    // The generated history's notifications count as sent long ago.
    let started = api::clock::now();
    let app = spawn_with(
        db,
        Options {
            demo: true,
            env: env(&providers),
        },
    )
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for unit in manifest["units"].as_array().unwrap() {
        for slot in 0..2 {
            let handler = unit["handlers"][slot].as_str().unwrap().to_owned();
            let notices: Vec<String> = unit["notices"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n[1] == handler.as_str())
                .map(|n| n[0].as_str().unwrap().to_owned())
                .collect();
            load.push(tokio::spawn(approvals(
                (app.client.clone(), app.base.clone()),
                handler,
                unit["approvers"][slot].as_str().unwrap().to_owned(),
                unit["seal_id"].as_str().unwrap().to_owned(),
                notices,
                stop.clone(),
            )));
        }
    }
    for lane in 0..4 {
        load.push(tokio::spawn(code_sends(
            (app.client.clone(), app.base.clone()),
            lane,
            stop.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let db = app.stop().await; // SIGKILL
    stop.store(true, Ordering::Relaxed);
    let mut ack = Acknowledged::default();
    for task in load {
        let got = task.await.unwrap();
        ack.applied.extend(got.applied);
        ack.approved.extend(got.approved);
        ack.codes.extend(got.codes);
    }
    assert!(
        !ack.approved.is_empty() && !ack.codes.is_empty(),
        "the load did nothing before the kill"
    );

    // What was mid-send at the kill: the only messages that may arrive twice.
    let conn = db.connect().await;
    let in_flight: HashSet<String> = api::on_db!(&conn, p => sqlx::query_scalar(
        "SELECT id FROM outbox WHERE status = 'sending'").fetch_all(p).await)
    .unwrap()
    .into_iter()
    .collect();
    conn.close().await;

    let app = spawn_with(
        db,
        Options {
            demo: true,
            env: env(&providers),
        },
    )
    .await;
    let conn = app.db.connect().await;
    // Every acknowledged write is there.
    for id in &ack.applied {
        let status: String = api::on_db!(&conn, p => sqlx::query_scalar(
            "SELECT status FROM seal_applications WHERE id = $1").bind(id).fetch_one(p).await)
        .unwrap();
        let approved = ack.approved.contains(id);
        assert!(
            status == "approved" || !approved,
            "approval of {id} was acknowledged, the database says {status}"
        );
    }
    let stamps = app.count("SELECT COUNT(*) FROM seal_stamps").await;
    let approved_rows = app
        .count("SELECT COUNT(*) FROM seal_applications WHERE status = 'approved'")
        .await;
    assert!(approved_rows >= ack.approved.len() as i64);
    assert_eq!(
        stamps, approved_rows,
        "a notice stamped twice or not at all"
    );

    // Every message queued is delivered after the restart. A message that
    // was mid-send may already have reached the provider, which can then
    // refuse the repeat (one code a minute per number): it counts as
    // delivered once the provider has it.
    let until = Instant::now() + Duration::from_secs(45);
    let received = loop {
        let received: Value = providers
            .get_as(None, "/stand-in/sms/messages")
            .await
            .json()
            .await
            .unwrap();
        let got: HashSet<&str> = received
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["out_id"].as_str())
            .collect();
        let open: Vec<(String, String, String, Option<String>)> =
            api::on_db!(&conn, p => sqlx::query_as(
            "SELECT id, kind, status, last_error FROM outbox WHERE status <> 'sent'")
            .fetch_all(p).await)
            .unwrap();
        let waiting: Vec<_> = open
            .iter()
            .filter(|(id, _, status, _)| {
                status == "failed"
                    || status == "dead"
                    || !(in_flight.contains(id) && got.contains(id.as_str()))
            })
            .collect();
        if waiting.is_empty() {
            break received;
        }
        let given_up = waiting
            .iter()
            .any(|(_, _, s, _)| s == "failed" || s == "dead");
        assert!(
            !given_up && Instant::now() < until,
            "messages not delivered: {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The SMS stand-in got every SMS, and twice only what was mid-send.
    let sms: Vec<String> = api::on_db!(&conn, p => sqlx::query_scalar(
        "SELECT id FROM outbox WHERE channel = 'sms' AND created_at >= $1").bind(started).fetch_all(p).await)
    .unwrap();
    let mut times: HashMap<String, usize> = HashMap::new();
    let mut phones: HashSet<String> = HashSet::new();
    for m in received.as_array().unwrap() {
        *times
            .entry(m["out_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
        phones.insert(m["phone"].as_str().unwrap().to_owned());
    }
    for id in &sms {
        assert!(
            times.contains_key(id),
            "SMS {id} never reached the provider"
        );
    }
    for phone in &ack.codes {
        assert!(
            phones.contains(phone),
            "acknowledged code to {phone} never sent"
        );
    }
    let twice: Vec<&String> = times
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    for id in &twice {
        assert!(
            in_flight.contains(*id),
            "{id} delivered twice but was not mid-send at the kill"
        );
    }
    assert!(twice.len() <= in_flight.len());
    eprintln!(
        "crash: {} approvals and {} code sends acknowledged before the kill; {} SMS; {} mid-send at the kill, {} delivered twice",
        ack.approved.len(),
        ack.codes.len(),
        sms.len(),
        in_flight.len(),
        twice.len()
    );
    conn.close().await;
}
