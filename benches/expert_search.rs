//! The expert library's fuzzy search (FW-03) at 10 000 experts: one
//! `LIKE '%…%'` over the denormalised, lower-cased `search` column, through
//! the module's own query (`library::matching`, a page of 50), for a
//! common surname (many hits: the page fills at once), a full name (one
//! hit: the whole table is scanned), a field of expertise, and a text
//! nobody has (a full scan, no hit). Prints per kind the queries per
//! second and p50/p95/p99.
//!
//! `cargo bench --bench expert_search` (SQLite); with
//! `TEST_POSTGRES_URL=postgres://…/admin_db` on a fresh PostgreSQL
//! database. `EXPERTS=N` changes the size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Instant;

use api::legal::experts::library::{ExpertQuery, matching, save};
use api::legal::experts::record::{ExpertInput, check};
use support::{FreshDb, machine, percentile};

const SURNAMES: &[&str] = &["张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴"];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛",
];
const UNITS: &[&str] = &[
    "华东政法大学",
    "复旦大学法学院",
    "同济大学",
    "上海交通大学",
    "上海社会科学院",
    "上海市律师协会",
];
const FIELDS: &[&str] = &[
    "行政法",
    "民商法",
    "国土空间规划",
    "生态环境",
    "财政税收",
    "公共卫生",
    "数据治理",
];
const QUERIES: usize = 1_000;

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("EXPERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let fresh = FreshDb::create().await;
    let mut settings = gov_server::startup::Settings::load(None).unwrap();
    settings.core.database.url = fresh.url.clone().into();
    let db = gov_server::startup::open_db(&settings.core).await.unwrap();
    let pii = api::pii::PiiCipher::from_config(&settings.core.crypto).unwrap();
    let (app, _) = gov_server::startup::core_state(settings.core, db.clone(), pii)
        .await
        .unwrap();
    load(&app, n).await;
    println!(
        "expert search: {n} experts, one LIKE over the search column, pages of 50; {}",
        fresh.backend
    );
    println!("machine: {}", machine());
    println!(
        "{:<14}{:>8}{:>9}{:>9}{:>9}{:>9}{:>7}",
        "query", "queries", "q/s", "p50 ms", "p95 ms", "p99 ms", "hits"
    );
    let last = n - 1;
    let rare = format!(
        "{}{}{last}",
        SURNAMES[last % SURNAMES.len()],
        GIVEN[last % GIVEN.len()]
    );
    for (label, q) in [
        ("surname", "张".to_owned()),
        ("full name", rare),
        ("field", "数据治理".into()),
        ("no match", "不存在的词".into()),
    ] {
        measure(&app, label, &q).await;
    }
    db.close().await;
    fresh.drop_it().await;
}

async fn measure(app: &api::state::AppState, label: &str, q: &str) {
    let query = ExpertQuery {
        q: Some(q.to_owned()),
        category: None,
        limit: None,
    };
    let mut lat = Vec::with_capacity(QUERIES);
    let mut hits = 0;
    let started = Instant::now();
    for _ in 0..QUERIES {
        let t = Instant::now();
        hits = matching(app, &query, 50).await.unwrap().len();
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let rate = QUERIES as f64 / started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!(
        "{label:<14}{QUERIES:>8}{rate:>9.0}{:>9.2}{:>9.2}{:>9.2}{hits:>7}",
        percentile(&lat, 50.0),
        percentile(&lat, 95.0),
        percentile(&lat, 99.0)
    );
}

/// `n` experts, written as the module writes them (checked, sealed).
async fn load(app: &api::state::AppState, n: usize) {
    let mut tx = app.db.begin().await.unwrap();
    for i in 0..n {
        let input = ExpertInput {
            category: ["法学", "经济", "规划", "环境"][i % 4].into(),
            name: format!(
                "{}{}{i}",
                SURNAMES[i % SURNAMES.len()],
                GIVEN[i % GIVEN.len()]
            ),
            unit_name: UNITS[i % UNITS.len()].into(),
            post: "教授".into(),
            fields: vec![FIELDS[i % FIELDS.len()].into()],
            phone: Some(format!("139{i:08}")),
            email: None,
            profile: String::new(),
        };
        let id = api::ids::ExpertId::generate();
        save(&mut tx, &app.pii, &id, &check(input).unwrap())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}
