//! Uploaded files, for every module that takes them (form attachments,
//! the files of a warning's reply), behind one storage interface (the
//! `object_store` crate): a local directory by default, an S3-compatible
//! bucket when `files.store` is `s3://…`. Objects are named by the SM3 of
//! their bytes, under the module's namespace, and the hash is checked again
//! on every download. Who may upload or download is each module's own rule;
//! this module holds what they share: the size limit, the type check, the
//! store and the download's headers.
//!
//! Virus scanning: [`screen`] is the one place every upload passes before
//! it is stored; a scanner (e.g. ClamAV's clamd `INSTREAM`) is called
//! there and a refusal answers 422. None is configured in this build.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;

use crate::config::FilesConfig;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The store files are kept in, from `files.store`.
pub fn open_store(c: &FilesConfig) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if let Some(rest) = c.store.strip_prefix("s3://") {
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
    std::fs::create_dir_all(&c.store)
        .map_err(|e| anyhow::anyhow!("files.store {}: {e}", c.store))?;
    Ok(Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(&c.store)?,
    ))
}

/// The object's name in the store: `namespace/ab/abcdef…`; with an S3
/// prefix, under it.
fn object_path(c: &FilesConfig, namespace: &str, hash: &str) -> ObjectPath {
    let prefix = c
        .store
        .strip_prefix("s3://")
        .and_then(|r| r.split_once('/'))
        .map(|(_, p)| p.trim_matches('/'))
        .filter(|p| !p.is_empty());
    match prefix {
        Some(p) => ObjectPath::from(format!("{p}/{namespace}/{}/{hash}", &hash[..2])),
        None => ObjectPath::from(format!("{namespace}/{}/{hash}", &hash[..2])),
    }
}

/// A file as its module records it.
#[derive(Debug, Serialize, ToSchema, FromRow, Clone)]
pub struct FileView {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// SM3 of the bytes, hex.
    pub content_hash: String,
}

/// An upload received, checked and stored; the module records it.
pub struct Stored {
    pub content_type: String,
    pub size_bytes: i64,
    pub content_hash: String,
    pub storage_key: String,
}

/// Reads the upload (the body is the file, its `Content-Type` the file's
/// type), checks it against `allowed` and keeps it under `namespace`.
pub async fn receive(
    app: &AppState,
    namespace: &str,
    allowed: &[&str],
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Stored> {
    let declared = declared_type(headers)?;
    let bytes = read_upload(app, allowed, headers, body).await?;
    let size_bytes = bytes.len() as i64;
    let (hash, key) = keep(app, namespace, bytes).await?;
    Ok(Stored {
        content_type: declared,
        size_bytes,
        content_hash: hash,
        storage_key: key,
    })
}

/// Keeps bytes already checked (an upload, or a file of a verified data
/// package) under `namespace`; answers their SM3 and their storage key.
pub async fn keep(app: &AppState, namespace: &str, bytes: Bytes) -> ApiResult<(String, String)> {
    let hash = hex::encode(crate::crypto::sm3(&bytes));
    let key = object_path(&app.config.files, namespace, &hash);
    app.files
        .put(&key, PutPayload::from_bytes(bytes))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("file store: {e}")))?;
    Ok((hash, key.to_string()))
}

/// Where `keep` put the file with this hash.
pub fn key_of(app: &AppState, namespace: &str, hash: &str) -> String {
    object_path(&app.config.files, namespace, hash).to_string()
}

fn declared_type(headers: &HeaderMap) -> ApiResult<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v.split(';').next().unwrap_or_default();
            essence.trim().to_ascii_lowercase()
        })
        .ok_or(ApiError::UnsupportedMediaType)
}

/// Reads an upload that is used, not kept (an imported sheet): the body
/// is the file, at most `files.max_bytes`, of a type in `allowed` whose
/// bytes look like it.
pub async fn read_upload(
    app: &AppState,
    allowed: &[&str],
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Bytes> {
    let declared = declared_type(headers)?;
    let max = app.config.files.max_bytes as usize;
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    if bytes.is_empty() {
        return Err(ApiError::invalid("body", "文件为空"));
    }
    screen(&declared, allowed, &bytes)?;
    Ok(bytes)
}

/// The declared type is one allowed, and the bytes look like it. Unknown
/// kinds of file are taken at their word (there is no signature to check
/// for plain text).
pub fn screen(declared: &str, allowed: &[&str], bytes: &[u8]) -> ApiResult<()> {
    if !allowed.contains(&declared) {
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

/// A stored file's bytes, checked against the hash recorded at upload.
pub async fn read(app: &AppState, storage_key: &str, content_hash: &str) -> ApiResult<Bytes> {
    let got = app.files.get(&ObjectPath::from(storage_key)).await;
    let bytes = match got {
        Ok(g) => g.bytes().await.map_err(|e| ApiError::Internal(e.into()))?,
        Err(e) => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "file {storage_key}: {e}"
            )));
        }
    };
    if hex::encode(crate::crypto::sm3(&bytes)) != content_hash {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "file {storage_key}: stored bytes do not match their hash"
        )));
    }
    Ok(bytes)
}

/// The download of a file as uploaded: its type, its name, never sniffed.
pub fn download(file_name: &str, content_type: String, bytes: Bytes) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}", percent(file_name));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
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
        let pdf = ["application/pdf"];
        screen("application/pdf", &pdf, b"%PDF-1.7 ...").unwrap();
        assert!(screen("image/png", &pdf, b"\x89PNG\r\n\x1a\n").is_err());
        assert!(screen("application/pdf", &pdf, b"MZ\x90\x00 not a pdf").is_err());
        assert_eq!(percent("清单 1.pdf"), "%E6%B8%85%E5%8D%95%201.pdf");
    }
}
