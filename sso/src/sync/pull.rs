//! Pulling the platform's change feed: `GET {base}/org/changes?since=P&limit=N`
//! answers `{changes, next, has_more}`; `since=0` reads from the beginning
//! (a full sync). The position is saved after each page, so an interrupted
//! pull resumes where it stopped; a page read twice changes nothing, since
//! changes apply once by id.

use std::time::Duration;

use api::clock;
use api::error::{ApiError, ApiResult};
use api::on_db;
use api::state::AppState;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use super::{Change, ChangeOutcome, apply_batch};

pub const FEED: &str = "unified-platform-org";

pub struct FeedClient {
    http: reqwest::Client,
    base: String,
    app_key: String,
    secret: SecretString,
    page_size: u32,
}

#[derive(Deserialize)]
struct Page {
    changes: Vec<Change>,
    next: String,
    has_more: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PullSummary {
    pub pages: u32,
    pub applied: usize,
    pub duplicate: usize,
    pub stale: usize,
    pub rejected: usize,
    pub position: String,
}

impl FeedClient {
    pub fn new(
        base: &str,
        app_key: &str,
        secret: SecretString,
        page_size: u32,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(FeedClient {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base: base.trim_end_matches('/').to_owned(),
            app_key: app_key.to_owned(),
            secret,
            page_size,
        })
    }

    async fn page(&self, since: &str) -> anyhow::Result<Page> {
        let mut url = reqwest::Url::parse(&format!("{}/org/changes", self.base))?;
        url.query_pairs_mut()
            .append_pair("since", since)
            .append_pair("limit", &self.page_size.to_string());
        let path_and_query = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let ts = clock::now().unix_timestamp();
        let payload = format!("GET {path_and_query}");
        let sig = sign(
            self.secret.expose_secret().as_bytes(),
            ts,
            payload.as_bytes(),
        );
        let resp = self
            .http
            .get(url)
            .header("x-app-key", &self.app_key)
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, sig)
            .send()
            .await?;
        if !resp.status().is_success() {
            anyhow::bail!("org feed answered HTTP {}", resp.status());
        }
        Ok(resp.json().await?)
    }
}

/// Reads the feed to its end from the saved position (or from the start
/// when `full`), applying each page.
pub async fn pull(app: &AppState, client: &FeedClient, full: bool) -> ApiResult<PullSummary> {
    const GET: &str = "SELECT position FROM sync_cursors WHERE feed = $1";
    const SAVE: &str = "INSERT INTO sync_cursors (feed, position, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (feed) DO UPDATE SET position = $2, updated_at = $3";
    let saved: Option<String> =
        on_db!(&app.db, p => sqlx::query_scalar(GET).bind(FEED).fetch_optional(p).await)?;
    let mut position = if full {
        "0".to_owned()
    } else {
        saved.unwrap_or_else(|| "0".to_owned())
    };
    let mut summary = PullSummary::default();
    loop {
        let page = client.page(&position).await.map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "pulling the org feed");
            ApiError::Unavailable
        })?;
        let results = apply_batch(app, "pull", &page.changes).await?;
        for r in &results {
            match r.result {
                ChangeOutcome::Applied => summary.applied += 1,
                ChangeOutcome::Duplicate => summary.duplicate += 1,
                ChangeOutcome::Stale => summary.stale += 1,
                ChangeOutcome::Rejected => summary.rejected += 1,
            }
        }
        position = page.next;
        on_db!(&app.db, p => sqlx::query(SAVE).bind(FEED).bind(&position).bind(clock::now()).execute(p).await.map(|_| ()))?;
        summary.pages += 1;
        if !page.has_more || page.changes.is_empty() {
            break;
        }
    }
    summary.position = position;
    Ok(summary)
}

/// Pulls the feed every `interval`, for as long as the server runs.
pub fn schedule(app: AppState, client: FeedClient, interval: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match pull(&app, &client, false).await {
                Ok(s) => {
                    tracing::info!(applied = s.applied, rejected = s.rejected, position = %s.position, "org sync pulled")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled org sync failed; retrying at the next interval")
                }
            }
        }
    });
}
