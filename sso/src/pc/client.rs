//! The OpenID Connect relying party for the unified office platform.
//!
//! Endpoints come from the OP's discovery document, fetched on first use
//! (the demo's OP is this very process, which does not answer until it has
//! started). The OP's keys come from its JWKS, cached and fetched again when
//! a token names an unknown key (at most every ten seconds). ID tokens and
//! logout tokens must be RS256 or ES256, from the configured issuer, for our
//! client id, in date, and (ID tokens) carry the nonce we sent.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const JWKS_REFETCH: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the platform refused: {0}")]
    Refused(String),
    #[error("token invalid: {0}")]
    BadToken(String),
    #[error("platform unreachable or answered badly: {0}")]
    Transport(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogoutClaims {
    pub jti: String,
    pub iat: i64,
    #[serde(default)]
    pub exp: Option<i64>,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub events: serde_json::Value,
}

pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
    pub timeout: Duration,
}

pub struct OidcClient {
    pub settings: OidcSettings,
    http: reqwest::Client,
    discovery: Mutex<Option<Discovery>>,
    keys: Mutex<(HashMap<String, DecodingKey>, Option<Instant>)>,
}

/// A login's secrets: kept server-side between redirect and callback.
pub struct LoginStart {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
    pub url: String,
}

pub fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl OidcClient {
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        Ok(OidcClient {
            http: reqwest::Client::builder()
                .timeout(settings.timeout)
                .build()?,
            settings,
            discovery: Mutex::new(None),
            keys: Mutex::new((HashMap::new(), None)),
        })
    }

    pub async fn discovery(&self) -> Result<Discovery, OidcError> {
        let mut cached = self.discovery.lock().await;
        if let Some(d) = cached.as_ref() {
            return Ok(d.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let d: Discovery = self.get_json(&url).await?;
        if d.issuer != self.settings.issuer {
            return Err(OidcError::Transport(format!(
                "discovery names issuer {}",
                d.issuer
            )));
        }
        *cached = Some(d.clone());
        Ok(d)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Transport(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(OidcError::Transport(format!(
                "HTTP {} from {url}",
                resp.status()
            )));
        }
        resp.json()
            .await
            .map_err(|e| OidcError::Transport(e.to_string()))
    }

    pub async fn start_login(&self) -> Result<LoginStart, OidcError> {
        let d = self.discovery().await?;
        let (state, nonce, code_verifier) = (random_b64(24), random_b64(24), random_b64(32));
        let mut url = reqwest::Url::parse(&d.authorization_endpoint)
            .map_err(|e| OidcError::Transport(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_uri)
            .append_pair("scope", "openid profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce_challenge(&code_verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(LoginStart {
            state,
            nonce,
            code_verifier,
            url: url.to_string(),
        })
    }

    /// Exchanges the code (with the PKCE verifier) and validates the ID token.
    pub async fn finish_login(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<IdClaims, OidcError> {
        #[derive(Deserialize)]
        struct TokenAnswer {
            id_token: String,
        }
        #[derive(Deserialize)]
        struct TokenError {
            error: String,
        }
        let d = self.discovery().await?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let resp = self
            .http
            .post(&d.token_endpoint)
            .basic_auth(
                &self.settings.client_id,
                Some(self.settings.client_secret.expose_secret()),
            )
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::Transport(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_client_error() {
            let err: TokenError = resp
                .json()
                .await
                .map_err(|e| OidcError::Transport(e.to_string()))?;
            return Err(OidcError::Refused(err.error));
        }
        if !status.is_success() {
            return Err(OidcError::Transport(format!(
                "token endpoint HTTP {status}"
            )));
        }
        let answer: TokenAnswer = resp
            .json()
            .await
            .map_err(|e| OidcError::Transport(e.to_string()))?;
        let claims: IdClaims = self
            .validate(&answer.id_token, &["exp", "iss", "aud", "sub", "iat"])
            .await?;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(OidcError::BadToken("nonce does not match".into()));
        }
        Ok(claims)
    }

    /// Validates a back-channel logout token (OIDC Back-Channel Logout §2.6).
    pub async fn validate_logout_token(&self, token: &str) -> Result<LogoutClaims, OidcError> {
        let claims: LogoutClaims = self.validate(token, &["iss", "aud", "iat"]).await?;
        let now = api::clock::now().unix_timestamp();
        if (claims.iat - now).abs() > 300 {
            return Err(OidcError::BadToken("iat too far from now".into()));
        }
        if !claims
            .events
            .get(BACKCHANNEL_EVENT)
            .is_some_and(serde_json::Value::is_object)
        {
            return Err(OidcError::BadToken("no back-channel logout event".into()));
        }
        if claims.nonce.is_some() {
            return Err(OidcError::BadToken(
                "a logout token must not carry a nonce".into(),
            ));
        }
        if claims.sub.is_none() && claims.sid.is_none() {
            return Err(OidcError::BadToken("neither sub nor sid".into()));
        }
        if claims.jti.is_empty() {
            return Err(OidcError::BadToken("no jti".into()));
        }
        Ok(claims)
    }

    async fn validate<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        required: &[&str],
    ) -> Result<T, OidcError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| OidcError::BadToken(e.to_string()))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(OidcError::BadToken(format!(
                "algorithm {:?} not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| OidcError::BadToken("no kid".into()))?;
        let key = self.key(&kid).await?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.settings.issuer]);
        v.set_audience(&[&self.settings.client_id]);
        v.set_required_spec_claims(required);
        v.leeway = 60;
        jsonwebtoken::decode::<T>(token, &key, &v)
            .map(|d| d.claims)
            .map_err(|e| OidcError::BadToken(e.to_string()))
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, OidcError> {
        let mut keys = self.keys.lock().await;
        if let Some(k) = keys.0.get(kid) {
            return Ok(k.clone());
        }
        if keys.1.is_some_and(|at| at.elapsed() < JWKS_REFETCH) {
            return Err(OidcError::BadToken("unknown key".into()));
        }
        let d = self.discovery().await?;
        let set: JwkSet = self.get_json(&d.jwks_uri).await?;
        keys.0 = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        keys.1 = Some(Instant::now());
        keys.0
            .get(kid)
            .cloned()
            .ok_or_else(|| OidcError::BadToken("unknown key".into()))
    }

    /// Where to send the browser to end its session at the platform.
    pub async fn logout_url(&self) -> Option<String> {
        let d = self.discovery().await.ok()?;
        let mut url = reqwest::Url::parse(d.end_session_endpoint.as_deref()?).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair(
                "post_logout_redirect_uri",
                &self.settings.post_logout_redirect_uri,
            );
        Some(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn pkce_s256_matches_rfc_7636() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
