//! Clean-up campaigns of normative documents (规范性文件清理, FW-01). The
//! pure parts decide: which report line a unit is on and who reviews it
//! ([`line`]), the states of a unit's list and the steps between them
//! ([`status`]), a list's documents checked ([`document`]), an imported
//! sheet read row by row ([`import`]) and the counts per decision of a
//! report ([`counts`]). The rest reads and writes: [`store`] (scoped
//! reads), [`campaigns`], [`distribute`], [`upload`] (the city documents'
//! import), [`lists`], [`steps`], [`progress`], [`export`], and
//! [`remind`] (run by the deadline watch).

pub mod campaigns;
pub mod counts;
pub mod distribute;
pub mod document;
pub mod export;
pub mod import;
pub mod line;
pub mod lists;
pub mod progress;
pub mod remind;
pub mod status;
pub mod steps;
pub mod store;
pub mod upload;

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    campaigns::routes()
        .merge(distribute::routes())
        .merge(upload::routes())
        .merge(lists::routes())
        .merge(steps::routes())
        .merge(progress::routes())
        .merge(export::routes())
}
