//! The web console on :9090: the built app's static files from `admin.console_dir`, every other
//! path outside `/api` answered with its `index.html` (deep links reload into the app), strict
//! security headers, hashed assets cached for good and `index.html` never. Without a built
//! console, `/` explains how to build one; the API works either way.

use super::error::ApiError;
use crate::state::AppState;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// No inline or foreign scripts; styles may be set inline (the UI library's CSS variables);
/// the app talks to this origin only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
/// Vite puts content-hashed files here: a changed file gets a new name.
const HASHED_DIR: &str = "assets";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";
/// Files larger than this are sent as they are (gzip is for the app's own text files).
const MAX_GZIP_BYTES: usize = 8 * 1024 * 1024;

/// Gzipped copies of the console's files, made once per file and kept.
#[derive(Default)]
pub struct ConsoleFiles {
    gzipped: Mutex<HashMap<PathBuf, Bytes>>,
}

impl ConsoleFiles {
    fn gzip(&self, path: &Path, raw: &[u8]) -> Option<Bytes> {
        if raw.len() > MAX_GZIP_BYTES {
            return None;
        }
        let mut cache = self.gzipped.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = cache.get(path) {
            return Some(b.clone());
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(raw).ok()?;
        let out = Bytes::from(enc.finish().ok()?);
        cache.insert(path.to_path_buf(), out.clone());
        Some(out)
    }
}

fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest")
        || content_type.starts_with("image/svg")
}

/// The path's segments if every one is a plain file name (no `..`, no hidden files, nothing
/// encoded): only such paths are looked up on disk.
fn safe_segments(path: &str) -> Option<Vec<&str>> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let plain = segments.iter().all(|s| {
        !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~'))
    });
    plain.then_some(segments)
}

fn with_security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// A file's answer: gzipped when the client takes it, with its caching rule.
fn file_response(
    files: &ConsoleFiles,
    path: &Path,
    raw: Vec<u8>,
    cache: &'static str,
    headers: &HeaderMap,
    head: bool,
) -> Response {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ctype = content_type(name);
    let gz = if compressible(ctype) && accepts_gzip(headers) {
        files.gzip(path, &raw)
    } else {
        None
    };
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, ctype)
        .header(header::CACHE_CONTROL, cache)
        .header(header::VARY, "accept-encoding");
    let body = match gz {
        Some(b) => {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
            b
        }
        None => Bytes::from(raw),
    };
    builder = builder.header(header::CONTENT_LENGTH, body.len());
    let body = if head {
        Body::empty()
    } else {
        Body::from(body)
    };
    builder
        .body(body)
        .unwrap_or_else(|_| ApiError::Internal.into_response())
}

/// Shown at `/` when the console has not been built.
fn not_built(dir: &Path) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Tollgate console not built</title></head><body>\
         <h1>The Tollgate web console is not built</h1>\
         <p>The management API is running under <code>/api</code> \
         (see <a href=\"/api/openapi.json\">/api/openapi.json</a>), but there is no console in \
         <code>{}</code>.</p>\
         <p>Build it with <code>./scripts/run.sh</code>, which builds the console when its \
         sources change, or by hand: <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>. \
         Set <code>admin.console_dir</code> if it lives elsewhere.</p></body></html>",
        html_escape(&dir.display().to_string())
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        page,
    )
        .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Everything outside `/api`.
pub async fn serve(
    State(state): State<Arc<AppState>>,
    Extension(files): Extension<Arc<ConsoleFiles>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    with_security_headers(answer(&state, &files, &method, &uri, &headers).await)
}

async fn answer(
    state: &AppState,
    files: &ConsoleFiles,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let head = *method == Method::HEAD;
    if *method != Method::GET && !head {
        return ApiError::MethodNotAllowed.into_response();
    }
    let dir = &state.config.admin.console_dir;
    let index = dir.join("index.html");
    let last = uri.path().rsplit('/').next().unwrap_or("");
    // A path whose last segment looks like a file name is a file; anything else is a page of
    // the app.
    if last.contains('.') {
        let Some(segments) = safe_segments(uri.path()) else {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        };
        let path = segments.iter().fold(dir.clone(), |p, s| p.join(s));
        return match tokio::fs::read(&path).await {
            Ok(raw) => {
                let cache = if segments.first() == Some(&HASHED_DIR) {
                    IMMUTABLE
                } else {
                    NO_CACHE
                };
                file_response(files, &path, raw, cache, headers, head)
            }
            Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
        };
    }
    match tokio::fs::read(&index).await {
        Ok(raw) => file_response(files, &index, raw, NO_CACHE, headers, head),
        Err(_) => not_built(dir),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_reach_the_disk() {
        assert_eq!(
            safe_segments("/assets/index-Ab_12.js"),
            Some(vec!["assets", "index-Ab_12.js"])
        );
        for bad in [
            "/../etc/passwd",
            "/assets/../../x.js",
            "/.env",
            "/a%2e%2e/x.js",
            "/a\\b.js",
        ] {
            assert_eq!(safe_segments(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_types_and_gzip() {
        assert_eq!(content_type("a.JS"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert!(compressible(content_type("a.css")));
        assert!(!compressible(content_type("a.png")));
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(!accepts_gzip(&h));
    }
}
