//! The yearly work assessment (依法行政工作考核, FW-02). The pure parts
//! decide: points with one decimal and a score's check against its
//! indicator ([`points`]), the indicator tree ([`tree`]) and the ranking
//! ([`ranking`]). The rest reads and writes: [`store`] (scoped reads),
//! [`templates`] (the year's indicators, publication), [`scores`],
//! [`materials`], [`results`] (totals, ranking, export) and [`remind`]
//! (run by the deadline watch).

pub mod materials;
pub mod points;
pub mod ranking;
pub mod remind;
pub mod results;
pub mod scores;
pub mod store;
pub mod templates;
pub mod tree;

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    templates::routes()
        .merge(scores::routes())
        .merge(materials::routes())
        .merge(results::routes())
}
