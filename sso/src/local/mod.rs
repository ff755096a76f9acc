//! Local login for the system, security and audit administrators (SEC-01,
//! SEC-02): password (argon2id) plus TOTP, with lockout.

pub mod password;
pub mod routes;
pub mod throttle;
pub mod totp;

use api::authz::Role;
use api::clock;
use api::db::Tx;
use api::error::{ApiError, ApiResult};
use api::on_tx;
use api::pii::PiiCipher;

pub const TOTP_FIELD: &str = "local_credentials.totp";

/// The roles that sign in locally rather than through the city platforms.
pub const LOCAL_ROLES: [Role; 3] = Role::SEPARATED;

/// Sets (or resets) a user's password and starts TOTP enrolment with a new
/// secret: the first login with a code from it confirms the enrolment.
/// Answers the `otpauth://` URI to show the user.
pub async fn enrol(
    tx: &mut Tx,
    pii: &PiiCipher,
    user_id: &api::ids::UserId,
    login_name: &str,
    password: &str,
    secret: Option<Vec<u8>>,
) -> ApiResult<String> {
    password::check_policy(password, login_name)?;
    let hash = password::hash(password.to_owned()).await?;
    let secret = secret.unwrap_or_else(totp::new_secret);
    let uri = totp::otpauth_uri(&secret, login_name)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("TOTP secret rejected")))?;
    let sealed = pii.encrypt(TOTP_FIELD, &hex::encode(&secret));
    const SQL: &str = "INSERT INTO local_credentials (user_id, password_hash, totp_pending, password_changed_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET password_hash = $2, \
         totp_secret = NULL, totp_pending = $3, totp_last_step = NULL, failed_count = 0, \
         locked_until = NULL, password_changed_at = $4";
    on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(&hash).bind(&sealed).bind(clock::now())
        .execute(c).await.map(|_| ()))?;
    Ok(uri)
}

/// Demo only: the password of the demo administrators.
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd!2025";
/// Demo only: the TOTP secret of the demo administrators (20 bytes; base32
/// `M5XXMLLEMVWW6LLUN52HALLTMVRXEZLU`).
pub const DEMO_TOTP_SECRET: &[u8; 20] = b"gov-demo-totp-secret";

/// Gives the demo's system, security and audit administrators local
/// credentials, unless they have some. Answers how many were set.
pub async fn load_demo_credentials(sso: &crate::SsoState) -> ApiResult<usize> {
    const SQL: &str = "SELECT u.id, u.login_name FROM users u \
         JOIN role_assignments ra ON ra.user_id = u.id \
         WHERE ra.role IN ('system_admin', 'security_admin', 'audit_admin') \
         AND NOT EXISTS (SELECT 1 FROM local_credentials c WHERE c.user_id = u.id) ORDER BY u.login_name";
    if sso.app.config.is_production() {
        return Err(ApiError::Forbidden);
    }
    let users: Vec<(api::ids::UserId, String)> =
        api::on_db!(&sso.app.db, p => sqlx::query_as(SQL).fetch_all(p).await)?;
    let mut tx = sso.app.db.begin().await?;
    for (id, login) in &users {
        enrol(
            &mut tx,
            &sso.app.pii,
            id,
            login,
            DEMO_PASSWORD,
            Some(DEMO_TOTP_SECRET.to_vec()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(users.len())
}

/// `gov-server admin enrol`: sets a system, security or audit
/// administrator's password and starts TOTP enrolment, audited as the CLI.
/// Answers the `otpauth://` URI.
pub async fn enrol_by_cli(
    db: &api::db::Db,
    pii: &PiiCipher,
    audit_key: &[u8],
    login: &str,
    password: &str,
) -> anyhow::Result<String> {
    use api::authz::{UserKey, load_principal};
    let principal = load_principal(db, UserKey::LoginName(login))
        .await
        .map_err(|_| anyhow::anyhow!("no active user {login}"))?;
    if !LOCAL_ROLES.iter().any(|r| principal.has_role(*r)) {
        anyhow::bail!("{login} is not a system, security or audit administrator");
    }
    let mut tx = db.begin().await?;
    let uri = enrol(&mut tx, pii, &principal.user_id, login, password, None)
        .await
        .map_err(|e| match e {
            ApiError::Invalid { reason, .. } => anyhow::anyhow!("password refused: {reason}"),
            other => anyhow::anyhow!("{other}"),
        })?;
    let entry = api::audit::Entry {
        actor: api::audit::Actor::system("cli"),
        action: "credentials.enrol",
        target_type: Some("user"),
        target_id: Some(principal.user_id.to_string()),
        outcome: api::audit::Outcome::Success,
        detail: serde_json::json!({ "login_name": login }),
    };
    api::audit::append(&mut tx, audit_key, entry).await?;
    tx.commit().await?;
    Ok(uri)
}
