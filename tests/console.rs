//! The web console's static serving on :9090 by the real binary: files from
//! `admin.console_dir`, deep links answered with `index.html`, the API untouched, security and
//! caching headers, gzip, no path escapes, and the page shown when the console is not built.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate};
use std::io::Read;

const INDEX: &str = "<!doctype html><html><head><script type=\"module\" src=\"/assets/app-Ab12.js\"></script></head><body><div id=\"root\"></div></body></html>";
const APP_JS: &str = "console.log('tollgate console');\n";

async fn get(tg: &Tollgate, path: &str) -> reqwest::Response {
    tg.http
        .get(format!("{}{}", tg.admin, path))
        .send()
        .await
        .unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_console_is_served_with_deep_links_and_strict_headers() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("assets")).unwrap();
    std::fs::write(site.path().join("index.html"), INDEX).unwrap();
    std::fs::write(site.path().join("assets/app-Ab12.js"), APP_JS.repeat(50)).unwrap();
    std::fs::write(site.path().join("favicon.svg"), "<svg/>").unwrap();
    // A file outside the console folder that no path may reach.
    std::fs::write(site.path().parent().unwrap().join("secret.txt"), "secret").ok();
    let tg = Tollgate::start_with(Options::default().env(
        "TOLLGATE__ADMIN__CONSOLE_DIR",
        site.path().to_str().unwrap(),
    ))
    .await;

    for path in ["/", "/logs?model=x", "/client-keys/12", "/account"] {
        let r = get(&tg, path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
        let csp = header(&r, "content-security-policy");
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(
            csp.contains("script-src 'self';"),
            "no inline scripts: {csp}"
        );
        assert!(!csp.contains("unsafe-eval"));
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert_eq!(r.text().await.unwrap(), INDEX, "{path}");
    }

    // Hashed assets are cached for good; other files are revalidated.
    let r = get(&tg, "/assets/app-Ab12.js").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    assert_eq!(r.text().await.unwrap(), APP_JS.repeat(50));
    let r = get(&tg, "/favicon.svg").await;
    assert_eq!(header(&r, "cache-control"), "no-cache");
    assert_eq!(header(&r, "content-type"), "image/svg+xml");

    // Gzip when asked for (reqwest here decodes nothing, so the bytes are compressed).
    let r = tg
        .http
        .get(format!("{}/assets/app-Ab12.js", tg.admin))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-encoding"), "gzip");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.len() < APP_JS.len() * 50);
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, APP_JS.repeat(50));

    // A missing file is a 404, not the app; nothing escapes the folder.
    for path in [
        "/assets/missing-1234.js",
        "/../secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/.hidden.txt",
    ] {
        let r = get(&tg, path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(!r.text().await.unwrap().contains("secret"), "{path}");
    }

    // The API stays the API: JSON, and its own 404 for unknown routes.
    let r = get(&tg, "/api/health").await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("application/json"));
    let r = get(&tg, "/api/no-such-route").await;
    assert_eq!(r.status(), 404);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    // Writes to console paths are refused.
    let r = tg
        .http
        .post(format!("{}/logs", tg.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn without_a_build_the_root_says_how_to_build_it() {
    let tg = Tollgate::start_with(
        Options::default().env("TOLLGATE__ADMIN__CONSOLE_DIR", "/nonexistent/console"),
    )
    .await;
    for path in ["/", "/dashboard"] {
        let r = get(&tg, path).await;
        assert_eq!(r.status(), 200);
        assert!(header(&r, "content-security-policy").starts_with("default-src 'self'"));
        let text = r.text().await.unwrap();
        assert!(text.contains("not built"), "{text}");
        assert!(text.contains("npm run build"));
        assert!(text.contains("/nonexistent/console"));
    }
    // The API works regardless.
    let (s, _) = tg.api("GET", "/api/providers", None).await;
    assert_eq!(s, 200);
}
