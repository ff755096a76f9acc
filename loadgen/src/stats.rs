//! Latency samples and what the report says about them.

use serde::Serialize;

/// What one scenario measured.
#[derive(Debug, Default, Serialize)]
pub struct Figures {
    pub users: usize,
    /// Completed operations (a sign-in or an approval counts once).
    pub requests: u64,
    /// HTTP requests those operations made.
    pub http_requests: u64,
    pub errors: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub ratio_to_baseline: Option<f64>,
    /// Server resident memory after the scenario.
    pub server_rss_mb: Option<f64>,
    /// The first few errors, as the server answered them.
    pub error_samples: Vec<String>,
}

/// Per-user results, merged into [`Figures`].
#[derive(Default)]
pub struct Samples {
    pub micros: Vec<u32>,
    pub http_requests: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

impl Samples {
    pub fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 3 {
            self.error_samples.push(what);
        }
    }

    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.http_requests += other.http_requests;
        self.errors += other.errors;
        for e in other.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(e);
            }
        }
    }

    pub fn figures(mut self, users: usize, seconds: f64) -> Figures {
        self.micros.sort_unstable();
        let at = |p: f64| -> f64 {
            if self.micros.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * (self.micros.len() - 1) as f64).round() as usize;
            f64::from(self.micros[rank.min(self.micros.len() - 1)]) / 1000.0
        };
        Figures {
            users,
            requests: self.micros.len() as u64,
            http_requests: self.http_requests,
            errors: self.errors,
            rps: self.micros.len() as f64 / seconds,
            p50_ms: at(50.0),
            p95_ms: at(95.0),
            p99_ms: at(99.0),
            max_ms: at(100.0),
            error_samples: self.error_samples,
            ..Figures::default()
        }
    }
}

/// Peak and current resident memory of a process, in MiB (Linux).
pub fn memory_mb(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}
