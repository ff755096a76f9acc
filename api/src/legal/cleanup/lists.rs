//! One unit's list: read it (with the steps the caller may take now), and
//! save its documents. A save replaces the whole list, is checked
//! ([`super::document::check`]) and is refused when based on an older
//! revision, so two officers cannot overwrite each other.

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::counts::DecisionCounts;
use super::document::{Decision, Document, check};
use super::line::ReportLine;
use super::status::{ListStatus, Step, after};
use super::store::{self, DocumentRow, ListKind, ListRow, Party};
use crate::authz::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::ids::CleanupListId;
use crate::state::AppState;
use crate::{on_db, on_tx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/cleanup/lists/{id}", get(show))
        .route("/api/v1/legal/cleanup/lists/{id}/documents", put(save))
}

/// The most documents one list holds.
pub const MAX_DOCUMENTS: usize = 5000;

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    /// The unit whose list holds it (a consolidated list shows many).
    pub unit_name: String,
    pub doc_no: String,
    pub title: String,
    pub issued_on: String,
    #[schema(value_type = Option<String>)]
    pub decision: Option<Decision>,
    pub decision_label: Option<String>,
    pub reason: String,
    pub legal_basis: String,
}

impl From<&DocumentRow> for DocumentView {
    fn from(d: &DocumentRow) -> Self {
        DocumentView {
            unit_name: d.unit_name.clone(),
            doc_no: d.doc_no.clone(),
            title: d.title.clone(),
            issued_on: d.issued_on.clone(),
            decision: d.decision,
            decision_label: d.decision.map(|x| x.label_zh().to_owned()),
            reason: d.reason.clone(),
            legal_basis: d.legal_basis.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema, FromRow)]
pub struct ListEvent {
    pub kind: String,
    pub actor_label: String,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub occurred_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subordinate {
    pub list_id: String,
    pub unit_name: String,
    #[schema(value_type = String)]
    pub status: ListStatus,
    pub status_label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListView {
    pub id: String,
    pub campaign_id: String,
    pub campaign_title: String,
    #[schema(value_type = String)]
    pub line: ReportLine,
    pub deadline_on: String,
    pub unit_id: String,
    pub unit_name: String,
    pub reviewer_unit_name: String,
    #[schema(value_type = String)]
    pub kind: ListKind,
    #[schema(value_type = String)]
    pub status: ListStatus,
    pub status_label: String,
    /// Why it was sent back or returned, until it is submitted again.
    pub reason: Option<String>,
    /// Send it back with a save.
    pub revision: i64,
    /// The caller may save documents now.
    pub editable: bool,
    /// The steps the caller may take now (`send_for_check`, `send_back`,
    /// `submit`, `return`, `accept`).
    pub steps: Vec<String>,
    pub documents: Vec<DocumentView>,
    pub counts: DecisionCounts,
    /// A consolidated list: the lists it stands for.
    pub subordinates: Vec<Subordinate>,
    pub history: Vec<ListEvent>,
}

/// A list with its documents, history and the caller's possible steps.
#[utoipa::path(get, path = "/api/v1/legal/cleanup/lists/{id}", tag = "legal", params(("id" = String, Path)),
    responses((status = 200, body = ListView), (status = 404, body = crate::error::Problem)))]
pub async fn show(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<CleanupListId>,
) -> ApiResult<Json<ListView>> {
    let (row, party) = store::list(&app, &p, &id).await?;
    Ok(Json(view(&app, &row, party).await?))
}

pub async fn view(app: &AppState, row: &ListRow, party: Party) -> ApiResult<ListView> {
    const HISTORY: &str = "SELECT kind, actor_label, reason, occurred_at FROM cleanup_events WHERE list_id = $1 \
         ORDER BY occurred_at, id";
    let subs = match row.kind {
        ListKind::Own => Vec::new(),
        ListKind::Consolidated => subordinates(app, row).await?,
    };
    let mut ids = vec![row.id.clone()];
    ids.extend(subs.iter().map(|s| CleanupListId::new(s.list_id.clone())));
    let docs = store::documents(app, &ids).await?;
    let history: Vec<ListEvent> =
        on_db!(&app.db, c => sqlx::query_as(HISTORY).bind(&row.id).fetch_all(c).await)?;
    let steps = Step::ALL
        .iter()
        .filter(|s| party.may(s.actor()) && after(row.status, **s).is_ok())
        .map(|s| s.as_str().to_owned())
        .collect();
    Ok(ListView {
        id: row.id.to_string(),
        campaign_id: row.campaign_id.to_string(),
        campaign_title: row.title.clone(),
        line: row.line,
        deadline_on: row.deadline_on.clone(),
        unit_id: row.unit_id.to_string(),
        unit_name: row.unit_name.clone(),
        reviewer_unit_name: row.reviewer_unit_name.clone(),
        kind: row.kind,
        status: row.status,
        status_label: row.status.label_zh().to_owned(),
        reason: row.reason.clone(),
        revision: row.revision,
        editable: party.reporter && row.kind == ListKind::Own && row.status.editable(),
        steps,
        counts: DecisionCounts::of(&docs.iter().map(DocumentRow::document).collect::<Vec<_>>()),
        documents: docs.iter().map(DocumentView::from).collect(),
        subordinates: subs,
        history,
    })
}

async fn subordinates(app: &AppState, row: &ListRow) -> ApiResult<Vec<Subordinate>> {
    const SQL: &str = "SELECT l.id, u.name, l.status FROM cleanup_lists l JOIN org_units u ON u.id = l.unit_id \
         WHERE l.campaign_id = $1 AND l.reviewer_unit_id = $2 AND l.kind = 'own' ORDER BY u.path";
    let rows: Vec<(String, String, ListStatus)> = on_db!(&app.db, c => sqlx::query_as(SQL)
        .bind(&row.campaign_id).bind(&row.unit_id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(list_id, unit_name, status)| Subordinate {
            list_id,
            unit_name,
            status,
            status_label: status.label_zh().to_owned(),
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentsInput {
    /// The revision the edit was based on (from the list's view).
    pub revision: i64,
    pub documents: Vec<Document>,
}

/// Replaces the list's documents (a reporting officer of the unit, while
/// the list is a draft or returned).
#[utoipa::path(put, path = "/api/v1/legal/cleanup/lists/{id}/documents", tag = "legal", params(("id" = String, Path)),
    request_body = DocumentsInput,
    responses((status = 200, body = ListView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "not editable now, or saved by someone else since", body = crate::error::Problem),
        (status = 422, description = "each document's problem, by field", body = crate::error::Problem)))]
pub async fn save(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<CleanupListId>,
    ApiJson(req): ApiJson<DocumentsInput>,
) -> ApiResult<Json<ListView>> {
    const SQL: &str = "UPDATE cleanup_lists SET revision = revision + 1, updated_at = $3 \
         WHERE id = $1 AND revision = $2";
    let (row, party) = store::list(&app, &p, &id).await?;
    if !party.reporter {
        crate::audit::record_denied(&app, &p, "legal.cleanup.save", "cleanup_list", id.as_str())
            .await;
        return Err(ApiError::Forbidden);
    }
    if row.kind == ListKind::Consolidated || !row.status.editable() {
        return Err(ApiError::Conflict {
            code: "list_not_editable",
            detail: format!("清单当前为“{}”，不能修改", row.status.label_zh()),
        });
    }
    if req.documents.len() > MAX_DOCUMENTS {
        return Err(ApiError::invalid(
            "documents",
            format!("一份清单最多 {MAX_DOCUMENTS} 件文件"),
        ));
    }
    let problems = check(&req.documents, false);
    if !problems.is_empty() {
        return Err(ApiError::InvalidFields(problems));
    }
    let mut tx = app.db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(SQL).bind(&id).bind(req.revision).bind(crate::clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(stale());
    }
    // Re-read in the transaction: a step may have moved it since.
    let (status, _) = store::current(&mut tx, &id).await?;
    if !status.editable() {
        return Err(stale());
    }
    store::replace_documents(&mut tx, &id, &req.documents).await?;
    let detail = json!({ "documents": req.documents.len(), "revision": req.revision + 1 });
    crate::audit::success(
        &app,
        &mut tx,
        &p,
        "legal.cleanup.save",
        ("cleanup_list", id.as_str()),
        detail,
    )
    .await?;
    tx.commit().await?;
    let (row, party) = store::list(&app, &p, &row.id).await?;
    Ok(Json(view(&app, &row, party).await?))
}

pub fn stale() -> ApiError {
    ApiError::Conflict {
        code: "list_changed",
        detail: "清单已被他人修改或状态已变化，请刷新后重试".into(),
    }
}
