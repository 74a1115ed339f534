//! The one log line per proxied request (target `tollgate::request`), at `log.request_level`.
//! It names the client key by its name, never by its secret.

use crate::config::RequestLevel;
use crate::usage::LogRecord;

/// Writes the request's line with every field; `tracing` needs the level at compile time,
/// hence one arm per level.
macro_rules! request_event {
    ($level:expr, $r:expr, $provider:expr, $client_key:expr) => {
        tracing::event!(
            target: "tollgate::request",
            $level,
            request_id = %$r.request_id,
            client_key = $client_key.unwrap_or("-"),
            client_key_id = $r.client_key_id,
            provider = $provider,
            provider_key_id = $r.provider_key_id,
            method = %$r.method,
            path = %$r.path,
            model = $r.model.as_deref().unwrap_or("-"),
            status = $r.status,
            error_kind = $r.error_kind.as_deref().unwrap_or("-"),
            latency_ms = $r.latency_ms,
            ttfb_ms = $r.ttfb_ms,
            prompt_tokens = $r.prompt_tokens,
            completion_tokens = $r.completion_tokens,
            cache_write_tokens = $r.cache_write_tokens,
            cache_read_tokens = $r.cache_read_tokens,
            total_tokens = $r.total_tokens(),
            cost_nanos = $r.cost_nanos,
            attempts = $r.attempts.len(),
            stream = $r.stream,
            partial = $r.partial,
            "request"
        )
    };
}

pub(super) fn emit(level: RequestLevel, r: &LogRecord, provider: &str, client_key: Option<&str>) {
    use tracing::Level;
    match level {
        RequestLevel::Off => {}
        RequestLevel::Error => request_event!(Level::ERROR, r, provider, client_key),
        RequestLevel::Warn => request_event!(Level::WARN, r, provider, client_key),
        RequestLevel::Info => request_event!(Level::INFO, r, provider, client_key),
        RequestLevel::Debug => request_event!(Level::DEBUG, r, provider, client_key),
        RequestLevel::Trace => request_event!(Level::TRACE, r, provider, client_key),
    }
}
