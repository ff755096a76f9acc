//! A filing's attachments (the document's annexes, a scanned original):
//! sent by its reporting officer while the filing is with the unit or
//! waiting for review, kept in the project's file store under their SM3,
//! read by whoever sees the filing. A data package carries them.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::package::manifest::FileRecord;
use super::status::{FilingStatus, reports_here};
use super::store::{self, wrong_side};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::ids::FilingId;
use crate::state::AppState;
use crate::{on_db, on_tx};

pub type FileView = FileRecord;

pub const NAMESPACE: &str = "filings";
const TYPES: [&str; 4] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];
const MAX_PER_FILING: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/legal/filings/{id}/files",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/legal/filings/{id}/files/{hash}", get(download))
}

pub async fn of_filing(app: &AppState, id: &FilingId) -> ApiResult<Vec<FileRecord>> {
    const SQL: &str = "SELECT hash, file_name, content_type, size_bytes FROM filing_files \
         WHERE filing_id = $1 ORDER BY file_name, hash";
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_all(c).await)?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// The file's name, as shown.
    pub name: String,
}

/// Attaches a file to a filing (its reporting officer).
#[utoipa::path(post, path = "/api/v1/legal/filings/{id}/files", tag = "legal",
    params(("id" = String, Path), FileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file, sent with its own Content-Type: PDF, JPEG, PNG or .docx"),
    responses((status = 201, body = FileRecord), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, description = "under review or decided", body = crate::error::Problem),
        (status = 413, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn upload(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FilingId>,
    ApiQuery(q): ApiQuery<FileQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<FileRecord>)> {
    let row = store::filing(&app, &p, &id).await?;
    if !store::reports_for(&p, &row.unit_id) {
        crate::audit::record_denied(&app, &p, "legal.filing.file", "filing", id.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    if !reports_here(app.config.legal.filing_side) {
        return Err(wrong_side("备案附件上传"));
    }
    if !matches!(row.status, FilingStatus::Submitted | FilingStatus::Returned) {
        return Err(ApiError::Conflict {
            code: "wrong_state",
            detail: format!("备案当前为“{}”，不能再添加附件", row.status.label_zh()),
        });
    }
    let name = crate::validate::text("name", Some(&q.name), 200, false)?;
    let stored = crate::files::receive(&app, NAMESPACE, &TYPES, &headers, body).await?;
    let file = FileRecord {
        hash: stored.content_hash,
        file_name: name,
        content_type: stored.content_type,
        size_bytes: stored.size_bytes,
    };
    record(&app, &p, &id, &file).await?;
    Ok((StatusCode::CREATED, Json(file)))
}

async fn record(app: &AppState, p: &Principal, id: &FilingId, f: &FileRecord) -> ApiResult<()> {
    const COUNT: &str = "SELECT COUNT(*) FROM filing_files WHERE filing_id = $1";
    const SQL: &str = "INSERT INTO filing_files (filing_id, hash, file_name, content_type, size_bytes) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (filing_id, hash) DO NOTHING";
    const BUMP: &str = "UPDATE filings SET version = version + 1, updated_at = $2 WHERE id = $1";
    let mut tx = app.db.begin().await?;
    let n: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(COUNT).bind(id).fetch_one(c).await)?;
    if n >= MAX_PER_FILING {
        return Err(ApiError::invalid(
            "body",
            format!("每件备案最多 {MAX_PER_FILING} 个附件"),
        ));
    }
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(id).bind(&f.hash).bind(&f.file_name).bind(&f.content_type)
        .bind(f.size_bytes).execute(c).await.map(|_| ()))?;
    on_tx!(&mut tx, c => sqlx::query(BUMP).bind(id).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    let detail = json!({ "hash": f.hash, "size": f.size_bytes });
    crate::audit::success(
        app,
        &mut tx,
        p,
        "legal.filing.file",
        ("filing", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A filing's file (whoever sees the filing).
#[utoipa::path(get, path = "/api/v1/legal/filings/{id}/files/{hash}", tag = "legal",
    params(("id" = String, Path), ("hash" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = crate::error::Problem)))]
pub async fn download(
    State(app): State<AppState>,
    p: Principal,
    Path((id, hash)): Path<(FilingId, String)>,
) -> ApiResult<Response> {
    store::filing(&app, &p, &id).await?;
    let files = of_filing(&app, &id).await?;
    let f = files
        .into_iter()
        .find(|f| f.hash == hash)
        .ok_or(ApiError::NotFound)?;
    let key = crate::files::key_of(&app, NAMESPACE, &f.hash);
    let bytes = crate::files::read(&app, &key, &f.hash).await?;
    Ok(crate::files::download(&f.file_name, f.content_type, bytes))
}
