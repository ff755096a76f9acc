//! The unified office platform stand-in: an OpenID Provider that checks
//! what a real one checks — registered client and redirect URI, client
//! secret, `response_type=code`, `openid` scope, PKCE S256 (and nothing
//! else), single-use codes that expire in 60 s — answers RFC 6749 errors,
//! signs ES256 ID tokens, publishes discovery and JWKS, and can send a
//! signed back-channel logout token to the relying party.
//!
//! Nobody types a password here: the authorization endpoint takes
//! `user=<login name>` to say who is signing in. Without it, it shows a page
//! listing the demo users as links, so a person in a browser can pick one.
//! `POST …/faults {"id_token": "expired"}` (or `wrong_audience`,
//! `wrong_nonce`, `wrong_issuer`, `wrong_key`, `alg_none`) spoils the next
//! ID token, so tests can prove the relying party refuses each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::db::Db;
use api::on_db;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{pkce_challenge, random_b64};

pub const PATH: &str = "/stand-in/unified-platform";
pub const DEMO_CLIENT_ID: &str = "gov-demo-pc";
pub const DEMO_CLIENT_SECRET: &str = "demo-pc-client-secret";
const CODE_TTL: Duration = Duration::from_secs(60);

/// A user the platform knows: login name → (platform id, name).
pub type Directory = HashMap<String, (String, String)>;

struct Grant {
    login: String,
    redirect_uri: String,
    nonce: Option<String>,
    challenge: String,
    sid: String,
    expires: Instant,
    used: bool,
}

pub struct Registration {
    /// The OP's issuer: `http://HOST:PORT/stand-in/unified-platform`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
    /// The RP's back-channel logout endpoint.
    pub backchannel_logout_uri: String,
}

pub struct StandIn {
    reg: Registration,
    directory: Directory,
    kid: String,
    key: EncodingKey,
    jwk: Value,
    grants: Mutex<HashMap<String, Grant>>,
    /// The platform session of each signed-in user, for logout.
    sessions: Mutex<HashMap<String, String>>,
    /// A fault a test asked for: spoils the next ID token this way.
    fault: Mutex<Option<Fault>>,
    http: reqwest::Client,
}

impl StandIn {
    pub fn new(reg: Registration, directory: Directory) -> anyhow::Result<Arc<Self>> {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let pem = secret.to_pkcs8_pem(LineEnding::LF)?;
        let kid = format!("op-{}", random_b64(6));
        let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string())?;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        Ok(Arc::new(StandIn {
            reg,
            directory,
            kid,
            key: EncodingKey::from_ec_pem(pem.as_bytes())?,
            jwk,
            grants: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            fault: Mutex::new(None),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
        }))
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap_or_default()
    }
}

/// The platform's users for the demo: every official with a platform id.
pub async fn directory_from_db(db: &Db) -> anyhow::Result<Directory> {
    const SQL: &str =
        "SELECT login_name, platform_id, display_name FROM users WHERE platform_id IS NOT NULL";
    let rows: Vec<(String, String, String)> =
        on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(|(login, id, name)| (login, (id, name)))
        .collect())
}

pub fn routes<S: Clone + Send + Sync + 'static>(standin: Arc<StandIn>) -> Router<S> {
    Router::new()
        .route(
            &format!("{PATH}/.well-known/openid-configuration"),
            get(discovery),
        )
        .route(&format!("{PATH}/jwks"), get(jwks))
        .route(&format!("{PATH}/authorize"), get(authorize))
        .route(&format!("{PATH}/token"), post(token))
        .route(&format!("{PATH}/logout"), get(end_session))
        .route(
            &format!("{PATH}/backchannel-logout-trigger"),
            post(trigger_backchannel_logout),
        )
        .route(&format!("{PATH}/faults"), post(set_fault))
        .with_state(standin)
}

async fn discovery(State(s): State<Arc<StandIn>>) -> Json<Value> {
    let i = &s.reg.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    }))
}

async fn jwks(State(s): State<Arc<StandIn>>) -> Json<Value> {
    Json(json!({ "keys": [s.jwk] }))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    user: Option<String>,
}

fn page(status: StatusCode, body: String) -> Response {
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>统一办公平台（模拟）</title><body>{body}</body>"
    );
    (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

impl StandIn {
    /// The platform's sign-in page: one link per user of the directory,
    /// carrying the authorisation request on.
    fn login_page(&self, query: &str) -> Response {
        let mut logins: Vec<_> = self.directory.iter().collect();
        logins.sort_by(|a, b| a.0.cmp(b.0));
        let links: String = logins
            .iter()
            .map(|(login, (_, name))| {
                format!(
                    "<li><a href=\"?{}&amp;user={}\">{} ({})</a></li>",
                    escape(query),
                    escape(login),
                    escape(name),
                    escape(login)
                )
            })
            .collect();
        page(
            StatusCode::OK,
            format!("<h1>统一办公平台（模拟）</h1><p>请选择登录用户：</p><ul>{links}</ul>"),
        )
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn authorize(
    State(s): State<Arc<StandIn>>,
    Query(q): Query<AuthorizeQuery>,
    raw: axum::extract::RawQuery,
) -> Response {
    // Client and redirect URI are checked first: errors about them are
    // shown, never redirected (RFC 6749 §4.1.2.1).
    if q.client_id.as_deref() != Some(s.reg.client_id.as_str()) {
        return page(
            StatusCode::BAD_REQUEST,
            "未注册的应用 (invalid client_id)".into(),
        );
    }
    let Some(redirect) = q.redirect_uri.clone().filter(|r| *r == s.reg.redirect_uri) else {
        return page(
            StatusCode::BAD_REQUEST,
            "回调地址与注册不符 (redirect_uri mismatch)".into(),
        );
    };
    let back = |params: &[(&str, &str)]| -> Response {
        let mut url = match reqwest::Url::parse(&redirect) {
            Ok(u) => u,
            Err(_) => return page(StatusCode::BAD_REQUEST, "bad redirect_uri".into()),
        };
        url.query_pairs_mut().extend_pairs(params);
        if let Some(state) = &q.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        (StatusCode::FOUND, [(LOCATION, url.to_string())]).into_response()
    };
    if q.response_type.as_deref() != Some("code") {
        return back(&[("error", "unsupported_response_type")]);
    }
    if !q
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .any(|s| s == "openid")
    {
        return back(&[("error", "invalid_scope")]);
    }
    let challenge = match (&q.code_challenge, q.code_challenge_method.as_deref()) {
        (Some(c), Some("S256")) if c.len() == 43 => c.clone(),
        _ => {
            return back(&[
                ("error", "invalid_request"),
                ("error_description", "PKCE S256 required"),
            ]);
        }
    };
    let Some(login) = q.user.clone() else {
        return s.login_page(&raw.0.unwrap_or_default());
    };
    if !s.directory.contains_key(&login) {
        return back(&[("error", "access_denied")]);
    }
    let code = random_b64(24);
    let sid = random_b64(12);
    s.sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(login.clone(), sid.clone());
    let grant = Grant {
        login,
        redirect_uri: redirect.clone(),
        nonce: q.nonce.clone(),
        challenge,
        sid,
        expires: Instant::now() + CODE_TTL,
        used: false,
    };
    s.grants
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(code.clone(), grant);
    back(&[("code", &code)])
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

/// Client credentials from HTTP Basic or the form (client_secret_post).
fn client_of(headers: &HeaderMap, form: &TokenForm) -> Option<(String, String)> {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())));
    basic.or_else(|| Some((form.client_id.clone()?, form.client_secret.clone()?)))
}

async fn token(
    State(s): State<Arc<StandIn>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let authenticated = client_of(&headers, &form).is_some_and(|(id, secret)| {
        id == s.reg.client_id && api::crypto::mac_eq_str(&secret, &s.reg.client_secret)
    });
    if !authenticated {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.grant_type.as_deref() != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let mut grants = s.grants.lock().unwrap_or_else(|p| p.into_inner());
    let Some(grant) = form.code.as_ref().and_then(|c| grants.get_mut(c)) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let verifier_ok = form
        .code_verifier
        .as_deref()
        .is_some_and(|v| pkce_challenge(v) == grant.challenge);
    let valid = !grant.used
        && grant.expires > Instant::now()
        && form.redirect_uri.as_deref() == Some(grant.redirect_uri.as_str())
        && verifier_ok;
    grant.used = true;
    if !valid {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let Some((sub, name)) = s.directory.get(&grant.login) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let now = api::clock::now().unix_timestamp();
    let claims = json!({
        "iss": s.reg.issuer, "sub": sub, "aud": s.reg.client_id, "iat": now, "exp": now + 300,
        "auth_time": now, "nonce": grant.nonce, "sid": grant.sid, "name": name,
    });
    let fault = s.fault.lock().unwrap_or_else(|p| p.into_inner()).take();
    let id_token = match fault {
        Some(fault) => spoiled_id_token(&s, fault, claims, now),
        None => s.sign(&claims),
    };
    Json(json!({
        "access_token": random_b64(24), "token_type": "Bearer", "expires_in": 3600,
        "scope": "openid profile", "id_token": id_token,
    }))
    .into_response()
}

/// Ways the stand-in can spoil its next ID token, for tests.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    WrongAudience,
    Expired,
    WrongNonce,
    WrongIssuer,
    WrongKey,
    AlgNone,
}

fn spoiled_id_token(s: &StandIn, fault: Fault, mut claims: Value, now: i64) -> String {
    let b64 = |v: &Value| {
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            v.to_string(),
        )
    };
    match fault {
        Fault::WrongAudience => claims["aud"] = json!("another-client"),
        Fault::Expired => claims["exp"] = json!(now - 600),
        Fault::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        Fault::WrongIssuer => claims["iss"] = json!("https://evil.example"),
        Fault::WrongKey => {
            // Signed by a key of nobody's, under the OP's own kid.
            let other = p256::SecretKey::random(&mut rand::rngs::OsRng);
            let pem = other
                .to_pkcs8_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .unwrap_or_default();
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(s.kid.clone());
            return EncodingKey::from_ec_pem(pem.as_bytes())
                .ok()
                .and_then(|k| jsonwebtoken::encode(&header, &claims, &k).ok())
                .unwrap_or_default();
        }
        Fault::AlgNone => {
            return format!(
                "{}.{}.",
                b64(&json!({ "alg": "none", "typ": "JWT" })),
                b64(&claims)
            );
        }
    }
    s.sign(&claims)
}

#[derive(Deserialize)]
struct FaultRequest {
    id_token: Fault,
}

async fn set_fault(State(s): State<Arc<StandIn>>, Json(req): Json<FaultRequest>) -> StatusCode {
    *s.fault.lock().unwrap_or_else(|p| p.into_inner()) = Some(req.id_token);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct EndSession {
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
}

async fn end_session(State(s): State<Arc<StandIn>>, Query(q): Query<EndSession>) -> Response {
    let registered = q.client_id.as_deref() == Some(s.reg.client_id.as_str())
        && q.post_logout_redirect_uri.as_deref() == Some(s.reg.post_logout_redirect_uri.as_str());
    if registered {
        (
            StatusCode::FOUND,
            [(LOCATION, s.reg.post_logout_redirect_uri.clone())],
        )
            .into_response()
    } else {
        page(StatusCode::OK, "已退出统一办公平台。".into())
    }
}

#[derive(Deserialize)]
struct Trigger {
    user: String,
    /// Identify the session by `sid` (default) or only by `sub`.
    #[serde(default)]
    by_sub: bool,
}

/// Ends `user`'s platform session and tells the RP by back channel; answers
/// the RP's status and the token sent, so a test can replay it.
async fn trigger_backchannel_logout(
    State(s): State<Arc<StandIn>>,
    Json(t): Json<Trigger>,
) -> Response {
    let Some((sub, _)) = s.directory.get(&t.user) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "unknown user" })),
        )
            .into_response();
    };
    let sid = s
        .sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&t.user);
    let now = api::clock::now().unix_timestamp();
    let mut claims = json!({
        "iss": s.reg.issuer, "aud": s.reg.client_id, "iat": now, "exp": now + 120, "jti": random_b64(16),
        "sub": sub, "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    if !t.by_sub {
        claims["sid"] = json!(sid);
    }
    let token = s.sign(&claims);
    let sent = s
        .http
        .post(&s.reg.backchannel_logout_uri)
        .form(&[("logout_token", token.as_str())])
        .send()
        .await;
    let status = sent.map(|r| r.status().as_u16()).unwrap_or(0);
    Json(json!({ "rp_status": status, "logout_token": token })).into_response()
}
