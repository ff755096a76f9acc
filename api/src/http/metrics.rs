//! Prometheus metrics: request counts and latency per route. Routes are
//! labelled by their template (`/api/v1/org/units/{id}`), never the raw path,
//! so the label set stays bounded whatever clients send.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: String,
    route: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    pub outbox: OutboxMetrics,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    channel: String,
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

/// The outbox dispatcher's figures, per channel and provider.
pub struct OutboxMetrics {
    sent: Family<DeliveryLabels, Counter>,
    failed: Family<DeliveryLabels, Counter>,
    retried: Family<DeliveryLabels, Counter>,
    dead: Family<DeliveryLabels, Counter>,
    /// From enqueue to the provider's acceptance.
    latency: Family<DeliveryLabels, Histogram, fn() -> Histogram>,
    backlog: Family<StatusLabels, prometheus_client::metrics::gauge::Gauge>,
}

fn labels(channel: &str, provider: &str) -> DeliveryLabels {
    DeliveryLabels {
        channel: channel.to_owned(),
        provider: provider.to_owned(),
    }
}

impl OutboxMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = OutboxMetrics {
            sent: Family::default(),
            failed: Family::default(),
            retried: Family::default(),
            dead: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            backlog: Family::default(),
        };
        registry.register(
            "outbox_sent",
            "Messages the provider accepted",
            m.sent.clone(),
        );
        registry.register(
            "outbox_failed",
            "Messages failed permanently",
            m.failed.clone(),
        );
        registry.register(
            "outbox_retried",
            "Transient failures scheduled for retry",
            m.retried.clone(),
        );
        registry.register(
            "outbox_dead",
            "Messages dead-lettered at expiry",
            m.dead.clone(),
        );
        registry.register(
            "outbox_delivery_seconds",
            "Time from enqueue to the provider's acceptance",
            m.latency.clone(),
        );
        registry.register(
            "outbox_messages",
            "Outbox rows by status",
            m.backlog.clone(),
        );
        m
    }

    pub fn sent(&self, channel: &str, provider: &str, latency_secs: f64) {
        self.sent.get_or_create(&labels(channel, provider)).inc();
        self.latency
            .get_or_create(&labels(channel, provider))
            .observe(latency_secs);
    }

    pub fn failed(&self, channel: &str, provider: &str) {
        self.failed.get_or_create(&labels(channel, provider)).inc();
    }

    pub fn retried(&self, channel: &str, provider: &str) {
        self.retried.get_or_create(&labels(channel, provider)).inc();
    }

    pub fn dead(&self, channel: &str, provider: &str) {
        self.dead.get_or_create(&labels(channel, provider)).inc();
    }

    pub fn set_backlog(&self, status: &str, n: i64) {
        self.backlog
            .get_or_create(&StatusLabels {
                status: status.to_owned(),
            })
            .set(n);
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gov");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<LatencyLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response head",
            latency.clone(),
        );
        let outbox = OutboxMetrics::register(&mut registry);
        Metrics {
            registry,
            requests,
            latency,
            outbox,
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&LatencyLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
