//! Making a package: the filings chosen (changed since the last package,
//! or changed since a day, optionally of one state), their history and
//! attachments, a manifest of every file's SM3, signed with this side's
//! SM2 key through the signing service. Every filing in it is then marked
//! as agreed at the version sent.

use std::collections::HashMap;
use std::io::{Cursor, Write};

use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use zip::write::SimpleFileOptions;

use super::manifest::{
    EventRecord, FORMAT, FileEntry, FileRecord, MANIFEST, Manifest, Record, RecordEntry, SIGNATURE,
    Signer, file_path, record_path,
};
use crate::authz::Principal;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::{FilingId, PackageId};
use crate::legal::filing::files::NAMESPACE;
use crate::legal::filing::status::FilingStatus;
use crate::legal::filing::store::{FilingRow, select_filings};
use crate::state::AppState;
use crate::{on_db, on_tx};

/// The most filings one package carries; the rest go in the next.
pub const MAX_RECORDS: i64 = 5000;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Filings changed on or after this day (YYYY-MM-DD); without it, those
    /// changed since the last package.
    pub since: Option<String>,
    /// Only filings in this state (e.g. `accepted`, for publication).
    #[schema(value_type = Option<String>)]
    pub status: Option<FilingStatus>,
}

/// A package made: its id, its bytes, how many filings it holds.
pub struct Built {
    pub id: PackageId,
    pub bytes: Vec<u8>,
    pub records: usize,
}

pub async fn build(app: &AppState, p: &Principal, sel: &Selection) -> ApiResult<Built> {
    let since = match sel.since.as_deref() {
        Some(s) => Some(
            crate::calendar::parse_ymd(s)
                .ok_or_else(|| ApiError::invalid("since", "不是有效日期（YYYY-MM-DD）"))?
                .midnight()
                .assume_offset(crate::calendar::SHANGHAI)
                // Stored instants are UTC; SQLite compares their text.
                .to_offset(time::UtcOffset::UTC),
        ),
        None => None,
    };
    let rows = chosen(app, since, sel.status).await?;
    let records = records(app, &rows).await?;
    let files = attachments(app, &records).await?;
    let id = PackageId::generate();
    let manifest = manifest(app, &id, &records, &files)?;
    let count = records.len();
    let signer = app.signer.clone();
    let bytes =
        tokio::task::spawn_blocking(move || write_zip(&manifest, &records, &files, &*signer))
            .await
            .map_err(anyhow::Error::from)??;
    mark(app, p, &id, &rows, bytes.len()).await?;
    Ok(Built {
        id,
        bytes,
        records: count,
    })
}

async fn chosen(
    app: &AppState,
    since: Option<OffsetDateTime>,
    status: Option<FilingStatus>,
) -> ApiResult<Vec<FilingRow>> {
    const SQL: &str = concat!(
        select_filings!(),
        "WHERE ($1 IS NULL OR f.updated_at >= $1) AND ($1 IS NOT NULL OR f.version > f.synced_version) \
         AND ($2 IS NULL OR f.status = $2) ORDER BY f.id LIMIT $3"
    );
    Ok(
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(since).bind(status).bind(MAX_RECORDS)
        .fetch_all(c).await)?,
    )
}

#[derive(sqlx::FromRow)]
struct EventRow {
    filing_id: FilingId,
    id: String,
    at: OffsetDateTime,
    actor: String,
    action: String,
    note: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FileRow {
    filing_id: FilingId,
    #[sqlx(flatten)]
    file: FileRecord,
}

/// Each filing as it crosses, with its history and files (one query each
/// for all of them).
async fn records(app: &AppState, rows: &[FilingRow]) -> ApiResult<Vec<Record>> {
    const EVENTS: &str = "SELECT filing_id, id, at, actor, action, note FROM filing_events \
         WHERE filing_id IN ({in}) ORDER BY at, id";
    const FILES: &str = "SELECT filing_id, hash, file_name, content_type, size_bytes FROM filing_files \
         WHERE filing_id IN ({in}) ORDER BY file_name, hash";
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let events: Vec<EventRow> = crate::db::fetch_in(&app.db, EVENTS, &ids).await?;
    let files: Vec<FileRow> = crate::db::fetch_in(&app.db, FILES, &ids).await?;
    // Grouped once, so a package of thousands is not a scan per filing.
    let mut events_of: HashMap<FilingId, Vec<EventRecord>> = HashMap::new();
    for e in events {
        events_of.entry(e.filing_id).or_default().push(EventRecord {
            id: e.id,
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            note: e.note,
        });
    }
    let mut files_of: HashMap<FilingId, Vec<FileRecord>> = HashMap::new();
    for f in files {
        files_of.entry(f.filing_id).or_default().push(f.file);
    }
    let out = rows
        .iter()
        .map(|r| Record {
            id: r.id.clone(),
            version: r.version,
            base_version: r.synced_version,
            unit_code: r.unit_code.clone(),
            content: r.content.clone(),
            status: r.status,
            returned_fields: r.returned(),
            review_opinion: r.review_opinion.clone(),
            source: r.source.as_str().into(),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            events: events_of.remove(&r.id).unwrap_or_default(),
            files: files_of.remove(&r.id).unwrap_or_default(),
        })
        .collect();
    Ok(out)
}

/// The attachments' bytes, each once, within the package size limit.
async fn attachments(app: &AppState, records: &[Record]) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let mut hashes: Vec<&str> = records
        .iter()
        .flat_map(|r| r.files.iter().map(|f| f.hash.as_str()))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    let mut out = Vec::with_capacity(hashes.len());
    let mut total = 0u64;
    for hash in hashes {
        let key = crate::files::key_of(app, NAMESPACE, hash);
        let bytes = crate::files::read(app, &key, hash).await?;
        total += bytes.len() as u64;
        if total > app.config.legal.max_package_bytes {
            return Err(ApiError::invalid(
                "since",
                "所选备案的附件超过数据包大小上限，请缩小范围分批导出",
            ));
        }
        out.push((hash.to_owned(), bytes.to_vec()));
    }
    Ok(out)
}

fn manifest(
    app: &AppState,
    id: &PackageId,
    records: &[Record],
    files: &[(String, Vec<u8>)],
) -> ApiResult<Manifest> {
    let entries = records
        .iter()
        .map(|r| {
            let bytes = json(r)?;
            Ok(RecordEntry {
                id: r.id.clone(),
                version: r.version,
                base_version: r.base_version,
                sm3: hex::encode(crate::crypto::sm3(&bytes)),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Manifest {
        format: FORMAT.into(),
        package_id: id.clone(),
        source_side: app.config.legal.filing_side,
        created_at: rfc3339(crate::clock::now()),
        signer: Signer {
            key_id: app.signer.key_id().into(),
            public_key_pem: app.signer.public_key_pem().into(),
        },
        records: entries,
        files: files
            .iter()
            .map(|(sm3, b)| FileEntry {
                sm3: sm3.clone(),
                size: b.len() as u64,
            })
            .collect(),
    })
}

fn write_zip(
    m: &Manifest,
    records: &[Record],
    files: &[(String, Vec<u8>)],
    signer: &dyn crate::seal::adapter::SignService,
) -> ApiResult<Vec<u8>> {
    let io = |e: std::io::Error| ApiError::Internal(e.into());
    let zerr = |e: zip::result::ZipError| ApiError::Internal(e.into());
    let manifest_bytes = json(m)?;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut put = |name: String, bytes: &[u8]| -> ApiResult<()> {
        zip.start_file(name, opts).map_err(zerr)?;
        zip.write_all(bytes).map_err(io)
    };
    put(MANIFEST.into(), &manifest_bytes)?;
    put(SIGNATURE.into(), signer.sign(&manifest_bytes).as_bytes())?;
    for r in records {
        put(record_path(&r.id), &json(r)?)?;
    }
    for (sm3, bytes) in files {
        put(file_path(sm3), bytes)?;
    }
    Ok(zip.finish().map_err(zerr)?.into_inner())
}

/// A value as the package holds it: the same bytes the manifest's hashes
/// were taken over.
fn json<T: serde::Serialize>(v: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| ApiError::Internal(e.into()))
}

/// Records the package made, marks what it carries as agreed at the
/// version sent (unless it changed meanwhile), and audits the export.
async fn mark(
    app: &AppState,
    p: &Principal,
    id: &PackageId,
    rows: &[FilingRow],
    size: usize,
) -> ApiResult<()> {
    const PACKAGE: &str = "INSERT INTO filing_packages (id, direction, source_side, signer_key_id, records_total, \
         records_done, status, created_by, created_at) VALUES ($1, 'export', $2, $3, $4, $4, 'done', $5, $6)";
    const SYNCED: &str =
        "UPDATE filings SET synced_version = version WHERE id = $1 AND version = $2";
    let mut tx = app.db.begin().await?;
    let n = rows.len() as i64;
    on_tx!(&mut tx, c => sqlx::query(PACKAGE).bind(id).bind(app.config.legal.filing_side).bind(app.signer.key_id())
        .bind(n).bind(p.actor_label()).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    for r in rows {
        on_tx!(&mut tx, c => sqlx::query(SYNCED).bind(&r.id).bind(r.version).execute(c).await.map(|_| ()))?;
    }
    let detail = json!({ "records": n, "bytes": size });
    crate::audit::success(
        app,
        &mut tx,
        p,
        "legal.filing.package_export",
        ("filing_package", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
