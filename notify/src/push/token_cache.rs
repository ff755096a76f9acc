//! OAuth access tokens of the push providers (FCM's service-account
//! exchange, Huawei's client credentials): fetched by one caller at a time,
//! so a burst of sends costs one token request, and kept until five minutes
//! before they expire.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::provider::{SendError, retry_after};

const EARLY: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Default)]
pub struct TokenCache {
    cached: Mutex<Option<(String, Instant)>>,
}

fn transient(reason: String, retry_after: Option<Duration>) -> SendError {
    SendError::Transient {
        reason,
        retry_after,
    }
}

impl TokenCache {
    /// Forgets the token (the provider said it lapsed).
    pub async fn clear(&self) {
        *self.cached.lock().await = None;
    }

    /// The cached token, or a new one: `form` (built only when needed, e.g.
    /// a freshly signed assertion) is POSTed to `url`, which answers
    /// `{access_token, expires_in}`.
    pub async fn get(
        &self,
        http: &reqwest::Client,
        url: &str,
        form: impl FnOnce() -> Result<Vec<(&'static str, String)>, SendError>,
    ) -> Result<String, SendError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let resp = http.post(url).form(&form()?).send().await.map_err(|e| {
            transient(
                format!("token endpoint unreachable: {}", e.without_url()),
                None,
            )
        })?;
        if !resp.status().is_success() {
            return Err(transient(
                format!("token endpoint HTTP {}", resp.status()),
                retry_after(resp.headers()),
            ));
        }
        let answer: TokenAnswer = resp
            .json()
            .await
            .map_err(|e| transient(e.to_string(), None))?;
        let until = Instant::now() + Duration::from_secs(answer.expires_in).saturating_sub(EARLY);
        *cached = Some((answer.access_token.clone(), until));
        Ok(answer.access_token)
    }
}
