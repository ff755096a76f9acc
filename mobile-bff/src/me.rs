//! `GET /m/v1/me`: what the app's home screen shows of the signed-in user.

use api::authz::{Principal, Role};
use api::error::ApiResult;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sso::SsoState;
use utoipa::ToSchema;

pub fn routes() -> Router<SsoState> {
    Router::new().route("/m/v1/me", get(me))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MobileMe {
    #[schema(value_type = String)]
    pub id: api::ids::UserId,
    pub name: String,
    /// Name of the user's home unit.
    pub unit: Option<String>,
    /// Distinct role codes, for showing or hiding the app's tabs.
    pub roles: Vec<Role>,
}

/// The signed-in user, compact.
#[utoipa::path(get, path = "/m/v1/me", tag = "mobile",
    responses((status = 200, body = MobileMe), (status = 401, body = api::error::Problem)))]
pub async fn me(principal: Principal) -> ApiResult<Json<MobileMe>> {
    Ok(Json(MobileMe::of(principal)))
}

impl MobileMe {
    pub fn of(principal: Principal) -> Self {
        let mut roles: Vec<Role> = principal.grants.iter().map(|g| g.role).collect();
        roles.dedup();
        MobileMe {
            id: principal.user_id,
            name: principal.display_name,
            unit: principal.unit_name,
            roles,
        }
    }
}
