#![forbid(unsafe_code)]
//! Phone-shaped endpoints for the Suishenban channel, under `/m/v1`: compact
//! payloads, one call per screen, on top of the shared core.

mod me;

use api::state::AppState;
use axum::Router;
use utoipa::OpenApi;

pub fn routes() -> Router<AppState> {
    me::routes()
}

#[derive(OpenApi)]
#[openapi(
    paths(me::me),
    tags((name = "mobile", description = "Suishenban mobile channel (/m/v1)"))
)]
pub struct MobileDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    MobileDoc::openapi()
}
