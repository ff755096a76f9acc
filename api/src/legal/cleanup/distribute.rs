//! Distributing a campaign on the departments' or the districts' line: the
//! office chooses units as for a form ([`crate::org::selection`]), sees the
//! list with each unit's reviewer and reporting officers, and confirms with
//! the token. A unit named that the line does not take is a 422; a subtree
//! brings only the units the line takes. On the districts' line every
//! bureau, town and street reports to its district government, and each
//! district gets a consolidated list that goes up to the city. One
//! transaction creates the lists, tells each unit's reporting officers
//! (push, then SMS) and marks the campaign distributed.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::line::{ReportLine, Reviewer, reviewer};
use super::store::{self, CampaignRow, CampaignStatus, ListKind};
use crate::authz::{Principal, Role};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::{CampaignId, CleanupListId, UnitId};
use crate::on_tx;
use crate::org::UnitKind;
use crate::org::selection::{DistributionInput, UnitRow, all_units, confirmed, resolve, token};
use crate::outbox::task_notice::{TaskNotice, tell};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/legal/cleanup/campaigns/{id}/distribution",
        post(distribute),
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CleanupRecipient {
    pub unit_id: String,
    pub unit_name: String,
    /// Who returns or accepts the unit's list.
    pub reviewer_unit_name: String,
    /// Reporting officers at the unit who will be told.
    pub reporters: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CleanupDistribution {
    /// False for a preview.
    pub distributed: bool,
    /// Send this back as `confirm` to distribute to exactly these units.
    pub token: String,
    pub units: Vec<CleanupRecipient>,
    /// Districts that consolidate their units' lists (the districts' line).
    pub consolidating: Vec<String>,
    /// Units without a reporting officer: nobody there will be told.
    pub without_reporter: usize,
}

/// One list to create.
struct Planned<'a> {
    unit: &'a UnitRow,
    reviewer: &'a UnitRow,
    kind: ListKind,
}

/// Previews, or with `confirm` carries out, the distribution of a draft
/// campaign (not of the city documents' line, which is imported).
#[utoipa::path(post, path = "/api/v1/legal/cleanup/campaigns/{id}/distribution", tag = "legal",
    params(("id" = String, Path)), request_body = DistributionInput,
    responses(
        (status = 200, body = CleanupDistribution),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "already distributed, an imported line, or the list changed since the preview", body = crate::error::Problem),
        (status = 422, description = "no unit, an unknown unit, or one the line does not take", body = crate::error::Problem),
    ))]
pub async fn distribute(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<CampaignId>,
    ApiJson(req): ApiJson<DistributionInput>,
) -> ApiResult<Json<CleanupDistribution>> {
    let campaign = store::campaign(&app, &p, &id).await?;
    if campaign.status != CampaignStatus::Draft {
        return Err(already());
    }
    if campaign.line == ReportLine::CityDocuments {
        return Err(ApiError::Conflict {
            code: "import_instead",
            detail: "市政府及办公厅文件的清理清单通过导入生成，请上传清单".into(),
        });
    }
    let all = all_units(&app).await?;
    let units = taken(campaign.line, &all, &req)?;
    let office = all
        .iter()
        .find(|u| u.id == campaign.office_unit_id)
        .ok_or(ApiError::NotFound)?;
    let plan = plan(campaign.line, &all, &units, office)?;
    let token = token(id.as_str(), &units);
    let mut tx = app.db.begin().await?;
    let reporters = reporters_of(&mut tx, &plan).await?;
    let summary = summary(&plan, &reporters, token);
    if !confirmed(&req, &summary.token)? {
        return Ok(Json(summary));
    }
    carry_out(&app, &mut tx, &p, &campaign, &plan, &reporters).await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    Ok(Json(CleanupDistribution {
        distributed: true,
        ..summary
    }))
}

fn already() -> ApiError {
    ApiError::Conflict {
        code: "campaign_distributed",
        detail: "该清理工作已下发".into(),
    }
}

/// The chosen units the line takes; a unit named outright that it does
/// not take is a 422 naming it.
fn taken(line: ReportLine, all: &[UnitRow], req: &DistributionInput) -> ApiResult<Vec<UnitRow>> {
    for (i, id) in req.units.iter().enumerate() {
        if let Some(u) = all.iter().find(|u| u.id.as_str() == id)
            && !line.takes(u.kind)
        {
            let reason = format!("{}不在“{}”的报送范围内", u.name, line.label_zh());
            return Err(ApiError::invalid(format!("units[{i}]"), reason));
        }
    }
    let units: Vec<UnitRow> = resolve(all, req)?
        .into_iter()
        .filter(|u| line.takes(u.kind))
        .collect();
    if units.is_empty() {
        return Err(ApiError::invalid(
            "units",
            "请至少选择一个属于报送范围的单位",
        ));
    }
    Ok(units)
}

/// The lists to create: each unit's, decided by the office or by its
/// district; and on the districts' line each district's consolidation.
fn plan<'a>(
    line: ReportLine,
    all: &'a [UnitRow],
    units: &'a [UnitRow],
    office: &'a UnitRow,
) -> ApiResult<Vec<Planned<'a>>> {
    let mut plan = Vec::with_capacity(units.len());
    let mut districts: BTreeMap<&str, &UnitRow> = BTreeMap::new();
    for unit in units {
        let decided_by = match reviewer(line) {
            Reviewer::LegalOffice => office,
            Reviewer::District => {
                let d = district_of(all, unit).ok_or_else(|| {
                    ApiError::invalid("units", format!("{}不属于任何区政府", unit.name))
                })?;
                districts.insert(d.path.as_str(), d);
                d
            }
        };
        plan.push(Planned {
            unit,
            reviewer: decided_by,
            kind: ListKind::Own,
        });
    }
    plan.extend(districts.into_values().map(|d| Planned {
        unit: d,
        reviewer: office,
        kind: ListKind::Consolidated,
    }));
    Ok(plan)
}

/// The district government above `unit`.
fn district_of<'a>(all: &'a [UnitRow], unit: &UnitRow) -> Option<&'a UnitRow> {
    all.iter()
        .filter(|d| d.kind == UnitKind::DistrictGovernment && unit.path.starts_with(&d.path))
        .max_by_key(|d| d.path.len())
}

type Reporters = BTreeMap<UnitId, Vec<crate::ids::UserId>>;

async fn reporters_of(tx: &mut Tx, plan: &[Planned<'_>]) -> ApiResult<Reporters> {
    let mut out = Reporters::new();
    for unit in plan.iter().map(|p| &p.unit.id) {
        if !out.contains_key(unit) {
            let people = store::people(tx, unit, Role::LegalReporter).await?;
            out.insert(unit.clone(), people);
        }
    }
    Ok(out)
}

fn summary(plan: &[Planned<'_>], reporters: &Reporters, token: String) -> CleanupDistribution {
    let units: Vec<CleanupRecipient> = plan
        .iter()
        .filter(|p| p.kind == ListKind::Own)
        .map(|p| CleanupRecipient {
            unit_id: p.unit.id.to_string(),
            unit_name: p.unit.name.clone(),
            reviewer_unit_name: p.reviewer.name.clone(),
            reporters: reporters.get(&p.unit.id).map_or(0, Vec::len),
        })
        .collect();
    CleanupDistribution {
        distributed: false,
        token,
        without_reporter: units.iter().filter(|u| u.reporters == 0).count(),
        consolidating: plan
            .iter()
            .filter(|p| p.kind == ListKind::Consolidated)
            .map(|p| p.unit.name.clone())
            .collect(),
        units,
    }
}

async fn carry_out(
    app: &AppState,
    tx: &mut Tx,
    p: &Principal,
    campaign: &CampaignRow,
    plan: &[Planned<'_>],
    reporters: &Reporters,
) -> ApiResult<()> {
    mark_distributed(tx, &campaign.id).await?;
    for item in plan {
        let id = insert_list(
            tx,
            &campaign.id,
            &item.unit.id,
            &item.reviewer.id,
            item.kind,
        )
        .await?;
        store::event(tx, &id, "distributed", p, None).await?;
        let people = reporters
            .get(&item.unit.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        tell(app, tx, &assigned(campaign, &id), people).await?;
    }
    let detail =
        json!({ "lists": plan.len(), "line": campaign.line, "deadline_on": campaign.deadline_on });
    let target = ("cleanup_campaign", campaign.id.as_str());
    crate::audit::success(app, tx, p, "legal.cleanup.distribute", target, detail).await?;
    Ok(())
}

/// The notice that a list is waiting for the unit.
pub(super) fn assigned<'a>(campaign: &'a CampaignRow, list: &'a CleanupListId) -> TaskNotice<'a> {
    TaskNotice {
        kind: "cleanup_assigned",
        title: &campaign.title,
        deadline_on: &campaign.deadline_on,
        link: ("list_id", list.as_str()),
        occasion: "assigned",
    }
}

/// Marks the campaign distributed; 409 when another request did first.
pub async fn mark_distributed(tx: &mut Tx, id: &CampaignId) -> ApiResult<()> {
    const SQL: &str = "UPDATE cleanup_campaigns SET status = 'distributed', distributed_at = $2 \
         WHERE id = $1 AND status = 'draft'";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(crate::clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(already());
    }
    Ok(())
}

pub async fn insert_list(
    tx: &mut Tx,
    campaign: &CampaignId,
    unit: &UnitId,
    reviewer: &UnitId,
    kind: ListKind,
) -> ApiResult<CleanupListId> {
    const SQL: &str = "INSERT INTO cleanup_lists (id, campaign_id, unit_id, reviewer_unit_id, kind, status, revision, \
         updated_at) VALUES ($1, $2, $3, $4, $5, 'draft', 0, $6)";
    let id = CleanupListId::generate();
    on_tx!(tx, c => sqlx::query(SQL).bind(&id).bind(campaign).bind(unit).bind(reviewer).bind(kind)
        .bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use UnitKind::*;

    fn unit(id: &str, path: &str, kind: UnitKind) -> UnitRow {
        UnitRow {
            id: UnitId::new(id),
            name: id.to_uppercase(),
            path: path.into(),
            kind,
        }
    }

    fn req(units: &[&str], subtree: Option<&str>) -> DistributionInput {
        DistributionInput {
            units: units.iter().map(|s| (*s).to_owned()).collect(),
            subtrees: subtree
                .map(|s| crate::org::selection::Subtree {
                    unit_id: s.into(),
                    kinds: vec![],
                })
                .into_iter()
                .collect(),
            confirm: None,
        }
    }

    fn tree() -> Vec<UnitRow> {
        vec![
            unit("sh", "/sh/", CityGovernment),
            unit("fw", "/sh/go/fw/", Office),
            unit("ghzy", "/sh/ghzy/", MunicipalDepartment),
            unit("xh", "/sh/xh/", DistrictGovernment),
            unit("xh-jyj", "/sh/xh/jyj/", DistrictBureau),
            unit("xh-xjh", "/sh/xh/xjh/", Street),
            unit("pd", "/sh/pd/", DistrictGovernment),
            unit("pd-zj", "/sh/pd/zj/", Town),
        ]
    }

    #[test]
    fn a_line_takes_only_its_kinds_of_unit() {
        let all = tree();
        let got = taken(ReportLine::Departments, &all, &req(&[], Some("sh"))).unwrap();
        let ids: Vec<&str> = got.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["ghzy", "pd", "xh"]);
        let err = taken(ReportLine::Departments, &all, &req(&["xh-xjh"], None)).unwrap_err();
        assert!(matches!(err, ApiError::Invalid { ref field, .. } if field == "units[0]"));
        let err = taken(ReportLine::Districts, &all, &req(&[], Some("ghzy"))).unwrap_err();
        assert!(matches!(err, ApiError::Invalid { ref field, .. } if field == "units"));
    }

    #[test]
    fn the_districts_line_reports_to_each_district_which_consolidates_for_the_city() {
        let all = tree();
        let units = taken(ReportLine::Districts, &all, &req(&[], Some("sh"))).unwrap();
        let planned = plan(ReportLine::Districts, &all, &units, &all[1]).unwrap();
        let seen: Vec<(&str, &str, ListKind)> = planned
            .iter()
            .map(|p| (p.unit.id.as_str(), p.reviewer.id.as_str(), p.kind))
            .collect();
        assert_eq!(
            seen,
            [
                ("pd-zj", "pd", ListKind::Own),
                ("xh-jyj", "xh", ListKind::Own),
                ("xh-xjh", "xh", ListKind::Own),
                ("pd", "fw", ListKind::Consolidated),
                ("xh", "fw", ListKind::Consolidated),
            ]
        );
        let units = taken(ReportLine::Departments, &all, &req(&["ghzy"], None)).unwrap();
        let planned = plan(ReportLine::Departments, &all, &units, &all[1]).unwrap();
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].reviewer.id.as_str(), "fw");
    }
}
