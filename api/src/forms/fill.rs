//! Filling a return (GK-12): the fillers of a receiving unit list their
//! returns, open one, save drafts any number of times (the server checks
//! and computes, and answers the computed fields) and submit. Every save
//! carries the revision it was based on: a save based on an older one
//! answers 409, so two colleagues never overwrite each other. Submitting
//! again what was submitted answers the same return and changes nothing.
//! A submission after the deadline is taken and marked late.

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::FromRow;
use utoipa::ToSchema;

use super::answers::{self, Stage};
use super::attachments::{self, AttachmentView};
use super::definition::{Definition, Kind};
use super::sealed::{self, Reveal};
use super::status::{ReturnStatus, Step, after};
use super::store::{self, Party, ReturnRow, select_returns};
use crate::authz::Principal;
use crate::calendar::{parse_ymd, shanghai_date};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::{ReturnId, UserId};
use crate::state::AppState;
use crate::{on_db, on_tx, todo};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/form-returns", get(mine))
        .route("/api/v1/form-returns/{id}", get(one))
        .route("/api/v1/form-returns/{id}/draft", put(save))
        .route("/api/v1/form-returns/{id}/submission", post(submit))
}

/// One step of a return's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// distributed, submitted, returned, accepted, reminded, withdrawn.
    pub kind: String,
    pub actor_label: String,
    pub occurred_at: String,
    #[schema(value_type = Object)]
    pub detail: Value,
}

#[derive(FromRow)]
struct EventRow {
    kind: String,
    actor_label: String,
    occurred_at: time::OffsetDateTime,
    detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnView {
    pub id: String,
    pub form_id: String,
    pub title: String,
    /// The sender's unit.
    pub from_unit: String,
    pub unit_id: String,
    pub unit_name: String,
    pub deadline_on: String,
    #[schema(value_type = String)]
    pub status: ReturnStatus,
    pub status_label: String,
    /// Send it back with the next save.
    pub revision: i64,
    /// Submitted after the deadline.
    pub late: bool,
    /// Not submitted and the deadline has passed.
    pub overdue: bool,
    pub return_reason: Option<String>,
    /// Computed fields included; phone and ID numbers masked unless the
    /// caller fills this return.
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    #[schema(value_type = Object)]
    pub definition: Value,
    pub attachments: Vec<AttachmentView>,
    pub history: Vec<HistoryEntry>,
    pub submitted_at: Option<String>,
    pub updated_at: String,
    /// The caller may save and submit it.
    pub can_fill: bool,
}

/// The last day (Shanghai time) `deadline_on` is over.
pub fn past_deadline(deadline_on: &str) -> bool {
    let today = shanghai_date(crate::clock::now());
    parse_ymd(deadline_on).is_some_and(|d| d < today)
}

/// Not submitted and past its last day.
pub fn is_overdue(status: ReturnStatus, deadline_on: &str) -> bool {
    status.is_open() && past_deadline(deadline_on)
}

async fn history(app: &AppState, id: &ReturnId) -> ApiResult<Vec<HistoryEntry>> {
    const SQL: &str = "SELECT kind, actor_label, occurred_at, detail FROM form_events \
         WHERE assignment_id = $1 ORDER BY occurred_at, id";
    let rows: Vec<EventRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryEntry {
            kind: r.kind,
            actor_label: r.actor_label,
            occurred_at: crate::clock::rfc3339(r.occurred_at),
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::Null),
        })
        .collect())
}

/// The view of `row` for a caller who is `party` to it.
pub async fn view(app: &AppState, row: &ReturnRow, party: Party) -> ApiResult<ReturnView> {
    let def = row.definition()?;
    let mut answers = row.stored_answers()?;
    let reveal = if party == Party::Filler {
        Reveal::Full
    } else {
        Reveal::Masked
    };
    sealed::open(&def, &app.pii, &mut answers, reveal);
    Ok(ReturnView {
        id: row.id.to_string(),
        form_id: row.form_id.to_string(),
        title: row.title.clone(),
        from_unit: row.form_unit_name.clone(),
        unit_id: row.unit_id.to_string(),
        unit_name: row.unit_name.clone(),
        deadline_on: row.deadline_on.clone(),
        status: row.status,
        status_label: row.status.label_zh().to_owned(),
        revision: row.revision,
        late: row.late,
        overdue: is_overdue(row.status, &row.deadline_on),
        return_reason: row.return_reason.clone(),
        answers,
        definition: serde_json::to_value(&def).unwrap_or_default(),
        attachments: attachments::of_return(app, &row.id).await?,
        history: history(app, &row.id).await?,
        submitted_at: row.submitted_at.map(crate::clock::rfc3339),
        updated_at: crate::clock::rfc3339(row.updated_at),
        can_fill: party == Party::Filler && after(row.status, Step::Save).is_ok(),
    })
}

/// One return.
#[utoipa::path(get, path = "/api/v1/form-returns/{id}", tag = "forms", params(("id" = String, Path)),
    responses((status = 200, body = ReturnView), (status = 404, body = crate::error::Problem)))]
pub async fn one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
) -> ApiResult<Json<ReturnView>> {
    let (row, party) = store::return_of(&app, &p, &id).await?;
    Ok(Json(view(&app, &row, party).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnSummary {
    pub id: String,
    pub title: String,
    pub from_unit: String,
    pub unit_name: String,
    pub deadline_on: String,
    #[schema(value_type = String)]
    pub status: ReturnStatus,
    pub status_label: String,
    pub overdue: bool,
    pub late: bool,
}

impl ReturnRow {
    pub fn summary(&self) -> ReturnSummary {
        ReturnSummary {
            id: self.id.to_string(),
            title: self.title.clone(),
            from_unit: self.form_unit_name.clone(),
            unit_name: self.unit_name.clone(),
            deadline_on: self.deadline_on.clone(),
            status: self.status,
            status_label: self.status.label_zh().to_owned(),
            overdue: is_overdue(self.status, &self.deadline_on),
            late: self.late,
        }
    }
}

/// The returns the caller's units are to fill or have filled (not the
/// withdrawn), open ones first, soonest deadline first; at most 200.
#[utoipa::path(get, path = "/api/v1/form-returns", tag = "forms",
    responses((status = 200, body = [ReturnSummary]), (status = 401, body = crate::error::Problem)))]
pub async fn mine(
    State(app): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Vec<ReturnSummary>>> {
    Ok(Json(list_mine(&app, &p).await?))
}

pub async fn list_mine(app: &AppState, p: &Principal) -> ApiResult<Vec<ReturnSummary>> {
    const SQL: &str = concat!(
        select_returns!(),
        "WHERE r.status <> 'withdrawn' AND EXISTS (SELECT 1 FROM role_assignments ra JOIN org_units su ON su.id = ra.unit_id \
         WHERE ra.user_id = $1 AND ra.role = 'form_filler' AND substr(u.path, 1, length(su.path)) = su.path) \
         ORDER BY CASE WHEN r.status IN ('assigned', 'draft', 'returned') THEN 0 ELSE 1 END, f.deadline_on, r.id LIMIT 200"
    );
    let rows: Vec<ReturnRow> =
        on_db!(&app.db, c => sqlx::query_as(SQL).bind(&p.user_id).fetch_all(c).await)?;
    Ok(rows.iter().map(ReturnRow::summary).collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersInput {
    /// The revision the answers were based on (0 before the first save).
    pub revision: i64,
    /// Field key → value (docs/forms.md); computed fields left out.
    #[schema(value_type = Object)]
    pub answers: Value,
}

/// Saves a draft of the return; answers it with the computed fields.
#[utoipa::path(put, path = "/api/v1/form-returns/{id}/draft", tag = "forms", params(("id" = String, Path)),
    request_body = AnswersInput,
    responses((status = 200, body = ReturnView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "saved by someone else since (`stale_revision`), or no longer open", body = crate::error::Problem),
        (status = 422, description = "each field and rule that failed, in `errors`", body = crate::error::Problem)))]
pub async fn save(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
    ApiJson(req): ApiJson<AnswersInput>,
) -> ApiResult<Json<ReturnView>> {
    Ok(Json(write(&app, &p, &id, req, Step::Save).await?))
}

/// Submits the return (the answers as they are sent).
#[utoipa::path(post, path = "/api/v1/form-returns/{id}/submission", tag = "forms", params(("id" = String, Path)),
    request_body = AnswersInput,
    responses((status = 200, description = "submitted (or already submitted with these answers)", body = ReturnView),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn submit(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<ReturnId>,
    ApiJson(req): ApiJson<AnswersInput>,
) -> ApiResult<Json<ReturnView>> {
    Ok(Json(write(&app, &p, &id, req, Step::Submit).await?))
}

/// The answers checked (and computed) for `step`; attachments named in
/// them must be this return's, of that field.
async fn checked(
    app: &AppState,
    row: &ReturnRow,
    def: &Definition,
    raw: &Value,
    step: Step,
) -> ApiResult<Map<String, Value>> {
    let stage = if step == Step::Submit {
        Stage::Submit
    } else {
        Stage::Draft
    };
    let answers = answers::check(def, raw, stage).map_err(ApiError::InvalidFields)?;
    let files = attachments::of_return(app, &row.id).await?;
    let mut problems = Vec::new();
    for f in def.fields() {
        if !matches!(f.kind, Kind::Attachment { .. }) {
            continue;
        }
        let ids = answers
            .get(&f.key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for id in ids.filter_map(Value::as_str) {
            if !files.iter().any(|a| a.id == id && a.field_key == f.key) {
                problems.push(crate::error::FieldError {
                    field: f.key.clone(),
                    reason: format!("附件 {id} 不属于本填报的该字段"),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(answers)
    } else {
        Err(ApiError::InvalidFields(problems))
    }
}

pub async fn write(
    app: &AppState,
    p: &Principal,
    id: &ReturnId,
    req: AnswersInput,
    step: Step,
) -> ApiResult<ReturnView> {
    let (row, party) = store::return_of(app, p, id).await?;
    if party != Party::Filler {
        crate::audit::record_denied(app, p, "form.fill", "form_return", id.as_str()).await;
        return Err(ApiError::Forbidden);
    }
    let def = row.definition()?;
    let answers = checked(app, &row, &def, &req.answers, step).await?;
    let mut tx = app.db.begin().await?;
    let (status, revision) = store::current(&mut tx, id).await?;
    if step == Step::Submit && matches!(status, ReturnStatus::Submitted | ReturnStatus::Accepted) {
        let mut stored = row.stored_answers()?;
        sealed::open(&def, &app.pii, &mut stored, Reveal::Full);
        if stored == answers {
            drop(tx);
            let (row, party) = store::return_of(app, p, id).await?;
            return view(app, &row, party).await;
        }
    }
    let to = after(status, step)?;
    if revision != req.revision {
        return Err(ApiError::Conflict {
            code: "stale_revision",
            detail: format!(
                "该填报已被他人保存（当前版本 {revision}，您的版本 {}），请刷新后再改",
                req.revision
            ),
        });
    }
    let late = step == Step::Submit && past_deadline(&row.deadline_on);
    store_answers(app, &mut tx, p, (&row, &def), answers, (to, revision, late)).await?;
    if step == Step::Submit {
        store::event(
            &mut tx,
            id,
            "submitted",
            &p.actor_label(),
            crate::clock::now(),
            json!({ "late": late }),
        )
        .await?;
        let detail = json!({ "form_id": row.form_id, "unit_id": row.unit_id, "late": late });
        crate::audit::success(
            app,
            &mut tx,
            p,
            "form.submit",
            ("form_return", id.as_str()),
            detail,
        )
        .await?;
        let form = store::form_unscoped(&mut tx, &row.form_id).await?;
        let fillers = fillers_at(&mut tx, &row).await?;
        todo::push(
            app,
            &mut tx,
            &super::distribute::task(&form, id),
            &fillers,
            todo::Action::Complete,
        )
        .await?;
    }
    tx.commit().await?;
    let (row, party) = store::return_of(app, p, id).await?;
    view(app, &row, party).await
}

/// Writes checked answers with the new status, if the revision is still
/// the one read (else 409).
async fn store_answers(
    app: &AppState,
    tx: &mut Tx,
    p: &Principal,
    (row, def): (&ReturnRow, &Definition),
    mut answers: Map<String, Value>,
    (to, revision, late): (ReturnStatus, i64, bool),
) -> ApiResult<()> {
    const SQL: &str = "UPDATE form_assignments SET answers = $3, status = $4, revision = revision + 1, \
         late = CASE WHEN $4 = 'submitted' THEN $5 ELSE late END, \
         submitted_at = CASE WHEN $4 = 'submitted' THEN $6 ELSE submitted_at END, \
         return_reason = CASE WHEN $4 = 'submitted' THEN NULL ELSE return_reason END, \
         updated_by = $7, updated_at = $6 WHERE id = $1 AND revision = $2";
    sealed::seal(def, &app.pii, &mut answers);
    let text = Value::Object(answers).to_string();
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(&row.id).bind(revision).bind(&text).bind(to).bind(late)
        .bind(crate::clock::now()).bind(&p.user_id).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(ApiError::Conflict {
            code: "stale_revision",
            detail: "该填报刚被他人保存，请刷新后再改".into(),
        });
    }
    Ok(())
}

/// The active form fillers held at the return's unit.
pub(super) async fn fillers_at(tx: &mut Tx, row: &ReturnRow) -> ApiResult<Vec<UserId>> {
    const SQL: &str = "SELECT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
         WHERE ra.unit_id = $1 AND ra.role = 'form_filler' AND u.status = 'active' ORDER BY ra.user_id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(&row.unit_id).fetch_all(c).await)?)
}
