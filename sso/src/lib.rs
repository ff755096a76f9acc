#![forbid(unsafe_code)]
//! Identity: sign-in through the city platforms and local administrator
//! login, access tokens (ES256 JWTs) and rotating refresh tokens, sessions,
//! logout.

pub mod applicants;
pub mod bearer;
pub mod config;
pub mod connectors;
pub mod keys;
pub mod local;
pub mod onenet;
pub mod pc;
pub mod sessions;
#[cfg(feature = "stand-ins")]
pub mod stand_ins;
pub mod suishenban;
pub mod sync;
pub mod tokens;
pub mod verification;

use std::sync::Arc;

use api::authz::Authenticator;
use api::state::AppState;
use axum::Router;
use axum::extract::FromRef;
use utoipa::OpenApi;

use crate::config::SsoConfig;
use crate::connectors::Connectors;
use crate::keys::KeyRing;

/// What identity handlers need beyond the core's state.
#[derive(Clone)]
pub struct SsoState {
    pub app: AppState,
    /// This crate's configuration section.
    pub config: Arc<SsoConfig>,
    pub keys: Arc<KeyRing>,
    /// None when mobile sign-in is not configured.
    pub suishenban: Option<Arc<suishenban::client::SuishenbanClient>>,
    /// None when PC sign-in is not configured.
    pub platform: Option<Arc<pc::client::OidcClient>>,
    /// None when one-net autofill is not configured.
    pub onenet: Option<Arc<onenet::OneNetClient>>,
}

impl SsoState {
    /// The identity crate from its configuration section: the connector of
    /// each city platform that is configured.
    pub fn build(app: AppState, keys: Arc<KeyRing>, config: SsoConfig) -> anyhow::Result<Self> {
        let c = Connectors::from_config(&config)?;
        Ok(SsoState {
            app,
            config: Arc::new(config),
            keys,
            suishenban: c.suishenban,
            platform: c.platform,
            onenet: c.onenet,
        })
    }

    /// Starts this crate's background work: pulling the org feed every
    /// `org_sync.interval_secs`, when a feed is configured.
    pub fn spawn_jobs(&self) -> anyhow::Result<()> {
        let interval = std::time::Duration::from_secs(self.config.org_sync.interval_secs);
        if let Some(client) =
            connectors::feed(&self.config.org_sync)?.filter(|_| !interval.is_zero())
        {
            sync::pull::schedule(self.app.clone(), client, interval);
        }
        Ok(())
    }
}

impl FromRef<SsoState> for AppState {
    fn from_ref(sso: &SsoState) -> AppState {
        sso.app.clone()
    }
}

/// The authenticator this build uses: bearer access tokens; test builds
/// also accept the `X-Test-User` header.
pub fn authenticator(keys: Arc<KeyRing>, issuer: String) -> Authenticator {
    let bearer = bearer::Bearer { keys, issuer };
    #[cfg(feature = "test-support")]
    {
        Arc::new(test_support::TestHeaderOr(bearer))
    }
    #[cfg(not(feature = "test-support"))]
    {
        Arc::new(bearer)
    }
}

pub fn routes(sso: SsoState) -> Router<AppState> {
    let max_batch = sso.config.org_sync.max_batch_bytes;
    sessions::routes::routes()
        .merge(local::routes::routes())
        .merge(pc::routes::routes())
        .merge(sync::push::routes(max_batch))
        .with_state(sso)
}

#[derive(OpenApi)]
#[openapi(
    paths(
        sessions::routes::jwks,
        sessions::routes::refresh,
        sessions::routes::logout,
        sessions::routes::list_sessions,
        sessions::routes::end_session,
        local::routes::admin_login,
        local::routes::step_up,
        pc::routes::login,
        pc::routes::callback,
        pc::routes::token,
        pc::routes::logout,
        pc::routes::backchannel_logout,
        sync::push::push,
    ),
    tags((name = "identity", description = "Sign-in, tokens and sessions"))
)]
pub struct SsoDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    SsoDoc::openapi()
}

#[cfg(feature = "test-support")]
pub mod test_support {
    //! Test builds only: `X-Test-User: <login name>` signs in as that user,
    //! as if just now; without the header, bearer tokens work as in a
    //! release build.

    use api::authz::{AuthFuture, Authenticate, SessionInfo, UserKey, load_principal};
    use api::db::Db;
    use axum::http::request::Parts;

    pub const HEADER: &str = "x-test-user";

    pub struct TestHeaderOr(pub super::bearer::Bearer);

    impl Authenticate for TestHeaderOr {
        fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a Db) -> AuthFuture<'a> {
            match parts.headers.get(HEADER).and_then(|v| v.to_str().ok()) {
                Some(login) => Box::pin(async move {
                    let mut principal = load_principal(db, UserKey::LoginName(login)).await?;
                    principal.session = Some(SessionInfo {
                        id: format!("test-{}", principal.user_id),
                        channel: "test".into(),
                        authenticated_at: api::clock::now(),
                    });
                    Ok(principal)
                }),
                None => self.0.authenticate(parts, db),
            }
        }
    }
}
