//! Importing an opened package: idempotent by the package's id (a package
//! done before answers its report again and changes nothing) and by each
//! record's version ([`super::reconcile`]). Units are found by code before
//! anything is written; then records are written a chunk per transaction,
//! so the package's `records_done` shows the progress of a large one, and
//! an import cut short resumes where it stopped when the disc is read
//! again.

use std::collections::HashMap;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::manifest::{Record, Refusal, record_path};
use super::open::{Opened, attachment};
use super::reconcile::{Held, Incoming, RecordOutcome, reconcile, state};
use crate::authz::Principal;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::ids::{FilingId, PackageId, UnitId};
use crate::legal::filing::content::check;
use crate::legal::filing::files::NAMESPACE;
use crate::legal::filing::store::{FilingRow, select_filings};
use crate::state::AppState;
use crate::{on_db, on_tx};

const CHUNK: usize = 100;

/// A record changed on both sides: kept as it is here, for a person to
/// settle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Conflict {
    pub id: String,
    pub doc_no: String,
    pub title: String,
    pub held_version: i64,
    pub incoming_version: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub conflicts: Vec<Conflict>,
}

/// Imports `opened` (from `bytes`); answers the report and whether the
/// package had been imported before.
pub async fn apply(
    app: &AppState,
    p: &Principal,
    opened: Opened,
    bytes: Bytes,
) -> ApiResult<(Report, bool)> {
    let id = opened.manifest.package_id.clone();
    if let Some(report) = done_before(app, &id).await? {
        return Ok((report, true));
    }
    let units = units(app, &opened.records).await?;
    start(app, p, &opened).await?;
    let mut report = Report::default();
    let mut done = 0i64;
    for chunk in opened.records.chunks(CHUNK) {
        let mut tx = app.db.begin().await?;
        for r in chunk {
            let unit = &units[&r.unit_code];
            write(app, &mut tx, r, unit, &bytes, &mut report).await?;
        }
        done += chunk.len() as i64;
        progress(&mut tx, &id, done, None).await?;
        tx.commit().await?;
    }
    finish(app, p, &id, &report).await?;
    Ok((report, false))
}

/// The report of an import done before; a package made here is refused.
async fn done_before(app: &AppState, id: &PackageId) -> ApiResult<Option<Report>> {
    const SQL: &str = "SELECT direction, status, report FROM filing_packages WHERE id = $1";
    let row: Option<(String, String, String)> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    match row {
        Some((direction, _, _)) if direction == "export" => {
            Err(refused(Refusal::MadeHere(id.to_string())))
        }
        Some((_, status, report)) if status == "done" => {
            Ok(Some(serde_json::from_str(&report).unwrap_or_default()))
        }
        _ => Ok(None),
    }
}

/// Every record's unit, by code, and every record valid: otherwise the
/// package is refused whole, before any write.
async fn units(app: &AppState, records: &[Record]) -> ApiResult<HashMap<String, UnitId>> {
    const SQL: &str = "SELECT code, id FROM org_units WHERE code IN ({in})";
    let mut codes: Vec<&str> = records.iter().map(|r| r.unit_code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let found: Vec<(String, UnitId)> = crate::db::fetch_in(&app.db, SQL, &codes).await?;
    let found: HashMap<String, UnitId> = found.into_iter().collect();
    for r in records {
        let name = record_path(&r.id);
        if !found.contains_key(&r.unit_code) {
            return Err(refused(Refusal::BadRecord(
                name,
                format!("单位 {} 不存在", r.unit_code),
            )));
        }
        if let Some(e) = check(&r.content).first() {
            return Err(refused(Refusal::BadRecord(
                name,
                format!("{}：{}", e.field, e.reason),
            )));
        }
    }
    Ok(found)
}

pub fn refused(r: Refusal) -> ApiError {
    ApiError::Invalid {
        field: r.entry(),
        reason: r.to_string(),
    }
}

async fn start(app: &AppState, p: &Principal, o: &Opened) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO filing_packages (id, direction, source_side, signer_key_id, records_total, \
         records_done, status, created_by, created_at) VALUES ($1, 'import', $2, $3, $4, 0, 'importing', $5, $6) \
         ON CONFLICT (id) DO NOTHING";
    let m = &o.manifest;
    on_db!(&app.db, c => sqlx::query(SQL).bind(&m.package_id).bind(m.source_side).bind(&m.signer.key_id)
        .bind(m.records.len() as i64).bind(p.actor_label()).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(())
}

async fn progress(tx: &mut Tx, id: &PackageId, done: i64, report: Option<&str>) -> ApiResult<()> {
    const SQL: &str = "UPDATE filing_packages SET records_done = $2, \
         status = CASE WHEN $3 IS NULL THEN status ELSE 'done' END, report = COALESCE($3, report) WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(done).bind(report).execute(c).await.map(|_| ()))?;
    Ok(())
}

async fn finish(app: &AppState, p: &Principal, id: &PackageId, report: &Report) -> ApiResult<()> {
    const DONE: &str = "SELECT records_done FROM filing_packages WHERE id = $1";
    let text = serde_json::to_string(report).map_err(anyhow::Error::from)?;
    let mut tx = app.db.begin().await?;
    let done: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(DONE).bind(id).fetch_one(c).await)?;
    progress(&mut tx, id, done, Some(&text)).await?;
    let detail = json!({ "created": report.created, "updated": report.updated,
        "unchanged": report.unchanged, "conflicts": report.conflicts.len() });
    crate::audit::success(
        app,
        &mut tx,
        p,
        "legal.filing.package_import",
        ("filing_package", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One record: reconciled with what is held, written if it wins.
async fn write(
    app: &AppState,
    tx: &mut Tx,
    r: &Record,
    unit: &UnitId,
    bytes: &Bytes,
    report: &mut Report,
) -> ApiResult<()> {
    let held = held(tx, &r.id).await?;
    let mut files: Vec<String> = r.files.iter().map(|f| f.hash.clone()).collect();
    let incoming = Incoming {
        version: r.version,
        base: r.base_version,
        state: state(
            &r.content,
            r.status,
            &r.returned_fields,
            r.review_opinion.as_deref(),
            &mut files,
        ),
    };
    let outcome = reconcile(held.as_ref().map(|(_, h)| *h), incoming);
    match outcome {
        RecordOutcome::Unchanged => report.unchanged += 1,
        RecordOutcome::Conflict => {
            let (row, h) =
                held.ok_or_else(|| anyhow::anyhow!("a conflict without a held filing"))?;
            report.conflicts.push(Conflict {
                id: r.id.to_string(),
                doc_no: row.content.doc_no,
                title: row.content.title,
                held_version: h.version,
                incoming_version: r.version,
            });
        }
        RecordOutcome::Created | RecordOutcome::Updated => {
            upsert(tx, r, unit).await?;
            history(app, tx, r, bytes).await?;
            if outcome == RecordOutcome::Created {
                report.created += 1;
            } else {
                report.updated += 1;
            }
        }
    }
    Ok(())
}

/// The filing held here, with its version, agreed version and state.
async fn held(tx: &mut Tx, id: &FilingId) -> ApiResult<Option<(FilingRow, Held)>> {
    const ROW: &str = concat!(select_filings!(), "WHERE f.id = $1");
    const FILES: &str = "SELECT hash FROM filing_files WHERE filing_id = $1";
    let row: Option<FilingRow> =
        on_tx!(tx, c => sqlx::query_as(ROW).bind(id).fetch_optional(c).await)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut files: Vec<String> =
        on_tx!(tx, c => sqlx::query_scalar(FILES).bind(id).fetch_all(c).await)?;
    let h = Held {
        version: row.version,
        synced: row.synced_version,
        state: state(
            &row.content,
            row.status,
            &row.returned(),
            row.review_opinion.as_deref(),
            &mut files,
        ),
    };
    Ok(Some((row, h)))
}

fn instant(text: &str) -> ApiResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| ApiError::invalid("package", "时间格式错误"))
}

async fn upsert(tx: &mut Tx, r: &Record, unit: &UnitId) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO filings (id, unit_id, title, doc_no, issuing_unit, issued_on, effective_on, \
         full_text, status, returned_fields, review_opinion, source, version, synced_version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15) \
         ON CONFLICT (id) DO UPDATE SET unit_id = excluded.unit_id, title = excluded.title, doc_no = excluded.doc_no, \
         issuing_unit = excluded.issuing_unit, issued_on = excluded.issued_on, effective_on = excluded.effective_on, \
         full_text = excluded.full_text, status = excluded.status, returned_fields = excluded.returned_fields, \
         review_opinion = excluded.review_opinion, version = excluded.version, synced_version = excluded.version, \
         updated_at = excluded.updated_at";
    let c = &r.content;
    let returned = serde_json::to_string(&r.returned_fields).map_err(anyhow::Error::from)?;
    let source = crate::legal::filing::store::Source::parse(&r.source)
        .ok_or_else(|| ApiError::invalid(record_path(&r.id), "来源未知"))?;
    let (created, updated) = (instant(&r.created_at)?, instant(&r.updated_at)?);
    on_tx!(tx, e => sqlx::query(SQL).bind(&r.id).bind(unit).bind(&c.title).bind(&c.doc_no).bind(&c.issuing_unit)
        .bind(&c.issued_on).bind(c.effective_on.as_deref()).bind(&c.full_text).bind(r.status).bind(&returned)
        .bind(r.review_opinion.as_deref()).bind(source).bind(r.version).bind(created).bind(updated)
        .execute(e).await.map(|_| ()))?;
    Ok(())
}

/// The record's history (merged by event id) and its files (kept in the
/// store first, so a row never names a file that is not there).
async fn history(app: &AppState, tx: &mut Tx, r: &Record, bytes: &Bytes) -> ApiResult<()> {
    const EVENT: &str = "INSERT INTO filing_events (id, filing_id, at, actor, action, note) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING";
    const FILE: &str = "INSERT INTO filing_files (filing_id, hash, file_name, content_type, size_bytes) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (filing_id, hash) DO NOTHING";
    for e in &r.events {
        let at = instant(&e.at)?;
        on_tx!(tx, c => sqlx::query(EVENT).bind(&e.id).bind(&r.id).bind(at).bind(&e.actor).bind(&e.action)
            .bind(e.note.as_deref()).execute(c).await.map(|_| ()))?;
    }
    for f in &r.files {
        let (pkg, sm3) = (bytes.clone(), f.hash.clone());
        let file = tokio::task::spawn_blocking(move || attachment(&pkg, &sm3))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(refused)?;
        crate::files::keep(app, NAMESPACE, Bytes::from(file)).await?;
        on_tx!(tx, c => sqlx::query(FILE).bind(&r.id).bind(&f.hash).bind(&f.file_name).bind(&f.content_type)
            .bind(f.size_bytes).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}
