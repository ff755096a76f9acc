//! Warning statistics (GK-19), for the General Office only: open warnings
//! now (an agency concerned has not replied) per category and per district,
//! and the warnings raised in a period of months per month, per rule and
//! per agency, with how many were answered. Every count carries the link to
//! the list of exactly its warnings (the drill-down); every breakdown comes
//! shaped for a chart; the same figures export as `.xlsx`. Each breakdown
//! is one grouped query.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use crate::authz::Principal;
use crate::calendar::shanghai_date;
use crate::charts::{Chart, Series};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::on_db;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/warning-statistics", get(json_report))
        .route("/api/v1/warning-statistics/export", get(xlsx_report))
}

/// The district key of agencies that are in no district (municipal
/// departments, the General Office).
pub const CITY_LEVEL: &str = "city";

/// A calendar month, as the history counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u8,
}

impl Month {
    fn of(d: time::Date) -> Month {
        Month {
            year: d.year(),
            month: u8::from(d.month()),
        }
    }

    fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            m => Month {
                year: self.year,
                month: m + 1,
            },
        }
    }

    fn back(self, months: u32) -> Month {
        let index = self.year * 12 + i32::from(self.month) - 1 - months as i32;
        Month {
            year: index.div_euclid(12),
            month: (index.rem_euclid(12) + 1) as u8,
        }
    }

    /// The first and last `raised_on` keys of the month (text order is day
    /// order; the 31st bounds every month).
    pub fn first_day(self) -> String {
        format!("{self}-01")
    }

    pub fn last_day(self) -> String {
        format!("{self}-31")
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// `YYYY-MM`, a real month of years 2000 to 2999.
pub fn parse_month(s: &str) -> Option<Month> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let (year, month): (i32, u8) = (y.parse().ok()?, m.parse().ok()?);
    ((2000..3000).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
}

/// A query's month field, if given; 422 naming it if malformed.
pub fn month_field(field: &str, raw: Option<&str>) -> ApiResult<Option<Month>> {
    match raw {
        None => Ok(None),
        Some(s) => parse_month(s)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(field, "月份格式应为 YYYY-MM")),
    }
}

/// The path of a district government's unit; 422 for anything else.
pub async fn district_path(app: &AppState, id: &str) -> ApiResult<String> {
    const SQL: &str = "SELECT path FROM org_units WHERE id = $1 AND kind = 'district_government'";
    on_db!(&app.db, c => sqlx::query_scalar(SQL).bind(id).fetch_optional(c).await)?
        .ok_or_else(|| ApiError::invalid("district", "不是区人民政府的单位编号"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// First month of the history, `YYYY-MM` (default: eleven months
    /// before `to`).
    pub from: Option<String>,
    /// Last month of the history, `YYYY-MM` (default: this month).
    pub to: Option<String>,
}

/// The history's period, checked: at most five years, in order.
fn period(q: &StatsQuery, today: time::Date) -> ApiResult<(Month, Month)> {
    let to = month_field("to", q.to.as_deref())?.unwrap_or(Month::of(today));
    let from = month_field("from", q.from.as_deref())?.unwrap_or(to.back(11));
    if from > to {
        return Err(ApiError::invalid("from", "起始月份不能晚于截止月份"));
    }
    if from < to.back(59) {
        return Err(ApiError::invalid("from", "统计期间最长 60 个月"));
    }
    Ok((from, to))
}

/// One count: a bar of the chart, and the list of its warnings.
#[derive(Debug, Clone, Serialize, ToSchema, FromRow)]
pub struct WarningBucket {
    pub key: String,
    pub label: String,
    pub count: i64,
    /// Of them, answered: every agency replied (per agency: it replied).
    pub answered: i64,
    /// `GET` it for the warnings counted here.
    #[sqlx(skip)]
    pub list: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningBreakdown {
    pub buckets: Vec<WarningBucket>,
    /// Series 预警数 (and, for the history, 已反馈), one point per bucket.
    pub chart: Chart,
}

impl WarningBreakdown {
    /// The buckets with their links, and the chart (with the 已反馈 series
    /// when `answered` means something: not for what is open now).
    fn of(
        buckets: Vec<WarningBucket>,
        answered: bool,
        list: impl Fn(&WarningBucket) -> String,
    ) -> WarningBreakdown {
        let buckets: Vec<WarningBucket> = buckets
            .into_iter()
            .map(|b| WarningBucket {
                list: list(&b),
                ..b
            })
            .collect();
        let series = |name: &str, f: fn(&WarningBucket) -> i64| Series {
            name: name.to_owned(),
            data: buckets.iter().map(f).collect(),
        };
        let chart = Chart {
            labels: buckets.iter().map(|b| b.label.clone()).collect(),
            series: if answered {
                vec![
                    series("预警数", |b| b.count),
                    series("已反馈", |b| b.answered),
                ]
            } else {
                vec![series("预警数", |b| b.count)]
            },
        };
        WarningBreakdown { buckets, chart }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenWarnings {
    /// Warnings an agency concerned has not replied to.
    pub total: i64,
    pub by_category: WarningBreakdown,
    /// Per district of the agencies not yet replied (a warning to agencies
    /// of two districts counts in both); `city`: agencies in no district.
    pub by_district: WarningBreakdown,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningHistory {
    pub from: String,
    pub to: String,
    /// Warnings first raised in the period.
    pub total: i64,
    /// Every month of the period, empty ones too.
    pub by_month: WarningBreakdown,
    pub by_rule: WarningBreakdown,
    /// Per agency concerned.
    pub by_agency: WarningBreakdown,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningStatistics {
    pub as_of: String,
    pub open: OpenWarnings,
    pub history: WarningHistory,
}

/// The buckets `sql` groups, with the period's first and last day bound
/// as `$1` and `$2` when there is one.
async fn buckets(
    app: &AppState,
    sql: &'static str,
    period: Option<(Month, Month)>,
) -> ApiResult<Vec<WarningBucket>> {
    let days = period.map(|(f, t)| (f.first_day(), t.last_day()));
    Ok(on_db!(&app.db, c => {
        let q = sqlx::query_as(sql);
        match &days {
            Some((from, to)) => q.bind(from).bind(to).fetch_all(c).await,
            None => q.fetch_all(c).await,
        }
    })?)
}

/// Open warnings now: the total, per category, per district.
async fn open_now(app: &AppState) -> ApiResult<OpenWarnings> {
    const TOTAL: &str =
        "SELECT COUNT(DISTINCT warning_id) FROM warning_agencies WHERE replied_at IS NULL";
    const CATEGORY: &str = "SELECT w.category_id AS key, MIN(c.name) AS label, COUNT(*) AS count, \
         CAST(0 AS BIGINT) AS answered FROM warnings w JOIN warning_categories c ON c.id = w.category_id \
         WHERE w.id IN (SELECT warning_id FROM warning_agencies WHERE replied_at IS NULL) \
         GROUP BY w.category_id ORDER BY MIN(c.name)";
    const DISTRICT: &str = "SELECT COALESCE(d.id, 'city') AS key, COALESCE(MIN(d.name), '市级') AS label, \
         COUNT(DISTINCT a.warning_id) AS count, CAST(0 AS BIGINT) AS answered FROM warning_agencies a \
         LEFT JOIN org_units d ON d.kind = 'district_government' AND substr(a.unit_path, 1, length(d.path)) = d.path \
         WHERE a.replied_at IS NULL GROUP BY d.id ORDER BY MIN(d.sort_order), MIN(d.path)";
    let total: i64 = on_db!(&app.db, c => sqlx::query_scalar(TOTAL).fetch_one(c).await)?;
    let by_category = buckets(app, CATEGORY, None).await?;
    let mut by_district = buckets(app, DISTRICT, None).await?;
    // The city level first, wherever each database sorts its NULL.
    by_district.sort_by_key(|b| b.key != CITY_LEVEL);
    Ok(OpenWarnings {
        total,
        by_category: WarningBreakdown::of(by_category, false, |b| {
            format!("/api/v1/warnings?category_id={}&open=true", b.key)
        }),
        by_district: WarningBreakdown::of(by_district, false, |b| {
            format!("/api/v1/warnings?district={}&open=true", b.key)
        }),
    })
}

/// 1 when every agency concerned has replied to warning `w`.
macro_rules! answered {
    () => {
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM warning_agencies o WHERE o.warning_id = w.id \
         AND o.replied_at IS NULL) THEN 0 ELSE 1 END)"
    };
}

/// Warnings first raised in the period: per month, rule and agency.
async fn history(app: &AppState, (from, to): (Month, Month)) -> ApiResult<WarningHistory> {
    const MONTH: &str = concat!(
        "SELECT substr(w.raised_on, 1, 7) AS key, substr(w.raised_on, 1, 7) AS label, COUNT(*) AS count, ",
        answered!(),
        " AS answered FROM warnings w WHERE w.raised_on BETWEEN $1 AND $2 \
         GROUP BY substr(w.raised_on, 1, 7) ORDER BY substr(w.raised_on, 1, 7)"
    );
    const RULE: &str = concat!(
        "SELECT w.rule_id AS key, MIN(r.spec) AS label, COUNT(*) AS count, ",
        answered!(),
        " AS answered FROM warnings w JOIN warning_rules r ON r.id = w.rule_id AND r.superseded_at IS NULL \
         WHERE w.raised_on BETWEEN $1 AND $2 GROUP BY w.rule_id ORDER BY COUNT(*) DESC, w.rule_id"
    );
    const AGENCY: &str = "SELECT a.unit_id AS key, MIN(u.name) AS label, COUNT(*) AS count, \
         SUM(CASE WHEN a.replied_at IS NULL THEN 0 ELSE 1 END) AS answered \
         FROM warning_agencies a JOIN warnings w ON w.id = a.warning_id JOIN org_units u ON u.id = a.unit_id \
         WHERE w.raised_on BETWEEN $1 AND $2 GROUP BY a.unit_id ORDER BY COUNT(*) DESC, a.unit_id";
    let period = Some((from, to));
    let months = every_month(buckets(app, MONTH, period).await?, from, to);
    let mut rules = buckets(app, RULE, period).await?;
    for r in &mut rules {
        r.label = super::rule::name_of_spec(&r.label);
    }
    let agencies = buckets(app, AGENCY, period).await?;
    let within = format!("&from={from}&to={to}");
    Ok(WarningHistory {
        from: from.to_string(),
        to: to.to_string(),
        total: months.iter().map(|b| b.count).sum(),
        by_month: WarningBreakdown::of(months, true, |b| {
            format!("/api/v1/warnings?from={0}&to={0}", b.key)
        }),
        by_rule: WarningBreakdown::of(rules, true, |b| {
            format!("/api/v1/warnings?rule_id={}{within}", b.key)
        }),
        by_agency: WarningBreakdown::of(agencies, true, |b| {
            format!("/api/v1/warnings?unit_id={}{within}", b.key)
        }),
    })
}

/// One bucket for every month from `from` to `to`, the months without
/// warnings at zero, so a chart's axis has no gaps.
fn every_month(found: Vec<WarningBucket>, from: Month, to: Month) -> Vec<WarningBucket> {
    let mut found = found.into_iter().peekable();
    let mut out = Vec::new();
    let mut m = from;
    while m <= to {
        let key = m.to_string();
        match found.next_if(|b| b.key == key) {
            Some(b) => out.push(b),
            None => out.push(WarningBucket {
                label: key.clone(),
                key,
                count: 0,
                answered: 0,
                list: String::new(),
            }),
        }
        m = m.next();
    }
    out
}

async fn report(app: &AppState, p: &Principal, q: &StatsQuery) -> ApiResult<WarningStatistics> {
    super::admin(app, p, "warning.statistics").await?;
    let now = crate::clock::now();
    let period = period(q, shanghai_date(now))?;
    Ok(WarningStatistics {
        as_of: crate::clock::rfc3339(now),
        open: open_now(app).await?,
        history: history(app, period).await?,
    })
}

/// City-wide warning statistics, for charts (the General Office only).
#[utoipa::path(get, path = "/api/v1/warning-statistics", tag = "warnings", params(StatsQuery),
    responses((status = 200, body = WarningStatistics), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn json_report(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<WarningStatistics>> {
    Ok(Json(report(&app, &p, &q).await?))
}

/// The same statistics as an .xlsx workbook (audited).
#[utoipa::path(get, path = "/api/v1/warning-statistics/export", tag = "warnings", params(StatsQuery),
    responses(
        (status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "the workbook"),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn xlsx_report(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Response> {
    let r = report(&app, &p, &q).await?;
    let h = &r.history;
    let detail = json!({ "from": h.from, "to": h.to, "open": r.open.total, "raised": h.total });
    let target = ("warning_statistics", "city");
    crate::audit::success_alone(&app, &p, "warning.statistics.export", target, detail).await?;
    let name = format!("warning-statistics-{}-{}.xlsx", h.from, h.to);
    crate::xlsx::download(name, move || workbook(&r)).await
}

/// The workbook: what is open now, and the history, one table per breakdown.
pub fn workbook(r: &WarningStatistics) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let open = book.add_worksheet().set_name("当前未反馈预警")?;
    let mut row = table(open, 0, ("预警类别", false), &r.open.by_category.buckets)?;
    table(open, row + 1, ("区", false), &r.open.by_district.buckets)?;
    let h = &r.history;
    let past = book.add_worksheet().set_name("历史预警")?;
    past.write_string(0, 0, format!("统计期间：{} 至 {}", h.from, h.to))?;
    row = table(past, 2, ("月份", true), &h.by_month.buckets)?;
    row = table(past, row + 1, ("预警规则", true), &h.by_rule.buckets)?;
    table(past, row + 1, ("涉及机关", true), &h.by_agency.buckets)?;
    book.save_to_buffer()
}

/// A table at `row`: a header, one line per bucket, a total line; answers
/// the row after it.
fn table(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    (what, answered): (&str, bool),
    buckets: &[WarningBucket],
) -> Result<u32, rust_xlsxwriter::XlsxError> {
    let bold = rust_xlsxwriter::Format::new().set_bold();
    sheet.write_string_with_format(row, 0, what, &bold)?;
    sheet.write_string_with_format(row, 1, "预警数", &bold)?;
    if answered {
        sheet.write_string_with_format(row, 2, "已反馈", &bold)?;
    }
    let mut at = row + 1;
    for b in buckets {
        sheet.write_string(at, 0, &b.label)?;
        sheet.write_number(at, 1, b.count as f64)?;
        if answered {
            sheet.write_number(at, 2, b.answered as f64)?;
        }
        at += 1;
    }
    sheet.write_string_with_format(at, 0, "合计", &bold)?;
    sheet.write_number(at, 1, buckets.iter().map(|b| b.count).sum::<i64>() as f64)?;
    if answered {
        sheet.write_number(
            at,
            2,
            buckets.iter().map(|b| b.answered).sum::<i64>() as f64,
        )?;
    }
    sheet.set_column_width(0, 36)?;
    Ok(at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_count_across_years() {
        let m = parse_month("2026-01").unwrap();
        assert_eq!(m.back(1).to_string(), "2025-12");
        assert_eq!(m.back(13).to_string(), "2024-12");
        assert_eq!(m.back(11).next().to_string(), "2025-03");
        assert_eq!(parse_month("2025-12").unwrap().next(), m);
        for bad in [
            "2026-13",
            "2026-00",
            "26-01",
            "2026-1",
            "2026/01",
            "+026-01",
            "2026-01-01",
        ] {
            assert!(parse_month(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_period_is_in_order_and_at_most_five_years() {
        let today = time::macros::date!(2026 - 12 - 03);
        let q = |from: Option<&str>, to: Option<&str>| StatsQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        };
        let (f, t) = period(&q(None, None), today).unwrap();
        assert_eq!(
            (f.to_string(), t.to_string()),
            ("2026-01".into(), "2026-12".into())
        );
        assert!(period(&q(Some("2026-05"), Some("2026-04")), today).is_err());
        assert!(period(&q(Some("2021-12"), Some("2026-12")), today).is_err());
        period(&q(Some("2022-01"), Some("2026-12")), today).unwrap();
        assert!(period(&q(Some("2026-5"), None), today).is_err());
    }

    #[test]
    fn empty_months_are_zero_and_found_ones_kept() {
        let b = |key: &str, count| WarningBucket {
            key: key.into(),
            label: key.into(),
            count,
            answered: 1,
            list: String::new(),
        };
        let from = parse_month("2026-01").unwrap();
        let to = parse_month("2026-04").unwrap();
        let got = every_month(vec![b("2026-02", 3), b("2026-04", 1)], from, to);
        let counts: Vec<(String, i64)> = got.iter().map(|b| (b.key.clone(), b.count)).collect();
        assert_eq!(
            counts,
            [
                ("2026-01", 0),
                ("2026-02", 3),
                ("2026-03", 0),
                ("2026-04", 1)
            ]
            .map(|(k, c)| (k.to_owned(), c))
        );
    }
}
