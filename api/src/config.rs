//! Configuration: a TOML file, then environment overrides, into one typed
//! value. There is no global config: `main` loads it once and hands it on.
//!
//! Environment overrides use the `GOV_` prefix with `__` between levels
//! (`GOV_DATABASE__URL`, `GOV_CRYPTO__PII_KEY`); `DATABASE_URL` is also
//! honoured because every PostgreSQL tool uses it. Every key is documented in
//! `docs/operations.md`.

use std::net::SocketAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Development keys, public on purpose so that a demo runs with no set-up.
/// The production profile refuses to start with any of them.
const DEV_PII_KEY: &str = "00112233445566778899aabbccddeeff";
const DEV_INDEX_KEY: &str = "dev-only blind index key: never use in production";
const DEV_AUDIT_KEY: &str = "dev-only audit chain key: never use in production";
const DEV_SIGNING_KEY: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub profile: Profile,
    pub listen: SocketAddr,
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub crypto: CryptoConfig,
    pub auth: AuthConfig,
    pub suishenban: SuishenbanConfig,
    pub unified_platform: UnifiedPlatformConfig,
    pub org_sync: OrgSyncConfig,
    pub notify: NotifyConfig,
    pub verification: VerificationConfig,
    pub onenet: OneNetConfig,
    pub applicants: ApplicantsConfig,
    pub disclosure: DisclosureConfig,
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

/// Disclosure on application (依申请公开).
#[derive(Debug, Clone, Deserialize)]
pub struct DisclosureConfig {
    /// A working-day calendar file to use instead of the built-in one
    /// (format: api/src/calendar/cn_shanghai.txt). Empty: built-in.
    pub calendar_file: String,
    /// A TrueType/OpenType font (or collection) with Chinese glyphs for PDF
    /// notices. Empty: the first of the usual Debian CJK fonts found.
    pub notice_font: String,
    /// The face's index in a font collection.
    pub notice_font_index: u32,
    /// The deadline watch warns this many working days before a deadline.
    pub warn_working_days: u32,
    /// How often the deadline watch runs; 0 turns it off.
    pub watch_interval_secs: u64,
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

/// Delivery of SMS and push (the `notify` crate).
#[derive(Debug, Clone, Deserialize)]
pub struct NotifyConfig {
    /// `aliyun`, or `log` (write to the log and mark sent: no delivery).
    pub sms_provider: String,
    pub aliyun: AliyunSmsConfig,
    /// Aliyun template code per notification kind.
    pub sms_templates: std::collections::BTreeMap<String, String>,
    /// Per notification kind: `push_then_sms` (the default for kinds not
    /// listed), `push_only` or `sms_only`.
    pub channel_policy: std::collections::BTreeMap<String, String>,
    /// `providers` (deliver) or `log` (write pushes to the log only).
    pub push_delivery: String,
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

#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    /// `iss` of the tokens we issue: this service's public base URL.
    pub issuer: String,
    /// Lifetime of access tokens (ES256 JWTs).
    pub access_ttl_secs: u64,
    /// How long an already-rotated refresh token is still accepted, for a
    /// client's racing retry. At most 10 s.
    pub refresh_overlap_secs: u64,
    /// Sensitive actions (granting roles, approving seals) need a sign-in or
    /// step-up at most this long ago.
    pub step_up_max_age_secs: u64,
    pub pc: SessionLifetimes,
    pub mobile: SessionLifetimes,
    pub admin: SessionLifetimes,
    pub lockout: LockoutConfig,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct SessionLifetimes {
    /// A session unused for this long ends.
    pub idle_secs: u64,
    /// A session ends this long after sign-in, used or not.
    pub absolute_secs: u64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct LockoutConfig {
    /// Failed local logins in a row that lock the account.
    pub max_failures: u32,
    /// How long a locked account stays locked.
    pub lock_secs: u64,
    /// Failed logins one source address may make per window, across all
    /// accounts, before it is refused (without locking anyone's account).
    pub ip_max_failures: u32,
    pub ip_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`. Secret because a PostgreSQL URL
    /// carries the password.
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// A request that takes longer is answered 503 and dropped.
    pub request_timeout_secs: u64,
    /// How long a SIGTERM waits for requests in flight before exiting.
    pub shutdown_grace_secs: u64,
    /// Serve `GET /bench/units/{id}`: one row by primary key with no
    /// authentication, audit or JSON, the floor `scripts/bench.sh` compares
    /// every journey with. Off except in benchmarks.
    pub bench_route: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogConfig {
    /// `tracing` filter directive, e.g. `info` or `info,sqlx=warn`.
    pub level: String,
    /// `json` (default, one object per line) or `text` for local reading.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CryptoConfig {
    /// SM4 key for personal data at rest, 32 hex digits.
    pub pii_key: SecretString,
    /// HMAC-SM3 key for blind indexes of personal data.
    pub index_key: SecretString,
    /// HMAC-SM3 key of the audit chain.
    pub audit_key: SecretString,
    /// SM2 secret (32 bytes, hex) of the local signing service: approval
    /// decisions, stamps and time stamps when no city service is configured
    /// (SEC-08).
    pub signing_key: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Defaults, then the TOML file (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(defaults()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(Env::prefixed("GOV_").split("__")).merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| "database.url".into()),
        );
        let config: Config = fig
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.http.body_limit_bytes == 0 || self.database.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "http.body_limit_bytes and database.max_connections must be positive".into(),
            ));
        }
        for (kind, policy) in &self.notify.channel_policy {
            if !["push_then_sms", "push_only", "sms_only"].contains(&policy.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "notify.channel_policy.{kind} must be push_then_sms, push_only or sms_only"
                )));
            }
        }
        if !["providers", "log"].contains(&self.notify.push_delivery.as_str()) {
            return Err(ConfigError::Invalid(
                "notify.push_delivery must be providers or log".into(),
            ));
        }
        if self.auth.refresh_overlap_secs > 10 {
            return Err(ConfigError::Invalid(
                "auth.refresh_overlap_secs may be at most 10".into(),
            ));
        }
        if self.profile == Profile::Production && self.http.bench_route {
            return Err(ConfigError::Invalid(
                "http.bench_route serves data without authentication; the production profile refuses it".into(),
            ));
        }
        if self.profile == Profile::Production {
            let c = &self.crypto;
            let dev = [
                (c.pii_key.expose_secret(), DEV_PII_KEY, "crypto.pii_key"),
                (
                    c.index_key.expose_secret(),
                    DEV_INDEX_KEY,
                    "crypto.index_key",
                ),
                (
                    c.audit_key.expose_secret(),
                    DEV_AUDIT_KEY,
                    "crypto.audit_key",
                ),
                (
                    c.signing_key.expose_secret(),
                    DEV_SIGNING_KEY,
                    "crypto.signing_key",
                ),
            ];
            for (value, dev_value, key) in dev {
                if value == dev_value {
                    return Err(ConfigError::Invalid(format!(
                        "{key} still has the development value; the production profile needs its own key"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The HMAC-SM3 key of the audit chain.
    pub fn audit_key(&self) -> &[u8] {
        self.crypto.audit_key.expose_secret().as_bytes()
    }

    pub fn is_production(&self) -> bool {
        self.profile == Profile::Production
    }
}

/// The defaults as a serialisable tree, so figment can layer the file and the
/// environment over them key by key.
fn defaults() -> serde_json::Value {
    serde_json::json!({
        "profile": "development",
        "listen": "127.0.0.1:8080",
        "database": {
            "url": "sqlite://./data/gov.db",
            "max_connections": 16,
            "acquire_timeout_secs": 5,
        },
        "http": {
            "body_limit_bytes": 1_048_576,
            "request_timeout_secs": 30,
            "shutdown_grace_secs": 20,
            "bench_route": false,
        },
        "log": { "level": "info,sqlx=warn", "format": "json" },
        "auth": {
            "issuer": "http://127.0.0.1:8080",
            "access_ttl_secs": 600,
            "refresh_overlap_secs": 10,
            "step_up_max_age_secs": 600,
            "pc": { "idle_secs": 1800, "absolute_secs": 36_000 },
            "mobile": { "idle_secs": 14 * 86_400, "absolute_secs": 90 * 86_400 },
            "admin": { "idle_secs": 1800, "absolute_secs": 36_000 },
            "lockout": {
                "max_failures": 5,
                "lock_secs": 1800,
                "ip_max_failures": 50,
                "ip_window_secs": 900,
            },
        },
        "suishenban": { "base_url": "", "app_key": "", "app_secret": "", "timeout_secs": 5 },
        "onenet": { "base_url": "", "app_id": "", "app_secret": "", "timeout_secs": 5 },
        "applicants": { "session_ttl_secs": 7200 },
        "disclosure": {
            "calendar_file": "",
            "notice_font": "",
            "notice_font_index": 0,
            "warn_working_days": 3,
            "watch_interval_secs": 900,
        },
        "two_pages": { "base_url": "", "app_id": "", "secret": "", "timeout_secs": 5 },
        "todo": { "base_url": "", "app_id": "", "secret": "", "timeout_secs": 5 },
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
        "notify": {
            "sms_provider": "log",
            "aliyun": {
                "endpoint": "",
                "access_key_id": "",
                "access_key_secret": "",
                "sign_name": "上海市政务服务",
                "timeout_secs": 5,
            },
            "channel_policy": {},
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
        "crypto": {
            "pii_key": DEV_PII_KEY,
            "index_key": DEV_INDEX_KEY,
            "audit_key": DEV_AUDIT_KEY,
            "signing_key": DEV_SIGNING_KEY,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = Config::load(None).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains(DEV_PII_KEY));
        assert!(!shown.contains("dev-only"));
        assert!(!shown.contains("sqlite://"));
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn production_refuses_development_keys() {
        let mut config = Config::load(None).unwrap();
        config.profile = Profile::Production;
        let err = config.check().unwrap_err().to_string();
        assert!(err.contains("crypto.pii_key"), "{err}");
    }

    #[test]
    fn production_refuses_the_bench_route() {
        let mut config = Config::load(None).unwrap();
        config.profile = Profile::Production;
        config.http.bench_route = true;
        let err = config.check().unwrap_err().to_string();
        assert!(err.contains("http.bench_route"), "{err}");
    }

    #[test]
    fn file_values_override_defaults() {
        let dir = std::env::temp_dir().join(format!("gov-config-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("gov.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9999\"\n[http]\nbody_limit_bytes = 2048\n",
        )
        .unwrap();
        let config = Config::load(Some(&file)).unwrap();
        assert_eq!(config.listen.port(), 9999);
        assert_eq!(config.http.body_limit_bytes, 2048);
        assert_eq!(config.http.request_timeout_secs, 30);
    }

    #[test]
    fn missing_file_and_wrong_types_are_refused() {
        assert!(Config::load(Some(Path::new("/nonexistent/gov.toml"))).is_err());
        let dir = std::env::temp_dir().join(format!("gov-config-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("gov.toml");
        std::fs::write(&file, "[http]\nbody_limit_bytes = \"lots\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("body_limit_bytes"), "{err}");
    }
}
