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
        crate::calendar::routes::list_years,
        crate::calendar::routes::import_year,
        crate::disclosure::case_list::list_cases,
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
        crate::forms::config::list,
        crate::forms::config::create,
        crate::forms::config::one,
        crate::forms::config::edit,
        crate::forms::config::remove,
        crate::forms::config::copy,
        crate::forms::config::next_version,
        crate::forms::config::schema,
        crate::forms::distribute::distribute,
        crate::forms::progress::progress,
        crate::forms::export::export,
        crate::forms::fill::mine,
        crate::forms::fill::one,
        crate::forms::fill::save,
        crate::forms::fill::submit,
        crate::forms::attachments::upload,
        crate::forms::attachments::download,
        crate::forms::review::review,
        crate::forms::review::remind,
        crate::forms::review::withdraw,
        crate::legal::cleanup::campaigns::index,
        crate::legal::cleanup::campaigns::create,
        crate::legal::cleanup::campaigns::show,
        crate::legal::cleanup::distribute::distribute,
        crate::legal::cleanup::upload::import,
        crate::legal::cleanup::upload::template,
        crate::legal::cleanup::lists::show,
        crate::legal::cleanup::lists::save,
        crate::legal::cleanup::steps::take,
        crate::legal::cleanup::progress::progress,
        crate::legal::cleanup::export::export,
        crate::legal::assessment::templates::index,
        crate::legal::assessment::templates::create,
        crate::legal::assessment::templates::show,
        crate::legal::assessment::templates::indicators,
        crate::legal::assessment::templates::publish,
        crate::legal::assessment::templates::publish_results,
        crate::legal::assessment::scores::show,
        crate::legal::assessment::scores::enter,
        crate::legal::assessment::materials::upload,
        crate::legal::assessment::materials::download,
        crate::legal::assessment::results::results,
        crate::legal::assessment::results::export,
        crate::legal::filing::records::list,
        crate::legal::filing::records::create,
        crate::legal::filing::records::one,
        crate::legal::filing::records::edit,
        crate::legal::filing::files::upload,
        crate::legal::filing::files::download,
        crate::legal::filing::review::take,
        crate::legal::filing::package::export,
        crate::legal::filing::package::import,
        crate::legal::filing::package::list,
        crate::legal::filing::package::one,
        crate::legal::filing::intake::push,
        crate::legal::decisions::catalogue::declare,
        crate::legal::decisions::catalogue::list,
        crate::legal::decisions::catalogue::step,
        crate::legal::decisions::stats::statistics,
        crate::legal::decisions::stats::export,
        crate::legal::experts::library::list,
        crate::legal::experts::library::create,
        crate::legal::experts::library::one,
        crate::legal::experts::library::update,
        crate::legal::experts::library::remove,
        crate::legal::experts::library::overview,
        crate::legal::experts::export::export,
        crate::legal::exchange::notes::create,
        crate::legal::exchange::notes::edit,
        crate::legal::exchange::notes::remove,
        crate::legal::exchange::notes::send,
        crate::legal::exchange::notes::recall,
        crate::legal::exchange::lists::sent,
        crate::legal::exchange::lists::inbox,
        crate::legal::exchange::lists::one,
        crate::legal::exchange::replies::reply,
        crate::legal::exchange::replies::attach,
        crate::legal::exchange::replies::download,
        crate::export_templates::index,
        crate::export_templates::save,
        crate::export_templates::remove,
        crate::warning::categories::list,
        crate::warning::categories::create,
        crate::warning::categories::change,
        crate::warning::categories::remove,
        crate::warning::rules::list,
        crate::warning::rules::create,
        crate::warning::rules::one,
        crate::warning::rules::change,
        crate::warning::warnings::list,
        crate::warning::warnings::one,
        crate::warning::warnings::reply,
        crate::warning::reply_files::upload,
        crate::warning::reply_files::download,
        crate::warning::stats::json_report,
        crate::warning::stats::xlsx_report,
        crate::annual_report::reports::read,
        crate::annual_report::reports::refresh,
        crate::annual_report::reports::save,
        crate::annual_report::reports::submit,
        crate::annual_report::review::list,
        crate::annual_report::review::return_report,
        crate::annual_report::review::accept,
        crate::annual_report::review::rollup,
        crate::annual_report::drill::cases,
        crate::annual_report::export::export,
        crate::annual_report::export::pdf,
    ),
    components(schemas(crate::error::Problem)),
    tags(
        (name = "org", description = "Org units, users and roles"),
        (name = "disclosure", description = "Disclosure on application (依申请公开): cases"),
        (name = "seals", description = "E-seals: seals, grants, approvers, seal-use applications, signed decisions"),
        (name = "forms", description = "Online forms: configuration, distribution to units, filling, review, progress, aggregate, export"),
        (name = "legal", description = "Legal affairs: clean-up campaigns of normative documents (lists, review, import, progress, export); the yearly work assessment (indicators, scores, material, results); filings, their data packages and the office platforms' official documents; the catalogue of major administrative decisions and its statistics"),
        (name = "exports", description = "User-defined exports: saved column choices by name"),
        (name = "annual-report", description = "The annual report on government information disclosure: tables computed from the cases, checks, review, roll-up, drill-down, export"),
        (name = "warnings", description = "Application warnings: rule categories, versioned rules, warnings to the agencies concerned, replies"),
        (name = "calendar", description = "The working-day calendar: published years, importing a year's holiday arrangement"),
        (name = "ops", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The core's document merged with the other crates' (`extra`), as JSON,
/// with what is true of every operation written down once: error bodies are
/// `application/problem+json`, and any status not listed (400 for a body
/// that is not JSON, 401, 413, 415, 429, 5xx…) answers a Problem too.
pub fn render(extra: utoipa::openapi::OpenApi) -> String {
    let mut doc = ApiDoc::openapi();
    doc.merge(extra);
    let mut value = serde_json::to_value(&doc).unwrap_or_default();
    problems_everywhere(&mut value);
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

const PROBLEM_REF: &str = "#/components/schemas/Problem";
const PROBLEM_TYPE: &str = "application/problem+json";

fn problems_everywhere(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| ops.values_mut())
    {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for response in responses.values_mut() {
            let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
                continue;
            };
            let is_problem = content
                .get("application/json")
                .is_some_and(|c| c["schema"]["$ref"] == PROBLEM_REF);
            if is_problem && let Some(body) = content.remove("application/json") {
                content.insert(PROBLEM_TYPE.to_owned(), body);
            }
        }
        responses.entry("default").or_insert_with(|| {
            json!({
                "description": "any other answer: an RFC 9457 problem",
                "content": { PROBLEM_TYPE: { "schema": { "$ref": PROBLEM_REF } } }
            })
        });
    }
}
