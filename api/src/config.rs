//! Configuration: defaults, a TOML file, then environment overrides, into
//! typed values. There is no global config: the composition root loads it
//! once and hands each crate its section.
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
use serde::de::DeserializeOwned;
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

/// The core's configuration: what every crate shares. Each crate's own
/// section (`sso::SsoConfig`, `notify::NotifyConfig`) lives with that crate
/// and is read from the same [`Sources`] by the composition root.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub profile: Profile,
    pub listen: SocketAddr,
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub crypto: CryptoConfig,
    pub auth: AuthConfig,
    pub disclosure: DisclosureConfig,
    pub forms: FormsConfig,
    pub legal: LegalConfig,
    pub files: FilesConfig,
    /// The enqueue side's part of `[notify]`; the rest of that table is the
    /// notify crate's.
    pub notify: DeliveryPolicy,
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
    /// With `--demo`, also load last year's register (concluded cases across
    /// every result category, for the annual report): api/src/demo/last_year.rs;
    /// and the clean-up campaigns under way: api/src/demo/cleanup.rs.
    pub demo_history: bool,
    /// How often the deadline watch runs; 0 turns it off.
    pub watch_interval_secs: u64,
    /// How often each instance re-reads the calendar years imported at run
    /// time (an import on another instance takes effect here within it).
    pub calendar_refresh_secs: u64,
    /// From this day of the year (`MM-DD`), while next year's holiday
    /// arrangement is not loaded, the system administrators are reminded
    /// weekly. Empty: never.
    pub calendar_reminder_from: String,
}

/// Uploaded files (form attachments, warning replies' files): one store
/// for every module.
#[derive(Debug, Clone, Deserialize)]
pub struct FilesConfig {
    /// A local directory, or `s3://bucket/prefix` (then `s3_endpoint` and
    /// the credentials below apply).
    pub store: String,
    /// An S3-compatible endpoint (e.g. a MinIO on the government cloud);
    /// empty: AWS's.
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: secrecy::SecretString,
    /// The largest file accepted.
    pub max_bytes: u64,
}

/// Legal affairs (FW-01 onwards).
#[derive(Debug, Clone, Deserialize)]
pub struct LegalConfig {
    /// Reporting officers are reminded this many days before a clean-up
    /// campaign's deadline (and once more the day after it), and before an
    /// assessment's deadline for material.
    pub remind_days_before: u32,
    /// Which network this server serves for filings (备案): `internet`
    /// (units report), `internal` (the office reviews), or `single` (one
    /// network, no air gap). docs/legal-affairs.md.
    pub filing_side: FilingSide,
    /// Public keys (PEM, one after another) of the other side's signing
    /// service, whose data packages this side imports; this server's own
    /// key is trusted too.
    pub filing_peers: String,
    /// The largest package file taken, refused before it is unpacked.
    pub max_package_bytes: u64,
    /// The most a package may unpack to, all its files together: a zip
    /// that inflates beyond it is refused whole (no zip bomb).
    pub max_unpacked_bytes: u64,
    /// HMAC-SM3 secret shared with the unified office platforms that push
    /// official-document filings; empty: the intake answers 503.
    pub intake_secret: SecretString,
}

impl LegalConfig {
    /// Sets the intake secret when none is configured (demo mode, whose
    /// stand-in platform signs with `secret`).
    pub fn intake_secret_or(&mut self, secret: &str) {
        if self.intake_secret.expose_secret().is_empty() {
            self.intake_secret = SecretString::from(secret.to_owned());
        }
    }
}

crate::text_enum! {
    /// The network a server serves for filings.
    pub enum FilingSide {
        Internet = "internet",
        Internal = "internal",
        Single = "single",
    }
}

/// Online forms (GK-11 to GK-13).
#[derive(Debug, Clone, Deserialize)]
pub struct FormsConfig {
    /// Fillers are reminded this many days before a form's deadline.
    pub remind_days_before: u32,
    /// The most units one distribution may reach.
    pub max_units_per_distribution: usize,
}

/// What the enqueue side of the outbox needs of `[notify]`: which SMS
/// provider a message is queued for (the dispatcher claims only rows of the
/// providers it has), and how each kind of notification travels.
#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryPolicy {
    /// `aliyun`, or `log` (write to the log and mark sent: no delivery).
    pub sms_provider: SmsProvider,
    /// Per notification kind: `push_then_sms` (the default for kinds not
    /// listed), `push_only` or `sms_only`.
    pub channel_policy: std::collections::BTreeMap<String, crate::outbox::push::ChannelPolicy>,
}

crate::text_enum! {
    /// Which SMS provider messages are queued for.
    pub enum SmsProvider {
        Aliyun = "aliyun",
        /// Written to the log and marked sent: no delivery.
        Log = "log",
    }
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

/// Where the configuration comes from, layered key by key: the defaults of
/// the core and of each crate, then the TOML file (if given), then the
/// environment. Each crate extracts its own section from it.
#[derive(Clone)]
pub struct Sources(Figment);

impl Sources {
    /// `sections`: the other crates' defaults, as trees like [`defaults`].
    pub fn load(file: Option<&Path>, sections: &[serde_json::Value]) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(defaults()));
        for section in sections {
            fig = fig.join(Serialized::defaults(section));
        }
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
        Ok(Sources(fig))
    }

    /// A section (a struct naming the top-level keys it reads; the others
    /// are left to their owners). Errors name the key.
    pub fn extract<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.0
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// The core's configuration, checked.
    pub fn core(&self) -> Result<Config, ConfigError> {
        let config: Config = self.extract()?;
        config.check()?;
        Ok(config)
    }
}

fn invalid(why: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(why.into())
}

impl Config {
    /// The core's configuration alone (no other crate's defaults).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Sources::load(file, &[])?.core()
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.http.body_limit_bytes == 0 || self.database.max_connections == 0 {
            return Err(invalid(
                "http.body_limit_bytes and database.max_connections must be positive",
            ));
        }
        if self.auth.refresh_overlap_secs > 10 {
            return Err(invalid("auth.refresh_overlap_secs may be at most 10"));
        }
        if self.profile == Profile::Production && self.http.bench_route {
            return Err(invalid(
                "http.bench_route serves data without authentication; the production profile refuses it",
            ));
        }
        if self.profile == Profile::Production {
            self.check_production_keys()?;
        }
        Ok(())
    }

    fn check_production_keys(&self) -> Result<(), ConfigError> {
        let c = &self.crypto;
        let dev = [
            (&c.pii_key, DEV_PII_KEY, "crypto.pii_key"),
            (&c.index_key, DEV_INDEX_KEY, "crypto.index_key"),
            (&c.audit_key, DEV_AUDIT_KEY, "crypto.audit_key"),
            (&c.signing_key, DEV_SIGNING_KEY, "crypto.signing_key"),
        ];
        match dev.iter().find(|(v, d, _)| v.expose_secret() == *d) {
            Some((_, _, key)) => Err(invalid(format!(
                "{key} still has the development value; the production profile needs its own key"
            ))),
            None => Ok(()),
        }
    }

    /// The HMAC-SM3 key of the audit chain.
    pub fn audit_key(&self) -> &[u8] {
        self.crypto.audit_key.expose_secret().as_bytes()
    }

    pub fn is_production(&self) -> bool {
        self.profile == Profile::Production
    }
}

/// The core's defaults as a serialisable tree, so figment can layer the
/// file and the environment over them key by key.
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
        "disclosure": {
            "calendar_file": "",
            "notice_font": "",
            "notice_font_index": 0,
            "warn_working_days": 3,
            "demo_history": true,
            "watch_interval_secs": 900,
            "calendar_refresh_secs": 30,
            "calendar_reminder_from": "11-01",
        },
        "files": {
            "store": "./data/attachments",
            "s3_endpoint": "",
            "s3_region": "cn-east-1",
            "s3_access_key_id": "",
            "s3_secret_access_key": "",
            "max_bytes": 10 * 1024 * 1024,
        },
        "forms": {
            "remind_days_before": 2,
            "max_units_per_distribution": 2000,
        },
        "legal": {
            "remind_days_before": 3,
            "filing_side": "single",
            "filing_peers": "",
            "max_package_bytes": 64 * 1024 * 1024,
            "max_unpacked_bytes": 256 * 1024 * 1024,
            "intake_secret": "",
        },
        "notify": { "sms_provider": "log", "channel_policy": {} },
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
