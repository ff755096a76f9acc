//! Supporting material: a unit's reporting officer sends files that
//! explain a deduction, per indicator, while the assessment is open
//! (through the project's file store: size limit, type and magic bytes,
//! SM3-named objects checked again on download). The office and the unit
//! itself download them.

use std::collections::BTreeMap;

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

use super::store::{self, Viewer};
use super::templates::scoring;
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::ids::{AssessmentId, IndicatorId, MaterialId, UnitId};
use crate::state::AppState;
use crate::{on_db, on_tx};

const TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];
const MAX_PER_UNIT: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/legal/assessments/{id}/units/{unit_id}/materials",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/legal/assessment-materials/{id}", get(download))
}

#[derive(Debug, Clone, Serialize, ToSchema, FromRow)]
pub struct MaterialView {
    pub id: String,
    #[serde(skip)]
    pub indicator_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub content_hash: String,
}

/// A unit's material, by indicator.
pub async fn of_unit(
    app: &AppState,
    id: &AssessmentId,
    unit: &UnitId,
) -> ApiResult<BTreeMap<IndicatorId, Vec<MaterialView>>> {
    const SQL: &str = "SELECT id, indicator_id, file_name, content_type, size_bytes, content_hash \
         FROM assessment_materials WHERE assessment_id = $1 AND unit_id = $2 ORDER BY created_at, id";
    let rows: Vec<MaterialView> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).bind(unit).fetch_all(c).await)?;
    let mut out: BTreeMap<IndicatorId, Vec<MaterialView>> = BTreeMap::new();
    for m in rows {
        out.entry(IndicatorId::new(m.indicator_id.clone()))
            .or_default()
            .push(m);
    }
    Ok(out)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MaterialQuery {
    pub indicator_id: String,
    /// The file's name, as shown.
    pub name: String,
}

/// Sends a file explaining the unit's score on an indicator.
#[utoipa::path(post, path = "/api/v1/legal/assessments/{id}/units/{unit_id}/materials", tag = "legal",
    params(("id" = String, Path), ("unit_id" = String, Path), MaterialQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file, sent with its own Content-Type: application/pdf, image/jpeg or image/png"),
    responses((status = 201, body = MaterialView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, description = "results published", body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 422, description = "unknown indicator, type not allowed or not matching the bytes", body = crate::error::Problem)))]
pub async fn upload(
    State(app): State<AppState>,
    p: Principal,
    Path((id, unit)): Path<(AssessmentId, UnitId)>,
    ApiQuery(q): ApiQuery<MaterialQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<MaterialView>)> {
    let (_, viewer) = store::assessment(&app, &p, &id).await?;
    if !viewer.reads(&unit) {
        return Err(ApiError::NotFound);
    }
    let reporter = p
        .grants
        .iter()
        .any(|g| g.role == Role::LegalReporter && g.unit_id.as_ref() == Some(&unit));
    if viewer == Viewer::Office || !reporter {
        crate::audit::record_denied(
            &app,
            &p,
            "legal.assessment.material",
            "assessment",
            id.as_str(),
        )
        .await;
        return Err(ApiError::Forbidden);
    }
    let tree = store::indicators(&app, &id).await?;
    let indicator = tree
        .iter()
        .find(|r| r.parent_id.is_some() && r.id.as_str() == q.indicator_id)
        .ok_or_else(|| ApiError::invalid("indicator_id", "不是本考核的指标"))?;
    let name = crate::validate::text("name", Some(&q.name), 200, false)?;
    let stored = crate::files::receive(&app, "assessments", &TYPES, &headers, body).await?;
    let view = MaterialView {
        id: MaterialId::generate().into_string(),
        indicator_id: indicator.id.to_string(),
        file_name: name,
        content_type: stored.content_type,
        size_bytes: stored.size_bytes,
        content_hash: stored.content_hash,
    };
    record(&app, &p, &id, &unit, &view, &stored.storage_key).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn record(
    app: &AppState,
    p: &Principal,
    id: &AssessmentId,
    unit: &UnitId,
    m: &MaterialView,
    key: &str,
) -> ApiResult<()> {
    const COUNT: &str =
        "SELECT COUNT(*) FROM assessment_materials WHERE assessment_id = $1 AND unit_id = $2";
    const SQL: &str = "INSERT INTO assessment_materials (id, assessment_id, unit_id, indicator_id, file_name, \
         content_type, size_bytes, content_hash, storage_key, uploaded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    let mut tx = app.db.begin().await?;
    scoring(&mut tx, id).await?;
    let n: i64 =
        on_tx!(&mut tx, c => sqlx::query_scalar(COUNT).bind(id).bind(unit).fetch_one(c).await)?;
    if n >= MAX_PER_UNIT {
        return Err(ApiError::invalid(
            "indicator_id",
            format!("每个单位最多 {MAX_PER_UNIT} 份说明材料"),
        ));
    }
    on_tx!(&mut tx, c => sqlx::query(SQL).bind(&m.id).bind(id).bind(unit).bind(&m.indicator_id).bind(&m.file_name)
        .bind(&m.content_type).bind(m.size_bytes).bind(&m.content_hash).bind(key).bind(&p.user_id)
        .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    let detail = json!({ "unit_id": unit, "indicator_id": m.indicator_id, "size": m.size_bytes, "hash": m.content_hash });
    crate::audit::success(
        app,
        &mut tx,
        p,
        "legal.assessment.material",
        ("assessment_material", &m.id),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(FromRow)]
struct Stored {
    assessment_id: AssessmentId,
    unit_id: UnitId,
    file_name: String,
    content_type: String,
    content_hash: String,
    storage_key: String,
}

/// A material file (the office, or the unit that sent it).
#[utoipa::path(get, path = "/api/v1/legal/assessment-materials/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = crate::error::Problem)))]
pub async fn download(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<MaterialId>,
) -> ApiResult<Response> {
    const SQL: &str = "SELECT assessment_id, unit_id, file_name, content_type, content_hash, storage_key \
         FROM assessment_materials WHERE id = $1";
    let row: Option<Stored> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(&id).fetch_optional(c).await)?;
    let row = row.ok_or(ApiError::NotFound)?;
    let (_, viewer) = store::assessment(&app, &p, &row.assessment_id).await?;
    if !viewer.reads(&row.unit_id) {
        return Err(ApiError::NotFound);
    }
    let bytes = crate::files::read(&app, &row.storage_key, &row.content_hash).await?;
    Ok(crate::files::download(
        &row.file_name,
        row.content_type,
        bytes,
    ))
}
