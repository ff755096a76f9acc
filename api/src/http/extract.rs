//! Extractors whose rejections are problem+json answers. A JSON body extractor whose rejections are problem+json answers that name
//! the problem (missing field, wrong type, syntax error, size, media type).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        JsonRejection::JsonDataError(e) => ApiError::MalformedBody(e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::MalformedBody(e.body_text()),
        other => ApiError::MalformedBody(other.body_text()),
    }
}

/// Like [`ApiJson`], and also the SM3 hash of the raw body, for
/// `Idempotency-Key` checks (a retry must send the same request, in any
/// member order: see [`crate::idempotency::request_hash`]).
pub struct HashedJson<T>(pub T, pub String);

impl<S, T> FromRequest<S> for HashedJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::MalformedBody(r.body_text())
                }
            })?;
        let hash = crate::idempotency::request_hash(&bytes);
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes).map_err(json_problem)?;
        Ok(HashedJson(value, hash))
    }
}

/// A query-string extractor whose rejections are 422 problems naming the
/// parameter (serde's message says which and why).
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::invalid("query", e.body_text()))
    }
}
