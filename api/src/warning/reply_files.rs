//! Files an agency attaches to its reply to a warning (GK-19): a scan of a
//! letter, a note of the handling. Kept in the shared file store
//! (`crate::files`); uploaded by the agency's dispatchers and handlers
//! while it has not replied, frozen with the reply, and downloaded by
//! whoever may read the warning (the General Office, the agencies
//! concerned).

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sqlx::FromRow;
use utoipa::IntoParams;

use super::warnings::{acting_unit, already_replied, load};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::files::{FileView, Stored};
use crate::http::extract::ApiQuery;
use crate::ids::{WarningFileId, WarningId};
use crate::state::AppState;
use crate::{on_db, on_tx};

/// What a reply may carry: documents and photos of documents.
const ALLOWED: [&str; 5] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

/// Files one agency's reply may carry.
const MAX_PER_AGENCY: i64 = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/warnings/{id}/files",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/warning-files/{id}", get(download))
}

/// The files of each (warning, agency) of `warnings`, oldest first.
pub(super) async fn of_warnings(
    app: &AppState,
    warnings: &[String],
) -> ApiResult<HashMap<(String, String), Vec<FileView>>> {
    #[derive(FromRow)]
    struct Row {
        warning_id: String,
        unit_id: String,
        #[sqlx(flatten)]
        file: FileView,
    }
    let rows: Vec<Row> = crate::db::fetch_in(
        &app.db,
        "SELECT warning_id, unit_id, id, file_name, content_type, size_bytes, content_hash \
         FROM warning_reply_files WHERE warning_id IN ({in}) ORDER BY created_at, id",
        warnings,
    )
    .await?;
    let mut out: HashMap<(String, String), Vec<FileView>> = HashMap::new();
    for r in rows {
        out.entry((r.warning_id, r.unit_id))
            .or_default()
            .push(r.file);
    }
    Ok(out)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// The file's name as the user sees it.
    pub name: String,
    /// The agency replying; needed only when the caller handles several of
    /// the agencies concerned.
    pub unit_id: Option<String>,
}

/// Attaches a file to the agency's coming reply. The body is the file
/// itself, its `Content-Type` the file's type (PDF, PNG, JPEG, .docx,
/// .xlsx, checked against its first bytes).
#[utoipa::path(post, path = "/api/v1/warnings/{id}/files", tag = "warnings",
    params(("id" = String, Path), FileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file"),
    responses((status = 201, body = FileView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, description = "the agency has replied", body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 422, description = "type not allowed or not matching the bytes", body = crate::error::Problem)))]
pub async fn upload(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<WarningId>,
    ApiQuery(q): ApiQuery<FileQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<FileView>)> {
    let (view, mine) = load(&app, &p, id.as_str()).await?;
    let unit = acting_unit(
        &app,
        &p,
        id.as_str(),
        q.unit_id.as_deref(),
        &mine,
        "warning.attach",
    )
    .await?;
    if view
        .agencies
        .iter()
        .any(|a| a.unit_id == unit && a.reply.is_some())
    {
        return Err(already_replied());
    }
    let name = crate::validate::text("name", Some(&q.name), 200, false)?;
    let stored = crate::files::receive(&app, "warnings", &ALLOWED, &headers, body).await?;
    let file = FileView {
        id: WarningFileId::generate().into_string(),
        file_name: name,
        content_type: stored.content_type.clone(),
        size_bytes: stored.size_bytes,
        content_hash: stored.content_hash.clone(),
    };
    record(&app, &p, (&id, &unit), &file, &stored).await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// Records the file, unless the agency has meanwhile replied or has as
/// many files as a reply may carry.
async fn record(
    app: &AppState,
    p: &Principal,
    (warning, unit): (&WarningId, &str),
    f: &FileView,
    stored: &Stored,
) -> ApiResult<()> {
    const COUNT: &str =
        "SELECT COUNT(*) FROM warning_reply_files WHERE warning_id = $1 AND unit_id = $2";
    const SQL: &str = "INSERT INTO warning_reply_files (id, warning_id, unit_id, file_name, content_type, size_bytes, \
         content_hash, storage_key, uploaded_by, created_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE EXISTS (SELECT 1 FROM warning_agencies \
         WHERE warning_id = $2 AND unit_id = $3 AND reply IS NULL)";
    let mut tx = app.db.begin().await?;
    let n: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(COUNT).bind(warning).bind(unit).fetch_one(c).await)?;
    if n >= MAX_PER_AGENCY {
        return Err(ApiError::invalid(
            "body",
            format!("每个单位的反馈最多 {MAX_PER_AGENCY} 个附件"),
        ));
    }
    let added = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&f.id).bind(warning).bind(unit).bind(&f.file_name)
        .bind(&f.content_type).bind(f.size_bytes).bind(&f.content_hash).bind(&stored.storage_key)
        .bind(&p.user_id).bind(crate::clock::now()).execute(c).await.map(|r| r.rows_affected()))?;
    if added == 0 {
        return Err(already_replied());
    }
    let detail = json!({ "warning_id": warning, "unit_id": unit, "size": f.size_bytes, "hash": f.content_hash });
    crate::audit::success(
        app,
        &mut tx,
        p,
        "warning.attach",
        ("warning_file", &f.id),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Downloads a reply's file: for whoever may read the warning.
#[utoipa::path(get, path = "/api/v1/warning-files/{id}", tag = "warnings", params(("id" = String, Path)),
    responses((status = 200, description = "the file, as uploaded"), (status = 404, body = crate::error::Problem)))]
pub async fn download(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<WarningFileId>,
) -> ApiResult<Response> {
    const SQL: &str = "SELECT warning_id, file_name, content_type, content_hash, storage_key \
         FROM warning_reply_files WHERE id = $1";
    #[derive(FromRow)]
    struct Row {
        warning_id: String,
        file_name: String,
        content_type: String,
        content_hash: String,
        storage_key: String,
    }
    let row: Row = on_db!(&app.db, c => sqlx::query_as(SQL).bind(&id).fetch_optional(c).await)?
        .ok_or(ApiError::NotFound)?;
    load(&app, &p, &row.warning_id).await?;
    let bytes = crate::files::read(&app, &row.storage_key, &row.content_hash).await?;
    Ok(crate::files::download(
        &row.file_name,
        row.content_type,
        bytes,
    ))
}
