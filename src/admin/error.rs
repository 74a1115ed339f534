//! The management API's error type, its JSON shape, and a JSON extractor whose rejections use it.

use crate::accounts::AccountError;
use crate::store::StoreError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("invalid username or password")]
    BadLogin,
    #[error("not allowed")]
    Forbidden,
    /// The caller's role lacks the permission the route needs.
    #[error("requires the `{0}` permission")]
    MissingPermission(&'static str),
    /// Allowed in general, not this (e.g. granting a permission the caller lacks).
    #[error("{0}")]
    Denied(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A well-formed value out of its allowed range (422, the field named in `error.field`).
    #[error("`{field}` {message}")]
    Unprocessable { field: String, message: String },
    /// Too many attempts from this address or for this username, or every password check is
    /// busy (429 with `Retry-After`).
    #[error("too many attempts; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized | ApiError::BadLogin => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            ApiError::Forbidden | ApiError::MissingPermission(_) | ApiError::Denied(_) => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }

    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        ApiError::BadRequest(format!("`{field}` {why}"))
    }

    pub fn unprocessable(field: &str, why: impl std::fmt::Display) -> Self {
        ApiError::Unprocessable {
            field: field.to_string(),
            message: why.to_string(),
        }
    }
}

/// The body of every error answer of the management API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `invalid_value`, `rate_limited`, `method_not_allowed`, `unavailable` or
    /// `internal_error`.
    pub code: String,
    /// For people; names the offending field where there is one.
    pub message: String,
    /// With `invalid_value`: the field whose value is out of range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The management API's error body, for answers made outside a handler (the connection layer's
/// refusals and protocol errors).
pub fn error_json(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"error": {"code": code, "message": message}}))
        .unwrap_or_default()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let field = match &self {
            ApiError::Unprocessable { field, .. } => Some(field.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: self.to_string(),
                field,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs.max(1)),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::InvalidReference(m) => ApiError::BadRequest(m),
            other => {
                tracing::error!("store error: {other}");
                ApiError::Internal
            }
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::BadLogin | AccountError::LockedOut | AccountError::LockoutStarted => {
                ApiError::BadLogin
            }
            AccountError::TooManyAttempts { retry_after } => ApiError::TooManyRequests {
                retry_after_secs: retry_after.as_secs_f64().ceil() as u64,
            },
            AccountError::Unauthorized | AccountError::TokenReused { .. } => ApiError::Unauthorized,
            AccountError::Invalid { field, message } => ApiError::invalid(field, message),
            AccountError::Forbidden(m) => ApiError::Denied(m),
            AccountError::NotFound => ApiError::NotFound,
            AccountError::Conflict(m) => ApiError::Conflict(m),
            AccountError::Store(e) => e.into(),
            AccountError::Internal => ApiError::Internal,
        }
    }
}

/// `Json<T>` whose rejections (bad JSON, missing or mistyped field) are 400s naming the problem.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "expected `Content-Type: application/json`".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// `Path<T>` with the same error shape.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// `Query<T>` with the same error shape.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}
