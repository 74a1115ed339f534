//! Provider verdicts and the retry rule against the real binary and the providers' real error
//! bodies (the mock speaks them): one request never costs a credential, a request the upstream
//! may be processing is never sent twice, a healthy credential is always reached, and caller
//! hiding is an allowlist both ways.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Tollgate;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tollgate_testkit::mock::{MockOptions, MockUpstream};

/// A provider of `format` on the mock with one key per secret and a client key over them.
async fn pool(
    tg: &Tollgate,
    format: &str,
    base_url: &str,
    secrets: &[&str],
    max_retries: u32,
) -> (i64, Vec<i64>, i64, String) {
    let pid = tg
        .create_provider(
            &format!("{format}-{}", common::rand_suffix()),
            format,
            base_url,
        )
        .await;
    let mut kids = vec![];
    for s in secrets {
        kids.push(tg.create_provider_key(pid, s).await);
    }
    let (s, v) = tg
        .api(
            "POST",
            "/api/client-keys",
            Some(
                json!({"name": "pool", "provider_id": pid, "provider_key_ids": kids,
                        "strategy": "round_robin", "max_retries": max_retries}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    (
        pid,
        kids,
        v["id"].as_i64().unwrap(),
        v["key"].as_str().unwrap().to_string(),
    )
}

/// A request in the format's own shape, for `model`.
async fn call(tg: &Tollgate, format: &str, key: &str, model: &str) -> reqwest::Response {
    let req = match format {
        "openai" => tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(key)
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})),
        "anthropic" => tg
            .http
            .post(format!("{}/v1/messages", tg.proxy))
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01")
            .json(&json!({"model": model, "max_tokens": 16,
                          "messages": [{"role": "user", "content": "hi"}]})),
        _ => tg
            .http
            .post(format!(
                "{}/v1beta/models/{model}:generateContent",
                tg.proxy
            ))
            .header("x-goog-api-key", key)
            .json(&json!({"contents": [{"parts": [{"text": "hi"}]}]})),
    };
    req.send().await.unwrap()
}

async fn health(tg: &Tollgate, kid: i64) -> Value {
    let (s, v) = tg
        .api("GET", &format!("/api/provider-keys/{kid}"), None)
        .await;
    assert_eq!(s, 200);
    v["health"].clone()
}

fn request_id(r: &reqwest::Response) -> String {
    r.headers()["x-request-id"].to_str().unwrap().to_string()
}

/// A model the credentials' account may not use is the caller's problem: each request gets the
/// provider's own answer in its format, is sent exactly once, and no credential pays for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_the_account_may_not_use_costs_no_credential() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    for (format, model, status) in [
        ("openai", "forbidden-gpt", 404),
        ("anthropic", "forbidden-claude", 403),
        ("gemini", "forbidden-gemini", 403),
    ] {
        let (_, kids, _, key) =
            pool(&tg, format, &mock.base_url(), &["sk-a", "sk-b", "sk-c"], 2).await;
        mock.clear_requests();
        for _ in 0..20 {
            let r = call(&tg, format, &key, model).await;
            assert_eq!(r.status().as_u16(), status, "{format}");
            let v: Value = r.json().await.unwrap();
            match format {
                "openai" => assert_eq!(v["error"]["code"], "model_not_found"),
                "anthropic" => assert_eq!(v["error"]["type"], "permission_error"),
                _ => assert_eq!(v["error"]["status"], "PERMISSION_DENIED"),
            }
        }
        assert_eq!(
            mock.requests().len(),
            20,
            "{format}: sent exactly once each"
        );
        for kid in &kids {
            assert_eq!(health(&tg, *kid).await["state"], "healthy", "{format}");
        }
        let r = call(&tg, format, &key, "a-real-model").await;
        assert_eq!(r.status(), 200, "{format}");
        let row = tg.log_row(&request_id(&r)).await;
        assert_eq!(row["attempts"].as_array().unwrap().len(), 1, "{row}");
    }
}

/// Gemini answers a bad key with 400 `API_KEY_INVALID`: a credential failure, not the caller's.
/// OpenAI's 401 `invalid_api_key` and Anthropic's `authentication_error` likewise. The request
/// moves on to a good key and the bad one is marked invalid with the provider's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_invalid_key_answers_mark_the_credential_and_fail_over() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    for (format, reason) in [
        ("gemini", "API_KEY_INVALID"),
        ("openai", "invalid_api_key"),
        ("anthropic", "authentication_error"),
    ] {
        let (_, kids, _, key) =
            pool(&tg, format, &mock.base_url(), &["fail-401", "sk-ok"], 0).await;
        for _ in 0..4 {
            let r = call(&tg, format, &key, "m").await;
            assert_eq!(r.status(), 200, "{format}");
        }
        let h = health(&tg, kids[0]).await;
        assert_eq!(h["state"], "invalid", "{format} {h}");
        assert!(h["reason"].as_str().unwrap().contains(reason), "{h}");
        assert_eq!(health(&tg, kids[1]).await["state"], "healthy");
        let bad = mock
            .requests()
            .iter()
            .filter(|r| r.credential.as_deref() == Some("fail-401"))
            .count();
        assert_eq!(bad, 1, "{format}: the invalid key was tried once");
        mock.clear_requests();
    }
}

/// Refusals about one credential (invalid, out of quota, rate limited) cost no retry: with
/// three such credentials of four and no retries at all, every request succeeds; when every
/// credential refuses, the answer is 503 with Retry-After, never a 429 the SDK would take for
/// its own limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_healthy_credential_is_always_reached_and_exhaustion_is_503() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, kids, _, key) = pool(
        &tg,
        "openai",
        &mock.base_url(),
        &["fail-401", "fail-quota", "limited-3600", "sk-ok"],
        0,
    )
    .await;
    for i in 0..300 {
        let r = call(&tg, "openai", &key, "gpt-4o").await;
        assert_eq!(r.status(), 200, "request {i}");
    }
    let states: Vec<Value> =
        futures_util::future::join_all(kids.iter().map(|k| health(&tg, *k))).await;
    assert_eq!(states[0]["state"], "invalid");
    assert_eq!(states[1]["state"], "quota_exhausted");
    assert!(
        states[1]["reason"]
            .as_str()
            .unwrap()
            .contains("insufficient_quota")
    );
    assert_eq!(states[2]["state"], "cooling_down");
    assert_eq!(states[3]["state"], "healthy");

    let (_, _, _, key) = pool(
        &tg,
        "anthropic",
        &mock.base_url(),
        &["fail-401-x", "fail-429-x", "fail-quota-x"],
        2,
    )
    .await;
    let r = call(&tg, "anthropic", &key, "claude-sonnet-4-5").await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "overloaded_error");
}

/// After the whole request was sent, a reset ends the request (502) and it is not sent again:
/// the provider may have processed, and would bill, it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_after_the_request_was_sent_is_not_resent() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (pid, _, _, key) = pool(&tg, "openai", &mock.base_url(), &["reset", "sk-ok"], 2).await;
    let mut failed = 0;
    for _ in 0..6 {
        mock.clear_requests();
        let r = call(&tg, "openai", &key, "gpt-4o").await;
        let sent_to_reset = mock
            .requests()
            .iter()
            .filter(|r| r.credential.as_deref() == Some("reset"))
            .count();
        if sent_to_reset > 0 {
            assert_eq!(r.status(), 502);
            assert_eq!(mock.requests().len(), 1, "never sent twice");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"]["code"], "upstream_error");
            failed += 1;
        } else {
            assert_eq!(r.status(), 200);
        }
    }
    assert!(failed >= 2);
    // Opted in, the provider's resets are resent to the next credential.
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/providers/{pid}"),
            Some(json!({"retry_after_send": true})),
        )
        .await;
    assert_eq!(s, 200);
    for _ in 0..6 {
        assert_eq!(call(&tg, "openai", &key, "gpt-4o").await.status(), 200);
    }
}

/// Credentials that fail at random (401 bodies, 429 with Retry-After, 500, 529, resets before
/// any answer) beside one that always works: every request succeeds, and the mock answered
/// successfully exactly as many requests as the ledger records as successes (nothing billed
/// twice). Resets are resent here because the provider is configured with
/// `retry_after_send` (the mock resets before doing any work), and `max_retries` lets a request
/// reach every credential of the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_every_request_succeeds_and_nothing_is_billed_twice() {
    let mock = MockUpstream::start_with(MockOptions {
        event_delay: Duration::ZERO,
        ..MockOptions::default()
    })
    .await;
    let tg = Tollgate::start().await;
    let (pid, _, ckid, key) = pool(
        &tg,
        "openai",
        &mock.base_url(),
        &["chaos-a", "chaos-b", "chaos-c", "sk-always-ok"],
        3,
    )
    .await;
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/providers/{pid}"),
            Some(json!({"retry_after_send": true})),
        )
        .await;
    assert_eq!(s, 200);
    mock.set_recording(false);
    let total = 2000usize;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (http, proxy, key, next) =
            (tg.http.clone(), tg.proxy.clone(), key.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses: HashMap<u16, usize> = HashMap::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total {
                let stream = rand::random::<bool>();
                let r = http
                    .post(format!("{proxy}/v1/chat/completions"))
                    .bearer_auth(&key)
                    .json(&json!({"model": "gpt-4o-mini", "stream": stream,
                                  "messages": [{"role": "user", "content": "hi"}]}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let _ = r.bytes().await.unwrap();
                *statuses.entry(status).or_default() += 1;
            }
            statuses
        }));
    }
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for w in workers {
        for (s, n) in w.await.unwrap() {
            *statuses.entry(s).or_default() += n;
        }
    }
    assert_eq!(statuses.get(&200), Some(&total), "{statuses:?}");
    // Let the ledger catch up, then compare.
    let mut rows = 0;
    for _ in 0..100 {
        let (_, v) = tg
            .api(
                "GET",
                &format!("/api/logs?client_key_id={ckid}&status=200&per_page=1"),
                None,
            )
            .await;
        rows = v["total"].as_u64().unwrap() as usize;
        if rows == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows, total);
    assert_eq!(
        mock.successes(),
        rows,
        "every successful upstream answer is one ledger success, no more"
    );
    assert!(
        mock.request_count() > total,
        "the chaos keys were tried ({} requests)",
        mock.request_count()
    );
}

/// Nothing of the caller reaches the provider but what its API needs (an allowlist), and
/// nothing of the provider account reaches the caller: its organisation, project and
/// rate-limit windows stay behind; the client sees its own key's rate limit instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_hiding_is_an_allowlist_both_ways() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let identifying: [(&str, &str); 40] = [
        ("user-agent", "OpenAI/Python 1.54.0"),
        ("x-stainless-os", "MacOS"),
        ("x-stainless-arch", "arm64"),
        ("x-stainless-runtime", "CPython"),
        ("x-stainless-runtime-version", "3.12.4"),
        ("x-stainless-lang", "python"),
        ("x-stainless-package-version", "1.54.0"),
        ("x-stainless-async", "false"),
        ("x-stainless-retry-count", "0"),
        ("x-stainless-read-timeout", "600"),
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ("tracestate", "congo=t61rcWkgMzE"),
        (
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
        ),
        ("x-envoy-external-address", "203.0.113.7"),
        ("x-envoy-original-path", "/internal"),
        ("fly-client-ip", "203.0.113.7"),
        ("origin", "https://intranet.example.com"),
        ("referer", "https://intranet.example.com/app"),
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-host", "intranet.example.com"),
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=203.0.113.7"),
        ("via", "1.1 corp-proxy"),
        ("x-real-ip", "203.0.113.7"),
        ("true-client-ip", "203.0.113.7"),
        ("cf-connecting-ip", "203.0.113.7"),
        ("cf-ipcountry", "DE"),
        ("x-client-ip", "203.0.113.7"),
        ("x-cluster-client-ip", "203.0.113.7"),
        ("fastly-client-ip", "203.0.113.7"),
        ("cookie", "session=abc"),
        ("openai-organization", "org-caller"),
        ("openai-project", "proj_caller"),
        ("x-request-id", "caller-chosen-id"),
        ("sec-ch-ua", "\"Chromium\";v=\"124\""),
        ("sec-ch-ua-platform", "\"macOS\""),
        ("x-datadog-trace-id", "1234"),
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-user-email", "alice@example.com"),
    ];
    let pid = tg.create_provider("hide", "openai", &mock.base_url()).await;
    let kid = tg.create_provider_key(pid, "sk-hide").await;
    let (s, v) = tg
        .api(
            "POST",
            "/api/client-keys",
            Some(json!({"name": "h", "provider_id": pid, "provider_key_ids": [kid], "rpm": 600})),
        )
        .await;
    assert_eq!(s, 201);
    let key = v["key"].as_str().unwrap().to_string();
    let mut req = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .header("openai-beta", "assistants=v2");
    for (k, v) in identifying {
        req = req.header(k, v);
    }
    let r = req
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = mock.last_request().unwrap();
    for (name, _) in identifying {
        if name == "user-agent" {
            continue;
        }
        assert!(got.header(name).is_none(), "{name} reached the upstream");
    }
    assert!(
        got.header("user-agent").unwrap().starts_with("tollgate/"),
        "{:?}",
        got.header("user-agent")
    );
    assert_eq!(got.header("openai-beta"), Some("assistants=v2"));
    assert_eq!(got.credential.as_deref(), Some("sk-hide"));
    for (name, value) in &got.headers {
        assert!(
            !value.contains("203.0.113.7") && !value.contains(&key),
            "{name}: {value}"
        );
    }
    for name in [
        "openai-organization",
        "openai-project",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests",
        "set-cookie",
    ] {
        assert!(!r.headers().contains_key(name), "{name} reached the client");
    }
    assert_eq!(r.headers()["x-ratelimit-limit-requests"], "600");
    assert!(r.headers().contains_key("x-upstream-request-id"));

    let (pid, _, _, key) = pool(&tg, "anthropic", &mock.base_url(), &["sk-ant"], 0).await;
    let _ = pid;
    let r = tg
        .http
        .post(format!("{}/v1/messages", tg.proxy))
        .header("x-api-key", &key)
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .header("x-stainless-os", "Linux")
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 8,
                      "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for name in [
        "anthropic-organization-id",
        "anthropic-ratelimit-requests-limit",
        "anthropic-ratelimit-requests-remaining",
    ] {
        assert!(!r.headers().contains_key(name), "{name} reached the client");
    }
    let got = mock.last_request().unwrap();
    assert_eq!(
        got.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31")
    );
    assert_eq!(got.header("anthropic-version"), Some("2023-06-01"));
    assert!(got.header("x-stainless-os").is_none());
}
