#![forbid(unsafe_code)]
//! `gov-server`: the command line. It loads configuration, opens the
//! database, and wires the crates together; everything else lives in them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use api::calendar::WorkCalendar;
use api::config::Config;
use api::db::Db;
use api::http::metrics::Metrics;
use api::pii::PiiCipher;
use api::seal::adapter::LocalSignService;
use api::state::AppState;
use clap::{Parser, Subcommand};
use notify::push::{apns_standin, fcm_standin, huawei_standin};
use notify::sms::standin as sms_standin;
use notify::todo::standin as todo_standin;
use notify::two_pages::standin as two_pages_standin;
use sso::SsoState;
use sso::keys::KeyRing;
use sso::onenet::OneNetClient;
use sso::onenet::standin as onenet_standin;
use sso::pc::client::{OidcClient, OidcSettings};
use sso::pc::standin as pc_standin;
use sso::suishenban::client::SuishenbanClient;
use sso::suishenban::standin;
use sso::sync::pull::FeedClient;
use sso::sync::standin as sync_standin;

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
    let mut extra = sso::openapi();
    extra.merge(mobile_bff::openapi());
    extra.merge(notify::openapi());
    api::openapi::render(extra)
}

async fn key_ring(config: &Config, db: &Db, pii: Arc<PiiCipher>) -> anyhow::Result<Arc<KeyRing>> {
    let ttl = Duration::from_secs(config.auth.access_ttl_secs);
    Ok(Arc::new(
        KeyRing::load(db.clone(), pii, ttl)
            .await
            .context("loading token signing keys")?,
    ))
}

fn pii_cipher(config: &Config) -> anyhow::Result<Arc<PiiCipher>> {
    Ok(Arc::new(PiiCipher::new(
        &config.crypto.pii_key,
        config.crypto.index_key.clone(),
    )?))
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
        Command::DemoData {
            units,
            cases,
            audit_records,
            manifest,
        } => {
            let db = open_db(&config).await?;
            let pii = pii_cipher(&config)?;
            api::demo::load(&db, &config, &pii)
                .await
                .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
            let keys = key_ring(&config, &db, pii.clone()).await?;
            let calendar = work_calendar(&config)?;
            let state = app_state(config, db.clone(), pii, keys, calendar)?;
            let spec = api::demo::bulk::Spec {
                units,
                cases,
                audit_records,
            };
            let started = std::time::Instant::now();
            let made = api::demo::bulk::generate(&state, spec)
                .await
                .map_err(|e| anyhow::anyhow!("generating demo data: {e}"))?;
            db.close().await;
            std::fs::write(&manifest, serde_json::to_vec(&made)?)
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
        Command::VerifyDecision { id } => {
            let db = api::db::connect(&config.database).await?;
            let signer = LocalSignService::from_config(&config.crypto)
                .map_err(|e| anyhow::anyhow!("crypto.signing_key: {e}"))?;
            let stored = api::seal::decision::load(&db, &id).await;
            db.close().await;
            let stored = stored.map_err(|_| anyhow::anyhow!("no decision {id}"))?;
            let v = api::seal::decision::verify(&signer, &stored);
            println!(
                "decision {} ({} by {} at {}, key {}): {}",
                v.decision_id,
                v.decision,
                v.approver_id,
                v.decided_at,
                v.key_id,
                match &v.problem {
                    None => "signature valid".to_owned(),
                    Some(p) => format!("signature INVALID: {p}"),
                }
            );
            Ok(if v.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Admin {
            command: AdminCommand::Enrol { login_name },
        } => {
            let db = open_db(&config).await?;
            let password = match std::env::var("GOV_ENROL_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let uri = enrol_admin(&config, &db, &login_name, &password).await?;
            println!("{uri}");
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync {
            command: SyncCommand::Org { full },
        } => {
            let db = open_db(&config).await?;
            let client = feed_client(&config)?
                .ok_or_else(|| anyhow::anyhow!("org_sync.base_url is not set"))?;
            let pii = pii_cipher(&config)?;
            let keys = key_ring(&config, &db, pii.clone()).await?;
            let calendar = work_calendar(&config)?;
            let state = app_state(config, db.clone(), pii, keys, calendar)?;
            let s = sso::sync::pull::pull(&state, &client, full)
                .await
                .map_err(|e| anyhow::anyhow!("org sync: {e}"))?;
            println!(
                "org sync: {} pages, {} applied, {} duplicate, {} stale, {} rejected; feed position {}",
                s.pages, s.applied, s.duplicate, s.stale, s.rejected, s.position
            );
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let db = open_db(&config).await?;
            let keys = key_ring(&config, &db, pii_cipher(&config)?).await?;
            let kid = keys.rotate().await?;
            println!("signing with new key {kid}");
            db.close().await;
            Ok(ExitCode::SUCCESS)
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

async fn enrol_admin(
    config: &Config,
    db: &Db,
    login: &str,
    password: &str,
) -> anyhow::Result<String> {
    let principal = api::authz::load_principal(db, api::authz::UserKey::LoginName(login))
        .await
        .map_err(|_| anyhow::anyhow!("no active user {login}"))?;
    if !sso::local::LOCAL_ROLES
        .iter()
        .any(|r| principal.has_role(*r))
    {
        anyhow::bail!("{login} is not a system, security or audit administrator");
    }
    let pii = pii_cipher(config)?;
    let mut tx = db.begin().await?;
    let uri = sso::local::enrol(&mut tx, &pii, &principal.user_id, login, password, None)
        .await
        .map_err(|e| match e {
            api::error::ApiError::Invalid { reason, .. } => {
                anyhow::anyhow!("password refused: {reason}")
            }
            other => anyhow::anyhow!("{other}"),
        })?;
    let entry = api::audit::Entry {
        actor: api::audit::Actor::system("cli"),
        action: "credentials.enrol",
        target_type: Some("user"),
        target_id: Some(principal.user_id.clone()),
        outcome: api::audit::Outcome::Success,
        detail: serde_json::json!({ "login_name": login }),
    };
    api::audit::append(&mut tx, config.audit_key(), entry).await?;
    tx.commit().await?;
    Ok(uri)
}

fn app_state(
    config: Config,
    db: Db,
    pii: Arc<PiiCipher>,
    keys: Arc<KeyRing>,
    calendar: WorkCalendar,
) -> anyhow::Result<AppState> {
    let signer = LocalSignService::from_config(&config.crypto)
        .map_err(|e| anyhow::anyhow!("crypto.signing_key: {e}"))?;
    let d = &config.disclosure;
    let notice_font = api::disclosure::pdf::NoticeFont::load(&d.notice_font, d.notice_font_index);
    if notice_font.is_none() {
        tracing::warn!(
            "no CJK font for PDF notices (install fonts-wqy-microhei or set disclosure.notice_font): notice downloads answer 503"
        );
    }
    Ok(AppState {
        signer: Arc::new(signer),
        notice_font,
        calendar: Arc::new(calendar),
        db,
        authn: sso::authenticator(keys, config.auth.issuer.clone()),
        config: Arc::new(config),
        pii,
        metrics: Arc::new(Metrics::new()),
        openapi: openapi().into(),
        outbox_wake: Arc::new(tokio::sync::Notify::new()),
    })
}

/// The org feed client, when `org_sync.base_url` is set.
fn feed_client(config: &Config) -> anyhow::Result<Option<FeedClient>> {
    let c = &config.org_sync;
    if c.base_url.is_empty() {
        return Ok(None);
    }
    let timeout = Duration::from_secs(c.timeout_secs);
    Ok(Some(FeedClient::new(
        &c.base_url,
        &c.app_key,
        c.secret.clone(),
        c.page_size,
        timeout,
    )?))
}

/// Pulls the org feed every `interval`, for as long as the server runs.
fn schedule_org_sync(state: AppState, client: FeedClient, interval: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sso::sync::pull::pull(&state, &client, false).await {
                Ok(s) => {
                    tracing::info!(applied = s.applied, rejected = s.rejected, position = %s.position, "org sync pulled")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled org sync failed; retrying at the next interval")
                }
            }
        }
    });
}

/// The deadline watch, every `disclosure.watch_interval_secs`, on whichever
/// instance holds its lease (held for two intervals, renewed each round).
fn schedule_deadline_watch(state: AppState) {
    let every = Duration::from_secs(state.config.disclosure.watch_interval_secs);
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = api::disclosure::watch::run(&state, every * 2).await {
                tracing::warn!(error = %e, "deadline watch failed; retrying at the next interval");
            }
        }
    });
}

async fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
    let db = open_db(&config).await?;
    let pii = pii_cipher(&config)?;
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
    if demo && config.notify.aliyun.endpoint.is_empty() {
        config.notify.sms_provider = "aliyun".into();
        config.notify.aliyun.endpoint = format!("http://{addr}{}", sms_standin::PATH);
        config.notify.aliyun.access_key_id = sms_standin::DEMO_ACCESS_KEY_ID.into();
        config.notify.aliyun.access_key_secret = sms_standin::DEMO_ACCESS_KEY_SECRET.into();
    }
    if demo && config.notify.huawei.token_url.is_empty() {
        let h = &mut config.notify.huawei;
        h.token_url = format!("http://{addr}{}/oauth2/v3/token", huawei_standin::PATH);
        h.api_base = format!("http://{addr}{}", huawei_standin::PATH);
        h.app_id = huawei_standin::DEMO_APP_ID.into();
        h.client_id = huawei_standin::DEMO_CLIENT_ID.into();
        h.client_secret = huawei_standin::DEMO_CLIENT_SECRET.into();
    }
    let apns_demo_key = if demo && config.notify.apns.base_url.is_empty() {
        let (private, public) = demo_apns_key()?;
        let a = &mut config.notify.apns;
        a.base_url = format!("http://{addr}{}", apns_standin::PATH);
        a.topic = apns_standin::DEMO_TOPIC.into();
        a.team_id = apns_standin::DEMO_TEAM_ID.into();
        a.key_id = apns_standin::DEMO_KEY_ID.into();
        a.private_key = private.into();
        Some(public)
    } else {
        None
    };
    if demo && config.notify.fcm.api_base.is_empty() {
        let f = &mut config.notify.fcm;
        f.api_base = format!("http://{addr}{}", fcm_standin::PATH);
        f.project_id = fcm_standin::DEMO_PROJECT.into();
        f.client_email = fcm_standin::DEMO_CLIENT_EMAIL.into();
        f.private_key = fcm_standin::DEMO_PRIVATE_KEY.into();
        f.token_uri = format!("http://{addr}{}/token", fcm_standin::PATH);
    }
    if demo && config.two_pages.base_url.is_empty() {
        config.two_pages.base_url = format!("http://{addr}{}", two_pages_standin::PATH);
        config.two_pages.app_id = two_pages_standin::DEMO_APP_ID.into();
        config.two_pages.secret = two_pages_standin::DEMO_SECRET.into();
    }
    if demo && config.todo.base_url.is_empty() {
        config.todo.base_url = format!("http://{addr}{}", todo_standin::PATH);
        config.todo.app_id = todo_standin::DEMO_APP_ID.into();
        config.todo.secret = todo_standin::DEMO_SECRET.into();
    }
    if demo && config.org_sync.base_url.is_empty() {
        config.org_sync.base_url = format!("http://{addr}{}", sync_standin::PATH);
        config.org_sync.app_key = sync_standin::DEMO_APP_KEY.into();
        config.org_sync.secret = sync_standin::DEMO_SECRET.into();
    }
    let grace = Duration::from_secs(config.http.shutdown_grace_secs);
    let keys = key_ring(&config, &db, pii.clone()).await?;
    let feed = feed_client(&config)?;
    let interval = Duration::from_secs(config.org_sync.interval_secs);
    let calendar = work_calendar(&config)?;
    let state = app_state(config, db.clone(), pii, keys.clone(), calendar)?;
    let suishenban = suishenban_client(&state.config, &addr, demo)?;
    let platform = platform_client(&state.config, &addr, demo)?;
    let onenet = onenet_client(&state.config, &addr, demo)?;
    let sso_state = SsoState {
        app: state.clone(),
        keys,
        suishenban,
        platform,
        onenet,
    };
    if demo {
        let n = sso::local::load_demo_credentials(&sso_state)
            .await
            .map_err(|e| anyhow::anyhow!("demo credentials: {e}"))?;
        tracing::info!(administrators = n, "demo administrator credentials set");
    }
    let mut routes = sso::routes(sso_state.clone())
        .merge(mobile_bff::routes(sso_state))
        .merge(notify::admin::routes());
    if demo {
        let templates = &state.config.notify.sms_templates;
        routes = routes.merge(stand_ins(&db, &state.pii, &addr, templates).await?);
        if let Some(public) = &apns_demo_key {
            let apns = apns_standin::StandIn::new(
                apns_standin::DEMO_TOPIC,
                apns_standin::DEMO_TEAM_ID,
                apns_standin::DEMO_KEY_ID,
                public,
            )?;
            routes = routes.merge(apns_standin::routes(apns));
        }
        let fcm = fcm_standin::StandIn::new(
            fcm_standin::DEMO_PROJECT,
            fcm_standin::DEMO_CLIENT_EMAIL,
            &format!("http://{addr}{}/token", fcm_standin::PATH),
            fcm_standin::DEMO_PUBLIC_KEY,
        )?;
        routes = routes.merge(fcm_standin::routes(fcm));
    }
    if let Some(client) = feed.filter(|_| !interval.is_zero()) {
        schedule_org_sync(state.clone(), client, interval);
    }
    schedule_deadline_watch(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let dispatcher = if state.config.notify.dispatcher.enabled {
        let d = notify::dispatcher::Dispatcher::new(state.clone(), notify::providers(&state)?);
        Some(tokio::spawn(d.run(stop_rx)))
    } else {
        None
    };
    let app = api::http::app(state, routes);
    tracing::info!(addr = %addr, backend = db.backend(), demo, "listening");
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    api::http::serve(listener, app, grace, shutdown).await?;
    if let Some(handle) = dispatcher {
        // The round in progress finishes; anything still leased is claimed
        // again by another instance once its lease runs out.
        let _ = tokio::time::timeout(grace, handle).await;
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The Suishenban connector: as configured, or in demo mode (when not
/// configured) pointed at the in-process stand-in.
fn suishenban_client(
    config: &Config,
    addr: &std::net::SocketAddr,
    demo: bool,
) -> anyhow::Result<Option<Arc<SuishenbanClient>>> {
    let c = &config.suishenban;
    let timeout = Duration::from_secs(c.timeout_secs);
    let client = if !c.base_url.is_empty() {
        SuishenbanClient::new(&c.base_url, &c.app_key, c.app_secret.clone(), timeout)?
    } else if demo {
        let base = format!("http://{addr}{}", standin::PATH);
        SuishenbanClient::new(
            &base,
            standin::DEMO_APP_KEY,
            standin::DEMO_APP_SECRET.into(),
            timeout,
        )?
    } else {
        tracing::warn!("suishenban.base_url is not set: mobile sign-in answers 503");
        return Ok(None);
    };
    Ok(Some(Arc::new(client)))
}

/// The working-day calendar: the configured file, or the built-in data.
fn work_calendar(config: &Config) -> anyhow::Result<WorkCalendar> {
    let file = &config.disclosure.calendar_file;
    if file.is_empty() {
        return Ok(WorkCalendar::built_in());
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    WorkCalendar::parse(&text).with_context(|| format!("calendar file {file}"))
}

/// The one-net connector: as configured, or in demo mode (when not
/// configured) pointed at the in-process stand-in.
fn onenet_client(
    config: &Config,
    addr: &std::net::SocketAddr,
    demo: bool,
) -> anyhow::Result<Option<Arc<OneNetClient>>> {
    let c = &config.onenet;
    let timeout = Duration::from_secs(c.timeout_secs);
    let client = if !c.base_url.is_empty() {
        OneNetClient::new(&c.base_url, &c.app_id, c.app_secret.clone(), timeout)?
    } else if demo {
        let base = format!("http://{addr}{}", onenet_standin::PATH);
        OneNetClient::new(
            &base,
            onenet_standin::DEMO_APP_ID,
            onenet_standin::DEMO_APP_SECRET.into(),
            timeout,
        )?
    } else {
        tracing::warn!("onenet.base_url is not set: one-net sign-in answers 503");
        return Ok(None);
    };
    Ok(Some(Arc::new(client)))
}

/// The unified office platform's OIDC client: as configured, or in demo
/// mode (when not configured) registered at the in-process stand-in.
fn platform_client(
    config: &Config,
    addr: &std::net::SocketAddr,
    demo: bool,
) -> anyhow::Result<Option<Arc<OidcClient>>> {
    let c = &config.unified_platform;
    let timeout = Duration::from_secs(c.timeout_secs);
    let settings = if !c.issuer.is_empty() {
        OidcSettings {
            issuer: c.issuer.clone(),
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            redirect_uri: c.redirect_uri.clone(),
            post_logout_redirect_uri: c.post_logout_redirect_uri.clone(),
            timeout,
        }
    } else if demo {
        let reg = demo_registration(addr);
        OidcSettings {
            issuer: reg.issuer,
            client_id: reg.client_id,
            client_secret: reg.client_secret.into(),
            redirect_uri: reg.redirect_uri,
            post_logout_redirect_uri: reg.post_logout_redirect_uri,
            timeout,
        }
    } else {
        tracing::warn!("unified_platform.issuer is not set: PC sign-in answers 503");
        return Ok(None);
    };
    Ok(Some(Arc::new(OidcClient::new(settings)?)))
}

/// How the demo's relying party is registered at the platform stand-in.
fn demo_registration(addr: &std::net::SocketAddr) -> pc_standin::Registration {
    pc_standin::Registration {
        issuer: format!("http://{addr}{}", pc_standin::PATH),
        client_id: pc_standin::DEMO_CLIENT_ID.into(),
        client_secret: pc_standin::DEMO_CLIENT_SECRET.into(),
        redirect_uri: format!("http://{addr}/auth/pc/callback"),
        post_logout_redirect_uri: format!("http://{addr}/"),
        backchannel_logout_uri: format!("http://{addr}/auth/backchannel-logout"),
    }
}

/// Demo mode: a fresh APNs signing key (the .p8 an Apple developer account
/// would issue) and its public half for the stand-in.
fn demo_apns_key() -> anyhow::Result<(String, String)> {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let private = secret.to_pkcs8_pem(LineEnding::LF)?.to_string();
    let public = secret.public_key().to_public_key_pem(LineEnding::LF)?;
    Ok((private, public))
}

/// Demo mode: the city platforms' stand-ins, mounted in-process.
async fn stand_ins(
    db: &Db,
    pii: &PiiCipher,
    addr: &std::net::SocketAddr,
    templates: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<axum::Router<AppState>> {
    let directory = standin::directory_from_db(db, pii).await?;
    let suishenban =
        standin::StandIn::new(standin::DEMO_APP_KEY, standin::DEMO_APP_SECRET, directory);
    let platform = pc_standin::StandIn::new(
        demo_registration(addr),
        pc_standin::directory_from_db(db).await?,
    )?;
    let texts = api::outbox::templates::SMS
        .iter()
        .filter_map(|t| Some((templates.get(t.kind)?.clone(), t.text.to_owned())))
        .collect();
    let code_templates = templates
        .get("verification_code")
        .cloned()
        .into_iter()
        .collect();
    let sms = sms_standin::StandIn::new(
        sms_standin::DEMO_ACCESS_KEY_ID,
        sms_standin::DEMO_ACCESS_KEY_SECRET,
        texts,
        code_templates,
    );
    let org = sync_standin::StandIn::new(
        sync_standin::DEMO_APP_KEY,
        sync_standin::DEMO_SECRET,
        format!("http://{addr}/api/v1/sync/org-changes"),
    )?;
    let onenet = onenet_standin::StandIn::new(
        onenet_standin::DEMO_APP_ID,
        onenet_standin::DEMO_APP_SECRET,
        onenet_standin::demo_people(),
    );
    Ok(standin::routes(suishenban)
        .merge(onenet_standin::routes(onenet))
        .merge(todo_standin::routes(todo_standin::StandIn::new(
            todo_standin::DEMO_APP_ID,
            todo_standin::DEMO_SECRET,
        )))
        .merge(two_pages_standin::routes(two_pages_standin::StandIn::new(
            two_pages_standin::DEMO_APP_ID,
            two_pages_standin::DEMO_SECRET,
        )))
        .merge(pc_standin::routes(platform))
        .merge(sync_standin::routes(org))
        .merge(sms_standin::routes(sms))
        .merge(huawei_standin::routes(huawei_standin::StandIn::new(
            huawei_standin::DEMO_APP_ID,
            huawei_standin::DEMO_CLIENT_ID,
            huawei_standin::DEMO_CLIENT_SECRET,
        ))))
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
