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
    #[error("the request body stalled")]
    BodyTimeout,
    #[error("too many request bytes buffered")]
    Busy,
    /// Every credential is unusable or refused the request (invalid, out of quota, rate
    /// limited), or none is left to try.
    #[error("no usable provider credential")]
    NoCredential { retry_after: Option<Duration> },
    #[error("provider unavailable")]
    ProviderUnavailable,
    /// The upstream could not be reached or did not answer.
    #[error("upstream failure: {}", .0.kind())]
    Send(SendError),
    /// The last credential tried got a server error.
    #[error("upstream answered {status}")]
    UpstreamFailed { status: u16 },
    /// The last credential tried found the provider overloaded.
    #[error("upstream overloaded")]
    UpstreamOverloaded { retry_after: Option<Duration> },
    /// The model names nothing the key reaches (no `provider/` prefix, route or model list).
    #[error("unknown model for this key")]
    UnknownModel { model: String, reachable: String },
    /// The request cannot be translated for the model's provider (a parameter it cannot
    /// honour, a malformed request, an endpoint that does not translate).
    #[error("{0}")]
    Translate(providers::TranslateError),
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
            ProxyError::UnknownModel { .. } => 404,
            ProxyError::Translate(e) => e.status(),
            ProxyError::Limited(_) => 429,
            ProxyError::LimitsUnavailable => 503,
            ProxyError::BodyTooLarge { .. } => 413,
            ProxyError::BadBody => 400,
            ProxyError::BodyTimeout => 408,
            // 429 is only ever this client's own limit; the pool's trouble is 502/503/504.
            ProxyError::Busy
            | ProxyError::NoCredential { .. }
            | ProxyError::ProviderUnavailable
            | ProxyError::UpstreamOverloaded { .. } => 503,
            ProxyError::Send(e) if e.is_timeout() => 504,
            ProxyError::Send(_) | ProxyError::UpstreamFailed { .. } => 502,
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
            ProxyError::UnknownModel { .. } => "model_not_found",
            ProxyError::Translate(providers::TranslateError::Unsupported { .. }) => {
                "unsupported_parameter"
            }
            ProxyError::Translate(_) => "invalid_request",
            ProxyError::Limited(r) if r.limit == Limit::Budget => "insufficient_quota",
            ProxyError::Limited(_) => "rate_limited",
            ProxyError::LimitsUnavailable => "limits_unavailable",
            ProxyError::BodyTooLarge { .. } => "request_too_large",
            ProxyError::BadBody => "bad_request",
            ProxyError::BodyTimeout => "request_timeout",
            ProxyError::Busy => "gateway_busy",
            ProxyError::NoCredential { .. } | ProxyError::ProviderUnavailable => {
                "no_healthy_credential"
            }
            ProxyError::UpstreamOverloaded { .. } => "upstream_overloaded",
            ProxyError::Send(e) if e.is_timeout() => "upstream_timeout",
            ProxyError::Send(_) | ProxyError::UpstreamFailed { .. } => "upstream_error",
            ProxyError::Internal => "internal_error",
        }
    }

    /// What the ledger records as `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProxyError::Send(e) => e.kind(),
            ProxyError::UpstreamFailed { .. } => "upstream_5xx",
            ProxyError::UpstreamOverloaded { .. } => "upstream_overloaded",
            ProxyError::NotFound => "not_found",
            ProxyError::MissingKey => "missing_key",
            ProxyError::InvalidKey => "invalid_key",
            ProxyError::KeyDisabled => "key_disabled",
            ProxyError::KeyMisconfigured => "key_misconfigured",
            ProxyError::KeyExpired => "key_expired",
            ProxyError::ModelNotAllowed { .. } => "model_not_allowed",
            ProxyError::UnknownModel { .. } => "unknown_model",
            ProxyError::Translate(providers::TranslateError::Unsupported { .. }) => {
                "unsupported_parameter"
            }
            ProxyError::Translate(_) => "untranslatable",
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
            ProxyError::BodyTimeout => "body_timeout",
            ProxyError::Busy => "gateway_busy",
            ProxyError::NoCredential { .. } => "no_credential",
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
            ProxyError::ModelNotAllowed { model: Some(m) } => {
                format!("This API key may not use model `{m}`.")
            }
            ProxyError::ModelNotAllowed { model: None } => {
                "This API key is limited to certain models and the request names none.".into()
            }
            ProxyError::UnknownModel { model, reachable } => format!(
                "The model `{model}` does not exist or is not available to this API key. {reachable}"
            ),
            ProxyError::Translate(e) => e.to_string(),
            ProxyError::Limited(r) => format!(
                "Limit reached for this API key: {} (`{}`). Retry after {} s.",
                r.limit.describe(),
                r.limit.name(),
                r.retry_after.as_secs_f64().ceil() as u64
            ),
            ProxyError::LimitsUnavailable => {
                "The gateway cannot check this key's limits right now.".into()
            }
            ProxyError::BodyTooLarge { limit } => {
                format!("Request body is larger than the gateway's limit of {limit} bytes.")
            }
            ProxyError::BadBody => "The request body could not be read.".into(),
            ProxyError::BodyTimeout => "The request body stopped arriving.".into(),
            ProxyError::Busy => {
                "The gateway is holding too many request bodies; retry shortly.".into()
            }
            ProxyError::NoCredential { .. } | ProxyError::ProviderUnavailable => {
                "No healthy provider credential is available for this key.".into()
            }
            ProxyError::Send(e) if e.is_timeout() => {
                "The upstream provider did not answer in time.".into()
            }
            ProxyError::Send(_) => "The upstream provider could not be reached.".into(),
            ProxyError::UpstreamFailed { status } => {
                format!("The upstream provider failed ({status}).")
            }
            ProxyError::UpstreamOverloaded { .. } => {
                "The upstream provider is overloaded; retry later.".into()
            }
            ProxyError::Internal => "Internal gateway error.".into(),
        }
    }

    /// `Retry-After` to send with this error, in whole seconds.
    pub fn retry_after_secs(&self) -> Option<u64> {
        let secs = |d: &Duration| (d.as_secs_f64().ceil() as u64).max(1);
        match self {
            ProxyError::Limited(r) => Some(secs(&r.retry_after)),
            ProxyError::NoCredential { retry_after }
            | ProxyError::UpstreamOverloaded { retry_after } => {
                Some(retry_after.as_ref().map_or(1, secs))
            }
            ProxyError::Busy => Some(1),
            _ => None,
        }
    }

    /// The body in the wire format of the API the client called.
    pub fn body(&self, format: ApiFormat) -> Bytes {
        if let ProxyError::Translate(e) = self {
            return Bytes::from(e.render(format).1);
        }
        Bytes::from(providers::error_body(
            format,
            self.status(),
            self.code(),
            &self.message(),
        ))
    }
}
