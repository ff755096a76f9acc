//! The one-net service stand-in: checks what the real service checks (app
//! id, request signature and its freshness, tickets: single use, five
//! minutes), answers the same codes, and holds demo citizens and companies.
//! Demo mode mounts it in-process under `/stand-in/onenet`.
//!
//! A person or a test plays the applicant signing in at the portal:
//! `POST /stand-in/onenet/tickets {"uid": "<demo uid>"}` answers the ticket
//! the portal would hand the H5 page. `GET /stand-in/onenet/people` lists the
//! demo uids.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    ERR_BAD_APP, ERR_BAD_SIGNATURE, ERR_BAD_TICKET, OneNetProfile, SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
};

pub const PATH: &str = "/stand-in/onenet";
pub const DEMO_APP_ID: &str = "demo-gov-onenet";
pub const DEMO_APP_SECRET: &str = "demo-gov-onenet-secret";
const TICKET_TTL: Duration = Duration::from_secs(300);

struct Ticket {
    uid: String,
    expires: Instant,
    used: bool,
}

pub struct StandIn {
    app_id: String,
    secret: String,
    people: HashMap<String, OneNetProfile>,
    tickets: Mutex<HashMap<String, Ticket>>,
}

fn person(uid: &str, name: &str, cert_no: &str, mobile: &str, address: &str) -> OneNetProfile {
    OneNetProfile {
        uid: uid.into(),
        user_type: "person".into(),
        name: Some(name.into()),
        cert_type: Some("111".into()),
        cert_no: Some(cert_no.into()),
        mobile: Some(mobile.into()),
        address: Some(address.into()),
        org_name: None,
        uscc: None,
        legal_person: None,
        contact_name: None,
        contact_mobile: None,
    }
}

fn company(
    uid: &str,
    name: &str,
    uscc: &str,
    legal: &str,
    contact: &str,
    mobile: &str,
) -> OneNetProfile {
    OneNetProfile {
        uid: uid.into(),
        user_type: "legal".into(),
        name: None,
        cert_type: None,
        cert_no: None,
        mobile: None,
        address: None,
        org_name: Some(name.into()),
        uscc: Some(uscc.into()),
        legal_person: Some(legal.into()),
        contact_name: Some(contact.into()),
        contact_mobile: Some(mobile.into()),
    }
}

/// Demo applicants: fictitious people and companies whose ID numbers and
/// credit codes carry valid check characters. Phones are in the 1990000
/// block the demo officials use, from 19900001001.
pub fn demo_people() -> HashMap<String, OneNetProfile> {
    [
        person(
            "onenet-citizen-zhou",
            "周明",
            "310104198503120021",
            "19900001001",
            "上海市徐汇区漕溪北路1号",
        ),
        person(
            "onenet-citizen-li",
            "李娜",
            "310115199007180045",
            "19900001002",
            "上海市浦东新区世纪大道2号",
        ),
        company(
            "onenet-company-pujiang",
            "上海浦江示范科技有限公司",
            "91310115MA1K4ABCDD",
            "王强",
            "陈静",
            "19900001003",
        ),
        company(
            "onenet-company-xuhui",
            "上海徐汇示范咨询有限公司",
            "91310104MA1FL2XY31",
            "赵磊",
            "孙丽",
            "19900001004",
        ),
    ]
    .into_iter()
    .map(|p| (p.uid.clone(), p))
    .collect()
}

impl StandIn {
    pub fn new(app_id: &str, secret: &str, people: HashMap<String, OneNetProfile>) -> Arc<Self> {
        Arc::new(StandIn {
            app_id: app_id.into(),
            secret: secret.into(),
            people,
            tickets: Mutex::new(HashMap::new()),
        })
    }

    fn tickets(&self) -> std::sync::MutexGuard<'_, HashMap<String, Ticket>> {
        self.tickets.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>(standin: Arc<StandIn>) -> Router<S> {
    Router::new()
        .route(&format!("{PATH}/api/v1/ticket/profile"), post(profile))
        .route(&format!("{PATH}/tickets"), post(issue_ticket))
        .route(&format!("{PATH}/people"), get(people))
        .with_state(standin)
}

fn answer(code: &str, msg: &str) -> Json<Value> {
    Json(json!({ "code": code, "msg": msg }))
}

#[derive(Deserialize)]
struct ProfileRequest {
    app_id: String,
    ticket: String,
}

async fn profile(State(s): State<Arc<StandIn>>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = api::crypto::signed_request::verify(
        s.secret.as_bytes(),
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &body,
        now,
    );
    if signed.is_err() {
        return answer(ERR_BAD_SIGNATURE, "签名校验失败");
    }
    let Ok(req) = serde_json::from_slice::<ProfileRequest>(&body) else {
        return answer(ERR_BAD_TICKET, "参数错误");
    };
    if req.app_id != s.app_id {
        return answer(ERR_BAD_APP, "应用不存在");
    }
    let uid = {
        let mut tickets = s.tickets();
        match tickets.get_mut(&req.ticket) {
            Some(t) if !t.used && t.expires > Instant::now() => {
                t.used = true;
                t.uid.clone()
            }
            _ => return answer(ERR_BAD_TICKET, "票据无效、已使用或已过期"),
        }
    };
    match s.people.get(&uid) {
        Some(p) => Json(json!({ "code": "0", "msg": "成功", "data": p })),
        None => answer(ERR_BAD_TICKET, "票据无效、已使用或已过期"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueTicket {
    uid: String,
    /// Lifetime override, to let a test see an expired ticket.
    ttl_secs: Option<u64>,
}

async fn issue_ticket(
    State(s): State<Arc<StandIn>>,
    Json(req): Json<IssueTicket>,
) -> (StatusCode, Json<Value>) {
    if !s.people.contains_key(&req.uid) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "该用户不在一网通办演示目录中" })),
        );
    }
    let ticket = format!("ST-{}", ulid::Ulid::new());
    let ttl = req
        .ttl_secs
        .map_or(TICKET_TTL, Duration::from_secs)
        .min(TICKET_TTL);
    s.tickets().insert(
        ticket.clone(),
        Ticket {
            uid: req.uid,
            expires: Instant::now() + ttl,
            used: false,
        },
    );
    (
        StatusCode::CREATED,
        Json(json!({ "ticket": ticket, "expires_in": ttl.as_secs() })),
    )
}

async fn people(State(s): State<Arc<StandIn>>) -> Json<Value> {
    let mut uids: Vec<&String> = s.people.keys().collect();
    uids.sort();
    Json(json!({ "people": uids }))
}
