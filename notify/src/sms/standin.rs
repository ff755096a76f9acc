//! The Aliyun SMS stand-in: a local Dysmsapi `SendSms` that checks what
//! Aliyun checks — the access key, the V1 signature against the secret,
//! the timestamp (±15 min) and a nonce never seen before — applies Aliyun's
//! default per-number flow control for one signature (verification-code
//! templates: 1 a minute, 5 an hour, 10 a day; notification templates: 50 a
//! day per template: `isv.BUSINESS_LIMIT_CONTROL`), answers with Aliyun's
//! JSON, and records every accepted message.
//!
//! `GET /stand-in/sms/messages?phone=…` shows what a phone received;
//! `POST /stand-in/sms/faults {"status": 503, "retry_after_secs": 2, "times": 3}`
//! makes the next requests fail that way (a provider outage);
//! `{"delay_ms": 5000, "times": 1}` makes the next one slow.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::standin_faults::Faults;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::signature::sign_v1;

pub const PATH: &str = "/stand-in/sms";
pub const DEMO_ACCESS_KEY_ID: &str = "LTAIdemoGovSms";
pub const DEMO_ACCESS_KEY_SECRET: &str = "demo-aliyun-access-key-secret";

#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub phone: String,
    pub sign_name: String,
    pub template_code: String,
    pub params: serde_json::Value,
    /// The text as the phone shows it, when the template is known.
    pub text: Option<String>,
    pub out_id: Option<String>,
    pub biz_id: String,
    pub at: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Fault {
    /// Answer this status; without it the request is served normally, after
    /// `delay_ms` (a slow provider).
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    retry_after_secs: Option<u64>,
    #[serde(default)]
    delay_ms: Option<u64>,
    /// How many requests fail this way.
    times: u32,
}

#[derive(Default)]
struct Books {
    received: Vec<Received>,
    sent_at: HashMap<String, VecDeque<Instant>>,
    nonces: HashSet<String>,
    faults: Faults<Fault>,
    requests: u64,
}

pub struct StandIn {
    access_key_id: String,
    secret: String,
    /// Template code → text, to show what the phone displays.
    texts: HashMap<String, String>,
    /// Codes of verification-code templates (Aliyun's 验证码 type), which
    /// have the strict per-number limits.
    code_templates: HashSet<String>,
    books: Mutex<Books>,
}

impl StandIn {
    pub fn new(
        access_key_id: &str,
        secret: &str,
        texts: HashMap<String, String>,
        code_templates: HashSet<String>,
    ) -> Arc<Self> {
        Arc::new(StandIn {
            access_key_id: access_key_id.to_owned(),
            secret: secret.to_owned(),
            texts,
            code_templates,
            books: Mutex::new(Books::default()),
        })
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>(standin: Arc<StandIn>) -> Router<S> {
    Router::new()
        .route(PATH, post(send_sms))
        .route(&format!("{PATH}/messages"), get(messages))
        .route(&format!("{PATH}/faults"), post(add_fault))
        .route(&format!("{PATH}/stats"), get(stats))
        .with_state(standin)
}

fn answer(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        json!({ "Code": code, "Message": message, "RequestId": ulid::Ulid::new().to_string() });
    (status, Json(body)).into_response()
}

async fn send_sms(
    State(s): State<Arc<StandIn>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = injected(&s).await {
        return refused;
    }
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(refused) = authenticate(&s, &form, get) {
        return refused;
    }
    if get("Action") != Some("SendSms") || get("Version") != Some("2017-05-25") {
        return answer(
            StatusCode::BAD_REQUEST,
            "InvalidAction.NotFound",
            "Specified api is not found.",
        );
    }
    let phone = get("PhoneNumbers").unwrap_or_default().to_owned();
    if api::pii::Phone::parse(&phone).is_err() {
        return answer(StatusCode::OK, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号");
    }
    let Ok(params) = serde_json::from_str::<Value>(get("TemplateParam").unwrap_or("{}")) else {
        return answer(StatusCode::OK, "isv.INVALID_JSON_PARAM", "JSON参数不合法");
    };
    let template_code = get("TemplateCode").unwrap_or_default().to_owned();
    let mut books = s.books();
    if let Some(message) = s.over_limit(&mut books, &phone, &template_code) {
        drop(books);
        return answer(StatusCode::OK, "isv.BUSINESS_LIMIT_CONTROL", message);
    }
    let biz_id = format!("{}^{}", rand_digits(), ulid::Ulid::new());
    let text = s.texts.get(&template_code).map(|t| {
        params
            .as_object()
            .map(|p| api::outbox::templates::render(t, p))
            .unwrap_or_else(|| t.clone())
    });
    books.received.push(Received {
        phone,
        sign_name: get("SignName").unwrap_or_default().to_owned(),
        template_code,
        params,
        text,
        out_id: get("OutId").map(str::to_owned),
        biz_id: biz_id.clone(),
        at: time::OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default(),
    });
    let body = json!({ "Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": ulid::Ulid::new().to_string() });
    Json(body).into_response()
}

/// The injected fault's answer, after its delay; None to serve normally.
async fn injected(s: &StandIn) -> Option<Response> {
    let fault = {
        let mut books = s.books();
        books.requests += 1;
        books.faults.take()
    }?;
    if let Some(ms) = fault.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = StatusCode::from_u16(fault.status?).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut resp = answer(
        status,
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
    );
    if let Some(secs) = fault.retry_after_secs {
        resp.headers_mut().insert(RETRY_AFTER, secs.into());
    }
    Some(resp)
}

/// Aliyun's RPC authentication: the access key, the HMAC-SHA1 signature
/// (V1) over every other parameter, a timestamp within 15 minutes and a
/// nonce never seen before. Answers the refusal, if any.
fn authenticate<'a>(
    s: &StandIn,
    form: &'a [(String, String)],
    get: impl Fn(&str) -> Option<&'a str>,
) -> Option<Response> {
    let refuse = |status, code, message| Some(answer(status, code, message));
    if get("AccessKeyId") != Some(s.access_key_id.as_str()) {
        return refuse(
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        );
    }
    if get("SignatureMethod") != Some("HMAC-SHA1") || get("SignatureVersion") != Some("1.0") {
        return refuse(
            StatusCode::BAD_REQUEST,
            "InvalidSignatureMethod",
            "Specified signature method is not supported.",
        );
    }
    let unsigned: Vec<(&str, &str)> = form
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if get("Signature") != Some(sign_v1("POST", &unsigned, &s.secret).as_str()) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        );
    }
    let fresh = get("Timestamp")
        .and_then(|t| time::OffsetDateTime::parse(t, &Rfc3339).ok())
        .is_some_and(|t| (time::OffsetDateTime::now_utc() - t).abs() < Duration::from_secs(900));
    if !fresh {
        return refuse(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        );
    }
    let nonce = get("SignatureNonce").unwrap_or_default().to_owned();
    if nonce.is_empty() || !s.books().nonces.insert(nonce) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        );
    }
    None
}

impl StandIn {
    /// Aliyun's default flow control, counted as a send to `phone` now:
    /// verification codes share one budget per number (1 a minute, 5 an
    /// hour, 10 a day); notifications have 50 a day per number and
    /// template. Answers the refusal's message when over.
    fn over_limit(&self, books: &mut Books, phone: &str, template: &str) -> Option<&'static str> {
        let now = Instant::now();
        let is_code = self.code_templates.contains(template);
        let budget = if is_code {
            phone.to_owned()
        } else {
            format!("{phone}|{template}")
        };
        let history = books.sent_at.entry(budget).or_default();
        history.retain(|t| now.duration_since(*t) < Duration::from_secs(86_400));
        let within = |d: u64| {
            history
                .iter()
                .filter(|t| now.duration_since(**t) < Duration::from_secs(d))
                .count()
        };
        let limit = if !is_code {
            (history.len() >= 50).then_some("触发天级流控Permits:50")
        } else if within(60) >= 1 {
            Some("触发分钟级流控Permits:1")
        } else if within(3600) >= 5 {
            Some("触发小时级流控Permits:5")
        } else if history.len() >= 10 {
            Some("触发天级流控Permits:10")
        } else {
            None
        };
        if limit.is_none() {
            history.push_back(now);
        }
        limit
    }
}

fn rand_digits() -> u64 {
    use rand::Rng;
    rand::thread_rng().gen_range(100_000_000_000_000u64..999_999_999_999_999)
}

#[derive(Deserialize)]
struct PhoneQuery {
    phone: Option<String>,
}

async fn messages(
    State(s): State<Arc<StandIn>>,
    Query(q): Query<PhoneQuery>,
) -> Json<Vec<Received>> {
    let books = s.books();
    Json(
        books
            .received
            .iter()
            .filter(|r| q.phone.as_ref().is_none_or(|p| *p == r.phone))
            .cloned()
            .collect(),
    )
}

async fn add_fault(State(s): State<Arc<StandIn>>, Json(f): Json<Fault>) -> StatusCode {
    s.books().faults.push(f.clone(), f.times);
    StatusCode::NO_CONTENT
}

async fn stats(State(s): State<Arc<StandIn>>) -> Json<serde_json::Value> {
    let books = s.books();
    Json(json!({ "requests": books.requests, "accepted": books.received.len() }))
}
