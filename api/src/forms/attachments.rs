//! Files attached to a return (GK-12), kept in the shared file store
//! (`crate::files`: size limit, type and magic-byte check, SM3-named
//! objects checked again on download). A file's type must be one its field
//! allows; files are downloaded only by the filling unit and the form's
//! senders.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use super::definition::{Definition, Kind};
use super::status::{Step, after};
use super::store::{self, Party};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::ids::{AttachmentFileId, ReturnId};
use crate::state::AppState;
use crate::{on_db, on_tx};

/// Files one return may hold, over all its fields.
const MAX_PER_RETURN: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/form-returns/{id}/attachments",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/form-attachments/{id}", get(download))
}

#[derive(Debug, Serialize, ToSchema, FromRow, Clone)]
pub struct AttachmentView {
    pub id: String,
    pub field_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// SM3 of the bytes, hex.
    pub content_hash: String,
}

/// The attachments of a return, oldest first.
pub async fn of_return(app: &AppState, id: &ReturnId) -> ApiResult<Vec<AttachmentView>> {
    const SQL: &str = "SELECT id, field_key, file_name, content_type, size_bytes, content_hash \
         FROM form_attachments WHERE assignment_id = $1 ORDER BY created_at, id";
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_all(c).await)?)
}

/// The allowed content types of the attachment field `key` (a top-level
/// field, or `table.column`); 422 if there is none such.
fn allowed_types<'a>(def: &'a Definition, key: &str) -> ApiResult<&'a [String]> {
    let (top, column) = match key.split_once('.') {
        Some((t, c)) => (t, Some(c)),
        None => (key, None),
    };
    let field = def.fields().find(|f| f.key == top);
    let kind = match (field.map(|f| &f.kind), column) {
        (Some(Kind::Table { columns }), Some(c)) => {
            columns.iter().find(|f| f.key == c).map(|f| &f.kind)
        }
        (kind, None) => kind,
        _ => None,
    };
    match kind {
        Some(Kind::Attachment { types, .. }) => Ok(types),
        _ => Err(ApiError::invalid("field", "表单中没有该附件字段")),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The attachment field: its key, or `table.column`.
    pub field: String,
    /// The file's name as the user sees it.
    pub name: String,
}

/// Attaches a file to a return being filled. The body is the file itself,
/// its `Content-Type` the file's type. Answer: the attachment, whose id
/// then goes into the field's list in the answers.
#[utoipa::path(post, path = "/api/v1/form-returns/{id}/attachments", tag = "forms",
    params(("id" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file"),
    responses((status = 201, body = AttachmentView), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 413, body = crate::error::Problem),
        (status = 422, description = "unknown field, type not allowed or not matching the bytes", body = crate::error::Problem)))]
pub async fn upload(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<AttachmentView>)> {
    let (row, party) = store::return_of(&app, &p, &id).await?;
    if party != Party::Filler {
        crate::audit::record_denied(&app, &p, "form.attach", "form_return", id.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    after(row.status, Step::Save)?;
    let name = crate::validate::text("name", Some(&q.name), 200, false)?;
    let def = row.definition()?;
    let allowed = allowed_types(&def, &q.field)?;
    let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
    let stored = crate::files::receive(&app, "forms", &allowed, &headers, body).await?;
    let view = AttachmentView {
        id: AttachmentFileId::generate().into_string(),
        field_key: q.field.clone(),
        file_name: name,
        content_type: stored.content_type,
        size_bytes: stored.size_bytes,
        content_hash: stored.content_hash,
    };
    record(&app, &p, &id, &view, &stored.storage_key).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn record(
    app: &AppState,
    p: &Principal,
    id: &ReturnId,
    a: &AttachmentView,
    key: &str,
) -> ApiResult<()> {
    const COUNT: &str = "SELECT COUNT(*) FROM form_attachments WHERE assignment_id = $1";
    const SQL: &str = "INSERT INTO form_attachments (id, assignment_id, field_key, file_name, content_type, size_bytes, \
         content_hash, storage_key, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    let mut tx = app.db.begin().await?;
    let n: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(COUNT).bind(id).fetch_one(c).await)?;
    if n >= MAX_PER_RETURN {
        return Err(ApiError::invalid(
            "field",
            format!("每份填报最多 {MAX_PER_RETURN} 个附件"),
        ));
    }
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&a.id).bind(id).bind(&a.field_key).bind(&a.file_name)
        .bind(&a.content_type).bind(a.size_bytes).bind(&a.content_hash).bind(key).bind(&p.user_id)
        .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    let detail = json!({ "return_id": id, "field": a.field_key, "size": a.size_bytes, "hash": a.content_hash });
    crate::audit::success(
        app,
        &mut tx,
        p,
        "form.attach",
        ("form_attachment", &a.id),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(FromRow)]
struct Stored {
    assignment_id: ReturnId,
    file_name: String,
    content_type: String,
    content_hash: String,
    storage_key: String,
}

/// Downloads an attachment: for the filling unit and the form's senders.
#[utoipa::path(get, path = "/api/v1/form-attachments/{id}", tag = "forms", params(("id" = String, Path)),
    responses((status = 200, description = "the file, as uploaded"), (status = 404, body = crate::error::Problem)))]
pub async fn download(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<AttachmentFileId>,
) -> ApiResult<Response> {
    const SQL: &str = "SELECT assignment_id, file_name, content_type, content_hash, storage_key \
         FROM form_attachments WHERE id = $1";
    let stored: Stored =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(&id).fetch_optional(c).await)?
            .ok_or(ApiError::NotFound)?;
    store::return_of(&app, &p, &stored.assignment_id).await?;
    let bytes = crate::files::read(&app, &stored.storage_key, &stored.content_hash).await?;
    Ok(crate::files::download(
        &stored.file_name,
        stored.content_type,
        bytes,
    ))
}
