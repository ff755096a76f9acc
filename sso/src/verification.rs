//! SMS verification codes for applicants (GK-15).
//!
//! A code is 6 digits from the OS CSPRNG, sent through the outbox, stored
//! only as a keyed HMAC-SM3 hash, compared in constant time, single use,
//! dead after five wrong tries or five minutes. A correct code earns a
//! verification token (256 bits, stored hashed, single use, bound to the
//! phone and the purpose) that the request it was for consumes.
//!
//! Throttles live in the database, so every instance sees them: per phone
//! (1 a minute, 5 an hour, 10 a day), per client address, and a pumping
//! guard per number prefix. Requests for one phone are serialised (an
//! advisory lock on PostgreSQL, the write lock on SQLite), so 20 parallel
//! requests still send one code. Answers never say whether a number is
//! known to the system.

use std::net::IpAddr;
use std::time::Duration;

use crate::SsoState;
use crate::config::VerificationConfig;
use api::clock;
use api::db::Tx;
use api::error::{ApiError, ApiResult};
use api::on_tx;
use api::outbox::SmsMessage;
use api::pii::{Phone, PiiCipher};
use api::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{Rng, RngCore};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

const PHONE_FIELD: &str = "verification.phone";
const CODE_FIELD: &str = "verification.code";
const TOKEN_FIELD: &str = "verification.token";

api::text_enum! {
    /// What a code is for; a token earned for one purpose is useless for another.
    pub enum Purpose {
        DisclosureRequest = "disclosure_request",
        ApplicantLogin = "applicant_login",
        /// An official re-authenticating a session for a sensitive action.
        StepUp = "step_up",
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeSent {
    /// Seconds until a new code may be requested for this phone.
    pub resend_after_secs: u64,
    /// Seconds the code stays valid.
    pub expires_in_secs: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verified {
    /// Single use; present it with the request it was earned for.
    pub verification_token: String,
    pub expires_in_secs: u64,
}

fn too_many(code: &'static str, detail: &str, retry_after: Duration) -> ApiError {
    ApiError::TooManyRequests {
        code,
        detail: detail.to_owned(),
        retry_after_secs: retry_after.as_secs().max(1),
    }
}

/// Serialises work on one key across instances. SQLite transactions hold
/// the database's write lock already.
async fn lock(tx: &mut Tx, key: &str) -> ApiResult<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

async fn count_since(
    tx: &mut Tx,
    sql: &'static str,
    key: &str,
    since: OffsetDateTime,
) -> ApiResult<(i64, Option<OffsetDateTime>)> {
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(key).bind(since).fetch_one(c).await)?)
}

/// The oldest send within a window: when it leaves the window, a slot opens.
fn wait_until(oldest: Option<OffsetDateTime>, window: Duration, now: OffsetDateTime) -> Duration {
    oldest.map_or(window, |t| {
        (t + window - now).max(time::Duration::ZERO).unsigned_abs()
    })
}

/// Sends a code to `phone` for `purpose`, unless a throttle says no.
pub async fn send_code(
    sso: &SsoState,
    phone: &Phone,
    purpose: Purpose,
    ip: Option<IpAddr>,
) -> ApiResult<CodeSent> {
    const UPSERT: &str = "INSERT INTO verification_codes (phone_index, purpose, code_mac, attempts, expires_at, created_at) \
         VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (phone_index, purpose) \
         DO UPDATE SET code_mac = $3, attempts = 0, expires_at = $4, created_at = $5";
    const SENT: &str = "INSERT INTO verification_sends (id, phone_index, prefix, source_ip, sent_at) VALUES ($1, $2, $3, $4, $5)";
    let (app, cfg) = (&sso.app, &sso.config.verification);
    let index = app.pii.blind_index(PHONE_FIELD, phone.as_str());
    let prefix: String = phone.as_str().chars().take(cfg.prefix_len).collect();
    let now = clock::now();
    let mut tx = app.db.begin().await?;
    lock(&mut tx, &index).await?;
    let sender = Sender {
        phone_index: &index,
        prefix: &prefix,
        ip,
    };
    check_throttles(&mut tx, cfg, &sender, now).await?;
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
    let mac = code_mac(&app.pii, &index, purpose, &code);
    let ttl = Duration::from_secs(cfg.code_ttl_secs);
    on_tx!(&mut tx, c => sqlx::query(UPSERT).bind(&index).bind(purpose).bind(&mac).bind(now + ttl).bind(now)
        .execute(c).await.map(|_| ()))?;
    on_tx!(&mut tx, c => sqlx::query(SENT).bind(ulid::Ulid::new().to_string()).bind(&index).bind(&prefix)
        .bind(ip.map(|i| i.to_string())).bind(now).execute(c).await.map(|_| ()))?;
    let minutes = (cfg.code_ttl_secs / 60).max(1).to_string();
    let msg = SmsMessage {
        kind: "verification_code",
        phone,
        params: &[("code", &code), ("minutes", &minutes)],
        idempotency_key: None,
        ttl,
    };
    api::outbox::enqueue_sms(
        &mut tx,
        &app.pii,
        app.config.notify.sms_provider.as_str(),
        msg,
    )
    .await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    Ok(CodeSent {
        resend_after_secs: 60 / cfg.phone_per_minute.max(1) as u64,
        expires_in_secs: cfg.code_ttl_secs,
    })
}

/// Who asks for a code, as the throttles count them.
struct Sender<'a> {
    phone_index: &'a str,
    prefix: &'a str,
    ip: Option<IpAddr>,
}

/// Refuses (429, with when to retry) when the address, the number prefix
/// or the phone has had its share of codes.
async fn check_throttles(
    tx: &mut Tx,
    cfg: &VerificationConfig,
    sender: &Sender<'_>,
    now: OffsetDateTime,
) -> ApiResult<()> {
    const BY_PHONE: &str = "SELECT COUNT(*), MIN(sent_at) FROM verification_sends WHERE phone_index = $1 AND sent_at > $2";
    const BY_PREFIX: &str =
        "SELECT COUNT(*), MIN(sent_at) FROM verification_sends WHERE prefix = $1 AND sent_at > $2";
    const BY_IP: &str = "SELECT COUNT(*), MIN(sent_at) FROM verification_sends WHERE source_ip = $1 AND sent_at > $2";
    let (minute, hour, day) = (
        Duration::from_secs(60),
        Duration::from_secs(3600),
        Duration::from_secs(86_400),
    );
    if let Some(ip) = sender.ip {
        let (n, oldest) = count_since(tx, BY_IP, &ip.to_string(), now - hour).await?;
        if n >= cfg.ip_per_hour {
            let detail = "本网络请求验证码过于频繁，请稍后再试";
            return Err(too_many(
                "too_many_codes",
                detail,
                wait_until(oldest, hour, now),
            ));
        }
    }
    let window = Duration::from_secs(cfg.prefix_window_secs);
    let (n, oldest) = count_since(tx, BY_PREFIX, sender.prefix, now - window).await?;
    if n >= cfg.prefix_max {
        let masked = api::pii::mask_phone(&format!("{:0<11}", sender.prefix));
        tracing::warn!(prefix = %masked, "verification codes: prefix pumping guard tripped");
        let detail = "验证码请求异常频繁，请稍后再试";
        return Err(too_many(
            "too_many_codes",
            detail,
            wait_until(oldest, window, now),
        ));
    }
    let per_phone = [
        (
            cfg.phone_per_minute,
            minute,
            "获取验证码过于频繁，请一分钟后再试",
        ),
        (
            cfg.phone_per_hour,
            hour,
            "该号码本小时获取验证码次数已达上限",
        ),
        (cfg.phone_per_day, day, "该号码今日获取验证码次数已达上限"),
    ];
    for (limit, span, detail) in per_phone {
        let (n, oldest) = count_since(tx, BY_PHONE, sender.phone_index, now - span).await?;
        if n >= limit {
            return Err(too_many(
                "too_many_codes",
                detail,
                wait_until(oldest, span, now),
            ));
        }
    }
    Ok(())
}

fn code_mac(pii: &PiiCipher, phone_index: &str, purpose: Purpose, code: &str) -> String {
    pii.blind_index(
        CODE_FIELD,
        &format!("{phone_index}|{}|{code}", purpose.as_str()),
    )
}

fn invalid_code() -> ApiError {
    ApiError::invalid("code", "验证码错误或已失效，请重新获取")
}

/// Checks a code; a correct one is used up and earns a token.
pub async fn verify_code(
    sso: &SsoState,
    phone: &Phone,
    purpose: Purpose,
    code: &str,
) -> ApiResult<Verified> {
    const TOKEN: &str = "INSERT INTO verification_tokens (token_hash, phone_index, phone_cipher, purpose, expires_at) \
         VALUES ($1, $2, $3, $4, $5)";
    check_code(sso, phone, purpose, code).await?;
    let app = &sso.app;
    let index = app.pii.blind_index(PHONE_FIELD, phone.as_str());
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let ttl = Duration::from_secs(sso.config.verification.token_ttl_secs);
    let sealed = app.pii.encrypt(TOKEN_FIELD, phone.as_str());
    let hash = app.pii.blind_index(TOKEN_FIELD, &token);
    let expires = clock::now() + ttl;
    api::on_db!(&app.db, p => sqlx::query(TOKEN).bind(&hash).bind(&index).bind(&sealed)
        .bind(purpose).bind(expires).execute(p).await.map(|_| ()))?;
    Ok(Verified {
        verification_token: token,
        expires_in_secs: ttl.as_secs(),
    })
}

/// Checks a code and uses it up; wrong codes count against it, and it dies
/// after `max_attempts`.
pub async fn check_code(
    sso: &SsoState,
    phone: &Phone,
    purpose: Purpose,
    code: &str,
) -> ApiResult<()> {
    const FIND: &str = "SELECT code_mac, attempts, expires_at FROM verification_codes WHERE phone_index = $1 AND purpose = $2";
    const MISS: &str = "UPDATE verification_codes SET attempts = attempts + 1 WHERE phone_index = $1 AND purpose = $2";
    const BURN: &str = "DELETE FROM verification_codes WHERE phone_index = $1 AND purpose = $2";
    let (app, cfg) = (&sso.app, &sso.config.verification);
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid("code", "验证码为 6 位数字"));
    }
    let index = app.pii.blind_index(PHONE_FIELD, phone.as_str());
    let now = clock::now();
    let mut tx = app.db.begin().await?;
    lock(&mut tx, &index).await?;
    let row: Option<(String, i32, OffsetDateTime)> = on_tx!(&mut tx, c => sqlx::query_as(FIND).bind(&index).bind(purpose).fetch_optional(c).await)?;
    let Some((stored, attempts, _)) = row.filter(|r| r.2 > now && r.1 < cfg.max_attempts) else {
        return Err(invalid_code());
    };
    let right = api::crypto::mac_eq_str(&code_mac(&app.pii, &index, purpose, code), &stored);
    let sql = if right || attempts + 1 >= cfg.max_attempts {
        BURN
    } else {
        MISS
    };
    on_tx!(&mut tx, c => sqlx::query(sql).bind(&index).bind(purpose).execute(c).await.map(|_| ()))?;
    tx.commit().await?;
    if right { Ok(()) } else { Err(invalid_code()) }
}

/// Uses up a verification token for `purpose` inside `tx`; answers the
/// phone it verified. Unknown, used, expired or other-purpose tokens fail.
pub async fn consume_token(
    tx: &mut Tx,
    pii: &PiiCipher,
    token: &str,
    purpose: Purpose,
) -> ApiResult<Phone> {
    const USE: &str = "UPDATE verification_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3 RETURNING phone_cipher";
    let refused = || {
        ApiError::invalid(
            "verification_token",
            "手机验证已失效或已使用，请重新验证手机号",
        )
    };
    let sealed: Option<Vec<u8>> = on_tx!(tx, c => sqlx::query_scalar(USE)
        .bind(pii.blind_index(TOKEN_FIELD, token)).bind(purpose).bind(clock::now())
        .fetch_optional(c).await)?;
    let phone = sealed
        .and_then(|s| pii.decrypt(TOKEN_FIELD, &s).ok())
        .ok_or_else(refused)?;
    Phone::parse(&phone).map_err(|_| refused())
}

/// The official's phone on file, for step-up codes.
async fn phone_of(app: &AppState, principal: &api::authz::Principal) -> ApiResult<Phone> {
    const SQL: &str = "SELECT phone_cipher FROM users WHERE id = $1";
    let sealed: Option<Option<Vec<u8>>> = api::on_db!(&app.db, p => sqlx::query_scalar(SQL).bind(&principal.user_id).fetch_optional(p).await)?;
    let phone = sealed
        .flatten()
        .and_then(|s| app.pii.decrypt(api::org::users::PHONE_FIELD, &s).ok())
        .and_then(|p| Phone::parse(&p).ok());
    phone.ok_or_else(|| ApiError::invalid("phone", "账号未登记手机号，无法以短信验证"))
}

/// Sends a step-up code to the signed-in official's phone on file.
pub async fn send_step_up_code(
    sso: &SsoState,
    principal: &api::authz::Principal,
) -> ApiResult<CodeSent> {
    let phone = phone_of(&sso.app, principal).await?;
    send_code(
        sso,
        &phone,
        Purpose::StepUp,
        api::http::context::current().source_ip,
    )
    .await
}

/// Steps the session up with an SMS code sent by [`send_step_up_code`].
pub async fn step_up_with_sms(
    sso: &SsoState,
    principal: &api::authz::Principal,
    code: &str,
) -> ApiResult<()> {
    let app = &sso.app;
    let session = principal
        .session
        .as_ref()
        .ok_or(ApiError::Unauthenticated)?;
    let phone = phone_of(app, principal).await?;
    let checked = check_code(sso, &phone, Purpose::StepUp, code).await;
    let mut tx = app.db.begin().await?;
    let outcome = if checked.is_ok() {
        crate::sessions::mark_stepped_up(&mut tx, &session.id).await?;
        api::audit::Outcome::Success
    } else {
        api::audit::Outcome::Failure
    };
    let entry = api::audit::Entry {
        actor: api::audit::Actor::from(principal),
        action: "session.step_up",
        target_type: Some("session"),
        target_id: Some(session.id.clone()),
        outcome,
        detail: serde_json::json!({ "method": "sms" }),
    };
    api::audit::append(&mut tx, app.audit_key(), entry).await?;
    tx.commit().await?;
    checked.map_err(|_| ApiError::AuthFailed {
        code: "invalid_sms_code",
        detail: "短信验证码错误或已失效".into(),
    })
}
