//! `POST /auth/admin/login` and `POST /auth/step-up`.

use api::audit::{self, Actor, Entry, Outcome};
use api::authz::{Principal, UserKey, load_principal};
use api::clock;
use api::db::Tx;
use api::error::{ApiError, ApiResult};
use api::http::context;
use api::http::extract::ApiJson;
use api::{on_db, on_tx};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{LOCAL_ROLES, TOTP_FIELD, password, throttle, totp};
use crate::SsoState;
use crate::sessions::{self, Channel, IssuedTokens, NewSession};

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/auth/admin/login", post(admin_login))
        .route("/auth/step-up", post(step_up))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminLogin {
    pub login_name: String,
    pub password: String,
    /// The 6-digit code from the authenticator app.
    pub totp_code: String,
}

#[derive(FromRow)]
struct CredRow {
    user_id: api::ids::UserId,
    password_hash: String,
    totp_secret: Option<Vec<u8>>,
    totp_pending: Option<Vec<u8>>,
    totp_last_step: Option<i64>,
    failed_count: i32,
    locked_until: Option<OffsetDateTime>,
}

fn bad_credentials() -> ApiError {
    ApiError::AuthFailed {
        code: "invalid_credentials",
        detail: "登录名、密码或动态口令错误".into(),
    }
}

fn locked(until: OffsetDateTime) -> ApiError {
    let secs = (until - clock::now()).whole_seconds().max(1) as u64;
    ApiError::TooManyRequests {
        code: "account_locked",
        detail: format!(
            "登录失败次数过多，账号已锁定，请约 {} 分钟后再试",
            secs.div_ceil(60)
        ),
        retry_after_secs: secs,
    }
}

fn login_entry(
    login: &str,
    user_id: Option<&str>,
    action: &'static str,
    outcome: Outcome,
) -> Entry {
    Entry {
        actor: Actor {
            id: user_id.map(str::to_owned),
            label: login.to_owned(),
        },
        action,
        target_type: Some("user"),
        target_id: user_id.map(str::to_owned),
        outcome,
        detail: json!({ "channel": "admin" }),
    }
}

/// Password + TOTP login for the system, security and audit administrators.
#[utoipa::path(post, path = "/auth/admin/login", tag = "identity", request_body = AdminLogin,
    responses(
        (status = 200, body = IssuedTokens),
        (status = 400, body = api::error::Problem),
        (status = 401, description = "wrong login name, password or code", body = api::error::Problem),
        (status = 429, description = "account locked, or too many failures from this address", body = api::error::Problem),
    ))]
pub async fn admin_login(
    State(sso): State<SsoState>,
    ApiJson(req): ApiJson<AdminLogin>,
) -> ApiResult<Json<IssuedTokens>> {
    const FIND: &str = "SELECT c.user_id, c.password_hash, c.totp_secret, c.totp_pending, c.totp_last_step, \
         c.failed_count, c.locked_until FROM users u JOIN local_credentials c ON c.user_id = u.id \
         WHERE u.login_name = $1";
    let app = &sso.app;
    let cfg = app.config.auth.lockout;
    let ip = context::current().source_ip;
    let login = req.login_name.trim();
    if login.is_empty() || login.chars().count() > 64 {
        return Err(ApiError::invalid("login_name", "登录名须为 1 到 64 个字符"));
    }
    throttle::check(&app.db, &cfg, ip, login).await?;
    let row: Option<CredRow> =
        on_db!(&app.db, p => sqlx::query_as(FIND).bind(login).fetch_optional(p).await)?;
    let now = clock::now();
    if let Some(until) = row
        .as_ref()
        .and_then(|r| r.locked_until)
        .filter(|u| *u > now)
    {
        let user_id = row.as_ref().map(|r| r.user_id.as_str());
        audit::record(
            &app.db,
            app.audit_key(),
            login_entry(login, user_id, "login.locked", Outcome::Denied),
        )
        .await?;
        return Err(locked(until));
    }
    let found = match &row {
        Some(r) => verified(&sso, r, req.password, req.totp_code.trim(), now).await?,
        None => {
            // The same work as for a real account, so timing tells nothing.
            password::verify(req.password, None).await?;
            None
        }
    };
    let mut tx = app.db.begin().await?;
    if let (Some(r), Some((step, principal))) = (&row, found)
        && let Some(tokens) = start(&sso, &mut tx, r, step, &principal, login).await?
    {
        tx.commit().await?;
        return Ok(Json(tokens));
    }
    record_failure(&sso, &mut tx, row.as_ref(), ip, login, now).await?;
    tx.commit().await?;
    Err(bad_credentials())
}

/// The TOTP step matched and the principal, when the password and the code
/// are right and the user holds an administrator role; else None.
async fn verified(
    sso: &SsoState,
    r: &CredRow,
    given_password: String,
    code: &str,
    now: OffsetDateTime,
) -> ApiResult<Option<(i64, Principal)>> {
    let app = &sso.app;
    if !password::verify(given_password, Some(r.password_hash.clone())).await? {
        return Ok(None);
    }
    let sealed = r.totp_secret.as_ref().or(r.totp_pending.as_ref());
    let secret = sealed
        .and_then(|s| app.pii.decrypt(TOTP_FIELD, s).ok())
        .and_then(|h| hex::decode(h).ok());
    let at = now.unix_timestamp() as u64;
    let Some(step) = secret.and_then(|s| totp::verify(&s, code, at, r.totp_last_step)) else {
        return Ok(None);
    };
    let principal = load_principal(&app.db, UserKey::Id(&r.user_id))
        .await
        .ok()
        .filter(|p| LOCAL_ROLES.iter().any(|role| p.has_role(*role)));
    Ok(principal.map(|p| (step, p)))
}

/// Records the code's step and starts the session; None when another
/// login used the same code first.
async fn start(
    sso: &SsoState,
    tx: &mut Tx,
    r: &CredRow,
    step: i64,
    principal: &Principal,
    login: &str,
) -> ApiResult<Option<IssuedTokens>> {
    // Conditional on the step, so two logins racing with one code cannot
    // both win.
    const CONFIRM: &str = "UPDATE local_credentials SET failed_count = 0, locked_until = NULL, \
         totp_last_step = $2, totp_secret = COALESCE(totp_secret, totp_pending), totp_pending = NULL \
         WHERE user_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)";
    let won = on_tx!(tx, c => sqlx::query(CONFIRM).bind(&r.user_id).bind(step)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if won != 1 {
        return Ok(None);
    }
    let new = NewSession {
        channel: Channel::Admin,
        device_id: None,
        amr: &["pwd", "otp"],
        platform_sid: None,
    };
    let tokens = sessions::start(sso, tx, principal, new).await?;
    let entry = login_entry(login, Some(r.user_id.as_str()), "login", Outcome::Success);
    audit::append(tx, sso.app.audit_key(), entry).await?;
    Ok(Some(tokens))
}

/// A failed login: counted against the account (locking it at the limit)
/// and the address, and audited.
async fn record_failure(
    sso: &SsoState,
    tx: &mut Tx,
    row: Option<&CredRow>,
    ip: Option<std::net::IpAddr>,
    login: &str,
    now: OffsetDateTime,
) -> ApiResult<()> {
    const FAIL: &str =
        "UPDATE local_credentials SET failed_count = $2, locked_until = $3 WHERE user_id = $1";
    let app = &sso.app;
    let cfg = app.config.auth.lockout;
    if let Some(r) = row {
        let failures = r.failed_count + 1;
        let lock_until = (failures as u32 >= cfg.max_failures)
            .then(|| now + std::time::Duration::from_secs(cfg.lock_secs));
        on_tx!(tx, c => sqlx::query(FAIL).bind(&r.user_id).bind(failures).bind(lock_until)
            .execute(c).await.map(|_| ()))?;
        if lock_until.is_some() {
            let entry = login_entry(
                login,
                Some(r.user_id.as_str()),
                "login.lockout",
                Outcome::Denied,
            );
            audit::append(tx, app.audit_key(), entry).await?;
        }
    }
    throttle::record_failure(tx, &cfg, ip, login).await?;
    let user_id = row.map(|r| r.user_id.as_str());
    let entry = login_entry(login, user_id, "login", Outcome::Failure);
    audit::append(tx, app.audit_key(), entry).await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUp {
    pub totp_code: String,
}

/// Re-authenticates the current session with a TOTP code, for actions that
/// demand a recent authentication (answering `step_up_required`).
#[utoipa::path(post, path = "/auth/step-up", tag = "identity", request_body = StepUp,
    responses(
        (status = 204, description = "the session counts as freshly authenticated"),
        (status = 401, description = "wrong or replayed code", body = api::error::Problem),
        (status = 429, body = api::error::Problem),
    ))]
pub async fn step_up(
    State(sso): State<SsoState>,
    principal: Principal,
    ApiJson(req): ApiJson<StepUp>,
) -> ApiResult<StatusCode> {
    step_up_with_totp(&sso, &principal, &req.totp_code).await
}

/// The step-up itself, shared by the PC and mobile routes.
pub async fn step_up_with_totp(
    sso: &SsoState,
    principal: &Principal,
    code: &str,
) -> ApiResult<StatusCode> {
    const FIND: &str =
        "SELECT totp_secret, totp_last_step FROM local_credentials WHERE user_id = $1";
    const USE: &str = "UPDATE local_credentials SET totp_last_step = $2 \
         WHERE user_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)";
    let app = &sso.app;
    let session = principal
        .session
        .as_ref()
        .ok_or(ApiError::Unauthenticated)?;
    let cfg = app.config.auth.lockout;
    let ip = context::current().source_ip;
    throttle::check(&app.db, &cfg, ip, &principal.login_name).await?;
    let row: Option<(Option<Vec<u8>>, Option<i64>)> = on_db!(&app.db, p => sqlx::query_as(FIND).bind(&principal.user_id).fetch_optional(p).await)?;
    let now = clock::now();
    let step = row.and_then(|(sealed, last)| {
        let secret = sealed
            .and_then(|s| app.pii.decrypt(TOTP_FIELD, &s).ok())
            .and_then(|h| hex::decode(h).ok())?;
        totp::verify(&secret, code.trim(), now.unix_timestamp() as u64, last)
    });
    let mut tx = app.db.begin().await?;
    let entry = |outcome| Entry {
        actor: Actor::from(principal),
        action: "session.step_up",
        target_type: Some("session"),
        target_id: Some(session.id.clone()),
        outcome,
        detail: json!({ "method": "otp" }),
    };
    if let Some(step) = step {
        let won = on_tx!(&mut tx, c => sqlx::query(USE).bind(&principal.user_id).bind(step)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if won == 1 {
            sessions::mark_stepped_up(&mut tx, &session.id).await?;
            audit::append(&mut tx, app.audit_key(), entry(Outcome::Success)).await?;
            tx.commit().await?;
            return Ok(StatusCode::NO_CONTENT);
        }
    }
    throttle::record_failure(&mut tx, &cfg, ip, &principal.login_name).await?;
    audit::append(&mut tx, app.audit_key(), entry(Outcome::Failure)).await?;
    tx.commit().await?;
    Err(ApiError::AuthFailed {
        code: "invalid_otp",
        detail: "动态口令错误或已使用过".into(),
    })
}
