//! The library as `.xlsx` in the columns the user chose and saved by name
//! ([`crate::export_templates`], the same mechanism as the assessment's
//! results); the contacts are masked unless the caller's role needs them.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::library::{ExpertQuery, ExpertView, matching, sees_contacts, view};
use crate::authz::Principal;
use crate::error::ApiResult;
use crate::export_templates::{Column, chosen};
use crate::http::extract::ApiQuery;
use crate::state::AppState;

pub const SUBJECT: &str = "experts";

/// The most rows one export holds.
const MAX_ROWS: i64 = 20_000;

pub const COLUMNS: &[Column] = &[
    Column {
        key: "category",
        label: "类别",
    },
    Column {
        key: "name",
        label: "姓名",
    },
    Column {
        key: "unit_name",
        label: "工作单位",
    },
    Column {
        key: "post",
        label: "职务职称",
    },
    Column {
        key: "fields",
        label: "专业领域",
    },
    Column {
        key: "phone",
        label: "手机号码",
    },
    Column {
        key: "email",
        label: "电子邮箱",
    },
    Column {
        key: "profile",
        label: "简介",
    },
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/legal/experts/export", get(export))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    /// A saved template's name.
    pub template: Option<String>,
    /// Or the column keys, comma-separated, in order.
    pub columns: Option<String>,
}

/// The experts found, as `.xlsx` (every unit; contacts masked unless the
/// office asks).
#[utoipa::path(get, path = "/api/v1/legal/experts/export", tag = "legal", params(ExportQuery),
    responses((status = 200, description = "the .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = crate::error::Problem), (status = 422, description = "an unknown template or column", body = crate::error::Problem)))]
pub async fn export(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    super::library::reader(&p)?;
    let columns = chosen(
        &app,
        &p,
        SUBJECT,
        q.template.as_deref(),
        q.columns.as_deref(),
    )
    .await?;
    let filter = ExpertQuery {
        q: q.q,
        category: q.category,
        limit: None,
    };
    let whole = sees_contacts(&p);
    let rows = matching(&app, &filter, MAX_ROWS).await?;
    let experts = rows
        .into_iter()
        .map(|r| view(&app, r, whole))
        .collect::<ApiResult<Vec<_>>>()?;
    let keys: Vec<&str> = columns.iter().map(|c| c.key).collect();
    let detail = json!({ "rows": experts.len(), "columns": keys, "contacts_whole": whole });
    crate::audit::success_alone(
        &app,
        &p,
        "legal.expert.export",
        ("experts", "library"),
        detail,
    )
    .await?;
    crate::xlsx::download("experts.xlsx".into(), move || workbook(&columns, &experts)).await
}

fn cell(e: &ExpertView, key: &str) -> String {
    match key {
        "category" => e.category.clone(),
        "name" => e.name.clone(),
        "unit_name" => e.unit_name.clone(),
        "post" => e.post.clone(),
        "fields" => e.fields.join("、"),
        "phone" => e.phone.clone().unwrap_or_default(),
        "email" => e.email.clone().unwrap_or_default(),
        "profile" => e.profile.clone(),
        _ => String::new(),
    }
}

fn workbook(columns: &[Column], experts: &[ExpertView]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("专家库")?;
    let bold = Format::new().set_bold();
    for (i, c) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, c.label, &bold)?;
    }
    for (n, e) in experts.iter().enumerate() {
        for (i, c) in columns.iter().enumerate() {
            sheet.write_string(n as u32 + 1, i as u16, cell(e, c.key))?;
        }
    }
    book.save_to_buffer()
}
