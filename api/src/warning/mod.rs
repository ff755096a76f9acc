//! Application warnings (GK-16 to GK-19): the General Office's city-wide
//! view of applicants who file many requests across agencies. Categories
//! ([`categories`]) hold rules ([`rules`], decided by the pure
//! [`rule`]); every request the disclosure intake registers is counted
//! against them in its own transaction ([`evaluate`]); a warning goes to
//! each agency concerned ([`raise`]), which replies ([`warnings`], with
//! files: [`reply_files`]); the General Office's statistics ([`stats`]).
//! docs/warnings.md.

pub mod categories;
pub mod evaluate;
pub mod raise;
pub mod reply_files;
pub mod rule;
pub mod rules;
pub mod stats;
pub mod warnings;

use axum::Router;

use crate::audit;
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    categories::routes()
        .merge(rules::routes())
        .merge(warnings::routes())
        .merge(reply_files::routes())
        .merge(stats::routes())
}

/// Refuses (403, audited) unless the caller is one of the General Office's
/// disclosure administrators.
pub(crate) async fn admin(app: &AppState, p: &Principal, action: &'static str) -> ApiResult<()> {
    if p.has_role(Role::DisclosureAdmin) {
        return Ok(());
    }
    audit::record_denied(app, p, action, "warning", "").await;
    Err(ApiError::Forbidden)
}
