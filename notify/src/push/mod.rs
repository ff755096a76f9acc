//! Push providers.

pub mod apns;
#[cfg(feature = "stand-ins")]
pub mod apns_standin;
pub mod fcm;
#[cfg(feature = "stand-ins")]
pub mod fcm_standin;
pub mod huawei;
#[cfg(feature = "stand-ins")]
pub mod huawei_standin;
pub mod log;
#[cfg(feature = "stand-ins")]
pub mod standin_kit;
pub mod token_cache;

use std::sync::Arc;
use std::time::Duration;

use crate::config::ProvidersConfig;
use crate::provider::Provider;

/// Each push provider that is configured (has its base URL).
pub fn providers(n: &ProvidersConfig) -> anyhow::Result<Vec<Arc<dyn Provider>>> {
    let mut all: Vec<Arc<dyn Provider>> = Vec::new();
    let a = &n.apns;
    if !a.base_url.is_empty() {
        let timeout = Duration::from_secs(a.timeout_secs);
        let apns = apns::Apns::new(
            &a.base_url,
            &a.topic,
            &a.team_id,
            &a.key_id,
            &a.private_key,
            timeout,
        )?;
        all.push(Arc::new(apns));
    }
    let f = &n.fcm;
    if !f.api_base.is_empty() {
        let timeout = Duration::from_secs(f.timeout_secs);
        let fcm = fcm::Fcm::new(
            &f.api_base,
            &f.project_id,
            &f.client_email,
            &f.private_key,
            &f.token_uri,
            timeout,
        )?;
        all.push(Arc::new(fcm));
    }
    let h = &n.huawei;
    if !h.token_url.is_empty() {
        let timeout = Duration::from_secs(h.timeout_secs);
        let huawei = huawei::HuaweiPush::new(
            &h.token_url,
            &h.api_base,
            &h.app_id,
            &h.client_id,
            h.client_secret.clone(),
            timeout,
        )?;
        all.push(Arc::new(huawei));
    }
    Ok(all)
}
