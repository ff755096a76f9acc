//! From a computed cell of section 3 to the cases that make it up, for
//! the people who check the report (the agency's drafters, the unit
//! above). Counted live from the cases, as a refresh would count them.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::reports::{year, year_path};
use super::store;
use super::table3::{self, Column};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::ids::UnitId;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/annual-reports/{unit_id}/{year}/cases", get(cases))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CellQuery {
    /// A row key of the layout (`new`, `withheld`, `withheld.state_secret`…).
    pub row: String,
    /// An applicant column, or `total`.
    pub column: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CellCase {
    pub case_id: String,
    pub case_no: String,
    pub received_on: String,
    pub concluded_on: Option<String>,
    /// The applicant column.
    pub column: String,
}

/// True when a case counted in `case_rows` counts in `row` (itself or a
/// row its rows are part of).
fn counts_in(case_rows: &[String], row: &str, layout: &[table3::RowDef]) -> bool {
    let row = if row == "results_total" {
        "results"
    } else {
        row
    };
    case_rows.iter().any(|r| {
        let mut at = Some(r.as_str());
        while let Some(key) = at {
            if key == row {
                return true;
            }
            at = layout
                .iter()
                .find(|d| d.key == key)
                .and_then(|d| d.parent.as_deref());
        }
        false
    })
}

/// The cases of one cell, in case-number order.
#[utoipa::path(get, path = "/api/v1/annual-reports/{unit_id}/{year}/cases", tag = "annual-report",
    params(("unit_id" = String, Path), ("year" = i64, Path), CellQuery),
    responses((status = 200, body = [CellCase]), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn cases(
    State(app): State<AppState>,
    p: Principal,
    Path((unit, raw_year)): Path<(UnitId, String)>,
    ApiQuery(q): ApiQuery<CellQuery>,
) -> ApiResult<Json<Vec<CellCase>>> {
    let y = year_path(&raw_year)?;
    let a = store::agency(&app, &unit).await?;
    store::party(&app, &p, &a).await?;
    let year = year(y)?;
    let layout = table3::rows();
    if !layout.iter().any(|r| r.key == q.row) {
        return Err(ApiError::invalid("row", "表三中没有该行"));
    }
    let column = match q.column.as_str() {
        "total" => None,
        c => Some(Column::parse(c).ok_or_else(|| ApiError::invalid("column", "表三中没有该列"))?),
    };
    let mut out: Vec<CellCase> = store::facts(&app, year, Some(&unit))
        .await?
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| column.is_none_or(|c| c == f.column))
        .filter(|f| table3::rows_of(f, year).is_ok_and(|rows| counts_in(&rows, &q.row, &layout)))
        .map(|f| CellCase {
            case_id: f.case_id,
            case_no: f.case_no,
            received_on: f.received_on,
            concluded_on: f.concluded_on,
            column: f.column.as_str().to_owned(),
        })
        .collect();
    out.sort_by(|a, b| a.case_no.cmp(&b.case_no));
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_counts_in_its_category_and_the_results() {
        let layout = table3::rows();
        let rows = vec!["new".to_owned(), "withheld.state_secret".to_owned()];
        for row in [
            "new",
            "withheld.state_secret",
            "withheld",
            "results",
            "results_total",
        ] {
            assert!(counts_in(&rows, row, &layout), "{row}");
        }
        for row in [
            "carried_over",
            "unable",
            "withheld.other_laws",
            "carried_forward",
        ] {
            assert!(!counts_in(&rows, row, &layout), "{row}");
        }
    }
}
