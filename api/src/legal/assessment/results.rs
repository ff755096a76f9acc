//! Totals and the ranking: each assessed unit's score summed over its
//! indicators, what was deducted and why, how much material it sent, and
//! its place ([`super::ranking`]). The office sees every unit (places
//! provisional while scoring is open); a unit sees only its own line until
//! the results are published, then every unit's. Searched by unit; exported
//! as `.xlsx` in the columns the user chose ([`crate::export_templates`]).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::points::Points;
use super::ranking::rank;
use super::store::{self, AssessmentRow, AssessmentStatus, Viewer, matches};
use super::templates::title;
use crate::authz::Principal;
use crate::error::ApiResult;
use crate::export_templates::{Column, chosen};
use crate::http::extract::ApiQuery;
use crate::ids::{AssessmentId, UnitId};
use crate::on_db;
use crate::state::AppState;

pub const SUBJECT: &str = "assessment_results";

pub const COLUMNS: &[Column] = &[
    Column {
        key: "rank",
        label: "排名",
    },
    Column {
        key: "unit",
        label: "单位",
    },
    Column {
        key: "total",
        label: "得分",
    },
    Column {
        key: "max",
        label: "满分",
    },
    Column {
        key: "deducted",
        label: "扣分",
    },
    Column {
        key: "scored",
        label: "已评指标数",
    },
    Column {
        key: "materials",
        label: "说明材料数",
    },
    Column {
        key: "deductions",
        label: "扣分情况",
    },
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/assessments/{id}/results", get(results))
        .route("/api/v1/legal/assessments/{id}/export", get(export))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultRow {
    /// The place; null for a unit's own line before the results are out.
    pub rank: Option<usize>,
    pub unit_id: String,
    pub unit_name: String,
    #[schema(value_type = f64)]
    pub total: Points,
    #[schema(value_type = f64)]
    pub max: Points,
    #[schema(value_type = f64)]
    pub deducted: Points,
    /// Indicators scored, of `indicators`.
    pub scored: usize,
    pub indicators: usize,
    pub materials: i64,
    /// "指标：理由" of each deduction.
    pub deductions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Results {
    pub title: String,
    #[schema(value_type = String)]
    pub status: AssessmentStatus,
    pub rows: Vec<ResultRow>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultQuery {
    /// Fuzzy over the unit's name.
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    pub q: Option<String>,
    /// A saved export template of the caller's, by name.
    pub template: Option<String>,
    /// Or the column keys, comma-separated, in order.
    pub columns: Option<String>,
}

/// Every unit's total, in ranking order, as far as the caller may see.
pub async fn rows(
    app: &AppState,
    row: &AssessmentRow,
    viewer: &Viewer,
) -> ApiResult<Vec<ResultRow>> {
    const MATERIALS: &str = "SELECT unit_id, COUNT(*) FROM assessment_materials WHERE assessment_id = $1 GROUP BY unit_id";
    let tree = store::indicators(app, &row.id).await?;
    let leaves: BTreeMap<_, _> = tree
        .iter()
        .filter(|r| r.parent_id.is_some())
        .map(|r| (&r.id, r))
        .collect();
    let max: Points = leaves.values().map(|r| r.max()).sum();
    let scores = store::scores(app, &row.id, None).await?;
    let materials: Vec<(UnitId, i64)> =
        on_db!(&app.db, c => sqlx::query_as(MATERIALS).bind(&row.id).fetch_all(c).await)?;
    let mut lines: Vec<(ResultRow, Points)> = Vec::new();
    for u in store::assessed_units(app, &row.id).await? {
        let mine: Vec<_> = scores.iter().filter(|s| s.unit_id == u.id).collect();
        let total: Points = mine.iter().map(|s| Points(s.score_tenths)).sum();
        let of_max: Points = mine
            .iter()
            .filter_map(|s| leaves.get(&s.indicator_id))
            .map(|r| r.max())
            .sum();
        let deductions = mine
            .iter()
            .filter_map(|s| Some((leaves.get(&s.indicator_id)?, s.deduction_reason.as_deref()?)))
            .map(|(ind, why)| format!("{}：{why}", ind.name))
            .collect();
        let line = ResultRow {
            rank: None,
            unit_id: u.id.to_string(),
            unit_name: u.name.clone(),
            total,
            max,
            deducted: of_max - total,
            scored: mine.len(),
            indicators: leaves.len(),
            materials: materials
                .iter()
                .find(|(m, _)| *m == u.id)
                .map_or(0, |(_, n)| *n),
            deductions,
        };
        lines.push((line, total));
    }
    let ranked = rank(lines, |l| &l.unit_name);
    let everyone = *viewer == Viewer::Office || row.status == AssessmentStatus::ResultsPublished;
    Ok(ranked
        .into_iter()
        .filter(|r| everyone || viewer.reads(&UnitId::new(r.item.unit_id.clone())))
        .map(|r| ResultRow {
            rank: everyone.then_some(r.rank),
            ..r.item
        })
        .collect())
}

/// The results.
#[utoipa::path(get, path = "/api/v1/legal/assessments/{id}/results", tag = "legal",
    params(("id" = String, Path), ResultQuery),
    responses((status = 200, body = Results), (status = 404, body = crate::error::Problem)))]
pub async fn results(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<AssessmentId>,
    ApiQuery(q): ApiQuery<ResultQuery>,
) -> ApiResult<Json<Results>> {
    let (row, viewer) = store::assessment(&app, &p, &id).await?;
    let mut rows = rows(&app, &row, &viewer).await?;
    rows.retain(|r| matches(q.q.as_deref(), &r.unit_name));
    Ok(Json(Results {
        title: title(&row),
        status: row.status,
        rows,
    }))
}

/// The results as `.xlsx`, in the chosen columns.
#[utoipa::path(get, path = "/api/v1/legal/assessments/{id}/export", tag = "legal",
    params(("id" = String, Path), ExportQuery),
    responses((status = 200, description = "the .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = crate::error::Problem), (status = 422, description = "an unknown template or column", body = crate::error::Problem)))]
pub async fn export(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<AssessmentId>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let (row, viewer) = store::assessment(&app, &p, &id).await?;
    let columns = chosen(
        &app,
        &p,
        SUBJECT,
        q.template.as_deref(),
        q.columns.as_deref(),
    )
    .await?;
    let mut rows = rows(&app, &row, &viewer).await?;
    rows.retain(|r| matches(q.q.as_deref(), &r.unit_name));
    let keys: Vec<&str> = columns.iter().map(|c| c.key).collect();
    let detail = json!({ "rows": rows.len(), "columns": keys, "template": q.template });
    crate::audit::success_alone(
        &app,
        &p,
        "legal.assessment.export",
        ("assessment", id.as_str()),
        detail,
    )
    .await?;
    let title = title(&row);
    crate::xlsx::download(format!("assessment-{id}.xlsx"), move || {
        workbook(&title, &columns, &rows)
    })
    .await
}

fn cell(r: &ResultRow, key: &str) -> String {
    match key {
        "rank" => r.rank.map(|n| n.to_string()).unwrap_or_default(),
        "unit" => r.unit_name.clone(),
        "total" => r.total.to_string(),
        "max" => r.max.to_string(),
        "deducted" => r.deducted.to_string(),
        "scored" => format!("{}/{}", r.scored, r.indicators),
        "materials" => r.materials.to_string(),
        "deductions" => r.deductions.join("；"),
        _ => String::new(),
    }
}

pub fn workbook(title: &str, columns: &[Column], rows: &[ResultRow]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("考核结果")?;
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    for (i, c) in columns.iter().enumerate() {
        sheet.write_string_with_format(2, i as u16, c.label, &bold)?;
        let width = match c.key {
            "unit" => 30,
            "deductions" => 60,
            _ => 12,
        };
        sheet.set_column_width(i as u16, width)?;
    }
    for (n, r) in rows.iter().enumerate() {
        for (i, c) in columns.iter().enumerate() {
            let value = cell(r, c.key);
            let (row, col) = (3 + n as u32, i as u16);
            match c.key {
                "total" | "max" | "deducted" | "materials" | "rank" if !value.is_empty() => {
                    sheet.write_number(row, col, value.parse::<f64>().unwrap_or_default())?
                }
                _ => sheet.write_string(row, col, value)?,
            };
        }
    }
    book.save_to_buffer()
}
