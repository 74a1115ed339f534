//! Why a proxied request failed: one enum, one mapping to status, code and message.

use crate::providers::{self, ApiFormat};
use bytes::Bytes;

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
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge { limit: u64 },
    #[error("could not read the request body")]
    BadBody,
    #[error("no usable provider credential")]
    NoCredential,
    #[error("provider unavailable")]
    ProviderUnavailable,
    #[error("upstream failure ({kind})")]
    Upstream { kind: &'static str },
    #[error("upstream timeout ({kind})")]
    UpstreamTimeout { kind: &'static str },
    #[error("upstream rejected the provider credential")]
    UpstreamAuth,
    #[error("internal error")]
    Internal,
}

impl ProxyError {
    pub fn status(&self) -> u16 {
        match self {
            ProxyError::NotFound => 404,
            ProxyError::MissingKey | ProxyError::InvalidKey => 401,
            ProxyError::KeyDisabled => 403,
            ProxyError::BodyTooLarge { .. } => 413,
            ProxyError::BadBody => 400,
            ProxyError::NoCredential | ProxyError::ProviderUnavailable => 503,
            ProxyError::Upstream { .. } | ProxyError::UpstreamAuth => 502,
            ProxyError::UpstreamTimeout { .. } => 504,
            ProxyError::Internal => 500,
        }
    }

    /// Tollgate's stable machine code, shown to clients.
    pub fn code(&self) -> &'static str {
        match self {
            ProxyError::NotFound => "not_found",
            ProxyError::MissingKey | ProxyError::InvalidKey => "invalid_api_key",
            ProxyError::KeyDisabled => "forbidden",
            ProxyError::BodyTooLarge { .. } => "request_too_large",
            ProxyError::BadBody => "bad_request",
            ProxyError::NoCredential | ProxyError::ProviderUnavailable => "no_healthy_credential",
            ProxyError::Upstream { .. } | ProxyError::UpstreamAuth => "upstream_error",
            ProxyError::UpstreamTimeout { .. } => "upstream_timeout",
            ProxyError::Internal => "internal_error",
        }
    }

    /// What the ledger records as `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProxyError::Upstream { kind } | ProxyError::UpstreamTimeout { kind } => kind,
            ProxyError::UpstreamAuth => "upstream_auth",
            ProxyError::NotFound => "not_found",
            ProxyError::MissingKey => "missing_key",
            ProxyError::InvalidKey => "invalid_key",
            ProxyError::KeyDisabled => "key_disabled",
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
            ProxyError::BodyTooLarge { limit } => {
                format!("Request body is larger than the gateway's limit of {limit} bytes.")
            }
            ProxyError::BadBody => "The request body could not be read.".into(),
            ProxyError::NoCredential | ProxyError::ProviderUnavailable => {
                "No healthy provider credential is available for this key.".into()
            }
            ProxyError::Upstream { .. } => "The upstream provider could not be reached.".into(),
            ProxyError::UpstreamAuth => {
                "The upstream provider rejected the gateway's credential.".into()
            }
            ProxyError::UpstreamTimeout { .. } => {
                "The upstream provider did not answer in time.".into()
            }
            ProxyError::Internal => "Internal gateway error.".into(),
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
