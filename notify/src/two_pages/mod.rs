//! The "two pages" connector (XT-01): delivers case milestones, queued in
//! the outbox by `api::disclosure::two_pages`, to the citizen homepage and
//! company page platform.
//!
//! `POST {base}/api/v1/milestones` with the milestone as JSON, signed as in
//! `crate::connector` with headers prefixed `X-TwoPages`.
//! Format: docs/integration/two-pages.md.

#[cfg(feature = "stand-ins")]
pub mod standin;

use std::time::Duration;

use secrecy::SecretString;

use crate::connector::SignedConnector;

pub const HEADER_PREFIX: &str = "x-twopages";

/// The provider that delivers milestones.
pub fn provider(
    base: &str,
    app_id: &str,
    secret: SecretString,
    timeout: Duration,
) -> anyhow::Result<SignedConnector> {
    SignedConnector::new(
        api::disclosure::two_pages::PROVIDER,
        format!("{}/api/v1/milestones", base.trim_end_matches('/')),
        HEADER_PREFIX,
        app_id,
        secret,
        timeout,
    )
}
