//! The command-line tools besides `serve`: each opens what it needs through
//! the composition root's functions and works through the product's own
//! code, then closes the database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use api::pii::PiiCipher;
use api::seal::adapter::LocalSignService;

use crate::startup::{Settings, core_state, open_db};

pub async fn migrate(s: Settings) -> anyhow::Result<ExitCode> {
    let db = open_db(&s.core).await?;
    tracing::info!(backend = db.backend(), "migrations applied");
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn audit_verify(s: Settings) -> anyhow::Result<ExitCode> {
    let db = api::db::connect(&s.core.database).await?;
    let report = api::audit::verify_chain(&db, s.core.audit_key()).await?;
    db.close().await;
    Ok(match report.first_bad {
        None => {
            println!("audit chain intact: {} records", report.records);
            ExitCode::SUCCESS
        }
        Some(bad) => {
            println!(
                "audit chain BROKEN at record seq={} id={}: {} ({} records before it verified)",
                bad.seq, bad.id, bad.reason, report.records
            );
            ExitCode::FAILURE
        }
    })
}

pub async fn demo_data(
    s: Settings,
    spec: api::demo::bulk::Spec,
    manifest: &Path,
) -> anyhow::Result<ExitCode> {
    let db = open_db(&s.core).await?;
    let pii = PiiCipher::from_config(&s.core.crypto)?;
    api::demo::load(&db, &s.core, &pii)
        .await
        .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
    let (state, _) = core_state(s.core, db.clone(), pii).await?;
    let started = std::time::Instant::now();
    let made = api::demo::bulk::generate(&state, spec)
        .await
        .map_err(|e| anyhow::anyhow!("generating demo data: {e}"))?;
    db.close().await;
    std::fs::write(manifest, serde_json::to_vec(&made)?)
        .with_context(|| format!("writing {}", manifest.display()))?;
    println!(
        "generated {} units, {} officials, {} cases ({} notices awaiting a seal); audit log {} records; {:.0} s",
        made.units.len(),
        made.officials,
        made.cases,
        made.notices_awaiting_seal,
        made.audit_records,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// `calendar import FILE`: every year of the file checked before any is
/// stored; each stored in its own transaction with its recount.
pub async fn calendar_import(s: Settings, file: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let years = match api::calendar::parse(&text) {
        Ok(years) if !years.is_empty() => years,
        Ok(_) => {
            eprintln!("{}: no `year` line, nothing imported", file.display());
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("{}: {e}; nothing imported", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(y) = years
        .iter()
        .find(|a| !api::calendar::statutory::YEARS.contains(&a.year))
    {
        eprintln!(
            "{}: year {} is outside 2000–2099; nothing imported",
            file.display(),
            y.year
        );
        return Ok(ExitCode::from(2));
    }
    let db = open_db(&s.core).await?;
    let pii = PiiCipher::from_config(&s.core.crypto)?;
    let (state, _) = core_state(s.core, db.clone(), pii).await?;
    for year in years {
        let actor = api::audit::Actor::system("cli");
        let r = api::calendar::store::import(&state, actor, year)
            .await
            .map_err(|e| anyhow::anyhow!("importing: {e}"))?;
        println!(
            "{}: {} days off, {} make-up working days ({}); {} open cases counted again, {} deadlines moved",
            r.year,
            r.holidays,
            r.workdays,
            r.source,
            r.recounted,
            r.moved.len()
        );
        for m in &r.moved {
            println!("  {} {} -> {}", m.case_no, m.from, m.to);
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `annual-report compute --year Y`: every agency's section 3 from one
/// pass over the cases; the city's totals and the time taken.
/// `gov-server filings export`: the same package the API makes, audited as
/// made by the command line.
pub async fn filings_export(
    s: Settings,
    since: Option<String>,
    status: Option<String>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    use api::legal::filing::package::build::{Selection, build};
    use api::legal::filing::status::FilingStatus;
    let status = match status.as_deref() {
        Some(t) => Some(
            FilingStatus::parse(t).ok_or_else(|| anyhow::anyhow!("--status: unknown state {t}"))?,
        ),
        None => None,
    };
    let db = open_db(&s.core).await?;
    let pii = PiiCipher::from_config(&s.core.crypto)?;
    let (state, _) = core_state(s.core, db.clone(), pii).await?;
    let who = api::authz::Principal::system("filings-export", "命令行导出");
    let built = build(&state, &who, &Selection { since, status })
        .await
        .map_err(|e| anyhow::anyhow!("building the package: {e}"))?;
    std::fs::write(out, &built.bytes).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    println!(
        "package {}: {} filings, {} bytes, written to {}",
        built.id,
        built.records,
        built.bytes.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn annual_report_compute(s: Settings, year: i32) -> anyhow::Result<ExitCode> {
    let db = open_db(&s.core).await?;
    let pii = PiiCipher::from_config(&s.core.crypto)?;
    let (state, _) = core_state(s.core, db.clone(), pii).await?;
    let started = std::time::Instant::now();
    let city = api::annual_report::city::compute(&state, year)
        .await
        .map_err(|e| anyhow::anyhow!("computing: {e}"))?;
    let took = started.elapsed();
    let tables: Vec<_> = city.agencies.values().map(|(t, _)| t.clone()).collect();
    let total = api::annual_report::table3::Counts::sum(&tables);
    let uncounted: usize = city.agencies.values().map(|(_, u)| u.len()).sum();
    println!(
        "{year}: {} agencies, {} cases read in one pass, {:.0} ms; new {}, carried over {}, results {}, carried forward {}; {uncounted} cases concluded without a result",
        city.agencies.len(),
        city.cases,
        took.as_secs_f64() * 1e3,
        total.get("new")[6],
        total.get("carried_over")[6],
        total.get("results_total")[6],
        total.get("carried_forward")[6],
    );
    for (_, errors) in city.agencies.values() {
        for e in errors {
            println!("  {e}");
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn verify_decision(s: Settings, id: &str) -> anyhow::Result<ExitCode> {
    let db = api::db::connect(&s.core.database).await?;
    let signer = LocalSignService::from_config(&s.core.crypto)
        .map_err(|e| anyhow::anyhow!("crypto.signing_key: {e}"))?;
    let stored = api::seal::decision::load(&db, id).await;
    db.close().await;
    let stored = stored.map_err(|_| anyhow::anyhow!("no decision {id}"))?;
    let v = api::seal::decision::verify(&signer, &stored);
    let verdict = match &v.problem {
        None => "signature valid".to_owned(),
        Some(p) => format!("signature INVALID: {p}"),
    };
    println!(
        "decision {} ({} by {} at {}, key {}): {verdict}",
        v.decision_id, v.decision, v.approver_id, v.decided_at, v.key_id,
    );
    Ok(if v.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Sets a local administrator's password (from `GOV_ENROL_PASSWORD` or the
/// first line of standard input) and prints the TOTP enrolment URI.
pub async fn enrol_admin(s: Settings, login: &str) -> anyhow::Result<ExitCode> {
    let db = open_db(&s.core).await?;
    let password = match std::env::var("GOV_ENROL_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let pii = PiiCipher::from_config(&s.core.crypto)?;
    let uri = sso::local::enrol_by_cli(&db, &pii, s.core.audit_key(), login, &password).await;
    db.close().await;
    println!("{}", uri?);
    Ok(ExitCode::SUCCESS)
}

pub async fn sync_org(s: Settings, full: bool) -> anyhow::Result<ExitCode> {
    let db = open_db(&s.core).await?;
    let client = sso::connectors::feed(&s.sso.org_sync)?
        .ok_or_else(|| anyhow::anyhow!("org_sync.base_url is not set"))?;
    let pii = PiiCipher::from_config(&s.core.crypto)?;
    let (state, _) = core_state(s.core, db.clone(), pii).await?;
    let pulled = sso::sync::pull::pull(&state, &client, full)
        .await
        .map_err(|e| anyhow::anyhow!("org sync: {e}"));
    db.close().await;
    let p = pulled?;
    println!(
        "org sync: {} pages, {} applied, {} duplicate, {} stale, {} rejected; feed position {}",
        p.pages, p.applied, p.duplicate, p.stale, p.rejected, p.position
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn rotate_keys(s: Settings) -> anyhow::Result<ExitCode> {
    let db = open_db(&s.core).await?;
    let pii = PiiCipher::from_config(&s.core.crypto)?;
    let (_, keys) = core_state(s.core, db.clone(), pii).await?;
    let kid = keys.rotate().await?;
    println!("signing with new key {kid}");
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
