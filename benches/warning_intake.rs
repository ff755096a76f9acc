//! Warning evaluation at intake (GK-16, GK-18): registers disclosure
//! requests through the product's own intake (`intake::register`, in its
//! transaction, as the API does) against a history of 1 000 000 requests,
//! with 20 rules enabled and with the rules disabled, alternating rounds in
//! the same run, and prints intake throughput and latency of both and their
//! ratio. The rules count an applicant's requests by index, so the cost of
//! a rule is that applicant's requests in its window, not the history.
//!
//! The history is written straight into `warning_requests` (what the rules
//! read), by the 21 000 applicants who file in the bench and 300 000
//! others, over two years, without the cases behind them: the bench's own
//! database has the foreign key to the cases switched off for that load.
//!
//! `cargo bench --bench warning_intake` (SQLite); with
//! `TEST_POSTGRES_URL=postgres://…/admin_db` on a fresh PostgreSQL database
//! (dropped afterwards). `WARN_HISTORY=N` and `WARN_INTAKES=N` (per round,
//! four rounds) change the sizes. Also run by `scripts/bench.sh --scenario
//! warnings`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::demo::bulk::{citizen, demo_phone};
use api::disclosure::DeliveryMethod;
use api::disclosure::intake::{NewRequest, register};
use api::ids::UnitId;
use api::state::AppState;
use api::warning::evaluate::applicant_key;
use serde_json::{Value, json};
use support::{FreshDb, machine, percentile};

/// Distinct applicants of `citizen(n)`: the ones who file in the bench.
const APPLICANTS: usize = 21_000;
/// Everyone else in the history.
const OTHERS: usize = 300_000;
const CONCURRENCY: usize = 16;
const HISTORY_DAYS: i64 = 730;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let history = env_or("WARN_HISTORY", 1_000_000);
    let per_round = env_or("WARN_INTAKES", 2_000);
    let fresh = FreshDb::create().await;
    let mut settings = gov_server::startup::Settings::load(None).unwrap();
    settings.core.database.url = fresh.url.clone().into();
    settings.core.database.max_connections = 16;
    let db = gov_server::startup::open_db(&settings.core).await.unwrap();
    let pii = api::pii::PiiCipher::from_config(&settings.core.crypto).unwrap();
    api::demo::load(&db, &settings.core, &pii).await.unwrap();
    let (app, _) = gov_server::startup::core_state(settings.core, db.clone(), pii)
        .await
        .unwrap();
    let units = units(&app).await;
    rules(&app).await;
    let started = Instant::now();
    load_history(&app, &fresh, &units, history).await;
    let loaded = started.elapsed();
    println!(
        "warning evaluation at intake: {history} historical requests of {} applicants, 20 rules, {CONCURRENCY} concurrent intakes; {}",
        APPLICANTS + OTHERS,
        fresh.backend
    );
    println!("machine: {}", machine());
    println!("history loaded in {:.0} s", loaded.as_secs_f64());
    let app = Arc::new(app);
    let units = Arc::new(units);
    let (mut off, mut on) = (Vec::new(), Vec::new());
    let (mut off_time, mut on_time) = (Duration::ZERO, Duration::ZERO);
    for round in 0..4 {
        let enabled = round % 2 == 1;
        set_rules(&app, enabled).await;
        let (lat, took) = intakes(&app, &units, round * per_round, per_round).await;
        if enabled {
            on.extend(lat);
            on_time += took;
        } else {
            off.extend(lat);
            off_time += took;
        }
    }
    let warnings: i64 = api::on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM warnings").fetch_one(p).await).unwrap();
    println!(
        "{:<16}{:>9}{:>11}{:>9}{:>9}{:>9}",
        "", "intakes", "intake/s", "p50 ms", "p95 ms", "p99 ms"
    );
    let off_rate = report("rules disabled", &mut off, off_time);
    let on_rate = report("20 rules", &mut on, on_time);
    println!(
        "ratio (20 rules / disabled): throughput {:.2}, p99 {:.2}; warnings raised {warnings}",
        on_rate / off_rate,
        percentile(&on, 99.0) / percentile(&off, 99.0)
    );
    db.close().await;
    fresh.drop_it().await;
}

fn report(label: &str, lat: &mut [f64], took: Duration) -> f64 {
    lat.sort_by(f64::total_cmp);
    let rate = lat.len() as f64 / took.as_secs_f64();
    println!(
        "{label:<16}{:>9}{:>11.0}{:>9.1}{:>9.1}{:>9.1}",
        lat.len(),
        rate,
        percentile(lat, 50.0),
        percentile(lat, 95.0),
        percentile(lat, 99.0)
    );
    rate
}

/// Every unit that receives requests: (id, path).
async fn units(app: &AppState) -> Vec<(String, String)> {
    const SQL: &str = "SELECT id, path FROM org_units WHERE kind IN ('municipal_department', 'district_government', \
         'district_bureau', 'town', 'street') ORDER BY path";
    api::on_db!(&app.db, p => sqlx::query_as(SQL).fetch_all(p).await).unwrap()
}

/// A category and 20 rules over every measure, scope and window.
async fn rules(app: &AppState) {
    let now = api::clock::now();
    let unit = |code: &str| format!("(SELECT id FROM org_units WHERE code = '{code}')");
    let admin = "(SELECT id FROM users WHERE login_name = 'gk_admin')";
    let category = ulid::Ulid::new().to_string();
    let mut tx = app.db.begin().await.unwrap();
    api::on_tx!(&mut tx, c => sqlx::query("INSERT INTO warning_categories (id, name, business_type, enabled, created_at, updated_at) \
        VALUES ($1, '基准', '申请频次', TRUE, $2, $2)").bind(&category).bind(now).execute(c).await.map(|_| ())).unwrap();
    let scopes = [
        ("city", None),
        ("district", Some("310104")),
        ("agency", Some("SH-GHZY")),
    ];
    let windows = [
        ("rolling_days", Some(1)),
        ("rolling_days", Some(7)),
        ("rolling_days", Some(30)),
        ("rolling_days", Some(365)),
        ("calendar_month", None),
        ("calendar_year", None),
    ];
    let measures = ["requests", "agencies", "same_text"];
    for i in 0..20 {
        let (scope, code) = scopes[i % 3];
        let (window, days) = windows[i % 6];
        let measure = measures[(i / 3) % 3];
        let threshold = 10 + 5 * (i % 4) as u32;
        let spec = json!({ "category_id": category, "name": format!("基准规则{i}"), "measure": measure,
            "scope": scope, "window": window, "window_days": days, "threshold": threshold,
            "hint_threshold": threshold - 2, "severity": "medium" });
        insert_rule(&mut tx, spec, code.map(unit), admin, now).await;
    }
    tx.commit().await.unwrap();
}

async fn insert_rule(
    tx: &mut api::db::Tx,
    mut spec: Value,
    scope_unit: Option<String>,
    admin: &str,
    now: time::OffsetDateTime,
) {
    let id = ulid::Ulid::new().to_string();
    if let Some(sub) = scope_unit {
        let sql = format!("SELECT {sub}");
        let unit: String =
            api::on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(c).await)
                .unwrap();
        spec["scope_unit_id"] = json!(unit);
    }
    let sql = format!(
        "INSERT INTO warning_rules (id, version, category_id, spec, enabled, created_by, created_at, evaluated_at) \
        VALUES ($1, 1, $2, $3, TRUE, {admin}, $4, $4)"
    );
    let category = spec["category_id"].as_str().unwrap().to_owned();
    api::on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&id).bind(&category).bind(spec.to_string())
        .bind(now).execute(c).await.map(|_| ())).unwrap();
}

async fn set_rules(app: &AppState, enabled: bool) {
    api::on_db!(&app.db, p => sqlx::query("UPDATE warning_categories SET enabled = $1").bind(enabled).execute(p).await.map(|_| ())).unwrap();
}

/// `count` requests in the history, 500 to a statement: one in ten by the
/// bench's own applicants (about 5 each over two years, for 1 000 000),
/// the rest by 300 000 others (3 each); a unit in turn, a day of the last
/// two years.
async fn load_history(app: &AppState, fresh: &FreshDb, units: &[(String, String)], count: usize) {
    let ours: Vec<String> = (0..APPLICANTS)
        .map(|n| applicant_key(&app.pii, &citizen(n).unwrap(), ""))
        .collect();
    let others: Vec<String> = (0..OTHERS)
        .map(|n| {
            app.pii
                .blind_index("warning.applicant", &format!("bench:{n}"))
        })
        .collect();
    let today = api::calendar::shanghai_date(api::clock::now());
    let row = |j: usize| {
        let (unit, path) = &units[j % units.len()];
        let day = today - time::Duration::days((j as i64 * 7919) % HISTORY_DAYS + 1);
        let key = if j.is_multiple_of(10) {
            &ours[(j / 10) % APPLICANTS]
        } else {
            &others[j % OTHERS]
        };
        (
            format!("H{j:09}"),
            key.clone(),
            unit.clone(),
            path.clone(),
            format!("t{:05}", j % 50_000),
            api::calendar::ymd(day),
        )
    };
    const BATCH: usize = 500;
    let values: Vec<String> = (0..BATCH)
        .map(|i| {
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                6 * i + 1,
                6 * i + 2,
                6 * i + 3,
                6 * i + 4,
                6 * i + 5,
                6 * i + 6
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO warning_requests (case_id, applicant_key, unit_id, unit_path, text_key, received_on) VALUES {}",
        values.join(", ")
    );
    // One statement of BATCH rows from row `start`, for either backend.
    macro_rules! batch {
        ($start:expr) => {{
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for j in $start..$start + BATCH {
                let r = row(j);
                q = q
                    .bind(r.0)
                    .bind(r.1)
                    .bind(r.2)
                    .bind(r.3)
                    .bind(r.4)
                    .bind(r.5);
            }
            q
        }};
    }
    if fresh.is_postgres() {
        let pool = sqlx::PgPool::connect(&fresh.url).await.unwrap();
        sqlx::query("ALTER TABLE warning_requests DROP CONSTRAINT warning_requests_case_id_fkey")
            .execute(&pool)
            .await
            .unwrap();
        for start in (0..count).step_by(BATCH) {
            batch!(start).execute(&pool).await.unwrap();
        }
    } else {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&fresh.url)
            .unwrap()
            .foreign_keys(false);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        for chunk in (0..count).step_by(BATCH).collect::<Vec<_>>().chunks(20) {
            let mut tx = pool.begin().await.unwrap();
            for &start in chunk {
                batch!(start).execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
        pool.close().await;
    }
}

/// `count` intakes by `CONCURRENCY` tasks, each in its own transaction;
/// answers each one's latency (ms) and the wall time.
async fn intakes(
    app: &Arc<AppState>,
    units: &Arc<Vec<(String, String)>>,
    from: usize,
    count: usize,
) -> (Vec<f64>, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let (app, units) = (app.clone(), units.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for i in (t..count).step_by(CONCURRENCY) {
                let k = from + i;
                let n = (k * 7) % APPLICANTS;
                let req = NewRequest {
                    unit_id: UnitId::new(&units[(k * 13) % units.len()].0),
                    identity: citizen(n).unwrap(),
                    column: api::disclosure::applicant::ApplicantColumn::NaturalPerson,
                    onenet_uid: None,
                    description: format!(
                        "申请公开本单位{}年度老旧小区加装电梯项目的审批文件",
                        2000 + k % 200
                    ),
                    purpose: "了解审批情况".into(),
                    delivery: DeliveryMethod::Online,
                    postal_address: None,
                    attachments: Vec::new(),
                };
                let phone = demo_phone(n % 10_000).unwrap();
                let begun = Instant::now();
                let mut tx = app.db.begin().await.unwrap();
                register(&app, &mut tx, req, phone).await.unwrap();
                tx.commit().await.unwrap();
                lat.push(begun.elapsed().as_secs_f64() * 1e3);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, started.elapsed())
}
