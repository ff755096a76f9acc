#![forbid(unsafe_code)]
//! `gov-server`: the command line. It loads configuration, opens the
//! database, and wires the crates together; everything else lives in them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use api::config::Config;
use api::db::Db;
use api::http::metrics::Metrics;
use api::pii::PiiCipher;
use api::state::AppState;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "gov-server", version, about = "政务信息资源应用系统 backend")]
struct Cli {
    /// TOML configuration file; environment variables (GOV_…, DATABASE_URL)
    /// override it.
    #[arg(long, global = true, env = "GOV_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrations run first).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free one).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Load demo data (refused by the production profile).
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the audit chain; exit non-zero naming the first bad record.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        print!("{}", openapi());
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("gov-server: {e}");
            return ExitCode::from(2);
        }
    };
    api::telemetry::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gov-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "gov-server failed");
            eprintln!("gov-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn openapi() -> String {
    api::openapi::render(mobile_bff::openapi())
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = api::db::connect(&config.database).await?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

async fn run(command: Command, mut config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Openapi => unreachable!("handled before the runtime starts"),
        Command::Migrate => {
            let db = open_db(&config).await?;
            tracing::info!(backend = db.backend(), "migrations applied");
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = api::db::connect(&config.database).await?;
            let report = api::audit::verify_chain(&db, config.audit_key()).await?;
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
        Command::Serve { listen, demo } => {
            if demo && config.is_production() {
                anyhow::bail!("--demo is refused: the configuration says profile = \"production\"");
            }
            if let Some(addr) = listen {
                config.listen = addr;
            }
            serve(config, demo).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let db = open_db(&config).await?;
    let pii = PiiCipher::new(&config.crypto.pii_key, config.crypto.index_key.clone())?;
    if demo {
        let loaded = api::demo::load(&db, &config, &pii)
            .await
            .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
        tracing::info!(
            units = loaded.units,
            users = loaded.users,
            "demo data loaded"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let grace = Duration::from_secs(config.http.shutdown_grace_secs);
    let state = AppState {
        db: db.clone(),
        config: Arc::new(config),
        pii: Arc::new(pii),
        authn: sso::authenticator(),
        metrics: Arc::new(Metrics::new()),
        openapi: openapi().into(),
    };
    let app = api::http::app(state, mobile_bff::routes());
    tracing::info!(addr = %addr, backend = db.backend(), demo, "listening");
    api::http::serve(listener, app, grace, shutdown_signal()).await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM (service managers) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
