//! Seal authorisation statistics (GK-09): per seal, how many grants were
//! made in a period and who holds or held it; per unit, the totals. JSON
//! shaped for charts, and the same as an .xlsx workbook with Chinese
//! headers. One query for all seals and grants of the unit's subtree.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use rust_xlsxwriter::{Format, Workbook};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use super::seals::SealStatus;
use super::unit_path;
use crate::authz::{Principal, Role};
use crate::calendar::{SHANGHAI, shanghai_date};
use crate::charts::{Chart, Series};
use crate::disclosure::{parse_ymd, ymd};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::on_db;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/seal-statistics", get(json_report))
        .route("/api/v1/seal-statistics/export", get(xlsx_report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The unit (and the units below it).
    pub unit_id: String,
    /// First day, YYYY-MM-DD (default: 1 January of this year).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today).
    pub to: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Grantee {
    pub user_id: String,
    pub name: String,
    pub granted_at: String,
    pub granted_by: String,
    pub reason: String,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SealStats {
    pub seal_id: String,
    pub name: String,
    pub kind: String,
    #[schema(value_type = String)]
    pub status: SealStatus,
    /// Grants made within the period.
    pub grants_in_period: i64,
    pub current_grantees: Vec<Grantee>,
    pub former_grantees: Vec<Grantee>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Totals {
    pub seals: i64,
    pub grants_in_period: i64,
    pub current_grantees: i64,
    pub former_grantees: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsReport {
    pub unit_id: String,
    pub from: String,
    pub to: String,
    pub seals: Vec<SealStats>,
    pub totals: Totals,
    pub chart: Chart,
}

#[derive(FromRow)]
struct Row {
    seal_id: String,
    seal_name: String,
    kind: String,
    status: SealStatus,
    user_id: Option<String>,
    user_name: Option<String>,
    granted_at: Option<OffsetDateTime>,
    granted_by: Option<String>,
    reason: Option<String>,
    revoked_at: Option<OffsetDateTime>,
}

fn day(field: &str, raw: Option<&str>, default: Date) -> ApiResult<Date> {
    match raw {
        None => Ok(default),
        Some(s) => parse_ymd(s).ok_or_else(|| ApiError::invalid(field, "日期格式为 YYYY-MM-DD")),
    }
}

/// Builds the report for a unit the caller administers.
pub async fn report(app: &AppState, p: &Principal, q: &StatsQuery) -> ApiResult<StatsReport> {
    const SQL: &str = "SELECT s.id AS seal_id, s.name AS seal_name, s.kind, s.status, g.user_id, \
         u.display_name AS user_name, g.granted_at, gb.display_name AS granted_by, g.reason, g.revoked_at \
         FROM seals s JOIN org_units o ON o.id = s.unit_id LEFT JOIN seal_grants g ON g.seal_id = s.id \
         LEFT JOIN users u ON u.id = g.user_id LEFT JOIN users gb ON gb.id = g.granted_by \
         WHERE substr(o.path, 1, length($1)) = $1 ORDER BY o.path, s.name, s.id, g.granted_at, g.id";
    let path = unit_path(app, "unit_id", &q.unit_id).await?;
    if !p.covers(&[Role::UnitAdmin], &path) {
        crate::audit::record_denied(app, p, "seal.statistics", "org_unit", &q.unit_id).await;
        return Err(ApiError::Forbidden);
    }
    let period = Period::of(q)?;
    let rows: Vec<Row> = on_db!(&app.db, c => sqlx::query_as(SQL).bind(&path).fetch_all(c).await)?;
    let seals = by_seal(rows, &period);
    let (chart, totals) = chart_of(&seals);
    Ok(StatsReport {
        unit_id: q.unit_id.clone(),
        from: ymd(period.from),
        to: ymd(period.to),
        seals,
        totals,
        chart,
    })
}

/// The report's period: Shanghai days `from` to `to`, and the instants
/// from `from`'s midnight to the midnight after `to`.
struct Period {
    from: Date,
    to: Date,
    start: OffsetDateTime,
    end: OffsetDateTime,
}

impl Period {
    /// From the query; by default this year up to today. At most ten years.
    fn of(q: &StatsQuery) -> ApiResult<Period> {
        let today = shanghai_date(crate::clock::now());
        let first_of_year = Date::from_calendar_date(today.year(), time::Month::January, 1)
            .map_err(|e| anyhow::anyhow!(e))?;
        let from = day("from", q.from.as_deref(), first_of_year)?;
        let to = day("to", q.to.as_deref(), today)?;
        if from > to || (to - from).whole_days() > 3660 {
            return Err(ApiError::invalid("to", "须不早于 from，且区间不超过十年"));
        }
        let start = from.midnight().assume_offset(SHANGHAI);
        let after = to.next_day().unwrap_or(to);
        let end = after.midnight().assume_offset(SHANGHAI);
        Ok(Period {
            from,
            to,
            start,
            end,
        })
    }
}

/// One entry per seal, in the rows' order (they come grouped by seal),
/// with its grants counted in `period` and its grantees split into
/// current and former.
fn by_seal(rows: Vec<Row>, period: &Period) -> Vec<SealStats> {
    let mut seals: Vec<SealStats> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in rows {
        let at = *index.entry(r.seal_id.clone()).or_insert_with(|| {
            seals.push(SealStats {
                seal_id: r.seal_id.clone(),
                name: r.seal_name.clone(),
                kind: r.kind.clone(),
                status: r.status,
                grants_in_period: 0,
                current_grantees: Vec::new(),
                former_grantees: Vec::new(),
            });
            seals.len() - 1
        });
        let stats = &mut seals[at];
        let (Some(user_id), Some(granted_at)) = (r.user_id, r.granted_at) else {
            continue;
        };
        if granted_at >= period.start && granted_at < period.end {
            stats.grants_in_period += 1;
        }
        let g = Grantee {
            user_id,
            name: r.user_name.unwrap_or_default(),
            granted_at: crate::clock::rfc3339(granted_at),
            granted_by: r.granted_by.unwrap_or_default(),
            reason: r.reason.unwrap_or_default(),
            revoked_at: r.revoked_at.map(crate::clock::rfc3339),
        };
        if g.revoked_at.is_none() {
            stats.current_grantees.push(g);
        } else {
            stats.former_grantees.push(g);
        }
    }
    seals
}

/// The chart's three series per seal, and their totals.
fn chart_of(seals: &[SealStats]) -> (Chart, Totals) {
    let count = |f: fn(&SealStats) -> i64| seals.iter().map(f).collect::<Vec<_>>();
    let series = |name: &str, data: Vec<i64>| Series {
        name: name.into(),
        data,
    };
    let chart = Chart {
        labels: seals.iter().map(|s| s.name.clone()).collect(),
        series: vec![
            series("期间授权次数", count(|s| s.grants_in_period)),
            series("现有被授权人", count(|s| s.current_grantees.len() as i64)),
            series("曾被授权人", count(|s| s.former_grantees.len() as i64)),
        ],
    };
    let totals = Totals {
        seals: seals.len() as i64,
        grants_in_period: chart.series[0].data.iter().sum(),
        current_grantees: chart.series[1].data.iter().sum(),
        former_grantees: chart.series[2].data.iter().sum(),
    };
    (chart, totals)
}

/// Seal authorisation statistics of a unit, for charts.
#[utoipa::path(get, path = "/api/v1/seal-statistics", tag = "seals", params(StatsQuery),
    responses(
        (status = 200, body = StatsReport),
        (status = 403, description = "not an administrator of the unit", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn json_report(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<StatsReport>> {
    Ok(Json(report(&app, &p, &q).await?))
}

/// The workbook: a summary sheet and a sheet of grantees.
pub fn workbook(r: &StatsReport) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let summary = book.add_worksheet().set_name("印章授权统计")?;
    // The period as two date cells: 统计期间 | from | 至 | to.
    summary.write_string(0, 0, "统计期间")?;
    for (col, day) in [(1, &r.from), (3, &r.to)] {
        match crate::calendar::parse_ymd(day) {
            Some(d) => crate::xlsx::write_date(summary, 0, col, d)?,
            None => drop(summary.write_string(0, col, day.as_str())?),
        }
    }
    summary.write_string(0, 2, "至")?;
    let headers = [
        "印章名称",
        "印章类型",
        "状态",
        "期间授权次数",
        "现有被授权人数",
        "曾被授权人数",
    ];
    for (c, h) in headers.iter().enumerate() {
        summary.write_string_with_format(2, c as u16, *h, &bold)?;
    }
    let mut row = 3u32;
    for s in &r.seals {
        let status = s.status.label_zh();
        summary.write_string(row, 0, &s.name)?;
        summary.write_string(row, 1, &s.kind)?;
        summary.write_string(row, 2, status)?;
        summary.write_number(row, 3, s.grants_in_period as f64)?;
        summary.write_number(row, 4, s.current_grantees.len() as f64)?;
        summary.write_number(row, 5, s.former_grantees.len() as f64)?;
        row += 1;
    }
    summary.write_string_with_format(row, 0, "合计", &bold)?;
    summary.write_number(row, 3, r.totals.grants_in_period as f64)?;
    summary.write_number(row, 4, r.totals.current_grantees as f64)?;
    summary.write_number(row, 5, r.totals.former_grantees as f64)?;
    summary.set_column_width(0, 36)?;
    summary.set_column_width(1, 16)?;
    summary.set_column_width(3, 16)?;
    let detail = book.add_worksheet().set_name("被授权人明细")?;
    for (c, h) in [
        "印章名称",
        "被授权人",
        "授权时间",
        "授权人",
        "授权事由",
        "撤销时间",
    ]
    .iter()
    .enumerate()
    {
        detail.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let mut row = 1u32;
    for s in &r.seals {
        for g in s.current_grantees.iter().chain(&s.former_grantees) {
            detail.write_string(row, 0, &s.name)?;
            detail.write_string(row, 1, &g.name)?;
            crate::xlsx::write_rfc3339(detail, row, 2, &g.granted_at)?;
            detail.write_string(row, 3, &g.granted_by)?;
            detail.write_string(row, 4, &g.reason)?;
            crate::xlsx::write_rfc3339(detail, row, 5, g.revoked_at.as_deref().unwrap_or(""))?;
            row += 1;
        }
    }
    detail.set_column_width(0, 36)?;
    for col in [2, 5] {
        detail.set_column_width(col, 20)?;
    }
    book.save_to_buffer()
}

/// The same statistics as an .xlsx workbook with Chinese headers.
#[utoipa::path(get, path = "/api/v1/seal-statistics/export", tag = "seals", params(StatsQuery),
    responses(
        (status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "the workbook"),
        (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ))]
pub async fn xlsx_report(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Response> {
    let r = report(&app, &p, &q).await?;
    let name = format!("seal-statistics-{}.xlsx", q.unit_id);
    crate::xlsx::download(name, move || workbook(&r)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seal: &str, user: Option<&str>, granted: Option<OffsetDateTime>, revoked: bool) -> Row {
        Row {
            seal_id: seal.into(),
            seal_name: format!("章{seal}"),
            kind: "公章".into(),
            status: SealStatus::Active,
            user_id: user.map(str::to_owned),
            user_name: user.map(str::to_owned),
            granted_at: granted,
            granted_by: Some("管理员".into()),
            reason: None,
            revoked_at: revoked.then_some(time::macros::datetime!(2026-06-01 0:00 UTC)),
        }
    }

    #[test]
    fn grants_are_counted_in_the_period_and_split_current_from_former() {
        let day = |d: u8| {
            Some(
                time::macros::datetime!(2026-03-01 0:00 UTC)
                    .replace_day(d)
                    .unwrap(),
            )
        };
        let period = Period {
            from: time::macros::date!(2026 - 03 - 02),
            to: time::macros::date!(2026 - 03 - 31),
            start: time::macros::datetime!(2026-03-01 16:00 UTC),
            end: time::macros::datetime!(2026-03-31 16:00 UTC),
        };
        let rows = vec![
            row("A", Some("u1"), day(1), false),
            row("A", Some("u2"), day(5), true),
            row("B", None, None, false),
        ];
        let seals = by_seal(rows, &period);
        assert_eq!(seals.len(), 2, "a seal without grants is listed too");
        assert_eq!(
            seals[0].grants_in_period, 1,
            "1 March 00:00 UTC is before Shanghai's 2 March"
        );
        assert_eq!(
            (
                seals[0].current_grantees.len(),
                seals[0].former_grantees.len()
            ),
            (1, 1)
        );
        let (chart, totals) = chart_of(&seals);
        assert_eq!(chart.labels, ["章A", "章B"]);
        assert_eq!(chart.series[1].data, [1, 0]);
        assert_eq!(
            (
                totals.seals,
                totals.grants_in_period,
                totals.former_grantees
            ),
            (2, 1, 1)
        );
    }
}
