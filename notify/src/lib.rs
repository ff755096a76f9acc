#![forbid(unsafe_code)]
//! Delivery of SMS (and, next, push) from the transactional outbox: the
//! dispatcher, the providers, their stand-ins, and the admin view.

pub mod admin;
pub mod dispatcher;
pub mod provider;
pub mod sms;

use std::sync::Arc;

use api::state::AppState;
use utoipa::OpenApi;

use crate::provider::Provider;

#[derive(OpenApi)]
#[openapi(
    paths(admin::list, admin::one, admin::test_sms),
    tags((name = "notifications", description = "SMS and push delivery (system administrators)"))
)]
pub struct NotifyDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    NotifyDoc::openapi()
}

/// The SMS provider the configuration names.
pub fn sms_provider(state: &AppState) -> anyhow::Result<Arc<dyn Provider>> {
    let n = &state.config.notify;
    Ok(match n.sms_provider.as_str() {
        "log" => Arc::new(sms::log::LogSms),
        "aliyun" => {
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
                std::time::Duration::from_secs(a.timeout_secs),
            )?)
        }
        other => anyhow::bail!("notify.sms_provider must be aliyun or log, not {other}"),
    })
}
