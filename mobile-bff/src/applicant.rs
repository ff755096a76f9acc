//! Applicant sign-in (by SMS-verified phone or one-net ticket), sign-out,
//! and the request form's prefill from the one-net profile (GK-14).

use std::collections::BTreeMap;

use api::disclosure::Identity;
use api::disclosure::applicant::{ApplicantKind, IdType, mask_id_number};
use api::error::{ApiError, ApiResult};
use api::http::extract::ApiJson;
use api::pii::mask_phone;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sso::SsoState;
use sso::applicants::{self, ApplicantSession, ApplicantToken};
use utoipa::ToSchema;

pub fn routes() -> Router<SsoState> {
    Router::new()
        .route("/m/v1/applicant/session", post(sign_in).delete(sign_out))
        .route("/m/v1/applicant/profile", get(profile))
}

/// Exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantSignIn {
    /// A token from `/m/v1/verification-codes/verify` with purpose
    /// `applicant_login`.
    pub verification_token: Option<String>,
    /// The login ticket the one-net portal handed the page.
    pub onenet_ticket: Option<String>,
}

/// Starts an applicant session; the answer's token goes in
/// `Authorization: Bearer` on the applicant routes.
#[utoipa::path(post, path = "/m/v1/applicant/session", tag = "applicant", request_body = ApplicantSignIn,
    responses(
        (status = 201, body = ApplicantToken),
        (status = 400, body = api::error::Problem),
        (status = 401, description = "ticket refused by the one-net service", body = api::error::Problem),
        (status = 422, description = "verification token missing, used or expired", body = api::error::Problem),
        (status = 503, description = "one-net service unreachable", body = api::error::Problem),
    ))]
pub async fn sign_in(
    State(sso): State<SsoState>,
    ApiJson(req): ApiJson<ApplicantSignIn>,
) -> ApiResult<(StatusCode, Json<ApplicantToken>)> {
    let token = match (
        req.verification_token.as_deref(),
        req.onenet_ticket.as_deref(),
    ) {
        (Some(t), None) => applicants::start_by_phone(&sso, t.trim()).await?,
        (None, Some(t)) if !t.trim().is_empty() && t.len() <= 256 => {
            applicants::start_by_onenet(&sso, t.trim()).await?
        }
        (None, Some(_)) => return Err(ApiError::invalid("onenet_ticket", "票据格式不正确")),
        _ => {
            return Err(ApiError::invalid(
                "verification_token",
                "须提供 verification_token 或 onenet_ticket 之一",
            ));
        }
    };
    Ok((StatusCode::CREATED, Json(token)))
}

/// Ends the applicant session.
#[utoipa::path(delete, path = "/m/v1/applicant/session", tag = "applicant",
    responses((status = 204), (status = 401, body = api::error::Problem)))]
pub async fn sign_out(
    State(sso): State<SsoState>,
    session: ApplicantSession,
) -> ApiResult<StatusCode> {
    applicants::end(&sso.app, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One prefilled form field.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrefillField {
    pub value: String,
    /// The value came verified from the one-net service (the form shows it
    /// read-only and submits `from_onenet: true` instead of the value).
    pub from_onenet: bool,
    /// The value is masked for display; it cannot be submitted back.
    pub masked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Prefill {
    /// Absent when the applicant signed in by phone only.
    pub kind: Option<ApplicantKind>,
    pub from_onenet: bool,
    /// By form field: name, id_type, id_number, address, phone (citizens);
    /// name, uscc, legal_representative, contact_name, phone (companies).
    pub fields: BTreeMap<String, PrefillField>,
}

fn id_type_label(t: IdType) -> &'static str {
    match t {
        IdType::ResidentId => "居民身份证",
        IdType::Passport => "护照",
        IdType::HkMacauPermit => "港澳居民来往内地通行证",
        IdType::TaiwanPermit => "台湾居民来往大陆通行证",
        IdType::ForeignPermanentResident => "外国人永久居留身份证",
    }
}

/// The request form's prefill for the signed-in applicant.
#[utoipa::path(get, path = "/m/v1/applicant/profile", tag = "applicant",
    responses((status = 200, body = Prefill), (status = 401, body = api::error::Problem)))]
pub async fn profile(session: ApplicantSession) -> ApiResult<Json<Prefill>> {
    let mut fields = BTreeMap::new();
    let onenet = session.profile.is_some();
    let mut put = |name: &str, value: String, masked: bool| {
        fields.insert(
            name.to_owned(),
            PrefillField {
                value,
                from_onenet: onenet,
                masked,
            },
        );
    };
    let kind = session.profile.as_ref().map(|p| p.identity.kind());
    match session.profile.as_ref().map(|p| &p.identity) {
        Some(Identity::Citizen {
            name,
            id_type,
            id_number,
            address,
        }) => {
            put("name", name.clone(), false);
            put("id_type", id_type_label(*id_type).to_owned(), false);
            put("id_number", mask_id_number(id_number), true);
            if let Some(a) = address {
                put("address", a.clone(), false);
            }
        }
        Some(Identity::Company {
            name,
            uscc,
            legal_representative,
            contact_name,
        }) => {
            put("name", name.clone(), false);
            put("uscc", uscc.clone(), false);
            put("legal_representative", legal_representative.clone(), false);
            put("contact_name", contact_name.clone(), false);
        }
        None => {}
    }
    let phone = session.phone.as_ref().map(|p| p.masked()).or_else(|| {
        session
            .profile
            .as_ref()
            .and_then(|p| p.phone.as_deref())
            .map(mask_phone)
    });
    if let Some(phone) = phone {
        put("phone", phone, true);
    }
    Ok(Json(Prefill {
        kind,
        from_onenet: onenet,
        fields,
    }))
}
