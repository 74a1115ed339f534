//! Which headers cross the gateway, as allowlists per API format: the request headers a
//! provider may see of the caller's request, and the response headers the caller may see of the
//! provider's answer. Everything else stays behind: the caller's identity, SDK fingerprints,
//! tracing headers, and anything that names the gateway's provider account.

use super::ApiFormat;

/// Request headers every format forwards: what the body is and what the caller accepts.
const REQUEST_COMMON: [&str; 3] = ["content-type", "accept", "idempotency-key"];

/// Request headers one format forwards: the provider's own version and feature switches.
fn request_format(format: ApiFormat) -> &'static [&'static str] {
    match format {
        ApiFormat::OpenAi => &["openai-beta"],
        ApiFormat::Anthropic => &["anthropic-version", "anthropic-beta"],
        ApiFormat::Gemini => &[],
    }
}

/// Header names a provider's `forward_headers` may never add: credentials, the caller's
/// address and identity, hop-by-hop framing, and the gateway's account headers.
pub fn may_configure(name: &str) -> bool {
    const NEVER: [&str; 23] = [
        "host",
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "forwarded",
        "via",
        "x-real-ip",
        "true-client-ip",
        "x-client-ip",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
        "openai-organization",
        "openai-project",
        "user-agent",
    ];
    const NEVER_PREFIXES: [&str; 4] = ["x-forwarded-", "cf-", "proxy-", "x-envoy-"];
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid && !NEVER.contains(&name) && !NEVER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether a caller's request header (lower-case name) reaches a provider of `format`, given the
/// provider's own extra names.
pub fn forward_request_header(format: ApiFormat, name: &str, extra: &[String]) -> bool {
    REQUEST_COMMON.contains(&name)
        || request_format(format).contains(&name)
        || extra.iter().any(|e| e == name)
}

/// What a provider's response header becomes for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseHeader {
    /// Passed on as is.
    Keep,
    /// The provider's request id, passed on as `x-upstream-request-id` (for support tickets).
    UpstreamRequestId,
    /// Not shown to the caller.
    Drop,
}

/// The response-header allowlist: what describes the answer, never the account that served it
/// (organisation, project, the account's rate-limit windows) or the hop.
pub fn response_header(name: &str) -> ResponseHeader {
    match name {
        "content-type"
        | "content-length"
        | "cache-control"
        | "content-disposition"
        | "retry-after"
        | "openai-processing-ms"
        | "openai-version" => ResponseHeader::Keep,
        "x-request-id" | "request-id" => ResponseHeader::UpstreamRequestId,
        _ => ResponseHeader::Drop,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn caller_identifying_headers_never_pass() {
        for h in [
            "user-agent",
            "x-stainless-os",
            "x-stainless-arch",
            "x-stainless-runtime-version",
            "x-stainless-lang",
            "x-stainless-package-version",
            "x-stainless-retry-count",
            "traceparent",
            "tracestate",
            "x-amzn-trace-id",
            "x-envoy-external-address",
            "fly-client-ip",
            "origin",
            "referer",
            "x-forwarded-for",
            "forwarded",
            "cookie",
            "authorization",
            "x-api-key",
            "x-goog-api-key",
            "x-goog-api-client",
            "openai-organization",
            "openai-project",
            "x-real-ip",
            "cf-connecting-ip",
            "sec-ch-ua",
        ] {
            for f in ApiFormat::ALL {
                assert!(!forward_request_header(f, h, &[]), "{h} {f:?}");
            }
        }
    }

    #[test]
    fn each_format_keeps_its_own_headers() {
        assert!(forward_request_header(
            ApiFormat::Anthropic,
            "anthropic-version",
            &[]
        ));
        assert!(forward_request_header(
            ApiFormat::Anthropic,
            "anthropic-beta",
            &[]
        ));
        assert!(!forward_request_header(
            ApiFormat::OpenAi,
            "anthropic-version",
            &[]
        ));
        assert!(forward_request_header(
            ApiFormat::OpenAi,
            "openai-beta",
            &[]
        ));
        for f in ApiFormat::ALL {
            assert!(forward_request_header(f, "content-type", &[]));
        }
        assert!(forward_request_header(
            ApiFormat::OpenAi,
            "x-portkey-thing",
            &["x-portkey-thing".to_string()]
        ));
    }

    #[test]
    fn configurable_names_exclude_identity_and_credentials() {
        for ok in ["helicone-cache-enabled", "x-custom", "api-version"] {
            assert!(may_configure(ok), "{ok}");
        }
        for bad in [
            "authorization",
            "x-forwarded-for",
            "cookie",
            "Host",
            "x envoy",
            "",
            "user-agent",
            "cf-ray",
            "x-envoy-external-address",
        ] {
            assert!(!may_configure(bad), "{bad}");
        }
    }

    #[test]
    fn responses_show_the_answer_not_the_account() {
        for h in [
            "openai-organization",
            "openai-project",
            "anthropic-organization-id",
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-tokens",
            "anthropic-ratelimit-requests-remaining",
            "set-cookie",
            "server",
            "cf-ray",
            "alt-svc",
            "x-goog-api-client",
            "connection",
            "via",
        ] {
            assert_eq!(response_header(h), ResponseHeader::Drop, "{h}");
        }
        assert_eq!(response_header("content-type"), ResponseHeader::Keep);
        assert_eq!(
            response_header("request-id"),
            ResponseHeader::UpstreamRequestId
        );
    }
}
