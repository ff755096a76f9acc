//! Campaigns: the legal affairs office creates one (title, scope, deadline,
//! report line), lists them, and reads one with the lists it may see.
//! Distribution is in [`super::distribute`], the city documents' import in
//! [`super::upload`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::counts::DecisionCounts;
use super::line::ReportLine;
use super::status::ListStatus;
use super::store::{self, CampaignRow, CampaignStatus, ListKind, select_campaigns};
use crate::authz::{Principal, Role};
use crate::calendar::{parse_ymd, shanghai_date};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::{CampaignId, CleanupListId, UnitId, UserId};
use crate::state::AppState;
use crate::validate::text;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/cleanup/campaigns", get(index).post(create))
        .route("/api/v1/legal/cleanup/campaigns/{id}", get(show))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    pub title: Option<String>,
    /// 清理范围: which documents, e.g. "2020年底前印发的规范性文件".
    pub scope: Option<String>,
    #[schema(value_type = String)]
    pub line: ReportLine,
    /// The last day to submit, YYYY-MM-DD.
    pub deadline_on: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: String,
    pub title: String,
    pub scope: String,
    #[schema(value_type = String)]
    pub line: ReportLine,
    pub line_label: String,
    pub deadline_on: String,
    #[schema(value_type = String)]
    pub status: CampaignStatus,
    pub office_name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub distributed_at: Option<OffsetDateTime>,
}

impl From<&CampaignRow> for CampaignView {
    fn from(c: &CampaignRow) -> Self {
        CampaignView {
            id: c.id.to_string(),
            title: c.title.clone(),
            scope: c.scope.clone(),
            line: c.line,
            line_label: c.line.label_zh().to_owned(),
            deadline_on: c.deadline_on.clone(),
            status: c.status,
            office_name: c.office_name.clone(),
            created_at: c.created_at,
            distributed_at: c.distributed_at,
        }
    }
}

/// The deadline as given: a real date, not past.
pub fn deadline(value: Option<&str>) -> ApiResult<String> {
    let raw = text("deadline_on", value, 10, false)?;
    let d =
        parse_ymd(&raw).ok_or_else(|| ApiError::invalid("deadline_on", "日期格式为 YYYY-MM-DD"))?;
    if d < shanghai_date(crate::clock::now()) {
        return Err(ApiError::invalid("deadline_on", "截止日期不能早于今天"));
    }
    Ok(raw)
}

/// Creates a campaign of the caller's legal affairs office, as a draft.
#[utoipa::path(post, path = "/api/v1/legal/cleanup/campaigns", tag = "legal", request_body = CampaignInput,
    responses((status = 201, body = CampaignView), (status = 403, body = crate::error::Problem),
        (status = 422, description = "a field missing, too long, or a deadline past", body = crate::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<CampaignInput>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    p.require_any(&[Role::LegalAdmin])?;
    let office = office_of(&p)?;
    let title = text("title", req.title.as_deref(), 200, false)?;
    let scope = text("scope", req.scope.as_deref(), 2000, true)?;
    let deadline_on = deadline(req.deadline_on.as_deref())?;
    let mut tx = app.db.begin().await?;
    let new = NewCampaign {
        office: &office,
        title: &title,
        scope: &scope,
        line: req.line,
        deadline_on: &deadline_on,
    };
    let id = insert(&mut tx, &new, &p.user_id).await?;
    let detail =
        serde_json::json!({ "title": title, "line": req.line, "deadline_on": deadline_on });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.cleanup.create",
        ("cleanup_campaign", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    let row = store::campaign(&app, &p, &id).await?;
    Ok((StatusCode::CREATED, Json(CampaignView::from(&row))))
}

/// A campaign as checked, to write.
pub struct NewCampaign<'a> {
    pub office: &'a UnitId,
    pub title: &'a str,
    pub scope: &'a str,
    pub line: ReportLine,
    pub deadline_on: &'a str,
}

/// Writes a draft campaign (the route, and the demo).
pub async fn insert(tx: &mut Tx, c: &NewCampaign<'_>, by: &UserId) -> ApiResult<CampaignId> {
    const INSERT: &str = "INSERT INTO cleanup_campaigns (id, office_unit_id, title, scope, line, deadline_on, status, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8)";
    let id = CampaignId::generate();
    on_tx!(tx, t => sqlx::query(INSERT).bind(&id).bind(c.office).bind(c.title).bind(c.scope).bind(c.line)
        .bind(c.deadline_on).bind(by).bind(crate::clock::now()).execute(t).await.map(|_| ()))?;
    Ok(id)
}

/// The office whose administrator the caller is (their first such grant).
fn office_of(p: &Principal) -> ApiResult<UnitId> {
    p.grants
        .iter()
        .find(|g| g.role == Role::LegalAdmin)
        .and_then(|g| g.unit_id.clone())
        .ok_or(ApiError::Forbidden)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignList {
    pub items: Vec<CampaignView>,
}

/// The campaigns the caller administers, or in which their unit has a list
/// (or decides one), newest first.
#[utoipa::path(get, path = "/api/v1/legal/cleanup/campaigns", tag = "legal",
    responses((status = 200, body = CampaignList), (status = 403, body = crate::error::Problem)))]
pub async fn index(State(app): State<AppState>, p: Principal) -> ApiResult<Json<CampaignList>> {
    const ALL: &str = concat!(
        select_campaigns!(),
        "ORDER BY c.created_at DESC, c.id DESC LIMIT 500"
    );
    p.require_any(&[Role::LegalAdmin, Role::LegalReporter, Role::LegalReviewer])?;
    let rows: Vec<CampaignRow> = on_db!(&app.db, c => sqlx::query_as(ALL).fetch_all(c).await)?;
    let mine = visible_campaigns(&app, &p).await?;
    let items = rows
        .iter()
        .filter(|c| store::administers(&p, &c.office_path) || mine.contains(&c.id))
        .map(CampaignView::from)
        .collect();
    Ok(Json(CampaignList { items }))
}

/// Campaigns with a list the caller sees as its unit or the level above.
async fn visible_campaigns(app: &AppState, p: &Principal) -> ApiResult<Vec<CampaignId>> {
    const SQL: &str = "SELECT DISTINCT campaign_id FROM cleanup_lists WHERE unit_id IN ({0}) OR reviewer_unit_id IN ({0})";
    let units: Vec<&str> = p
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::LegalReporter | Role::LegalReviewer))
        .filter_map(|g| g.unit_id.as_ref().map(UnitId::as_str))
        .collect();
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let sql = SQL.replace("{0}", &crate::db::placeholders(1, units.len()));
    let ids: Vec<CampaignId> = on_db!(&app.db, c => {
        // Only placeholders are formatted in; every value is bound.
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()));
        for u in &units {
            q = q.bind(*u);
        }
        q.fetch_all(c).await
    })?;
    Ok(ids)
}

/// A list in a campaign's overview.
#[derive(Debug, Clone, Serialize, ToSchema, FromRow)]
pub struct ListSummary {
    #[schema(value_type = String)]
    pub id: CleanupListId,
    #[schema(value_type = String)]
    pub unit_id: UnitId,
    pub unit_name: String,
    pub reviewer_unit_name: String,
    #[schema(value_type = String)]
    pub kind: ListKind,
    #[schema(value_type = String)]
    pub status: ListStatus,
    #[sqlx(skip)]
    pub status_label: String,
    #[sqlx(skip)]
    pub counts: DecisionCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    pub campaign: CampaignView,
    /// The lists the caller may see, in tree order.
    pub lists: Vec<ListSummary>,
}

/// A campaign with the lists the caller sees; 404 when they see none.
#[utoipa::path(get, path = "/api/v1/legal/cleanup/campaigns/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = CampaignDetail), (status = 404, body = crate::error::Problem)))]
pub async fn show(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<CampaignId>,
) -> ApiResult<Json<CampaignDetail>> {
    const SQL: &str = concat!(select_campaigns!(), "WHERE c.id = $1");
    let row: Option<CampaignRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(&id).fetch_optional(c).await)?;
    let row = row.ok_or(ApiError::NotFound)?;
    let lists = super::progress::visible_lists(&app, &p, Some(&id)).await?;
    if lists.is_empty() && !store::administers(&p, &row.office_path) {
        return Err(ApiError::NotFound);
    }
    let lists = super::progress::summaries(&app, &lists).await?;
    Ok(Json(CampaignDetail {
        campaign: CampaignView::from(&row),
        lists,
    }))
}
