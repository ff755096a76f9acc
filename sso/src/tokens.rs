//! Access tokens: ES256 JWTs that say who signed in, with which session,
//! how, and when. Verification pins the algorithm (no `none`, no HMAC with a
//! public key), the issuer, the audience and the expiry; the session is then
//! checked in the database so that logout takes effect at once.

use api::authz::Principal;
use api::error::ApiError;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::keys::KeyRing;

/// `aud` of our access tokens.
pub const AUDIENCE: &str = "gov-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: api::ids::UserId,
    pub sid: String,
    pub unit: Option<api::ids::UnitId>,
    pub roles: Vec<String>,
    /// RFC 8176 methods: `pwd`, `otp`, `sms`, `sso`.
    pub amr: Vec<String>,
    pub auth_time: i64,
    /// `pc`, `mobile` or `admin`.
    pub channel: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

pub struct SessionClaims<'a> {
    pub session_id: &'a str,
    pub channel: &'a str,
    pub amr: &'a [String],
    pub auth_time: i64,
}

fn invalid(detail: &str) -> ApiError {
    ApiError::AuthFailed {
        code: "invalid_token",
        detail: detail.to_owned(),
    }
}

/// Signs an access token for `principal` in `session`; answers the token
/// and its lifetime in seconds.
pub async fn issue(
    keys: &KeyRing,
    issuer: &str,
    ttl_secs: u64,
    principal: &Principal,
    session: SessionClaims<'_>,
) -> Result<(String, u64), ApiError> {
    let (kid, key) = keys
        .signing_key()
        .await
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no token signing key")))?;
    let now = api::clock::now().unix_timestamp();
    let mut roles: Vec<String> = principal
        .grants
        .iter()
        .map(|g| g.role.as_str().to_owned())
        .collect();
    roles.dedup();
    let claims = AccessClaims {
        iss: issuer.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: principal.user_id.clone(),
        sid: session.session_id.to_owned(),
        unit: principal.unit_id.clone(),
        roles,
        amr: session.amr.to_vec(),
        auth_time: session.auth_time,
        channel: session.channel.to_owned(),
        iat: now,
        exp: now + ttl_secs as i64,
        jti: ulid::Ulid::new().to_string(),
    };
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid);
    let token = jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing an access token: {e}")))?;
    Ok((token, ttl_secs))
}

/// Checks signature, algorithm, issuer, audience and expiry.
pub async fn verify(keys: &KeyRing, issuer: &str, token: &str) -> Result<AccessClaims, ApiError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("令牌格式错误"))?;
    if header.alg != Algorithm::ES256 {
        return Err(invalid("令牌签名算法不被接受"));
    }
    let kid = header.kid.ok_or_else(|| invalid("令牌缺少密钥标识"))?;
    let key = keys
        .verifying_key(&kid)
        .await
        .ok_or_else(|| invalid("令牌签名密钥未知"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 5;
    jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => invalid("令牌已过期"),
            _ => invalid("令牌无效"),
        })
}
