//! Legal affairs (法律事务, the General Office's 法律事务处): the second
//! subsystem. [`cleanup`]: the evaluation and clean-up of normative
//! documents (FW-01); [`assessment`]: the yearly work assessment (FW-02);
//! [`filing`]: filings, their data packages across the air gap and the
//! official documents pushed by the office platforms (FW-05, XT-01);
//! [`decisions`]: the catalogue of major administrative decisions (FW-07);
//! [`experts`]: the expert library (FW-03); [`exchange`]: work exchange
//! notes between units (FW-04).
//! docs/legal-affairs.md.

pub mod assessment;
pub mod cleanup;
pub mod decisions;
pub mod exchange;
pub mod experts;
pub mod filing;

pub fn routes() -> axum::Router<crate::state::AppState> {
    cleanup::routes()
        .merge(assessment::routes())
        .merge(filing::routes())
        .merge(decisions::routes())
        .merge(experts::routes())
        .merge(exchange::routes())
}
