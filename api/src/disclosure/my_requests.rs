//! What applicants see of their own requests: by the phone they verified or
//! by their one-net identity, never anyone else's (another's case answers
//! 404, as if it did not exist).

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::applicant::{Identity, mask_id_number, mask_name};
use super::intake::SealedApplicant;
use super::notices::NoticeKind;
use super::{Agency, CaseStatus, TimelineEvent, timeline};
use crate::error::{ApiError, ApiResult};
use crate::ids::{CaseId, UnitId};
use crate::on_db;
use crate::state::AppState;

/// Whose requests: blind indexes of a verified phone and a one-net id.
pub struct ApplicantScope {
    pub phone_index: Option<String>,
    pub onenet_index: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyRequestSummary {
    #[schema(value_type = String)]
    pub id: CaseId,
    pub case_no: String,
    pub status: CaseStatus,
    pub status_label: String,
    pub agency: Agency,
    /// The first 60 characters of the description.
    pub excerpt: String,
    pub received_on: String,
    pub due_on: String,
    pub submitted_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyRequestPage {
    pub items: Vec<MyRequestSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentInfo {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// SM3 of the content, hex.
    pub sm3: String,
}

/// The applicant as the detail screen shows them: masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicantShown {
    pub kind: super::ApplicantKind,
    pub name: String,
    /// Masked ID number (citizens) or the credit code (companies).
    pub id_number: Option<String>,
    pub phone: String,
    pub from_onenet: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyRequestDetail {
    #[serde(flatten)]
    pub summary: MyRequestSummary,
    pub description: String,
    pub purpose: String,
    pub delivery_method: super::DeliveryMethod,
    pub due_provisional: bool,
    /// The deadline as a person reads it: 2027年1月15日, or with 预计 and a
    /// note when `due_provisional`.
    pub due_label: String,
    pub applicant: ApplicantShown,
    pub attachments: Vec<AttachmentInfo>,
    /// Notices addressed to the applicant; download each at `pdf`.
    pub notices: Vec<MyNotice>,
    /// Every step, oldest first.
    pub timeline: Vec<TimelineEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyNotice {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: NoticeKind,
    pub title: String,
    /// SM3 of the notice's text, hex.
    pub sm3: String,
    pub issued_at: String,
    /// The download path.
    pub pdf: String,
}

#[derive(FromRow)]
struct Row {
    id: CaseId,
    case_no: String,
    status: CaseStatus,
    unit_id: UnitId,
    unit_name: String,
    description: String,
    received_on: String,
    due_on: String,
    submitted_at: OffsetDateTime,
}

#[derive(FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    row: Row,
    purpose: String,
    delivery_method: super::DeliveryMethod,
    due_provisional: bool,
    identity_source: super::IdentitySource,
    applicant_sealed: Vec<u8>,
}

impl Row {
    fn summary(self) -> MyRequestSummary {
        let status = self.status;
        MyRequestSummary {
            excerpt: self.description.chars().take(60).collect(),
            id: self.id,
            case_no: self.case_no,
            status,
            status_label: status.label_zh().to_owned(),
            agency: Agency {
                id: self.unit_id,
                name: self.unit_name,
            },
            received_on: self.received_on,
            due_on: self.due_on,
            submitted_at: crate::clock::rfc3339(self.submitted_at),
        }
    }
}

macro_rules! select_mine {
    ($extra:literal) => {
        concat!(
            "SELECT c.id, c.case_no, c.status, c.unit_id, u.name AS unit_name, c.description, \
             c.received_on, c.due_on, c.submitted_at",
            $extra,
            " FROM disclosure_cases c JOIN org_units u ON u.id = c.unit_id \
             WHERE (c.phone_index = $1 OR c.onenet_index = $2) "
        )
    };
}

/// The applicant's requests, newest first.
pub async fn list(
    app: &AppState,
    scope: &ApplicantScope,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<MyRequestPage> {
    const SQL: &str = concat!(
        select_mine!(""),
        "AND c.id < $3 ORDER BY c.id DESC LIMIT $4"
    );
    let before = crate::pagination::before_id(cursor)?;
    let mut rows: Vec<Row> = on_db!(&app.db, p => sqlx::query_as(SQL)
        .bind(&scope.phone_index).bind(&scope.onenet_index).bind(&before).bind(limit + 1)
        .fetch_all(p).await)?;
    let next_cursor = crate::pagination::trim_page(&mut rows, limit, |r| r.id.to_string());
    Ok(MyRequestPage {
        items: rows.into_iter().map(Row::summary).collect(),
        next_cursor,
    })
}

/// One of the applicant's requests, with its timeline.
pub async fn detail(
    app: &AppState,
    scope: &ApplicantScope,
    id: &CaseId,
) -> ApiResult<MyRequestDetail> {
    const SQL: &str = concat!(
        select_mine!(
            ", c.purpose, c.delivery_method, c.due_provisional, c.identity_source, c.applicant_sealed"
        ),
        "AND c.id = $3"
    );
    const FILES: &str = "SELECT id, file_name, content_type, size_bytes, sm3 FROM disclosure_attachments \
         WHERE case_id = $1 ORDER BY id";
    let row: Option<DetailRow> = on_db!(&app.db, p => sqlx::query_as(SQL)
        .bind(&scope.phone_index).bind(&scope.onenet_index).bind(id).fetch_optional(p).await)?;
    let row = row.ok_or(ApiError::NotFound)?;
    let files: Vec<(String, String, String, i64, String)> =
        on_db!(&app.db, p => sqlx::query_as(FILES).bind(id).fetch_all(p).await)?;
    let applicant = shown(
        app,
        &row.applicant_sealed,
        row.identity_source == super::IdentitySource::Onenet,
    )?;
    const NOTICES: &str = "SELECT id, kind, title, sm3, created_at FROM disclosure_notices \
         WHERE case_id = $1 AND kind IN ('correction', 'extension', 'conclusion') ORDER BY created_at, id";
    let notices: Vec<(String, NoticeKind, String, String, OffsetDateTime)> =
        on_db!(&app.db, p => sqlx::query_as(NOTICES).bind(id).fetch_all(p).await)?;
    Ok(MyRequestDetail {
        purpose: row.purpose,
        delivery_method: row.delivery_method,
        due_label: crate::calendar::deadline_label_of(&row.row.due_on, row.due_provisional),
        due_provisional: row.due_provisional,
        description: row.row.description.clone(),
        timeline: timeline(&app.db, id, true).await?,
        summary: row.row.summary(),
        applicant,
        notices: notices
            .into_iter()
            .map(|(nid, kind, title, sm3, at)| MyNotice {
                pdf: format!("/m/v1/disclosure-requests/{id}/notices/{nid}/pdf"),
                id: nid,
                kind,
                title,
                sm3,
                issued_at: crate::clock::rfc3339(at),
            })
            .collect(),
        attachments: files
            .into_iter()
            .map(
                |(id, file_name, content_type, size_bytes, sm3)| AttachmentInfo {
                    id,
                    file_name,
                    content_type,
                    size_bytes,
                    sm3,
                },
            )
            .collect(),
    })
}

/// Refuses (404) unless case `id` is the applicant's.
pub async fn owns(app: &AppState, scope: &ApplicantScope, id: &CaseId) -> ApiResult<()> {
    const SQL: &str = "SELECT COUNT(*) FROM disclosure_cases c WHERE (c.phone_index = $1 OR c.onenet_index = $2) AND c.id = $3";
    let n: i64 = on_db!(&app.db, p => sqlx::query_scalar(SQL)
        .bind(&scope.phone_index).bind(&scope.onenet_index).bind(id).fetch_one(p).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

pub(crate) fn shown(app: &AppState, sealed: &[u8], from_onenet: bool) -> ApiResult<ApplicantShown> {
    let s = SealedApplicant::open(app, sealed)?;
    let (name, id_number) = match &s.identity {
        Identity::Citizen {
            name, id_number, ..
        } => (mask_name(name), Some(mask_id_number(id_number))),
        Identity::Company { name, uscc, .. } => (name.clone(), Some(uscc.clone())),
    };
    Ok(ApplicantShown {
        kind: s.identity.kind(),
        name,
        id_number,
        phone: crate::pii::mask_phone(&s.phone),
        from_onenet,
    })
}
