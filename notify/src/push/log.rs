//! The log provider for push (`notify.push_delivery = "log"`): each push is
//! written to the log (device row, title; never the token) and marked sent,
//! under the name of the provider it would have gone to.

use crate::provider::{Outgoing, Provider, SendFuture};

pub struct LogPush {
    pub name: &'static str,
}

impl Provider for LogPush {
    fn name(&self) -> &'static str {
        self.name
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            let device = msg.payload["device"].as_str().unwrap_or_default();
            let title = msg.payload["title"].as_str().unwrap_or_default();
            tracing::info!(outbox_id = %msg.id, kind = %msg.kind, provider = self.name, device = %device,
                title = %title, "push not delivered: log provider");
            Ok(format!("log-{}", msg.id))
        })
    }
}
