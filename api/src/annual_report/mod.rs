//! The annual report on government information disclosure (GK-20), in the
//! national format (国办公开办函〔2021〕30号): section 3 computed from the
//! cases ([`table3`], pure), the sections an agency enters ([`entered`]),
//! the consistency checks ([`checks`]), the report's states ([`status`]),
//! one agency's report ([`reports`]), the unit above's review and roll-up
//! ([`review`]), the drill-down from a cell to its cases ([`drill`]) and
//! the `.xlsx` and PDF exports ([`export`], [`pdf`]); every agency at
//! once ([`city`]).
//! docs/annual-report.md.

pub mod checks;
pub mod city;
pub mod drill;
pub mod entered;
pub mod export;
pub mod pdf;
pub mod reports;
pub mod review;
pub mod status;
pub mod store;
pub mod table3;

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    reports::routes()
        .merge(review::routes())
        .merge(drill::routes())
        .merge(export::routes())
}
