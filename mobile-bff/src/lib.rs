#![forbid(unsafe_code)]
//! Phone-shaped endpoints for the Suishenban channel, under `/m/v1`: compact
//! payloads, one call per screen, on top of the shared core.

mod applicant;
mod cases;
mod devices;
mod disclosure;
mod forms;
mod legal;
mod me;
mod seals;
mod session;
mod verification;

use api::state::AppState;
use axum::Router;
use sso::SsoState;
use utoipa::OpenApi;

pub fn routes(sso: SsoState) -> Router<AppState> {
    me::routes()
        .merge(session::routes())
        .merge(devices::routes())
        .merge(verification::routes())
        .merge(applicant::routes())
        .merge(disclosure::routes())
        .merge(cases::routes())
        .merge(seals::routes())
        .merge(forms::routes())
        .merge(legal::routes())
        .with_state(sso)
}

#[derive(OpenApi)]
#[openapi(
    paths(me::me, session::sign_in, session::refresh, session::sign_out, session::step_up, session::step_up_code, devices::register, devices::remove, verification::send, verification::verify,
        applicant::sign_in, applicant::sign_out, applicant::profile,
        disclosure::agencies, disclosure::submit, disclosure::list, disclosure::detail, disclosure::notice_pdf,
        cases::list, cases::detail, cases::handling, cases::dispatch, cases::reply,
        seals::inbox_screen, seals::apply, seals::one, seals::decide,
        forms::list, forms::one, forms::save, forms::submit, forms::progress_screen,
        legal::reviews, legal::one, legal::step, legal::notes, legal::note, legal::reply),
    tags(
        (name = "mobile", description = "Suishenban mobile channel (/m/v1)"),
        (name = "applicant", description = "Applicants (the public): sign-in, one-net prefill, disclosure requests"),
    )
)]
pub struct MobileDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    MobileDoc::openapi()
}
