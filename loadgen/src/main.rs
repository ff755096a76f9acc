//! Closed-loop load generator for `gov-server` (run by `scripts/bench.sh`):
//! N virtual users, each with its own identity from the generated data,
//! each sending its next request as soon as the last is answered, scenario
//! by scenario; prints a table and writes the figures as JSON.

mod client;
mod forms;
mod manifest;
mod scenario;
mod stats;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;

use crate::client::Client;
use crate::scenario::{Step, Vu};
use crate::stats::{Figures, Samples};

#[derive(Parser)]
#[command(name = "loadgen", about = "gov-server load generator")]
struct Args {
    /// The server, e.g. http://127.0.0.1:18080
    #[arg(long)]
    base: String,
    /// What `gov-server demo-data` wrote.
    #[arg(long)]
    manifest: PathBuf,
    /// Concurrent virtual users.
    #[arg(long, default_value_t = 300)]
    users: usize,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Scenarios, comma-separated (default: all, baseline first).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// The server's process id, for its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Label of the database backend, for the report.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Where the JSON goes.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let manifest = manifest::Manifest::load(&args.manifest)?;
    let client = Client::new(&args.base, args.users)?;
    let scenarios: Vec<String> = if args.scenarios.is_empty() {
        scenario::ALL.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.scenarios.clone()
    };
    let mut results: BTreeMap<String, Figures> = BTreeMap::new();
    for name in &scenarios {
        eprintln!("{name}: setting up {} users", args.users);
        let vus = scenario::setup(&client, &manifest, name, args.users).await?;
        eprintln!("{name}: running {} s", args.seconds);
        let mut figures = drive(&client, vus, Duration::from_secs(args.seconds)).await;
        figures.server_rss_mb = args.server_pid.and_then(stats::memory_mb).map(|m| m.1);
        results.insert(name.clone(), figures);
    }
    let baseline = results.get("baseline").map(|b| b.rps).filter(|r| *r > 0.0);
    for (name, f) in results.iter_mut() {
        if name != "baseline" {
            f.ratio_to_baseline = baseline.map(|b| f.rps / b);
        }
    }
    let peak = args.server_pid.and_then(stats::memory_mb).map(|m| m.0);
    print_table(&args, &scenarios, &results, peak);
    if let Some(out) = &args.out {
        let report = json!({
            "backend": args.backend,
            "users": args.users,
            "seconds_per_scenario": args.seconds,
            "machine": machine(),
            "server_peak_rss_mb": peak,
            "scenarios": results,
        });
        std::fs::write(out, serde_json::to_vec_pretty(&report)?)?;
        eprintln!("figures written to {}", out.display());
    }
    let errors: u64 = results.values().map(|f| f.errors).sum();
    anyhow::ensure!(errors == 0, "{errors} requests failed");
    Ok(())
}

/// Runs every virtual user in a closed loop until `length` has passed.
async fn drive(client: &Client, vus: Vec<Vu>, length: Duration) -> Figures {
    let users = vus.len();
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::with_capacity(users);
    for mut vu in vus {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < deadline {
                let at = Instant::now();
                match scenario::step(&client, &mut vu).await {
                    Ok(Step::Done {
                        http_requests,
                        timed_from,
                    }) => {
                        let took = timed_from.unwrap_or(at).elapsed();
                        samples
                            .micros
                            .push(took.as_micros().min(u128::from(u32::MAX)) as u32);
                        samples.http_requests += http_requests;
                    }
                    Ok(Step::Exhausted) => break,
                    Err(e) => samples.error(e),
                }
            }
            samples
        }));
    }
    let mut all = Samples::default();
    for task in tasks {
        match task.await {
            Ok(s) => all.merge(s),
            Err(e) => all.error(format!("virtual user died: {e}")),
        }
    }
    all.figures(users, started.elapsed().as_secs_f64())
}

fn machine() -> serde_json::Value {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| (kb / 1024.0 / 1024.0).round());
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
        c.lines()
            .find(|l| l.starts_with("model name"))
            .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
    });
    json!({ "cores": cores, "memory_gib": memory, "cpu": cpu })
}

fn print_table(
    args: &Args,
    order: &[String],
    results: &BTreeMap<String, Figures>,
    peak: Option<f64>,
) {
    println!(
        "\n{} users, {} s per scenario, {}; machine {}",
        args.users,
        args.seconds,
        args.backend,
        machine()
    );
    println!(
        "{:<12} {:>9} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "scenario",
        "requests",
        "errors",
        "rps",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "÷baseline"
    );
    for name in order {
        let Some(f) = results.get(name) else { continue };
        let ratio = f
            .ratio_to_baseline
            .map_or("-".to_owned(), |r| format!("{r:.2}"));
        println!(
            "{:<12} {:>9} {:>7} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>9}",
            name, f.requests, f.errors, f.rps, f.p50_ms, f.p95_ms, f.p99_ms, f.max_ms, ratio
        );
        for e in &f.error_samples {
            println!("    error: {e}");
        }
    }
    if let Some(peak) = peak {
        println!("server peak RSS: {peak:.0} MiB");
    }
}
