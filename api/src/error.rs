//! The core's error type and its RFC 9457 `application/problem+json` form.
//!
//! Every variant has a stable `code` (clients switch on it), a status, and a
//! title in Chinese and English. A 5xx is logged with its cause and answered
//! with a generic text: internals never reach the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::context::{self, Lang};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("no such route")]
    NoRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("not authenticated")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    /// Input that failed parsing or validation: which field, and why.
    #[error("invalid field {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// Several fields failed at once (a form's answers): each with why.
    #[error("invalid fields")]
    InvalidFields(Vec<FieldError>),
    /// A body that is not JSON, or not the JSON we expect.
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// A well-formed request that is refused as a whole; `code` says why.
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, detail: String },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("body too large")]
    PayloadTooLarge,
    /// The request conflicts with the current state (duplicate, exclusive
    /// roles, illegal transition). `code` names which.
    #[error("conflict: {code}")]
    Conflict { code: &'static str, detail: String },
    /// Credentials were presented and refused; `code` says which way
    /// (`invalid_credentials`, `invalid_token`, `refresh_token_reused`, …).
    #[error("authentication failed: {code}")]
    AuthFailed { code: &'static str, detail: String },
    /// The action needs a recent (re-)authentication (RFC 9470's idea).
    #[error("step-up authentication required")]
    StepUpRequired { max_age_secs: u64 },
    /// A limit was reached; the client may retry after the given time.
    #[error("too many requests: {code}")]
    TooManyRequests {
        code: &'static str,
        detail: String,
        retry_after_secs: u64,
    },
    #[error("service unavailable")]
    Unavailable,
    #[error("timed out")]
    Timeout,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if database_unreachable(&e) {
            // Logged here: the answer is a plain 503, and operators need the cause.
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::Unavailable;
        }
        ApiError::Internal(e.into())
    }
}

/// True when the database cannot be reached or refuses connections for now
/// (an outage, a restart, a failover): the client may retry; nothing is
/// wrong with its request.
fn database_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exceptions; 57P01–03: shut down or starting up;
            // 53300: too many connections; 55000 is what a database refusing
            // connections (ALLOW_CONNECTIONS false) answers at connect.
            code.starts_with("08")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
                || (code == "55000" && db.message().contains("accepting connections"))
        }),
        _ => false,
    }
}

/// One field that failed, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// The body of every error answer. `type` is a stable URI per code.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `not_found`, `invalid_field`.
    pub code: String,
    pub request_id: String,
    /// For `invalid_field`: the field that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `invalid_fields`: every field that failed, with its rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthenticated
            | ApiError::AuthFailed { .. }
            | ApiError::StepUpRequired { .. } => StatusCode::UNAUTHORIZED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::Invalid { .. } | ApiError::InvalidFields(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::MalformedBody(_) | ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unavailable | ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound => "not_found",
            ApiError::NoRoute => "no_route",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::AuthFailed { code, .. }
            | ApiError::TooManyRequests { code, .. }
            | ApiError::BadRequest { code, .. } => code,
            ApiError::StepUpRequired { .. } => "step_up_required",
            ApiError::Forbidden => "forbidden",
            ApiError::Invalid { .. } => "invalid_field",
            ApiError::InvalidFields(_) => "invalid_fields",
            ApiError::MalformedBody(_) => "malformed_body",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Conflict { code, .. } => code,
            ApiError::Unavailable => "unavailable",
            ApiError::Timeout => "timeout",
            ApiError::Internal(_) => "internal",
        }
    }

    /// (Chinese, English) titles.
    fn titles(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::NotFound => ("资源不存在", "Not found"),
            ApiError::NoRoute => ("接口不存在", "No such endpoint"),
            ApiError::MethodNotAllowed => ("不支持该请求方法", "Method not allowed"),
            ApiError::Unauthenticated => ("未登录或登录已失效", "Not authenticated"),
            ApiError::AuthFailed { .. } => ("身份认证失败", "Authentication failed"),
            ApiError::StepUpRequired { .. } => {
                ("需要再次验证身份", "Step-up authentication required")
            }
            ApiError::TooManyRequests { .. } => ("请求过于频繁", "Too many requests"),
            ApiError::Forbidden => ("无权执行此操作", "Forbidden"),
            ApiError::Invalid { .. } | ApiError::InvalidFields(_) => {
                ("请求参数不合法", "Invalid request field")
            }
            ApiError::MalformedBody(_) => ("请求体格式错误", "Malformed request body"),
            ApiError::BadRequest { .. } => ("请求无法处理", "Bad request"),
            ApiError::UnsupportedMediaType => ("不支持的内容类型", "Unsupported media type"),
            ApiError::PayloadTooLarge => ("请求体过大", "Request body too large"),
            ApiError::Conflict { .. } => ("操作与当前状态冲突", "Conflict with current state"),
            ApiError::Unavailable => ("服务暂时不可用", "Service unavailable"),
            ApiError::Timeout => ("请求处理超时", "Request timed out"),
            ApiError::Internal(_) => ("服务器内部错误", "Internal server error"),
        }
    }

    fn detail(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            ApiError::Invalid { field, reason } => format!("{field}: {reason}"),
            ApiError::InvalidFields(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .collect::<Vec<_>>()
                .join("；"),
            ApiError::MalformedBody(why) => why.clone(),
            ApiError::Conflict { detail, .. }
            | ApiError::AuthFailed { detail, .. }
            | ApiError::BadRequest { detail, .. }
            | ApiError::TooManyRequests { detail, .. } => detail.clone(),
            ApiError::StepUpRequired { max_age_secs } if zh => {
                format!(
                    "此操作要求最近 {} 分钟内验证过身份，请先完成二次验证",
                    max_age_secs / 60
                )
            }
            ApiError::StepUpRequired { max_age_secs } => format!(
                "this action needs an authentication within the last {} minutes; complete a step-up first",
                max_age_secs / 60
            ),
            ApiError::PayloadTooLarge if zh => "请求体超过服务器允许的大小".into(),
            ApiError::UnsupportedMediaType if zh => "请求体须为 application/json".into(),
            ApiError::UnsupportedMediaType => "the body must be application/json".into(),
            ApiError::Internal(_) if zh => {
                "请稍后重试；如问题持续，请联系管理员并提供请求编号".into()
            }
            ApiError::Internal(_) => {
                "please retry later; if it persists, contact support with the request id".into()
            }
            other => {
                let (t_zh, t_en) = other.titles();
                if zh { t_zh.into() } else { t_en.into() }
            }
        }
    }

    pub fn to_problem(&self) -> Problem {
        let ctx = context::current();
        let (zh, en) = self.titles();
        Problem {
            type_uri: format!("https://gov.sh.cn/problems/{}", self.code()),
            title: if ctx.lang == Lang::Zh { zh } else { en }.to_owned(),
            status: self.status().as_u16(),
            detail: self.detail(ctx.lang),
            code: self.code().to_owned(),
            request_id: ctx.request_id,
            field: match self {
                ApiError::Invalid { field, .. } => Some(field.clone()),
                ApiError::InvalidFields(errors) => errors.first().map(|e| e.field.clone()),
                _ => None,
            },
            errors: match self {
                ApiError::InvalidFields(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // `{:#}` prints anyhow's whole cause chain, for us only.
            match &self {
                ApiError::Internal(cause) => {
                    tracing::error!(error = %format!("{cause:#}"), "request failed")
                }
                other => tracing::warn!(error = %other, "request failed"),
            }
        }
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
