//! The device registry: the phones an official's pushes go to. Push tokens
//! are sealed at rest (they address a person's phone) and found again by a
//! blind index when a provider says one is gone.

use crate::clock;
use crate::db::Tx;
use crate::error::ApiResult;
use crate::on_tx;
use crate::pii::PiiCipher;

pub const TOKEN_FIELD: &str = "devices.token";

crate::text_enum! {
    pub enum Platform {
        Ios = "ios",
        Android = "android",
        Harmony = "harmony",
    }
}

crate::text_enum! {
    pub enum PushProvider {
        Apns = "apns",
        Fcm = "fcm",
        Huawei = "huawei",
    }
}

pub struct Registration<'a> {
    pub user_id: &'a crate::ids::UserId,
    pub device_id: &'a str,
    pub session_id: Option<&'a str>,
    pub platform: Platform,
    pub provider: PushProvider,
    pub token: &'a str,
    pub app_version: Option<&'a str>,
    pub locale: Option<&'a str>,
}

/// Registers or updates a device (a new token re-enables it).
pub async fn register(tx: &mut Tx, pii: &PiiCipher, r: Registration<'_>) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO devices (id, user_id, device_id, session_id, platform, provider, token_cipher, \
         token_index, app_version, locale, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
         ON CONFLICT (user_id, device_id) DO UPDATE SET session_id = $4, platform = $5, provider = $6, \
         token_cipher = $7, token_index = $8, app_version = $9, locale = $10, updated_at = $11, \
         disabled_at = NULL, disabled_reason = NULL";
    let sealed = pii.encrypt(TOKEN_FIELD, r.token);
    let index = pii.blind_index(TOKEN_FIELD, r.token);
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(ulid::Ulid::new().to_string()).bind(r.user_id).bind(r.device_id).bind(r.session_id)
        .bind(r.platform).bind(r.provider).bind(&sealed).bind(&index)
        .bind(r.app_version).bind(r.locale).bind(clock::now())
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Removes one of the user's devices; answers whether there was one.
pub async fn remove(tx: &mut Tx, user_id: &crate::ids::UserId, device_id: &str) -> ApiResult<bool> {
    const SQL: &str = "DELETE FROM devices WHERE user_id = $1 AND device_id = $2";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(device_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Logout: the devices the session registered stop receiving pushes.
pub async fn remove_for_session(tx: &mut Tx, session_id: &str) -> ApiResult<()> {
    const SQL: &str = "DELETE FROM devices WHERE session_id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(session_id).execute(c).await.map(|_| ()))?;
    Ok(())
}
