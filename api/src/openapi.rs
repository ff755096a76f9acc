//! The OpenAPI 3.1 description, generated from the handlers' annotations.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "政务信息资源应用系统 API",
        description = "Shanghai Government Information Resource Application System (2025 upgrade): PC API (/api/v1), mobile BFF (/m/v1), operations. Errors are RFC 9457 problem+json.",
        version = "0.1.0",
    ),
    paths(
        crate::http::ops::healthz,
        crate::http::ops::readyz,
        crate::http::ops::metrics,
        crate::org::units::list_units,
        crate::org::units::get_unit,
        crate::org::users::me,
        crate::org::roles::grant_role,
        crate::disclosure::cases::list_cases,
        crate::disclosure::actions::get_case,
        crate::disclosure::actions::notice_pdf,
        crate::disclosure::actions::handling,
        crate::disclosure::actions::dispatch,
        crate::disclosure::actions::reply,
        crate::disclosure::actions::correction,
        crate::disclosure::actions::corrected,
        crate::disclosure::actions::abandon,
        crate::disclosure::actions::consultation,
        crate::disclosure::actions::consultation_end,
        crate::disclosure::actions::extension,
        crate::disclosure::actions::conclusion,
        crate::seal::seals::list,
        crate::seal::seals::create,
        crate::seal::seals::one,
        crate::seal::seals::change,
        crate::seal::seals::remove,
        crate::seal::seals::image,
        crate::seal::grants::history,
        crate::seal::grants::grant,
        crate::seal::grants::revoke,
        crate::seal::approvers::read,
        crate::seal::approvers::replace,
        crate::seal::applications::apply,
        crate::seal::applications::one,
        crate::seal::applications::decide,
        crate::seal::applications::withdraw,
        crate::seal::decision::verify_route,
        crate::seal::stats::json_report,
        crate::seal::stats::xlsx_report,
    ),
    components(schemas(crate::error::Problem)),
    tags(
        (name = "org", description = "Org units, users and roles"),
        (name = "disclosure", description = "Disclosure on application (依申请公开): cases"),
        (name = "seals", description = "E-seals: seals, grants, approvers, seal-use applications, signed decisions"),
        (name = "ops", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The core's document merged with the other crates' (`extra`), as JSON.
pub fn render(extra: utoipa::openapi::OpenApi) -> String {
    let mut doc = ApiDoc::openapi();
    doc.merge(extra);
    doc.to_pretty_json().unwrap_or_default() + "\n"
}
