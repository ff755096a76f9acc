//! What the sender sees of a distributed form (GK-13), in one call: the
//! progress (how many units are assigned, drafting, submitted, returned,
//! accepted, overdue, and where each unit stands) and the aggregate of the
//! submitted and accepted returns ([`super::aggregate`]).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::aggregate::{self, Aggregate, Counted};
use super::definition::Definition;
use super::fill::is_overdue;
use super::sealed::{self, Reveal};
use super::status::ReturnStatus;
use super::store::{self, FormRow};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ids::{FormId, ReturnId, UnitId};
use crate::on_db;
use crate::pii::PiiCipher;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/forms/{id}/progress", get(progress))
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Counts {
    pub units: u64,
    pub assigned: u64,
    pub draft: u64,
    pub submitted: u64,
    pub returned: u64,
    pub accepted: u64,
    pub withdrawn: u64,
    /// Not submitted and past the deadline.
    pub overdue: u64,
    /// Submitted after the deadline.
    pub late: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitProgress {
    pub return_id: String,
    pub unit_id: String,
    pub unit_name: String,
    #[schema(value_type = String)]
    pub status: ReturnStatus,
    pub status_label: String,
    pub overdue: bool,
    pub late: bool,
    pub submitted_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub form_id: String,
    pub title: String,
    pub deadline_on: String,
    pub counts: Counts,
    pub units: Vec<UnitProgress>,
    pub aggregate: Aggregate,
}

/// One unit's return, as the sender's views read it.
#[derive(Debug, FromRow)]
pub struct Sent {
    pub id: ReturnId,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub unit_path: String,
    pub status: ReturnStatus,
    pub late: bool,
    pub submitted_at: Option<OffsetDateTime>,
    pub answers: Option<String>,
}

impl Sent {
    /// Counted in the aggregate.
    pub fn counts(&self) -> bool {
        matches!(
            self.status,
            ReturnStatus::Submitted | ReturnStatus::Accepted
        )
    }
}

/// Every return of `form`, in tree order.
pub async fn fetch(app: &AppState, form: &FormRow) -> ApiResult<Vec<Sent>> {
    const SQL: &str = "SELECT r.id, r.unit_id, u.name AS unit_name, u.path AS unit_path, r.status, r.late, \
         r.submitted_at, r.answers FROM form_assignments r JOIN org_units u ON u.id = r.unit_id \
         WHERE r.form_id = $1 ORDER BY u.path";
    Ok(on_db!(&app.db, c => sqlx::query_as(SQL).bind(&form.id).fetch_all(c).await)?)
}

/// The answers of `rows`, opened for the sender (personal values masked).
pub fn open_all(
    def: &Definition,
    pii: &PiiCipher,
    rows: &[Sent],
) -> ApiResult<Vec<Map<String, Value>>> {
    rows.iter()
        .map(|r| {
            let mut a: Map<String, Value> = match &r.answers {
                Some(text) => serde_json::from_str(text)
                    .map_err(|e| ApiError::Internal(anyhow::anyhow!("return {}: {e}", r.id)))?,
                None => Map::new(),
            };
            sealed::open(def, pii, &mut a, Reveal::Masked);
            Ok(a)
        })
        .collect()
}

/// Runs `work` on the blocking pool: parsing and adding up a thousand
/// returns is CPU work that must not hold up the runtime.
pub async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
}

/// The names of the returning units and of the units above them, for the
/// roll-ups by org level: the ids are read off the units' paths, so only
/// those units are loaded.
pub async fn unit_names(app: &AppState, rows: &[Sent]) -> ApiResult<BTreeMap<String, String>> {
    let ids: std::collections::BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.unit_path.split('/'))
        .filter(|id| !id.is_empty())
        .collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let found: Vec<(String, String)> = crate::db::fetch_in(
        &app.db,
        "SELECT id, name FROM org_units WHERE id IN ({in})",
        &ids,
    )
    .await?;
    Ok(found.into_iter().collect())
}

/// The aggregate of the counted returns among `rows`.
pub fn aggregate_of(
    def: &Definition,
    rows: &[Sent],
    answers: &[Map<String, Value>],
    names: &BTreeMap<String, String>,
) -> Aggregate {
    let counted: Vec<Counted<'_>> = rows
        .iter()
        .zip(answers)
        .filter(|(r, _)| r.counts())
        .map(|(r, a)| Counted {
            unit_id: r.unit_id.as_str(),
            unit_name: &r.unit_name,
            unit_path: &r.unit_path,
            answers: a,
        })
        .collect();
    aggregate::of(def, &counted, names)
}

fn counts(rows: &[Sent], deadline_on: &str) -> Counts {
    let mut c = Counts::default();
    for r in rows {
        c.units += 1;
        *match r.status {
            ReturnStatus::Assigned => &mut c.assigned,
            ReturnStatus::Draft => &mut c.draft,
            ReturnStatus::Submitted => &mut c.submitted,
            ReturnStatus::Returned => &mut c.returned,
            ReturnStatus::Accepted => &mut c.accepted,
            ReturnStatus::Withdrawn => &mut c.withdrawn,
        } += 1;
        c.overdue += u64::from(is_overdue(r.status, deadline_on));
        c.late += u64::from(r.late);
    }
    c
}

/// The progress of a form and the aggregate of its returns (senders only).
#[utoipa::path(get, path = "/api/v1/forms/{id}/progress", tag = "forms", params(("id" = String, Path)),
    responses((status = 200, body = Progress), (status = 404, body = crate::error::Problem)))]
pub async fn progress(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<FormId>,
) -> ApiResult<Json<Progress>> {
    Ok(Json(of_form(&app, &p, &id).await?))
}

pub async fn of_form(app: &AppState, p: &Principal, id: &FormId) -> ApiResult<Progress> {
    let form = store::form(app, p, id).await?;
    let def = form.definition()?;
    let rows = fetch(app, &form).await?;
    let names = unit_names(app, &rows).await?;
    let pii = app.pii.clone();
    let (rows, aggregate) = off_runtime(move || {
        let answers = open_all(&def, &pii, &rows)?;
        let aggregate = aggregate_of(&def, &rows, &answers, &names);
        Ok((rows, aggregate))
    })
    .await?;
    let (counts, units) = standing(&form, &rows);
    Ok(Progress {
        form_id: form.id.to_string(),
        title: form.title.clone(),
        deadline_on: form.deadline_on.clone(),
        counts,
        units,
        aggregate,
    })
}

/// The counts and where each unit stands (the phone's screen: no aggregate).
pub fn standing(form: &FormRow, rows: &[Sent]) -> (Counts, Vec<UnitProgress>) {
    let units = rows
        .iter()
        .map(|r| UnitProgress {
            return_id: r.id.to_string(),
            unit_id: r.unit_id.to_string(),
            unit_name: r.unit_name.clone(),
            status: r.status,
            status_label: r.status.label_zh().to_owned(),
            overdue: is_overdue(r.status, &form.deadline_on),
            late: r.late,
            submitted_at: r.submitted_at.map(crate::clock::rfc3339),
        })
        .collect();
    (counts(rows, &form.deadline_on), units)
}
