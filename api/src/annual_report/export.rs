//! The report as `.xlsx` in the layout of the national tables (merged
//! header cells, Chinese labels): 二 proactive disclosure, 三 requests, 四
//! reconsideration and litigation, and the texts; and the whole report as
//! PDF ([`super::pdf`]). Both audited.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use serde_json::json;

use super::reports::{ReportView, view, year_path};
use super::store;
use super::table3::RowDef;
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ids::UnitId;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/annual-reports/{unit_id}/{year}/export",
            get(export),
        )
        .route("/api/v1/annual-reports/{unit_id}/{year}/pdf", get(pdf))
}

/// The report as a workbook.
#[utoipa::path(get, path = "/api/v1/annual-reports/{unit_id}/{year}/export", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)),
    responses(
        (status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "the workbook"),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn export(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
) -> ApiResult<Response> {
    let v = exported(&app, &p, &unit, &raw_year, "xlsx").await?;
    let name = format!("annual-report-{}.xlsx", v.year);
    crate::xlsx::download(name, move || workbook(&v)).await
}

/// The whole report as PDF.
#[utoipa::path(get, path = "/api/v1/annual-reports/{unit_id}/{year}/pdf", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path)),
    responses(
        (status = 200, content_type = "application/pdf", description = "the report"),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
        (status = 503, body = crate::error::Problem, description = "no CJK font on this machine")))]
pub async fn pdf(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
) -> ApiResult<Response> {
    let v = exported(&app, &p, &unit, &raw_year, "pdf").await?;
    let name = format!("annual-report-{}.pdf", v.year);
    crate::pdf::download(&app, name, move |font| {
        crate::pdf::render_blocks(font, &super::pdf::blocks(&v))
    })
    .await
}

/// The report to export, for a party to it (404 otherwise); the export is
/// audited with its format.
async fn exported(
    app: &AppState,
    p: &Principal,
    unit: &UnitId,
    raw_year: &str,
    format: &str,
) -> ApiResult<ReportView> {
    let y = year_path(raw_year)?;
    let a = store::agency(app, unit).await?;
    store::party(app, p, &a).await?;
    let r = store::find(app, unit, y).await?.ok_or(ApiError::NotFound)?;
    let id = r.id.clone();
    let v = view(app, &a, r).await?;
    let detail = json!({ "unit_id": unit, "year": y, "status": v.status, "format": format });
    crate::audit::success_alone(
        app,
        p,
        "annual_report.export",
        ("annual_report", &id),
        detail,
    )
    .await?;
    Ok(v)
}

struct Styles {
    head: Format,
    cell: Format,
    left: Format,
}

fn styles() -> Styles {
    let base = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    Styles {
        head: base
            .clone()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        cell: base.clone().set_align(FormatAlign::Center),
        left: base
            .set_align(FormatAlign::Left)
            .set_align(FormatAlign::VerticalCenter),
    }
}

pub fn workbook(v: &ReportView) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let s = styles();
    proactive(book.add_worksheet().set_name("二、主动公开")?, v, &s)?;
    requests(book.add_worksheet().set_name("三、依申请公开")?, v, &s)?;
    appeals(book.add_worksheet().set_name("四、复议诉讼")?, v, &s)?;
    let texts = book.add_worksheet().set_name("正文")?;
    texts.set_column_width(0, 30)?;
    texts.set_column_width(1, 100)?;
    for (row, (label, text)) in [
        ("一、总体情况", &v.entered.overview),
        ("五、存在的主要问题及改进情况", &v.entered.problems),
        ("六、其他需要报告的事项", &v.entered.other_matters),
    ]
    .into_iter()
    .enumerate()
    {
        texts.write_string_with_format(row as u32, 0, label, &s.head)?;
        texts.write_string_with_format(row as u32, 1, text, &s.left)?;
    }
    book.save_to_buffer()
}

fn proactive(sheet: &mut Worksheet, v: &ReportView, s: &Styles) -> Result<(), XlsxError> {
    let p = &v.entered.proactive;
    sheet.set_column_width(0, 24)?;
    for c in 1..4 {
        sheet.set_column_width(c, 16)?;
    }
    sheet.merge_range(
        0,
        0,
        0,
        3,
        &format!("{}年 二、主动公开政府信息情况（{}）", v.year, v.unit_name),
        &s.head,
    )?;
    sheet.merge_range(1, 0, 1, 3, "第二十条第（一）项", &s.head)?;
    for (c, h) in ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(2, c as u16, *h, &s.head)?;
    }
    for (r, (label, d)) in [
        ("规章", &p.rules),
        ("行政规范性文件", &p.normative_documents),
    ]
    .into_iter()
    .enumerate()
    {
        let row = 3 + r as u32;
        sheet.write_string_with_format(row, 0, label, &s.left)?;
        for (c, n) in [d.issued, d.repealed, d.in_force].into_iter().enumerate() {
            sheet.write_number_with_format(row, 1 + c as u16, n as f64, &s.cell)?;
        }
    }
    let mut row = 5;
    for (item, head, lines) in [
        (
            "第二十条第（五）项",
            "本年处理决定数量",
            vec![("行政许可", p.licensing_decisions)],
        ),
        (
            "第二十条第（六）项",
            "本年处理决定数量",
            vec![("行政处罚", p.penalties), ("行政强制", p.coercive_measures)],
        ),
    ] {
        sheet.merge_range(row, 0, row, 3, item, &s.head)?;
        sheet.write_string_with_format(row + 1, 0, "信息内容", &s.head)?;
        sheet.merge_range(row + 1, 1, row + 1, 3, head, &s.head)?;
        row += 2;
        for (label, n) in lines {
            sheet.write_string_with_format(row, 0, label, &s.left)?;
            sheet.merge_range(row, 1, row, 3, &n.to_string(), &s.cell)?;
            row += 1;
        }
    }
    sheet.merge_range(row, 0, row, 3, "第二十条第（八）项", &s.head)?;
    sheet.write_string_with_format(row + 1, 0, "信息内容", &s.head)?;
    sheet.merge_range(
        row + 1,
        1,
        row + 1,
        3,
        "本年收费金额（单位：万元）",
        &s.head,
    )?;
    sheet.write_string_with_format(row + 2, 0, "行政事业性收费", &s.left)?;
    sheet.merge_range(
        row + 2,
        1,
        row + 2,
        3,
        &p.fees_10k_yuan.to_string(),
        &s.cell,
    )?;
    Ok(())
}

/// Section 3: the applicant columns under merged headers, the rows'
/// labels over three merged columns as the national table has them.
fn requests(sheet: &mut Worksheet, v: &ReportView, s: &Styles) -> Result<(), XlsxError> {
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 22)?;
    sheet.set_column_width(2, 40)?;
    sheet.merge_range(
        0,
        0,
        0,
        9,
        &format!(
            "{}年 三、收到和处理政府信息公开申请情况（{}）",
            v.year, v.unit_name
        ),
        &s.head,
    )?;
    sheet.merge_range(
        1,
        0,
        3,
        2,
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
        &s.head,
    )?;
    sheet.merge_range(1, 3, 1, 9, "申请人情况", &s.head)?;
    sheet.merge_range(2, 3, 3, 3, "自然人", &s.head)?;
    sheet.merge_range(2, 4, 2, 8, "法人或其他组织", &s.head)?;
    sheet.merge_range(2, 9, 3, 9, "总计", &s.head)?;
    for (i, c) in v.columns[1..6].iter().enumerate() {
        sheet.write_string_with_format(3, 4 + i as u16, &c.label, &s.head)?;
    }
    let first = 4u32;
    for (i, r) in v.rows.iter().enumerate() {
        let row = first + i as u32;
        label(sheet, v, s, row, r)?;
        for (c, n) in v.table3.get(&r.key).into_iter().enumerate() {
            sheet.write_number_with_format(row, 3 + c as u16, n as f64, &s.cell)?;
        }
    }
    // 三、本年度办理结果 spans its rows in the first column.
    let results: Vec<u32> = v
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.key == "results" || r.parent.is_some() || r.key == "results_total")
        .map(|(i, _)| first + i as u32)
        .collect();
    if let (Some(a), Some(b)) = (results.first(), results.last()) {
        sheet.merge_range(*a, 0, *b, 0, "三、本年度办理结果", &s.left)?;
    }
    Ok(())
}

/// A row's label: a section over all three label columns; a category over
/// two (or, with reasons, in the second column over its reasons' rows); a
/// reason in the third.
fn label(
    sheet: &mut Worksheet,
    v: &ReportView,
    s: &Styles,
    row: u32,
    r: &RowDef,
) -> Result<(), XlsxError> {
    match r.level {
        0 if r.key != "results" => {
            sheet.merge_range(row, 0, row, 2, &r.label, &s.left)?;
        }
        0 => {}
        1 if r.leaf || r.key == "results_total" => {
            sheet.merge_range(row, 1, row, 2, &r.label, &s.left)?;
        }
        1 => {
            let parts = v
                .rows
                .iter()
                .filter(|x| x.parent.as_deref() == Some(r.key.as_str()))
                .count() as u32;
            sheet.merge_range(row, 1, row + parts, 1, &r.label, &s.left)?;
            sheet.write_string_with_format(row, 2, "小计", &s.left)?;
        }
        _ => {
            sheet.write_string_with_format(row, 2, &r.label, &s.left)?;
        }
    }
    Ok(())
}

fn appeals(sheet: &mut Worksheet, v: &ReportView, s: &Styles) -> Result<(), XlsxError> {
    let heads = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"];
    sheet.merge_range(
        0,
        0,
        0,
        14,
        &format!(
            "{}年 四、政府信息公开行政复议、行政诉讼情况（{}）",
            v.year, v.unit_name
        ),
        &s.head,
    )?;
    sheet.merge_range(1, 0, 2, 4, "行政复议", &s.head)?;
    sheet.merge_range(1, 5, 1, 14, "行政诉讼", &s.head)?;
    sheet.merge_range(2, 5, 2, 9, "未经复议直接起诉", &s.head)?;
    sheet.merge_range(2, 10, 2, 14, "复议后起诉", &s.head)?;
    for (k, (_, o)) in v.entered.appeals.kinds().into_iter().enumerate() {
        for (c, (_, n)) in o.cells().into_iter().enumerate() {
            let col = (k * 5 + c) as u16;
            sheet.write_string_with_format(3, col, heads[c], &s.head)?;
            sheet.write_number_with_format(4, col, n as f64, &s.cell)?;
            sheet.set_column_width(col, 10)?;
        }
    }
    Ok(())
}
