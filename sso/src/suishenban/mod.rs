//! Mobile sign-in through Suishenban (随申办, GK-06).
//!
//! The app gets a one-time auth code from the Suishenban SDK and sends it to
//! us; we exchange it server-side, with our app access token, for the user's
//! identity at Suishenban, find our user (by the linked Suishenban id, or on
//! first sign-in by the mobile number Suishenban verified) and start a mobile
//! session.
//!
//! Suishenban publishes no spec to us, so the protocol follows the usual
//! shape of Chinese government and enterprise platforms (WeCom-style
//! `errcode`/`errmsg` answers with HTTP 200); `standin` is its executable
//! description, and every endpoint, key and secret is configuration.

pub mod client;
#[cfg(feature = "stand-ins")]
pub mod standin;

use api::audit::{self, Actor, Entry, Outcome};
use api::authz::{Principal, UserKey, load_principal};
use api::error::{ApiError, ApiResult};
use api::ids::UserId;
use api::on_db;
use api::org::users::PHONE_FIELD;
use serde_json::json;

use crate::SsoState;
use crate::sessions::{self, Channel, IssuedTokens, NewSession};
use client::ConnectorError;

fn entry(login: &str, user_id: Option<&str>, outcome: Outcome, why: &str) -> Entry {
    Entry {
        actor: Actor {
            id: user_id.map(str::to_owned),
            label: login.to_owned(),
        },
        action: "login",
        target_type: Some("user"),
        target_id: user_id.map(str::to_owned),
        outcome,
        detail: json!({ "channel": "mobile", "via": "suishenban", "result": why }),
    }
}

/// Exchanges an auth code for a mobile session.
pub async fn login(
    sso: &SsoState,
    auth_code: &str,
    device_id: &str,
) -> ApiResult<(IssuedTokens, Principal)> {
    let app = &sso.app;
    let client = sso.suishenban.as_ref().ok_or(ApiError::Unavailable)?;
    let identity = match client.user_by_code(auth_code).await {
        Ok(identity) => identity,
        Err(ConnectorError::Rejected { code, .. }) => {
            audit::record(
                &app.db,
                app.audit_key(),
                entry(
                    "suishenban",
                    None,
                    Outcome::Failure,
                    &format!("errcode {code}"),
                ),
            )
            .await?;
            return Err(ApiError::AuthFailed {
                code: "invalid_auth_code",
                detail: "随申办授权码无效、已使用或已过期，请重新登录".into(),
            });
        }
        Err(e) => {
            tracing::error!(error = %e, "Suishenban sign-in failed");
            return Err(ApiError::Unavailable);
        }
    };
    let user_id = find_or_link(sso, &identity).await?;
    let Some(user_id) = user_id else {
        let why = format!("no user for suishenban id {}", identity.user_id);
        audit::record(
            &app.db,
            app.audit_key(),
            entry(&identity.user_id, None, Outcome::Failure, &why),
        )
        .await?;
        return Err(ApiError::AuthFailed {
            code: "unknown_user",
            detail: "该随申办账号尚未关联本系统用户，请联系单位管理员".into(),
        });
    };
    let principal = load_principal(&app.db, UserKey::Id(&user_id)).await?;
    let mut tx = app.db.begin().await?;
    let new = NewSession {
        channel: Channel::Mobile,
        device_id: Some(device_id),
        amr: &["sso"],
        platform_sid: None,
    };
    let tokens = sessions::start(sso, &mut tx, &principal, new).await?;
    audit::append(
        &mut tx,
        app.audit_key(),
        entry(
            &principal.login_name,
            Some(user_id.as_str()),
            Outcome::Success,
            "ok",
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((tokens, principal))
}

/// Our user for a Suishenban identity: by the linked id, else by the mobile
/// number Suishenban verified, which links them for next time.
async fn find_or_link(sso: &SsoState, identity: &client::SsbUser) -> ApiResult<Option<UserId>> {
    const BY_ID: &str = "SELECT id FROM users WHERE suishenban_id = $1 AND status = 'active'";
    const BY_PHONE: &str =
        "SELECT id, suishenban_id FROM users WHERE phone_index = $1 AND status = 'active'";
    const LINK: &str =
        "UPDATE users SET suishenban_id = $2 WHERE id = $1 AND suishenban_id IS NULL";
    let db = &sso.app.db;
    let linked: Option<UserId> =
        on_db!(db, p => sqlx::query_scalar(BY_ID).bind(&identity.user_id).fetch_optional(p).await)?;
    if linked.is_some() {
        return Ok(linked);
    }
    let Ok(phone) = api::pii::Phone::parse(&identity.mobile) else {
        return Ok(None);
    };
    let index = sso.app.pii.blind_index(PHONE_FIELD, phone.as_str());
    let found: Vec<(UserId, Option<String>)> =
        on_db!(db, p => sqlx::query_as(BY_PHONE).bind(&index).fetch_all(p).await)?;
    // Two accounts with one number is ambiguous: refuse rather than guess.
    let [(user_id, linked)] = found.as_slice() else {
        return Ok(None);
    };
    match linked {
        // Linked by a concurrent first sign-in of the same person.
        Some(id) if *id == identity.user_id => Ok(Some(user_id.clone())),
        // The number now belongs to another Suishenban account.
        Some(_) => Ok(None),
        None => {
            on_db!(db, p => sqlx::query(LINK).bind(user_id).bind(&identity.user_id).execute(p).await.map(|_| ()))?;
            Ok(Some(user_id.clone()))
        }
    }
}
