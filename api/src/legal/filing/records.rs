//! Filings as a unit reports them: create (a reporting officer, for its
//! own unit), the list and one filing with its history and files, and the
//! edit of a returned filing, which may touch only the fields the reviewer
//! returned (422 naming any other).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::content::{Content, Field, Patch, check, outside};
use super::files::{FileView, of_filing};
use super::status::{FilingStatus, reports_here};
use super::store::{self, FilingEvent, FilingRow, Source, changed_meanwhile, wrong_side};
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::ids::{FilingId, UnitId};
use crate::state::AppState;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/filings", get(list).post(create))
        .route("/api/v1/legal/filings/{id}", get(one).patch(edit))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FilingSummary {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub title: String,
    pub doc_no: String,
    #[schema(value_type = String)]
    pub status: FilingStatus,
    pub status_label: &'static str,
    #[schema(value_type = String)]
    pub source: Source,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FilingView {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub document: Content,
    #[schema(value_type = String)]
    pub status: FilingStatus,
    pub status_label: &'static str,
    /// What the reviewer asked to change (a returned filing).
    #[schema(value_type = Vec<String>)]
    pub returned_fields: Vec<Field>,
    pub review_opinion: Option<String>,
    #[schema(value_type = String)]
    pub source: Source,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
    pub files: Vec<FileView>,
    pub history: Vec<FilingEvent>,
}

fn summary(f: FilingRow) -> FilingSummary {
    FilingSummary {
        id: f.id.into_string(),
        unit_id: f.unit_id.into_string(),
        unit_name: f.unit_name,
        title: f.content.title,
        doc_no: f.content.doc_no,
        status: f.status,
        status_label: f.status.label_zh(),
        source: f.source,
        version: f.version,
        updated_at: f.updated_at,
    }
}

pub async fn view(app: &AppState, f: FilingRow) -> ApiResult<FilingView> {
    let files = of_filing(app, &f.id).await?;
    let history = store::events(app, &f.id).await?;
    Ok(FilingView {
        returned_fields: f.returned(),
        id: f.id.into_string(),
        unit_id: f.unit_id.into_string(),
        unit_name: f.unit_name,
        document: f.content,
        status: f.status,
        status_label: f.status.label_zh(),
        review_opinion: f.review_opinion,
        source: f.source,
        version: f.version,
        created_at: f.created_at,
        updated_at: f.updated_at,
        files,
        history,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFiling {
    /// The reporting unit; the caller must be its reporting officer.
    #[schema(value_type = String)]
    pub unit_id: UnitId,
    /// The document: title, number, issuing unit, dates, full text.
    pub document: Content,
}

/// Reports a document for filing (a reporting officer, for its unit).
#[utoipa::path(post, path = "/api/v1/legal/filings", tag = "legal", request_body = NewFiling,
    responses((status = 201, body = FilingView), (status = 403, body = crate::error::Problem),
        (status = 409, description = "reporting is on the other network", body = crate::error::Problem),
        (status = 422, description = "each problem by field", body = crate::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewFiling>,
) -> ApiResult<(StatusCode, Json<FilingView>)> {
    if !store::reports_for(&p, &req.unit_id) {
        crate::audit::record_denied(
            &app,
            &p,
            "legal.filing.create",
            "unit",
            req.unit_id.as_str(),
        )
        .await;
        return Err(ApiError::Forbidden);
    }
    if !reports_here(app.config.legal.filing_side) {
        return Err(wrong_side("备案报送"));
    }
    let problems = check(&req.document);
    if !problems.is_empty() {
        return Err(ApiError::InvalidFields(problems));
    }
    let id = FilingId::generate();
    let mut tx = app.db.begin().await?;
    insert(&mut tx, &id, &req.unit_id, &req.document, Source::Unit).await?;
    store::event(&mut tx, &id, "submit", &p.actor_label(), None).await?;
    let detail = json!({ "unit_id": req.unit_id, "doc_no": req.document.doc_no });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.filing.create",
        ("filing", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    let row = store::filing(&app, &p, &id).await?;
    Ok((StatusCode::CREATED, Json(view(&app, row).await?)))
}

/// A new filing, submitted, at version 1.
pub async fn insert(
    tx: &mut crate::db::Tx,
    id: &FilingId,
    unit: &UnitId,
    c: &Content,
    source: Source,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO filings (id, unit_id, title, doc_no, issuing_unit, issued_on, effective_on, \
         full_text, status, source, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)";
    let now = crate::clock::now();
    on_tx!(tx, c2 => sqlx::query(SQL).bind(id).bind(unit).bind(&c.title).bind(&c.doc_no).bind(&c.issuing_unit)
        .bind(&c.issued_on).bind(c.effective_on.as_deref()).bind(&c.full_text).bind(FilingStatus::Submitted)
        .bind(source).bind(now).execute(c2).await.map(|_| ()))?;
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FilingQuery {
    #[param(value_type = Option<String>)]
    pub status: Option<FilingStatus>,
    /// Words in the title or the document number.
    pub q: Option<String>,
    pub limit: Option<i64>,
}

/// The filings the caller sees, most recently changed first.
#[utoipa::path(get, path = "/api/v1/legal/filings", tag = "legal", params(FilingQuery),
    responses((status = 200, body = Vec<FilingSummary>), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<FilingQuery>,
) -> ApiResult<Json<Vec<FilingSummary>>> {
    const SQL: &str = concat!(
        store::select_filings!(),
        "WHERE ($1 IS NULL OR f.status = $1) AND ($2 IS NULL OR f.title LIKE $2 ESCAPE '\\' OR f.doc_no LIKE $2 ESCAPE '\\') \
         AND ($3 OR u.path LIKE $4 ESCAPE '\\' OR u.path LIKE $5 ESCAPE '\\' OR u.path LIKE $6 ESCAPE '\\') \
         ORDER BY f.updated_at DESC, f.id DESC LIMIT $7"
    );
    p.require_any(&[Role::LegalAdmin, Role::LegalReporter, Role::LegalReviewer])?;
    let limit = crate::pagination::page_limit(q.limit)?;
    let pattern =
        q.q.as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(crate::db::like_pattern);
    let scope = store::unit_prefixes(&p);
    let rows: Vec<FilingRow> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(q.status).bind(pattern.as_deref())
        .bind(store::is_office(&p)).bind(scope[0].as_deref()).bind(scope[1].as_deref()).bind(scope[2].as_deref())
        .bind(limit).fetch_all(c).await)?;
    Ok(Json(rows.into_iter().map(summary).collect()))
}

/// One filing with its files and history.
#[utoipa::path(get, path = "/api/v1/legal/filings/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = FilingView), (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FilingId>,
) -> ApiResult<Json<FilingView>> {
    let row = store::filing(&app, &p, &id).await?;
    Ok(Json(view(&app, row).await?))
}

/// Changes a returned filing: only the fields the reviewer named.
#[utoipa::path(patch, path = "/api/v1/legal/filings/{id}", tag = "legal", params(("id" = String, Path)),
    request_body = Patch,
    responses((status = 200, body = FilingView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "not returned, or changed meanwhile", body = crate::error::Problem),
        (status = 422, description = "a field not returned, or an invalid value (each by field)", body = crate::error::Problem)))]
pub async fn edit(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FilingId>,
    ApiJson(patch): ApiJson<Patch>,
) -> ApiResult<Json<FilingView>> {
    let row = store::filing(&app, &p, &id).await?;
    if !store::reports_for(&p, &row.unit_id) {
        crate::audit::record_denied(&app, &p, "legal.filing.edit", "filing", id.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    if !reports_here(app.config.legal.filing_side) {
        return Err(wrong_side("备案修改"));
    }
    if row.status != FilingStatus::Returned {
        return Err(ApiError::Conflict {
            code: "wrong_state",
            detail: format!(
                "备案当前为“{}”，只有退回修改的备案可以修改",
                row.status.label_zh()
            ),
        });
    }
    let (next, changed) = row.content.patched(patch);
    let refused = outside(&row.returned(), &changed);
    if !refused.is_empty() {
        return Err(ApiError::InvalidFields(refused));
    }
    let problems = check(&next);
    if !problems.is_empty() {
        return Err(ApiError::InvalidFields(problems));
    }
    save(&app, &p, &row, &next, &changed).await?;
    let row = store::filing(&app, &p, &id).await?;
    Ok(Json(view(&app, row).await?))
}

/// Writes the changed document over the version read, with its history
/// entry and audit record.
async fn save(
    app: &AppState,
    p: &Principal,
    row: &FilingRow,
    next: &Content,
    changed: &[Field],
) -> ApiResult<()> {
    const SQL: &str = "UPDATE filings SET title = $3, doc_no = $4, issuing_unit = $5, issued_on = $6, \
         effective_on = $7, full_text = $8, version = version + 1, updated_at = $9 \
         WHERE id = $1 AND version = $2 AND status = 'returned'";
    let id = &row.id;
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(id).bind(row.version).bind(&next.title).bind(&next.doc_no)
        .bind(&next.issuing_unit).bind(&next.issued_on).bind(next.effective_on.as_deref()).bind(&next.full_text)
        .bind(crate::clock::now()).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(changed_meanwhile());
    }
    let names: Vec<&str> = changed.iter().map(|f| f.as_str()).collect();
    let note = names.join(",");
    store::event(&mut tx, id, "edit", &p.actor_label(), Some(&note)).await?;
    let detail = json!({ "fields": names });
    crate::audit::success(
        app,
        &mut tx,
        p,
        "legal.filing.edit",
        ("filing", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
