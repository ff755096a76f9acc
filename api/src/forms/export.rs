//! The sender's export of a form (GK-13) as one `.xlsx` workbook, Chinese
//! headers: 汇总 (each numeric field's count, sum, mean, min and max; each
//! choice's count per option; the roll-ups up the org tree), 填报明细 (one
//! row per unit and its answers), and one sheet per table field with every
//! row of every unit. Personal values are masked, as on screen.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::{Map, Value, json};

use super::aggregate::Aggregate;
use super::answers::decimal_of;
use super::definition::{Definition, Field, Kind};
use super::progress::{Sent, aggregate_of, fetch, off_runtime, open_all, unit_names};
use super::store;
use crate::authz::Principal;
use crate::error::ApiResult;
use crate::ids::FormId;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/forms/{id}/export", get(export))
}

/// The aggregate and every return as a workbook (senders only; audited).
#[utoipa::path(get, path = "/api/v1/forms/{id}/export", tag = "forms", params(("id" = String, Path)),
    responses(
        (status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "the workbook"),
        (status = 404, body = crate::error::Problem),
    ))]
pub async fn export(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
) -> ApiResult<Response> {
    let form = store::form(&app, &p, &id).await?;
    let def = form.definition()?;
    let rows = fetch(&app, &form).await?;
    let names = unit_names(&app, &rows).await?;
    let pii = app.pii.clone();
    let title = form.title.clone();
    let (rows, answers, aggregate) = off_runtime(move || {
        let answers = open_all(&def, &pii, &rows)?;
        let aggregate = aggregate_of(&def, &rows, &answers, &names);
        Ok((rows, answers, aggregate))
    })
    .await?;
    let detail = json!({ "returns": rows.len() });
    crate::audit::success_alone(&app, &p, "form.export", ("form", id.as_str()), detail).await?;
    let def = form.definition()?;
    crate::xlsx::download(format!("form-{id}.xlsx"), move || {
        workbook(&title, &def, &rows, &answers, &aggregate)
    })
    .await
}

/// The whole workbook.
pub fn workbook(
    title: &str,
    def: &Definition,
    rows: &[Sent],
    answers: &[Map<String, Value>],
    agg: &Aggregate,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    summary(book.add_worksheet().set_name("汇总")?, title, agg)?;
    details(
        book.add_worksheet().set_name("填报明细")?,
        def,
        rows,
        answers,
    )?;
    for f in def.fields() {
        if let Kind::Table { columns } = &f.kind {
            let name: String = f.label.chars().take(31).collect();
            table_sheet(
                book.add_worksheet().set_name(sheet_name(&name))?,
                columns,
                rows,
                answers,
                &f.key,
            )?;
        }
    }
    book.save_to_buffer()
}

/// A sheet name Excel takes: none of `[]:*?/\`.
fn sheet_name(label: &str) -> String {
    label
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect()
}

fn header(sheet: &mut Worksheet, row: u32, titles: &[&str]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (col, t) in titles.iter().enumerate() {
        sheet.write_string_with_format(row, col as u16, *t, &bold)?;
    }
    Ok(())
}

/// A decimal's text as a number cell (exact for the digits Excel keeps).
fn number_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: Option<&str>,
) -> Result<(), XlsxError> {
    match text.and_then(|t| t.parse::<f64>().ok()) {
        Some(n) => sheet.write_number(row, col, n).map(|_| ()),
        None => Ok(()),
    }
}

fn summary(sheet: &mut Worksheet, title: &str, agg: &Aggregate) -> Result<(), XlsxError> {
    sheet.write_string(0, 0, title)?;
    sheet.write_string(
        1,
        0,
        format!("计入汇总的填报：{} 份（已提交、已采纳）", agg.returns),
    )?;
    header(
        sheet,
        3,
        &["字段", "填报数", "合计", "平均", "最小", "最大"],
    )?;
    let mut row = 4;
    for n in &agg.numbers {
        sheet.write_string(row, 0, &n.label)?;
        sheet.write_number(row, 1, n.count as f64)?;
        number_cell(sheet, row, 2, Some(&n.sum))?;
        number_cell(sheet, row, 3, n.mean.as_deref())?;
        number_cell(sheet, row, 4, n.min.as_deref())?;
        number_cell(sheet, row, 5, n.max.as_deref())?;
        row += 1;
    }
    row += 1;
    header(sheet, row, &["字段", "选项", "计数"])?;
    for c in &agg.choices {
        for o in &c.counts {
            row += 1;
            sheet.write_string(row, 0, &c.label)?;
            sheet.write_string(row, 1, &o.option)?;
            sheet.write_number(row, 2, o.count as f64)?;
        }
    }
    row += 2;
    let numeric: Vec<&str> = agg
        .numbers
        .iter()
        .filter(|n| !n.key.contains('.'))
        .map(|n| n.label.as_str())
        .collect();
    let mut titles = vec!["单位", "层级", "填报数"];
    titles.extend(&numeric);
    header(sheet, row, &titles)?;
    for r in &agg.rollups {
        row += 1;
        sheet.write_string(row, 0, format!("{}{}", "　".repeat(r.level), r.unit_name))?;
        sheet.write_number(row, 1, r.level as f64)?;
        sheet.write_number(row, 2, r.returns as f64)?;
        for (i, sum) in r.sums.values().enumerate() {
            number_cell(sheet, row, 3 + i as u16, Some(sum))?;
        }
    }
    sheet.set_column_width(0, 30)?;
    Ok(())
}

/// A value as a cell: numbers as numbers, lists joined, booleans 是/否.
fn cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    f: &Field,
    v: Option<&Value>,
) -> Result<(), XlsxError> {
    match (v, &f.kind) {
        (None | Some(Value::Null), _) => Ok(()),
        (Some(v), k) if k.is_numeric() => number_cell(
            sheet,
            row,
            col,
            decimal_of(v).map(|d| d.to_string()).as_deref(),
        ),
        (Some(Value::Bool(b)), _) => sheet
            .write_string(row, col, if *b { "是" } else { "否" })
            .map(|_| ()),
        (Some(Value::Array(items)), Kind::Attachment { .. }) => sheet
            .write_string(row, col, format!("{} 个附件", items.len()))
            .map(|_| ()),
        (Some(Value::Array(items)), _) => {
            let text: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            sheet.write_string(row, col, text.join("、")).map(|_| ())
        }
        (Some(Value::String(s)), _) => sheet.write_string(row, col, s).map(|_| ()),
        (Some(other), _) => sheet.write_string(row, col, other.to_string()).map(|_| ()),
    }
}

fn details(
    sheet: &mut Worksheet,
    def: &Definition,
    rows: &[Sent],
    answers: &[Map<String, Value>],
) -> Result<(), XlsxError> {
    let fields: Vec<&Field> = def
        .fields()
        .filter(|f| !matches!(f.kind, Kind::Table { .. }))
        .collect();
    let mut titles = vec!["单位", "状态", "提交时间", "逾期提交"];
    titles.extend(fields.iter().map(|f| f.label.as_str()));
    header(sheet, 0, &titles)?;
    for (i, (r, a)) in rows.iter().zip(answers).enumerate() {
        let row = 1 + i as u32;
        sheet.write_string(row, 0, &r.unit_name)?;
        sheet.write_string(row, 1, r.status.label_zh())?;
        if let Some(t) = r.submitted_at {
            crate::xlsx::write_instant(sheet, row, 2, t)?;
        }
        sheet.write_string(row, 3, if r.late { "是" } else { "否" })?;
        for (j, f) in fields.iter().enumerate() {
            cell(sheet, row, 4 + j as u16, f, a.get(&f.key))?;
        }
    }
    sheet.set_column_width(0, 30)?;
    sheet.set_column_width(2, 20)?;
    Ok(())
}

fn table_sheet(
    sheet: &mut Worksheet,
    columns: &[Field],
    rows: &[Sent],
    answers: &[Map<String, Value>],
    key: &str,
) -> Result<(), XlsxError> {
    let mut titles = vec!["单位"];
    titles.extend(columns.iter().map(|c| c.label.as_str()));
    header(sheet, 0, &titles)?;
    let mut row = 0;
    for (r, a) in rows.iter().zip(answers).filter(|(r, _)| r.counts()) {
        for line in a
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
        {
            row += 1;
            sheet.write_string(row, 0, &r.unit_name)?;
            for (j, c) in columns.iter().enumerate() {
                cell(sheet, row, 1 + j as u16, c, line.get(&c.key))?;
            }
        }
    }
    sheet.set_column_width(0, 30)?;
    Ok(())
}
