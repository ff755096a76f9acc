//! Data packages (FW-05): filings cross the air gap between the
//! internet-facing and the internal network on a disc, as one signed file.
//! [`manifest`] says what a package holds; [`reconcile`] decides what an
//! imported record does (both pure); [`build`] makes one, [`open`] checks
//! one whole before anything is written, [`apply`] imports it. The office
//! (legal affairs administrators) runs the exchange: these routes, and
//! `gov-server filings export`.

pub mod apply;
pub mod build;
pub mod manifest;
pub mod open;
pub mod reconcile;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use self::apply::{Report, refused};
use self::build::Selection;
use self::open::Trust;
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::PackageId;
use crate::on_db;
use crate::state::AppState;

pub const CONTENT_TYPE: &str = "application/zip";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/filing-packages/export", post(export))
        .route(
            "/api/v1/legal/filing-packages",
            get(list).post(import).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/legal/filing-packages/{id}", get(one))
}

fn office(p: &Principal) -> ApiResult<()> {
    p.require_any(&[Role::LegalAdmin])
}

/// Makes a package of the filings chosen, as a download.
#[utoipa::path(post, path = "/api/v1/legal/filing-packages/export", tag = "legal", request_body = Selection,
    responses((status = 200, description = "the package (.zip)", content_type = "application/zip"),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn export(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(sel): ApiJson<Selection>,
) -> ApiResult<Response> {
    office(&p)?;
    let built = build::build(&app, &p, &sel).await?;
    let disposition = format!("attachment; filename=\"filings-{}.zip\"", built.id);
    Ok((
        [
            (header::CONTENT_TYPE, CONTENT_TYPE.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-package-id"),
                built.id.into_string(),
            ),
        ],
        Body::from(built.bytes),
    )
        .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportAnswer {
    pub package_id: String,
    /// True when this package had been imported before: nothing changed.
    pub repeated: bool,
    pub records: usize,
    #[serde(flatten)]
    pub report: Report,
}

/// Imports a package from the other network: checked whole (signature,
/// every hash, format, size), then applied record by record.
#[utoipa::path(post, path = "/api/v1/legal/filing-packages", tag = "legal",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the package, sent as application/zip"),
    responses((status = 200, body = ImportAnswer), (status = 403, body = crate::error::Problem),
        (status = 413, description = "larger than legal.max_package_bytes", body = crate::error::Problem),
        (status = 415, body = crate::error::Problem),
        (status = 422, description = "refused whole: the field names the file, the detail the problem", body = crate::error::Problem)))]
pub async fn import(
    State(app): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportAnswer>> {
    office(&p)?;
    let bytes = receive(&app, &headers, body).await?;
    let keys = trusted(&app);
    let (side, max_unpacked) = (
        app.config.legal.filing_side,
        app.config.legal.max_unpacked_bytes,
    );
    let held = bytes.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let trust = Trust {
            side,
            keys: &keys,
            max_unpacked,
        };
        open::open(&held, &trust)
    })
    .await
    .map_err(anyhow::Error::from)?;
    let refusal = match opened {
        Ok(opened) => {
            let package_id = opened.manifest.package_id.to_string();
            let records = opened.records.len();
            match apply::apply(&app, &p, opened, bytes).await {
                Ok((report, repeated)) => {
                    let answer = ImportAnswer {
                        package_id,
                        repeated,
                        records,
                        report,
                    };
                    return Ok(Json(answer));
                }
                Err(e @ ApiError::Invalid { .. }) => e,
                Err(e) => return Err(e),
            }
        }
        Err(r) => refused(r),
    };
    // Refused whole: audited with the reason.
    let reason = refusal.to_string();
    crate::audit::record_denied(
        &app,
        &p,
        "legal.filing.package_import",
        "filing_package",
        &reason,
    )
    .await;
    Err(refusal)
}

/// The body, at most `legal.max_package_bytes`: a larger one is refused
/// as it arrives, before anything is unpacked.
async fn receive(app: &AppState, headers: &HeaderMap, body: Body) -> ApiResult<Bytes> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !matches!(declared, CONTENT_TYPE | "application/octet-stream") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let max = app.config.legal.max_package_bytes as usize;
    axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)
}

/// This side's own key and the configured peers'.
fn trusted(app: &AppState) -> Vec<String> {
    const END: &str = "-----END PUBLIC KEY-----";
    let mut keys: Vec<String> = app
        .config
        .legal
        .filing_peers
        .split_inclusive(END)
        .map(str::trim)
        .filter(|k| k.ends_with(END))
        .map(|k| format!("{k}\n"))
        .collect();
    keys.push(app.signer.public_key_pem().to_owned());
    keys
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct PackageView {
    pub id: String,
    /// `export` (made here) or `import`.
    pub direction: String,
    pub source_side: String,
    pub signer_key_id: String,
    pub records_total: i64,
    /// How many records are done: the progress of an import.
    pub records_done: i64,
    /// `importing` or `done`.
    pub status: String,
    #[serde(skip)]
    pub report: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
}

const SELECT: &str = "SELECT id, direction, source_side, signer_key_id, records_total, records_done, status, \
     report, created_by, created_at FROM filing_packages ";

/// The packages made and imported here, newest first (at most 100).
#[utoipa::path(get, path = "/api/v1/legal/filing-packages", tag = "legal",
    responses((status = 200, body = Vec<PackageView>), (status = 403, body = crate::error::Problem)))]
pub async fn list(State(app): State<AppState>, p: Principal) -> ApiResult<Json<Vec<PackageView>>> {
    office(&p)?;
    let sql = format!("{SELECT}ORDER BY created_at DESC, id DESC LIMIT 100");
    let rows: Vec<PackageView> =
        on_db!(&app.db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await)?;
    Ok(Json(rows))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackageDetail {
    #[serde(flatten)]
    pub package: PackageView,
    /// An import's outcome, once done.
    pub report: Option<Report>,
}

/// One package, with an import's progress and report.
#[utoipa::path(get, path = "/api/v1/legal/filing-packages/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = PackageDetail), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<PackageId>,
) -> ApiResult<Json<PackageDetail>> {
    office(&p)?;
    let sql = format!("{SELECT}WHERE id = $1");
    let row: Option<PackageView> = on_db!(&app.db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&id).fetch_optional(c).await)?;
    let package = row.ok_or(ApiError::NotFound)?;
    let report = (package.direction == "import" && package.status == "done")
        .then(|| serde_json::from_str(&package.report).ok())
        .flatten();
    Ok(Json(PackageDetail { package, report }))
}
