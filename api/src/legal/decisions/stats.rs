//! Statistics of the catalogue (FW-07): declarations per year split into
//! district governments and municipal departments, and filing progress
//! counted the same way; chart-shaped, with each count's drill-down (the
//! catalogue list filtered to it), and as `.xlsx`. One grouped query.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::catalogue::{DecisionQuery, DecisionView, matching};
use super::progress::{Group, Progress};
use crate::authz::{Principal, Role};
use crate::charts::{Chart, Series};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::on_db;
use crate::org::UnitKind;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/major-decisions/statistics", get(statistics))
        .route("/api/v1/legal/major-decisions/statistics.xlsx", get(export))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Years {
    /// First year counted (default: five years before `to`).
    pub from: Option<i64>,
    /// Last year counted (default: this year).
    pub to: Option<i64>,
}

/// One count and where it drills down to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cell {
    /// `declarations` (by year) or `progress` (by state, over the years).
    pub measure: &'static str,
    pub year: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub progress: Option<Progress>,
    #[schema(value_type = String)]
    pub group: Group,
    pub count: i64,
    /// The catalogue list of exactly these records.
    pub drill: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Statistics {
    pub from: i64,
    pub to: i64,
    /// Labels: years; series: 区政府, 市级部门.
    pub declarations: Chart,
    /// Labels: the progress states; series: 区政府, 市级部门.
    pub progress: Chart,
    pub cells: Vec<Cell>,
}

fn years(q: &Years) -> ApiResult<(i64, i64)> {
    let this = i64::from(crate::calendar::shanghai_date(crate::clock::now()).year());
    let to = q.to.unwrap_or(this);
    if !(2000..=2100).contains(&to) {
        return Err(ApiError::invalid("to", "年度须在 2000 到 2100 之间"));
    }
    let from = q.from.unwrap_or(to - 4);
    if !(2000..=to).contains(&from) || to - from > 30 {
        return Err(ApiError::invalid(
            "from",
            "须在 2000 年到截止年度之间，且范围不超过 30 年",
        ));
    }
    Ok((from, to))
}

/// (year, group, progress) → count.
type Counts = BTreeMap<(i64, Group, Progress), i64>;

async fn counts(app: &AppState, from: i64, to: i64) -> ApiResult<Counts> {
    const SQL: &str = "SELECT d.year, u.kind, d.progress, COUNT(*) FROM major_decisions d \
         JOIN org_units u ON u.id = d.unit_id WHERE d.year BETWEEN $1 AND $2 GROUP BY d.year, u.kind, d.progress";
    let rows: Vec<(i64, UnitKind, Progress, i64)> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(from).bind(to).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(y, kind, pr, n)| Group::of(kind).map(|g| ((y, g, pr), n)))
        .collect())
}

fn sum(c: &Counts, keep: impl Fn(i64, Group, Progress) -> bool) -> i64 {
    c.iter()
        .filter(|((y, g, p), _)| keep(*y, *g, *p))
        .map(|(_, n)| n)
        .sum()
}

const GROUPS: [Group; 2] = [Group::District, Group::Municipal];
const BASE: &str = "/api/v1/legal/major-decisions";

pub fn shape(c: &Counts, from: i64, to: i64) -> Statistics {
    let years: Vec<i64> = (from..=to).collect();
    let cells = cells(c, &years);
    let series = |measure: &str| -> Vec<Series> {
        GROUPS
            .iter()
            .map(|g| Series {
                name: g.label_zh().into(),
                data: cells
                    .iter()
                    .filter(|x| x.measure == measure && x.group == *g)
                    .map(|x| x.count)
                    .collect(),
            })
            .collect()
    };
    Statistics {
        from,
        to,
        declarations: Chart {
            labels: years.iter().map(i64::to_string).collect(),
            series: series("declarations"),
        },
        progress: Chart {
            labels: Progress::ALL
                .iter()
                .map(|p| p.label_zh().to_owned())
                .collect(),
            series: series("progress"),
        },
        cells,
    }
}

/// Every count with its drill-down: per year and group, then per progress
/// and group.
fn cells(c: &Counts, years: &[i64]) -> Vec<Cell> {
    let (from, to) = (years[0], years[years.len() - 1]);
    let mut cells = Vec::new();
    for &y in years {
        for g in GROUPS {
            cells.push(Cell {
                measure: "declarations",
                year: Some(y),
                progress: None,
                group: g,
                count: sum(c, |yy, gg, _| yy == y && gg == g),
                drill: format!("{BASE}?year={y}&group={}", g.as_str()),
            });
        }
    }
    for pr in Progress::ALL {
        for g in GROUPS {
            cells.push(Cell {
                measure: "progress",
                year: None,
                progress: Some(pr),
                group: g,
                count: sum(c, |_, gg, pp| gg == g && pp == pr),
                drill: format!(
                    "{BASE}?progress={}&group={}&from={from}&to={to}",
                    pr.as_str(),
                    g.as_str()
                ),
            });
        }
    }
    cells
}

/// The catalogue's statistics (the legal affairs office).
#[utoipa::path(get, path = "/api/v1/legal/major-decisions/statistics", tag = "legal", params(Years),
    responses((status = 200, body = Statistics), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn statistics(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<Years>,
) -> ApiResult<Json<Statistics>> {
    p.require_any(&[Role::LegalAdmin])?;
    let (from, to) = years(&q)?;
    let c = counts(&app, from, to).await?;
    Ok(Json(shape(&c, from, to)))
}

/// The statistics as `.xlsx`: declarations by year, progress, and the
/// records counted.
#[utoipa::path(get, path = "/api/v1/legal/major-decisions/statistics.xlsx", tag = "legal", params(Years),
    responses((status = 200, description = "the .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn export(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<Years>,
) -> ApiResult<Response> {
    p.require_any(&[Role::LegalAdmin])?;
    let (from, to) = years(&q)?;
    let stats = shape(&counts(&app, from, to).await?, from, to);
    let q = DecisionQuery {
        from: Some(from),
        to: Some(to),
        ..DecisionQuery::default()
    };
    let records = matching(&app, &p, &q, 100_000).await?;
    let detail = json!({ "from": from, "to": to, "records": records.len() });
    crate::audit::success_alone(
        &app,
        &p,
        "legal.decision.export",
        ("major_decisions", &format!("{from}-{to}")),
        detail,
    )
    .await?;
    crate::xlsx::download(format!("major-decisions-{from}-{to}.xlsx"), move || {
        workbook(&stats, &records)
    })
    .await
}

fn workbook(s: &Statistics, records: &[DecisionView]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for (name, first, chart) in [
        ("按年度", "年度", &s.declarations),
        ("备案进度", "进度", &s.progress),
    ] {
        let sheet = book.add_worksheet().set_name(name)?;
        sheet.write_string_with_format(0, 0, first, &bold)?;
        for (i, series) in chart.series.iter().enumerate() {
            sheet.write_string_with_format(0, i as u16 + 1, &series.name, &bold)?;
        }
        sheet.write_string_with_format(0, chart.series.len() as u16 + 1, "合计", &bold)?;
        for (r, label) in chart.labels.iter().enumerate() {
            let row = r as u32 + 1;
            sheet.write_string(row, 0, label)?;
            let mut total = 0;
            for (i, series) in chart.series.iter().enumerate() {
                sheet.write_number(row, i as u16 + 1, series.data[r] as f64)?;
                total += series.data[r];
            }
            sheet.write_number(row, chart.series.len() as u16 + 1, total as f64)?;
        }
    }
    let sheet = book.add_worksheet().set_name("决策目录")?;
    for (c, h) in ["年度", "申报单位", "类别", "决策事项", "备案进度"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, d) in records.iter().enumerate() {
        let row = r as u32 + 1;
        sheet.write_number(row, 0, d.year as f64)?;
        sheet.write_string(row, 1, &d.unit_name)?;
        sheet.write_string(row, 2, Group::of(d.unit_kind).map_or("", Group::label_zh))?;
        sheet.write_string(row, 3, &d.title)?;
        sheet.write_string(row, 4, d.progress.label_zh())?;
    }
    book.save_to_buffer()
}
