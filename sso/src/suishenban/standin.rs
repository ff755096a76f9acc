//! The Suishenban stand-in: a local server that speaks the protocol the
//! connector speaks, checks what the real platform checks (app credentials,
//! app tokens and their expiry, one-time codes: single use, five minutes),
//! answers the same error codes, and counts what it was asked. Demo mode
//! mounts it in-process under `/stand-in/suishenban`.
//!
//! A person or a test plays the phone: `POST /stand-in/suishenban/auth-codes
//! {"user": "<login name>"}` answers the code the Suishenban SDK would hand
//! the app.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::db::Db;
use api::on_db;
use api::org::users::PHONE_FIELD;
use api::pii::PiiCipher;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{
    ERR_BAD_CREDENTIALS, ERR_CODE_USED, ERR_INVALID_CODE, ERR_TOKEN_EXPIRED, SsbUser,
};

pub const PATH: &str = "/stand-in/suishenban";
pub const DEMO_APP_KEY: &str = "demo-gov-app";
pub const DEMO_APP_SECRET: &str = "demo-gov-app-secret";
const APP_TOKEN_TTL: Duration = Duration::from_secs(7200);
const CODE_TTL: Duration = Duration::from_secs(300);
const MAX_CODES: usize = 10_000;

struct Code {
    login: String,
    expires: Instant,
    used: bool,
}

#[derive(Default)]
struct Books {
    tokens: HashMap<String, Instant>,
    codes: HashMap<String, Code>,
    app_tokens_issued: u64,
    exchanges: u64,
}

pub struct StandIn {
    app_key: String,
    app_secret: String,
    directory: HashMap<String, SsbUser>,
    books: Mutex<Books>,
}

fn err(code: i64, msg: &str) -> Json<Value> {
    Json(json!({ "errcode": code, "errmsg": msg }))
}

fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl StandIn {
    pub fn new(app_key: &str, app_secret: &str, directory: HashMap<String, SsbUser>) -> Arc<Self> {
        Arc::new(StandIn {
            app_key: app_key.to_owned(),
            app_secret: app_secret.to_owned(),
            directory,
            books: Mutex::new(Books::default()),
        })
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Suishenban's directory for the demo: every active official with a phone,
/// under a stable Suishenban id derived from their login name.
pub async fn directory_from_db(
    db: &Db,
    pii: &PiiCipher,
) -> anyhow::Result<HashMap<String, SsbUser>> {
    const SQL: &str = "SELECT u.login_name, u.display_name, u.phone_cipher, o.code FROM users u \
         JOIN org_units o ON o.id = u.unit_id WHERE u.status = 'active' AND u.phone_cipher IS NOT NULL";
    let rows: Vec<(String, String, Vec<u8>, String)> =
        on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)?;
    let mut directory = HashMap::new();
    for (login, name, cipher, org_code) in rows {
        let mobile = pii.decrypt(PHONE_FIELD, &cipher)?;
        let user_id = format!(
            "ssb-{}",
            &hex::encode(api::crypto::sm3(login.as_bytes()))[..16]
        );
        directory.insert(
            login,
            SsbUser {
                user_id,
                name,
                mobile,
                org_code: Some(org_code),
            },
        );
    }
    Ok(directory)
}

pub fn routes<S: Clone + Send + Sync + 'static>(standin: Arc<StandIn>) -> Router<S> {
    Router::new()
        .route(&format!("{PATH}/oauth/app-token"), post(app_token))
        .route(&format!("{PATH}/oauth/user-info"), get(user_info))
        .route(&format!("{PATH}/auth-codes"), post(issue_code))
        .route(&format!("{PATH}/stats"), get(stats))
        .route(
            &format!("{PATH}/expire-app-tokens"),
            post(expire_app_tokens),
        )
        .with_state(standin)
}

#[derive(Deserialize)]
struct AppTokenRequest {
    app_key: String,
    app_secret: String,
}

async fn app_token(State(s): State<Arc<StandIn>>, Json(req): Json<AppTokenRequest>) -> Json<Value> {
    if req.app_key != s.app_key || !api::crypto::mac_eq_str(&req.app_secret, &s.app_secret) {
        return err(ERR_BAD_CREDENTIALS, "invalid app_key or app_secret");
    }
    let token = random_token();
    let mut books = s.books();
    books
        .tokens
        .insert(token.clone(), Instant::now() + APP_TOKEN_TTL);
    books.app_tokens_issued += 1;
    Json(
        json!({ "errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": APP_TOKEN_TTL.as_secs() }),
    )
}

#[derive(Deserialize)]
struct UserInfoQuery {
    access_token: String,
    code: String,
}

async fn user_info(State(s): State<Arc<StandIn>>, Query(q): Query<UserInfoQuery>) -> Json<Value> {
    let mut books = s.books();
    let now = Instant::now();
    if books
        .tokens
        .get(&q.access_token)
        .is_none_or(|until| *until <= now)
    {
        return err(ERR_TOKEN_EXPIRED, "access_token expired or invalid");
    }
    books.exchanges += 1;
    let Some(code) = books.codes.get_mut(&q.code) else {
        return err(ERR_INVALID_CODE, "invalid code");
    };
    if code.used {
        return err(ERR_CODE_USED, "code been used");
    }
    if code.expires <= now {
        return err(ERR_INVALID_CODE, "code expired");
    }
    code.used = true;
    let login = code.login.clone();
    drop(books);
    match s.directory.get(&login) {
        Some(user) => Json(json!({
            "errcode": 0, "errmsg": "ok",
            "user_id": user.user_id, "name": user.name, "mobile": user.mobile, "org_code": user.org_code,
        })),
        None => err(ERR_INVALID_CODE, "invalid code"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueCode {
    user: String,
    /// Lifetime override, to let a test see an expired code.
    ttl_secs: Option<u64>,
}

async fn issue_code(
    State(s): State<Arc<StandIn>>,
    Json(req): Json<IssueCode>,
) -> (StatusCode, Json<Value>) {
    if !s.directory.contains_key(&req.user) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "该用户不在随申办演示目录中" })),
        );
    }
    let code = random_token();
    let ttl = req
        .ttl_secs
        .map_or(CODE_TTL, Duration::from_secs)
        .min(CODE_TTL);
    let mut books = s.books();
    // A used or expired code can only be refused; forget it once many have
    // piled up (a benchmark signs in thousands of times a minute).
    if books.codes.len() >= MAX_CODES {
        let now = Instant::now();
        books.codes.retain(|_, c| !c.used && c.expires > now);
    }
    books.codes.insert(
        code.clone(),
        Code {
            login: req.user,
            expires: Instant::now() + ttl,
            used: false,
        },
    );
    (
        StatusCode::CREATED,
        Json(json!({ "auth_code": code, "expires_in": ttl.as_secs() })),
    )
}

async fn stats(State(s): State<Arc<StandIn>>) -> Json<Value> {
    let books = s.books();
    Json(json!({ "app_tokens_issued": books.app_tokens_issued, "code_exchanges": books.exchanges }))
}

/// Test hook: every app token issued so far stops working, as when the
/// platform rotates them early.
async fn expire_app_tokens(State(s): State<Arc<StandIn>>) -> StatusCode {
    s.books().tokens.clear();
    StatusCode::NO_CONTENT
}
