//! Users: creating them, and the caller's own profile.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::authz::{Grant, Principal};
use crate::clock;
use crate::db::{Tx, constraint};
use crate::error::{ApiError, ApiResult};
use crate::pii::{Phone, PiiCipher, mask_phone};
use crate::state::AppState;
use crate::{on_db, on_tx};

pub const PHONE_FIELD: &str = "users.phone";

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me))
}

pub struct NewUser<'a> {
    pub login_name: &'a str,
    pub display_name: &'a str,
    pub unit_id: Option<&'a str>,
    pub phone: Option<&'a Phone>,
    /// The user's id at the unified office platform, when known.
    pub platform_id: Option<&'a str>,
}

/// Inserts a user and answers their id; a taken login name is a conflict.
pub async fn create(tx: &mut Tx, pii: &PiiCipher, user: NewUser<'_>) -> ApiResult<String> {
    const SQL: &str = "INSERT INTO users (id, login_name, display_name, unit_id, phone_cipher, \
         phone_index, platform_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $8, 'active', $7, $7)";
    let id = ulid::Ulid::new().to_string();
    let cipher = user.phone.map(|p| pii.encrypt(PHONE_FIELD, p.as_str()));
    let index = user.phone.map(|p| pii.blind_index(PHONE_FIELD, p.as_str()));
    let done = on_tx!(tx, c => sqlx::query(SQL)
        .bind(&id).bind(user.login_name).bind(user.display_name).bind(user.unit_id)
        .bind(&cipher).bind(&index).bind(clock::now()).bind(user.platform_id)
        .execute(c).await.map(|r| r.rows_affected()));
    match done {
        Ok(_) => Ok(id),
        Err(e) if constraint::violated(&e).is_some() => Err(ApiError::Conflict {
            code: "login_name_taken",
            detail: format!("登录名 {} 已被使用", user.login_name),
        }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[schema(value_type = String)]
    pub id: crate::ids::UserId,
    pub login_name: String,
    pub display_name: String,
    pub unit: Option<crate::org::units::UnitRef>,
    /// Masked, e.g. `138****5678`.
    pub phone_masked: Option<String>,
    pub roles: Vec<RoleView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    #[serde(flatten)]
    pub grant: Grant,
    /// The role as people read it, e.g. 经办人.
    pub role_label: String,
}

/// The signed-in user: who they are, where, and what they may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "org",
    responses((status = 200, body = Me), (status = 401, body = crate::error::Problem)))]
pub async fn me(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Me>> {
    const SQL: &str = "SELECT phone_cipher FROM users WHERE id = $1";
    let cipher: Option<Vec<u8>> = on_db!(&state.db, p => sqlx::query_scalar(SQL).bind(&principal.user_id).fetch_one(p).await)?;
    let phone_masked = cipher.map(|c| match state.pii.decrypt(PHONE_FIELD, &c) {
        Ok(phone) => mask_phone(&phone),
        Err(e) => {
            tracing::error!(user_id = %principal.user_id, error = %e, "phone does not decrypt");
            mask_phone("")
        }
    });
    let unit = principal
        .unit_id
        .clone()
        .zip(principal.unit_name)
        .map(|(id, name)| crate::org::units::UnitRef { id, name });
    Ok(Json(Me {
        id: principal.user_id,
        login_name: principal.login_name,
        display_name: principal.display_name,
        unit,
        phone_masked,
        roles: principal
            .grants
            .into_iter()
            .map(|grant| RoleView {
                role_label: grant.role.label_zh().to_owned(),
                grant,
            })
            .collect(),
    }))
}
