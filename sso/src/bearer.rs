//! `Authorization: Bearer <access token>`: verify the JWT, then check in the
//! database that its session is still open and its user still active, so
//! that logout, a disabled account or a revoked family take effect on the
//! very next request on every instance.

use std::sync::Arc;

use api::authz::{AuthFuture, Authenticate, UserKey, load_principal};
use api::db::Db;
use api::error::ApiError;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::keys::KeyRing;
use crate::sessions;
use crate::tokens;

pub struct Bearer {
    pub keys: Arc<KeyRing>,
    pub issuer: String,
}

impl Authenticate for Bearer {
    fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a Db) -> AuthFuture<'a> {
        Box::pin(async move {
            let token = parts
                .headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(ApiError::Unauthenticated)?;
            let claims = tokens::verify(&self.keys, &self.issuer, token.trim()).await?;
            let session = sessions::active(db, &claims.sid, &claims.sub)
                .await?
                .ok_or_else(|| ApiError::AuthFailed {
                    code: "session_ended",
                    detail: "会话已结束，请重新登录".into(),
                })?;
            let mut principal = load_principal(db, UserKey::Id(&claims.sub)).await?;
            principal.session = Some(session);
            Ok(principal)
        })
    }
}
