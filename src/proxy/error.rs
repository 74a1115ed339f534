//! Why a proxied request failed: one enum, one mapping to status, code, message and retry.

use crate::limits::{Limit, LimitError};
use crate::providers::{self, ApiFormat};
use crate::upstream::SendError;
use bytes::Bytes;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no such endpoint")]
    NotFound,
    #[error("missing client key")]
    MissingKey,
    #[error("invalid client key")]
    InvalidKey,
    #[error("client key disabled")]
    KeyDisabled,
    /// A stored limit or model list of the key cannot be enforced: refused, not unlimited.
    #[error("client key misconfigured")]
    KeyMisconfigured,
    #[error("client key expired")]
    KeyExpired,
    #[error("model not allowed for this key")]
    ModelNotAllowed { model: Option<String> },
    #[error("limit reached: {}", .0.limit.describe())]
    Limited(crate::limits::Refusal),
    #[error("limits unavailable")]
    LimitsUnavailable,
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge { limit: u64 },
    #[error("could not read the request body")]
    BadBody,
    #[error("no usable provider credential")]
    NoCredential,
    #[error("provider unavailable")]
    ProviderUnavailable,
    /// The upstream could not be reached or did not answer.
    #[error("upstream failure: {}", .0.kind())]
    Send(SendError),
    #[error("upstream rejected the provider credential ({status})")]
    UpstreamAuth { status: u16 },
    /// A 429 or 5xx held back to try another key.
    #[error("upstream answered {status}")]
    UpstreamStatus {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("internal error")]
    Internal,
}

impl From<SendError> for ProxyError {
    fn from(e: SendError) -> Self {
        ProxyError::Send(e)
    }
}

impl From<LimitError> for ProxyError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Refused(r) => ProxyError::Limited(r),
            LimitError::Unavailable => ProxyError::LimitsUnavailable,
        }
    }
}

impl ProxyError {
    pub fn status(&self) -> u16 {
        match self {
            ProxyError::NotFound => 404,
            ProxyError::MissingKey | ProxyError::InvalidKey => 401,
            ProxyError::KeyDisabled
            | ProxyError::KeyMisconfigured
            | ProxyError::KeyExpired
            | ProxyError::ModelNotAllowed { .. } => 403,
            ProxyError::Limited(_) => 429,
            ProxyError::LimitsUnavailable => 503,
            ProxyError::BodyTooLarge { .. } => 413,
            ProxyError::BadBody => 400,
            // A rejected credential was the last usable one: the pool is exhausted.
            ProxyError::NoCredential
            | ProxyError::ProviderUnavailable
            | ProxyError::UpstreamAuth { .. } => 503,
            ProxyError::Send(e) if e.is_timeout() => 504,
            ProxyError::Send(_) => 502,
            ProxyError::UpstreamStatus { status: 429, .. } => 429,
            ProxyError::UpstreamStatus { .. } => 502,
            ProxyError::Internal => 500,
        }
    }

    /// Tollgate's stable machine code, shown to clients.
    pub fn code(&self) -> &'static str {
        match self {
            ProxyError::NotFound => "not_found",
            ProxyError::MissingKey | ProxyError::InvalidKey => "invalid_api_key",
            ProxyError::KeyDisabled
            | ProxyError::KeyMisconfigured
            | ProxyError::KeyExpired
            | ProxyError::ModelNotAllowed { .. } => "forbidden",
            ProxyError::Limited(r) if r.limit == Limit::Budget => "insufficient_quota",
            ProxyError::Limited(_) => "rate_limited",
            ProxyError::LimitsUnavailable => "limits_unavailable",
            ProxyError::BodyTooLarge { .. } => "request_too_large",
            ProxyError::BadBody => "bad_request",
            ProxyError::NoCredential
            | ProxyError::ProviderUnavailable
            | ProxyError::UpstreamAuth { .. } => "no_healthy_credential",
            ProxyError::Send(e) if e.is_timeout() => "upstream_timeout",
            ProxyError::UpstreamStatus { status: 429, .. } => "rate_limited",
            ProxyError::Send(_) | ProxyError::UpstreamStatus { .. } => "upstream_error",
            ProxyError::Internal => "internal_error",
        }
    }

    /// What the ledger records as `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProxyError::Send(e) => e.kind(),
            ProxyError::UpstreamAuth { .. } => "upstream_auth",
            ProxyError::UpstreamStatus { status: 429, .. } => "upstream_429",
            ProxyError::UpstreamStatus { .. } => "upstream_5xx",
            ProxyError::NotFound => "not_found",
            ProxyError::MissingKey => "missing_key",
            ProxyError::InvalidKey => "invalid_key",
            ProxyError::KeyDisabled => "key_disabled",
            ProxyError::KeyMisconfigured => "key_misconfigured",
            ProxyError::KeyExpired => "key_expired",
            ProxyError::ModelNotAllowed { .. } => "model_not_allowed",
            ProxyError::Limited(r) => match r.limit {
                Limit::Rpm => "limit_rpm",
                Limit::Concurrency => "limit_max_concurrent",
                Limit::Rpd => "limit_rpd",
                Limit::Tpd => "limit_tpd",
                Limit::CostPerDay => "limit_cost_per_day",
                Limit::Budget => "limit_budget",
            },
            ProxyError::LimitsUnavailable => "limits_unavailable",
            ProxyError::BodyTooLarge { .. } => "body_too_large",
            ProxyError::BadBody => "bad_body",
            ProxyError::NoCredential => "no_credential",
            ProxyError::ProviderUnavailable => "provider_unavailable",
            ProxyError::Internal => "internal",
        }
    }

    /// A message safe to show the caller: never internal details.
    pub fn message(&self) -> String {
        match self {
            ProxyError::NotFound => "Unknown endpoint for this API.".into(),
            ProxyError::MissingKey => "No API key provided.".into(),
            ProxyError::InvalidKey => "Incorrect API key provided.".into(),
            ProxyError::KeyDisabled => "This API key is disabled.".into(),
            ProxyError::KeyMisconfigured => {
                "This API key's settings are invalid; an administrator must correct them.".into()
            }
            ProxyError::KeyExpired => "This API key has expired.".into(),
            ProxyError::ModelNotAllowed { model: Some(m) } => format!("This API key may not use model `{m}`."),
            ProxyError::ModelNotAllowed { model: None } => {
                "This API key is limited to certain models and the request names none.".into()
            }
            ProxyError::Limited(r) => format!(
                "Limit reached for this API key: {} (`{}`). Retry after {} s.",
                r.limit.describe(),
                r.limit.name(),
                r.retry_after.as_secs_f64().ceil() as u64
            ),
            ProxyError::LimitsUnavailable => "The gateway cannot check this key's limits right now.".into(),
            ProxyError::BodyTooLarge { limit } => {
                format!("Request body is larger than the gateway's limit of {limit} bytes.")
            }
            ProxyError::BadBody => "The request body could not be read.".into(),
            ProxyError::NoCredential | ProxyError::ProviderUnavailable => {
                "No healthy provider credential is available for this key.".into()
            }
            ProxyError::Send(e) if e.is_timeout() => "The upstream provider did not answer in time.".into(),
            ProxyError::Send(_) => "The upstream provider could not be reached.".into(),
            ProxyError::UpstreamAuth { .. } => {
                "No healthy provider credential is available for this key: the provider rejected the last one.".into()
            }
            ProxyError::UpstreamStatus { status: 429, .. } => {
                "Every provider credential for this key is rate limited; retry later.".into()
            }
            ProxyError::UpstreamStatus { status, .. } => format!("The upstream provider failed ({status})."),
            ProxyError::Internal => "Internal gateway error.".into(),
        }
    }

    /// Worth trying on another key: nothing reached the client, and the upstream either never
    /// took the request or answered with a status that says another key may do better.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProxyError::UpstreamAuth { .. } | ProxyError::UpstreamStatus { .. } => true,
            ProxyError::Send(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// `Retry-After` to send with this error, in whole seconds.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ProxyError::Limited(r) => Some((r.retry_after.as_secs_f64().ceil() as u64).max(1)),
            ProxyError::UpstreamStatus {
                status: 429,
                retry_after,
            } => Some(
                retry_after
                    .map_or(1, |d| d.as_secs_f64().ceil() as u64)
                    .max(1),
            ),
            _ => None,
        }
    }

    /// The body in the wire format of the API the client called.
    pub fn body(&self, format: ApiFormat) -> Bytes {
        Bytes::from(providers::error_body(
            format,
            self.status(),
            self.code(),
            &self.message(),
        ))
    }
}
