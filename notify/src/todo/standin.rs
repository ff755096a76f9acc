//! The unified to-do stand-in: checks the app id and the signature, applies
//! each event once (by `event_id`) to its item, and refuses what the
//! platform refuses: completing or cancelling an item it does not have, or
//! one already closed. Demo mode mounts it under `/stand-in/todo`.
//!
//! `GET /stand-in/todo/items?assignee=…` shows a person's items with their
//! state and the actions applied; `POST /stand-in/todo/faults {"status": 503,
//! "retry_after_secs": 1, "times": 2}` makes the next requests fail.

use std::collections::{BTreeMap, HashSet};
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

pub const PATH: &str = "/stand-in/todo";
pub const DEMO_APP_ID: &str = "demo-gov-todo";
pub const DEMO_SECRET: &str = "demo-gov-todo-secret";

#[derive(Default)]
struct Books {
    items: BTreeMap<String, Value>,
    seen: HashSet<String>,
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
        .route(&format!("{PATH}/api/v1/todo/events"), post(receive))
        .route(&format!("{PATH}/items"), get(items))
        .route(&format!("{PATH}/faults"), post(add_fault))
        .with_state(standin)
}

async fn receive(State(s): State<Arc<StandIn>>, headers: HeaderMap, body: Bytes) -> Response {
    let event = match s.gate.admit(&headers, &body) {
        Ok(event) => event,
        Err(refusal) => return *refusal,
    };
    let (Some(event_id), Some(action), Some(item_id)) = (
        event["event_id"].as_str(),
        event["action"].as_str(),
        event["item"]["id"].as_str(),
    ) else {
        return answer("20002", "报文缺少必填字段");
    };
    let mut books = s.books();
    if !books.seen.insert(event_id.to_owned()) {
        return answer("0", "成功");
    }
    let current = books.items.get(item_id).map(|i| i["state"].clone());
    match (action, current.as_ref().and_then(Value::as_str)) {
        ("create", None) => {
            let mut item = event["item"].clone();
            item["actions"] = json!(["create"]);
            books.items.insert(item_id.to_owned(), item);
        }
        ("complete" | "cancel", Some("pending")) => {
            if let Some(item) = books.items.get_mut(item_id) {
                item["state"] = event["item"]["state"].clone();
                if let Some(list) = item["actions"].as_array_mut() {
                    list.push(json!(action));
                }
            }
        }
        ("create", Some(_)) => return answer("20004", "待办已存在"),
        (_, None) => return answer("20003", "待办不存在"),
        _ => return answer("20005", "待办已办结"),
    }
    answer("0", "成功")
}

#[derive(Deserialize)]
struct Filter {
    assignee: Option<String>,
}

async fn items(State(s): State<Arc<StandIn>>, Query(f): Query<Filter>) -> Json<Value> {
    let books = s.books();
    let list: Vec<&Value> = books
        .items
        .values()
        .filter(|i| f.assignee.as_deref().is_none_or(|a| i["assignee"] == a))
        .collect();
    Json(json!({ "items": list }))
}

async fn add_fault(State(s): State<Arc<StandIn>>, Json(f): Json<HttpFault>) -> StatusCode {
    s.gate.add_fault(f);
    StatusCode::NO_CONTENT
}
