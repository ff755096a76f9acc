//! The city documents' line: the legal affairs office uploads its list of
//! the city government's and the General Office's documents (`.xlsx`, read
//! by [`super::import`]). Every row is checked, and its drafting unit must
//! be a unit of the org tree; one problem anywhere and nothing is imported
//! (422 naming each row and column). Otherwise one transaction gives each
//! drafting unit a list of its documents for its opinion (the documents the
//! office itself, the General Office or the city government drafted go on
//! the office's own list), tells their reporting officers and marks the
//! campaign distributed.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::distribute::{assigned, insert_list, mark_distributed};
use super::document::Document;
use super::import::{COLUMNS, Imported, RowError, read_xlsx};
use super::line::ReportLine;
use super::store::{self, CampaignRow, CampaignStatus, ListKind};
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::CampaignId;
use crate::org::selection::{UnitRow, all_units};
use crate::outbox::task_notice::tell;
use crate::state::AppState;
use crate::xlsx::CONTENT_TYPE;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/cleanup/campaigns/{id}/import", post(import))
        .route("/api/v1/legal/cleanup/import-template", get(template))
}

/// The sheet to fill for an import: the columns, and one example row.
#[utoipa::path(get, path = "/api/v1/legal/cleanup/import-template", tag = "legal",
    responses((status = 200, description = "the .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = crate::error::Problem)))]
pub async fn template(p: Principal) -> ApiResult<Response> {
    p.require_any(&[Role::LegalAdmin])?;
    crate::xlsx::download("cleanup-import-template.xlsx".into(), template_sheet).await
}

/// The template's bytes (also what the tests and the demo fill in).
pub fn template_sheet() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    const EXAMPLE: [&str; 7] = [
        "上海市人民政府关于印发《上海市某某管理办法》的通知",
        "沪府规〔2021〕5号",
        "2021-03-05",
        "上海市人民政府办公厅",
        "继续有效",
        "",
        "",
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("清理清单")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (i, ((head, _), example)) in COLUMNS.iter().zip(EXAMPLE).enumerate() {
        let col = i as u16;
        sheet.write_string_with_format(0, col, *head, &bold)?;
        sheet.write_string(1, col, example)?;
        sheet.set_column_width(col, if i == 0 { 48 } else { 18 })?;
    }
    book.save_to_buffer()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedList {
    pub list_id: String,
    pub unit_name: String,
    pub documents: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub rows: usize,
    pub lists: Vec<ImportedList>,
}

/// Imports the city documents' list of a draft campaign on that line. The
/// body is the `.xlsx` file.
#[utoipa::path(post, path = "/api/v1/legal/cleanup/campaigns/{id}/import", tag = "legal",
    params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "the sheet, sent as application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses(
        (status = 200, body = ImportResult),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "another line, or already imported", body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 422, description = "each problem as `rows[N].column` (`file` for the file itself)", body = crate::error::Problem),
    ))]
pub async fn import(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<CampaignId>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportResult>> {
    let campaign = store::campaign(&app, &p, &id).await?;
    if campaign.line != ReportLine::CityDocuments {
        return Err(ApiError::Conflict {
            code: "distribute_instead",
            detail: "只有“市政府及办公厅文件”的清理工作通过导入生成清单".into(),
        });
    }
    if campaign.status != CampaignStatus::Draft {
        return Err(ApiError::Conflict {
            code: "campaign_distributed",
            detail: "该清理工作的清单已导入".into(),
        });
    }
    let bytes = crate::files::read_upload(&app, &[CONTENT_TYPE], &headers, body).await?;
    let rows = tokio::task::spawn_blocking(move || read_xlsx(&bytes))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(problems)?;
    let all = all_units(&app).await?;
    let office = all
        .iter()
        .find(|u| u.id == campaign.office_unit_id)
        .ok_or(ApiError::NotFound)?;
    let groups = group(&all, office, &rows).map_err(problems)?;
    let mut tx = app.db.begin().await?;
    let lists = carry_out(&app, &mut tx, &p, &campaign, office, &groups).await?;
    let detail = json!({ "rows": rows.len(), "lists": lists.len() });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.cleanup.import",
        ("cleanup_campaign", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    Ok(Json(ImportResult {
        rows: rows.len(),
        lists,
    }))
}

/// Marks the campaign distributed and writes a list per drafting unit,
/// telling each unit's reporting officers.
async fn carry_out(
    app: &AppState,
    tx: &mut Tx,
    p: &Principal,
    campaign: &CampaignRow,
    office: &UnitRow,
    groups: &[(&UnitRow, Vec<Document>)],
) -> ApiResult<Vec<ImportedList>> {
    mark_distributed(tx, &campaign.id).await?;
    let mut lists = Vec::with_capacity(groups.len());
    for (unit, docs) in groups {
        let list = insert_list(tx, &campaign.id, &unit.id, &office.id, ListKind::Own).await?;
        store::replace_documents(tx, &list, docs).await?;
        store::event(tx, &list, "imported", p, None).await?;
        if unit.id != office.id {
            let people = store::people(tx, &unit.id, Role::LegalReporter).await?;
            tell(app, tx, &assigned(campaign, &list), &people).await?;
        }
        lists.push(ImportedList {
            list_id: list.to_string(),
            unit_name: unit.name.clone(),
            documents: docs.len(),
        });
    }
    Ok(lists)
}

/// Row problems as the 422's fields: `rows[5].印发日期`, `file`.
fn problems(errors: Vec<RowError>) -> ApiError {
    let fields = errors
        .into_iter()
        .map(|e| FieldError {
            field: match e.row {
                0 => "file".to_owned(),
                n => format!("rows[{n}].{}", e.column),
            },
            reason: e.reason,
        })
        .collect();
    ApiError::InvalidFields(fields)
}

/// The documents per list: by drafting unit, named as in the org tree (or
/// by its code); the office and the units above it share the office's
/// list. Units in tree order.
fn group<'a>(
    all: &'a [UnitRow],
    office: &'a UnitRow,
    rows: &[Imported],
) -> Result<Vec<(&'a UnitRow, Vec<Document>)>, Vec<RowError>> {
    let mut by_unit: BTreeMap<&str, (&UnitRow, Vec<Document>)> = BTreeMap::new();
    let mut errors = Vec::new();
    for r in rows {
        let name = r.drafting_unit.trim();
        let Some(unit) = all.iter().find(|u| u.name == name || u.id.as_str() == name) else {
            errors.push(RowError {
                row: r.row,
                column: "起草单位".into(),
                reason: format!("系统中没有名为“{name}”的单位"),
            });
            continue;
        };
        let unit = if office.path.starts_with(&unit.path) {
            office
        } else {
            unit
        };
        let entry = by_unit
            .entry(unit.path.as_str())
            .or_insert((unit, Vec::new()));
        entry.1.push(r.document.clone());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(by_unit.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UnitId;
    use crate::org::UnitKind;

    fn unit(id: &str, name: &str, path: &str) -> UnitRow {
        UnitRow {
            id: UnitId::new(id),
            name: name.into(),
            path: path.into(),
            kind: UnitKind::Office,
        }
    }

    fn row(n: usize, unit: &str) -> Imported {
        Imported {
            document: Document {
                doc_no: format!("沪府规〔2020〕{n}号"),
                title: format!("文件{n}"),
                issued_on: "2020-01-01".into(),
                decision: None,
                reason: String::new(),
                legal_basis: String::new(),
            },
            drafting_unit: unit.into(),
            row: n,
        }
    }

    #[test]
    fn documents_go_to_their_drafting_unit_and_the_office_keeps_its_own_and_those_above() {
        let all = vec![
            unit("sh", "上海市人民政府", "/sh/"),
            unit("go", "上海市人民政府办公厅", "/sh/go/"),
            unit("fw", "法律事务处", "/sh/go/fw/"),
            unit("gh", "上海市规划和自然资源局", "/sh/gh/"),
        ];
        let rows = vec![
            row(2, "上海市人民政府"),
            row(3, "上海市规划和自然资源局"),
            row(4, "上海市人民政府办公厅"),
            row(5, "gh"),
        ];
        let groups = group(&all, &all[2], &rows).unwrap();
        let seen: Vec<(&str, usize)> = groups
            .iter()
            .map(|(u, d)| (u.id.as_str(), d.len()))
            .collect();
        assert_eq!(seen, [("gh", 2), ("fw", 2)]);
        let errors = group(&all, &all[2], &[row(7, "不存在的局")]).unwrap_err();
        assert_eq!((errors[0].row, errors[0].column.as_str()), (7, "起草单位"));
        let fields = match problems(errors) {
            ApiError::InvalidFields(f) => f,
            other => panic!("{other:?}"),
        };
        assert_eq!(fields[0].field, "rows[7].起草单位");
    }
}
