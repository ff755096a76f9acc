//! Distributing a form (GK-11): the sender names units and whole subtrees
//! (optionally only units of some kinds: "every district government",
//! "every street under Xuhui"), sees the resolved list with a token, and
//! confirms with that token. Confirming freezes the form and, in one
//! transaction, creates one return per unit, tells each unit's form
//! fillers through the outbox (push, then SMS) and puts the task on their
//! unified to-do list.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::status::FormStatus;
use super::store::{self, FormRow};
use crate::authz::Principal;
use crate::calendar::{parse_ymd, shanghai_date};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::{FormId, ReturnId, UnitId, UserId};
use crate::org::UnitKind;
use crate::outbox::push::{Notification, notify_user};
use crate::state::AppState;
use crate::{on_db, on_tx, todo};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/forms/{id}/distribution", post(distribute))
}

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

#[derive(Debug, Serialize, ToSchema)]
pub struct Recipient {
    pub unit_id: String,
    pub unit_name: String,
    /// Form fillers at the unit who will be told.
    pub fillers: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Distribution {
    /// False for a preview.
    pub distributed: bool,
    /// Send this back as `confirm` to distribute to exactly these units.
    pub token: String,
    pub units: Vec<Recipient>,
    /// Units without a form filler: nobody there will be told.
    pub without_filler: usize,
}

#[derive(Debug, Clone, FromRow)]
struct UnitRow {
    id: UnitId,
    name: String,
    path: String,
    kind: UnitKind,
}

/// The units `req` names, in tree order; a unit or subtree that does not
/// exist is a 422 naming it.
fn resolve(all: &[UnitRow], req: &DistributionInput) -> ApiResult<Vec<UnitRow>> {
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

/// The token of a resolved list: the SM3 of its unit ids, in order.
fn token(form: &FormId, units: &[UnitRow]) -> String {
    let text: String = units.iter().map(|u| format!("{}\n", u.id)).collect();
    hex::encode(crate::crypto::sm3(format!("{form}\n{text}").as_bytes()))
}

/// Previews, or with `confirm` carries out, the distribution of a draft.
#[utoipa::path(post, path = "/api/v1/forms/{id}/distribution", tag = "forms", params(("id" = String, Path)),
    request_body = DistributionInput,
    responses(
        (status = 200, body = Distribution),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "already distributed, or the list changed since the preview", body = crate::error::Problem),
        (status = 422, description = "no unit, an unknown unit, too many, or a deadline already past", body = crate::error::Problem),
    ))]
pub async fn distribute(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
    ApiJson(req): ApiJson<DistributionInput>,
) -> ApiResult<Json<Distribution>> {
    const UNITS: &str = "SELECT id, name, path, kind FROM org_units ORDER BY path";
    let form = store::form(&app, &p, &id).await?;
    if form.status != FormStatus::Draft {
        return Err(frozen());
    }
    let deadline = parse_ymd(&form.deadline_on)
        .ok_or_else(|| ApiError::invalid("deadline_on", "日期格式为 YYYY-MM-DD"))?;
    if deadline < shanghai_date(crate::clock::now()) {
        return Err(ApiError::invalid(
            "deadline_on",
            "截止日期已过，请先修改表单的截止日期",
        ));
    }
    let all: Vec<UnitRow> = on_db!(&app.db, c => sqlx::query_as(UNITS).fetch_all(c).await)?;
    let units = resolve(&all, &req)?;
    if units.is_empty() {
        return Err(ApiError::invalid("units", "请至少选择一个单位"));
    }
    let max = app.config.forms.max_units_per_distribution;
    if units.len() > max {
        return Err(ApiError::invalid(
            "units",
            format!("一次最多下发 {max} 个单位，本次为 {}", units.len()),
        ));
    }
    let token = token(&id, &units);
    let fillers = fillers_of(&app, &units).await?;
    let confirm = match &req.confirm {
        None => return Ok(Json(summary(false, token, &units, &fillers))),
        Some(t) => t,
    };
    if !crate::crypto::mac_eq_str(confirm, &token) {
        return Err(ApiError::Conflict {
            code: "distribution_changed",
            detail: "下发范围与预览时不一致，请重新预览后确认".into(),
        });
    }
    let mut tx = app.db.begin().await?;
    carry_out(&app, &mut tx, &p, &form, &units, &fillers).await?;
    tx.commit().await?;
    app.outbox_wake.notify_one();
    Ok(Json(summary(true, token, &units, &fillers)))
}

fn frozen() -> ApiError {
    ApiError::Conflict {
        code: "form_frozen",
        detail: "表单已下发；如需再次下发，请新建版本".into(),
    }
}

fn summary(
    distributed: bool,
    token: String,
    units: &[UnitRow],
    fillers: &BTreeMap<UnitId, Vec<UserId>>,
) -> Distribution {
    let units: Vec<Recipient> = units
        .iter()
        .map(|u| Recipient {
            unit_id: u.id.to_string(),
            unit_name: u.name.clone(),
            fillers: fillers.get(&u.id).map_or(0, Vec::len),
        })
        .collect();
    Distribution {
        distributed,
        token,
        without_filler: units.iter().filter(|u| u.fillers == 0).count(),
        units,
    }
}

/// The active form fillers held at each of `units` (one query).
async fn fillers_of(app: &AppState, units: &[UnitRow]) -> ApiResult<BTreeMap<UnitId, Vec<UserId>>> {
    const SQL: &str = "SELECT ra.unit_id, ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.role = 'form_filler' AND u.status = 'active' ORDER BY ra.unit_id, ra.user_id";
    let wanted: BTreeSet<&UnitId> = units.iter().map(|u| &u.id).collect();
    let rows: Vec<(UnitId, UserId)> = on_db!(&app.db, c => sqlx::query_as(SQL).fetch_all(c).await)?;
    let mut by_unit: BTreeMap<UnitId, Vec<UserId>> = BTreeMap::new();
    for (unit, user) in rows.into_iter().filter(|(u, _)| wanted.contains(u)) {
        by_unit.entry(unit).or_default().push(user);
    }
    Ok(by_unit)
}

/// Rows per multi-row INSERT (SQLite allows 32 766 parameters).
const CHUNK: usize = 400;

/// Freezes the form, creates the returns, and tells the fillers.
async fn carry_out(
    app: &AppState,
    tx: &mut Tx,
    p: &Principal,
    form: &FormRow,
    units: &[UnitRow],
    fillers: &BTreeMap<UnitId, Vec<UserId>>,
) -> ApiResult<()> {
    const FREEZE: &str = "UPDATE forms SET status = 'distributed', distributed_by = $2, distributed_at = $3, updated_at = $3 \
         WHERE id = $1 AND status = 'draft'";
    let now = crate::clock::now();
    let frozen_now = on_tx!(tx, c => sqlx::query(FREEZE).bind(&form.id).bind(&p.user_id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if frozen_now == 0 {
        return Err(frozen());
    }
    let returns: Vec<(ReturnId, &UnitRow)> =
        units.iter().map(|u| (ReturnId::generate(), u)).collect();
    let actor = store::actor_label(p);
    for chunk in returns.chunks(CHUNK) {
        insert_returns(tx, &form.id, chunk, now).await?;
        insert_events(tx, chunk, &actor, now).await?;
    }
    for (id, unit) in &returns {
        let users = fillers.get(&unit.id).map(Vec::as_slice).unwrap_or_default();
        tell_fillers(app, tx, form, id, users, "form_assigned", "assigned").await?;
        todo::push(app, tx, &task(form, id), users, todo::Action::Create).await?;
    }
    let detail =
        json!({ "units": units.len(), "version": form.version, "deadline_on": form.deadline_on });
    crate::audit::success(
        app,
        tx,
        p,
        "form.distribute",
        ("form", form.id.as_str()),
        detail,
    )
    .await?;
    Ok(())
}

async fn insert_returns(
    tx: &mut Tx,
    form: &FormId,
    rows: &[(ReturnId, &UnitRow)],
    now: time::OffsetDateTime,
) -> ApiResult<()> {
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            format!(
                "(${}, $1, ${}, 'assigned', 0, FALSE, $2, $2)",
                3 + 2 * i,
                4 + 2 * i
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO form_assignments (id, form_id, unit_id, status, revision, late, created_at, updated_at) VALUES {}",
        values.join(", ")
    );
    on_tx!(tx, c => {
        // Only placeholders are formatted in; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(form).bind(now);
        for (id, unit) in rows {
            q = q.bind(id).bind(&unit.id);
        }
        q.execute(c).await.map(|_| ())
    })?;
    Ok(())
}

async fn insert_events(
    tx: &mut Tx,
    rows: &[(ReturnId, &UnitRow)],
    actor: &str,
    now: time::OffsetDateTime,
) -> ApiResult<()> {
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            format!(
                "(${}, ${}, 'distributed', $1, $2, '{{}}')",
                3 + 2 * i,
                4 + 2 * i
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO form_events (id, assignment_id, kind, actor_label, occurred_at, detail) VALUES {}",
        values.join(", ")
    );
    on_tx!(tx, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(actor).bind(now);
        for (id, _) in rows {
            q = q.bind(ulid::Ulid::new().to_string()).bind(id);
        }
        q.execute(c).await.map(|_| ())
    })?;
    Ok(())
}

/// The fillers' to-do item of a return.
pub(super) fn task<'a>(form: &'a FormRow, id: &ReturnId) -> todo::Task<'a> {
    todo::Task {
        kind: "form_return",
        subject: format!("form-return:{id}"),
        title: &form.title,
        pc_path: format!("/api/v1/form-returns/{id}"),
        mobile_url: format!("govapp://form-returns/{id}"),
        created_at: form.distributed_at.unwrap_or_else(crate::clock::now),
    }
}

/// Tells `users` about the return `id` of `form` by the template `kind`
/// (`form_assigned`, `form_reminder`, `form_overdue`, `form_returned`),
/// once per return, kind, `occasion` and person.
pub(super) async fn tell_fillers(
    app: &AppState,
    tx: &mut Tx,
    form: &FormRow,
    id: &ReturnId,
    users: &[UserId],
    kind: &'static str,
    occasion: &str,
) -> ApiResult<()> {
    let due = parse_ymd(&form.deadline_on)
        .map_or_else(|| form.deadline_on.clone(), crate::calendar::chinese_date);
    let title = short_title(&form.title);
    for user in users {
        let key = format!("{kind}:{id}:{occasion}:{user}");
        let n = Notification {
            kind,
            user_id: user,
            params: &[
                ("title", &title),
                ("due_date", &due),
                ("return_id", id.as_str()),
            ],
            idempotency_key: Some(&key),
            ttl: Duration::from_secs(3 * 86_400),
        };
        notify_user(tx, &app.pii, &app.config.notify, n).await?;
    }
    Ok(())
}

/// A title short enough for one SMS segment.
fn short_title(title: &str) -> String {
    const MAX: usize = 20;
    if title.chars().count() <= MAX {
        title.to_owned()
    } else {
        title.chars().take(MAX - 1).chain(['…']).collect()
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
        assert_ne!(
            token(&FormId::new("f"), &all[..2]),
            token(&FormId::new("f"), &all[..3])
        );
    }
}
