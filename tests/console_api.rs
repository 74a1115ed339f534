//! The management API additions the web console relies on, on the real binary: the refresh
//! cookie (HttpOnly, SameSite=Strict, Path=/api/auth; Secure behind TLS), the forced password
//! change, keyset pages and filters of the request log, TTFB and top providers in the stats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADMIN_PASSWORD, Options, Tollgate};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tollgate_testkit::MockUpstream;

/// `POST` with an optional JSON body and extra headers; status, `Set-Cookie` and body.
async fn post(
    tg: &Tollgate,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let mut req = tg.http.post(format!("{}{}", tg.admin, path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    // The refresh cookie; the session hint beside it is checked apart.
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    if let Some(hint) = cookies.iter().find(|c| c.starts_with("tollgate_session=")) {
        assert!(
            !hint.contains("HttpOnly") && hint.contains("Path=/;"),
            "{hint}"
        );
        let refresh = cookies
            .iter()
            .find(|c| c.starts_with("tollgate_refresh="))
            .unwrap();
        let live = !refresh.starts_with("tollgate_refresh=;");
        assert_eq!(
            hint.starts_with("tollgate_session=1;"),
            live,
            "{hint} with {refresh}"
        );
    }
    let cookie = cookies
        .into_iter()
        .find(|c| c.starts_with("tollgate_refresh="));
    let text = r.text().await.unwrap();
    (
        status,
        cookie,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// `tollgate_refresh=<value>` from a `Set-Cookie` header.
fn cookie_value(set_cookie: &str) -> String {
    let first = set_cookie.split(';').next().unwrap();
    first.strip_prefix("tollgate_refresh=").unwrap().to_string()
}

#[tokio::test]
async fn the_console_session_lives_in_an_http_only_cookie() {
    let tg = Tollgate::start().await;
    let login = json!({"username": "admin", "password": ADMIN_PASSWORD, "refresh_cookie": true});
    let (s, cookie, v) = post(&tg, "/api/auth/login", Some(login.clone()), &[]).await;
    assert_eq!(s, 200, "{v}");
    // The refresh token is only in the cookie; scripts never see it.
    assert!(v.get("refresh_token").is_none(), "{v}");
    assert!(v["access_token"].is_string());
    let cookie = cookie.expect("a Set-Cookie");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/auth",
        "Max-Age=2592000",
    ] {
        assert!(cookie.contains(part), "{part} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let first = cookie_value(&cookie);
    assert_eq!(first.len(), 43);

    // Refresh with the cookie and no body: a new cookie, the old one refused afterwards.
    let header = format!("tollgate_refresh={first}");
    let (s, cookie2, v) = post(&tg, "/api/auth/refresh", None, &[("cookie", &header)]).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("refresh_token").is_none());
    let second = cookie_value(&cookie2.unwrap());
    assert_ne!(first, second);
    let (_, me) = tg
        .call(
            Some(v["access_token"].as_str().unwrap()),
            "GET",
            "/api/auth/me",
            None,
        )
        .await;
    assert_eq!(me["username"], "admin");
    // Presenting the rotated one again is a reuse: the whole login ends.
    let (s, _, _) = post(&tg, "/api/auth/refresh", None, &[("cookie", &header)]).await;
    assert_eq!(s, 401);
    let header2 = format!("tollgate_refresh={second}");
    let (s, _, _) = post(&tg, "/api/auth/refresh", None, &[("cookie", &header2)]).await;
    assert_eq!(s, 401, "reuse revokes the family");

    // No cookie and no body: 401. The JSON-body flow still works for API clients.
    let (s, _, _) = post(&tg, "/api/auth/refresh", None, &[]).await;
    assert_eq!(s, 401);
    let (_, _, v) = post(
        &tg,
        "/api/auth/login",
        Some(json!({"username": "admin", "password": ADMIN_PASSWORD})),
        &[],
    )
    .await;
    let body_token = v["refresh_token"].as_str().unwrap().to_string();
    let (s, cookie, v) = post(
        &tg,
        "/api/auth/refresh",
        Some(json!({"refresh_token": body_token})),
        &[],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["refresh_token"].is_string());
    assert!(cookie.is_none(), "the body flow sets no cookie");

    // Logout with the cookie revokes it and clears the cookie.
    let (_, cookie, _) = post(&tg, "/api/auth/login", Some(login.clone()), &[]).await;
    let header = format!("tollgate_refresh={}", cookie_value(&cookie.unwrap()));
    let (s, cleared, _) = post(&tg, "/api/auth/logout", None, &[("cookie", &header)]).await;
    assert_eq!(s, 204);
    let cleared = cleared.unwrap();
    assert!(cleared.starts_with("tollgate_refresh=;") && cleared.contains("Max-Age=0"));
    let (s, _, _) = post(&tg, "/api/auth/refresh", None, &[("cookie", &header)]).await;
    assert_eq!(s, 401);

    // Behind a TLS-terminating proxy the cookie is Secure.
    let (_, cookie, _) = post(
        &tg,
        "/api/auth/login",
        Some(login),
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert!(cookie.unwrap().contains("; Secure"));
    // A malformed body is still a 400.
    let r = tg
        .http
        .post(format!("{}/api/auth/refresh", tg.admin))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn secure_cookie_can_be_forced() {
    let tg = Tollgate::start_with(Options::default().env("TOLLGATE__ADMIN__SECURE_COOKIE", "true"))
        .await;
    let login = json!({"username": "admin", "password": ADMIN_PASSWORD, "refresh_cookie": true});
    let (_, cookie, _) = post(&tg, "/api/auth/login", Some(login), &[]).await;
    assert!(cookie.unwrap().contains("; Secure"));
}

#[tokio::test]
async fn the_bootstrap_password_must_be_changed() {
    let tg = Tollgate::start().await;
    let id = tg
        .create_user("rita", "rita-first-password", "member")
        .await;
    let login = json!({"username": "admin", "password": ADMIN_PASSWORD, "refresh_cookie": true});
    let (_, cookie, v) = post(&tg, "/api/auth/login", Some(login), &[]).await;
    assert_eq!(v["must_change_password"], true, "{v}");
    let token = v["access_token"].as_str().unwrap().to_string();
    let (_, me) = tg.call(Some(&token), "GET", "/api/auth/me", None).await;
    assert_eq!(me["must_change_password"], true);
    // Nothing is refused meanwhile (API clients and scripts keep working).
    let (s, _) = tg.call(Some(&token), "GET", "/api/providers", None).await;
    assert_eq!(s, 200);
    // The same password again is not a change.
    let header = format!("tollgate_refresh={}", cookie_value(&cookie.unwrap()));
    let auth = format!("Bearer {token}");
    let (s, _, v) = post(
        &tg,
        "/api/auth/password",
        Some(json!({"current_password": ADMIN_PASSWORD, "new_password": ADMIN_PASSWORD})),
        &[("authorization", &auth), ("cookie", &header)],
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("differ"));
    // Changing it clears the flag; the cookie's login survives, rotated into a new cookie.
    let (s, cookie, v) = post(
        &tg,
        "/api/auth/password",
        Some(json!({"current_password": ADMIN_PASSWORD, "new_password": "a-new-admin-password"})),
        &[("authorization", &auth), ("cookie", &header)],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["must_change_password"], false);
    assert!(v.get("refresh_token").is_none());
    let renewed = format!("tollgate_refresh={}", cookie_value(&cookie.unwrap()));
    let (s, _, v) = post(&tg, "/api/auth/refresh", None, &[("cookie", &renewed)]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["must_change_password"], false);

    // An admin's reset sets the flag for the user.
    let (s, v) = tg
        .call(
            Some(v["access_token"].as_str().unwrap()),
            "PATCH",
            &format!("/api/users/{id}"),
            Some(json!({"password": "rita-reset-password", "must_change_password": true})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["must_change_password"], true);
    let (_, v) = tg.login_user("rita", "rita-reset-password").await;
    assert_eq!(v["must_change_password"], true);
}

/// Every log row once there are `n` (the ledger writes in batches).
async fn wait_for_logs(tg: &Tollgate, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, v) = tg.api("GET", "/api/logs?per_page=1", None).await;
        if v["total"] == n {
            return;
        }
        assert!(Instant::now() < deadline, "expected {n} rows: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn logs_page_by_keyset_and_filter() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (provider, good, key) = tg
        .setup("openai", &mock.base_url(), "sk-good-0123456789")
        .await;
    let bad = tg.create_provider_key(provider, "fail-500").await;
    let (_, bad_key) = tg.create_client_key(provider, &[bad]).await;
    let send = |key: String, model: &'static str| {
        let tg = &tg;
        async move {
            tg.http
                .post(format!("{}/v1/chat/completions", tg.proxy))
                .bearer_auth(key)
                .json(&json!({"model": model, "messages": []}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..7 {
        let model = if i % 2 == 0 { "gpt-4o" } else { "gpt-4o-mini" };
        assert_eq!(send(key.clone(), model).await, 200);
    }
    for _ in 0..2 {
        assert!(send(bad_key.clone(), "gpt-4o").await >= 500);
    }
    wait_for_logs(&tg, 9).await;
    let (_, all) = tg.api("GET", "/api/logs?per_page=500", None).await;
    let all_ids = ids(&all);
    assert_eq!(all_ids.len(), 9);
    assert!(all_ids.windows(2).all(|w| w[0] > w[1]), "newest first");

    // Keyset: pages of 4, 4, 1, each continuing from the last `next`.
    let mut seen = Vec::new();
    let mut path = "/api/logs?limit=4".to_string();
    let mut pages = 0;
    loop {
        let (s, v) = tg.api("GET", &path, None).await;
        assert_eq!(s, 200, "{v}");
        assert!(v.get("total").is_none(), "keyset pages do not count: {v}");
        seen.extend(ids(&v));
        pages += 1;
        match v["next"].as_i64() {
            Some(next) => path = format!("/api/logs?limit=4&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen, all_ids);
    assert_eq!(pages, 3);
    // Page paging names the next cursor too.
    let (_, v) = tg.api("GET", "/api/logs?per_page=4", None).await;
    assert_eq!(v["next"].as_i64(), Some(all_ids[3]));
    assert_eq!(v["total"], 9);

    // Filters.
    let count = |q: &'static str| {
        let tg = &tg;
        async move {
            let (s, v) = tg
                .api("GET", &format!("/api/logs?limit=500&{q}"), None)
                .await;
            assert_eq!(s, 200, "{q}: {v}");
            ids(&v).len()
        }
    };
    assert_eq!(count("model=gpt-4o-mini").await, 3);
    assert_eq!(count("status=200").await, 7);
    assert_eq!(count("status_class=2").await, 7);
    assert_eq!(count("status_class=5").await, 2);
    assert_eq!(count("partial=false").await, 9);
    assert_eq!(count("partial=true").await, 0);
    assert_eq!(
        tg.api(
            "GET",
            &format!("/api/logs?limit=500&provider_key_id={good}"),
            None
        )
        .await
        .1["items"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(
        ids(&tg
            .api(
                "GET",
                &format!("/api/logs?limit=500&provider_id={provider}"),
                None
            )
            .await
            .1)
        .len(),
        9
    );
    assert_eq!(
        ids(&tg
            .api(
                "GET",
                &format!("/api/logs?limit=500&provider_id={}", provider + 100),
                None
            )
            .await
            .1)
        .len(),
        0
    );
    let (_, failed) = tg
        .api("GET", "/api/logs?limit=1&status_class=5", None)
        .await;
    let kind = failed["items"][0]["error_kind"]
        .as_str()
        .map(str::to_string);
    if let Some(kind) = kind {
        let (_, v) = tg
            .api(
                "GET",
                &format!("/api/logs?limit=500&error_kind={kind}"),
                None,
            )
            .await;
        assert_eq!(ids(&v).len(), 2, "{v}");
    }
    let future = "2999-01-01T00:00:00Z";
    assert_eq!(
        ids(&tg
            .api("GET", &format!("/api/logs?limit=500&from={future}"), None)
            .await
            .1)
        .len(),
        0
    );
    // Mixing the two kinds of paging, or a bad class, is a 400.
    for q in [
        "limit=5&page=2",
        "before=10&per_page=5",
        "status_class=9",
        "limit=0",
        "limit=501",
    ] {
        let (s, v) = tg.api("GET", &format!("/api/logs?{q}"), None).await;
        assert_eq!(s, 400, "{q}: {v}");
    }
}

#[tokio::test]
async fn stats_have_ttfb_and_top_providers() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (provider, _, key) = tg
        .setup("openai", &mock.base_url(), "sk-good-0123456789")
        .await;
    for stream in [false, true, true] {
        let r = tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o", "messages": [], "stream": stream}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
    }
    wait_for_logs(&tg, 3).await;
    let (_, logs) = tg.api("GET", "/api/logs?limit=10", None).await;
    let ttfbs: Vec<i64> = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["ttfb_ms"].as_i64())
        .collect();
    assert!(!ttfbs.is_empty(), "{logs}");
    let (_, o) = tg.api("GET", "/api/stats/overview", None).await;
    let max = *ttfbs.iter().max().unwrap();
    let p95 = o["ttfb_p95_ms"].as_i64().unwrap();
    assert_eq!(p95, max.min(p95), "{o}");
    assert!(o["ttfb_p50_ms"].as_i64().unwrap() <= p95);
    let sum: i64 = ttfbs.iter().sum();
    let n = ttfbs.len() as i64;
    assert_eq!(o["ttfb_avg_ms"].as_i64().unwrap(), (sum + n / 2) / n, "{o}");
    // The hourly series carries it too.
    let (_, t) = tg
        .api("GET", "/api/stats/trends?granularity=hour&days=1", None)
        .await;
    let last = t["points"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ttfb_avg_ms"], o["ttfb_avg_ms"], "{last}");

    let (s, top) = tg.api("GET", "/api/stats/top-providers", None).await;
    assert_eq!(s, 200, "{top}");
    let items = top["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{top}");
    assert_eq!(items[0]["provider_id"], provider);
    let (_, p) = tg
        .api("GET", &format!("/api/providers/{provider}"), None)
        .await;
    assert_eq!(items[0]["name"], p["name"]);
    assert_eq!(items[0]["requests"], 3);
}
