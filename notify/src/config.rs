//! The notify crate's configuration: the SMS and push providers, the
//! platform connectors (the two pages, the unified to-do) and the
//! dispatcher. `[notify]` is shared with the core, which reads its
//! `sms_provider` and `channel_policy` (`api::config::DeliveryPolicy`); the
//! rest of the table is read here.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct NotifyConfig {
    pub notify: ProvidersConfig,
    pub two_pages: ConnectorConfig,
    /// The unified office platform's to-do API (GK-03); same shape.
    pub todo: ConnectorConfig,
}

/// A platform connector taking signed JSON: the "two pages" (citizen
/// homepage, company page, XT-01) and the unified to-do (GK-03).
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectorConfig {
    /// Base URL of its API. Empty: messages wait in the outbox until it is
    /// configured (demo mode points it at the in-process stand-in).
    pub base_url: String,
    pub app_id: String,
    pub secret: SecretString,
    pub timeout_secs: u64,
}

/// Delivery of SMS and push: the providers' part of `[notify]` (which SMS
/// provider is used is the core's `notify.sms_provider`).
#[derive(Debug, Clone, Deserialize)]
pub struct ProvidersConfig {
    pub aliyun: AliyunSmsConfig,
    /// Aliyun template code per notification kind.
    pub sms_templates: BTreeMap<String, String>,
    pub push_delivery: PushDelivery,
    pub huawei: HuaweiPushConfig,
    pub apns: ApnsConfig,
    pub fcm: FcmConfig,
    pub dispatcher: DispatcherConfig,
}

/// Apple Push Notification service, token-based (.p8 key) authentication.
#[derive(Debug, Clone, Deserialize)]
pub struct ApnsConfig {
    /// `https://api.push.apple.com` (or the sandbox); empty turns APNs off
    /// (demo mode points it at the stand-in).
    pub base_url: String,
    /// The app's bundle id: `apns-topic`.
    pub topic: String,
    pub team_id: String,
    pub key_id: String,
    /// The .p8 signing key (PKCS#8 PEM). Secret.
    pub private_key: SecretString,
    pub timeout_secs: u64,
}

/// Firebase Cloud Messaging HTTP v1, with a service account.
#[derive(Debug, Clone, Deserialize)]
pub struct FcmConfig {
    /// `https://fcm.googleapis.com`; empty turns FCM off (demo mode points it
    /// at the stand-in).
    pub api_base: String,
    pub project_id: String,
    /// The service account's `client_email`.
    pub client_email: String,
    /// The service account's `private_key` (PKCS#8 PEM). Secret.
    pub private_key: SecretString,
    /// The service account's `token_uri`.
    pub token_uri: String,
    pub timeout_secs: u64,
}

/// Huawei Push Kit, the Android push channel that works in mainland China.
#[derive(Debug, Clone, Deserialize)]
pub struct HuaweiPushConfig {
    /// OAuth token endpoint; empty turns Huawei push off (demo mode points
    /// it at the stand-in).
    pub token_url: String,
    /// Push API base, e.g. `https://push-api.cloud.huawei.com`.
    pub api_base: String,
    pub app_id: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AliyunSmsConfig {
    /// Dysmsapi endpoint. Empty in demo mode: the in-process stand-in.
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    /// The approved SMS signature (签名), e.g. 上海市政务服务.
    pub sign_name: String,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DispatcherConfig {
    /// Run the dispatcher in this process.
    pub enabled: bool,
    /// Messages claimed per round.
    pub batch_size: u32,
    /// A claimed message not finished in this time is claimed again (after
    /// a crash).
    pub lease_secs: u64,
    /// Polling when nothing wakes the dispatcher.
    pub poll_interval_ms: u64,
    /// First retry delay; doubles per attempt, with jitter, up to the max.
    pub base_backoff_ms: u64,
    pub max_backoff_secs: u64,
    /// Sends in flight at once, per provider.
    pub provider_concurrency: usize,
    /// Sends per second across all providers.
    pub max_rate_per_sec: u32,
}

/// Whether pushes go to their providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushDelivery {
    /// Deliver.
    Providers,
    /// Write pushes to the log only.
    Log,
}

impl NotifyConfig {
    /// The defaults, layered under the TOML file and the environment.
    pub fn defaults() -> serde_json::Value {
        serde_json::json!({
            "two_pages": { "base_url": "", "app_id": "", "secret": "", "timeout_secs": 5 },
            "todo": { "base_url": "", "app_id": "", "secret": "", "timeout_secs": 5 },
            "notify": {
                "aliyun": {
                    "endpoint": "",
                    "access_key_id": "",
                    "access_key_secret": "",
                    "sign_name": "上海市政务服务",
                    "timeout_secs": 5,
                },
                "push_delivery": "providers",
                "sms_templates": {
                    "verification_code": "SMS_480001",
                    "seal_approval_pending": "SMS_480002",
                    "case_assigned": "SMS_480003",
                    "notification_test": "SMS_480004",
                    "disclosure_received": "SMS_480005",
                    "case_deadline": "SMS_480006",
                    "case_overdue": "SMS_480007",
                    "seal_result": "SMS_480008",
                    "disclosure_received_provisional": "SMS_480009",
                    "case_deadline_moved": "SMS_480010",
                    "calendar_missing": "SMS_480011",
                    "form_assigned": "SMS_480012",
                    "form_reminder": "SMS_480013",
                    "form_overdue": "SMS_480014",
                    "form_returned": "SMS_480015",
                    "application_warning": "SMS_480016",
                    "cleanup_assigned": "SMS_480017",
                    "cleanup_reminder": "SMS_480018",
                    "cleanup_overdue": "SMS_480019",
                    "cleanup_returned": "SMS_480020",
                    "assessment_published": "SMS_480021",
                    "assessment_reminder": "SMS_480022",
                    "exchange_note": "SMS_480023",
                    "exchange_reply": "SMS_480024",
                },
                "huawei": {
                    "token_url": "",
                    "api_base": "",
                    "app_id": "",
                    "client_id": "",
                    "client_secret": "",
                    "timeout_secs": 5,
                },
                "apns": {
                    "base_url": "",
                    "topic": "",
                    "team_id": "",
                    "key_id": "",
                    "private_key": "",
                    "timeout_secs": 5,
                },
                "fcm": {
                    "api_base": "",
                    "project_id": "",
                    "client_email": "",
                    "private_key": "",
                    "token_uri": "",
                    "timeout_secs": 5,
                },
                "dispatcher": {
                    "enabled": true,
                    "batch_size": 32,
                    "lease_secs": 60,
                    "poll_interval_ms": 1000,
                    "base_backoff_ms": 1000,
                    "max_backoff_secs": 300,
                    "provider_concurrency": 16,
                    "max_rate_per_sec": 500,
                },
            },
        })
    }
}
