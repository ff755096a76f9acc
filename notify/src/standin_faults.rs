//! Failures a test injects into a stand-in: each fault applies to the next
//! `times` requests, in the order they were injected; [`Fault`] is the shape
//! every stand-in accepts, with the provider's own fields beside it.

use std::collections::VecDeque;

pub struct Faults<F> {
    queue: VecDeque<(F, u32)>,
}

impl<F> Default for Faults<F> {
    fn default() -> Self {
        Faults {
            queue: VecDeque::new(),
        }
    }
}

impl<F: Clone> Faults<F> {
    pub fn push(&mut self, fault: F, times: u32) {
        if times > 0 {
            self.queue.push_back((fault, times));
        }
    }

    /// The fault for this request, if any is left.
    pub fn take(&mut self) -> Option<F> {
        let (fault, left) = self.queue.front_mut()?;
        let fault = fault.clone();
        *left -= 1;
        if *left == 0 {
            self.queue.pop_front();
        }
        Some(fault)
    }
}

/// An injected failure as a test posts it: the status to answer, an
/// optional `Retry-After`, an optional delay before answering (a provider
/// too slow to wait for), how many requests it applies to, and the
/// provider's own fields (`reason`, `error_code`) in `extra`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Fault<X> {
    pub status: u16,
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    pub times: u32,
    #[serde(flatten)]
    pub extra: X,
}

impl<X> Fault<X> {
    /// Waits the fault's delay; answers the status to send.
    pub async fn hold(&self) -> axum::http::StatusCode {
        if let Some(ms) = self.delay_ms {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        axum::http::StatusCode::from_u16(self.status)
            .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE)
    }

    /// `resp` (the provider's error body) with the fault's `Retry-After`.
    pub fn finish(&self, mut resp: axum::response::Response) -> axum::response::Response {
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_as_many_times_as_asked() {
        let mut f = Faults::default();
        f.push('a', 2);
        f.push('b', 1);
        f.push('c', 0);
        assert_eq!(
            [f.take(), f.take(), f.take(), f.take()],
            [Some('a'), Some('a'), Some('b'), None]
        );
    }
}
