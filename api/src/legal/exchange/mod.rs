//! Work exchange between units (工作交流, FW-04): [`store`] (scoped reads,
//! the states, the history), [`notes`] (drafts, send, recall), [`lists`]
//! (sent, inbox, one note and its reading), [`replies`] (threaded replies
//! and files) and [`view`] (what each party sees). docs/legal-affairs.md.

pub mod lists;
pub mod notes;
pub mod replies;
pub mod store;
pub mod view;

pub fn routes() -> axum::Router<crate::state::AppState> {
    notes::routes()
        .merge(lists::routes())
        .merge(replies::routes())
}
