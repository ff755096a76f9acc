//! Every agency's section 3 at once, from one pass over the year's cases:
//! what `gov-server annual-report compute` prints, and what the benchmark
//! times (the whole city, all agencies).

use std::collections::BTreeMap;

use super::table3::{self, CaseFact, Counts};
use crate::error::ApiResult;
use crate::ids::UnitId;
use crate::state::AppState;

/// Each agency's table and uncounted cases, and the cases read.
pub struct CityTables {
    pub agencies: BTreeMap<UnitId, (Counts, Vec<String>)>,
    pub cases: usize,
}

pub async fn compute(app: &AppState, year: i32) -> ApiResult<CityTables> {
    let facts = super::store::facts(app, year, None).await?;
    let cases = facts.len();
    let mut by_unit: BTreeMap<UnitId, Vec<CaseFact>> = BTreeMap::new();
    for (unit, fact) in facts {
        by_unit.entry(unit).or_default().push(fact);
    }
    let agencies = by_unit
        .into_iter()
        .map(|(unit, facts)| (unit, table3::compute(&facts, year)))
        .collect();
    Ok(CityTables { agencies, cases })
}
