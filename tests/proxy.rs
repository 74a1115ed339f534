//! Black-box tests of the data plane: the real binary, a mock upstream speaking the providers'
//! real wire formats, plain HTTP from the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tollgate_testkit::{MockOptions, MockUpstream};

fn header<'a>(req: &'a tollgate_testkit::RecordedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn credential_is_swapped_and_the_caller_hidden() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, _, key) = tg
        .setup("openai", &mock.base_url(), "sk-upstream-secret-1")
        .await;

    let resp = tg
        .http
        .post(format!("{}/v1/chat/completions?key={key}&keep=1", tg.proxy))
        .bearer_auth(&key)
        .header("x-forwarded-for", "10.1.2.3")
        .header("x-real-ip", "10.1.2.3")
        .header("forwarded", "for=10.1.2.3")
        .header("via", "1.1 corp-proxy")
        .header("cf-connecting-ip", "10.1.2.3")
        .header("true-client-ip", "10.1.2.3")
        .header("cookie", "session=abc")
        .header("openai-organization", "org-caller")
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.credential.as_deref(), Some("sk-upstream-secret-1"));
    assert_eq!(
        header(r, "authorization"),
        Some("Bearer sk-upstream-secret-1")
    );
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.query.as_deref(), Some("keep=1"));
    for h in [
        "x-forwarded-for",
        "x-real-ip",
        "forwarded",
        "via",
        "cf-connecting-ip",
        "true-client-ip",
        "cookie",
        "openai-organization",
    ] {
        assert!(header(r, h).is_none(), "{h} leaked upstream");
    }
    let everything = format!(
        "{:?}{:?}{}",
        r.headers,
        r.query,
        String::from_utf8_lossy(&r.body)
    );
    assert!(!everything.contains(&key), "client key leaked upstream");
    assert!(!everything.contains("10.1.2.3"));
}

#[tokio::test]
async fn each_provider_gets_its_credential_in_its_own_place() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;

    let (_, _, anthropic_key) = tg
        .setup("anthropic", &mock.base_url(), "sk-ant-upstream")
        .await;
    let resp = tg
        .http
        .post(format!("{}/v1/messages", tg.proxy))
        .header("x-api-key", &anthropic_key)
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let r = mock.requests().pop().unwrap();
    assert_eq!(header(&r, "x-api-key"), Some("sk-ant-upstream"));
    assert_eq!(header(&r, "anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        header(&r, "anthropic-beta"),
        Some("prompt-caching-2024-07-31")
    );
    assert!(header(&r, "authorization").is_none());

    let (_, _, gemini_key) = tg.setup("gemini", &mock.base_url(), "AIza-upstream").await;
    let resp = tg
        .http
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:generateContent?key={gemini_key}",
            tg.proxy
        ))
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let r = mock.requests().pop().unwrap();
    assert_eq!(header(&r, "x-goog-api-key"), Some("AIza-upstream"));
    assert!(
        r.query.as_deref().unwrap_or("").is_empty(),
        "query {:?}",
        r.query
    );
    assert_eq!(r.path, "/v1beta/models/gemini-2.5-flash:generateContent");

    // The google-genai SDK's header works too.
    let resp = tg
        .http
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:countTokens",
            tg.proxy
        ))
        .header("x-goog-api-key", &gemini_key)
        .json(&json!({"contents": [{"parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn one_mebibyte_bodies_pass_whole_on_every_path() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let filler = "x".repeat(1024 * 1024);
    let cases = [
        (
            "openai",
            "/v1/chat/completions",
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": filler}]}),
        ),
        (
            "openai",
            "/v1/responses",
            json!({"model": "gpt-4o", "input": filler}),
        ),
        (
            "openai",
            "/v1/embeddings",
            json!({"model": "embedding-unpriced-test", "input": filler}),
        ),
        (
            "anthropic",
            "/v1/messages",
            json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": filler}]}),
        ),
        (
            "gemini",
            "/v1beta/models/gemini-2.5-pro:generateContent",
            json!({"contents": [{"parts": [{"text": filler}]}]}),
        ),
    ];
    for (format, path, body) in cases {
        let (_, _, key) = tg
            .setup(format, &mock.base_url(), &format!("sk-{format}"))
            .await;
        let bytes = serde_json::to_vec(&body).unwrap();
        assert!(bytes.len() > 1024 * 1024);
        let resp = tg
            .http
            .post(format!("{}{path}", tg.proxy))
            .header("authorization", format!("Bearer {key}"))
            .header("x-api-key", &key)
            .header("anthropic-version", "2023-06-01")
            .header("content-type", "application/json")
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}: {}", resp.text().await.unwrap());
        let r = mock.requests().pop().unwrap();
        assert_eq!(r.body.len(), bytes.len(), "{path}");
        assert_eq!(&r.body[..], &bytes[..], "{path}");
    }
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_and_nothing_is_forwarded() {
    let mock = MockUpstream::start().await;
    let tg =
        Tollgate::start_with(Options::default().env("TOLLGATE__PROXY__MAX_BODY_BYTES", "4096"))
            .await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-x").await;
    let resp = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "y".repeat(8192)}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "request_too_large");
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn server_sent_events_arrive_before_the_upstream_finishes() {
    let mock = MockUpstream::start_with(MockOptions {
        gate_streams: true,
        ..Default::default()
    })
    .await;
    let tg = Tollgate::start().await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-stream").await;
    let resp = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = resp.bytes_stream();
    // The upstream holds the rest of the stream until released: the first event must get through.
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("first event did not arrive while the upstream was still streaming")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with("data: "));
    mock.release_streams();
    let mut rest = first.to_vec();
    while let Some(chunk) = stream.next().await {
        rest.extend_from_slice(&chunk.unwrap());
    }
    let text = String::from_utf8(rest).unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
}

struct UsageCase {
    format: &'static str,
    path: &'static str,
    body: Value,
    model: &'static str,
    stream: bool,
}

#[tokio::test]
async fn usage_and_cost_are_recorded_exactly_for_every_format() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let msgs = json!([{"role": "user", "content": "count these tokens please"}]);
    let cases = vec![
        UsageCase {
            format: "openai",
            path: "/v1/chat/completions",
            model: "gpt-4o",
            stream: false,
            body: json!({"model": "gpt-4o", "messages": msgs}),
        },
        UsageCase {
            format: "openai",
            path: "/v1/chat/completions",
            model: "gpt-4o",
            stream: true,
            body: json!({"model": "gpt-4o", "stream": true, "messages": msgs}),
        },
        UsageCase {
            format: "openai",
            path: "/v1/responses",
            model: "gpt-4o",
            stream: false,
            body: json!({"model": "gpt-4o", "input": "hello there"}),
        },
        UsageCase {
            format: "openai",
            path: "/v1/responses",
            model: "gpt-4o",
            stream: true,
            body: json!({"model": "gpt-4o", "input": "hello there", "stream": true}),
        },
        UsageCase {
            format: "openai",
            path: "/v1/embeddings",
            model: "embedding-unpriced-test",
            stream: false,
            body: json!({"model": "embedding-unpriced-test", "input": "embed me"}),
        },
        UsageCase {
            format: "anthropic",
            path: "/v1/messages",
            model: "claude-sonnet-4-5",
            stream: false,
            body: json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": msgs}),
        },
        UsageCase {
            format: "anthropic",
            path: "/v1/messages",
            model: "claude-sonnet-4-5",
            stream: true,
            body: json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": true, "messages": msgs}),
        },
        UsageCase {
            format: "gemini",
            path: "/v1beta/models/gemini-2.5-pro:generateContent",
            model: "gemini-2.5-pro",
            stream: false,
            body: json!({"contents": [{"parts": [{"text": "hello"}]}]}),
        },
        UsageCase {
            format: "gemini",
            path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
            model: "gemini-2.5-pro",
            stream: true,
            body: json!({"contents": [{"parts": [{"text": "hello"}]}]}),
        },
        UsageCase {
            format: "gemini",
            path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
            model: "gemini-2.5-pro",
            stream: true,
            body: json!({"contents": [{"parts": [{"text": "hello"}]}]}),
        },
    ];
    // Prices in whole units per million tokens so the expected cost is exact arithmetic.
    tg.set_price("gpt-4o", "2.5", "10", "0", "1.25").await;
    tg.set_price("claude-sonnet-4-5", "3", "15", "3.75", "0.3")
        .await;
    tg.set_price("gemini-2.5-pro", "1.25", "10", "0", "0.31")
        .await;
    // embedding-unpriced-test deliberately has no price.

    let mut keys = std::collections::HashMap::new();
    for format in ["openai", "anthropic", "gemini"] {
        let (_, _, key) = tg
            .setup(format, &mock.base_url(), &format!("sk-usage-{format}"))
            .await;
        keys.insert(format, key);
    }
    for case in cases {
        let key = &keys[case.format];
        let resp = tg
            .http
            .post(format!("{}{}", tg.proxy, case.path))
            .header("authorization", format!("Bearer {key}"))
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01")
            .json(&case.body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", case.path);
        let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        let client_body = resp.text().await.unwrap();
        let sent = mock
            .requests()
            .pop()
            .unwrap()
            .usage_sent
            .expect("mock sent usage");
        let row = tg.log_row(&request_id).await;
        let label = format!("{} {} stream={}", case.format, case.path, case.stream);
        assert_eq!(row["status"], 200, "{label}");
        assert_eq!(row["model"], case.model, "{label}");
        assert_eq!(row["stream"], case.stream, "{label}");
        assert_eq!(row["partial"], false, "{label}: {row}");
        assert_eq!(
            row["prompt_tokens"].as_u64().unwrap(),
            sent.prompt_tokens,
            "{label}"
        );
        assert_eq!(
            row["completion_tokens"].as_u64().unwrap(),
            sent.completion_tokens,
            "{label}"
        );
        assert_eq!(
            row["cache_write_tokens"].as_u64().unwrap(),
            sent.cache_write_tokens,
            "{label}"
        );
        assert_eq!(
            row["cache_read_tokens"].as_u64().unwrap(),
            sent.cache_read_tokens,
            "{label}"
        );

        // Expected cost, computed here independently, in nano-units.
        let (i, o, cw, cr, cache_in_prompt) = match case.format {
            "openai" => (
                2_500_000_000u128,
                10_000_000_000u128,
                0u128,
                1_250_000_000u128,
                true,
            ),
            "anthropic" => (
                3_000_000_000,
                15_000_000_000,
                3_750_000_000,
                300_000_000,
                false,
            ),
            _ => (1_250_000_000, 10_000_000_000, 0, 310_000_000, true),
        };
        if case.model == "embedding-unpriced-test" {
            assert_eq!(row["priced"], false, "{label}");
            assert!(row["cost"].is_null());
            continue;
        }
        let uncached = if cache_in_prompt {
            sent.prompt_tokens - sent.cache_read_tokens
        } else {
            sent.prompt_tokens
        };
        let total = uncached as u128 * i
            + sent.completion_tokens as u128 * o
            + sent.cache_write_tokens as u128 * cw
            + sent.cache_read_tokens as u128 * cr;
        let nanos = (total + 500_000) / 1_000_000;
        let expected = rust_decimal::Decimal::new(nanos as i64, 9)
            .normalize()
            .to_string();
        assert_eq!(row["priced"], true, "{label}");
        assert_eq!(row["cost"].as_str().unwrap(), expected, "{label}");

        if case.format == "openai" && case.path == "/v1/chat/completions" && case.stream {
            // The client did not ask for usage: its stream must look as if we had not either.
            assert!(
                !client_body.contains("\"usage\""),
                "injected usage leaked to the client: {client_body}"
            );
            assert!(client_body.trim_end().ends_with("data: [DONE]"));
        }
    }
}

#[tokio::test]
async fn bad_keys_get_401_in_the_callers_format_and_nothing_goes_upstream() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    tg.setup("openai", &mock.base_url(), "sk-a").await;

    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth("tg-not-a-real-key")
        .json(&json!({"model": "gpt-4o"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_api_key");
    assert_eq!(v["error"]["type"], "authentication_error");

    let r = tg
        .http
        .post(format!("{}/v1/messages", tg.proxy))
        .header("x-api-key", "tg-wrong")
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "authentication_error");

    let r = tg
        .http
        .post(format!(
            "{}/v1beta/models/gemini-2.5-pro:generateContent?key=tg-wrong",
            tg.proxy
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(v["error"]["code"], 401);

    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    assert_eq!(mock.request_count(), 0);
    let row = tg.log_row(&request_id).await;
    assert_eq!(row["status"], 401);
    assert_eq!(row["error_kind"], "invalid_key");
}

#[tokio::test]
async fn unknown_paths_get_404() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-a").await;
    for path in ["/v1/nope", "/admin", "/v1/messages"] {
        let r = tg
            .http
            .post(format!("{}{path}", tg.proxy))
            .bearer_auth(&key)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "not_found", "{path}");
    }
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn upstream_down_is_a_recorded_502() {
    let tg = Tollgate::start().await;
    let dead = format!("http://127.0.0.1:{}", common::free_port());
    let (_, kid, key) = tg.setup("openai", &dead, "sk-a").await;
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "upstream_error");
    let row = tg.log_row(&request_id).await;
    assert_eq!(row["status"], 502);
    assert_eq!(row["error_kind"], "connect_error");
    assert_eq!(row["provider_key_id"], kid);
    assert_eq!(row["model"], "gpt-4o");
}

#[tokio::test]
async fn upstream_credential_rejection_never_reaches_the_client() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, _, key) = tg
        .setup("openai", &mock.base_url(), "fail-401-secret-abcdef")
        .await;
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let text = r.text().await.unwrap();
    assert!(!text.contains("abcdef"), "{text}");
    assert!(text.contains("no_healthy_credential"), "{text}");
}

#[tokio::test]
async fn provider_changes_apply_without_restart() {
    let first = MockUpstream::start().await;
    let second = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (pid, _, key) = tg.setup("openai", &first.base_url(), "sk-a").await;
    let call = || async {
        tg.http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o", "messages": []}))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(call().await, 200);
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/providers/{pid}"),
            Some(json!({"base_url": second.base_url()})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(call().await, 200);
    assert_eq!((first.request_count(), second.request_count()), (1, 1));
}

#[tokio::test]
async fn streams_cut_by_the_upstream_end_cleanly_and_are_marked_partial() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, _, key) = tg.setup("anthropic", &mock.base_url(), "cut").await;
    let r = tg.http.post(format!("{}/v1/messages", tg.proxy))
        .header("x-api-key", &key).header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 50, "stream": true, "messages": []}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    // The body ends (no hang), whatever the client makes of the truncation.
    let _ = tokio::time::timeout(Duration::from_secs(10), r.bytes())
        .await
        .expect("client hung");
    let row = tg.log_row(&request_id).await;
    assert_eq!(row["partial"], true, "{row}");
    let sent = mock.requests().pop().unwrap().usage_sent.unwrap();
    assert_eq!(row["prompt_tokens"].as_u64().unwrap(), sent.prompt_tokens);
}

#[tokio::test]
async fn https_upstreams_resolve_verify_and_use_sni() {
    let (mock, ca) = MockUpstream::start_tls(MockOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let tg =
        Tollgate::start_with(Options::default().env("SSL_CERT_FILE", ca_file.to_str().unwrap()))
            .await;

    // By name: resolved asynchronously, certificate checked against SNI `localhost`.
    let (_, _, key) = tg.setup("openai", &mock.https_url(), "sk-tls").await;
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("[DONE]"));
    let seen = mock.requests().pop().unwrap();
    assert_eq!(seen.credential.as_deref(), Some("sk-tls"));
    assert_eq!(
        header(&seen, "host"),
        Some(format!("localhost:{}", mock.addr.port()).as_str())
    );

    // By address: the certificate does not name 127.0.0.1, so nothing is sent.
    let before = mock.request_count();
    let by_ip = format!("https://127.0.0.1:{}", mock.addr.port());
    let (_, _, key) = tg.setup("openai", &by_ip, "sk-tls-ip").await;
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(tg.log_row(&id).await["error_kind"], "tls_error");
    assert_eq!(mock.request_count(), before);
}
