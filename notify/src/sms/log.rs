//! The log provider: for operators who want no delivery at all. Each
//! message is written to the log (recipient masked, parameters left out,
//! since they may hold a code) and marked sent in the outbox table, where
//! the admin view shows it.

use crate::provider::{Outgoing, Provider, SendFuture};

pub struct LogSms;

impl Provider for LogSms {
    fn name(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            let to = api::pii::mask_phone(msg.payload["phone"].as_str().unwrap_or_default());
            tracing::info!(outbox_id = %msg.id, kind = %msg.kind, to = %to, "SMS not delivered: log provider");
            Ok(format!("log-{}", msg.id))
        })
    }
}
