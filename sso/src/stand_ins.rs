//! Demo mode: stand-ins of the city platforms this crate talks to
//! (Suishenban, the unified office platform's SSO and org feed, one-net),
//! mounted in-process on the server's own address. [`configure`] points
//! each connector that is not configured at its stand-in; a configured one
//! keeps its real peer. Compiled only with the `stand-ins` feature, so a
//! production build carries none of them.

use std::net::SocketAddr;

use api::db::Db;
use api::pii::PiiCipher;
use api::state::AppState;
use axum::Router;

use crate::config::SsoConfig;
use crate::onenet::standin as onenet;
use crate::pc::standin as platform;
use crate::suishenban::standin as suishenban;
use crate::sync::standin as org_feed;

/// The stand-ins of one demo server, at `http://{addr}`.
pub struct StandIns {
    addr: SocketAddr,
}

/// Points every connector section that names no peer at its stand-in.
pub fn configure(config: &mut SsoConfig, addr: SocketAddr) -> StandIns {
    let base = |path: &str| format!("http://{addr}{path}");
    let s = &mut config.suishenban;
    if s.base_url.is_empty() {
        s.base_url = base(suishenban::PATH);
        s.app_key = suishenban::DEMO_APP_KEY.into();
        s.app_secret = suishenban::DEMO_APP_SECRET.into();
    }
    let o = &mut config.onenet;
    if o.base_url.is_empty() {
        o.base_url = base(onenet::PATH);
        o.app_id = onenet::DEMO_APP_ID.into();
        o.app_secret = onenet::DEMO_APP_SECRET.into();
    }
    let p = &mut config.unified_platform;
    if p.issuer.is_empty() {
        let reg = registration(addr);
        p.issuer = reg.issuer;
        p.client_id = reg.client_id;
        p.client_secret = reg.client_secret.into();
        p.redirect_uri = reg.redirect_uri;
        p.post_logout_redirect_uri = reg.post_logout_redirect_uri;
    }
    let f = &mut config.org_sync;
    if f.base_url.is_empty() {
        f.base_url = base(org_feed::PATH);
        f.app_key = org_feed::DEMO_APP_KEY.into();
        f.secret = org_feed::DEMO_SECRET.into();
    }
    StandIns { addr }
}

/// How the demo's relying party is registered at the platform stand-in.
fn registration(addr: SocketAddr) -> platform::Registration {
    platform::Registration {
        issuer: format!("http://{addr}{}", platform::PATH),
        client_id: platform::DEMO_CLIENT_ID.into(),
        client_secret: platform::DEMO_CLIENT_SECRET.into(),
        redirect_uri: format!("http://{addr}/auth/pc/callback"),
        post_logout_redirect_uri: format!("http://{addr}/"),
        backchannel_logout_uri: format!("http://{addr}/auth/backchannel-logout"),
    }
}

impl StandIns {
    /// The stand-ins' routes; their directories are read from the demo data.
    pub async fn routes(&self, db: &Db, pii: &PiiCipher) -> anyhow::Result<Router<AppState>> {
        let addr = self.addr;
        let people = suishenban::directory_from_db(db, pii).await?;
        let ssb = suishenban::StandIn::new(
            suishenban::DEMO_APP_KEY,
            suishenban::DEMO_APP_SECRET,
            people,
        );
        let op =
            platform::StandIn::new(registration(addr), platform::directory_from_db(db).await?)?;
        let feed = org_feed::StandIn::new(
            org_feed::DEMO_APP_KEY,
            org_feed::DEMO_SECRET,
            format!("http://{addr}/api/v1/sync/org-changes"),
        )?;
        let portal = onenet::StandIn::new(
            onenet::DEMO_APP_ID,
            onenet::DEMO_APP_SECRET,
            onenet::demo_people(),
        );
        Ok(suishenban::routes(ssb)
            .merge(onenet::routes(portal))
            .merge(platform::routes(op))
            .merge(org_feed::routes(feed))
            .merge(crate::sync::documents_standin::routes(format!(
                "http://{addr}{}",
                api::legal::filing::intake::PATH
            ))?))
    }
}
