//! Translation against the mock upstream: OpenAI- and Anthropic-format requests translated for
//! each other back end, sent to the mock (which speaks the real wire formats, tools included),
//! and the answers — JSON and SSE as they arrive — translated back. A tool-call round trip,
//! streaming and not, with the usage equal to what the back end sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::{Value, json};
use tollgate::providers::translate::{ResponseSpec, translate_error};
use tollgate::providers::{ApiFormat, TranslateOptions, translate_request};
use tollgate_testkit::{MockOptions, MockUpstream};

const PAIRS: [(ApiFormat, ApiFormat); 4] = [
    (ApiFormat::OpenAi, ApiFormat::Anthropic),
    (ApiFormat::OpenAi, ApiFormat::Gemini),
    (ApiFormat::Anthropic, ApiFormat::OpenAi),
    (ApiFormat::Anthropic, ApiFormat::Gemini),
];

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "location": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
    }, "required": ["location"]})
}

fn first_request(front: ApiFormat, stream: bool) -> Value {
    match front {
        ApiFormat::OpenAi => json!({
            "model": "x/model",
            "stream": stream,
            "stream_options": {"include_usage": true},
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What's the weather where this photo was taken?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": schema()}}],
            "max_tokens": 100
        }),
        _ => json!({
            "model": "x/model",
            "stream": stream,
            "max_tokens": 100,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What's the weather where this photo was taken?"},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/photo.jpg"}}
            ]}],
            "tools": [{"name": "get_weather", "description": "Weather", "input_schema": schema()}]
        }),
    }
}

/// The first request plus the assistant's tool call and its result.
fn second_request(front: ApiFormat, stream: bool, call_id: &str) -> Value {
    let mut req = first_request(front, stream);
    let messages = req["messages"].as_array_mut().unwrap();
    match front {
        ApiFormat::OpenAi => {
            messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"mock\",\"unit\":\"celsius\"}"}}
            ]}));
            messages.push(
                json!({"role": "tool", "tool_call_id": call_id, "content": "Sunny, 21 degrees"}),
            );
        }
        _ => {
            messages.push(json!({"role": "assistant", "content": [
                {"type": "tool_use", "id": call_id, "name": "get_weather", "input": {"location": "mock", "unit": "celsius"}}
            ]}));
            messages.push(json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": call_id, "content": "Sunny, 21 degrees"}
            ]}));
        }
    }
    req
}

fn credential(back: ApiFormat, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match back {
        ApiFormat::OpenAi => builder.bearer_auth("sk-translate"),
        ApiFormat::Anthropic => builder
            .header("x-api-key", "sk-ant-translate")
            .header("anthropic-version", "2023-06-01"),
        ApiFormat::Gemini => builder.header("x-goog-api-key", "AIza-translate"),
    }
}

/// Sends a front-format request through translation to the mock; returns the front-format
/// answer, the translator's usage outcome and the status.
async fn exchange(
    mock: &MockUpstream,
    front: ApiFormat,
    back: ApiFormat,
    request: &Value,
    credential_override: Option<&str>,
) -> (u16, Vec<u8>, tollgate::providers::UsageOutcome) {
    let translated = translate_request(
        front,
        back,
        request.to_string().as_bytes(),
        "mock-model",
        &TranslateOptions::default(),
    )
    .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut builder = client
        .post(format!("{}{}", mock.base_url(), translated.path))
        .header("content-type", "application/json")
        .body(translated.body.clone());
    builder = match credential_override {
        Some(key) => builder
            .bearer_auth(key)
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01")
            .header("x-goog-api-key", key),
        None => credential(back, builder),
    };
    let mut response = builder.send().await.unwrap();
    let status = response.status().as_u16();
    if status != 200 {
        let body = response.bytes().await.unwrap();
        let (status, body) = translate_error(back, front, status, &body);
        return (status, body.to_vec(), Default::default());
    }
    let mut translator = translated.response_translator(1_764_000_000);
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        out.extend_from_slice(&translator.feed(&chunk));
    }
    out.extend_from_slice(&translator.finish());
    (200, out, translator.outcome())
}

fn sse_data(body: &[u8]) -> Vec<(Option<String>, Value)> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.ends_with("\n\n"), "{text}");
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|event| {
            let mut name = None;
            let mut data = Value::Null;
            for line in event.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_string());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = if d == "[DONE]" {
                        json!("[DONE]")
                    } else {
                        serde_json::from_str(d).unwrap()
                    };
                }
            }
            (name, data)
        })
        .collect()
}

/// The answer read back in the front format: (text, tool calls as (id, name, args), finish,
/// visible output tokens).
fn read_answer(
    front: ApiFormat,
    stream: bool,
    body: &[u8],
) -> (String, Vec<(String, String, Value)>, String, u64) {
    let mut text = String::new();
    let mut calls: Vec<(String, String, String)> = Vec::new();
    let mut finish = String::new();
    let mut output = 0;
    match (front, stream) {
        (ApiFormat::OpenAi, false) => {
            let v: Value = serde_json::from_slice(body).unwrap();
            let c = &v["choices"][0];
            text = c["message"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            for t in c["message"]["tool_calls"].as_array().into_iter().flatten() {
                calls.push((
                    t["id"].as_str().unwrap().into(),
                    t["function"]["name"].as_str().unwrap().into(),
                    t["function"]["arguments"].as_str().unwrap().into(),
                ));
            }
            finish = c["finish_reason"].as_str().unwrap().into();
            output = v["usage"]["completion_tokens"].as_u64().unwrap();
        }
        (ApiFormat::OpenAi, true) => {
            let events = sse_data(body);
            assert_eq!(events.last().unwrap().1, json!("[DONE]"));
            for (_, v) in &events[..events.len() - 1] {
                assert_eq!(v["object"], "chat.completion.chunk");
                if let Some(u) = v["usage"]["completion_tokens"].as_u64() {
                    output = u;
                }
                let c = &v["choices"][0];
                text.push_str(c["delta"]["content"].as_str().unwrap_or_default());
                if let Some(f) = c["finish_reason"].as_str() {
                    finish = f.into();
                }
                for t in c["delta"]["tool_calls"].as_array().into_iter().flatten() {
                    let i = t["index"].as_u64().unwrap() as usize;
                    if i == calls.len() {
                        calls.push((
                            t["id"].as_str().unwrap().into(),
                            t["function"]["name"].as_str().unwrap().into(),
                            String::new(),
                        ));
                    }
                    calls[i]
                        .2
                        .push_str(t["function"]["arguments"].as_str().unwrap());
                }
            }
        }
        (_, false) => {
            let v: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(v["type"], "message");
            for b in v["content"].as_array().unwrap() {
                match b["type"].as_str().unwrap() {
                    "text" => text.push_str(b["text"].as_str().unwrap()),
                    "tool_use" => calls.push((
                        b["id"].as_str().unwrap().into(),
                        b["name"].as_str().unwrap().into(),
                        b["input"].to_string(),
                    )),
                    other => panic!("unexpected block {other}"),
                }
            }
            finish = v["stop_reason"].as_str().unwrap().into();
            output = v["usage"]["output_tokens"].as_u64().unwrap();
        }
        (_, true) => {
            let events = sse_data(body);
            assert_eq!(events.last().unwrap().0.as_deref(), Some("message_stop"));
            let mut kinds = std::collections::HashMap::new();
            for (name, v) in &events {
                assert_eq!(v["type"].as_str(), name.as_deref());
                match name.as_deref().unwrap() {
                    "content_block_start" => {
                        let b = &v["content_block"];
                        kinds.insert(v["index"].as_u64().unwrap(), calls.len());
                        if b["type"] == "tool_use" {
                            calls.push((
                                b["id"].as_str().unwrap().into(),
                                b["name"].as_str().unwrap().into(),
                                String::new(),
                            ));
                        }
                    }
                    "content_block_delta" => match v["delta"]["type"].as_str().unwrap() {
                        "text_delta" => text.push_str(v["delta"]["text"].as_str().unwrap()),
                        _ => {
                            let i = kinds[&v["index"].as_u64().unwrap()];
                            calls[i]
                                .2
                                .push_str(v["delta"]["partial_json"].as_str().unwrap());
                        }
                    },
                    "message_delta" => {
                        finish = v["delta"]["stop_reason"].as_str().unwrap().into();
                        output = v["usage"]["output_tokens"].as_u64().unwrap();
                    }
                    _ => {}
                }
            }
        }
    }
    let calls = calls
        .into_iter()
        .map(|(id, name, args)| (id, name, serde_json::from_str(&args).unwrap()))
        .collect();
    (text, calls, finish, output)
}

#[tokio::test]
async fn tool_round_trip_through_every_translation() {
    let mock = MockUpstream::start_with(MockOptions {
        event_delay: Duration::ZERO,
        ..MockOptions::default()
    })
    .await;
    for (front, back) in PAIRS {
        for stream in [false, true] {
            let case = format!("{front:?}->{back:?} stream={stream}");
            // 1. The model asks for the tool.
            let (status, body, outcome) =
                exchange(&mock, front, back, &first_request(front, stream), None).await;
            assert_eq!(status, 200, "{case}");
            let sent = mock.last_request().unwrap();
            // The back end got its own format: images and tools in its shape.
            let received = sent.json().unwrap();
            match back {
                ApiFormat::Anthropic => {
                    assert_eq!(received["max_tokens"], 100, "{case}");
                    assert_eq!(
                        received["messages"][0]["content"][1]["type"], "image",
                        "{case}"
                    );
                    assert_eq!(received["tools"][0]["name"], "get_weather", "{case}");
                }
                ApiFormat::Gemini => {
                    let image = &received["contents"][0]["parts"][1];
                    assert!(
                        image.get("inlineData").or(image.get("fileData")).is_some(),
                        "{case}"
                    );
                    assert_eq!(
                        received["tools"][0]["functionDeclarations"][0]["name"],
                        "get_weather"
                    );
                    assert_eq!(sent.query.as_deref(), stream.then_some("alt=sse"), "{case}");
                }
                ApiFormat::OpenAi => {
                    assert_eq!(
                        received["messages"][1]["content"][1]["type"], "image_url",
                        "{case}"
                    );
                    assert_eq!(received["tools"][0]["function"]["name"], "get_weather");
                }
            }
            let (_, calls, finish, output) = read_answer(front, stream, &body);
            assert_eq!(calls.len(), 1, "{case}: {}", String::from_utf8_lossy(&body));
            assert_eq!(calls[0].1, "get_weather", "{case}");
            assert_eq!(
                calls[0].2,
                json!({"location": "mock", "unit": "celsius"}),
                "{case}"
            );
            let want_finish = if front == ApiFormat::OpenAi {
                "tool_calls"
            } else {
                "tool_use"
            };
            assert_eq!(finish, want_finish, "{case}");
            // Usage: the back end's own figures, complete; the client sees the same output count.
            let usage_sent = sent.usage_sent.unwrap();
            let usage = outcome.usage.unwrap();
            assert!(outcome.complete, "{case}");
            assert_eq!(usage.prompt_tokens, usage_sent.prompt_tokens, "{case}");
            assert_eq!(
                usage.completion_tokens, usage_sent.completion_tokens,
                "{case}"
            );
            assert_eq!(
                usage.cache_read_tokens, usage_sent.cache_read_tokens,
                "{case}"
            );
            assert_eq!(
                usage.cache_write_tokens, usage_sent.cache_write_tokens,
                "{case}"
            );
            assert_eq!(output, usage_sent.completion_tokens, "{case}");

            // 2. The tool result goes back; the model answers with text.
            let second = second_request(front, stream, &calls[0].0);
            let (status, body, outcome) = exchange(&mock, front, back, &second, None).await;
            assert_eq!(status, 200, "{case}");
            let (text, calls, finish, _) = read_answer(front, stream, &body);
            assert!(calls.is_empty(), "{case}");
            assert_eq!(text, "Hello from the mock upstream", "{case}");
            let want_finish = if front == ApiFormat::OpenAi {
                "stop"
            } else {
                "end_turn"
            };
            assert_eq!(finish, want_finish, "{case}");
            assert!(outcome.complete, "{case}");
            let received = mock.last_request().unwrap().json().unwrap();
            let as_text = received.to_string();
            assert!(as_text.contains("Sunny, 21 degrees"), "{case}: {as_text}");
        }
    }
}

#[tokio::test]
async fn back_end_errors_reach_the_client_in_its_format() {
    let mock = MockUpstream::start().await;
    for (front, back) in PAIRS {
        let (status, body, _) = exchange(
            &mock,
            front,
            back,
            &first_request(front, false),
            Some("fail-429"),
        )
        .await;
        assert_eq!(status, 429);
        let v: Value = serde_json::from_slice(&body).unwrap();
        match front {
            ApiFormat::OpenAi => {
                assert_eq!(v["error"]["type"], "rate_limit_error", "{back:?}");
                assert!(v["error"]["message"].as_str().unwrap().len() > 5);
            }
            _ => {
                assert_eq!(v["type"], "error");
                assert_eq!(v["error"]["type"], "rate_limit_error", "{back:?}");
            }
        }
    }
}

#[test]
fn response_spec_is_public_for_the_proxy() {
    // The proxy can build a translator without keeping the Translated value around.
    let spec = ResponseSpec {
        front: ApiFormat::OpenAi,
        back: ApiFormat::Gemini,
        stream: false,
        include_usage: false,
        usage_injected: false,
        model: "gemini/gemini-2.5-flash".into(),
    };
    let mut t = tollgate::providers::ResponseTranslator::new(spec, 1);
    assert!(
        t.feed(br#"{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}"#)
            .is_empty()
    );
    let out: Value = serde_json::from_slice(&t.finish()).unwrap();
    assert_eq!(out["choices"][0]["message"]["content"], "hi");
    assert_eq!(out["model"], "gemini/gemini-2.5-flash");
}
