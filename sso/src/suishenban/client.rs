//! The Suishenban open-API connector.
//!
//! `POST {base}/oauth/app-token {app_key, app_secret}` gives an app access
//! token (`expires_in` seconds); `GET {base}/oauth/user-info?access_token=…&code=…`
//! exchanges a user's one-time code for their identity. Answers are HTTP 200
//! with `errcode` 0 on success. The app token is cached until five minutes
//! before it expires and fetched by one caller at a time, so a burst of
//! sign-ins costs one token request; a token the platform calls expired
//! (42001) is dropped and fetched again once.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

/// Refresh this long before the platform's stated expiry.
const EARLY: Duration = Duration::from_secs(300);

pub const ERR_BAD_CREDENTIALS: i64 = 40001;
pub const ERR_TOKEN_EXPIRED: i64 = 42001;
pub const ERR_INVALID_CODE: i64 = 40029;
pub const ERR_CODE_USED: i64 = 40163;

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The platform refused the request with an error code.
    #[error("suishenban refused: errcode {code} ({message})")]
    Rejected { code: i64, message: String },
    #[error("suishenban unreachable or answered badly: {0}")]
    Transport(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct SsbUser {
    pub user_id: String,
    pub name: String,
    pub mobile: String,
    #[serde(default)]
    pub org_code: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(flatten)]
    rest: serde_json::Value,
}

#[derive(Deserialize)]
struct AppToken {
    access_token: String,
    expires_in: u64,
}

pub struct SuishenbanClient {
    http: reqwest::Client,
    base: String,
    app_key: String,
    app_secret: SecretString,
    token: Mutex<Option<(String, Instant)>>,
}

impl SuishenbanClient {
    pub fn new(
        base: &str,
        app_key: &str,
        app_secret: SecretString,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(SuishenbanClient {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base: base.trim_end_matches('/').to_owned(),
            app_key: app_key.to_owned(),
            app_secret,
            token: Mutex::new(None),
        })
    }

    async fn call(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, ConnectorError> {
        let resp = req
            .send()
            .await
            .map_err(|e| ConnectorError::Transport(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(ConnectorError::Transport(format!("HTTP {}", resp.status())));
        }
        let body: Envelope = resp
            .json()
            .await
            .map_err(|e| ConnectorError::Transport(e.to_string()))?;
        if body.errcode != 0 {
            return Err(ConnectorError::Rejected {
                code: body.errcode,
                message: body.errmsg,
            });
        }
        Ok(body.rest)
    }

    async fn app_token(&self) -> Result<String, ConnectorError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let body = serde_json::json!({ "app_key": self.app_key, "app_secret": self.app_secret.expose_secret() });
        let value = self
            .call(
                self.http
                    .post(format!("{}/oauth/app-token", self.base))
                    .json(&body),
            )
            .await?;
        let token: AppToken =
            serde_json::from_value(value).map_err(|e| ConnectorError::Transport(e.to_string()))?;
        let until = Instant::now() + Duration::from_secs(token.expires_in).saturating_sub(EARLY);
        *cached = Some((token.access_token.clone(), until));
        Ok(token.access_token)
    }

    /// The identity behind a one-time auth code.
    pub async fn user_by_code(&self, code: &str) -> Result<SsbUser, ConnectorError> {
        for attempt in 0..2 {
            let token = self.app_token().await?;
            let req = self
                .http
                .get(format!("{}/oauth/user-info", self.base))
                .query(&[("access_token", token.as_str()), ("code", code)]);
            match self.call(req).await {
                Err(ConnectorError::Rejected {
                    code: ERR_TOKEN_EXPIRED,
                    ..
                }) if attempt == 0 => {
                    *self.token.lock().await = None;
                }
                Err(e) => return Err(e),
                Ok(value) => {
                    return serde_json::from_value(value)
                        .map_err(|e| ConnectorError::Transport(e.to_string()));
                }
            }
        }
        Err(ConnectorError::Transport("app token refused twice".into()))
    }
}
