//! The unified to-do connector (GK-03): delivers to-do items' create,
//! complete and cancel, queued in the outbox by `api::todo` (in order
//! per item), to the unified office platform.
//!
//! `POST {base}/api/v1/todo/events` with the event as JSON, signed as in
//! `crate::connector` with headers prefixed `X-Todo`.
//! Format: docs/integration/todo.md.

#[cfg(feature = "stand-ins")]
pub mod standin;

use std::time::Duration;

use secrecy::SecretString;

use crate::connector::SignedConnector;

pub const HEADER_PREFIX: &str = "x-todo";

/// The provider that delivers to-do events.
pub fn provider(
    base: &str,
    app_id: &str,
    secret: SecretString,
    timeout: Duration,
) -> anyhow::Result<SignedConnector> {
    SignedConnector::new(
        api::todo::PROVIDER,
        format!("{}/api/v1/todo/events", base.trim_end_matches('/')),
        HEADER_PREFIX,
        app_id,
        secret,
        timeout,
    )
}
