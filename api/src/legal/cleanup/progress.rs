//! Progress in one call: every list the caller sees (per unit, with its
//! counts per decision and whether it is late), and per report line the
//! lists in each state. The legal affairs office sees its campaigns'
//! lists; a district's reviewer those it decides; a unit its own.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::campaigns::ListSummary;
use super::counts::DecisionCounts;
use super::document::Decision;
use super::line::ReportLine;
use super::status::ListStatus;
use super::store::{ListKind, ListRow, Party, select_lists};
use crate::authz::{Principal, Role};
use crate::calendar::{shanghai_date, ymd};
use crate::error::ApiResult;
use crate::http::extract::ApiQuery;
use crate::ids::{CampaignId, CleanupListId, UnitId};
use crate::state::AppState;
use crate::{db, on_db};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/legal/cleanup/progress", get(progress))
}

/// The lists `p` sees (of one campaign, or of all), in tree order.
pub async fn visible_lists(
    app: &AppState,
    p: &Principal,
    campaign: Option<&CampaignId>,
) -> ApiResult<Vec<ListRow>> {
    const ORDER: &str = " ORDER BY c.created_at DESC, c.id, u.path, l.kind DESC";
    let mut sql = String::from(select_lists!());
    let mut binds: Vec<String> = Vec::new();
    let mut wheres: Vec<String> = Vec::new();
    if let Some(c) = campaign {
        binds.push(c.to_string());
        wheres.push("l.campaign_id = $1".into());
    }
    if !p.has_role(Role::LegalAdmin) {
        // Narrowed here; Party decides exactly, below.
        let units: Vec<&UnitId> = p
            .grants
            .iter()
            .filter(|g| matches!(g.role, Role::LegalReporter | Role::LegalReviewer))
            .filter_map(|g| g.unit_id.as_ref())
            .collect();
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let list = db::placeholders(binds.len() + 1, units.len());
        wheres.push(format!(
            "(l.unit_id IN ({list}) OR l.reviewer_unit_id IN ({list}))"
        ));
        binds.extend(units.iter().map(|u| u.to_string()));
    }
    if !wheres.is_empty() {
        sql.push_str(&format!("WHERE {}", wheres.join(" AND ")));
    }
    sql.push_str(ORDER);
    let rows: Vec<ListRow> = on_db!(&app.db, c => {
        // Only placeholders are formatted in; every value is bound.
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        for b in &binds {
            q = q.bind(b.as_str());
        }
        q.fetch_all(c).await
    })?;
    Ok(rows
        .into_iter()
        .filter(|r| Party::of(p, r).sees())
        .collect())
}

/// The counts per decision of each of `lists`; a consolidated list counts
/// the documents of the lists it stands for.
pub async fn counts(
    app: &AppState,
    lists: &[ListRow],
) -> ApiResult<BTreeMap<CleanupListId, DecisionCounts>> {
    const SUBS: &str = "SELECT campaign_id, reviewer_unit_id, id FROM cleanup_lists WHERE kind = 'own' AND campaign_id IN ({in})";
    const COUNT: &str = "SELECT list_id, decision, COUNT(*) FROM cleanup_documents WHERE list_id IN ({in}) \
         GROUP BY list_id, decision";
    let consolidating: Vec<&str> = lists
        .iter()
        .filter(|l| l.kind == ListKind::Consolidated)
        .map(|l| l.campaign_id.as_str())
        .collect();
    let subs: Vec<(CampaignId, UnitId, CleanupListId)> =
        db::fetch_in(&app.db, SUBS, &consolidating).await?;
    let mut ids: Vec<&str> = lists.iter().map(|l| l.id.as_str()).collect();
    ids.extend(subs.iter().map(|(_, _, id)| id.as_str()));
    let rows: Vec<(CleanupListId, Option<Decision>, i64)> =
        db::fetch_in(&app.db, COUNT, &ids).await?;
    let mut by_list: BTreeMap<CleanupListId, DecisionCounts> = BTreeMap::new();
    for (list, decision, n) in rows {
        let n = usize::try_from(n).unwrap_or_default();
        by_list.entry(list).or_default().add_n(decision, n);
    }
    let mut out = BTreeMap::new();
    for l in lists {
        let mut c = by_list.get(&l.id).cloned().unwrap_or_default();
        if l.kind == ListKind::Consolidated {
            let stands_for = subs
                .iter()
                .filter(|(camp, rev, _)| *camp == l.campaign_id && *rev == l.unit_id);
            for (_, _, sub) in stands_for {
                c.merge(&by_list.get(sub).cloned().unwrap_or_default());
            }
        }
        out.insert(l.id.clone(), c);
    }
    Ok(out)
}

pub async fn summaries(app: &AppState, lists: &[ListRow]) -> ApiResult<Vec<ListSummary>> {
    let counts = counts(app, lists).await?;
    Ok(lists
        .iter()
        .map(|l| ListSummary {
            id: l.id.clone(),
            unit_id: l.unit_id.clone(),
            unit_name: l.unit_name.clone(),
            reviewer_unit_name: l.reviewer_unit_name.clone(),
            kind: l.kind,
            status: l.status,
            status_label: l.status.label_zh().to_owned(),
            counts: counts.get(&l.id).cloned().unwrap_or_default(),
        })
        .collect())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    /// Only this campaign.
    #[param(value_type = Option<String>)]
    pub campaign_id: Option<CampaignId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListProgress {
    pub campaign_id: String,
    pub campaign_title: String,
    #[schema(value_type = String)]
    pub line: ReportLine,
    pub deadline_on: String,
    /// Not yet submitted, and the deadline has passed.
    pub overdue: bool,
    #[serde(flatten)]
    pub list: ListSummary,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    #[schema(value_type = String)]
    pub status: ListStatus,
    pub label: String,
    pub lists: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineProgress {
    #[schema(value_type = String)]
    pub line: ReportLine,
    pub label: String,
    pub campaigns: usize,
    pub lists: usize,
    pub overdue: usize,
    /// Lists in each state, every state listed.
    pub by_status: Vec<StatusCount>,
    /// The documents of every list on the line, per decision.
    pub counts: DecisionCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CleanupProgress {
    /// Every line, in order, whether or not it has lists.
    pub lines: Vec<LineProgress>,
    pub units: Vec<ListProgress>,
}

/// Progress per unit and per report line, of what the caller sees.
#[utoipa::path(get, path = "/api/v1/legal/cleanup/progress", tag = "legal", params(ProgressQuery),
    responses((status = 200, body = CleanupProgress), (status = 403, body = crate::error::Problem)))]
pub async fn progress(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ProgressQuery>,
) -> ApiResult<Json<CleanupProgress>> {
    p.require_any(&[Role::LegalAdmin, Role::LegalReporter, Role::LegalReviewer])?;
    let lists = visible_lists(&app, &p, q.campaign_id.as_ref()).await?;
    let today = ymd(shanghai_date(crate::clock::now()));
    let summaries = summaries(&app, &lists).await?;
    let units: Vec<ListProgress> = lists
        .iter()
        .zip(summaries)
        .map(|(l, s)| ListProgress {
            campaign_id: l.campaign_id.to_string(),
            campaign_title: l.title.clone(),
            line: l.line,
            deadline_on: l.deadline_on.clone(),
            overdue: l.status.editable() && l.deadline_on < today,
            list: s,
        })
        .collect();
    let lines = ReportLine::ALL
        .iter()
        .map(|line| per_line(*line, &units))
        .collect();
    Ok(Json(CleanupProgress { lines, units }))
}

fn per_line(line: ReportLine, units: &[ListProgress]) -> LineProgress {
    let on: Vec<&ListProgress> = units.iter().filter(|u| u.line == line).collect();
    let mut campaigns: Vec<&str> = on.iter().map(|u| u.campaign_id.as_str()).collect();
    campaigns.sort_unstable();
    campaigns.dedup();
    let mut counts = DecisionCounts::default();
    // A consolidated list repeats its subordinates' documents.
    for u in on.iter().filter(|u| u.list.kind == ListKind::Own) {
        counts.merge(&u.list.counts);
    }
    let by_status = ListStatus::ALL
        .iter()
        .map(|s| StatusCount {
            status: *s,
            label: s.label_zh().to_owned(),
            lists: on.iter().filter(|u| u.list.status == *s).count(),
        })
        .collect();
    LineProgress {
        line,
        label: line.label_zh().to_owned(),
        campaigns: campaigns.len(),
        lists: on.len(),
        overdue: on.iter().filter(|u| u.overdue).count(),
        by_status,
        counts,
    }
}
