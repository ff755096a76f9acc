//! The state every handler receives: cheap to clone (all shared parts are
//! behind `Arc`s or are pools).

use std::sync::Arc;

use crate::authz::Authenticator;
use crate::config::Config;
use crate::db::Db;
use crate::http::metrics::Metrics;
use crate::pii::PiiCipher;

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
    /// The Shanghai working-day calendar for statutory deadlines.
    pub calendar: Arc<crate::calendar::WorkCalendar>,
    /// The CJK font notices are set in; None when the machine has none
    /// (PDF downloads then answer 503).
    pub notice_font: Option<crate::disclosure::pdf::NoticeFont>,
    /// The signing, e-seal and time-stamp services (SEC-08).
    pub signer: Arc<dyn crate::seal::adapter::SignService>,
}

impl AppState {
    pub fn audit_key(&self) -> &[u8] {
        self.config.audit_key()
    }
}
