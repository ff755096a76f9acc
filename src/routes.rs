//! Every module's routes, and the OpenAPI document that describes them, in
//! one list each: a new module adds its router here and its paths to its
//! crate's document. The HTTP kernel (`api::http::app`) adds the operations
//! routes and the middleware.

use api::state::AppState;
use axum::Router;
use sso::SsoState;

/// The routes of every module of every crate.
pub fn modules(sso: &SsoState) -> Router<AppState> {
    Router::new()
        .merge(api::org::units::routes())
        .merge(api::org::users::routes())
        .merge(api::org::roles::routes())
        .merge(api::calendar::routes::routes())
        .merge(api::disclosure::case_list::routes())
        .merge(api::disclosure::actions::routes())
        .merge(api::seal::routes())
        .merge(api::forms::routes())
        .merge(api::legal::routes())
        .merge(api::export_templates::routes())
        .merge(api::warning::routes())
        .merge(api::annual_report::routes())
        .merge(sso::routes(sso.clone()))
        .merge(mobile_bff::routes(sso.clone()))
        .merge(notify::admin::routes())
}

/// The OpenAPI document: the core's, merged with the other crates'.
pub fn openapi() -> String {
    let mut extra = sso::openapi();
    extra.merge(mobile_bff::openapi());
    extra.merge(notify::openapi());
    api::openapi::render(extra)
}
