//! Metering that cannot be dodged: a client that leaves mid-stream still pays for the answer.
//! The gateway reads the upstream on to get the provider's own usage; when the upstream is cut
//! too, the delivered tokens are counted with a tokenizer and recorded as `estimated`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Tollgate;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tollgate_testkit::mock::{MockOptions, MockUpstream};

/// A streaming request in `format` for a priced model.
fn streaming(tg: &Tollgate, format: &str, key: &str) -> reqwest::RequestBuilder {
    match format {
        "openai" => tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(key)
            .json(&json!({"model": "gpt-4o-mini", "stream": true,
                          "messages": [{"role": "user", "content": "Tell me a story"}]})),
        "anthropic" => tg
            .http
            .post(format!("{}/v1/messages", tg.proxy))
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01")
            .json(
                &json!({"model": "claude-sonnet-4-5", "max_tokens": 512, "stream": true,
                          "messages": [{"role": "user", "content": "Tell me a story"}]}),
            ),
        _ => tg
            .http
            .post(format!(
                "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                tg.proxy
            ))
            .header("x-goog-api-key", key)
            .json(&json!({"contents": [{"parts": [{"text": "Tell me a story"}]}]})),
    }
}

/// Sends the request, reads the first piece of the stream, and goes away.
async fn leave_after_first_event(req: reqwest::RequestBuilder) -> String {
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let mut body = r.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(body);
    id
}

async fn setup(tg: &Tollgate, format: &str, base_url: &str, secret: &str) -> (i64, String) {
    let pid = tg
        .create_provider(
            &format!("{format}-{}", common::rand_suffix()),
            format,
            base_url,
        )
        .await;
    let kid = tg.create_provider_key(pid, secret).await;
    tg.create_client_key(pid, &[kid]).await
}

async fn spend(tg: &Tollgate, client_key: i64) -> String {
    let (s, v) = tg
        .api("GET", &format!("/api/client-keys/{client_key}"), None)
        .await;
    assert_eq!(s, 200);
    v["usage"]["lifetime_spend"].as_str().unwrap().to_string()
}

fn mock_options() -> MockOptions {
    MockOptions {
        event_delay: Duration::from_millis(5),
        gate_streams: true,
        // Enough events that writing to a gone client fails well before the end.
        completion_chunks: 60,
    }
}

/// The client leaves after the first event; the upstream finishes: the row has the provider's
/// own figures for the whole answer, a cost, and the key's spend includes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_mid_stream_pays_the_providers_figures() {
    let mock = MockUpstream::start_with(mock_options()).await;
    let tg = Tollgate::start().await;
    let mut started = Vec::new();
    for format in ["openai", "anthropic", "gemini"] {
        let (ckid, key) = setup(&tg, format, &mock.base_url(), "sk-meter").await;
        let id = leave_after_first_event(streaming(&tg, format, &key)).await;
        started.push((format, ckid, id));
    }
    mock.release_streams();
    for (format, ckid, id) in started {
        let row = tg.log_row(&id).await;
        assert_eq!(row["usage_source"], "provider", "{format} {row}");
        assert_eq!(row["partial"], true, "{format} {row}");
        assert_eq!(row["error_kind"], "client_closed", "{format} {row}");
        let sent = mock
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.credential.as_deref() == Some("sk-meter") && r.usage_sent.is_some())
            .and_then(|r| r.usage_sent)
            .unwrap();
        assert!(
            row["completion_tokens"].as_i64().unwrap() > 1,
            "{format} {row}"
        );
        assert!(row["prompt_tokens"].as_i64().unwrap() > 0, "{format} {row}");
        assert!(sent.completion_tokens > 0);
        let cost = row["cost"].as_str().expect("priced");
        assert_ne!(cost, "0", "{format}");
        assert_eq!(spend(&tg, ckid).await, cost, "{format}: charged to the key");
    }
}

/// The client leaves and the upstream is cut before its usage report: the delivered text is
/// counted with a tokenizer, recorded as `estimated`, priced, and charged to the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_before_the_usage_report_is_estimated_never_free() {
    let mock = MockUpstream::start_with(mock_options()).await;
    let tg = Tollgate::start().await;
    let mut started = Vec::new();
    for format in ["openai", "anthropic", "gemini"] {
        let (ckid, key) = setup(&tg, format, &mock.base_url(), "cut-meter").await;
        let id = leave_after_first_event(streaming(&tg, format, &key)).await;
        started.push((format, ckid, id));
    }
    mock.release_streams();
    for (format, ckid, id) in started {
        let row = tg.log_row(&id).await;
        assert_eq!(row["usage_source"], "estimated", "{format} {row}");
        assert_eq!(row["partial"], true);
        // About half of 60 one-word deltas arrived before the cut (Gemini's running
        // usageMetadata, when larger, is kept as the provider reported it).
        let out = row["completion_tokens"].as_i64().unwrap();
        assert!(out >= 10, "{format}: {out} {row}");
        assert!(row["prompt_tokens"].as_i64().unwrap() > 0, "{format} {row}");
        let cost = row["cost"].as_str().expect("priced");
        assert_ne!(cost, "0");
        assert_eq!(spend(&tg, ckid).await, cost, "{format}");
    }

    // A client that stays to the end of a cut stream is charged the same way.
    let (_, key) = setup(&tg, "openai", &mock.base_url(), "cut-stay").await;
    let r = streaming(&tg, "openai", &key).send().await.unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let _ = r.bytes().await;
    let row = tg.log_row(&id).await;
    assert_eq!(row["usage_source"], "estimated", "{row}");
    assert_eq!(row["error_kind"], "upstream_cut");
    assert!(row["completion_tokens"].as_i64().unwrap() > 0);
}

/// The answer's own `model` is what gets priced (an alias such as `-latest` or a dated name
/// resolves to its base model's price).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliased_model_names_are_priced() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, key) = setup(&tg, "anthropic", &mock.base_url(), "sk-alias").await;
    for model in ["claude-3-5-haiku-latest", "claude-sonnet-4-5-20250929"] {
        let r = tg
            .http
            .post(format!("{}/v1/messages", tg.proxy))
            .header("x-api-key", &key)
            .header("anthropic-version", "2023-06-01")
            .json(&json!({"model": model, "max_tokens": 16,
                          "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let v: Value = r.json().await.unwrap();
        let row = tg.log_row(&id).await;
        assert_eq!(row["response_model"], v["model"], "{row}");
        assert_eq!(row["priced"], true, "{model}: {row}");
        assert_eq!(row["usage_source"], "provider");
    }
}
