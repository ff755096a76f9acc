//! Reading assessments, scoped to who asks: the office that runs one sees
//! it whole; an assessed unit's reporting officers and reviewers see it
//! once published, their own scores always and the others' totals only
//! once the results are published. Anyone else finds nothing (404).

use sqlx::FromRow;
use time::OffsetDateTime;

use super::points::Points;
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::ids::{AssessmentId, IndicatorId, UnitId};
use crate::legal::cleanup::store::administers;
use crate::on_db;
use crate::org::UnitKind;
use crate::state::AppState;

crate::text_enum! {
    /// Whom a year's indicators assess.
    pub enum Track {
        /// 市级单位: the municipal departments.
        Municipal = "municipal",
        /// 区政府: the district governments.
        District = "district",
    }
}

impl Track {
    pub fn label_zh(self) -> &'static str {
        match self {
            Track::Municipal => "市级单位",
            Track::District => "区政府",
        }
    }

    pub fn kind(self) -> UnitKind {
        match self {
            Track::Municipal => UnitKind::MunicipalDepartment,
            Track::District => UnitKind::DistrictGovernment,
        }
    }
}

crate::text_enum! {
    pub enum AssessmentStatus {
        /// The office builds the indicators.
        Draft = "draft",
        /// Sent to the units: scores are entered, material is sent.
        Published = "published",
        /// Totals and ranking shown to every unit; scores frozen.
        ResultsPublished = "results_published",
    }
}

impl AssessmentStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            AssessmentStatus::Draft => "编制中",
            AssessmentStatus::Published => "考核中",
            AssessmentStatus::ResultsPublished => "结果已公布",
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct AssessmentRow {
    pub id: AssessmentId,
    pub office_unit_id: UnitId,
    pub office_path: String,
    pub year: i64,
    pub track: Track,
    pub deadline_on: String,
    pub status: AssessmentStatus,
    pub created_at: OffsetDateTime,
    pub published_at: Option<OffsetDateTime>,
    pub results_published_at: Option<OffsetDateTime>,
}

macro_rules! select_assessments {
    () => {
        "SELECT a.id, a.office_unit_id, o.path AS office_path, a.year, a.track, a.deadline_on, a.status, \
         a.created_at, a.published_at, a.results_published_at \
         FROM assessments a JOIN org_units o ON o.id = a.office_unit_id "
    };
}
pub(crate) use select_assessments;

/// Who the caller is to an assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Office,
    /// An assessed unit's legal officer.
    Unit(UnitId),
}

impl Viewer {
    /// The caller may read `unit`'s scores and material.
    pub fn reads(&self, unit: &UnitId) -> bool {
        match self {
            Viewer::Office => true,
            Viewer::Unit(own) => own == unit,
        }
    }
}

/// The units where the caller is a legal officer.
pub fn legal_units(p: &Principal) -> Vec<&UnitId> {
    p.grants
        .iter()
        .filter(|g| matches!(g.role, Role::LegalReporter | Role::LegalReviewer))
        .filter_map(|g| g.unit_id.as_ref())
        .collect()
}

/// An assessment the caller may see, and as whom; anyone else: 404.
pub async fn assessment(
    app: &AppState,
    p: &Principal,
    id: &AssessmentId,
) -> ApiResult<(AssessmentRow, Viewer)> {
    const SQL: &str = concat!(select_assessments!(), "WHERE a.id = $1");
    let row: Option<AssessmentRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    let row = row.ok_or(ApiError::NotFound)?;
    if administers(p, &row.office_path) {
        return Ok((row, Viewer::Office));
    }
    if row.status == AssessmentStatus::Draft {
        return Err(ApiError::NotFound);
    }
    let assessed = assessed_units(app, id).await?;
    let own = legal_units(p)
        .into_iter()
        .find(|u| assessed.iter().any(|a| &a.id == *u))
        .cloned();
    own.map(|u| (row, Viewer::Unit(u)))
        .ok_or(ApiError::NotFound)
}

/// An assessment the caller runs; anyone else: 404.
pub async fn managed(app: &AppState, p: &Principal, id: &AssessmentId) -> ApiResult<AssessmentRow> {
    match assessment(app, p, id).await? {
        (row, Viewer::Office) => Ok(row),
        (_, Viewer::Unit(_)) => {
            crate::audit::record_denied(
                app,
                p,
                "legal.assessment.manage",
                "assessment",
                id.as_str(),
            )
            .await;
            Err(ApiError::Forbidden)
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct IndicatorRow {
    pub id: IndicatorId,
    pub parent_id: Option<IndicatorId>,
    pub name: String,
    pub max_tenths: Option<i64>,
    pub guide: String,
}

impl IndicatorRow {
    pub fn max(&self) -> Points {
        Points(self.max_tenths.unwrap_or_default())
    }
}

/// The tree in order: each category followed by its indicators.
pub async fn indicators(app: &AppState, id: &AssessmentId) -> ApiResult<Vec<IndicatorRow>> {
    const SQL: &str = "SELECT i.id, i.parent_id, i.name, i.max_tenths, i.guide FROM assessment_indicators i \
         LEFT JOIN assessment_indicators c ON c.id = i.parent_id WHERE i.assessment_id = $1 \
         ORDER BY COALESCE(c.position, i.position), i.parent_id IS NOT NULL, i.position";
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_all(c).await)?)
}

#[derive(Debug, Clone, FromRow)]
pub struct AssessedUnit {
    pub id: UnitId,
    pub name: String,
}

pub async fn assessed_units(app: &AppState, id: &AssessmentId) -> ApiResult<Vec<AssessedUnit>> {
    const SQL: &str = "SELECT u.id, u.name FROM assessment_units au JOIN org_units u ON u.id = au.unit_id \
         WHERE au.assessment_id = $1 ORDER BY u.path";
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_all(c).await)?)
}

#[derive(Debug, Clone, FromRow)]
pub struct ScoreRow {
    pub indicator_id: IndicatorId,
    pub unit_id: UnitId,
    pub score_tenths: i64,
    pub deduction_reason: Option<String>,
}

/// The scores entered, of one unit or of all.
pub async fn scores(
    app: &AppState,
    id: &AssessmentId,
    unit: Option<&UnitId>,
) -> ApiResult<Vec<ScoreRow>> {
    const SQL: &str = "SELECT indicator_id, unit_id, score_tenths, deduction_reason FROM assessment_scores \
         WHERE assessment_id = $1 AND ($2 IS NULL OR unit_id = $2)";
    let unit = unit.map(UnitId::as_str);
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).bind(unit).fetch_all(c).await)?)
}

/// "张" finds "张三": a case-insensitive substring, for the lists' `q`.
pub fn matches(q: Option<&str>, text: &str) -> bool {
    match q.map(str::trim).filter(|q| !q.is_empty()) {
        None => true,
        Some(q) => text.to_lowercase().contains(&q.to_lowercase()),
    }
}
