#![forbid(unsafe_code)]
//! Phone-shaped endpoints for the Suishenban channel, under `/m/v1`: compact
//! payloads, one call per screen, on top of the shared core.

mod devices;
mod me;
mod session;
mod verification;

use api::state::AppState;
use axum::Router;
use sso::SsoState;
use utoipa::OpenApi;

pub fn routes(sso: SsoState) -> Router<AppState> {
    me::routes()
        .merge(session::routes())
        .merge(devices::routes())
        .merge(verification::routes())
        .with_state(sso)
}

#[derive(OpenApi)]
#[openapi(
    paths(me::me, session::sign_in, session::refresh, session::sign_out, session::step_up, session::step_up_code, devices::register, devices::remove, verification::send, verification::verify),
    tags((name = "mobile", description = "Suishenban mobile channel (/m/v1)"))
)]
pub struct MobileDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    MobileDoc::openapi()
}
