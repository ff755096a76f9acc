//! A campaign's report as `.xlsx`: a summary sheet with each list's state
//! and its counts per decision (and the totals), and the documents sheet
//! in the report layout (序号, 单位, 文件名称, 文号, 印发日期, 清理意见, 理由,
//! 依据). The caller gets the lists they see: the office every list, a
//! district the lists it decides, a unit its own.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::json;

use super::campaigns::ListSummary;
use super::counts::DecisionCounts;
use super::progress::{summaries, visible_lists};
use super::store::{self, DocumentRow, ListKind};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ids::{CampaignId, CleanupListId};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/legal/cleanup/campaigns/{id}/export", get(export))
}

/// The campaign's report, as far as the caller sees it.
#[utoipa::path(get, path = "/api/v1/legal/cleanup/campaigns/{id}/export", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, description = "the .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = crate::error::Problem)))]
pub async fn export(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<CampaignId>,
) -> ApiResult<Response> {
    let lists = visible_lists(&app, &p, Some(&id)).await?;
    let Some(first) = lists.first() else {
        return Err(ApiError::NotFound);
    };
    let title = format!("{}（{}）", first.title, first.line.label_zh());
    let own: Vec<CleanupListId> = lists
        .iter()
        .filter(|l| l.kind == ListKind::Own)
        .map(|l| l.id.clone())
        .collect();
    let docs = store::documents(&app, &own).await?;
    let rows = summaries(&app, &lists).await?;
    let detail = json!({ "lists": rows.len(), "documents": docs.len() });
    crate::audit::success_alone(
        &app,
        &p,
        "legal.cleanup.export",
        ("cleanup_campaign", id.as_str()),
        detail,
    )
    .await?;
    crate::xlsx::download(format!("cleanup-{id}.xlsx"), move || {
        workbook(&title, &rows, &docs)
    })
    .await
}

pub fn workbook(
    title: &str,
    lists: &[ListSummary],
    docs: &[DocumentRow],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    summary(book.add_worksheet().set_name("汇总")?, title, lists)?;
    documents(book.add_worksheet().set_name("清理清单")?, title, docs)?;
    book.save_to_buffer()
}

const COUNT_HEADERS: [&str; 6] = ["继续有效", "修改", "废止", "宣布失效", "未填意见", "合计"];

fn count_cells(c: &DecisionCounts) -> [usize; 6] {
    [
        c.keep,
        c.amend,
        c.repeal,
        c.declare_invalid,
        c.undecided,
        c.total,
    ]
}

fn summary(sheet: &mut Worksheet, title: &str, lists: &[ListSummary]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    let heads = ["序号", "单位", "清单", "审核单位", "状态"];
    for (i, h) in heads.iter().chain(COUNT_HEADERS.iter()).enumerate() {
        sheet.write_string_with_format(2, i as u16, *h, &bold)?;
    }
    let mut total = DecisionCounts::default();
    let mut row = 3;
    for (n, l) in lists.iter().enumerate() {
        let kind = match l.kind {
            ListKind::Own => "本单位",
            ListKind::Consolidated => "汇总（下级单位）",
        };
        sheet.write_number(row, 0, (n + 1) as f64)?;
        sheet.write_string(row, 1, &l.unit_name)?;
        sheet.write_string(row, 2, kind)?;
        sheet.write_string(row, 3, &l.reviewer_unit_name)?;
        sheet.write_string(row, 4, &l.status_label)?;
        for (i, v) in count_cells(&l.counts).iter().enumerate() {
            sheet.write_number(row, 5 + i as u16, *v as f64)?;
        }
        if l.kind == ListKind::Own {
            total.merge(&l.counts);
        }
        row += 1;
    }
    sheet.write_string_with_format(row, 1, "合计", &bold)?;
    for (i, v) in count_cells(&total).iter().enumerate() {
        sheet.write_number_with_format(row, 5 + i as u16, *v as f64, &bold)?;
    }
    sheet.set_column_width(1, 30)?;
    sheet.set_column_width(3, 24)?;
    Ok(())
}

fn documents(sheet: &mut Worksheet, title: &str, docs: &[DocumentRow]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    let heads = [
        "序号",
        "单位",
        "文件名称",
        "文号",
        "印发日期",
        "清理意见",
        "清理理由",
        "清理依据",
    ];
    for (i, h) in heads.iter().enumerate() {
        sheet.write_string_with_format(2, i as u16, *h, &bold)?;
    }
    for (n, d) in docs.iter().enumerate() {
        let row = 3 + n as u32;
        sheet.write_number(row, 0, (n + 1) as f64)?;
        let cells = [
            d.unit_name.as_str(),
            &d.title,
            &d.doc_no,
            &d.issued_on,
            d.decision.map_or("", |x| x.label_zh()),
            &d.reason,
            &d.legal_basis,
        ];
        for (i, c) in cells.iter().enumerate() {
            sheet.write_string(row, 1 + i as u16, *c)?;
        }
    }
    for (col, width) in [(1, 24), (2, 40), (3, 22), (4, 12), (6, 30), (7, 30)] {
        sheet.set_column_width(col, width)?;
    }
    Ok(())
}
