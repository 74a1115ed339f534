//! Tests of the mock upstream: each wire format parses as the real one, usage_sent matches what
//! was sent, failures by credential, the gate, the cut, and `?key=` auth.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tollgate_testkit::{MockOptions, MockUpstream, SentUsage};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn fast_mock() -> MockUpstream {
    MockUpstream::start_with(MockOptions {
        event_delay: Duration::ZERO,
        ..MockOptions::default()
    })
    .await
}

async fn post_openai(
    mock: &MockUpstream,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    client()
        .post(format!("{}{path}", mock.base_url()))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_anthropic(
    mock: &MockUpstream,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    client()
        .post(format!("{}{path}", mock.base_url()))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_gemini(
    mock: &MockUpstream,
    path_and_query: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    client()
        .post(format!("{}{path_and_query}", mock.base_url()))
        .header("x-goog-api-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

/// `data:` payloads of an SSE body whose events end with `sep`.
fn sse_events(text: &str, sep: &str) -> Vec<(Option<String>, String)> {
    assert!(
        text.ends_with(sep),
        "stream does not end with an event separator: {text:?}"
    );
    text.split(sep)
        .filter(|e| !e.is_empty())
        .map(|event| {
            let mut name = None;
            let mut data = None;
            for line in event.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_string());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(d.to_string());
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            (name, data.expect("event without data"))
        })
        .collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn prompt_for(body: &Value) -> u64 {
    serde_json::to_vec(body).unwrap().len() as u64 / 4 + 7
}

#[tokio::test]
async fn openai_chat_non_stream() {
    let mock = fast_mock().await;
    let body =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi there"}]});
    let response = post_openai(&mock, "/v1/chat/completions", "sk-good", &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(content_type(&response), "application/json");
    assert!(response.headers().contains_key("x-request-id"));
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["object"], "chat.completion");
    assert!(json["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(u(&json["created"]) > 1_700_000_000);
    assert_eq!(json["model"], "gpt-4o-mini");
    assert_eq!(json["choices"][0]["finish_reason"], "stop");
    assert_eq!(json["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        json["choices"][0]["message"]["content"],
        "Hello from the mock upstream"
    );
    let usage = &json["usage"];
    let prompt = prompt_for(&body);
    assert_eq!(u(&usage["prompt_tokens"]), prompt);
    assert_eq!(u(&usage["completion_tokens"]), 15);
    assert_eq!(u(&usage["total_tokens"]), prompt + 15);
    assert_eq!(
        u(&usage["prompt_tokens_details"]["cached_tokens"]),
        prompt / 3
    );
    assert_eq!(
        u(&usage["completion_tokens_details"]["reasoning_tokens"]),
        0
    );

    let recorded = mock.requests();
    assert_eq!(recorded.len(), 1);
    let r = &recorded[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.query, None);
    assert_eq!(r.credential.as_deref(), Some("sk-good"));
    assert_eq!(r.header("Authorization"), Some("Bearer sk-good"));
    assert!(r.headers.iter().all(|(n, _)| *n == n.to_ascii_lowercase()));
    assert_eq!(r.json().unwrap(), body);
    assert_eq!(
        r.usage_sent,
        Some(SentUsage {
            prompt_tokens: prompt,
            completion_tokens: 15,
            cache_write_tokens: 0,
            cache_read_tokens: prompt / 3,
        })
    );
}

#[tokio::test]
async fn openai_chat_stream_with_include_usage() {
    let mock = fast_mock().await;
    let body = json!({
        "model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "stream please"}]
    });
    let response = post_openai(&mock, "/v1/chat/completions", "sk-good", &body).await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/event-stream"));
    let text = response.text().await.unwrap();
    let events = sse_events(&text, "\n\n");
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|(name, data)| {
            assert!(name.is_none());
            serde_json::from_str(data).unwrap()
        })
        .collect();
    // role, 5 deltas, finish, usage
    assert_eq!(chunks.len(), 8);
    let id = chunks[0]["id"].clone();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], id);
        assert!(
            chunk.as_object().unwrap().contains_key("usage"),
            "every chunk carries usage"
        );
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks[1..6]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello from the mock upstream");
    assert!(chunks[..7].iter().all(|c| c["usage"].is_null()));
    assert_eq!(chunks[6]["choices"][0]["finish_reason"], "stop");
    let last = &chunks[7];
    assert_eq!(last["choices"], json!([]));
    let prompt = prompt_for(&body);
    assert_eq!(u(&last["usage"]["prompt_tokens"]), prompt);
    assert_eq!(u(&last["usage"]["completion_tokens"]), 15);
    assert_eq!(
        u(&last["usage"]["prompt_tokens_details"]["cached_tokens"]),
        prompt / 3
    );
    assert_eq!(
        mock.requests()[0].usage_sent,
        Some(SentUsage {
            prompt_tokens: prompt,
            completion_tokens: 15,
            cache_write_tokens: 0,
            cache_read_tokens: prompt / 3
        })
    );
}

#[tokio::test]
async fn openai_chat_stream_without_include_usage_has_no_usage() {
    let mock = fast_mock().await;
    let body = json!({"model": "gpt-4o", "stream": true, "messages": []});
    let text = post_openai(&mock, "/v1/chat/completions", "sk-good", &body)
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains("usage"), "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"));
    assert_eq!(sse_events(&text, "\n\n").len(), 8); // role, 5 deltas, finish, DONE
    assert_eq!(mock.requests()[0].usage_sent, None);
}

#[tokio::test]
async fn openai_legacy_completions() {
    let mock = MockUpstream::start_with(MockOptions {
        event_delay: Duration::ZERO,
        completion_chunks: 3,
        ..MockOptions::default()
    })
    .await;
    let body = json!({"model": "gpt-3.5-turbo-instruct", "prompt": "once upon"});
    let json: Value = post_openai(&mock, "/v1/completions", "sk-a", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["object"], "text_completion");
    assert!(json["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(json["choices"][0]["text"], "Hello from the");
    assert_eq!(u(&json["usage"]["completion_tokens"]), 9);

    let body = json!({"model": "gpt-3.5-turbo-instruct", "prompt": "x", "stream": true, "stream_options": {"include_usage": true}});
    let text = post_openai(&mock, "/v1/completions", "sk-a", &body)
        .await
        .text()
        .await
        .unwrap();
    let events = sse_events(&text, "\n\n");
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let last: Value = serde_json::from_str(&events[events.len() - 2].1).unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(u(&last["usage"]["prompt_tokens"]), prompt_for(&body));
    assert_eq!(mock.requests()[1].usage_sent.unwrap().completion_tokens, 9);
}

#[tokio::test]
async fn openai_responses_non_stream() {
    let mock = fast_mock().await;
    let body =
        json!({"model": "gpt-4.1", "input": "Tell me something", "instructions": "be brief"});
    let json: Value = post_openai(&mock, "/v1/responses", "sk-r", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["object"], "response");
    assert_eq!(json["status"], "completed");
    assert_eq!(json["instructions"], "be brief");
    assert!(json["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(json["output"][0]["type"], "message");
    assert_eq!(json["output"][0]["content"][0]["type"], "output_text");
    assert_eq!(
        json["output"][0]["content"][0]["text"],
        "Hello from the mock upstream"
    );
    let usage = &json["usage"];
    let prompt = prompt_for(&body);
    assert_eq!(u(&usage["input_tokens"]), prompt);
    assert_eq!(
        u(&usage["input_tokens_details"]["cached_tokens"]),
        prompt / 3
    );
    assert_eq!(u(&usage["output_tokens"]), 15);
    assert_eq!(u(&usage["output_tokens_details"]["reasoning_tokens"]), 0);
    assert_eq!(u(&usage["total_tokens"]), prompt + 15);
    let sent = mock.requests()[0].usage_sent.unwrap();
    assert_eq!(
        (
            sent.prompt_tokens,
            sent.completion_tokens,
            sent.cache_read_tokens
        ),
        (prompt, 15, prompt / 3)
    );
}

#[tokio::test]
async fn openai_responses_stream() {
    let mock = fast_mock().await;
    let body = json!({"model": "gpt-4.1", "input": "hi", "stream": true});
    let response = post_openai(&mock, "/v1/responses", "sk-r", &body).await;
    assert!(content_type(&response).starts_with("text/event-stream"));
    let text = response.text().await.unwrap();
    let events = sse_events(&text, "\n\n");
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    expected.extend(std::iter::repeat_n("response.output_text.delta", 5));
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(names, expected);
    let mut deltas = String::new();
    for (n, (name, data)) in events.iter().enumerate() {
        let json: Value = serde_json::from_str(data).unwrap();
        assert_eq!(json["type"].as_str(), name.as_deref());
        assert_eq!(u(&json["sequence_number"]), n as u64);
        if let Some(d) = json["delta"].as_str() {
            deltas.push_str(d);
        }
    }
    assert_eq!(deltas, "Hello from the mock upstream");
    let created: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(created["response"]["status"], "in_progress");
    assert!(created["response"]["usage"].is_null());
    let completed: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert_eq!(completed["response"]["status"], "completed");
    assert_eq!(
        u(&completed["response"]["usage"]["input_tokens"]),
        prompt_for(&body)
    );
    assert_eq!(u(&completed["response"]["usage"]["output_tokens"]), 15);
    assert_eq!(
        mock.requests()[0].usage_sent.unwrap().prompt_tokens,
        prompt_for(&body)
    );
}

#[tokio::test]
async fn openai_embeddings_float_and_base64() {
    let mock = fast_mock().await;
    let body = json!({"model": "text-embedding-3-small", "input": ["a", "b", "c"], "encoding_format": "float"});
    let json: Value = post_openai(&mock, "/v1/embeddings", "sk-e", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["object"], "list");
    assert_eq!(json["data"].as_array().unwrap().len(), 3);
    assert_eq!(json["data"][2]["object"], "embedding");
    assert_eq!(json["data"][2]["index"], 2);
    let floats: Vec<f32> = serde_json::from_value(json["data"][0]["embedding"].clone()).unwrap();
    assert_eq!(floats.len(), 16);
    let prompt = prompt_for(&body);
    assert_eq!(u(&json["usage"]["prompt_tokens"]), prompt);
    assert_eq!(u(&json["usage"]["total_tokens"]), prompt);
    assert_eq!(
        mock.requests()[0].usage_sent,
        Some(SentUsage {
            prompt_tokens: prompt,
            ..SentUsage::default()
        })
    );

    let body = json!({"model": "text-embedding-3-small", "input": "a", "encoding_format": "base64", "dimensions": 4});
    let json: Value = post_openai(&mock, "/v1/embeddings", "sk-e", &body)
        .await
        .json()
        .await
        .unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(json["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw.len(), 4 * 4);
    let first = f32::from_le_bytes(raw[..4].try_into().unwrap());
    assert_eq!(first, floats[0], "same input index gives the same vector");
}

#[tokio::test]
async fn openai_models() {
    let mock = fast_mock().await;
    let json: Value = client()
        .get(format!("{}/v1/models", mock.base_url()))
        .bearer_auth("sk-m")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["object"], "list");
    assert!(
        json["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "gpt-4o-mini" && m["object"] == "model")
    );
    let one = client()
        .get(format!("{}/v1/models/gpt-4o-mini", mock.base_url()))
        .bearer_auth("sk-m")
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    assert_eq!(one.json::<Value>().await.unwrap()["id"], "gpt-4o-mini");
    let missing = client()
        .get(format!("{}/v1/models/nope", mock.base_url()))
        .bearer_auth("sk-m")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["code"],
        "model_not_found"
    );
}

#[tokio::test]
async fn anthropic_messages_non_stream() {
    let mock = fast_mock().await;
    let body = json!({"model": "claude-sonnet-4-6", "max_tokens": 100, "messages": [{"role": "user", "content": "hello"}]});
    let response = post_anthropic(&mock, "/v1/messages", "sk-ant-1", &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(content_type(&response), "application/json");
    assert!(response.headers().contains_key("request-id"));
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["type"], "message");
    assert_eq!(json["role"], "assistant");
    assert!(json["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(json["content"][0]["type"], "text");
    assert_eq!(json["content"][0]["text"], "Hello from the mock upstream");
    assert_eq!(json["stop_reason"], "end_turn");
    assert!(json["stop_sequence"].is_null());
    let prompt = prompt_for(&body);
    assert_eq!(u(&json["usage"]["input_tokens"]), prompt);
    assert_eq!(u(&json["usage"]["cache_creation_input_tokens"]), 11);
    assert_eq!(u(&json["usage"]["cache_read_input_tokens"]), 13);
    assert_eq!(u(&json["usage"]["output_tokens"]), 15);
    let r = &mock.requests()[0];
    assert_eq!(r.credential.as_deref(), Some("sk-ant-1"));
    assert_eq!(
        r.usage_sent,
        Some(SentUsage {
            prompt_tokens: prompt,
            completion_tokens: 15,
            cache_write_tokens: 11,
            cache_read_tokens: 13
        })
    );
}

#[tokio::test]
async fn anthropic_messages_stream() {
    let mock = fast_mock().await;
    let body =
        json!({"model": "claude-sonnet-4-6", "max_tokens": 100, "stream": true, "messages": []});
    let response = post_anthropic(&mock, "/v1/messages", "sk-ant-1", &body).await;
    assert!(content_type(&response).starts_with("text/event-stream"));
    let events = sse_events(&response.text().await.unwrap(), "\n\n");
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(std::iter::repeat_n("content_block_delta", 5));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    let parsed: Vec<Value> = events
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    for (name, json) in names.iter().zip(&parsed) {
        assert_eq!(json["type"].as_str(), Some(*name));
    }
    let prompt = prompt_for(&body);
    let start = &parsed[0]["message"];
    assert_eq!(start["type"], "message");
    assert_eq!(u(&start["usage"]["input_tokens"]), prompt);
    assert_eq!(u(&start["usage"]["cache_creation_input_tokens"]), 11);
    assert_eq!(u(&start["usage"]["cache_read_input_tokens"]), 13);
    assert_eq!(u(&start["usage"]["output_tokens"]), 1);
    let text: String = parsed[3..8]
        .iter()
        .map(|e| {
            assert_eq!(e["delta"]["type"], "text_delta");
            e["delta"]["text"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(text, "Hello from the mock upstream");
    assert_eq!(parsed[9]["delta"]["stop_reason"], "end_turn");
    assert_eq!(u(&parsed[9]["usage"]["output_tokens"]), 15);
    assert_eq!(
        mock.requests()[0].usage_sent,
        Some(SentUsage {
            prompt_tokens: prompt,
            completion_tokens: 15,
            cache_write_tokens: 11,
            cache_read_tokens: 13
        })
    );
}

#[tokio::test]
async fn anthropic_requires_version_and_key_and_counts_tokens() {
    let mock = fast_mock().await;
    let body = json!({"model": "claude-sonnet-4-6", "messages": []});
    let no_version = client()
        .post(format!("{}/v1/messages", mock.base_url()))
        .header("x-api-key", "sk-ant-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), 400);
    let json: Value = no_version.json().await.unwrap();
    assert_eq!(json["type"], "error");
    assert_eq!(json["error"]["type"], "invalid_request_error");

    let no_key = client()
        .post(format!("{}/v1/messages", mock.base_url()))
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 401);
    assert_eq!(
        no_key.json::<Value>().await.unwrap()["error"]["type"],
        "authentication_error"
    );

    let count: Value = post_anthropic(&mock, "/v1/messages/count_tokens", "sk-ant-1", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u(&count["input_tokens"]), prompt_for(&body));
    assert_eq!(mock.requests()[2].usage_sent, None);
}

fn gemini_usage(body: &Value, candidates: u64) -> SentUsage {
    let prompt = prompt_for(body);
    SentUsage {
        prompt_tokens: prompt,
        completion_tokens: candidates + prompt % 7 + 5,
        cache_write_tokens: 0,
        cache_read_tokens: prompt / 3,
    }
}

#[tokio::test]
async fn gemini_generate_content() {
    let mock = fast_mock().await;
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "hello gemini"}]}]});
    let response = post_gemini(
        &mock,
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "g-key",
        &body,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("application/json"));
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["candidates"][0]["content"]["role"], "model");
    assert_eq!(
        json["candidates"][0]["content"]["parts"][0]["text"],
        "Hello from the mock upstream"
    );
    assert_eq!(json["candidates"][0]["finishReason"], "STOP");
    assert_eq!(json["modelVersion"], "gemini-2.5-flash");
    let meta = &json["usageMetadata"];
    let expected = gemini_usage(&body, 15);
    assert_eq!(u(&meta["promptTokenCount"]), expected.prompt_tokens);
    assert_eq!(u(&meta["candidatesTokenCount"]), 15);
    assert_eq!(
        u(&meta["candidatesTokenCount"]) + u(&meta["thoughtsTokenCount"]),
        expected.completion_tokens
    );
    assert_eq!(
        u(&meta["cachedContentTokenCount"]),
        expected.cache_read_tokens
    );
    assert_eq!(
        u(&meta["totalTokenCount"]),
        expected.prompt_tokens + expected.completion_tokens
    );
    let r = &mock.requests()[0];
    assert_eq!(r.credential.as_deref(), Some("g-key"));
    assert_eq!(r.usage_sent, Some(expected));
}

#[tokio::test]
async fn gemini_stream_sse() {
    let mock = fast_mock().await;
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "stream"}]}]});
    let response = post_gemini(
        &mock,
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        "g-key",
        &body,
    )
    .await;
    assert_eq!(content_type(&response), "text/event-stream");
    let text = response.text().await.unwrap();
    let events = sse_events(&text, "\r\n\r\n");
    assert_eq!(events.len(), 5);
    let mut previous = 0;
    for (i, (_, data)) in events.iter().enumerate() {
        let json: Value = serde_json::from_str(data).unwrap();
        let candidates = u(&json["usageMetadata"]["candidatesTokenCount"]);
        assert!(candidates > previous, "usage grows");
        previous = candidates;
        let finish = &json["candidates"][0]["finishReason"];
        if i == 4 {
            assert_eq!(finish, "STOP");
        } else {
            assert!(finish.is_null());
        }
    }
    assert_eq!(mock.requests()[0].usage_sent, Some(gemini_usage(&body, 15)));
}

#[tokio::test]
async fn gemini_stream_json_array_and_query_key() {
    let mock = fast_mock().await;
    let body = json!({"contents": [{"parts": [{"text": "array"}]}]});
    let response = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=query%2Dkey",
            mock.base_url()
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("application/json"));
    let array: Vec<Value> = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(array.len(), 5);
    assert_eq!(array[4]["candidates"][0]["finishReason"], "STOP");
    let r = &mock.requests()[0];
    assert_eq!(r.credential.as_deref(), Some("query-key"));
    assert_eq!(r.query.as_deref(), Some("key=query%2Dkey"));
    assert_eq!(r.usage_sent, Some(gemini_usage(&body, 15)));

    let count: Value = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:countTokens?key=k2",
            mock.base_url()
        ))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(u(&count["totalTokens"]), prompt_for(&body));
    let embed: Value = post_gemini(
        &mock,
        "/v1beta/models/text-embedding-004:embedContent",
        "k3",
        &json!({"content": {"parts": [{"text": "x"}]}}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(embed["embedding"]["values"].as_array().unwrap().len(), 16);

    let no_key = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:generateContent",
            mock.base_url()
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 401);
    assert_eq!(
        no_key.json::<Value>().await.unwrap()["error"]["status"],
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn failures_by_credential_in_each_error_shape() {
    let mock = fast_mock().await;
    let chat = json!({"model": "gpt-4o-mini", "messages": []});
    let msg = json!({"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": []});
    // (credential, OpenAI status, Anthropic status, Gemini status), as each provider answers.
    let cases: [(&str, u16, u16, u16); 7] = [
        ("fail-401", 401, 401, 400),
        ("fail-403", 404, 403, 403),
        ("fail-quota", 429, 400, 400),
        ("fail-429", 429, 429, 429),
        ("fail-500", 500, 500, 500),
        ("fail-503", 503, 503, 503),
        ("fail-529", 503, 529, 503),
    ];
    for (name, openai_status, anthropic_status, gemini_status) in cases {
        let status = openai_status;
        let key = format!("{name}-pool-key");
        let r = post_openai(&mock, "/v1/chat/completions", &key, &chat).await;
        assert_eq!(r.status().as_u16(), status);
        let retry_after = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let ratelimit = r.headers().contains_key("x-ratelimit-remaining-requests");
        let json: Value = r.json().await.unwrap();
        assert!(
            json["error"]["message"].is_string() && json["error"]["type"].is_string(),
            "{json}"
        );
        if name == "fail-429" {
            assert_eq!(retry_after.as_deref(), Some("2"));
            assert!(ratelimit);
            assert_eq!(json["error"]["code"], "rate_limit_exceeded");
        }
        let want_code = match name {
            "fail-401" => Some("invalid_api_key"),
            "fail-403" => Some("model_not_found"),
            "fail-quota" => Some("insufficient_quota"),
            _ => None,
        };
        if let Some(code) = want_code {
            assert_eq!(json["error"]["code"], code, "{json}");
        }

        let status = anthropic_status;
        let r = post_anthropic(&mock, "/v1/messages", &key, &msg).await;
        assert_eq!(r.status().as_u16(), status);
        if status == 429 {
            assert_eq!(r.headers()["retry-after"], "2");
        }
        let json: Value = r.json().await.unwrap();
        assert_eq!(json["type"], "error");
        assert!(json["error"]["type"].is_string() && json["error"]["message"].is_string());
        let want_type = match name {
            "fail-401" => "authentication_error",
            "fail-403" => "permission_error",
            "fail-quota" => "invalid_request_error",
            "fail-529" => "overloaded_error",
            _ => "",
        };
        if !want_type.is_empty() {
            assert_eq!(json["error"]["type"], want_type, "{json}");
        }

        let status = gemini_status;
        let r = post_gemini(
            &mock,
            "/v1beta/models/gemini-2.5-flash:generateContent",
            &key,
            &json!({}),
        )
        .await;
        assert_eq!(r.status().as_u16(), status);
        if status == 429 {
            assert_eq!(r.headers()["retry-after"], "2");
        }
        let json: Value = r.json().await.unwrap();
        assert_eq!(u(&json["error"]["code"]), u64::from(status));
        assert!(json["error"]["status"].is_string() && json["error"]["message"].is_string());
        if name == "fail-401" {
            assert_eq!(json["error"]["details"][0]["reason"], "API_KEY_INVALID");
        }
    }
    let none = client()
        .post(format!("{}/v1/chat/completions", mock.base_url()))
        .json(&chat)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(mock.requests().last().unwrap().credential, None);
    assert!(mock.requests().iter().all(|r| r.usage_sent.is_none()));
}

#[tokio::test]
async fn hang_does_not_block_other_requests() {
    let mock = fast_mock().await;
    let url = format!("{}/v1/chat/completions", mock.base_url());
    let hanging = client()
        .post(&url)
        .bearer_auth("hang")
        .timeout(Duration::from_millis(400))
        .json(&json!({}))
        .send();
    let normal = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        post_openai(&mock, "/v1/chat/completions", "sk-ok", &json!({}))
            .await
            .status()
    };
    let (hanging, normal) = tokio::join!(hanging, normal);
    assert_eq!(normal, 200);
    let err = hanging.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn slow_header_waits_then_answers() {
    let mock = fast_mock().await;
    let started = Instant::now();
    let r = post_openai(&mock, "/v1/chat/completions", "slow-header-300", &json!({})).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["object"],
        "chat.completion"
    );
}

/// Reads a body chunk by chunk until it errors; returns what arrived and whether it errored.
async fn read_until_error(mut response: reqwest::Response) -> (String, bool) {
    let mut got = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return (String::from_utf8(got).unwrap(), false),
            Err(_) => return (String::from_utf8(got).unwrap(), true),
        }
    }
}

#[tokio::test]
async fn cut_streams_stop_halfway_and_keep_partial_usage() {
    let mock = fast_mock().await;
    // Anthropic: 11 events, 5 sent; message_start figures were sent.
    let body =
        json!({"model": "claude-sonnet-4-6", "max_tokens": 10, "stream": true, "messages": []});
    let r = post_anthropic(&mock, "/v1/messages", "cut", &body).await;
    assert_eq!(r.status(), 200);
    let (text, errored) = read_until_error(r).await;
    assert!(errored, "the connection must be dropped, got {text:?}");
    assert!(!text.contains("message_stop"));
    assert_eq!(text.matches("event: ").count(), 5);
    assert_eq!(
        mock.requests()[0].usage_sent,
        Some(SentUsage {
            prompt_tokens: prompt_for(&body),
            completion_tokens: 1,
            cache_write_tokens: 11,
            cache_read_tokens: 13
        })
    );

    // Gemini: 5 chunks, 2 sent; the last usageMetadata sent is recorded.
    let body = json!({"contents": []});
    let r = post_gemini(
        &mock,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "cut-2",
        &body,
    )
    .await;
    let (text, errored) = read_until_error(r).await;
    assert!(errored);
    assert_eq!(text.matches("data: ").count(), 2);
    assert_eq!(mock.requests()[1].usage_sent, Some(gemini_usage(&body, 6)));

    // OpenAI chat with include_usage: the usage chunk is never reached.
    let body =
        json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true}});
    let r = post_openai(&mock, "/v1/chat/completions", "cut", &body).await;
    let (text, errored) = read_until_error(r).await;
    assert!(errored);
    assert!(!text.contains("[DONE]"));
    assert_eq!(text.matches("data: ").count(), 4);
    assert_eq!(mock.requests()[2].usage_sent, None);
}

#[tokio::test]
async fn cut_non_stream_sends_content_length_and_half_the_body() {
    let mock = fast_mock().await;
    let r = post_openai(
        &mock,
        "/v1/chat/completions",
        "cut",
        &json!({"model": "gpt-4o"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let length: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (text, errored) = read_until_error(r).await;
    assert!(errored);
    assert_eq!(text.len(), length / 2);
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert_eq!(mock.requests()[0].usage_sent, None);
}

#[tokio::test]
async fn gate_holds_streams_after_the_first_event_until_released() {
    let mock = MockUpstream::start_with(MockOptions {
        event_delay: Duration::ZERO,
        gate_streams: true,
        ..MockOptions::default()
    })
    .await;
    let body =
        json!({"model": "claude-sonnet-4-6", "max_tokens": 10, "stream": true, "messages": []});
    let mut r = post_anthropic(&mock, "/v1/messages", "sk-ant", &body).await;
    let first = tokio::time::timeout(Duration::from_secs(5), r.chunk())
        .await
        .expect("first event must arrive while gated")
        .unwrap()
        .unwrap();
    let first = String::from_utf8(first.to_vec()).unwrap();
    assert!(first.starts_with("event: message_start\n"), "{first}");
    assert_eq!(first.matches("event: ").count(), 1);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), r.chunk())
            .await
            .is_err(),
        "nothing more may arrive before release"
    );
    assert_eq!(mock.requests()[0].usage_sent.unwrap().completion_tokens, 1);
    mock.release_streams();
    let (rest, errored) = read_until_error(r).await;
    assert!(!errored);
    assert!(rest.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
    assert_eq!(mock.requests()[0].usage_sent.unwrap().completion_tokens, 15);
    // Non-streaming answers are not gated, and later streams are released too.
    let r = post_anthropic(&mock, "/v1/messages", "sk-ant", &body).await;
    assert!(
        tokio::time::timeout(Duration::from_secs(5), r.text())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn event_delay_spaces_events() {
    let mock = MockUpstream::start_with(MockOptions {
        event_delay: Duration::from_millis(40),
        completion_chunks: 2,
        ..MockOptions::default()
    })
    .await;
    let started = Instant::now();
    let body = json!({"model": "gpt-4o", "stream": true});
    let text = post_openai(&mock, "/v1/chat/completions", "sk", &body)
        .await
        .text()
        .await
        .unwrap();
    // role, 2 deltas, finish, DONE: 4 pauses
    assert_eq!(sse_events(&text, "\n\n").len(), 5);
    assert!(started.elapsed() >= Duration::from_millis(160));
}

#[tokio::test]
async fn health_large_bodies_recording_and_not_found() {
    let mock = fast_mock().await;
    let health = client()
        .get(format!("{}/__mock/health", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let big = "x".repeat(1024 * 1024);
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": big}]});
    let json: Value = post_openai(&mock, "/v1/chat/completions", "sk", &body)
        .await
        .json()
        .await
        .unwrap();
    let len = serde_json::to_vec(&body).unwrap().len();
    assert_eq!(u(&json["usage"]["prompt_tokens"]), len as u64 / 4 + 7);
    assert_eq!(mock.requests()[1].body.len(), len);

    let missing = post_openai(&mock, "/v1/nothing", "sk", &json!({})).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.json::<Value>().await.unwrap()["error"]["message"].is_string());

    assert_eq!(mock.request_count(), 3);
    mock.clear_requests();
    assert!(mock.requests().is_empty());
    mock.set_recording(false);
    post_openai(&mock, "/v1/chat/completions", "sk", &json!({})).await;
    assert!(mock.requests().is_empty());
    assert_eq!(mock.request_count(), 4);
    mock.set_recording(true);
    post_openai(&mock, "/v1/chat/completions", "sk", &json!({})).await;
    assert_eq!(
        mock.last_request()
            .unwrap()
            .usage_sent
            .unwrap()
            .completion_tokens,
        15
    );
}

#[tokio::test]
async fn limited_credentials_are_rate_limited_then_recover() {
    let mock = MockUpstream::start().await;
    let client = reqwest::Client::new();
    let call = || {
        client
            .post(format!("{}/v1/chat/completions", mock.base_url()))
            .bearer_auth("limited-1")
            .json(&serde_json::json!({"model": "gpt-4o", "messages": []}))
            .send()
    };
    let first = call().await.unwrap();
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "1");
    assert_eq!(call().await.unwrap().status(), 429);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(call().await.unwrap().status(), 200);
}

// ---------------------------------------------------------------------------------------------
// Tool calling and images (rules in the mock's `tools` module)
// ---------------------------------------------------------------------------------------------

fn weather_schema() -> Value {
    json!({"type": "object", "properties": {
        "location": {"type": "string", "description": "City"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
    }, "required": ["location"]})
}

const WEATHER_ARGS: &str = r#"{"location":"mock","unit":"celsius"}"#;

fn openai_tools_request(text: &str, stream: bool) -> Value {
    json!({
        "model": "gpt-4o",
        "stream": stream,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": text}],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "parameters": weather_schema()}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}}}
        ]
    })
}

#[tokio::test]
async fn openai_tool_calls_non_stream_and_stream() {
    let mock = fast_mock().await;
    let body = openai_tools_request("What's the weather?", false);
    let v: Value = post_openai(&mock, "/v1/chat/completions", "sk-t", &body)
        .await
        .json()
        .await
        .unwrap();
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["type"], "function");
    assert!(calls[0]["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["function"]["arguments"], WEATHER_ARGS);
    assert_eq!(
        mock.last_request()
            .unwrap()
            .usage_sent
            .unwrap()
            .completion_tokens,
        u(&v["usage"]["completion_tokens"])
    );

    // Streamed and parallel: each call opens with id and name, arguments follow in fragments.
    let body = openai_tools_request("Both, in parallel please.", true);
    let text = post_openai(&mock, "/v1/chat/completions", "sk-t", &body)
        .await
        .text()
        .await
        .unwrap();
    let events = sse_events(&text, "\n\n");
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let mut args = [String::new(), String::new()];
    let mut names = Vec::new();
    let mut fragments = 0;
    let mut finish = Vec::new();
    for (_, data) in &events[..events.len() - 1] {
        let chunk: Value = serde_json::from_str(data).unwrap();
        if let Some(f) = chunk["choices"][0]["finish_reason"].as_str() {
            finish.push(f.to_string());
        }
        for call in chunk["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let i = u(&call["index"]) as usize;
            if let Some(name) = call["function"]["name"].as_str() {
                assert!(call["id"].as_str().unwrap().starts_with("call_"));
                names.push(name.to_string());
            }
            let piece = call["function"]["arguments"].as_str().unwrap();
            if !piece.is_empty() {
                fragments += 1;
            }
            args[i].push_str(piece);
        }
    }
    assert_eq!(names, ["get_weather", "get_time"]);
    assert_eq!(args[0], WEATHER_ARGS);
    assert_eq!(args[1], r#"{"zone":"mock"}"#);
    assert!(fragments > 2, "arguments arrive in fragments");
    assert_eq!(finish, ["tool_calls"]);
    let (_, usage_chunk) = &events[events.len() - 2];
    let usage_chunk: Value = serde_json::from_str(usage_chunk).unwrap();
    assert_eq!(
        u(&usage_chunk["usage"]["completion_tokens"]),
        mock.last_request()
            .unwrap()
            .usage_sent
            .unwrap()
            .completion_tokens
    );

    // After the tool result the mock answers with text; tool_choice none never calls.
    let mut body = openai_tools_request("What's the weather?", false);
    body["messages"] = json!([
        {"role": "user", "content": "What's the weather?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": WEATHER_ARGS}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    ]);
    let v: Value = post_openai(&mock, "/v1/chat/completions", "sk-t", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["choices"][0]["message"]["content"].is_string());
    let mut body = openai_tools_request("What's the weather?", false);
    body["tool_choice"] = json!("none");
    let v: Value = post_openai(&mock, "/v1/chat/completions", "sk-t", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
}

fn anthropic_tools_request(stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-6",
        "max_tokens": 256,
        "stream": stream,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "text", "text": "What's the weather there?"}
        ]}],
        "tools": [{"name": "get_weather", "description": "Weather", "input_schema": weather_schema()}],
        "tool_choice": {"type": "tool", "name": "get_weather"}
    })
}

#[tokio::test]
async fn anthropic_tool_use_non_stream_and_stream() {
    let mock = fast_mock().await;
    let v: Value = post_anthropic(
        &mock,
        "/v1/messages",
        "sk-ant",
        &anthropic_tools_request(false),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["stop_reason"], "tool_use");
    assert_eq!(v["content"][0]["type"], "text");
    let tool = &v["content"][1];
    assert_eq!(tool["type"], "tool_use");
    assert!(tool["id"].as_str().unwrap().starts_with("toolu_01"));
    assert_eq!(tool["name"], "get_weather");
    assert_eq!(
        tool["input"],
        json!({"location": "mock", "unit": "celsius"})
    );
    assert_eq!(
        mock.last_request()
            .unwrap()
            .usage_sent
            .unwrap()
            .completion_tokens,
        u(&v["usage"]["output_tokens"])
    );

    let text = post_anthropic(
        &mock,
        "/v1/messages",
        "sk-ant",
        &anthropic_tools_request(true),
    )
    .await
    .text()
    .await
    .unwrap();
    let events = sse_events(&text, "\n\n");
    let mut partial = String::new();
    let mut starts = Vec::new();
    let mut stop_reason = None;
    for (name, data) in &events {
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["type"].as_str(), name.as_deref());
        match name.as_deref() {
            Some("content_block_start") => starts.push((
                u(&v["index"]),
                v["content_block"]["type"].as_str().unwrap().to_string(),
            )),
            Some("content_block_delta") if v["delta"]["type"] == "input_json_delta" => {
                assert_eq!(u(&v["index"]), 1);
                partial.push_str(v["delta"]["partial_json"].as_str().unwrap());
            }
            Some("message_delta") => stop_reason = Some(v["delta"]["stop_reason"].clone()),
            _ => {}
        }
    }
    assert_eq!(
        starts,
        [(0, "text".to_string()), (1, "tool_use".to_string())]
    );
    assert_eq!(
        serde_json::from_str::<Value>(&partial).unwrap(),
        json!({"location": "mock", "unit": "celsius"})
    );
    assert_eq!(stop_reason, Some(json!("tool_use")));
    assert_eq!(events.last().unwrap().0.as_deref(), Some("message_stop"));
    // The image arrived as sent.
    let recorded = mock.last_request().unwrap().json().unwrap();
    assert_eq!(
        recorded["messages"][0]["content"][0]["source"]["data"],
        "iVBORw0KGgo="
    );
}

fn gemini_tools_request() -> Value {
    json!({
        "contents": [{"role": "user", "parts": [
            {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
            {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/a.png"}},
            {"text": "Weather and time, in parallel."}
        ]}],
        "tools": [{"functionDeclarations": [
            {"name": "get_weather", "parametersJsonSchema": weather_schema()},
            {"name": "get_time"}
        ]}]
    })
}

#[tokio::test]
async fn gemini_function_calls_whole_and_streamed() {
    let mock = fast_mock().await;
    let body = gemini_tools_request();
    let want = json!([
        {"functionCall": {"name": "get_weather", "args": {"location": "mock", "unit": "celsius"}}},
        {"functionCall": {"name": "get_time", "args": {}}}
    ]);
    let v: Value = post_gemini(
        &mock,
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "AIza-t",
        &body,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["candidates"][0]["content"]["parts"], want);
    assert_eq!(v["candidates"][0]["finishReason"], "STOP");
    let sent = mock.last_request().unwrap().usage_sent.unwrap();
    assert_eq!(
        sent.completion_tokens,
        u(&v["usageMetadata"]["candidatesTokenCount"])
            + u(&v["usageMetadata"]["thoughtsTokenCount"])
    );
    let text = post_gemini(
        &mock,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "AIza-t",
        &body,
    )
    .await
    .text()
    .await
    .unwrap();
    let events = sse_events(&text, "\r\n\r\n");
    assert_eq!(events.len(), 1);
    let chunk: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(chunk["candidates"][0]["content"]["parts"], want);
    let array: Value = post_gemini(
        &mock,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        "AIza-t",
        &body,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(array[0]["candidates"][0]["content"]["parts"], want);
    // After a function response: text.
    let mut answered = body.clone();
    answered["contents"] = json!([
        {"role": "user", "parts": [{"text": "Weather?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"location": "x"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}}]}
    ]);
    let v: Value = post_gemini(
        &mock,
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "AIza-t",
        &answered,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(v["candidates"][0]["content"]["parts"][0]["text"].is_string());
}

#[tokio::test]
async fn images_are_accepted_in_every_format() {
    let mock = fast_mock().await;
    let openai = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
    ]}]});
    let r = post_openai(&mock, "/v1/chat/completions", "sk-i", &openai).await;
    assert_eq!(r.status(), 200);
    let mut anthropic = anthropic_tools_request(false);
    anthropic.as_object_mut().unwrap().remove("tools");
    anthropic.as_object_mut().unwrap().remove("tool_choice");
    let r = post_anthropic(&mock, "/v1/messages", "sk-i", &anthropic).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["stop_reason"], "end_turn");
    let mut gemini = gemini_tools_request();
    gemini.as_object_mut().unwrap().remove("tools");
    let r = post_gemini(
        &mock,
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "AIza-i",
        &gemini,
    )
    .await;
    assert_eq!(r.status(), 200);
    let bodies: Vec<Value> = mock.requests().iter().map(|r| r.json().unwrap()).collect();
    assert_eq!(bodies[0], openai);
    assert_eq!(bodies[2], gemini);
}
