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
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::HEADER_PREFIX;
use crate::standin_faults::Faults;

pub const PATH: &str = "/stand-in/todo";
pub const DEMO_APP_ID: &str = "demo-gov-todo";
pub const DEMO_SECRET: &str = "demo-gov-todo-secret";

#[derive(Clone, Deserialize)]
struct Fault {
    status: u16,
    #[serde(default)]
    retry_after_secs: Option<u64>,
    times: u32,
}

#[derive(Default)]
struct Books {
    items: BTreeMap<String, Value>,
    seen: HashSet<String>,
    faults: Faults<Fault>,
}

pub struct StandIn {
    app_id: String,
    secret: String,
    books: Mutex<Books>,
}

impl StandIn {
    pub fn new(app_id: &str, secret: &str) -> Arc<Self> {
        Arc::new(StandIn {
            app_id: app_id.to_owned(),
            secret: secret.to_owned(),
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

fn answer(code: &str, msg: &str) -> Response {
    Json(json!({ "code": code, "msg": msg })).into_response()
}

async fn receive(State(s): State<Arc<StandIn>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(f) = s.books().faults.take() {
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut resp = (status, "stand-in fault").into_response();
        if let Some(secs) = f.retry_after_secs {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return resp;
    }
    let [app_id, timestamp, signature] = crate::connector::headers(HEADER_PREFIX);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header(&app_id) != Some(s.app_id.as_str()) {
        return answer("10001", "应用不存在");
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = api::crypto::signed_request::verify(
        s.secret.as_bytes(),
        header(&timestamp),
        header(&signature),
        &body,
        now,
    );
    if signed.is_err() {
        return answer("10003", "签名校验失败");
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return answer("20002", "报文格式错误");
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

async fn add_fault(State(s): State<Arc<StandIn>>, Json(f): Json<Fault>) -> StatusCode {
    s.books().faults.push(f.clone(), f.times);
    StatusCode::NO_CONTENT
}
