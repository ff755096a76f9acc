//! Warnings and the agencies they concern (GK-19): raising one (inside the
//! registering transaction), the in-product list, one warning, and an
//! agency's reply with its handling result. The General Office's disclosure
//! administrators see every warning and every reply; an agency's
//! dispatchers and handlers see the warnings that concern their agency and
//! reply for it; anyone else finds nothing (404).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::evaluate::{Counting, LiveRule, scope_path};
use super::rule::{Measure, Severity};
use crate::authz::{Principal, Role};
use crate::calendar::ymd;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::{CaseId, UnitId, UserId};
use crate::outbox::push::{Notification, notify_user};
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

/// Raises (or raises further) `rule`'s warning for the applicant in this
/// window, and tells every agency concerned that was not told yet.
pub async fn raise(
    app: &AppState,
    tx: &mut Tx,
    rule: &LiveRule,
    c: &Counting<'_>,
    (count, masked): (i64, &str),
    case: &CaseId,
) -> ApiResult<()> {
    const FIND: &str =
        "SELECT id FROM warnings WHERE rule_id = $1 AND applicant_key = $2 AND window_from = $3";
    const INSERT: &str = "INSERT INTO warnings (id, rule_id, rule_version, category_id, severity, applicant_key, \
         applicant_masked, window_from, window_to, count, case_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)";
    const UPDATE: &str =
        "UPDATE warnings SET count = $2, case_id = $3, updated_at = $4 WHERE id = $1";
    let (from, to) = rule.spec.window_on(c.today);
    let now = crate::clock::now();
    let found: Option<String> = on_tx!(tx, t => sqlx::query_scalar(FIND).bind(&rule.id).bind(c.applicant_key)
        .bind(ymd(from)).fetch_optional(t).await)?;
    let id = match found {
        Some(id) => {
            on_tx!(tx, t => sqlx::query(UPDATE).bind(&id).bind(count).bind(case).bind(now).execute(t).await.map(|_| ()))?;
            id
        }
        None => {
            let id = ulid::Ulid::new().to_string();
            on_tx!(tx, t => sqlx::query(INSERT).bind(&id).bind(&rule.id).bind(rule.version).bind(&rule.spec.category_id)
                .bind(rule.spec.severity).bind(c.applicant_key).bind(masked).bind(ymd(from)).bind(ymd(to))
                .bind(count).bind(case).bind(now).execute(t).await.map(|_| ()))?;
            id
        }
    };
    for (unit, path) in agencies(tx, rule, c).await? {
        if add_agency(tx, &id, &unit, &path).await? && rule.spec.notify_agencies {
            tell(app, tx, &id, &unit, rule, (count, masked)).await?;
        }
    }
    Ok(())
}

/// The agencies the applicant's counted requests in the window went to.
async fn agencies(
    tx: &mut Tx,
    rule: &LiveRule,
    c: &Counting<'_>,
) -> ApiResult<Vec<(UnitId, String)>> {
    const SQL: &str = "SELECT DISTINCT unit_id, unit_path FROM warning_requests \
         WHERE applicant_key = $1 AND received_on BETWEEN $2 AND $3 \
         AND substr(unit_path, 1, length($4)) = $4 AND ($5 IS NULL OR text_key = $5) ORDER BY unit_id";
    let (from, to) = rule.spec.window_on(c.today);
    let path = scope_path(tx, &rule.spec).await?;
    let text = (rule.spec.measure == Measure::SameText).then_some(c.text_key);
    Ok(
        on_tx!(tx, t => sqlx::query_as(SQL).bind(c.applicant_key).bind(ymd(from)).bind(ymd(to)).bind(&path)
        .bind(text).fetch_all(t).await)?,
    )
}

/// Adds `unit` to the warning; false when it was there already.
async fn add_agency(tx: &mut Tx, warning: &str, unit: &UnitId, path: &str) -> ApiResult<bool> {
    const SQL: &str = "INSERT INTO warning_agencies (warning_id, unit_id, unit_path, told_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (warning_id, unit_id) DO NOTHING";
    let n = on_tx!(tx, t => sqlx::query(SQL).bind(warning).bind(unit).bind(path).bind(crate::clock::now())
        .execute(t).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Tells the agency's dispatchers and handlers (push, then SMS) and puts the
/// warning on their to-do lists.
async fn tell(
    app: &AppState,
    tx: &mut Tx,
    warning: &str,
    unit: &UnitId,
    rule: &LiveRule,
    (count, masked): (i64, &str),
) -> ApiResult<()> {
    const SQL: &str = "SELECT DISTINCT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.unit_id = $1 AND ra.role IN ('dispatcher', 'handler') AND u.status = 'active' ORDER BY ra.user_id";
    let users: Vec<UserId> =
        on_tx!(tx, t => sqlx::query_scalar(SQL).bind(unit).fetch_all(t).await)?;
    let count = count.to_string();
    for user in &users {
        let key = format!("application-warning:{warning}:{user}");
        let n = Notification {
            kind: "application_warning",
            user_id: user,
            params: &[
                ("applicant", masked),
                ("rule", &rule.spec.name),
                ("count", &count),
                ("warning_id", warning),
            ],
            idempotency_key: Some(&key),
            ttl: Duration::from_secs(3 * 86_400),
        };
        notify_user(tx, &app.pii, &app.config.notify, n).await?;
    }
    let title = format!("申请预警：{}（{}）", rule.spec.name, masked);
    todo::push(
        app,
        tx,
        &task(warning, unit.as_str(), &title),
        &users,
        todo::Action::Create,
    )
    .await
}

/// An agency's to-do item of a warning.
fn task<'a>(warning: &str, unit: &str, title: &'a str) -> todo::Task<'a> {
    todo::Task {
        kind: "application_warning",
        subject: format!("application-warning:{warning}:{unit}"),
        title,
        pc_path: format!("/api/v1/warnings/{warning}"),
        mobile_url: format!("govapp://warnings/{warning}"),
        created_at: crate::clock::now(),
    }
}

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
    created_at: time::OffsetDateTime,
    updated_at: time::OffsetDateTime,
}

macro_rules! select_warnings {
    () => {
        "SELECT w.id, w.rule_id, w.rule_version, w.category_id, c.name AS category_name, r.spec AS rule_spec, \
         w.severity, w.applicant_masked, w.window_from, w.window_to, w.count, w.case_id, w.created_at, w.updated_at \
         FROM warnings w JOIN warning_categories c ON c.id = w.category_id \
         JOIN warning_rules r ON r.id = w.rule_id AND r.version = w.rule_version "
    };
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct AgencyReply {
    pub unit_id: String,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub reply: Option<String>,
    pub replied_at: Option<String>,
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
    pub agencies: Vec<AgencyReply>,
    pub created_at: String,
    pub updated_at: String,
}

impl WarningRow {
    fn view(self, agencies: Vec<AgencyReply>) -> WarningView {
        let rule_name = serde_json::from_str::<serde_json::Value>(&self.rule_spec)
            .ok()
            .and_then(|v| v["name"].as_str().map(str::to_owned))
            .unwrap_or_default();
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

async fn agencies_of(app: &AppState, warning: &str) -> ApiResult<Vec<AgencyReply>> {
    const SQL: &str = "SELECT a.unit_id, u.name AS unit_name, a.unit_path, a.reply, a.replied_at \
         FROM warning_agencies a JOIN org_units u ON u.id = a.unit_id WHERE a.warning_id = $1 ORDER BY a.unit_path";
    #[derive(FromRow)]
    struct Row {
        unit_id: String,
        unit_name: String,
        unit_path: String,
        reply: Option<String>,
        replied_at: Option<time::OffsetDateTime>,
    }
    let rows: Vec<Row> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(warning).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|r| AgencyReply {
            unit_id: r.unit_id,
            unit_name: r.unit_name,
            unit_path: r.unit_path,
            reply: r.reply,
            replied_at: r.replied_at.map(crate::clock::rfc3339),
        })
        .collect())
}

/// A warning the caller may see; anyone else: 404.
async fn load(app: &AppState, p: &Principal, id: &str) -> ApiResult<(WarningView, Vec<String>)> {
    const SQL: &str = concat!(select_warnings!(), "WHERE w.id = $1");
    let row: Option<WarningRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    let row = row.ok_or(ApiError::NotFound)?;
    let agencies = agencies_of(app, id).await?;
    let mine: Vec<String> = agencies
        .iter()
        .filter(|a| p.covers(&AGENCY_ROLES, &a.unit_path))
        .map(|a| a.unit_id.clone())
        .collect();
    if !sees_all(p) && mine.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok((row.view(agencies), mine))
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

/// The warnings the caller may see, newest first, at most 200: all of them
/// for the General Office, those of the caller's agencies otherwise.
#[utoipa::path(get, path = "/api/v1/warnings", tag = "warnings",
    responses((status = 200, body = [WarningView]), (status = 401, body = crate::error::Problem)))]
pub async fn list(State(app): State<AppState>, p: Principal) -> ApiResult<Json<Vec<WarningView>>> {
    const ALL: &str = concat!(
        select_warnings!(),
        "ORDER BY w.updated_at DESC, w.id LIMIT 200"
    );
    const MINE: &str = concat!(
        select_warnings!(),
        "WHERE EXISTS (SELECT 1 FROM warning_agencies a JOIN role_assignments ra ON ra.user_id = $1 \
         AND ra.role IN ('dispatcher', 'handler') JOIN org_units su ON su.id = ra.unit_id \
         WHERE a.warning_id = w.id AND substr(a.unit_path, 1, length(su.path)) = su.path) \
         ORDER BY w.updated_at DESC, w.id LIMIT 200"
    );
    let rows: Vec<WarningRow> = if sees_all(&p) {
        on_db!(&app.db, c => sqlx::query_as(ALL).fetch_all(c).await)?
    } else {
        on_db!(&app.db, c => sqlx::query_as(MINE).bind(&p.user_id).fetch_all(c).await)?
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let agencies = agencies_of(&app, &r.id).await?;
        out.push(r.view(agencies));
    }
    Ok(Json(out))
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

/// An agency's handling result. The same reply again answers the warning
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
    let unit = match (&req.unit_id, mine.as_slice()) {
        (_, []) => {
            crate::audit::record_denied(&app, &p, "warning.reply", "warning", &id).await;
            return Err(ApiError::Forbidden);
        }
        (Some(u), m) if m.contains(u) => u.clone(),
        (Some(_), _) => {
            return Err(ApiError::invalid(
                "unit_id",
                "该预警不涉及此单位，或您不负责该单位",
            ));
        }
        (None, [one]) => one.clone(),
        (None, _) => {
            return Err(ApiError::invalid(
                "unit_id",
                "您负责多个相关单位，请指定以哪个单位反馈",
            ));
        }
    };
    let reply = text("reply", Some(&req.reply), 2000, true)?;
    let current = view
        .agencies
        .iter()
        .find(|a| a.unit_id == unit)
        .and_then(|a| a.reply.clone());
    match current {
        Some(r) if r == reply => return Ok(Json(view)),
        Some(_) => {
            return Err(ApiError::Conflict {
                code: "already_replied",
                detail: "该单位已反馈处理结果".into(),
            });
        }
        None => {}
    }
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(&unit).bind(&reply).bind(&p.user_id)
        .bind(crate::clock::now()).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::Conflict {
            code: "already_replied",
            detail: "该单位已反馈处理结果".into(),
        });
    }
    let detail = json!({ "unit_id": unit, "length": reply.chars().count() });
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
