//! The identity crate's configuration: the city platforms it signs people
//! in through (Suishenban, the unified office platform, one-net), org sync,
//! and the applicants' SMS codes and sessions. Read from the same sources as
//! the core's (`api::config::Sources`), with these defaults.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct SsoConfig {
    pub suishenban: SuishenbanConfig,
    pub unified_platform: UnifiedPlatformConfig,
    pub org_sync: OrgSyncConfig,
    pub onenet: OneNetConfig,
    pub verification: VerificationConfig,
    pub applicants: ApplicantsConfig,
}

/// The one-net service (一网通办) connector: applicant identity and profile
/// by login ticket (GK-14).
#[derive(Debug, Clone, Deserialize)]
pub struct OneNetConfig {
    /// Base URL of its open API. Empty: one-net autofill is not configured
    /// (demo mode points it at the in-process stand-in).
    pub base_url: String,
    pub app_id: String,
    pub app_secret: SecretString,
    pub timeout_secs: u64,
}

/// Applicant (public) sessions.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplicantsConfig {
    pub session_ttl_secs: u64,
}

/// SMS verification codes for applicants (GK-15). The per-phone limits are
/// Aliyun's defaults for one signature.
#[derive(Debug, Clone, Deserialize)]
pub struct VerificationConfig {
    pub code_ttl_secs: u64,
    /// Wrong codes before the code dies.
    pub max_attempts: i32,
    /// Lifetime of the verification token a correct code earns.
    pub token_ttl_secs: u64,
    pub phone_per_minute: i64,
    pub phone_per_hour: i64,
    pub phone_per_day: i64,
    /// Codes one client address may request per hour.
    pub ip_per_hour: i64,
    /// Pumping guard: at most `prefix_max` codes per `prefix_window_secs` to
    /// numbers sharing their first `prefix_len` digits.
    pub prefix_len: usize,
    pub prefix_window_secs: u64,
    pub prefix_max: i64,
}

/// Org and user sync with the unified office platform (GK-01), both ways:
/// we pull its change feed, and it pushes batches to us.
#[derive(Debug, Clone, Deserialize)]
pub struct OrgSyncConfig {
    /// Base URL of the platform's org API. Empty: no pulling (pushes are
    /// still accepted when `secret` is set).
    pub base_url: String,
    pub app_key: String,
    /// Shared HMAC-SM3 secret signing requests in both directions. Empty:
    /// pushes are refused.
    pub secret: SecretString,
    /// Seconds between scheduled pulls; 0 turns the schedule off.
    pub interval_secs: u64,
    /// Changes asked for per page when pulling.
    pub page_size: u32,
    /// Largest accepted push, in bytes.
    pub max_batch_bytes: usize,
    pub timeout_secs: u64,
}

/// The unified office platform (一体化办公平台), an OpenID Provider for PC
/// sign-in (GK-02). Endpoints come from its discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct UnifiedPlatformConfig {
    /// The OP's issuer URL. Empty: PC sign-in is not configured (demo mode
    /// points it at the in-process stand-in).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Our callback as registered at the OP, e.g.
    /// `https://gov.example/auth/pc/callback`.
    pub redirect_uri: String,
    /// Where the browser lands after logout at the OP.
    pub post_logout_redirect_uri: String,
    pub timeout_secs: u64,
}

/// The Suishenban (随申办) government cloud, for mobile sign-in (GK-06).
#[derive(Debug, Clone, Deserialize)]
pub struct SuishenbanConfig {
    /// Base URL of its open API. Empty: mobile sign-in is not configured
    /// (demo mode points it at the in-process stand-in).
    pub base_url: String,
    pub app_key: String,
    pub app_secret: SecretString,
    pub timeout_secs: u64,
}

impl SsoConfig {
    /// The defaults, layered under the TOML file and the environment.
    pub fn defaults() -> serde_json::Value {
        serde_json::json!({
            "suishenban": { "base_url": "", "app_key": "", "app_secret": "", "timeout_secs": 5 },
            "onenet": { "base_url": "", "app_id": "", "app_secret": "", "timeout_secs": 5 },
            "applicants": { "session_ttl_secs": 7200 },
            "unified_platform": {
                "issuer": "",
                "client_id": "",
                "client_secret": "",
                "redirect_uri": "",
                "post_logout_redirect_uri": "",
                "timeout_secs": 5,
            },
            "org_sync": {
                "base_url": "",
                "app_key": "",
                "secret": "",
                "interval_secs": 300,
                "page_size": 500,
                "max_batch_bytes": 8_388_608,
                "timeout_secs": 10,
            },
            "verification": {
                "code_ttl_secs": 300,
                "max_attempts": 5,
                "token_ttl_secs": 900,
                "phone_per_minute": 1,
                "phone_per_hour": 5,
                "phone_per_day": 10,
                "ip_per_hour": 30,
                "prefix_len": 7,
                "prefix_window_secs": 600,
                "prefix_max": 50,
            },
        })
    }
}
