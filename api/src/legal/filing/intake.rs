//! Official-document filing intake (公文备案, XT-01): the city's and the
//! districts' unified office platforms push each official document they
//! issue, signed as every platform connector signs (HMAC-SM3 over
//! `timestamp ‖ "\n" ‖ body`, docs/integration/filing-intake.md). A
//! document is known by the platform and its id there; its version decides
//! between a repeat (nothing), a stale push (nothing), and a new version
//! (replaces the content while the filing waits for review). Every push is
//! audited, refusals too.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::content::{Content, check};
use super::records::insert;
use super::status::FilingStatus;
use super::store::Source;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::config::FilingSide;
use crate::crypto::signed_request::{Refusal, verify};
use crate::error::{ApiError, ApiResult};
use crate::ids::{FilingId, UnitId};
use crate::state::AppState;
use crate::{on_db, on_tx};

pub const PATH: &str = "/api/v1/legal/filings/intake";
pub const TIMESTAMP_HEADER: &str = "x-filing-timestamp";
pub const SIGNATURE_HEADER: &str = "x-filing-signature";
const MAX_BODY: usize = 2 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, post(push))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// One official document, as the platform sends it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedDocument {
    /// The platform: `SH` (the city's) or a district's code, e.g. `310104`.
    pub platform: String,
    /// The document's id at the platform.
    pub document_id: String,
    /// Grows with every change of the document at the platform.
    pub version: i64,
    /// The reporting unit's code in the org tree both systems share.
    pub unit_code: String,
    /// The document: title, number, issuing unit, dates, full text.
    pub document: Content,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeAnswer {
    /// `created`, `updated`, `duplicate` or `stale`.
    pub result: &'static str,
    pub filing_id: String,
}

/// Takes an official document pushed by a unified office platform.
#[utoipa::path(post, path = "/api/v1/legal/filings/intake", tag = "legal", request_body = PushedDocument,
    params(("x-filing-timestamp" = String, Header, description = "unix seconds"),
        ("x-filing-signature" = String, Header, description = "hex HMAC-SM3(secret, timestamp + \"\\n\" + body)")),
    responses((status = 201, body = IntakeAnswer), (status = 200, description = "duplicate, stale or updated", body = IntakeAnswer),
        (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 409, description = "the filing is already under review", body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 422, description = "a field is invalid (named)", body = crate::error::Problem),
        (status = 503, description = "no shared secret configured", body = crate::error::Problem)))]
pub async fn push(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<IntakeAnswer>)> {
    signed(&app, &headers, &body).await?;
    let doc: PushedDocument =
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    let outcome = take(&app, &doc).await;
    let (result, filing) = match &outcome {
        Ok((r, id)) => (*r, Some(id.as_str())),
        Err(_) => ("refused", None),
    };
    let entry = Entry {
        actor: Actor::system("office-platform"),
        action: "legal.filing.intake",
        target_type: Some("filing"),
        target_id: filing.map(str::to_owned),
        outcome: if outcome.is_ok() {
            Outcome::Success
        } else {
            Outcome::Denied
        },
        detail: json!({ "platform": doc.platform, "document_id": doc.document_id,
            "version": doc.version, "result": result }),
    };
    audit::record(&app.db, app.audit_key(), entry).await?;
    let (result, id) = outcome?;
    let status = if result == "created" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(IntakeAnswer {
            result,
            filing_id: id.into_string(),
        }),
    ))
}

async fn signed(app: &AppState, headers: &HeaderMap, body: &[u8]) -> ApiResult<()> {
    let secret = app.config.legal.intake_secret.expose_secret().as_bytes();
    if secret.is_empty() {
        return Err(ApiError::Unavailable);
    }
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let now = crate::clock::now().unix_timestamp();
    let Err(refusal) = verify(
        secret,
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        body,
        now,
    ) else {
        return Ok(());
    };
    let entry = Entry {
        actor: Actor::system("office-platform"),
        action: "legal.filing.intake",
        target_type: None,
        target_id: None,
        outcome: Outcome::Denied,
        detail: json!({ "refused": format!("{refusal:?}") }),
    };
    audit::record(&app.db, app.audit_key(), entry).await?;
    let (code, detail) = match refusal {
        Refusal::Missing => ("signature_missing", "缺少签名或时间戳"),
        Refusal::Stale => ("signature_stale", "签名时间戳与服务器时间相差超过 5 分钟"),
        Refusal::Mismatch => ("invalid_signature", "签名校验失败"),
    };
    Err(ApiError::AuthFailed {
        code,
        detail: detail.into(),
    })
}

/// The document checked, then created, replaced or recognised.
async fn take(app: &AppState, doc: &PushedDocument) -> ApiResult<(&'static str, FilingId)> {
    const UNIT: &str = "SELECT id FROM org_units WHERE code = $1";
    if app.config.legal.filing_side == FilingSide::Internet {
        return Err(super::store::wrong_side("公文备案接收"));
    }
    let platform = crate::validate::text("platform", Some(&doc.platform), 32, false)?;
    let document = crate::validate::text("document_id", Some(&doc.document_id), 128, false)?;
    if doc.version < 1 {
        return Err(ApiError::invalid("version", "须为正整数"));
    }
    let problems = check(&doc.document);
    if !problems.is_empty() {
        return Err(ApiError::InvalidFields(problems));
    }
    let unit: Option<UnitId> = on_db!(&app.db, c => sqlx::query_scalar(UNIT).bind(&doc.unit_code).fetch_optional(c).await)?;
    let unit = unit.ok_or_else(|| ApiError::invalid("unit_code", "单位不存在"))?;
    let mut tx = app.db.begin().await?;
    let answer = store(&mut tx, &platform, &document, doc, &unit).await?;
    tx.commit().await?;
    Ok(answer)
}

async fn store(
    tx: &mut crate::db::Tx,
    platform: &str,
    document: &str,
    doc: &PushedDocument,
    unit: &UnitId,
) -> ApiResult<(&'static str, FilingId)> {
    const HELD: &str = "SELECT id, platform_version, status FROM filings WHERE platform_key = $1 AND platform_doc_id = $2";
    const MARK: &str = "UPDATE filings SET platform_key = $2, platform_doc_id = $3, platform_version = $4 WHERE id = $1";
    const REPLACE: &str = "UPDATE filings SET title = $2, doc_no = $3, issuing_unit = $4, issued_on = $5, \
         effective_on = $6, full_text = $7, platform_version = $8, version = version + 1, updated_at = $9 WHERE id = $1";
    let held: Option<(FilingId, i64, FilingStatus)> = on_tx!(tx, c => sqlx::query_as(HELD).bind(platform).bind(document).fetch_optional(c).await)?;
    let actor = format!("统一办公平台（{platform}）");
    let Some((id, version, status)) = held else {
        let id = FilingId::generate();
        insert(tx, &id, unit, &doc.document, Source::Platform).await?;
        on_tx!(tx, c => sqlx::query(MARK).bind(&id).bind(platform).bind(document).bind(doc.version)
            .execute(c).await.map(|_| ()))?;
        super::store::event(tx, &id, "intake", &actor, Some(document)).await?;
        return Ok(("created", id));
    };
    if doc.version == version {
        return Ok(("duplicate", id));
    }
    if doc.version < version {
        return Ok(("stale", id));
    }
    if status != FilingStatus::Submitted {
        return Err(ApiError::Conflict {
            code: "already_in_review",
            detail: format!("该公文的备案已{}，不能再以新版本替换", status.label_zh()),
        });
    }
    let c = &doc.document;
    on_tx!(tx, e => sqlx::query(REPLACE).bind(&id).bind(&c.title).bind(&c.doc_no).bind(&c.issuing_unit)
        .bind(&c.issued_on).bind(c.effective_on.as_deref()).bind(&c.full_text).bind(doc.version)
        .bind(crate::clock::now()).execute(e).await.map(|_| ()))?;
    super::store::event(tx, &id, "intake_update", &actor, Some(document)).await?;
    Ok(("updated", id))
}
