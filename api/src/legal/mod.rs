//! Legal affairs (法律事务, the General Office's 法律事务处): the second
//! subsystem. [`cleanup`]: the evaluation and clean-up of normative
//! documents (FW-01); [`assessment`]: the yearly work assessment (FW-02).
//! docs/legal-affairs.md.

pub mod assessment;
pub mod cleanup;

pub fn routes() -> axum::Router<crate::state::AppState> {
    cleanup::routes().merge(assessment::routes())
}
