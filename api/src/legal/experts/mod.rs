//! The expert library (专家库, FW-03): [`record`] checks an expert and
//! masks contacts (pure); [`library`] searches, reads and edits; [`export`]
//! writes `.xlsx` in the user's columns. docs/legal-affairs.md.

pub mod export;
pub mod library;
pub mod record;

pub fn routes() -> axum::Router<crate::state::AppState> {
    library::routes().merge(export::routes())
}
