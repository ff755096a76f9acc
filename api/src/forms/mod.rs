//! Online forms (GK-11 to GK-13): a sender's unit configures a form,
//! distributes it to units, their fillers fill and submit returns, and the
//! sender sees the progress and the aggregate, and exports them.
//!
//! The pure parts decide: the definition and its checks ([`definition`]),
//! the computed-field language ([`expr`]), a return's answers checked and
//! computed ([`answers`]), the states and the steps between them
//! ([`status`]), the aggregate ([`aggregate`]) and the JSON Schema
//! ([`schema`]). The rest reads and writes: [`store`] (scoped reads),
//! [`config`], [`distribute`], [`fill`], [`attachments`], [`review`],
//! [`progress`], [`export`], and [`remind`] (run by the deadline watch).
//! docs/forms.md describes the whole.

pub mod aggregate;
pub mod answers;
pub mod attachments;
pub mod config;
pub mod definition;
pub mod distribute;
pub mod export;
pub mod expr;
pub mod fill;
pub mod progress;
pub mod remind;
pub mod review;
pub mod schema;
pub mod sealed;
pub mod status;
pub mod store;

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    config::routes()
        .merge(distribute::routes())
        .merge(fill::routes())
        .merge(attachments::routes())
        .merge(review::routes())
        .merge(progress::routes())
        .merge(export::routes())
}
