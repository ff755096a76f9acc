//! What the three push stand-ins (APNs, FCM, Huawei) share: the books of
//! what each device received, which tokens are gone, and the faults a test
//! injected, with the test routes over them:
//!
//! - `GET {path}/messages[?token=…]`: deliveries, all or to one device;
//! - `POST {path}/gone {"token": "…"}`: the token is unregistered from now;
//! - `POST {path}/faults {"status": 503, "retry_after_secs": 1, "times": 2, …}`:
//!   the next requests fail (the provider's own fields beside those).
//!
//! Each stand-in keeps its protocol (tokens, headers, error bodies) to
//! itself.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::standin_faults::{Fault, Faults};

/// The fields of a fault of a provider that has none of its own.
#[derive(Debug, Clone, Deserialize)]
pub struct NoExtra {}

/// A delivery, known by the device token it went to.
pub trait Delivery: Serialize + Clone + Send + Sync + 'static {
    fn token(&self) -> &str;
}

pub struct Book<D, X> {
    pub delivered: Vec<D>,
    pub gone: HashSet<String>,
    pub faults: Faults<Fault<X>>,
}

/// The devices' side of a push stand-in.
pub struct Devices<D, X> {
    book: Mutex<Book<D, X>>,
}

impl<D, X> Default for Devices<D, X> {
    fn default() -> Self {
        Devices {
            book: Mutex::new(Book {
                delivered: Vec::new(),
                gone: HashSet::new(),
                faults: Faults::default(),
            }),
        }
    }
}

impl<D: Delivery, X: Clone + DeserializeOwned + Send + Sync + 'static> Devices<D, X> {
    pub fn book(&self) -> MutexGuard<'_, Book<D, X>> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fault for this request, if a test injected one, after its delay.
    pub async fn fault(&self) -> Option<(StatusCode, Fault<X>)> {
        let fault = self.book().faults.take()?;
        Some((fault.hold().await, fault))
    }

    pub fn is_gone(&self, token: &str) -> bool {
        self.book().gone.contains(token)
    }

    pub fn deliver(&self, delivery: D) {
        self.book().delivered.push(delivery);
    }

    pub fn delivered_count(&self) -> usize {
        self.book().delivered.len()
    }

    /// The test routes under `path`.
    pub fn routes<S: Clone + Send + Sync + 'static>(self: &Arc<Self>, path: &str) -> Router<S> {
        Router::new()
            .route(&format!("{path}/messages"), get(messages::<D, X>))
            .route(&format!("{path}/gone"), post(gone::<D, X>))
            .route(&format!("{path}/faults"), post(add_fault::<D, X>))
            .with_state(self.clone())
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn messages<D: Delivery, X: Clone + DeserializeOwned + Send + Sync + 'static>(
    State(d): State<Arc<Devices<D, X>>>,
    Query(q): Query<TokenQuery>,
) -> Json<Vec<D>> {
    let book = d.book();
    let to = |x: &&D| q.token.as_deref().is_none_or(|t| t == x.token());
    Json(book.delivered.iter().filter(to).cloned().collect())
}

#[derive(Deserialize)]
struct Gone {
    token: String,
}

async fn gone<D: Delivery, X: Clone + DeserializeOwned + Send + Sync + 'static>(
    State(d): State<Arc<Devices<D, X>>>,
    Json(g): Json<Gone>,
) -> StatusCode {
    d.book().gone.insert(g.token);
    StatusCode::NO_CONTENT
}

async fn add_fault<D: Delivery, X: Clone + DeserializeOwned + Send + Sync + 'static>(
    State(d): State<Arc<Devices<D, X>>>,
    Json(f): Json<Fault<X>>,
) -> StatusCode {
    let times = f.times;
    d.book().faults.push(f, times);
    StatusCode::NO_CONTENT
}
