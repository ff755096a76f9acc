//! Sessions and refresh tokens.
//!
//! A session is one sign-in on one channel; its refresh tokens form one
//! family. Refresh tokens are 256-bit random values, stored only as SM3
//! hashes and rotated on every use. Presenting a token that was already
//! rotated ends the whole session (RFC 9700 §2.2.2, ASVS 10.4.5), except
//! within a short overlap that forgives a client's racing retry. Sessions end
//! after an idle and an absolute lifetime per channel.

pub mod routes;

use std::time::Duration;

use api::audit::{self, Actor, Entry, Outcome};
use api::authz::{Principal, SessionInfo, UserKey, load_principal};
use api::clock;
use api::config::{AuthConfig, SessionLifetimes};
use api::crypto::sm3;
use api::db::{Db, Tx};
use api::error::{ApiError, ApiResult};
use api::ids::UserId;
use api::{on_db, on_tx};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::SsoState;
use crate::tokens::{self, SessionClaims};

api::text_enum! {
    /// Where a session was started.
    pub enum Channel {
        Pc = "pc",
        Mobile = "mobile",
        Admin = "admin",
    }
}

impl Channel {
    fn lifetimes(self, auth: &AuthConfig) -> SessionLifetimes {
        match self {
            Channel::Pc => auth.pc,
            Channel::Mobile => auth.mobile,
            Channel::Admin => auth.admin,
        }
    }
}

/// What a successful sign-in or refresh answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokens {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use: each refresh answers a new one.
    pub refresh_token: String,
    pub session_id: String,
}

pub struct NewSession<'a> {
    pub channel: Channel,
    pub device_id: Option<&'a str>,
    pub amr: &'a [&'a str],
    pub platform_sid: Option<&'a str>,
}

fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(sm3(token.as_bytes()))
}

fn min_time(a: OffsetDateTime, b: OffsetDateTime) -> OffsetDateTime {
    if a < b { a } else { b }
}

/// Starts a session for `principal` inside `tx` (so it commits with the
/// login's audit record) and issues its first tokens.
pub async fn start(
    sso: &SsoState,
    tx: &mut Tx,
    principal: &Principal,
    new: NewSession<'_>,
) -> ApiResult<IssuedTokens> {
    const SESSION: &str = "INSERT INTO sessions (id, user_id, channel, device_id, amr, auth_time, \
         created_at, last_used_at, idle_expires_at, absolute_expires_at, platform_sid) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $7, $8, $9)";
    const TOKEN: &str =
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)";
    let auth = &sso.app.config.auth;
    let life = new.channel.lifetimes(auth);
    let now = clock::now();
    let absolute = now + Duration::from_secs(life.absolute_secs);
    let idle = min_time(now + Duration::from_secs(life.idle_secs), absolute);
    let id = ulid::Ulid::new().to_string();
    let amr: Vec<String> = new.amr.iter().map(|m| (*m).to_owned()).collect();
    let amr_json = serde_json::to_string(&amr).unwrap_or_else(|_| "[]".into());
    on_tx!(tx, c => sqlx::query(SESSION)
        .bind(&id).bind(&principal.user_id).bind(new.channel).bind(new.device_id)
        .bind(&amr_json).bind(now).bind(idle).bind(absolute).bind(new.platform_sid)
        .execute(c).await.map(|_| ()))?;
    let (refresh_token, hash) = new_refresh_token();
    on_tx!(tx, c => sqlx::query(TOKEN).bind(&hash).bind(&id).bind(now).execute(c).await.map(|_| ()))?;
    let session = SessionClaims {
        session_id: &id,
        channel: new.channel.as_str(),
        amr: &amr,
        auth_time: now.unix_timestamp(),
    };
    issue(sso, principal, session, refresh_token).await
}

#[derive(FromRow)]
struct RefreshRow {
    session_id: String,
    used_at: Option<OffsetDateTime>,
    user_id: UserId,
    channel: Channel,
    amr: String,
    auth_time: OffsetDateTime,
    ended_at: Option<OffsetDateTime>,
    idle_expires_at: OffsetDateTime,
    absolute_expires_at: OffsetDateTime,
}

/// Signs an access token for the session and pairs it with `refresh_token`.
async fn issue(
    sso: &SsoState,
    principal: &Principal,
    session: SessionClaims<'_>,
    refresh_token: String,
) -> ApiResult<IssuedTokens> {
    let auth = &sso.app.config.auth;
    let session_id = session.session_id.to_owned();
    let (access_token, expires_in) = tokens::issue(
        &sso.keys,
        &auth.issuer,
        auth.access_ttl_secs,
        principal,
        session,
    )
    .await?;
    Ok(IssuedTokens {
        access_token,
        token_type: "Bearer",
        expires_in,
        refresh_token,
        session_id,
    })
}

fn invalid_grant(detail: &str) -> ApiError {
    ApiError::AuthFailed {
        code: "invalid_grant",
        detail: detail.to_owned(),
    }
}

/// Exchanges a refresh token for new tokens, rotating it.
pub async fn refresh(sso: &SsoState, refresh_token: &str) -> ApiResult<IssuedTokens> {
    // Mark used first: the write takes the lock, so of two racing requests
    // exactly one sees a fresh token.
    const USE: &str =
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL";
    const FIND: &str = "SELECT rt.session_id, rt.used_at, s.user_id, s.channel, s.amr, s.auth_time, \
         s.ended_at, s.idle_expires_at, s.absolute_expires_at \
         FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.token_hash = $1";
    const TOKEN: &str =
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)";
    const TOUCH: &str = "UPDATE sessions SET last_used_at = $2, idle_expires_at = $3 WHERE id = $1";

    let auth = &sso.app.config.auth;
    let hash = hash_token(refresh_token);
    let now = clock::now();
    let mut tx = sso.app.db.begin().await?;
    let fresh = on_tx!(&mut tx, c => sqlx::query(USE).bind(&hash).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    let row: Option<RefreshRow> =
        on_tx!(&mut tx, c => sqlx::query_as(FIND).bind(&hash).fetch_optional(c).await)?;
    let Some(row) = row else {
        return Err(invalid_grant("刷新令牌无效"));
    };
    if row.ended_at.is_some() {
        return Err(invalid_grant("会话已结束，请重新登录"));
    }
    // A token used again after the overlap (a retry may race the first
    // use) was stolen or leaked: the session ends.
    let reused = fresh == 0
        && now - row.used_at.unwrap_or(now) > Duration::from_secs(auth.refresh_overlap_secs);
    if reused {
        return Err(end_reused(sso, tx, &row, now).await?);
    }
    if now >= row.idle_expires_at || now >= row.absolute_expires_at {
        end_in(&mut tx, &row.session_id, "expired", now).await?;
        tx.commit().await?;
        return Err(invalid_grant("会话已过期，请重新登录"));
    }
    let principal = match load_principal(&sso.app.db, UserKey::Id(&row.user_id)).await {
        Ok(p) => p,
        Err(ApiError::Unauthenticated) => {
            end_in(&mut tx, &row.session_id, "user_disabled", now).await?;
            tx.commit().await?;
            return Err(invalid_grant("账号已停用"));
        }
        Err(e) => return Err(e),
    };
    let channel = row.channel;
    let life = channel.lifetimes(auth);
    let idle = min_time(
        now + Duration::from_secs(life.idle_secs),
        row.absolute_expires_at,
    );
    let (new_token, new_hash) = new_refresh_token();
    on_tx!(&mut tx, c => sqlx::query(TOKEN).bind(&new_hash).bind(&row.session_id).bind(now).execute(c).await.map(|_| ()))?;
    on_tx!(&mut tx, c => sqlx::query(TOUCH).bind(&row.session_id).bind(now).bind(idle).execute(c).await.map(|_| ()))?;
    tx.commit().await?;
    let amr: Vec<String> = serde_json::from_str(&row.amr).unwrap_or_default();
    let session = SessionClaims {
        session_id: &row.session_id,
        channel: channel.as_str(),
        amr: &amr,
        auth_time: row.auth_time.unix_timestamp(),
    };
    issue(sso, &principal, session, new_token).await
}

/// Ends the session of a reused refresh token, audited; answers the
/// refusal.
async fn end_reused(
    sso: &SsoState,
    mut tx: Tx,
    row: &RefreshRow,
    now: OffsetDateTime,
) -> ApiResult<ApiError> {
    end_in(&mut tx, &row.session_id, "refresh_reuse", now).await?;
    let entry = Entry {
        actor: Actor::user(&row.user_id),
        action: "session.refresh_reuse",
        target_type: Some("session"),
        target_id: Some(row.session_id.clone()),
        outcome: Outcome::Denied,
        detail: serde_json::json!({ "channel": row.channel }),
    };
    audit::append(&mut tx, sso.app.audit_key(), entry).await?;
    tx.commit().await?;
    Ok(ApiError::AuthFailed {
        code: "refresh_token_reused",
        detail: "刷新令牌已被使用过，为安全起见该会话已结束，请重新登录".into(),
    })
}

async fn end_in(tx: &mut Tx, session_id: &str, reason: &str, now: OffsetDateTime) -> ApiResult<()> {
    const SQL: &str =
        "UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL";
    on_tx!(tx, c => sqlx::query(SQL).bind(session_id).bind(now).bind(reason).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Ends one session of `user_id` with an audit record; false if there was
/// no such open session.
pub async fn end(
    sso: &SsoState,
    user_id: &UserId,
    session_id: &str,
    reason: &'static str,
) -> ApiResult<bool> {
    const SQL: &str = "UPDATE sessions SET ended_at = $3, end_reason = $4 \
         WHERE id = $1 AND user_id = $2 AND ended_at IS NULL";
    let mut tx = sso.app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(session_id).bind(user_id).bind(clock::now()).bind(reason)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 {
        api::devices::remove_for_session(&mut tx, session_id).await?;
        let entry = Entry {
            actor: Actor::user(user_id),
            action: "session.end",
            target_type: Some("session"),
            target_id: Some(session_id.to_owned()),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "reason": reason }),
        };
        audit::append(&mut tx, sso.app.audit_key(), entry).await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

/// Ends every open session of a user inside `tx` (disabled account, moved
/// by sync, admin action). Answers how many ended.
pub async fn end_all_for_user(tx: &mut Tx, user_id: &UserId, reason: &str) -> ApiResult<u64> {
    const SQL: &str = "UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE user_id = $1 AND ended_at IS NULL";
    Ok(
        on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(clock::now()).bind(reason)
        .execute(c).await.map(|r| r.rows_affected()))?,
    )
}

/// Marks a session as just authenticated (a step-up succeeded).
pub async fn mark_stepped_up(tx: &mut Tx, session_id: &str) -> ApiResult<()> {
    const SQL: &str = "UPDATE sessions SET step_up_at = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(session_id).bind(clock::now()).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The session behind an access token, if it is still open.
pub async fn active(db: &Db, session_id: &str, user_id: &UserId) -> ApiResult<Option<SessionInfo>> {
    const SQL: &str = "SELECT channel, auth_time, step_up_at FROM sessions \
         WHERE id = $1 AND user_id = $2 AND ended_at IS NULL AND absolute_expires_at > $3";
    let row: Option<(String, OffsetDateTime, Option<OffsetDateTime>)> = on_db!(db, p => sqlx::query_as(SQL)
        .bind(session_id).bind(user_id).bind(clock::now()).fetch_optional(p).await)?;
    Ok(row.map(|(channel, auth_time, step_up)| SessionInfo {
        id: session_id.to_owned(),
        channel,
        authenticated_at: step_up.map_or(auth_time, |s| if s > auth_time { s } else { auth_time }),
    }))
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct SessionView {
    pub id: String,
    pub channel: String,
    pub device_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_used_at: OffsetDateTime,
    /// True for the session this request was made with.
    #[sqlx(skip)]
    pub current: bool,
}

pub async fn list(db: &Db, user_id: &UserId, current: Option<&str>) -> ApiResult<Vec<SessionView>> {
    const SQL: &str = "SELECT id, channel, device_id, created_at, last_used_at FROM sessions \
         WHERE user_id = $1 AND ended_at IS NULL AND absolute_expires_at > $2 \
         ORDER BY last_used_at DESC LIMIT 100";
    let mut rows: Vec<SessionView> =
        on_db!(db, p => sqlx::query_as(SQL).bind(user_id).bind(clock::now()).fetch_all(p).await)?;
    for row in &mut rows {
        row.current = Some(row.id.as_str()) == current;
    }
    Ok(rows)
}
