//! What a data package holds (docs/legal-affairs.md, "Data packages"):
//!
//! ```text
//! manifest.json        format, package id, source side, created at, signer,
//!                      each record's id, version, base version and SM3,
//!                      each attachment's SM3 and size
//! manifest.sig         hex DER SM2 signature over manifest.json's bytes
//! records/<id>.json    one filing: its document, state, history, files
//! files/<sm3>          an attachment's bytes
//! ```
//!
//! The signature covers the manifest and the manifest covers every other
//! file by its hash, so one signature check and one hash per file prove
//! the whole package.

use serde::{Deserialize, Serialize};

use super::super::content::{Content, Field};
use super::super::status::FilingStatus;
use crate::config::FilingSide;
use crate::ids::{FilingId, PackageId};

/// The one format this build reads and writes.
pub const FORMAT: &str = "gov-filing-package/1";
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub package_id: PackageId,
    pub source_side: FilingSide,
    /// RFC 3339.
    pub created_at: String,
    pub signer: Signer,
    pub records: Vec<RecordEntry>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    pub key_id: String,
    pub public_key_pem: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEntry {
    pub id: FilingId,
    pub version: i64,
    /// The version both sides last agreed on, which this one changes.
    pub base_version: i64,
    /// SM3 of `records/<id>.json`, hex.
    pub sm3: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub sm3: String,
    pub size: u64,
}

/// One filing as it crosses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: FilingId,
    pub version: i64,
    pub base_version: i64,
    /// The reporting unit, by its code (ids differ between the networks'
    /// databases; codes come from the same org tree).
    pub unit_code: String,
    pub content: Content,
    pub status: FilingStatus,
    pub returned_fields: Vec<Field>,
    pub review_opinion: Option<String>,
    pub source: String,
    pub created_at: String,
    pub updated_at: String,
    pub events: Vec<EventRecord>,
    pub files: Vec<FileRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct EventRecord {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub note: Option<String>,
}

/// An attachment of a filing, as listed and as it crosses.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    /// SM3 of the bytes, hex; the file's id within its filing.
    pub hash: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
}

pub fn record_path(id: &FilingId) -> String {
    format!("records/{id}.json")
}

pub fn file_path(sm3: &str) -> String {
    format!("files/{sm3}")
}

/// Why a package is refused, whole; the text names the problem for the
/// person at the disc.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("不是有效的数据包（zip）")]
    NotAPackage,
    #[error("数据包缺少 {0}")]
    Missing(String),
    #[error("数据包中的 {0} 不在清单中")]
    Unexpected(String),
    #[error("清单格式错误：{0}")]
    BadManifest(String),
    #[error("不支持的数据包格式版本：{0}")]
    UnknownFormat(String),
    #[error("数据包来自本网（{0}），不能导入")]
    SameSide(String),
    #[error("数据包 {0} 由本系统导出，不能再导入本系统")]
    MadeHere(String),
    #[error("签名密钥 {0} 不在信任列表中")]
    UntrustedSigner(String),
    #[error("清单签名校验失败")]
    BadSignature,
    #[error("{0} 的内容与清单中的哈希不符（被改动或损坏）")]
    Altered(String),
    #[error("数据包解压后超过 {0} 字节的上限")]
    TooLargeUnpacked(u64),
    #[error("{0}：{1}")]
    BadRecord(String, String),
}

impl Refusal {
    /// Which file the problem is in, for the error's field.
    pub fn entry(&self) -> String {
        match self {
            Refusal::Missing(n) | Refusal::Unexpected(n) | Refusal::Altered(n) => n.clone(),
            Refusal::BadRecord(n, _) => n.clone(),
            Refusal::BadManifest(_)
            | Refusal::UnknownFormat(_)
            | Refusal::SameSide(_)
            | Refusal::MadeHere(_) => MANIFEST.into(),
            Refusal::UntrustedSigner(_) | Refusal::BadSignature => SIGNATURE.into(),
            Refusal::NotAPackage | Refusal::TooLargeUnpacked(_) => "package".into(),
        }
    }
}

/// The manifest read and its format checked (before the signature, so an
/// unknown version is named as such).
pub fn parse(bytes: &[u8]) -> Result<Manifest, Refusal> {
    #[derive(Deserialize)]
    struct Head {
        format: String,
    }
    let head: Head =
        serde_json::from_slice(bytes).map_err(|e| Refusal::BadManifest(e.to_string()))?;
    if head.format != FORMAT {
        return Err(Refusal::UnknownFormat(head.format));
    }
    serde_json::from_slice(bytes).map_err(|e| Refusal::BadManifest(e.to_string()))
}

/// Every name the manifest accounts for, so anything else is refused.
pub fn expected_names(m: &Manifest) -> std::collections::HashSet<String> {
    let mut names: std::collections::HashSet<String> =
        [MANIFEST.to_owned(), SIGNATURE.to_owned()].into();
    names.extend(m.records.iter().map(|r| record_path(&r.id)));
    names.extend(m.files.iter().map(|f| file_path(&f.sm3)));
    names
}
