//! The warnings as the General Office and the agencies read them (GK-19):
//! the list, whose filters are also the drill-down of the statistics
//! (`stats.rs`), one warning, and an agency's reply with its handling
//! result. The General Office's disclosure administrators see every warning
//! and every reply; an agency's dispatchers and handlers see the warnings
//! that concern their agency and reply for it; anyone else finds nothing
//! (404).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use super::raise::task;
use super::rule::Severity;
use crate::authz::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::files::FileView;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::pagination::{before_id, page_limit, trim_page};
use crate::state::AppState;
use crate::validate::text;
use crate::{on_db, on_tx, todo};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/warnings", get(list))
        .route("/api/v1/warnings/{id}", get(one))
        .route("/api/v1/warnings/{id}/reply", post(reply))
}

/// Who handles disclosure at an agency: told of its warnings, and replies.
pub const AGENCY_ROLES: [Role; 2] = [Role::Dispatcher, Role::Handler];

#[derive(Debug, Clone, FromRow)]
struct WarningRow {
    id: String,
    rule_id: String,
    rule_version: i64,
    category_id: String,
    category_name: String,
    rule_spec: String,
    severity: Severity,
    applicant_masked: String,
    window_from: String,
    window_to: String,
    count: i64,
    case_id: String,
    raised_on: String,
    created_at: time::OffsetDateTime,
    updated_at: time::OffsetDateTime,
}

macro_rules! select_warnings {
    () => {
        "SELECT w.id, w.rule_id, w.rule_version, w.category_id, c.name AS category_name, r.spec AS rule_spec, \
         w.severity, w.applicant_masked, w.window_from, w.window_to, w.count, w.case_id, w.raised_on, \
         w.created_at, w.updated_at \
         FROM warnings w JOIN warning_categories c ON c.id = w.category_id \
         JOIN warning_rules r ON r.id = w.rule_id AND r.version = w.rule_version "
    };
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyReply {
    pub unit_id: String,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub reply: Option<String>,
    pub replied_at: Option<String>,
    /// Files attached to the reply (`/api/v1/warning-files/{id}`).
    pub files: Vec<FileView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningView {
    pub id: String,
    pub category_id: String,
    pub category_name: String,
    pub rule_id: String,
    /// The version of the rule that raised it (a later edit does not change it).
    pub rule_version: i64,
    pub rule_name: String,
    #[schema(value_type = String)]
    pub severity: Severity,
    pub severity_label: String,
    /// Masked: `周*（310***********0021）`.
    pub applicant: String,
    pub window_from: String,
    pub window_to: String,
    pub count: i64,
    /// The request that raised it last.
    pub case_id: String,
    /// The Shanghai day it was first raised.
    pub raised_on: String,
    /// True while an agency concerned has not replied.
    pub open: bool,
    pub agencies: Vec<AgencyReply>,
    pub created_at: String,
    pub updated_at: String,
}

impl WarningRow {
    fn view(self, agencies: Vec<AgencyReply>) -> WarningView {
        let rule_name = super::rule::name_of_spec(&self.rule_spec);
        WarningView {
            id: self.id,
            category_id: self.category_id,
            category_name: self.category_name,
            rule_id: self.rule_id,
            rule_version: self.rule_version,
            rule_name,
            severity: self.severity,
            severity_label: self.severity.label_zh().to_owned(),
            applicant: self.applicant_masked,
            window_from: self.window_from,
            window_to: self.window_to,
            count: self.count,
            case_id: self.case_id,
            raised_on: self.raised_on,
            open: agencies.iter().any(|a| a.replied_at.is_none()),
            agencies,
            created_at: crate::clock::rfc3339(self.created_at),
            updated_at: crate::clock::rfc3339(self.updated_at),
        }
    }
}

/// The General Office's disclosure administrators see every warning.
pub fn sees_all(p: &Principal) -> bool {
    p.has_role(Role::DisclosureAdmin)
}

/// The agencies of each of `warnings`, with their replies and files: two
/// queries for a whole page.
async fn agencies_of(
    app: &AppState,
    warnings: &[String],
) -> ApiResult<HashMap<String, Vec<AgencyReply>>> {
    #[derive(FromRow)]
    struct Row {
        warning_id: String,
        unit_id: String,
        unit_name: String,
        unit_path: String,
        reply: Option<String>,
        replied_at: Option<time::OffsetDateTime>,
    }
    let rows: Vec<Row> = crate::db::fetch_in(
        &app.db,
        "SELECT a.warning_id, a.unit_id, u.name AS unit_name, a.unit_path, a.reply, a.replied_at \
         FROM warning_agencies a JOIN org_units u ON u.id = a.unit_id \
         WHERE a.warning_id IN ({in}) ORDER BY a.warning_id, a.unit_path",
        warnings,
    )
    .await?;
    let mut files = super::reply_files::of_warnings(app, warnings).await?;
    let mut out: HashMap<String, Vec<AgencyReply>> = HashMap::new();
    for r in rows {
        let files = files
            .remove(&(r.warning_id.clone(), r.unit_id.clone()))
            .unwrap_or_default();
        out.entry(r.warning_id).or_default().push(AgencyReply {
            unit_id: r.unit_id,
            unit_name: r.unit_name,
            unit_path: r.unit_path,
            reply: r.reply,
            replied_at: r.replied_at.map(crate::clock::rfc3339),
            files,
        });
    }
    Ok(out)
}

/// Rows with their agencies, as views.
async fn views(app: &AppState, rows: Vec<WarningRow>) -> ApiResult<Vec<WarningView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut agencies = agencies_of(app, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let a = agencies.remove(&r.id).unwrap_or_default();
            r.view(a)
        })
        .collect())
}

/// A warning the caller may see, and the agencies concerned the caller
/// answers for; anyone else: 404.
pub(super) async fn load(
    app: &AppState,
    p: &Principal,
    id: &str,
) -> ApiResult<(WarningView, Vec<String>)> {
    const SQL: &str = concat!(select_warnings!(), "WHERE w.id = $1");
    let row: Option<WarningRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    let row = row.ok_or(ApiError::NotFound)?;
    let view = views(app, vec![row]).await?.remove(0);
    let mine: Vec<String> = view
        .agencies
        .iter()
        .filter(|a| p.covers(&AGENCY_ROLES, &a.unit_path))
        .map(|a| a.unit_id.clone())
        .collect();
    if !sees_all(p) && mine.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok((view, mine))
}

/// One warning, with every agency's reply.
#[utoipa::path(get, path = "/api/v1/warnings/{id}", tag = "warnings", params(("id" = String, Path)),
    responses((status = 200, body = WarningView), (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<WarningView>> {
    Ok(Json(load(&app, &p, &id).await?.0))
}

/// The list's filters; each count of the statistics links to the list
/// with the filters that give exactly its warnings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub category_id: Option<String>,
    pub rule_id: Option<String>,
    /// An agency concerned.
    pub unit_id: Option<String>,
    /// A district government's unit id: an agency concerned is in that
    /// district; `city`: an agency concerned is in no district.
    pub district: Option<String>,
    /// `YYYY-MM`: first raised in this month or later (Shanghai).
    pub from: Option<String>,
    /// `YYYY-MM`: first raised in this month or earlier.
    pub to: Option<String>,
    /// true: an agency concerned (in the unit or district asked for) has
    /// not replied; false: every agency has replied.
    pub open: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200; default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningPage {
    pub items: Vec<WarningView>,
    pub next_cursor: Option<String>,
}

/// The filters, checked: what the list's statement binds.
#[derive(Debug, Default)]
pub(super) struct Filters {
    category: String,
    rule: String,
    unit: String,
    /// The district's path; empty: any.
    district_path: String,
    /// Only agencies in no district.
    city_level: bool,
    /// The first and last `raised_on` days; empty: unbounded.
    from_day: String,
    to_day: String,
    open: Option<bool>,
}

impl Filters {
    pub(super) async fn check(app: &AppState, q: &ListQuery) -> ApiResult<Filters> {
        use super::stats::month_field;
        let from_day = month_field("from", q.from.as_deref())?.map(|m| m.first_day());
        let to_day = month_field("to", q.to.as_deref())?.map(|m| m.last_day());
        let (district_path, city_level) = match q.district.as_deref() {
            None => (String::new(), false),
            Some(super::stats::CITY_LEVEL) => (String::new(), true),
            Some(id) => (super::stats::district_path(app, id).await?, false),
        };
        let owned = |v: &Option<String>| v.clone().unwrap_or_default();
        Ok(Filters {
            category: owned(&q.category_id),
            rule: owned(&q.rule_id),
            unit: owned(&q.unit_id),
            district_path,
            city_level,
            from_day: from_day.unwrap_or_default(),
            to_day: to_day.unwrap_or_default(),
            open: q.open,
        })
    }
}

/// The warnings the caller may see that match the filters, newest first:
/// all of them for the General Office, those concerning the caller's
/// agencies otherwise.
#[utoipa::path(get, path = "/api/v1/warnings", tag = "warnings", params(ListQuery),
    responses((status = 200, body = WarningPage), (status = 401, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<WarningPage>> {
    const SQL: &str = concat!(
        select_warnings!(),
        "WHERE w.id < $1 AND ($2 = '' OR w.category_id = $2) AND ($3 = '' OR w.rule_id = $3) \
         AND ($4 = '' OR w.raised_on >= $4) AND ($13 = '' OR w.raised_on <= $13) \
         AND ($5 = 0 OR NOT EXISTS (SELECT 1 FROM warning_agencies o WHERE o.warning_id = w.id \
           AND o.replied_at IS NULL)) \
         AND EXISTS (SELECT 1 FROM warning_agencies a WHERE a.warning_id = w.id \
           AND ($6 = '' OR a.unit_id = $6) AND ($7 = '' OR substr(a.unit_path, 1, length($7)) = $7) \
           AND ($8 = 0 OR NOT EXISTS (SELECT 1 FROM org_units d WHERE d.kind = 'district_government' \
             AND substr(a.unit_path, 1, length(d.path)) = d.path)) \
           AND ($9 = 0 OR a.replied_at IS NULL) \
           AND ($10 = 1 OR EXISTS (SELECT 1 FROM role_assignments ra JOIN org_units su ON su.id = ra.unit_id \
             WHERE ra.user_id = $11 AND ra.role IN ('dispatcher', 'handler') \
             AND substr(a.unit_path, 1, length(su.path)) = su.path))) \
         ORDER BY w.id DESC LIMIT $12"
    );
    let limit = page_limit(q.limit)?;
    let before = before_id(q.cursor.as_deref())?;
    let f = Filters::check(&app, &q).await?;
    let flag = |b: bool| i64::from(b);
    let mut rows: Vec<WarningRow> = on_db!(&app.db, c => sqlx::query_as(SQL)
        .bind(&before).bind(&f.category).bind(&f.rule).bind(&f.from_day).bind(flag(f.open == Some(false)))
        .bind(&f.unit).bind(&f.district_path).bind(flag(f.city_level)).bind(flag(f.open == Some(true)))
        .bind(flag(sees_all(&p))).bind(&p.user_id).bind(limit + 1).bind(&f.to_day).fetch_all(c).await)?;
    let next_cursor = trim_page(&mut rows, limit, |r| r.id.clone());
    let items = views(&app, rows).await?;
    Ok(Json(WarningPage { items, next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// The agency replying; needed only when the caller handles several of
    /// the agencies concerned.
    pub unit_id: Option<String>,
    /// What the agency did about it.
    pub reply: String,
}

/// The agency concerned the caller acts for: the one asked for, or the
/// only one the caller answers for. Someone who answers for none (the
/// General Office reading) is refused, audited.
pub(super) async fn acting_unit(
    app: &AppState,
    p: &Principal,
    warning: &str,
    asked: Option<&str>,
    mine: &[String],
    action: &'static str,
) -> ApiResult<String> {
    match (asked, mine) {
        (_, []) => {
            crate::audit::record_denied(app, p, action, "warning", warning).await;
            Err(ApiError::Forbidden)
        }
        (Some(u), m) if m.iter().any(|x| x == u) => Ok(u.to_owned()),
        (Some(_), _) => Err(ApiError::invalid(
            "unit_id",
            "该预警不涉及此单位，或您不负责该单位",
        )),
        (None, [one]) => Ok(one.clone()),
        (None, _) => Err(ApiError::invalid(
            "unit_id",
            "您负责多个相关单位，请指定以哪个单位反馈",
        )),
    }
}

/// The answer when the agency has replied already.
pub(super) fn already_replied() -> ApiError {
    ApiError::Conflict {
        code: "already_replied",
        detail: "该单位已反馈处理结果".into(),
    }
}

/// An agency's handling result, with the files it attached before. The same reply again answers the warning
/// and changes nothing; a different one after replying is 409.
#[utoipa::path(post, path = "/api/v1/warnings/{id}/reply", tag = "warnings", params(("id" = String, Path)),
    request_body = ReplyInput,
    responses((status = 200, body = WarningView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn reply(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReplyInput>,
) -> ApiResult<Json<WarningView>> {
    const SQL: &str = "UPDATE warning_agencies SET reply = $3, replied_by = $4, replied_at = $5 \
         WHERE warning_id = $1 AND unit_id = $2 AND reply IS NULL";
    let (view, mine) = load(&app, &p, &id).await?;
    let unit = acting_unit(
        &app,
        &p,
        &id,
        req.unit_id.as_deref(),
        &mine,
        "warning.reply",
    )
    .await?;
    let reply = text("reply", Some(&req.reply), 2000, true)?;
    let current = view
        .agencies
        .iter()
        .find(|a| a.unit_id == unit)
        .and_then(|a| a.reply.clone());
    match current {
        Some(r) if r == reply => return Ok(Json(view)),
        Some(_) => return Err(already_replied()),
        None => {}
    }
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&unit).bind(&reply).bind(&p.user_id)
        .bind(crate::clock::now()).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(already_replied());
    }
    let files = view
        .agencies
        .iter()
        .find(|a| a.unit_id == unit)
        .map_or(0, |a| a.files.len());
    let detail = json!({ "unit_id": unit, "length": reply.chars().count(), "files": files });
    crate::audit::success(&app, &mut tx, &p, "warning.reply", ("warning", &id), detail).await?;
    let users = [p.user_id.clone()];
    let title = format!("申请预警：{}（{}）", view.rule_name, view.applicant);
    todo::push(
        &app,
        &mut tx,
        &task(&id, &unit, &title),
        &users,
        todo::Action::Complete,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(load(&app, &p, &id).await?.0))
}
