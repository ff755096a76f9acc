//! A unit's scores: the office enters them per indicator (never above the
//! maximum; a deduction with its reason), each change audited with the old
//! and new score; the unit reads its own, with its material, searched by
//! indicator.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::materials::{MaterialView, of_unit};
use super::points::{Points, check_entry};
use super::store::{self, IndicatorRow, ScoreRow, matches};
use super::templates::scoring;
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::ids::{AssessmentId, IndicatorId, UnitId};
use crate::on_tx;
use crate::state::AppState;
use crate::validate::text;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/legal/assessments/{id}/units/{unit_id}/scores",
        get(show).put(enter),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreInput {
    pub indicator_id: String,
    /// Points, at most one decimal, at most the indicator's maximum.
    pub score: f64,
    /// Required when the score is below the maximum.
    pub deduction_reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoresInput {
    pub scores: Vec<ScoreInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreLine {
    pub category: String,
    pub indicator_id: String,
    pub indicator: String,
    #[schema(value_type = f64)]
    pub max_score: Points,
    /// Not scored yet: null.
    #[schema(value_type = Option<f64>)]
    pub score: Option<Points>,
    pub deduction_reason: Option<String>,
    pub materials: Vec<MaterialView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitScores {
    pub unit_id: String,
    pub unit_name: String,
    #[schema(value_type = f64)]
    pub total: Points,
    #[schema(value_type = f64)]
    pub max_score: Points,
    pub lines: Vec<ScoreLine>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoreQuery {
    /// Fuzzy over the category and the indicator.
    pub q: Option<String>,
}

/// A unit's scores, indicator by indicator (the office, or the unit).
#[utoipa::path(get, path = "/api/v1/legal/assessments/{id}/units/{unit_id}/scores", tag = "legal",
    params(("id" = String, Path), ("unit_id" = String, Path), ScoreQuery),
    responses((status = 200, body = UnitScores), (status = 404, body = crate::error::Problem)))]
pub async fn show(
    State(app): State<AppState>,
    p: Principal,
    Path((id, unit)): Path<(AssessmentId, UnitId)>,
    ApiQuery(q): ApiQuery<ScoreQuery>,
) -> ApiResult<Json<UnitScores>> {
    let (_, viewer) = store::assessment(&app, &p, &id).await?;
    if !viewer.reads(&unit) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(unit_scores(&app, &id, &unit, q.q.as_deref()).await?))
}

async fn unit_scores(
    app: &AppState,
    id: &AssessmentId,
    unit: &UnitId,
    q: Option<&str>,
) -> ApiResult<UnitScores> {
    let assessed = store::assessed_units(app, id).await?;
    let name = assessed
        .iter()
        .find(|u| &u.id == unit)
        .map(|u| u.name.clone())
        .ok_or(ApiError::NotFound)?;
    let tree = store::indicators(app, id).await?;
    let scores: BTreeMap<IndicatorId, ScoreRow> = store::scores(app, id, Some(unit))
        .await?
        .into_iter()
        .map(|s| (s.indicator_id.clone(), s))
        .collect();
    let mut materials = of_unit(app, id, unit).await?;
    let mut lines = Vec::new();
    let mut category = "";
    for r in &tree {
        if r.parent_id.is_none() {
            category = &r.name;
            continue;
        }
        let s = scores.get(&r.id);
        lines.push(ScoreLine {
            category: category.to_owned(),
            indicator_id: r.id.to_string(),
            indicator: r.name.clone(),
            max_score: r.max(),
            score: s.map(|s| Points(s.score_tenths)),
            deduction_reason: s.and_then(|s| s.deduction_reason.clone()),
            materials: materials.remove(&r.id).unwrap_or_default(),
        });
    }
    let total = lines.iter().filter_map(|l| l.score).sum();
    let max_score = lines.iter().map(|l| l.max_score).sum();
    lines.retain(|l| matches(q, &format!("{} {}", l.category, l.indicator)));
    Ok(UnitScores {
        unit_id: unit.to_string(),
        unit_name: name,
        total,
        max_score,
        lines,
    })
}

/// Enters or changes scores of a unit (the office, while published).
#[utoipa::path(put, path = "/api/v1/legal/assessments/{id}/units/{unit_id}/scores", tag = "legal",
    params(("id" = String, Path), ("unit_id" = String, Path)), request_body = ScoresInput,
    responses((status = 200, body = UnitScores), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "not published, or results published", body = crate::error::Problem),
        (status = 422, description = "above the maximum, a deduction without a reason, an unknown indicator", body = crate::error::Problem)))]
pub async fn enter(
    State(app): State<AppState>,
    p: Principal,
    Path((id, unit)): Path<(AssessmentId, UnitId)>,
    ApiJson(req): ApiJson<ScoresInput>,
) -> ApiResult<Json<UnitScores>> {
    store::managed(&app, &p, &id).await?;
    if !store::assessed_units(&app, &id)
        .await?
        .iter()
        .any(|u| u.id == unit)
    {
        return Err(ApiError::NotFound);
    }
    let tree = store::indicators(&app, &id).await?;
    let entries = checked(&tree, &req)?;
    let before: BTreeMap<IndicatorId, ScoreRow> = store::scores(&app, &id, Some(&unit))
        .await?
        .into_iter()
        .map(|s| (s.indicator_id.clone(), s))
        .collect();
    let mut tx = app.db.begin().await?;
    scoring(&mut tx, &id).await?;
    let mut changes = Vec::new();
    for (ind, score, reason) in &entries {
        let was = before.get(*ind).map(|s| Points(s.score_tenths));
        if was == Some(*score)
            && before.get(*ind).and_then(|s| s.deduction_reason.as_deref()) == reason.as_deref()
        {
            continue;
        }
        upsert(&mut tx, &p, &id, ind, &unit, *score, reason.as_deref()).await?;
        changes.push(json!({ "indicator_id": ind, "from": was, "to": score }));
    }
    let detail = json!({ "unit_id": unit, "changes": changes });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.assessment.score",
        ("assessment", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(unit_scores(&app, &id, &unit, None).await?))
}

/// The entries, each on an indicator of this tree, within its maximum.
fn checked<'a>(
    tree: &'a [IndicatorRow],
    req: &ScoresInput,
) -> ApiResult<Vec<(&'a IndicatorId, Points, Option<String>)>> {
    if req.scores.is_empty() || req.scores.len() > 1000 {
        return Err(ApiError::invalid("scores", "须有 1 至 1000 项得分"));
    }
    let mut out: Vec<(&IndicatorId, Points, Option<String>)> = Vec::new();
    for (i, s) in req.scores.iter().enumerate() {
        let at = format!("scores[{i}]");
        let ind = tree
            .iter()
            .find(|r| r.parent_id.is_some() && r.id.as_str() == s.indicator_id)
            .ok_or_else(|| ApiError::invalid(format!("{at}.indicator_id"), "不是本考核的指标"))?;
        if out.iter().any(|(id, _, _)| *id == &ind.id) {
            return Err(ApiError::invalid(
                format!("{at}.indicator_id"),
                "同一指标重复",
            ));
        }
        let score = Points::parse(&format!("{at}.score"), s.score)?;
        check_entry(&at, ind.max(), score, s.deduction_reason.as_deref())?;
        let reason = match score < ind.max() {
            true => Some(text(
                &format!("{at}.deduction_reason"),
                s.deduction_reason.as_deref(),
                500,
                true,
            )?),
            false => None,
        };
        out.push((&ind.id, score, reason));
    }
    Ok(out)
}

async fn upsert(
    tx: &mut crate::db::Tx,
    p: &Principal,
    id: &AssessmentId,
    indicator: &IndicatorId,
    unit: &UnitId,
    score: Points,
    reason: Option<&str>,
) -> ApiResult<()> {
    const SQL: &str = "INSERT INTO assessment_scores (assessment_id, indicator_id, unit_id, score_tenths, \
         deduction_reason, scored_by, scored_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (indicator_id, unit_id) DO UPDATE SET score_tenths = excluded.score_tenths, \
         deduction_reason = excluded.deduction_reason, scored_by = excluded.scored_by, scored_at = excluded.scored_at";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(indicator).bind(unit).bind(score.0).bind(reason)
        .bind(&p.user_id).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(())
}
