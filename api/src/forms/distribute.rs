//! Distributing a form (GK-11): the sender chooses units
//! ([`crate::org::selection`]), sees the resolved list with a token, and
//! confirms with that token. Confirming freezes the form and, in one
//! transaction, creates one return per unit, tells each unit's form
//! fillers through the outbox (push, then SMS) and puts the task on their
//! unified to-do list.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::status::FormStatus;
use super::store::{self, FormRow};
use crate::authz::Principal;
use crate::calendar::{parse_ymd, shanghai_date};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::{FormId, ReturnId, UnitId, UserId};
use crate::org::selection::{DistributionInput, UnitRow, all_units, confirmed, resolve, token};
use crate::outbox::task_notice::TaskNotice;
use crate::state::AppState;
use crate::{on_db, on_tx, todo};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/forms/{id}/distribution", post(distribute))
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
    let units = resolve(&all_units(&app).await?, &req)?;
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
    let token = token(id.as_str(), &units);
    let fillers = fillers_of(&app, &units).await?;
    if !confirmed(&req, &token)? {
        return Ok(Json(summary(false, token, &units, &fillers)));
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
    let actor = p.actor_label();
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
    let notice = TaskNotice {
        kind,
        title: &form.title,
        deadline_on: &form.deadline_on,
        link: ("return_id", id.as_str()),
        occasion,
    };
    crate::outbox::task_notice::tell(app, tx, &notice, users).await
}
