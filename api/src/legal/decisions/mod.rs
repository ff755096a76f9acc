//! Major administrative decisions (重大行政决策, FW-07): [`progress`] (the
//! states of a declaration's catalogue filing, and the two groups that
//! declare; pure), [`catalogue`] (declare, move on, list and drill down)
//! and [`stats`] (the statistics, chart-shaped and as `.xlsx`).

pub mod catalogue;
pub mod progress;
pub mod stats;

pub fn routes() -> axum::Router<crate::state::AppState> {
    catalogue::routes().merge(stats::routes())
}
