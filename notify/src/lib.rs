#![forbid(unsafe_code)]
//! Delivery from the transactional outbox: the dispatcher, the SMS and push
//! providers, the outbound platform connectors (the two pages), their
//! stand-ins, and the admin view.

pub mod admin;
pub mod connector;
pub mod connector_standin;
pub mod dispatcher;
pub mod provider;
pub mod push;
pub mod sms;
pub mod standin_faults;
pub mod todo;
pub mod two_pages;

use std::sync::Arc;

use api::state::AppState;
use utoipa::OpenApi;

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
/// provider (rows queued for it are always deliverable), and each push
/// provider that is configured.
pub fn providers(state: &AppState) -> anyhow::Result<Vec<Arc<dyn Provider>>> {
    let mut all = vec![sms_provider(state)?];
    if all[0].name() != "log" {
        all.push(Arc::new(sms::log::LogSms));
    }
    let timeout = |secs| std::time::Duration::from_secs(secs);
    let t = &state.config.two_pages;
    if !t.base_url.is_empty() {
        all.push(Arc::new(two_pages::provider(
            &t.base_url,
            &t.app_id,
            t.secret.clone(),
            timeout(t.timeout_secs),
        )?));
    }
    let t = &state.config.todo;
    if !t.base_url.is_empty() {
        all.push(Arc::new(todo::provider(
            &t.base_url,
            &t.app_id,
            t.secret.clone(),
            timeout(t.timeout_secs),
        )?));
    }
    if state.config.notify.push_delivery == "log" {
        for name in ["apns", "fcm", "huawei"] {
            all.push(Arc::new(push::log::LogPush { name }));
        }
        return Ok(all);
    }
    let a = &state.config.notify.apns;
    if !a.base_url.is_empty() {
        all.push(Arc::new(push::apns::Apns::new(
            &a.base_url,
            &a.topic,
            &a.team_id,
            &a.key_id,
            &a.private_key,
            timeout(a.timeout_secs),
        )?));
    }
    let f = &state.config.notify.fcm;
    if !f.api_base.is_empty() {
        all.push(Arc::new(push::fcm::Fcm::new(
            &f.api_base,
            &f.project_id,
            &f.client_email,
            &f.private_key,
            &f.token_uri,
            timeout(f.timeout_secs),
        )?));
    }
    let h = &state.config.notify.huawei;
    if !h.token_url.is_empty() {
        all.push(Arc::new(push::huawei::HuaweiPush::new(
            &h.token_url,
            &h.api_base,
            &h.app_id,
            &h.client_id,
            h.client_secret.clone(),
            std::time::Duration::from_secs(h.timeout_secs),
        )?));
    }
    Ok(all)
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
