#![forbid(unsafe_code)]
//! `gov-server`: the command line. It parses the command and dispatches:
//! `serve` to the composition root (`startup`), the tools to `commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gov_server::startup::{Application, Mode, Settings};
use gov_server::{commands, routes};

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
    /// Sync with the unified office platform.
    Sync {
        #[command(subcommand)]
        command: SyncCommand,
    },
    /// Local administrator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The working-day calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The annual report on government information disclosure.
    AnnualReport {
        #[command(subcommand)]
        command: AnnualReportCommand,
    },
    /// Filings' data packages, for the disc between the networks.
    Filings {
        #[command(subcommand)]
        command: FilingsCommand,
    },
    /// Token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check the SM2 signature of a seal-use decision against its stored
    /// record; exit 1 when it does not verify.
    VerifyDecision {
        /// The decision's id.
        id: String,
    },
    /// Load the demo data plus generated units, officials (25 a unit),
    /// cases and audit history, for benchmarks; write what a load generator
    /// needs to drive it as JSON. Refused by the production profile.
    DemoData {
        #[arg(long, default_value_t = 200)]
        units: usize,
        #[arg(long, default_value_t = 50_000)]
        cases: usize,
        /// Audit records to reach (sign-in history tops the log up).
        #[arg(long, default_value_t = 200_000)]
        audit_records: usize,
        /// Bare streets (no officials) to distribute forms to.
        #[arg(long, default_value_t = 0)]
        form_units: usize,
        /// Where the manifest goes.
        #[arg(long)]
        manifest: PathBuf,
    },
}

#[derive(Subcommand)]
enum SyncCommand {
    /// Pull org and user changes from the platform's feed, from where the
    /// last pull stopped (or from the start with --full).
    Org {
        #[arg(long)]
        full: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set a system, security or audit administrator's password (read from
    /// GOV_ENROL_PASSWORD or the first line of standard input) and start TOTP
    /// enrolment; prints the otpauth:// URI for the authenticator app. The
    /// first login with a code from it completes enrolment.
    Enrol { login_name: String },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Load the State Council's holiday arrangement for one or more years
    /// from FILE (the format of api/src/calendar/cn_shanghai.txt), checked
    /// whole, audited; open cases the years touch are counted again. Exit 2
    /// naming each bad line or date, with nothing loaded.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum FilingsCommand {
    /// Write a signed package of the filings changed since the last
    /// package (or since --since YYYY-MM-DD; --status to choose one state,
    /// e.g. accepted for publication) to FILE, and mark them as sent.
    Export {
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AnnualReportCommand {
    /// Compute every agency's section 3 (requests received and handled)
    /// for YEAR from the cases, in one pass, and print the city's totals,
    /// the cases that cannot be counted, and the time it took. Changes
    /// nothing.
    Compute {
        #[arg(long)]
        year: i32,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Start signing with a new key; tokens signed with the old one stay
    /// valid until they expire.
    Rotate,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the audit chain; exit non-zero naming the first bad record.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        print!("{}", routes::openapi());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("gov-server: {e}");
            return ExitCode::from(2);
        }
    };
    api::telemetry::init(&settings.core.log);
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
    match runtime.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "gov-server failed");
            eprintln!("gov-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, mut settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Openapi => unreachable!("handled before the runtime starts"),
        Command::Serve { listen, demo } => {
            if let Some(addr) = listen {
                settings.core.listen = addr;
            }
            let mode = if demo { Mode::Demo } else { Mode::Production };
            Application::build(settings, mode)
                .await?
                .run_until_stopped()
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => commands::migrate(settings).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => commands::audit_verify(settings).await,
        Command::DemoData {
            units,
            cases,
            audit_records,
            form_units,
            manifest,
        } => {
            let spec = api::demo::bulk::Spec {
                units,
                cases,
                audit_records,
                form_units,
            };
            commands::demo_data(settings, spec, &manifest).await
        }
        Command::VerifyDecision { id } => commands::verify_decision(settings, &id).await,
        Command::Admin {
            command: AdminCommand::Enrol { login_name },
        } => commands::enrol_admin(settings, &login_name).await,
        Command::Sync {
            command: SyncCommand::Org { full },
        } => commands::sync_org(settings, full).await,
        Command::Calendar {
            command: CalendarCommand::Import { file },
        } => commands::calendar_import(settings, &file).await,
        Command::AnnualReport {
            command: AnnualReportCommand::Compute { year },
        } => commands::annual_report_compute(settings, year).await,
        Command::Filings {
            command: FilingsCommand::Export { since, status, out },
        } => commands::filings_export(settings, since, status, &out).await,
        Command::Keys {
            command: KeysCommand::Rotate,
        } => commands::rotate_keys(settings).await,
    }
}
