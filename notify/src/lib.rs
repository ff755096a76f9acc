#![forbid(unsafe_code)]
//! Delivery from the transactional outbox: the dispatcher, the SMS and push
//! providers, the outbound platform connectors (the two pages), their
//! stand-ins, and the admin view.

pub mod admin;
pub mod config;
pub mod connector;
#[cfg(feature = "stand-ins")]
pub mod connector_standin;
pub mod dispatcher;
pub mod provider;
pub mod push;
pub mod sms;
#[cfg(feature = "stand-ins")]
pub mod stand_ins;
#[cfg(feature = "stand-ins")]
pub mod standin_faults;
pub mod todo;
pub mod two_pages;

use std::sync::Arc;

use api::state::AppState;
use utoipa::OpenApi;

use api::config::SmsProvider;

use crate::config::{NotifyConfig, ProvidersConfig, PushDelivery};
use crate::provider::Provider;

#[derive(OpenApi)]
#[openapi(
    paths(admin::list, admin::one, admin::test_sms, admin::test_notification),
    tags((name = "notifications", description = "SMS and push delivery (system administrators)"))
)]
pub struct NotifyDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    NotifyDoc::openapi()
}

/// Every provider this configuration enables: the SMS provider, the log
/// provider (rows queued for it are always deliverable), each platform
/// connector and each push provider that is configured.
pub fn providers(app: &AppState, config: &NotifyConfig) -> anyhow::Result<Vec<Arc<dyn Provider>>> {
    let name = app.config.notify.sms_provider;
    let mut all = vec![sms_provider(name, &config.notify)?];
    if name != SmsProvider::Log {
        all.push(Arc::new(sms::log::LogSms));
    }
    all.extend(connectors(config)?);
    if config.notify.push_delivery == PushDelivery::Log {
        for name in ["apns", "fcm", "huawei"] {
            all.push(Arc::new(push::log::LogPush { name }));
        }
    } else {
        all.extend(push::providers(&config.notify)?);
    }
    Ok(all)
}

fn seconds(secs: u64) -> std::time::Duration {
    std::time::Duration::from_secs(secs)
}

/// The platform connectors (the two pages, the unified to-do) that have a
/// base URL.
fn connectors(config: &NotifyConfig) -> anyhow::Result<Vec<Arc<dyn Provider>>> {
    let mut all: Vec<Arc<dyn Provider>> = Vec::new();
    let t = &config.two_pages;
    if !t.base_url.is_empty() {
        let p = two_pages::provider(
            &t.base_url,
            &t.app_id,
            t.secret.clone(),
            seconds(t.timeout_secs),
        )?;
        all.push(Arc::new(p));
    }
    let t = &config.todo;
    if !t.base_url.is_empty() {
        let p = todo::provider(
            &t.base_url,
            &t.app_id,
            t.secret.clone(),
            seconds(t.timeout_secs),
        )?;
        all.push(Arc::new(p));
    }
    Ok(all)
}

/// The SMS provider `name`s (the core's `notify.sms_provider`).
pub fn sms_provider(name: SmsProvider, n: &ProvidersConfig) -> anyhow::Result<Arc<dyn Provider>> {
    Ok(match name {
        SmsProvider::Log => Arc::new(sms::log::LogSms),
        SmsProvider::Aliyun => {
            let a = &n.aliyun;
            if a.endpoint.is_empty() {
                anyhow::bail!("notify.sms_provider is aliyun but notify.aliyun.endpoint is empty");
            }
            Arc::new(sms::aliyun::AliyunSms::new(
                &a.endpoint,
                &a.access_key_id,
                a.access_key_secret.clone(),
                &a.sign_name,
                n.sms_templates.clone(),
                seconds(a.timeout_secs),
            )?)
        }
    })
}
