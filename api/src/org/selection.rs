//! Choosing units to distribute something to (a form, a clean-up
//! campaign): named units and whole subtrees, optionally of some kinds
//! only ("every district government", "every street under Xuhui"). The
//! sender sees the resolved list with a token and confirms with it, so
//! that what is distributed is exactly what was previewed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::UnitKind;
use crate::error::{ApiError, ApiResult};
use crate::ids::UnitId;
use crate::on_db;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subtree {
    /// Every unit below this one (not the unit itself)…
    pub unit_id: String,
    /// …of these kinds; empty: of any kind.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub kinds: Vec<UnitKind>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributionInput {
    #[serde(default)]
    pub units: Vec<String>,
    #[serde(default)]
    pub subtrees: Vec<Subtree>,
    /// Absent: a preview. The token of the preview: distribute to exactly
    /// the units it listed (409 if the org tree changed since).
    pub confirm: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct UnitRow {
    pub id: UnitId,
    pub name: String,
    pub path: String,
    pub kind: UnitKind,
}

/// The units `req` names, in tree order; a unit or subtree that does not
/// exist is a 422 naming it.
pub fn resolve(all: &[UnitRow], req: &DistributionInput) -> ApiResult<Vec<UnitRow>> {
    let by_id: BTreeMap<&str, &UnitRow> = all.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut chosen: BTreeSet<&str> = BTreeSet::new();
    for (i, id) in req.units.iter().enumerate() {
        by_id
            .get(id.as_str())
            .ok_or_else(|| ApiError::invalid(format!("units[{i}]"), "单位不存在"))?;
        chosen.insert(id);
    }
    for (i, s) in req.subtrees.iter().enumerate() {
        let root = by_id
            .get(s.unit_id.as_str())
            .ok_or_else(|| ApiError::invalid(format!("subtrees[{i}].unit_id"), "单位不存在"))?;
        let below = all
            .iter()
            .filter(|u| u.path.starts_with(&root.path) && u.path != root.path);
        chosen.extend(
            below
                .filter(|u| s.kinds.is_empty() || s.kinds.contains(&u.kind))
                .map(|u| u.id.as_str()),
        );
    }
    let mut units: Vec<UnitRow> = chosen
        .into_iter()
        .filter_map(|id| by_id.get(id).map(|u| (*u).clone()))
        .collect();
    units.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(units)
}

/// The token of a resolved list for `subject` (what is distributed): the
/// SM3 of the subject and its unit ids, in order.
pub fn token(subject: &str, units: &[UnitRow]) -> String {
    let text: String = units.iter().map(|u| format!("{}\n", u.id)).collect();
    hex::encode(crate::crypto::sm3(format!("{subject}\n{text}").as_bytes()))
}

/// Every unit, in tree order (what [`resolve`] chooses from).
pub async fn all_units(app: &AppState) -> ApiResult<Vec<UnitRow>> {
    const UNITS: &str = "SELECT id, name, path, kind FROM org_units ORDER BY path";
    Ok(on_db!(&app.db, c => sqlx::query_as(UNITS).fetch_all(c).await)?)
}

/// Whether `req` confirms the preview whose token is `token`: false for a
/// preview, 409 `distribution_changed` for a token of another list.
pub fn confirmed(req: &DistributionInput, token: &str) -> ApiResult<bool> {
    match &req.confirm {
        None => Ok(false),
        Some(t) if crate::crypto::mac_eq_str(t, token) => Ok(true),
        Some(_) => Err(ApiError::Conflict {
            code: "distribution_changed",
            detail: "下发范围与预览时不一致，请重新预览后确认".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, path: &str, kind: UnitKind) -> UnitRow {
        UnitRow {
            id: UnitId::new(id),
            name: id.to_uppercase(),
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn subtrees_and_units_resolve_once_each_in_tree_order() {
        use UnitKind::*;
        let all = vec![
            unit("sh", "/sh/", CityGovernment),
            unit("xh", "/sh/xh/", DistrictGovernment),
            unit("xjh", "/sh/xh/xjh/", Street),
            unit("jyj", "/sh/xh/jyj/", DistrictBureau),
            unit("pd", "/sh/pd/", DistrictGovernment),
        ];
        let req = |units: &[&str], subtrees: Vec<Subtree>| DistributionInput {
            units: units.iter().map(|s| (*s).to_owned()).collect(),
            subtrees,
            confirm: None,
        };
        let ids = |r: Vec<UnitRow>| {
            r.into_iter()
                .map(|u| u.id.into_string())
                .collect::<Vec<_>>()
        };
        let districts = Subtree {
            unit_id: "sh".into(),
            kinds: vec![DistrictGovernment],
        };
        assert_eq!(
            ids(resolve(&all, &req(&["xjh", "pd"], vec![districts])).unwrap()),
            ["pd", "xh", "xjh"]
        );
        let under_xh = Subtree {
            unit_id: "xh".into(),
            kinds: vec![],
        };
        assert_eq!(
            ids(resolve(&all, &req(&[], vec![under_xh])).unwrap()),
            ["jyj", "xjh"]
        );
        let err = resolve(&all, &req(&["nowhere"], vec![])).unwrap_err();
        assert!(matches!(err, ApiError::Invalid { ref field, .. } if field == "units[0]"));
        assert_ne!(token("f", &all[..2]), token("f", &all[..3]));
    }
}
