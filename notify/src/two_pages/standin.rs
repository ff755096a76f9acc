//! The "two pages" stand-in: checks the app id, the signature and its
//! freshness, keeps each milestone once (by `event_id`), and can be told to
//! fail. Demo mode mounts it under `/stand-in/two-pages`.
//!
//! `GET /stand-in/two-pages/milestones?onenet_uid=…` shows what a person's
//! or company's page holds, in arrival order;
//! `POST /stand-in/two-pages/faults {"status": 503, "retry_after_secs": 1, "times": 2}`
//! makes the next requests fail that way.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::HEADER_PREFIX;
use crate::connector_standin::{Gate, HttpFault, answer};

pub const PATH: &str = "/stand-in/two-pages";
pub const DEMO_APP_ID: &str = "demo-gov-two-pages";
pub const DEMO_SECRET: &str = "demo-gov-two-pages-secret";

#[derive(Default)]
struct Books {
    received: Vec<Value>,
    seen: HashSet<String>,
    requests: u64,
}

pub struct StandIn {
    gate: Gate,
    books: Mutex<Books>,
}

impl StandIn {
    pub fn new(app_id: &str, secret: &str) -> Arc<Self> {
        Arc::new(StandIn {
            gate: Gate::new(app_id, secret, HEADER_PREFIX),
            books: Mutex::new(Books::default()),
        })
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>(standin: Arc<StandIn>) -> Router<S> {
    Router::new()
        .route(&format!("{PATH}/api/v1/milestones"), post(receive))
        .route(&format!("{PATH}/milestones"), get(milestones))
        .route(&format!("{PATH}/faults"), post(add_fault))
        .with_state(standin)
}

async fn receive(State(s): State<Arc<StandIn>>, headers: HeaderMap, body: Bytes) -> Response {
    s.books().requests += 1;
    let milestone = match s.gate.admit(&headers, &body) {
        Ok(m) => m,
        Err(refusal) => return *refusal,
    };
    let required = [
        "event_id",
        "page",
        "onenet_uid",
        "case_no",
        "milestone",
        "occurred_at",
    ];
    if required.iter().any(|k| !milestone[k].is_string()) {
        return answer("20002", "报文缺少必填字段");
    }
    let mut books = s.books();
    let id = milestone["event_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if books.seen.insert(id) {
        books.received.push(milestone);
    }
    answer("0", "成功")
}

#[derive(Deserialize)]
struct Filter {
    onenet_uid: Option<String>,
}

async fn milestones(State(s): State<Arc<StandIn>>, Query(f): Query<Filter>) -> Json<Value> {
    let books = s.books();
    let list: Vec<&Value> = books
        .received
        .iter()
        .filter(|m| f.onenet_uid.as_deref().is_none_or(|u| m["onenet_uid"] == u))
        .collect();
    Json(json!({ "milestones": list, "requests": books.requests }))
}

async fn add_fault(State(s): State<Arc<StandIn>>, Json(f): Json<HttpFault>) -> StatusCode {
    s.gate.add_fault(f);
    StatusCode::NO_CONTENT
}
