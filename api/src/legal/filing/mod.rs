//! Filings (备案) of normative and official documents (FW-05, XT-01). A
//! unit reports a document on the internet-facing network; the legal
//! affairs office reviews it on the internal one, and the two exchange
//! filings by signed data packages on a disc. The pure parts decide: the
//! states and steps, who takes them and on which network ([`status`]), a
//! document's checks and the fields a returned filing may change
//! ([`content`]), and what an imported record does ([`package::reconcile`]).
//! The rest reads and writes: [`store`], [`records`], [`files`],
//! [`review`], [`package`], and [`intake`] (documents pushed by the unified
//! office platforms). docs/legal-affairs.md.

pub mod content;
pub mod files;
pub mod intake;
pub mod package;
pub mod records;
pub mod review;
pub mod status;
pub mod store;

pub fn routes() -> axum::Router<crate::state::AppState> {
    records::routes()
        .merge(files::routes())
        .merge(review::routes())
        .merge(package::routes())
        .merge(intake::routes())
}
