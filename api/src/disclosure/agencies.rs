//! The agencies an applicant may address a request to: every unit of the
//! org tree except internal offices (处室), searchable by name.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::on_db;
use crate::pagination::trim_page;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyItem {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyPage {
    pub items: Vec<AgencyItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Agencies whose name contains `q`, ordered by unit code, after the
/// `cursor` code.
pub async fn list(
    db: &Db,
    q: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<AgencyPage> {
    const SQL: &str = "SELECT id, name, code FROM org_units WHERE kind <> 'office' \
         AND ($1 = '' OR name LIKE $1) AND code > $2 ORDER BY code LIMIT $3";
    let needle = match q.map(str::trim) {
        None | Some("") => String::new(),
        Some(s) if s.chars().count() <= 50 => {
            // LIKE's wildcards in the input are taken literally by dropping
            // them: agency names never contain them.
            let plain: String = s
                .chars()
                .filter(|c| !matches!(c, '%' | '_' | '\\'))
                .collect();
            format!("%{plain}%")
        }
        Some(_) => return Err(ApiError::invalid("q", "不能超过 50 个字")),
    };
    let after = cursor.unwrap_or_default();
    let mut rows: Vec<(String, String, String)> = on_db!(db, p => sqlx::query_as(SQL)
        .bind(&needle).bind(after).bind(limit + 1).fetch_all(p).await)?;
    let next_cursor = trim_page(&mut rows, limit, |r| r.2.clone());
    Ok(AgencyPage {
        items: rows
            .into_iter()
            .map(|(id, name, _)| AgencyItem { id, name })
            .collect(),
        next_cursor,
    })
}
