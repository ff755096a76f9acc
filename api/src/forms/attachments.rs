//! Files attached to a return (GK-12), kept behind one storage interface
//! (the `object_store` crate): a local directory by default, an
//! S3-compatible bucket when `forms.attachment_store` is `s3://…`. Objects
//! are named by the SM3 of their bytes, which is checked again on every
//! download. Uploads are limited in size and type (the declared type must
//! be allowed by the field and must match the file's first bytes), and are
//! downloaded only by the filling unit and the form's senders.
//!
//! Virus scanning: [`screen`] is the one place every upload passes before
//! it is stored; a scanner (e.g. ClamAV's clamd `INSTREAM`) is called
//! there and a refusal answers 422. None is configured in this build.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use super::definition::{Definition, Kind};
use super::status::{Step, after};
use super::store::{self, Party};
use crate::authz::Principal;
use crate::config::FormsConfig;
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

/// The store attachments are kept in, from `forms.attachment_store`.
pub fn open_store(c: &FormsConfig) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if let Some(rest) = c.attachment_store.strip_prefix("s3://") {
        use secrecy::ExposeSecret;
        let bucket = rest.split('/').next().unwrap_or_default();
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&c.s3_region)
            .with_access_key_id(&c.s3_access_key_id)
            .with_secret_access_key(c.s3_secret_access_key.expose_secret());
        if !c.s3_endpoint.is_empty() {
            b = b
                .with_endpoint(&c.s3_endpoint)
                .with_allow_http(c.s3_endpoint.starts_with("http://"));
        }
        return Ok(Arc::new(b.build()?));
    }
    std::fs::create_dir_all(&c.attachment_store)
        .map_err(|e| anyhow::anyhow!("forms.attachment_store {}: {e}", c.attachment_store))?;
    Ok(Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(&c.attachment_store)?,
    ))
}

/// The object's name in the store; with an S3 prefix, under it.
fn object_path(c: &FormsConfig, hash: &str) -> ObjectPath {
    let prefix = c
        .attachment_store
        .strip_prefix("s3://")
        .and_then(|r| r.split_once('/'))
        .map(|(_, p)| p.trim_matches('/'))
        .filter(|p| !p.is_empty());
    match prefix {
        Some(p) => ObjectPath::from(format!("{p}/forms/{}/{hash}", &hash[..2])),
        None => ObjectPath::from(format!("forms/{}/{hash}", &hash[..2])),
    }
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

/// The declared type is one the field allows, and the bytes look like it.
/// Unknown kinds of file are taken at their word (there is no signature to
/// check for plain text).
fn screen(declared: &str, allowed: &[String], bytes: &[u8]) -> ApiResult<()> {
    if !allowed.iter().any(|t| t == declared) {
        return Err(ApiError::invalid(
            "content_type",
            format!("不允许的文件类型 {declared}，允许：{}", allowed.join("、")),
        ));
    }
    let magic: &[u8] = match declared {
        "application/pdf" => b"%PDF-",
        "image/png" => b"\x89PNG\r\n\x1a\n",
        "image/jpeg" => b"\xff\xd8\xff",
        t if t.starts_with("application/vnd.openxmlformats-officedocument.") => b"PK\x03\x04",
        _ => b"",
    };
    if !bytes.starts_with(magic) {
        return Err(ApiError::invalid(
            "content_type",
            format!("文件内容与声明的类型 {declared} 不符"),
        ));
    }
    Ok(())
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
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .ok_or(ApiError::UnsupportedMediaType)?;
    let max = app.config.forms.max_attachment_bytes as usize;
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    if bytes.is_empty() {
        return Err(ApiError::invalid("body", "文件为空"));
    }
    screen(&declared, allowed, &bytes)?;
    let hash = hex::encode(crate::crypto::sm3(&bytes));
    let key = object_path(&app.config.forms, &hash);
    app.attachments
        .put(&key, PutPayload::from_bytes(bytes.clone()))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("attachment store: {e}")))?;
    let view = AttachmentView {
        id: AttachmentFileId::generate().into_string(),
        field_key: q.field.clone(),
        file_name: name,
        content_type: declared,
        size_bytes: bytes.len() as i64,
        content_hash: hash,
    };
    record(&app, &p, &id, &view, key.as_ref()).await?;
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
    let got = app
        .attachments
        .get(&ObjectPath::from(stored.storage_key.as_str()))
        .await;
    let bytes = match got {
        Ok(g) => g.bytes().await.map_err(|e| ApiError::Internal(e.into()))?,
        Err(e) => return Err(ApiError::Internal(anyhow::anyhow!("attachment {id}: {e}"))),
    };
    if hex::encode(crate::crypto::sm3(&bytes)) != stored.content_hash {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "attachment {id}: stored bytes do not match their hash"
        )));
    }
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        percent(&stored.file_name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, stored.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// RFC 8187 percent-encoding of a file name.
fn percent(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_must_be_of_an_allowed_type_and_look_like_it() {
        let pdf = ["application/pdf".to_owned()];
        screen("application/pdf", &pdf, b"%PDF-1.7 ...").unwrap();
        assert!(screen("image/png", &pdf, b"\x89PNG\r\n\x1a\n").is_err());
        assert!(screen("application/pdf", &pdf, b"MZ\x90\x00 not a pdf").is_err());
        assert_eq!(percent("清单 1.pdf"), "%E6%B8%85%E5%8D%95%201.pdf");
    }
}
