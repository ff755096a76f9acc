//! Applicant sessions: members of the public signed in by a phone they
//! verified with an SMS code (purpose `applicant_login`) or by a one-net
//! login ticket. They are not officials and hold no role: the session is an
//! opaque bearer token (`ap.` + 256 random bits, stored hashed) that only
//! the applicant routes accept, valid for `applicants.session_ttl_secs`.
//!
//! A session started by an SMS code is proof that the phone was verified:
//! it may stand in for the verification token of one disclosure request,
//! once, within the token lifetime, so that an applicant who just signed in
//! by code is not sent a second code (Aliyun allows one a minute).

use std::time::Duration;

use api::audit::{self, Actor, Entry, Outcome};
use api::clock;
use api::disclosure::VerifiedProfile;
use api::disclosure::intake::{ONENET_FIELD, PHONE_FIELD};
use api::disclosure::my_requests::ApplicantScope;
use api::error::{ApiError, ApiResult};
use api::pii::Phone;
use api::state::AppState;
use api::{on_db, on_tx};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::SsoState;
use crate::onenet::ConnectorError;
use crate::verification::{self, Purpose};

const TOKEN_PREFIX: &str = "ap.";
const TOKEN_FIELD: &str = "applicants.session_token";
const PROFILE_FIELD: &str = "applicants.profile";
const SESSION_PHONE_FIELD: &str = "applicants.session_phone";

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicantToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// True when the session carries a one-net verified profile.
    pub onenet: bool,
}

/// A signed-in applicant, as the applicant routes receive them.
pub struct ApplicantSession {
    pub id: String,
    pub phone: Option<Phone>,
    pub profile: Option<VerifiedProfile>,
    phone_index: Option<String>,
    onenet_index: Option<String>,
}

impl ApplicantSession {
    /// Whose requests this session may see.
    pub fn scope(&self) -> ApplicantScope {
        ApplicantScope {
            phone_index: self.phone_index.clone(),
            onenet_index: self.onenet_index.clone(),
        }
    }

    /// For audit records: never the number itself.
    pub fn label(&self) -> String {
        match (&self.phone, &self.profile) {
            (Some(p), _) => format!("申请人（{}）", p.masked()),
            (None, Some(_)) => "申请人（一网通办）".to_owned(),
            (None, None) => "申请人".to_owned(),
        }
    }
}

fn new_token() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
}

fn login_entry(label: String, outcome: Outcome, via: &str, why: &str) -> Entry {
    Entry {
        actor: Actor { id: None, label },
        action: "applicant.login",
        target_type: None,
        target_id: None,
        outcome,
        detail: json!({ "via": via, "result": why }),
    }
}

async fn start(
    sso: &SsoState,
    tx: &mut api::db::Tx,
    phone: Option<&Phone>,
    profile: Option<&VerifiedProfile>,
) -> ApiResult<ApplicantToken> {
    const SQL: &str = "INSERT INTO applicant_sessions (id, token_hash, phone_index, phone_cipher, onenet_index, \
         profile_sealed, phone_proof_used_at, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let pii = &sso.app.pii;
    let token = new_token();
    let ttl = Duration::from_secs(sso.config.applicants.session_ttl_secs);
    let now = clock::now();
    let phone_index = phone.map(|p| pii.blind_index(PHONE_FIELD, p.as_str()));
    let phone_cipher = phone.map(|p| pii.encrypt(SESSION_PHONE_FIELD, p.as_str()));
    let onenet_index = profile.map(|p| pii.blind_index(ONENET_FIELD, &p.uid));
    let sealed = match profile {
        Some(p) => Some(pii.encrypt(
            PROFILE_FIELD,
            &serde_json::to_string(p).map_err(anyhow::Error::from)?,
        )),
        None => None,
    };
    on_tx!(tx, c => sqlx::query(SQL).bind(ulid::Ulid::new().to_string()).bind(pii.blind_index(TOKEN_FIELD, &token))
        .bind(&phone_index).bind(&phone_cipher).bind(&onenet_index).bind(&sealed)
        // Only an SMS sign-in proves the phone to us.
        .bind(profile.map(|_| now)).bind(now).bind(now + ttl)
        .execute(c).await.map(|_| ()))?;
    Ok(ApplicantToken {
        access_token: token,
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
        onenet: profile.is_some(),
    })
}

/// Signs in with a verification token earned for `applicant_login`.
pub async fn start_by_phone(sso: &SsoState, verification_token: &str) -> ApiResult<ApplicantToken> {
    let app = &sso.app;
    let mut tx = app.db.begin().await?;
    let phone = verification::consume_token(
        &mut tx,
        &app.pii,
        verification_token,
        Purpose::ApplicantLogin,
    )
    .await?;
    let token = start(sso, &mut tx, Some(&phone), None).await?;
    let label = format!("申请人（{}）", phone.masked());
    audit::append(
        &mut tx,
        app.audit_key(),
        login_entry(label, Outcome::Success, "sms", "ok"),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Signs in with a one-net login ticket; the verified profile rides along in
/// the session for the form's autofill.
pub async fn start_by_onenet(sso: &SsoState, ticket: &str) -> ApiResult<ApplicantToken> {
    let app = &sso.app;
    let client = sso.onenet.as_ref().ok_or(ApiError::Unavailable)?;
    let profile = match client.profile_by_ticket(ticket).await {
        Ok(p) => p,
        Err(ConnectorError::Rejected { code, .. }) => {
            let entry = login_entry(
                "申请人（一网通办）".into(),
                Outcome::Failure,
                "onenet",
                &format!("code {code}"),
            );
            audit::record(&app.db, app.audit_key(), entry).await?;
            return Err(ApiError::AuthFailed {
                code: "invalid_onenet_ticket",
                detail: "一网通办登录票据无效、已使用或已过期，请重新登录".into(),
            });
        }
        Err(e) => {
            tracing::error!(error = %e, "one-net profile fetch failed");
            return Err(ApiError::Unavailable);
        }
    };
    let phone = profile.phone.as_deref().and_then(|p| Phone::parse(p).ok());
    let mut tx = app.db.begin().await?;
    let token = start(sso, &mut tx, phone.as_ref(), Some(&profile)).await?;
    let entry = login_entry(
        "申请人（一网通办）".into(),
        Outcome::Success,
        "onenet",
        "ok",
    );
    audit::append(&mut tx, app.audit_key(), entry).await?;
    tx.commit().await?;
    Ok(token)
}

/// Uses up the phone proof of a session started by an SMS code (once,
/// within the verification token lifetime); answers the phone.
pub async fn consume_phone_proof(
    sso: &SsoState,
    tx: &mut api::db::Tx,
    session: &ApplicantSession,
) -> ApiResult<Phone> {
    const SQL: &str = "UPDATE applicant_sessions SET phone_proof_used_at = $2 \
         WHERE id = $1 AND phone_proof_used_at IS NULL AND created_at > $3";
    let now = clock::now();
    let fresh = now - Duration::from_secs(sso.config.verification.token_ttl_secs);
    let used = on_tx!(tx, c => sqlx::query(SQL).bind(&session.id).bind(now).bind(fresh)
        .execute(c).await.map(|r| r.rows_affected()))?;
    match (&session.phone, used) {
        (Some(phone), 1) => Ok(phone.clone()),
        _ => Err(ApiError::invalid(
            "verification_token",
            "请先通过短信验证码验证手机号",
        )),
    }
}

/// Ends the session (sign-out).
pub async fn end(app: &AppState, session: &ApplicantSession) -> ApiResult<()> {
    const SQL: &str =
        "UPDATE applicant_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL";
    on_db!(&app.db, p => sqlx::query(SQL).bind(&session.id).bind(clock::now()).execute(p).await.map(|_| ()))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    phone_index: Option<String>,
    phone_cipher: Option<Vec<u8>>,
    onenet_index: Option<String>,
    profile_sealed: Option<Vec<u8>>,
    expires_at: OffsetDateTime,
    ended_at: Option<OffsetDateTime>,
}

async fn authenticate(app: &AppState, parts: &Parts) -> ApiResult<ApplicantSession> {
    const SQL: &str = "SELECT id, phone_index, phone_cipher, onenet_index, profile_sealed, expires_at, ended_at \
         FROM applicant_sessions WHERE token_hash = $1";
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with(TOKEN_PREFIX))
        .ok_or(ApiError::Unauthenticated)?;
    let hash = app.pii.blind_index(TOKEN_FIELD, token);
    let row: Option<Row> =
        on_db!(&app.db, p => sqlx::query_as(SQL).bind(&hash).fetch_optional(p).await)?;
    let row = row
        .filter(|r| r.ended_at.is_none() && r.expires_at > clock::now())
        .ok_or(ApiError::Unauthenticated)?;
    let pii = &app.pii;
    let phone = row
        .phone_cipher
        .and_then(|c| pii.decrypt(SESSION_PHONE_FIELD, &c).ok())
        .and_then(|p| Phone::parse(&p).ok());
    let profile = row
        .profile_sealed
        .and_then(|c| pii.decrypt(PROFILE_FIELD, &c).ok())
        .and_then(|p| serde_json::from_str(&p).ok());
    Ok(ApplicantSession {
        id: row.id,
        phone,
        profile,
        phone_index: row.phone_index,
        onenet_index: row.onenet_index,
    })
}

impl<S> FromRequestParts<S> for ApplicantSession
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        authenticate(&AppState::from_ref(state), parts).await
    }
}

/// The session when the request carries one; none when it carries no
/// credentials. A presented but invalid token is still refused.
pub struct MaybeApplicant(pub Option<ApplicantSession>);

impl<S> FromRequestParts<S> for MaybeApplicant
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            Ok(MaybeApplicant(Some(
                authenticate(&AppState::from_ref(state), parts).await?,
            )))
        } else {
            Ok(MaybeApplicant(None))
        }
    }
}
