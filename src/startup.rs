//! The composition root: the one place that builds the running application
//! from its configuration. `gov-server serve` and the end-to-end tests
//! (which start that command) both come through [`Application::build`], so
//! they cannot be wired differently.
//!
//! Each crate builds its own parts from its own configuration section: the
//! core its state, `sso` its platform connectors, `notify` its providers and
//! dispatcher; in demo mode each mounts its own stand-ins. This module only
//! composes them.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use api::config::{Config, ConfigError, Sources};
use api::db::Db;
use api::pii::PiiCipher;
use api::state::AppState;
use notify::config::NotifyConfig;
use sso::SsoState;
use sso::config::SsoConfig;
use sso::keys::KeyRing;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Every crate's configuration, from one set of sources.
pub struct Settings {
    pub core: Config,
    pub sso: SsoConfig,
    pub notify: NotifyConfig,
}

impl Settings {
    /// Defaults, then the TOML file (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let sections = [SsoConfig::defaults(), NotifyConfig::defaults()];
        let sources = Sources::load(file, &sections)?;
        let settings = Settings {
            core: sources.core()?,
            sso: sources.extract()?,
            notify: sources.extract()?,
        };
        Ok(settings)
    }
}

/// How the application meets the outside world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only the peers the configuration names.
    Production,
    /// Demo data, and the stand-ins of every peer the configuration does
    /// not name, mounted in-process (refused by the production profile).
    Demo,
}

/// The application, built and bound to its listener, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    dispatcher: Option<Arc<notify::dispatcher::Dispatcher>>,
    mode: Mode,
}

impl Application {
    /// Opens and migrates the database, binds `settings.core.listen` (port
    /// 0 picks a free one), and builds every crate's part.
    pub async fn build(settings: Settings, mode: Mode) -> anyhow::Result<Application> {
        let Settings {
            mut core,
            mut sso,
            mut notify,
        } = settings;
        if mode == Mode::Demo {
            refuse_demo(&core)?;
        }
        let db = open_db(&core).await?;
        let pii = PiiCipher::from_config(&core.crypto)?;
        if mode == Mode::Demo {
            load_demo_data(&db, &core, &pii).await?;
        }
        let listener = TcpListener::bind(core.listen)
            .await
            .with_context(|| format!("binding {}", core.listen))?;
        let addr = listener.local_addr()?;
        let stand_ins = match mode {
            Mode::Demo => Some(demo::configure(&mut core, &mut sso, &mut notify, addr)?),
            Mode::Production => None,
        };
        let (state, keys) = core_state(core, db.clone(), pii).await?;
        let sso = SsoState::build(state.clone(), keys, sso)?;
        if mode == Mode::Demo && state.config.disclosure.demo_history {
            let cases = api::demo::last_year::load(&state)
                .await
                .map_err(|e| anyhow::anyhow!("loading last year's demo cases: {e}"))?;
            tracing::info!(cases, "last year's demo register loaded");
            let lists = api::demo::cleanup::load(&state)
                .await
                .map_err(|e| anyhow::anyhow!("loading the demo clean-up campaigns: {e}"))?;
            tracing::info!(lists, "demo clean-up campaigns loaded");
            api::demo::assessment::load(&state)
                .await
                .map_err(|e| anyhow::anyhow!("loading the demo assessment: {e}"))?;
            let filings = api::demo::filings::load(&state)
                .await
                .map_err(|e| anyhow::anyhow!("loading the demo filings: {e}"))?;
            tracing::info!(filings, "demo filings and major decisions loaded");
            let experts = api::demo::experts::load(&state)
                .await
                .map_err(|e| anyhow::anyhow!("loading the demo experts: {e}"))?;
            tracing::info!(experts, "demo experts loaded");
        }
        if mode == Mode::Demo {
            let n = sso::local::load_demo_credentials(&sso)
                .await
                .map_err(|e| anyhow::anyhow!("demo credentials: {e}"))?;
            tracing::info!(administrators = n, "demo administrator credentials set");
        }
        let mut routes = crate::routes::modules(&sso);
        if let Some(stand_ins) = stand_ins {
            routes = routes.merge(stand_ins.routes(&state).await?);
        }
        sso.spawn_jobs()?;
        api::disclosure::watch::schedule(state.clone());
        api::calendar::store::schedule_refresh(state.clone());
        let dispatcher = notify.notify.dispatcher.enabled.then(|| {
            let providers = notify::providers(&state, &notify);
            providers.map(|p| {
                notify::dispatcher::Dispatcher::new(
                    state.clone(),
                    notify.notify.dispatcher.clone(),
                    p,
                )
            })
        });
        Ok(Application {
            router: api::http::app(state.clone(), routes),
            listener,
            state,
            dispatcher: dispatcher.transpose()?,
            mode,
        })
    }

    /// The port the application listens on (tests bind port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// Serves until SIGTERM or Ctrl-C (see [`Application::run_until`]).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` resolves, then lets requests in flight and the
    /// dispatcher's round finish for up to `http.shutdown_grace_secs`.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            router,
            state,
            dispatcher,
            mode,
        } = self;
        let demo = mode == Mode::Demo;
        let grace = Duration::from_secs(state.config.http.shutdown_grace_secs);
        let (stop_tx, stop_rx) = watch::channel(false);
        let dispatcher: Option<JoinHandle<()>> = dispatcher.map(|d| tokio::spawn(d.run(stop_rx)));
        let addr = listener.local_addr()?;
        tracing::info!(addr = %addr, backend = state.db.backend(), demo, "listening");
        let shutdown = async move {
            stop.await;
            let _ = stop_tx.send(true);
        };
        api::http::serve(listener, router, grace, shutdown).await?;
        if let Some(handle) = dispatcher {
            // The round in progress finishes; anything still leased is
            // claimed again by another instance once its lease runs out.
            let _ = tokio::time::timeout(grace, handle).await;
        }
        state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn refuse_demo(core: &Config) -> anyhow::Result<()> {
    if core.is_production() {
        anyhow::bail!("--demo is refused: the configuration says profile = \"production\"");
    }
    if !cfg!(feature = "stand-ins") {
        anyhow::bail!(
            "--demo needs the stand-ins, and this binary was built without them (cargo feature `stand-ins`)"
        );
    }
    Ok(())
}

/// The database, migrated to this build's schema.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = api::db::connect(&config.database).await?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

async fn load_demo_data(db: &Db, core: &Config, pii: &PiiCipher) -> anyhow::Result<()> {
    let loaded = api::demo::load(db, core, pii)
        .await
        .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
    tracing::info!(
        units = loaded.units,
        users = loaded.users,
        "demo data loaded"
    );
    Ok(())
}

/// The core's state with the identity crate's authenticator, and the token
/// keys it verifies with: for serving, and for the commands that work
/// through the product's own code without serving.
pub async fn core_state(
    core: Config,
    db: Db,
    pii: Arc<PiiCipher>,
) -> anyhow::Result<(AppState, Arc<KeyRing>)> {
    let ttl = Duration::from_secs(core.auth.access_ttl_secs);
    let keys = KeyRing::load(db.clone(), pii.clone(), ttl)
        .await
        .context("loading token signing keys")?;
    let keys = Arc::new(keys);
    let authn = sso::authenticator(keys.clone(), core.auth.issuer.clone());
    let state = AppState::build(core, db, pii, authn, crate::routes::openapi().into())?;
    // Years imported at run time count from the first request on.
    api::calendar::store::refresh(&state)
        .await
        .map_err(|e| anyhow::anyhow!("loading imported calendar years: {e}"))?;
    Ok((state, keys))
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

/// Demo mode's stand-ins: each crate's own, composed.
#[cfg(feature = "stand-ins")]
mod demo {
    use super::*;

    pub struct StandIns {
        sso: sso::stand_ins::StandIns,
        notify: notify::stand_ins::StandIns,
    }

    /// Points every connector the configuration leaves empty at its
    /// stand-in on this server's own address.
    pub fn configure(
        core: &mut Config,
        sso: &mut SsoConfig,
        notify: &mut NotifyConfig,
        addr: SocketAddr,
    ) -> anyhow::Result<StandIns> {
        core.legal
            .intake_secret_or(sso::sync::documents_standin::DEMO_SECRET);
        Ok(StandIns {
            sso: sso::stand_ins::configure(sso, addr),
            notify: notify::stand_ins::configure(&mut core.notify, notify, addr)?,
        })
    }

    impl StandIns {
        pub async fn routes(self, state: &AppState) -> anyhow::Result<axum::Router<AppState>> {
            let sso = self.sso.routes(&state.db, &state.pii).await?;
            Ok(sso.merge(self.notify.routes()?))
        }
    }
}

/// A build without stand-ins refuses demo mode before it gets here.
#[cfg(not(feature = "stand-ins"))]
mod demo {
    use super::*;

    pub enum StandIns {}

    pub fn configure(
        _: &mut Config,
        _: &mut SsoConfig,
        _: &mut NotifyConfig,
        _: SocketAddr,
    ) -> anyhow::Result<StandIns> {
        anyhow::bail!("this binary was built without stand-ins")
    }

    impl StandIns {
        pub async fn routes(self, _: &AppState) -> anyhow::Result<axum::Router<AppState>> {
            match self {}
        }
    }
}
