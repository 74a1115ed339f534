//! Reading the caller's request: where its key is, and what of it may reach the upstream.

use crate::providers::headers;
use crate::snapshot::ProviderEntry;
use pingora::http::RequestHeader;

/// The client key, found wherever the caller's SDK puts its key.
pub fn client_key(req: &RequestHeader) -> Option<String> {
    let header = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(auth) = header("authorization") {
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .unwrap_or(auth)
            .trim();
        if !token.is_empty() {
            return Some(token.to_string());
        }
    }
    if let Some(v) = header("x-api-key")
        .or_else(|| header("x-goog-api-key"))
        .or_else(|| header("api-key"))
    {
        return Some(v.to_string());
    }
    query_param(req.uri.query(), "key")
}

/// The caller's `x-request-id`, when it is 1 to 128 visible ASCII characters; otherwise the
/// request keeps its generated id.
pub fn incoming_request_id(req: &RequestHeader) -> Option<String> {
    let id = req.headers.get("x-request-id")?.to_str().ok()?.trim();
    let usable = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic());
    usable.then(|| id.to_string())
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(k) == name {
            Some(decode(v)).filter(|v| !v.is_empty())
        } else {
            None
        }
    })
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The query without any `key` parameter (the caller's key never travels upstream).
pub fn upstream_query(query: Option<&str>) -> Option<String> {
    let kept: Vec<&str> = query?
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| decode(pair.split_once('=').map_or(*pair, |(k, _)| k)) != "key")
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

/// What the gateway calls itself upstream: the caller's SDK and runtime stay private.
pub const USER_AGENT: &str = concat!("tollgate/", env!("CARGO_PKG_VERSION"));

/// Where a request in the provider's own format goes: the provider's path for `path` (the
/// caller's, or the caller's with another model in it) and the caller's query without `key`.
pub fn upstream_target(
    req: &RequestHeader,
    provider: &ProviderEntry,
    path: &str,
    model: Option<&str>,
) -> String {
    let mut target = provider.upstream_path(path, model);
    if let Some(q) = upstream_query(req.uri.query()) {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(&q);
    }
    target
}

/// The request the upstream receives: the caller's method, `target` (see [`upstream_target`])
/// and only the headers its API format allows (plus the provider's own extras), with the
/// provider credential in the provider's own place and Tollgate's own `User-Agent`.
pub fn upstream_header(
    req: &RequestHeader,
    provider: &ProviderEntry,
    target: &str,
    credential: &str,
    body_len: usize,
) -> Result<RequestHeader, pingora::Error> {
    let mut out =
        RequestHeader::build(req.method.clone(), target.as_bytes(), Some(8)).map_err(|e| *e)?;
    for (name, value) in req.headers.iter() {
        if headers::forward_request_header(
            provider.format,
            name.as_str(),
            &provider.forward_headers,
        ) {
            out.append_header(name.clone(), value.clone())
                .map_err(|e| *e)?;
        }
    }
    finish_header(&mut out, provider, credential)?;
    if body_len > 0 || req.method == http::Method::POST || req.method == http::Method::PUT {
        out.insert_header(http::header::CONTENT_LENGTH, body_len.to_string())
            .map_err(|e| *e)?;
    }
    Ok(out)
}

/// The request a translated call sends: `POST` of a JSON body to `target` (the provider's
/// path for the translated path), with the provider's version header where its API needs one,
/// the provider's configured extra headers from the caller, and nothing else of the caller.
pub fn translated_header(
    req: &RequestHeader,
    provider: &ProviderEntry,
    target: &str,
    credential: &str,
    body_len: usize,
) -> Result<RequestHeader, pingora::Error> {
    let mut out =
        RequestHeader::build(http::Method::POST, target.as_bytes(), Some(8)).map_err(|e| *e)?;
    for (name, value) in req.headers.iter() {
        if provider.forward_headers.iter().any(|h| h == name.as_str()) {
            out.append_header(name.clone(), value.clone())
                .map_err(|e| *e)?;
        }
    }
    out.insert_header(http::header::CONTENT_TYPE, "application/json")
        .map_err(|e| *e)?;
    if provider.format == crate::providers::ApiFormat::Anthropic {
        out.insert_header("anthropic-version", ANTHROPIC_VERSION)
            .map_err(|e| *e)?;
    }
    finish_header(&mut out, provider, credential)?;
    out.insert_header(http::header::CONTENT_LENGTH, body_len.to_string())
        .map_err(|e| *e)?;
    Ok(out)
}

/// The Anthropic API version translated requests ask for.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Host, Tollgate's `User-Agent` and the provider credential.
fn finish_header(
    out: &mut RequestHeader,
    provider: &ProviderEntry,
    credential: &str,
) -> Result<(), pingora::Error> {
    out.insert_header(http::header::HOST, provider.upstream.host_header.as_str())
        .map_err(|e| *e)?;
    out.insert_header(http::header::USER_AGENT, USER_AGENT)
        .map_err(|e| *e)?;
    crate::upstream::set_credential(out, provider.auth, credential).map_err(|e| *e)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn req(uri: &str, headers: &[(&str, &str)]) -> RequestHeader {
        let mut r = RequestHeader::build("POST", uri.as_bytes(), None).unwrap();
        for (k, v) in headers {
            r.append_header(k.to_string(), *v).unwrap();
        }
        r
    }

    #[test]
    fn key_is_found_where_each_sdk_puts_it() {
        assert_eq!(
            client_key(&req("/v1/x", &[("authorization", "Bearer tg-a")])).unwrap(),
            "tg-a"
        );
        assert_eq!(
            client_key(&req("/v1/x", &[("x-api-key", "tg-b")])).unwrap(),
            "tg-b"
        );
        assert_eq!(
            client_key(&req("/v1/x", &[("x-goog-api-key", "tg-c")])).unwrap(),
            "tg-c"
        );
        assert_eq!(
            client_key(&req("/v1beta/m?alt=sse&key=tg-d", &[])).unwrap(),
            "tg-d"
        );
        assert!(client_key(&req("/v1/x", &[])).is_none());
    }

    #[test]
    fn request_id_is_taken_only_when_sane() {
        let id = |v: &str| incoming_request_id(&req("/v1/x", &[("x-request-id", v)]));
        assert_eq!(id("abc-123_x.y:z").unwrap(), "abc-123_x.y:z");
        assert_eq!(id(&"a".repeat(128)).unwrap().len(), 128);
        assert!(id(&"a".repeat(129)).is_none());
        assert!(id("has space").is_none());
        assert!(id("").is_none());
        assert!(id("tab\there").is_none());
        assert!(incoming_request_id(&req("/v1/x", &[])).is_none());
    }

    #[test]
    fn key_is_removed_from_the_query() {
        assert_eq!(upstream_query(Some("alt=sse&key=tg-d")).unwrap(), "alt=sse");
        assert_eq!(upstream_query(Some("k%65y=tg-d&x=1")).unwrap(), "x=1");
        assert!(upstream_query(Some("key=tg-d")).is_none());
        assert!(upstream_query(None).is_none());
    }
}
