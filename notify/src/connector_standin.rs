//! What the stand-ins of the signed-JSON platforms (the two pages, the
//! unified to-do) share: injected faults, and the gate every request passes
//! (app id, signature and its freshness, a JSON body), answering refusals
//! the way the platforms do (`{"code", "msg"}`).

use std::sync::Mutex;

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::standin_faults::Faults;

/// `{"status": 503, "retry_after_secs": 1, "times": 2}`: the next `times`
/// requests answer `status`, with `Retry-After` when given.
#[derive(Clone, Deserialize)]
pub struct HttpFault {
    pub status: u16,
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    pub times: u32,
}

impl HttpFault {
    fn response(&self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut resp = (status, "stand-in fault").into_response();
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// The platform's answer `{"code", "msg"}` (HTTP 200).
pub fn answer(code: &str, msg: &str) -> Response {
    Json(json!({ "code": code, "msg": msg })).into_response()
}

pub struct Gate {
    app_id: String,
    secret: String,
    header_prefix: &'static str,
    faults: Mutex<Faults<HttpFault>>,
}

impl Gate {
    pub fn new(app_id: &str, secret: &str, header_prefix: &'static str) -> Self {
        Gate {
            app_id: app_id.to_owned(),
            secret: secret.to_owned(),
            header_prefix,
            faults: Mutex::new(Faults::default()),
        }
    }

    pub fn add_fault(&self, f: HttpFault) {
        let times = f.times;
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(f, times);
    }

    /// The request's JSON body, or the answer that refuses it.
    pub fn admit(&self, headers: &HeaderMap, body: &Bytes) -> Result<Value, Box<Response>> {
        let fault = self.faults.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(f) = fault {
            return Err(Box::new(f.response()));
        }
        let [app_id, timestamp, signature] = crate::connector::headers(self.header_prefix);
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if header(&app_id) != Some(self.app_id.as_str()) {
            return Err(Box::new(answer("10001", "应用不存在")));
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let signed = api::crypto::signed_request::verify(
            self.secret.as_bytes(),
            header(&timestamp),
            header(&signature),
            body,
            now,
        );
        if signed.is_err() {
            return Err(Box::new(answer("10003", "签名校验失败")));
        }
        serde_json::from_slice(body).map_err(|_| Box::new(answer("20002", "报文格式错误")))
    }
}
