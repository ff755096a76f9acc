//! The state every handler receives: cheap to clone (all shared parts are
//! behind `Arc`s or are pools).

use std::sync::Arc;

use anyhow::Context;

use crate::authz::Authenticator;
use crate::calendar::WorkCalendar;
use crate::calendar::live::LiveCalendar;
use crate::config::Config;
use crate::db::Db;
use crate::http::metrics::Metrics;
use crate::pdf::CjkFont;
use crate::pii::PiiCipher;
use crate::seal::adapter::{LocalSignService, SignService};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub pii: Arc<PiiCipher>,
    pub authn: Authenticator,
    pub metrics: Arc<Metrics>,
    /// The OpenAPI document, rendered once at start.
    pub openapi: Arc<str>,
    /// Wakes this process's outbox dispatcher after a commit that queued
    /// messages (other instances hear PostgreSQL's NOTIFY, or poll).
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// The Shanghai working-day calendar for statutory deadlines; read it
    /// through [`AppState::calendar`].
    pub live_calendar: Arc<LiveCalendar>,
    /// The CJK font notices are set in; None when the machine has none
    /// (PDF downloads then answer 503).
    pub notice_font: Option<CjkFont>,
    /// The signing, e-seal and time-stamp services (SEC-08).
    pub signer: Arc<dyn SignService>,
    /// Where uploaded files are kept (`files.store`, [`crate::files`]).
    pub files: Arc<dyn object_store::ObjectStore>,
}

impl AppState {
    /// The core's state from its configuration: the signing service, the
    /// working-day calendar and the notices' font; `authn` comes from the
    /// identity crate, `openapi` from the composition root.
    pub fn build(
        config: Config,
        db: Db,
        pii: Arc<PiiCipher>,
        authn: Authenticator,
        openapi: Arc<str>,
    ) -> anyhow::Result<AppState> {
        let signer = LocalSignService::from_config(&config.crypto)
            .map_err(|e| anyhow::anyhow!("crypto.signing_key: {e}"))?;
        let d = &config.disclosure;
        let calendar = WorkCalendar::from_file(&d.calendar_file)?;
        let notice_font = CjkFont::load(&d.notice_font, d.notice_font_index);
        if notice_font.is_none() {
            tracing::warn!(
                "no CJK font for PDF notices (install fonts-wqy-microhei or set disclosure.notice_font): notice downloads answer 503"
            );
        }
        let files = crate::files::open_store(&config.files)?;
        Ok(AppState {
            files,
            signer: Arc::new(signer),
            notice_font,
            live_calendar: Arc::new(LiveCalendar::new(calendar)),
            db,
            authn,
            config: Arc::new(config),
            pii,
            metrics: Arc::new(Metrics::new()),
            openapi,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// The calendar as it is now (years imported at run time included).
    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.live_calendar.get()
    }

    pub fn audit_key(&self) -> &[u8] {
        self.config.audit_key()
    }
}

impl PiiCipher {
    /// The cipher and blind-index keys of `crypto`.
    pub fn from_config(c: &crate::config::CryptoConfig) -> anyhow::Result<Arc<PiiCipher>> {
        let cipher = PiiCipher::new(&c.pii_key, c.index_key.clone()).context("crypto.pii_key")?;
        Ok(Arc::new(cipher))
    }
}
