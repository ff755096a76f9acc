//! Disclosure requests from applicants' phones (依申请公开): the agencies to
//! apply to, submitting a request (phone verified by SMS code, identity typed
//! or from the one-net service), and following one's own requests.

use api::disclosure::DeliveryMethod;
use api::disclosure::agencies::{self, AgencyPage};
use api::disclosure::applicant::ApplicantInput;
use api::disclosure::intake::{self, Attachment, CaseReceipt, NewRequest};
use api::disclosure::my_requests::{self, MyRequestDetail, MyRequestPage};
use api::error::{ApiError, ApiResult};
use api::http::extract::{ApiQuery, HashedJson};
use api::idempotency::{self, IdempotencyKey};
use api::pagination::page_limit;
use api::validate::{optional_text, text};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sso::SsoState;
use sso::applicants::{self, ApplicantSession, MaybeApplicant};
use sso::verification::{self, Purpose};
use utoipa::{IntoParams, ToSchema};

const MAX_ATTACHMENTS: usize = 3;
const MAX_ATTACHMENT_BYTES: usize = 1 << 20;
/// Three attachments of 1 MiB in base64, and the form around them.
const BODY_LIMIT: usize = 5 << 20;
const SCOPE: &str = "POST /m/v1/disclosure-requests";

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route(
            "/m/v1/disclosure-requests",
            get(list)
                .post(submit)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/m/v1/disclosure-requests/{id}", get(detail))
        .route(
            "/m/v1/disclosure-requests/{id}/notices/{notice_id}/pdf",
            get(notice_pdf),
        )
        .route("/m/v1/disclosure/agencies", get(agencies))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    pub file_name: String,
    /// application/pdf, image/jpeg or image/png; the content must match.
    pub content_type: String,
    /// The file, base64 (standard alphabet), at most 1 MiB decoded.
    pub content_base64: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The receiving agency (from `/m/v1/disclosure/agencies`).
    pub agency_id: String,
    pub applicant: ApplicantInput,
    /// 所需政府信息的名称、文号或者便于查询的其他特征性描述, at most 2000
    /// characters.
    pub description: String,
    /// What the information is for, at most 500 characters.
    pub purpose: String,
    pub delivery_method: DeliveryMethod,
    /// Required when `delivery_method` is `post`.
    pub postal_address: Option<String>,
    /// From `/m/v1/verification-codes/verify`, purpose `disclosure_request`;
    /// used up by the request. It may be left out by an applicant whose
    /// session was started by an SMS code minutes ago (once per sign-in).
    pub verification_token: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

fn attachment(i: usize, a: &AttachmentInput) -> ApiResult<Attachment> {
    let field = |f: &str| format!("attachments[{i}].{f}");
    let name = text(&field("file_name"), Some(&a.file_name), 100, false)?;
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(ApiError::invalid(field("file_name"), "文件名不能含路径"));
    }
    let (content_type, magic): (&'static str, &[u8]) = match a.content_type.as_str() {
        "application/pdf" => ("application/pdf", b"%PDF-"),
        "image/jpeg" => ("image/jpeg", &[0xFF, 0xD8, 0xFF]),
        "image/png" => ("image/png", b"\x89PNG\r\n\x1a\n"),
        _ => {
            return Err(ApiError::invalid(
                field("content_type"),
                "仅支持 PDF、JPEG、PNG 文件",
            ));
        }
    };
    // Refuse oversized input before decoding it.
    if a.content_base64.len() > MAX_ATTACHMENT_BYTES.div_ceil(3) * 4 + 4 {
        return Err(ApiError::invalid(
            field("content_base64"),
            "文件不能超过 1 MB",
        ));
    }
    let bytes = STANDARD
        .decode(a.content_base64.trim())
        .map_err(|_| ApiError::invalid(field("content_base64"), "不是有效的 Base64 编码"))?;
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(ApiError::invalid(
            field("content_base64"),
            "文件不能超过 1 MB",
        ));
    }
    if !bytes.starts_with(magic) {
        return Err(ApiError::invalid(
            field("content_base64"),
            "文件内容与类型不符",
        ));
    }
    Ok(Attachment {
        file_name: name,
        content_type,
        bytes,
    })
}

/// Checks everything that can be checked without the database.
fn checked(
    req: SubmitRequest,
    session: Option<&ApplicantSession>,
) -> ApiResult<(NewRequest, Option<String>)> {
    let token = match req.verification_token.as_deref().map(str::trim) {
        Some("") => return Err(ApiError::invalid("verification_token", "不能为空")),
        other => other.map(str::to_owned),
    };
    let agency_id = req.agency_id.trim().to_owned();
    if agency_id.is_empty() || agency_id.len() > 64 {
        return Err(ApiError::invalid("agency_id", "请选择受理机关"));
    }
    let (identity, onenet_uid) = if req.applicant.from_onenet {
        if let Some(field) = req.applicant.has_identity_fields() {
            return Err(ApiError::invalid(
                format!("applicant.{field}"),
                "使用一网通办信息时不能另行填写",
            ));
        }
        let profile = session
            .and_then(|s| s.profile.clone())
            .ok_or_else(|| ApiError::invalid("applicant.from_onenet", "请先通过一网通办登录"))?;
        (profile.identity, Some(profile.uid))
    } else {
        (req.applicant.typed_identity()?, None)
    };
    let column = req.applicant.column(&identity)?;
    let description = text("description", Some(&req.description), 2000, true)?;
    let purpose = text("purpose", Some(&req.purpose), 500, true)?;
    let postal_address = optional_text("postal_address", req.postal_address.as_deref(), 200)?;
    if req.delivery_method == DeliveryMethod::Post && postal_address.is_none() {
        return Err(ApiError::invalid(
            "postal_address",
            "邮寄方式须填写邮寄地址",
        ));
    }
    if req.attachments.len() > MAX_ATTACHMENTS {
        return Err(ApiError::invalid(
            "attachments",
            format!("最多 {MAX_ATTACHMENTS} 个附件"),
        ));
    }
    let attachments = req
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| attachment(i, a))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((
        NewRequest {
            unit_id: api::ids::UnitId::new(agency_id),
            identity,
            column,
            onenet_uid,
            description,
            purpose,
            delivery: req.delivery_method,
            postal_address,
            attachments,
        },
        token,
    ))
}

/// Submits a disclosure request. It needs `Idempotency-Key`: a retry with
/// the same key and body answers the first receipt and files nothing new.
#[utoipa::path(post, path = "/m/v1/disclosure-requests", tag = "applicant", request_body = SubmitRequest,
    params(("Idempotency-Key" = String, Header, description = "8–128 characters, one per request")),
    responses(
        (status = 201, body = CaseReceipt),
        (status = 400, description = "malformed body or missing Idempotency-Key", body = api::error::Problem),
        (status = 409, description = "the key was used for a different request", body = api::error::Problem),
        (status = 413, body = api::error::Problem),
        (status = 422, description = "a field failed validation (named), or the verification token is missing, used or expired", body = api::error::Problem),
    ))]
pub async fn submit(
    State(sso): State<SsoState>,
    MaybeApplicant(session): MaybeApplicant,
    headers: HeaderMap,
    HashedJson(req, hash): HashedJson<SubmitRequest>,
) -> ApiResult<Response> {
    let app = &sso.app;
    let key = IdempotencyKey::required(&headers)?;
    let (new, token) = checked(req, session.as_ref())?;
    let work = async |tx: &mut api::db::Tx| {
        let phone = match (&token, &session) {
            (Some(t), _) => {
                verification::consume_token(tx, &app.pii, t, Purpose::DisclosureRequest).await?
            }
            (None, Some(s)) => applicants::consume_phone_proof(&sso, tx, s).await?,
            (None, None) => {
                return Err(ApiError::invalid(
                    "verification_token",
                    "请先通过短信验证码验证手机号",
                ));
            }
        };
        intake::register(app, tx, new, phone).await
    };
    idempotency::run_once(app, &key, SCOPE, &hash, StatusCode::CREATED, work).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// The signed-in applicant's requests, newest first.
#[utoipa::path(get, path = "/m/v1/disclosure-requests", tag = "applicant", params(PageQuery),
    responses((status = 200, body = MyRequestPage), (status = 401, body = api::error::Problem)))]
pub async fn list(
    State(sso): State<SsoState>,
    session: ApplicantSession,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<MyRequestPage>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(
        my_requests::list(&sso.app, &session.scope(), q.cursor.as_deref(), limit).await?,
    ))
}

/// One of the applicant's requests with its status and timeline. Anyone
/// else's answers 404.
#[utoipa::path(get, path = "/m/v1/disclosure-requests/{id}", tag = "applicant",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = MyRequestDetail),
        (status = 401, body = api::error::Problem),
        (status = 404, body = api::error::Problem),
    ))]
pub async fn detail(
    State(sso): State<SsoState>,
    session: ApplicantSession,
    Path(id): Path<api::ids::CaseId>,
) -> ApiResult<Json<MyRequestDetail>> {
    Ok(Json(
        my_requests::detail(&sso.app, &session.scope(), &id).await?,
    ))
}

/// A notice addressed to the applicant, as PDF.
#[utoipa::path(get, path = "/m/v1/disclosure-requests/{id}/notices/{notice_id}/pdf", tag = "applicant",
    params(("id" = String, Path), ("notice_id" = String, Path)),
    responses(
        (status = 200, content_type = "application/pdf", description = "the notice"),
        (status = 401, body = api::error::Problem),
        (status = 404, body = api::error::Problem),
        (status = 503, description = "no CJK font on this server", body = api::error::Problem),
    ))]
pub async fn notice_pdf(
    State(sso): State<SsoState>,
    session: ApplicantSession,
    Path((id, notice_id)): Path<(api::ids::CaseId, api::ids::NoticeId)>,
) -> ApiResult<Response> {
    my_requests::owns(&sso.app, &session.scope(), &id).await?;
    api::disclosure::notices::download(&sso.app, &id, &notice_id, true).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgencyQuery {
    /// Part of the agency's name, e.g. 徐汇.
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// Agencies that receive requests (internal offices excluded), by code.
#[utoipa::path(get, path = "/m/v1/disclosure/agencies", tag = "applicant", params(AgencyQuery),
    responses((status = 200, body = AgencyPage), (status = 422, body = api::error::Problem)))]
pub async fn agencies(
    State(sso): State<SsoState>,
    ApiQuery(q): ApiQuery<AgencyQuery>,
) -> ApiResult<Json<AgencyPage>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(
        agencies::list(&sso.app.db, q.q.as_deref(), q.cursor.as_deref(), limit).await?,
    ))
}
