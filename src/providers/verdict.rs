//! Provider verdicts: what an upstream answer says about the request and the credential that
//! carried it, read from the provider's own status, error body and headers. Pure: the caller
//! passes the time for headers that carry a reset timestamp.
//!
//! Only a provider's explicit codes make a credential invalid (OpenAI `invalid_api_key`,
//! Anthropic `authentication_error`, Gemini `API_KEY_INVALID`, which arrives as a 400); a
//! request for a model the account may not use is the caller's fault, never the credential's.

use super::ApiFormat;
use serde_json::Value;
use std::time::Duration;

/// The class of an upstream answer, which decides retry, health and what the client sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VerdictClass {
    /// 1xx–3xx, and 2xx above all: relay to the client.
    Success,
    /// The request itself is at fault (bad request, unknown model, no permission for a model,
    /// body too large): relay the provider's answer at once, retry nothing, penalise no one.
    CallerFault,
    /// The provider says the credential is not valid: take it out of rotation.
    CredentialInvalid,
    /// The credential's account is out of quota or credit: a long cool-down.
    CredentialQuota,
    /// The credential is rate limited: cool down until the reset the provider gave.
    RateLimited,
    /// The provider is overloaded (529, `overloaded_error`, `UNAVAILABLE`): try elsewhere.
    Overloaded,
    /// A server error, or a credential failure the provider did not state explicitly.
    ServerError,
}

/// What an upstream answer says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub class: VerdictClass,
    /// The provider's own machine code or type (`invalid_api_key`, `rate_limit_error`,
    /// `API_KEY_INVALID`, …), safe to record: never the provider's free-text message, which
    /// may quote part of the credential.
    pub code: Option<String>,
    /// When the credential may be used again, from the provider's headers or body.
    pub retry_after: Option<Duration>,
}

impl VerdictClass {
    /// Another credential may succeed where this one did not.
    pub fn try_another_credential(self) -> bool {
        matches!(
            self,
            VerdictClass::CredentialInvalid
                | VerdictClass::CredentialQuota
                | VerdictClass::RateLimited
                | VerdictClass::Overloaded
                | VerdictClass::ServerError
        )
    }

    /// A refusal that is about this one credential (it says nothing about the provider or the
    /// request), so trying the next credential does not use up the request's retry budget.
    pub fn is_definitive_credential_refusal(self) -> bool {
        matches!(
            self,
            VerdictClass::CredentialInvalid
                | VerdictClass::CredentialQuota
                | VerdictClass::RateLimited
        )
    }

    /// A stable name for ledgers and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictClass::Success => "success",
            VerdictClass::CallerFault => "caller_fault",
            VerdictClass::CredentialInvalid => "credential_invalid",
            VerdictClass::CredentialQuota => "credential_quota",
            VerdictClass::RateLimited => "rate_limited",
            VerdictClass::Overloaded => "overloaded",
            VerdictClass::ServerError => "server_error",
        }
    }
}

/// Most bytes of an error body worth reading to classify it.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// Classifies an upstream answer. `body` is the (possibly truncated) error body; it is not
/// needed for 2xx. `now_ms` is the current Unix time in milliseconds, for reset timestamps.
pub fn verdict(
    format: ApiFormat,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
    now_ms: u64,
) -> Verdict {
    if status < 400 {
        return Verdict {
            class: VerdictClass::Success,
            code: None,
            retry_after: None,
        };
    }
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let (class, code) = match format {
        ApiFormat::OpenAi => openai_class(status, parsed.as_ref()),
        ApiFormat::Anthropic => anthropic_class(status, parsed.as_ref()),
        ApiFormat::Gemini => gemini_class(status, parsed.as_ref()),
    };
    let retry_after = match class {
        VerdictClass::RateLimited | VerdictClass::Overloaded | VerdictClass::CredentialQuota => {
            retry_after(format, headers, parsed.as_ref(), now_ms)
        }
        _ => None,
    };
    Verdict {
        class,
        code: code.map(sanitize_code),
        retry_after,
    }
}

/// Keeps a provider code printable and short.
fn sanitize_code(code: String) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        .take(64)
        .collect()
}

fn str_at<'a>(v: Option<&'a Value>, path: &[&str]) -> Option<&'a str> {
    let mut cur = v?;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// Status-only fallback shared by the three formats when the body says nothing more.
fn by_status(status: u16) -> VerdictClass {
    match status {
        // Without the provider's explicit code a 401 is not proof that the credential is
        // invalid (a misconfigured proxy in front of the provider answers 401 too).
        401 => VerdictClass::ServerError,
        408 | 409 | 425 | 500..=502 | 504..=528 | 530..=599 => VerdictClass::ServerError,
        503 | 529 => VerdictClass::Overloaded,
        429 => VerdictClass::RateLimited,
        _ => VerdictClass::CallerFault,
    }
}

/// OpenAI: `{"error":{"message","type","param","code"}}`.
fn openai_class(status: u16, body: Option<&Value>) -> (VerdictClass, Option<String>) {
    let code = str_at(body, &["error", "code"]);
    let kind = str_at(body, &["error", "type"]);
    let named = code.or(kind).map(str::to_string);
    let class = match (status, code, kind) {
        (_, Some("insufficient_quota"), _) | (_, _, Some("insufficient_quota")) => {
            VerdictClass::CredentialQuota
        }
        (_, Some("billing_hard_limit_reached" | "billing_not_active"), _) => {
            VerdictClass::CredentialQuota
        }
        (
            401,
            Some(
                "invalid_api_key"
                | "account_deactivated"
                | "invalid_organization"
                | "no_organization"
                | "organization_deactivated"
                | "api_key_revoked",
            ),
            _,
        ) => VerdictClass::CredentialInvalid,
        // OpenAI-compatible servers (DeepSeek, vLLM, …) use the type for this.
        (401, _, Some("authentication_error" | "invalid_api_key")) => {
            VerdictClass::CredentialInvalid
        }
        (429, _, _) => VerdictClass::RateLimited,
        (503, _, _) => VerdictClass::Overloaded,
        _ => by_status(status),
    };
    (class, named)
}

/// Anthropic: `{"type":"error","error":{"type","message"}}`.
fn anthropic_class(status: u16, body: Option<&Value>) -> (VerdictClass, Option<String>) {
    let kind = str_at(body, &["error", "type"]);
    let detail = str_at(body, &["error", "details", "error_code"]);
    let message = str_at(body, &["error", "message"]).unwrap_or("");
    let class = match kind {
        Some("authentication_error") => VerdictClass::CredentialInvalid,
        Some("billing_error") => VerdictClass::CredentialQuota,
        // A monthly spend limit arrives as a 429 whose retry never helps.
        Some("rate_limit_error") if detail == Some("enforced_spend_limit_reached") => {
            VerdictClass::CredentialQuota
        }
        Some("rate_limit_error") => VerdictClass::RateLimited,
        Some("overloaded_error") => VerdictClass::Overloaded,
        Some("api_error" | "timeout_error") => VerdictClass::ServerError,
        // Credit exhaustion and workspace spend limits are 400 invalid_request_error.
        Some("invalid_request_error")
            if message.contains("credit balance is too low")
                || message.contains("reached your specified API usage limits") =>
        {
            VerdictClass::CredentialQuota
        }
        Some(
            "invalid_request_error" | "permission_error" | "not_found_error" | "request_too_large",
        ) => VerdictClass::CallerFault,
        _ => by_status(status),
    };
    let named = match (kind, detail) {
        (Some(k), Some(d)) => Some(format!("{k}:{d}")),
        (Some(k), None) => Some(k.to_string()),
        _ => None,
    };
    (class, named)
}

/// Reasons in a Google `ErrorInfo` that are about the credential, not the request.
const GEMINI_CREDENTIAL_REASONS: [&str; 6] = [
    "API_KEY_INVALID",
    "API_KEY_EXPIRED",
    "API_KEY_SERVICE_BLOCKED",
    "API_KEY_HTTP_REFERRER_BLOCKED",
    "SERVICE_DISABLED",
    "CONSUMER_SUSPENDED",
];

fn gemini_details(body: Option<&Value>) -> impl Iterator<Item = &Value> {
    body.and_then(|b| b.get("error"))
        .and_then(|e| e.get("details"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Gemini (Google RPC): `{"error":{"code","message","status","details":[…]}}`.
fn gemini_class(status: u16, body: Option<&Value>) -> (VerdictClass, Option<String>) {
    let rpc = str_at(body, &["error", "status"]);
    let reason = gemini_details(body).find_map(|d| d.get("reason").and_then(Value::as_str));
    let class = match (rpc, reason) {
        (_, Some(r)) if GEMINI_CREDENTIAL_REASONS.contains(&r) => VerdictClass::CredentialInvalid,
        (Some("UNAUTHENTICATED"), _) => VerdictClass::CredentialInvalid,
        // "User location is not supported", billing not enabled: the account cannot serve.
        (Some("FAILED_PRECONDITION"), _) => VerdictClass::CredentialQuota,
        (Some("RESOURCE_EXHAUSTED"), _) => VerdictClass::RateLimited,
        (Some("UNAVAILABLE"), _) => VerdictClass::Overloaded,
        (Some("INTERNAL" | "DEADLINE_EXCEEDED" | "ABORTED" | "UNKNOWN"), _) => {
            VerdictClass::ServerError
        }
        (Some("INVALID_ARGUMENT" | "NOT_FOUND" | "PERMISSION_DENIED" | "OUT_OF_RANGE"), _) => {
            VerdictClass::CallerFault
        }
        _ => by_status(status),
    };
    let named = match (rpc, reason) {
        (_, Some(r)) => Some(r.to_string()),
        (Some(s), None) => Some(s.to_string()),
        _ => None,
    };
    (class, named)
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// When the credential may be tried again: `Retry-After` first, then the provider's own reset
/// headers (or, for Gemini, the `RetryInfo` in the body).
fn retry_after(
    format: ApiFormat,
    headers: &http::HeaderMap,
    body: Option<&Value>,
    now_ms: u64,
) -> Option<Duration> {
    if let Some(d) = header(headers, "retry-after").and_then(|v| parse_retry_after(v, now_ms)) {
        return Some(d);
    }
    match format {
        ApiFormat::OpenAi => {
            // The window that ran out; failing that, the sooner of the two.
            let pairs = [
                (
                    "x-ratelimit-remaining-requests",
                    "x-ratelimit-reset-requests",
                ),
                ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
            ];
            exhausted_reset(headers, &pairs, parse_go_duration)
        }
        ApiFormat::Anthropic => {
            let pairs = [
                (
                    "anthropic-ratelimit-requests-remaining",
                    "anthropic-ratelimit-requests-reset",
                ),
                (
                    "anthropic-ratelimit-tokens-remaining",
                    "anthropic-ratelimit-tokens-reset",
                ),
                (
                    "anthropic-ratelimit-input-tokens-remaining",
                    "anthropic-ratelimit-input-tokens-reset",
                ),
                (
                    "anthropic-ratelimit-output-tokens-remaining",
                    "anthropic-ratelimit-output-tokens-reset",
                ),
            ];
            exhausted_reset(headers, &pairs, |v| until_rfc3339(v, now_ms))
        }
        ApiFormat::Gemini => gemini_details(body)
            .filter(|d| {
                d.get("@type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
            })
            .find_map(|d| d.get("retryDelay").and_then(Value::as_str))
            .and_then(parse_go_duration),
    }
}

/// Among (remaining, reset) header pairs: the latest reset of the windows at zero, else the
/// soonest reset given.
fn exhausted_reset(
    headers: &http::HeaderMap,
    pairs: &[(&str, &str)],
    parse: impl Fn(&str) -> Option<Duration>,
) -> Option<Duration> {
    let mut exhausted: Option<Duration> = None;
    let mut soonest: Option<Duration> = None;
    for (remaining, reset) in pairs {
        let Some(d) = header(headers, reset).and_then(&parse) else {
            continue;
        };
        soonest = Some(soonest.map_or(d, |s| s.min(d)));
        if header(headers, remaining) == Some("0") {
            exhausted = Some(exhausted.map_or(d, |e| e.max(d)));
        }
    }
    exhausted.or(soonest)
}

/// `Retry-After`: seconds (integer or decimal) or an HTTP date.
pub fn parse_retry_after(v: &str, now_ms: u64) -> Option<Duration> {
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    until_ms(at.timestamp_millis(), now_ms)
}

fn until_rfc3339(v: &str, now_ms: u64) -> Option<Duration> {
    let at = chrono::DateTime::parse_from_rfc3339(v).ok()?;
    until_ms(at.timestamp_millis(), now_ms)
}

fn until_ms(at_ms: i64, now_ms: u64) -> Option<Duration> {
    let at = u64::try_from(at_ms).ok()?;
    Some(Duration::from_millis(
        at.saturating_sub(now_ms).min(86_400_000),
    ))
}

/// Durations as OpenAI and Google write them: `1s`, `6m0s`, `1h2m3.5s`, `20ms`, `36s`.
pub fn parse_go_duration(v: &str) -> Option<Duration> {
    let mut rest = v.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    (total.is_finite() && total >= 0.0).then(|| Duration::from_secs_f64(total.min(86_400.0)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use VerdictClass::*;

    const NOW: u64 = 1_760_000_000_000;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn class(format: ApiFormat, status: u16, body: &str) -> (VerdictClass, Option<String>) {
        let v = verdict(
            format,
            status,
            &http::HeaderMap::new(),
            body.as_bytes(),
            NOW,
        );
        (v.class, v.code)
    }

    /// Error bodies as the providers document them.
    #[test]
    fn openai_documented_errors() {
        let cases: &[(u16, &str, VerdictClass, Option<&str>)] = &[
            (
                401,
                r#"{"error":{"message":"Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                CredentialInvalid,
                Some("invalid_api_key"),
            ),
            (
                401,
                r#"{"error":{"message":"You must be a member of an organization to use the API.","type":"invalid_request_error","param":null,"code":"no_organization"}}"#,
                CredentialInvalid,
                Some("no_organization"),
            ),
            (
                404,
                r#"{"error":{"message":"The model `gpt-5-pro` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
                CallerFault,
                Some("model_not_found"),
            ),
            (
                403,
                r#"{"error":{"message":"You are not allowed to sample from this model","type":"invalid_request_error","param":null,"code":null}}"#,
                CallerFault,
                Some("invalid_request_error"),
            ),
            (
                403,
                r#"{"error":{"code":"unsupported_country_region_territory","message":"Country, region, or territory not supported","param":null,"type":"request_forbidden"}}"#,
                CallerFault,
                Some("unsupported_country_region_territory"),
            ),
            (
                400,
                r#"{"error":{"message":"'messages' is a required property","type":"invalid_request_error","param":null,"code":null}}"#,
                CallerFault,
                Some("invalid_request_error"),
            ),
            (
                429,
                r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
                CredentialQuota,
                Some("insufficient_quota"),
            ),
            (
                429,
                r#"{"error":{"message":"Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
                RateLimited,
                Some("rate_limit_exceeded"),
            ),
            (
                500,
                r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#,
                ServerError,
                Some("server_error"),
            ),
            (
                503,
                r#"{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}"#,
                Overloaded,
                Some("server_error"),
            ),
            // DeepSeek (OpenAI-compatible).
            (
                401,
                r#"{"error":{"message":"Authentication Fails (no such user)","type":"authentication_error","param":null,"code":"invalid_request_error"}}"#,
                CredentialInvalid,
                Some("invalid_request_error"),
            ),
            // A 401 that does not say why: not proof that the credential is bad.
            (401, "<html>Unauthorized</html>", ServerError, None),
        ];
        for (status, body, want, code) in cases {
            let (got, got_code) = class(ApiFormat::OpenAi, *status, body);
            assert_eq!(got, *want, "{status} {body}");
            assert_eq!(got_code.as_deref(), *code, "{status} {body}");
        }
    }

    #[test]
    fn anthropic_documented_errors() {
        let body = |t: &str, m: &str| {
            format!(
                r#"{{"type":"error","error":{{"type":"{t}","message":"{m}"}},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}}"#
            )
        };
        let cases: Vec<(u16, String, VerdictClass)> = vec![
            (400, body("invalid_request_error", "messages: field required"), CallerFault),
            (
                400,
                body(
                    "invalid_request_error",
                    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
                ),
                CredentialQuota,
            ),
            (
                400,
                body(
                    "invalid_request_error",
                    "You have reached your specified API usage limits. You will regain access on 2026-01-01 at 00:00 UTC.",
                ),
                CredentialQuota,
            ),
            (401, body("authentication_error", "invalid x-api-key"), CredentialInvalid),
            (402, body("billing_error", "Payment required"), CredentialQuota),
            (
                403,
                body("permission_error", "Your API key does not have permission to use the specified resource."),
                CallerFault,
            ),
            (404, body("not_found_error", "model: claude-opus-9"), CallerFault),
            (413, body("request_too_large", "Request exceeds the maximum allowed number of bytes."), CallerFault),
            (429, body("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"), RateLimited),
            (500, body("api_error", "Internal server error"), ServerError),
            (504, body("timeout_error", "Request timed out"), ServerError),
            (529, body("overloaded_error", "Overloaded"), Overloaded),
            (
                429,
                r#"{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your monthly spend limit.","details":{"error_code":"enforced_spend_limit_reached"}}}"#.to_string(),
                CredentialQuota,
            ),
        ];
        for (status, body, want) in cases {
            assert_eq!(
                class(ApiFormat::Anthropic, status, &body).0,
                want,
                "{status} {body}"
            );
        }
        assert_eq!(
            class(
                ApiFormat::Anthropic,
                401,
                &body("authentication_error", "x")
            )
            .1
            .as_deref(),
            Some("authentication_error")
        );
    }

    #[test]
    fn gemini_documented_errors() {
        let key_invalid = r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}},{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}]}}"#;
        let cases: &[(u16, &str, VerdictClass, Option<&str>)] = &[
            (400, key_invalid, CredentialInvalid, Some("API_KEY_INVALID")),
            (
                400,
                r#"{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"foo\": Cannot find field.","status":"INVALID_ARGUMENT"}}"#,
                CallerFault,
                Some("INVALID_ARGUMENT"),
            ),
            (
                400,
                r#"{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}"#,
                CredentialQuota,
                Some("FAILED_PRECONDITION"),
            ),
            (
                403,
                r#"{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}"#,
                CallerFault,
                Some("PERMISSION_DENIED"),
            ),
            (
                403,
                r#"{"error":{"code":403,"message":"Generative Language API has not been used in project 123 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com"}]}}"#,
                CredentialInvalid,
                Some("SERVICE_DISABLED"),
            ),
            (
                404,
                r#"{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}"#,
                CallerFault,
                Some("NOT_FOUND"),
            ),
            (
                429,
                r#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED"}}"#,
                RateLimited,
                Some("RESOURCE_EXHAUSTED"),
            ),
            (
                500,
                r#"{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}"#,
                ServerError,
                Some("INTERNAL"),
            ),
            (
                503,
                r#"{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}"#,
                Overloaded,
                Some("UNAVAILABLE"),
            ),
        ];
        for (status, body, want, code) in cases {
            let (got, got_code) = class(ApiFormat::Gemini, *status, body);
            assert_eq!(got, *want, "{status} {body}");
            assert_eq!(got_code.as_deref(), *code, "{status} {body}");
        }
    }

    #[test]
    fn success_and_garbage() {
        for format in ApiFormat::ALL {
            assert_eq!(class(format, 200, "").0, Success);
            assert_eq!(class(format, 204, "x").0, Success);
            assert_eq!(class(format, 400, "not json").0, CallerFault);
            assert_eq!(class(format, 404, "").0, CallerFault);
            assert_eq!(class(format, 429, "").0, RateLimited);
            assert_eq!(class(format, 500, "<html>").0, ServerError);
            assert_eq!(class(format, 502, "").0, ServerError);
            assert_eq!(class(format, 503, "").0, Overloaded);
            assert_eq!(class(format, 529, "").0, Overloaded);
            assert_eq!(class(format, 401, "").0, ServerError);
            assert_eq!(class(format, 403, "{}").0, CallerFault);
        }
    }

    #[test]
    fn codes_are_sanitized() {
        let (_, code) = class(
            ApiFormat::OpenAi,
            400,
            r#"{"error":{"code":"bad\nthing<script> sk-live-abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz","type":"x"}}"#,
        );
        let code = code.unwrap();
        assert!(code.len() <= 64);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
        );
    }

    #[test]
    fn retry_after_sources() {
        let rl = |format, h: &[(&str, &str)], body: &str| {
            verdict(format, 429, &headers(h), body.as_bytes(), NOW).retry_after
        };
        assert_eq!(
            rl(ApiFormat::OpenAi, &[("retry-after", "7")], "{}"),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            rl(ApiFormat::OpenAi, &[("retry-after", "1.5")], "{}"),
            Some(Duration::from_millis(1500))
        );
        // The tokens window ran out: its reset counts, not the sooner requests reset.
        assert_eq!(
            rl(
                ApiFormat::OpenAi,
                &[
                    ("x-ratelimit-remaining-requests", "59"),
                    ("x-ratelimit-reset-requests", "1s"),
                    ("x-ratelimit-remaining-tokens", "0"),
                    ("x-ratelimit-reset-tokens", "6m0s"),
                ],
                "{}"
            ),
            Some(Duration::from_secs(360))
        );
        assert_eq!(
            rl(
                ApiFormat::OpenAi,
                &[
                    ("x-ratelimit-reset-requests", "120ms"),
                    ("x-ratelimit-reset-tokens", "2s")
                ],
                "{}"
            ),
            Some(Duration::from_millis(120))
        );
        let reset = chrono::DateTime::from_timestamp_millis(NOW as i64 + 42_000)
            .unwrap()
            .to_rfc3339();
        assert_eq!(
            rl(
                ApiFormat::Anthropic,
                &[
                    ("anthropic-ratelimit-requests-remaining", "0"),
                    ("anthropic-ratelimit-requests-reset", &reset)
                ],
                "{}"
            ),
            Some(Duration::from_secs(42))
        );
        let gemini = r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36s"}]}}"#;
        assert_eq!(
            rl(ApiFormat::Gemini, &[], gemini),
            Some(Duration::from_secs(36))
        );
        assert_eq!(rl(ApiFormat::Gemini, &[], "{}"), None);
        // HTTP-date form.
        let date = chrono::DateTime::from_timestamp_millis(NOW as i64 + 10_000)
            .unwrap()
            .to_rfc2822();
        assert_eq!(
            rl(ApiFormat::Anthropic, &[("retry-after", &date)], "{}"),
            Some(Duration::from_secs(10))
        );
        // Not looked at for the caller's faults.
        assert_eq!(
            verdict(
                ApiFormat::OpenAi,
                400,
                &headers(&[("retry-after", "5")]),
                b"{}",
                NOW
            )
            .retry_after,
            None
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(
            parse_go_duration("1h2m3.5s"),
            Some(Duration::from_millis(3_723_500))
        );
        assert_eq!(parse_go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("5x"), None);
        assert_eq!(parse_go_duration("s"), None);
        assert_eq!(parse_go_duration("1e400s"), None);
        assert_eq!(
            parse_go_duration("99999999h"),
            Some(Duration::from_secs(86_400))
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let bodies = [
            "",
            "null",
            "[]",
            "{\"error\":5}",
            "{\"error\":{\"details\":7}}",
            "{\"error\":{\"details\":[1,null,{\"reason\":5}]}}",
            "{\"error\":{\"type\":[],\"code\":{}}}",
        ];
        for format in ApiFormat::ALL {
            for status in [0u16, 399, 400, 401, 403, 429, 499, 500, 529, 600, 999] {
                for b in bodies {
                    let _ = verdict(format, status, &http::HeaderMap::new(), b.as_bytes(), NOW);
                }
            }
        }
    }

    #[test]
    fn classes_decide_retries() {
        for c in [CredentialInvalid, CredentialQuota, RateLimited] {
            assert!(c.try_another_credential() && c.is_definitive_credential_refusal());
        }
        for c in [Overloaded, ServerError] {
            assert!(c.try_another_credential() && !c.is_definitive_credential_refusal());
        }
        for c in [Success, CallerFault] {
            assert!(!c.try_another_credential() && !c.is_definitive_credential_refusal());
        }
    }
}
