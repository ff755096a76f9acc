//! The city platforms' connectors, each built from its section of
//! [`SsoConfig`] when that section names the platform. One that is not
//! configured is said once in the log at start; the routes that need it
//! answer 503.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{OrgSyncConfig, SsoConfig};
use crate::onenet::OneNetClient;
use crate::pc::client::{OidcClient, OidcSettings};
use crate::suishenban::client::SuishenbanClient;
use crate::sync::pull::FeedClient;

/// Every connector the configuration enables.
pub struct Connectors {
    pub suishenban: Option<Arc<SuishenbanClient>>,
    pub platform: Option<Arc<OidcClient>>,
    pub onenet: Option<Arc<OneNetClient>>,
}

impl Connectors {
    pub fn from_config(config: &SsoConfig) -> anyhow::Result<Self> {
        Ok(Connectors {
            suishenban: suishenban(config)?,
            platform: platform(config)?,
            onenet: onenet(config)?,
        })
    }
}

fn suishenban(config: &SsoConfig) -> anyhow::Result<Option<Arc<SuishenbanClient>>> {
    let c = &config.suishenban;
    if c.base_url.is_empty() {
        tracing::warn!("suishenban.base_url is not set: mobile sign-in answers 503");
        return Ok(None);
    }
    let timeout = Duration::from_secs(c.timeout_secs);
    let client = SuishenbanClient::new(&c.base_url, &c.app_key, c.app_secret.clone(), timeout)?;
    Ok(Some(Arc::new(client)))
}

fn onenet(config: &SsoConfig) -> anyhow::Result<Option<Arc<OneNetClient>>> {
    let c = &config.onenet;
    if c.base_url.is_empty() {
        tracing::warn!("onenet.base_url is not set: one-net sign-in answers 503");
        return Ok(None);
    }
    let timeout = Duration::from_secs(c.timeout_secs);
    let client = OneNetClient::new(&c.base_url, &c.app_id, c.app_secret.clone(), timeout)?;
    Ok(Some(Arc::new(client)))
}

fn platform(config: &SsoConfig) -> anyhow::Result<Option<Arc<OidcClient>>> {
    let c = &config.unified_platform;
    if c.issuer.is_empty() {
        tracing::warn!("unified_platform.issuer is not set: PC sign-in answers 503");
        return Ok(None);
    }
    let settings = OidcSettings {
        issuer: c.issuer.clone(),
        client_id: c.client_id.clone(),
        client_secret: c.client_secret.clone(),
        redirect_uri: c.redirect_uri.clone(),
        post_logout_redirect_uri: c.post_logout_redirect_uri.clone(),
        timeout: Duration::from_secs(c.timeout_secs),
    };
    Ok(Some(Arc::new(OidcClient::new(settings)?)))
}

/// The org feed client, when `org_sync.base_url` is set.
pub fn feed(c: &OrgSyncConfig) -> anyhow::Result<Option<FeedClient>> {
    if c.base_url.is_empty() {
        return Ok(None);
    }
    let timeout = Duration::from_secs(c.timeout_secs);
    let client = FeedClient::new(
        &c.base_url,
        &c.app_key,
        c.secret.clone(),
        c.page_size,
        timeout,
    )?;
    Ok(Some(client))
}
