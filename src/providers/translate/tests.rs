//! Golden tests: request/response fixtures in the providers' documented shapes
//! (`fixtures/*`), translated and compared with the expected files (`fixtures/expected/*`).
//! Set `TOLLGATE_UPDATE_GOLDENS=1` to rewrite the expected files, then review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::providers::{Endpoint, Usage, UsageOutcome, UsageTracker};

const CREATED: u64 = 1_764_000_000;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/providers/translate/fixtures")
}

pub(super) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn updating() -> bool {
    std::env::var_os("TOLLGATE_UPDATE_GOLDENS").is_some()
}

fn expected_path(name: &str) -> PathBuf {
    dir().join("expected").join(name)
}

/// Compares JSON by value with `expected/{name}`.
fn golden_json(name: &str, actual: &[u8]) {
    let actual: Value = serde_json::from_slice(actual).unwrap();
    let path = expected_path(name);
    if updating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = serde_json::to_string_pretty(&actual).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
    }
    let want: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        actual,
        want,
        "{name}: got\n{}",
        serde_json::to_string_pretty(&actual).unwrap()
    );
}

/// Compares bytes with `expected/{name}`.
fn golden_bytes(name: &str, actual: &[u8]) {
    let path = expected_path(name);
    if updating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read(&path).unwrap();
    assert_eq!(
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(&want),
        "{name}"
    );
}

fn opts() -> TranslateOptions {
    TranslateOptions::default()
}

fn translate(front: ApiFormat, back: ApiFormat, body: &[u8], model: &str) -> Translated {
    translate_request(front, back, body, model, &opts()).unwrap()
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn spec(front: ApiFormat, back: ApiFormat, stream: bool, include_usage: bool) -> ResponseSpec {
    ResponseSpec {
        front,
        back,
        stream,
        include_usage,
        usage_injected: false,
        model: "client-model".into(),
    }
}

/// Runs a response through a translator cut at `splits`.
pub(super) fn run(spec: &ResponseSpec, body: &[u8], splits: &[usize]) -> (Vec<u8>, UsageOutcome) {
    let mut t = ResponseTranslator::new(spec.clone(), CREATED);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in splits.iter().chain(std::iter::once(&body.len())) {
        out.extend_from_slice(&t.feed(&body[start..cut]));
        start = cut;
    }
    out.extend_from_slice(&t.finish());
    assert!(t.finish().is_empty());
    assert!(t.feed(b"data: {}\n\n").is_empty());
    (out, t.outcome())
}

/// Same output and outcome for one chunk, every split point, byte by byte and random cuts.
fn check_all_chunkings(spec: &ResponseSpec, body: &[u8]) -> (Vec<u8>, UsageOutcome) {
    let want = run(spec, body, &[]);
    for a in 0..=body.len() {
        assert_eq!(run(spec, body, &[a]), want, "split at {a}");
    }
    let every: Vec<usize> = (1..body.len()).collect();
    assert_eq!(run(spec, body, &every), want, "byte by byte");
    let mut seed = body.len() as u64 | 1;
    for round in 0..32 {
        let mut cuts = Vec::new();
        for _ in 0..(round % 7) {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            cuts.push((seed >> 33) as usize % (body.len() + 1));
        }
        cuts.sort_unstable();
        assert_eq!(run(spec, body, &cuts), want, "cuts {cuts:?}");
    }
    want
}

/// After any prefix, exactly the translation of the complete events in it was emitted.
fn check_no_delay(spec: &ResponseSpec, body: &[u8], sep: &[u8]) {
    let full = run(spec, body, &[]).0;
    for a in 0..=body.len() {
        let mut t = ResponseTranslator::new(spec.clone(), CREATED);
        let first = t.feed(&body[..a]);
        let complete = memchr::memmem::rfind(&body[..a], sep).map_or(0, |p| p + sep.len());
        let mut t2 = ResponseTranslator::new(spec.clone(), CREATED);
        let expect = t2.feed(&body[..complete]);
        assert_eq!(first, expect, "prefix of {a} bytes");
        assert!(full.starts_with(&first));
    }
}

/// The outcome a passthrough usage tracker reports on the same back-end bytes.
fn tracker_outcome(back: ApiFormat, stream: bool, body: &[u8]) -> UsageOutcome {
    let endpoint = match back {
        ApiFormat::OpenAi => Endpoint::ChatCompletions,
        ApiFormat::Anthropic => Endpoint::Messages,
        ApiFormat::Gemini if stream => Endpoint::StreamGenerateContent,
        ApiFormat::Gemini => Endpoint::GenerateContent,
    };
    let mut t = UsageTracker::new(back, endpoint, stream, false, 1 << 20);
    t.feed(body);
    t.flush();
    t.outcome()
}

/// Parses an SSE body into (event name, JSON data) pairs.
fn sse_events(body: &[u8]) -> Vec<(Option<String>, Value)> {
    let mut out = Vec::new();
    let mut splitter = crate::providers::SseSplitter::new(1 << 20);
    let mut on = |item: crate::providers::SseItem<'_>| {
        if let crate::providers::SseItem::Event(ev) = item
            && let Some(data) = ev.data
        {
            let value = if data == b"[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_slice(data).unwrap()
            };
            out.push((
                ev.event.map(|e| String::from_utf8_lossy(e).into_owned()),
                value,
            ));
        }
    };
    splitter.push(body, &mut on);
    splitter.finish(&mut on);
    out
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

#[test]
fn openai_request_to_anthropic() {
    let t = translate(
        ApiFormat::OpenAi,
        ApiFormat::Anthropic,
        &fixture("openai_request.json"),
        "claude-sonnet-4-5",
    );
    assert_eq!(t.path, "/v1/messages");
    assert!(t.stream);
    assert!(t.dropped.is_empty());
    assert_eq!(
        t.response,
        ResponseSpec {
            front: ApiFormat::OpenAi,
            back: ApiFormat::Anthropic,
            stream: true,
            include_usage: true,
            usage_injected: false,
            model: "anthropic/claude-sonnet-4-5".into(),
        }
    );
    assert_eq!(t.response.content_type(), "text/event-stream");
    golden_json("openai_request.to_anthropic.json", &t.body);
    let body = json_of(&t.body);
    // The two tool results and the next user text share one user turn, results first.
    let last = &body["messages"][2]["content"];
    assert_eq!(last[0]["type"], "tool_result");
    assert_eq!(last[1]["tool_use_id"], "call_def456");
    assert_eq!(last[2]["type"], "text");
}

#[test]
fn openai_request_to_gemini() {
    let t = translate(
        ApiFormat::OpenAi,
        ApiFormat::Gemini,
        &fixture("openai_request.json"),
        "gemini-2.5-flash",
    );
    assert_eq!(
        t.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert!(t.stream);
    golden_json("openai_request.to_gemini.json", &t.body);
    let body = json_of(&t.body);
    // Tool results carry the called function's name; a JSON object result stays structured.
    let results = &body["contents"][2]["parts"];
    assert_eq!(
        results[0]["functionResponse"],
        json!({"name": "get_current_weather", "response": {"temperature": 22, "condition": "sunny"}})
    );
    assert_eq!(
        results[1]["functionResponse"]["response"],
        json!({"content": "Rainy, 18 degrees"})
    );
    // Non-streaming: the plain method.
    let mut req = json_of(&fixture("openai_request.json"));
    req["stream"] = json!(false);
    let t = translate(
        ApiFormat::OpenAi,
        ApiFormat::Gemini,
        req.to_string().as_bytes(),
        "gemini-2.5-flash",
    );
    assert_eq!(t.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert!(!t.stream);
}

#[test]
fn anthropic_request_to_openai() {
    let t = translate(
        ApiFormat::Anthropic,
        ApiFormat::OpenAi,
        &strip_top_k(&fixture("anthropic_request.json")),
        "gpt-4o",
    );
    assert_eq!(t.path, "/v1/chat/completions");
    assert!(!t.stream);
    assert_eq!(t.response.content_type(), "application/json");
    golden_json("anthropic_request.to_openai.json", &t.body);
}

fn strip_top_k(body: &[u8]) -> Vec<u8> {
    let mut v = json_of(body);
    v.as_object_mut().unwrap().remove("top_k");
    v.to_string().into_bytes()
}

#[test]
fn anthropic_request_to_gemini() {
    let t = translate(
        ApiFormat::Anthropic,
        ApiFormat::Gemini,
        &fixture("anthropic_request.json"),
        "gemini-2.5-pro",
    );
    assert_eq!(t.path, "/v1beta/models/gemini-2.5-pro:generateContent");
    golden_json("anthropic_request.to_gemini.json", &t.body);
}

#[test]
fn anthropic_top_k_is_refused_by_openai_or_dropped() {
    let body = fixture("anthropic_request.json");
    let err = translate_request(
        ApiFormat::Anthropic,
        ApiFormat::OpenAi,
        &body,
        "gpt-4o",
        &opts(),
    )
    .unwrap_err();
    assert_eq!(err.param(), Some("top_k"));
    assert_eq!(err.status(), 400);
    let (status, rendered) = err.render(ApiFormat::Anthropic);
    assert_eq!(status, 400);
    let rendered = json_of(&rendered);
    assert_eq!(rendered["type"], "error");
    assert_eq!(rendered["error"]["type"], "invalid_request_error");
    assert!(
        rendered["error"]["message"]
            .as_str()
            .unwrap()
            .contains("top_k")
    );
    let dropping = TranslateOptions {
        drop_unsupported_params: true,
        ..opts()
    };
    let t = translate_request(
        ApiFormat::Anthropic,
        ApiFormat::OpenAi,
        &body,
        "gpt-4o",
        &dropping,
    )
    .unwrap();
    assert_eq!(t.dropped, ["top_k"]);
    assert!(json_of(&t.body).get("top_k").is_none());
}

#[test]
fn unsupported_parameters_name_the_parameter() {
    use ApiFormat::*;
    let base = |extra: Value| {
        let mut v = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v.to_string().into_bytes()
    };
    let cases: Vec<(ApiFormat, ApiFormat, Value, &str)> = vec![
        (
            OpenAi,
            Anthropic,
            json!({"response_format": {"type": "json_object"}}),
            "response_format",
        ),
        (OpenAi, Anthropic, json!({"seed": 7}), "seed"),
        (OpenAi, Anthropic, json!({"n": 2}), "n"),
        (
            OpenAi,
            Anthropic,
            json!({"presence_penalty": 0.5}),
            "presence_penalty",
        ),
        (
            OpenAi,
            Anthropic,
            json!({"logit_bias": {"1": 2}}),
            "logit_bias",
        ),
        (OpenAi, Gemini, json!({"logprobs": true}), "logprobs"),
        (
            OpenAi,
            Gemini,
            json!({"parallel_tool_calls": false}),
            "parallel_tool_calls",
        ),
        (
            OpenAi,
            Gemini,
            json!({"audio": {"voice": "alloy"}}),
            "audio",
        ),
        (
            OpenAi,
            Anthropic,
            json!({"tools": [{"type": "custom", "custom": {"name": "x"}}]}),
            "tools.type",
        ),
    ];
    for (front, back, extra, param) in cases {
        let body = base(extra.clone());
        let err = translate_request(front, back, &body, "m", &opts()).unwrap_err();
        assert_eq!(err.param(), Some(param), "{extra}");
        let (status, rendered) = err.render(front);
        assert_eq!(status, 400);
        let rendered = json_of(&rendered);
        assert_eq!(rendered["error"]["param"], param, "{extra}");
        assert_eq!(rendered["error"]["code"], "unsupported_parameter");
        assert_eq!(rendered["error"]["type"], "invalid_request_error");
        let dropping = TranslateOptions {
            drop_unsupported_params: true,
            ..opts()
        };
        let t = translate_request(front, back, &body, "m", &dropping).unwrap();
        assert_eq!(t.dropped, [param], "{extra}");
    }
    // Values that ask for nothing are not refused.
    for extra in [
        json!({"n": 1, "presence_penalty": 0, "frequency_penalty": 0.0, "logprobs": false}),
        json!({"seed": null, "logit_bias": null, "parallel_tool_calls": true}),
        json!({"store": true, "metadata": {"a": "b"}, "service_tier": "auto"}),
        json!({"response_format": {"type": "text"}}),
    ] {
        let t = translate_request(OpenAi, Anthropic, &base(extra.clone()), "m", &opts());
        assert!(t.is_ok(), "{extra}: {t:?}");
    }
    // Anthropic front: extended thinking cannot be carried to another provider.
    let body = json!({"model": "m", "max_tokens": 5, "messages": [], "thinking": {"type": "enabled", "budget_tokens": 2000}});
    let err = translate_request(Anthropic, OpenAi, body.to_string().as_bytes(), "m", &opts())
        .unwrap_err();
    assert_eq!(err.param(), Some("thinking"));
}

#[test]
fn invalid_requests_are_400_naming_the_field() {
    use ApiFormat::*;
    let cases: Vec<(ApiFormat, &[u8], Option<&str>)> = vec![
        (OpenAi, b"not json", None),
        (OpenAi, b"[1]", None),
        (OpenAi, br#"{"model":"m"}"#, Some("messages")),
        (OpenAi, br#"{"messages":"hi"}"#, Some("messages")),
        (
            OpenAi,
            br#"{"messages":[{"role":"wizard","content":"x"}]}"#,
            Some("messages[0].role"),
        ),
        (
            OpenAi,
            br#"{"messages":[],"temperature":"hot"}"#,
            Some("temperature"),
        ),
        (
            OpenAi,
            br#"{"messages":[],"max_tokens":-1}"#,
            Some("max_tokens"),
        ),
        (
            OpenAi,
            br#"{"messages":[],"tool_choice":"sometimes"}"#,
            Some("tool_choice"),
        ),
        (OpenAi, br#"{"messages":[],"stop":[1]}"#, Some("stop")),
        (Anthropic, br#"{"messages":[]}"#, Some("max_tokens")),
        (
            Anthropic,
            br#"{"max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#,
            Some("messages.0.role"),
        ),
        (
            Anthropic,
            br#"{"max_tokens":5,"messages":[],"tool_choice":{"type":"maybe"}}"#,
            Some("tool_choice.type"),
        ),
    ];
    for (front, body, param) in cases {
        let back = if front == OpenAi { Anthropic } else { OpenAi };
        let err = translate_request(front, back, body, "m", &opts()).unwrap_err();
        assert_eq!(err.param(), param, "{}", String::from_utf8_lossy(body));
        assert_eq!(err.status(), 400);
    }
    // OpenAI → Anthropic: tool-call arguments must be an object.
    let body = json!({"messages": [
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}
    ]});
    assert!(
        translate_request(OpenAi, Anthropic, body.to_string().as_bytes(), "m", &opts()).is_err()
    );
    // Gemini needs the tool name of a result: a result without its call is refused.
    let body = json!({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]});
    let err =
        translate_request(OpenAi, Gemini, body.to_string().as_bytes(), "m", &opts()).unwrap_err();
    assert_eq!(err.param(), Some("messages"));
    // Gemini fronts are not translated.
    let err = translate_request(Gemini, OpenAi, b"{}", "m", &opts()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::UnsupportedPair {
            front: Gemini,
            back: OpenAi
        }
    );
}

#[test]
fn tool_choice_mapping() {
    use ApiFormat::*;
    let openai = |choice: Value, parallel: Option<bool>| {
        let mut v = json!({"messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "get_weather"}}],
            "tool_choice": choice});
        if let Some(p) = parallel {
            v["parallel_tool_calls"] = json!(p);
        }
        v.to_string().into_bytes()
    };
    let named = json!({"type": "function", "function": {"name": "get_weather"}});
    for (choice, parallel, anthropic, gemini) in [
        (
            json!("auto"),
            None,
            json!({"type": "auto"}),
            json!({"mode": "AUTO"}),
        ),
        (
            json!("none"),
            None,
            json!({"type": "none"}),
            json!({"mode": "NONE"}),
        ),
        (
            json!("required"),
            None,
            json!({"type": "any"}),
            json!({"mode": "ANY"}),
        ),
        (
            named.clone(),
            None,
            json!({"type": "tool", "name": "get_weather"}),
            json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
        ),
        (
            json!("required"),
            Some(false),
            json!({"type": "any", "disable_parallel_tool_use": true}),
            Value::Null,
        ),
        (
            Value::Null,
            Some(false),
            json!({"type": "auto", "disable_parallel_tool_use": true}),
            Value::Null,
        ),
    ] {
        let body = openai(choice.clone(), parallel);
        let a = json_of(&translate(OpenAi, Anthropic, &body, "c").body);
        assert_eq!(a["tool_choice"], anthropic, "{choice}");
        // The tool without parameters still gets Anthropic's required schema.
        assert_eq!(
            a["tools"][0],
            json!({"name": "get_weather", "input_schema": {"type": "object", "properties": {}}})
        );
        if !gemini.is_null() {
            let g = json_of(&translate(OpenAi, Gemini, &body, "g").body);
            assert_eq!(g["toolConfig"]["functionCallingConfig"], gemini, "{choice}");
            assert_eq!(
                g["tools"],
                json!([{"functionDeclarations": [{"name": "get_weather"}]}])
            );
        }
        // And back from Anthropic to OpenAI.
        let mut anthropic_req = json!({"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]});
        anthropic_req["tool_choice"] = anthropic.clone();
        let o =
            json_of(&translate(Anthropic, OpenAi, anthropic_req.to_string().as_bytes(), "o").body);
        let want = if choice.is_null() {
            json!("auto")
        } else {
            choice.clone()
        };
        assert_eq!(o["tool_choice"], want, "{anthropic}");
        assert_eq!(
            o.get("parallel_tool_calls").cloned(),
            parallel.map(Value::Bool),
            "{anthropic}"
        );
    }
}

#[test]
fn output_cap_stop_and_sampling_parameters() {
    use ApiFormat::*;
    let body = br#"{"messages":[{"role":"user","content":"hi"}],"stop":"END","max_tokens":50,"temperature":0,"top_p":1}"#;
    let a = json_of(&translate(OpenAi, Anthropic, body, "c").body);
    assert_eq!(a["max_tokens"], 50);
    assert_eq!(a["stop_sequences"], json!(["END"]));
    assert_eq!(a["temperature"], json!(0));
    assert_eq!(a["top_p"], json!(1));
    let g = json_of(&translate(OpenAi, Gemini, body, "g").body);
    assert_eq!(
        g["generationConfig"],
        json!({"maxOutputTokens": 50, "stopSequences": ["END"], "temperature": 0, "topP": 1})
    );
    // No cap: Anthropic gets the documented default (or the configured one); Gemini none.
    let body = br#"{"messages":[{"role":"user","content":"hi"}]}"#;
    let a = json_of(&translate(OpenAi, Anthropic, body, "c").body);
    assert_eq!(a["max_tokens"], DEFAULT_ANTHROPIC_MAX_TOKENS);
    let custom = TranslateOptions {
        default_max_tokens: 8192,
        ..opts()
    };
    let a = json_of(
        &translate_request(OpenAi, Anthropic, body, "c", &custom)
            .unwrap()
            .body,
    );
    assert_eq!(a["max_tokens"], 8192);
    let g = json_of(&translate(OpenAi, Gemini, body, "g").body);
    assert!(g.get("generationConfig").is_none());
    // max_completion_tokens wins over max_tokens, in either order.
    for body in [
        br#"{"messages":[],"max_tokens":5,"max_completion_tokens":9}"#.as_slice(),
        br#"{"messages":[],"max_completion_tokens":9,"max_tokens":5}"#.as_slice(),
    ] {
        assert_eq!(
            json_of(&translate(OpenAi, Anthropic, body, "c").body)["max_tokens"],
            9
        );
    }
    // Anthropic → OpenAI: which field carries the cap is a provider quirk.
    let body = br#"{"max_tokens":77,"messages":[{"role":"user","content":"hi"}],"stream":true}"#;
    let o = json_of(&translate(Anthropic, OpenAi, body, "o").body);
    assert_eq!(o["max_tokens"], 77);
    assert_eq!(o["stream_options"], json!({"include_usage": true}));
    let reasoning = TranslateOptions {
        openai_max_tokens_param: MaxTokensParam::MaxCompletionTokens,
        ..opts()
    };
    let o = json_of(
        &translate_request(Anthropic, OpenAi, body, "o", &reasoning)
            .unwrap()
            .body,
    );
    assert_eq!(o["max_completion_tokens"], 77);
    assert!(o.get("max_tokens").is_none());
    // Gemini takes seed, penalties and n.
    let body =
        br#"{"messages":[],"seed":42,"presence_penalty":0.5,"frequency_penalty":-0.5,"n":2}"#;
    let g = json_of(&translate(OpenAi, Gemini, body, "g").body);
    assert_eq!(
        g["generationConfig"],
        json!({"seed": 42, "presencePenalty": 0.5, "frequencyPenalty": -0.5, "candidateCount": 2})
    );
}

#[test]
fn response_format_to_gemini() {
    use ApiFormat::*;
    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": false});
    let body = json!({"messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "reply", "strict": true, "schema": schema}}});
    let g = json_of(&translate(OpenAi, Gemini, body.to_string().as_bytes(), "g").body);
    assert_eq!(
        g["generationConfig"],
        json!({"responseMimeType": "application/json", "responseJsonSchema": schema})
    );
    let body = br#"{"messages":[],"response_format":{"type":"json_object"}}"#;
    let g = json_of(&translate(OpenAi, Gemini, body, "g").body);
    assert_eq!(
        g["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
}

#[test]
fn same_format_replaces_only_the_model() {
    use ApiFormat::*;
    let body = br#"{ "messages" : [{"role":"user","content":"model"}], "model" : "deepseek/deepseek-chat", "temperature": 0.30 }"#;
    let t = translate(OpenAi, OpenAi, body, "deepseek-chat");
    assert_eq!(
        String::from_utf8(t.body).unwrap(),
        r#"{ "messages" : [{"role":"user","content":"model"}], "model" : "deepseek-chat", "temperature": 0.30 }"#
    );
    assert_eq!(t.path, "/v1/chat/completions");
    assert!(!t.response.usage_injected);
    let t = translate(Anthropic, Anthropic, br#"{"max_tokens":5}"#, "claude-x");
    assert_eq!(
        String::from_utf8(t.body).unwrap(),
        r#"{"model":"claude-x","max_tokens":5}"#
    );
    // An escaped key the byte scan cannot see: the body is re-serialized, the model replaced.
    let t = translate(
        OpenAi,
        OpenAi,
        br#"{"mod\u0065l":"a/b","messages":[]}"#,
        "b",
    );
    assert_eq!(json_of(&t.body), json!({"model": "b", "messages": []}));
    let t = translate(Anthropic, Anthropic, b" {} ", "claude-x");
    assert_eq!(
        String::from_utf8(t.body).unwrap(),
        r#" {"model":"claude-x"} "#
    );
    // Streaming OpenAI without include_usage: usage is asked for and stripped again.
    let body = br#"{"model":"groq/llama","stream":true,"messages":[]}"#;
    let t = translate(OpenAi, OpenAi, body, "llama");
    assert!(t.response.usage_injected);
    assert!(!t.response.include_usage);
    assert_eq!(
        json_of(&t.body)["stream_options"],
        json!({"include_usage": true})
    );
    let upstream = fixture("openai_stream.sse");
    let (out, outcome) = run(&t.response, &upstream, &[100]);
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("\"usage\""));
    assert!(text.ends_with("data: [DONE]\n\n"));
    assert_eq!(outcome.usage.map(|u| u.prompt_tokens), Some(1117));
    // With include_usage asked by the client: passed through untouched.
    let body =
        br#"{"model":"x","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#;
    let t = translate(OpenAi, OpenAi, body, "x");
    assert!(!t.response.usage_injected);
    assert!(t.response.include_usage);
    assert_eq!(run(&t.response, &upstream, &[]).0, upstream);
}

// ---------------------------------------------------------------------------------------------
// Non-streaming responses
// ---------------------------------------------------------------------------------------------

fn response_case(back: ApiFormat, front: ApiFormat, input: &str, golden: &str) -> Value {
    let body = fixture(input);
    let spec = spec(front, back, false, false);
    let (out, outcome) = check_all_chunkings(&spec, &body);
    golden_json(golden, &out);
    assert_eq!(outcome, tracker_outcome(back, false, &body), "{golden}");
    assert!(outcome.complete);
    json_of(&out)
}

#[test]
fn anthropic_response_to_openai() {
    let out = response_case(
        ApiFormat::Anthropic,
        ApiFormat::OpenAi,
        "anthropic_response.json",
        "anthropic_response.to_openai.json",
    );
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
    // OpenAI's prompt figure includes the cache reads and writes.
    assert_eq!(
        out["usage"],
        json!({"prompt_tokens": 290, "completion_tokens": 87, "total_tokens": 377,
            "prompt_tokens_details": {"cached_tokens": 120}})
    );
}

#[test]
fn gemini_response_to_openai() {
    let out = response_case(
        ApiFormat::Gemini,
        ApiFormat::OpenAi,
        "gemini_response.json",
        "gemini_response.to_openai.json",
    );
    let calls = out["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1]["function"]["arguments"], r#"{"location":"Tokyo"}"#);
    assert_ne!(calls[0]["id"], calls[1]["id"]);
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn openai_response_to_anthropic() {
    let out = response_case(
        ApiFormat::OpenAi,
        ApiFormat::Anthropic,
        "openai_response.json",
        "openai_response.to_anthropic.json",
    );
    assert_eq!(out["stop_reason"], "tool_use");
    assert_eq!(
        out["content"][0]["input"],
        json!({"location": "Boston, MA"})
    );
    assert_eq!(
        out["usage"],
        json!({"input_tokens": 18, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 64, "output_tokens": 17})
    );
}

#[test]
fn gemini_response_to_anthropic() {
    let out = response_case(
        ApiFormat::Gemini,
        ApiFormat::Anthropic,
        "gemini_response.json",
        "gemini_response.to_anthropic.json",
    );
    assert_eq!(out["content"].as_array().unwrap().len(), 3);
    assert_eq!(out["usage"]["output_tokens"], 48);
}

#[test]
fn finish_reasons_both_ways() {
    use ApiFormat::*;
    for (reason, openai) in [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("stop_sequence", "stop"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ] {
        let body = json!({"id": "msg_1", "content": [{"type": "text", "text": "x"}], "stop_reason": reason, "stop_sequence": "END", "usage": {"input_tokens": 1, "output_tokens": 2}});
        let (out, _) = run(
            &spec(OpenAi, Anthropic, false, false),
            body.to_string().as_bytes(),
            &[],
        );
        assert_eq!(
            json_of(&out)["choices"][0]["finish_reason"],
            openai,
            "{reason}"
        );
    }
    for (reason, anthropic) in [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("content_filter", "refusal"),
    ] {
        let body = json!({"id": "c", "choices": [{"index": 0, "message": {"content": "x"}, "finish_reason": reason}]});
        let (out, _) = run(
            &spec(Anthropic, OpenAi, false, false),
            body.to_string().as_bytes(),
            &[],
        );
        assert_eq!(json_of(&out)["stop_reason"], anthropic, "{reason}");
    }
    for (reason, openai) in [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("OTHER", "stop"),
    ] {
        let body = json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]});
        let (out, _) = run(
            &spec(OpenAi, Gemini, false, false),
            body.to_string().as_bytes(),
            &[],
        );
        assert_eq!(
            json_of(&out)["choices"][0]["finish_reason"],
            openai,
            "{reason}"
        );
    }
    // A stop sequence named by Anthropic survives into an Anthropic-shaped answer.
    let body = json!({"id": "msg_1", "content": [], "stop_reason": "stop_sequence", "stop_sequence": "END"});
    let resp = anthropic::parse_response(&body).unwrap();
    let rendered = anthropic::render_response(&resp, "m");
    assert_eq!(rendered["stop_sequence"], "END");
    // A blocked Gemini prompt.
    let body = br#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}"#;
    let (out, outcome) = run(&spec(OpenAi, Gemini, false, false), body, &[]);
    assert_eq!(
        json_of(&out)["choices"][0]["finish_reason"],
        "content_filter"
    );
    assert!(outcome.complete);
}

#[test]
fn unreadable_json_answer_becomes_an_error_document() {
    let mut t = ResponseTranslator::new(
        spec(ApiFormat::OpenAi, ApiFormat::Anthropic, false, false),
        CREATED,
    );
    assert!(t.feed(b"{\"id\":").is_empty());
    let out = json_of(&t.finish());
    assert_eq!(out["error"]["type"], "api_error");
    assert!(t.unreadable());
    assert!(!t.outcome().complete);
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

fn stream_case(
    back: ApiFormat,
    front: ApiFormat,
    include_usage: bool,
    input: &str,
    golden: &str,
) -> Vec<u8> {
    let body = fixture(input);
    let spec = spec(front, back, true, include_usage);
    let (out, outcome) = check_all_chunkings(&spec, &body);
    golden_bytes(golden, &out);
    let sep: &[u8] = if body.windows(4).any(|w| w == b"\r\n\r\n") {
        b"\r\n\r\n"
    } else {
        b"\n\n"
    };
    check_no_delay(&spec, &body, sep);
    assert_eq!(outcome, tracker_outcome(back, true, &body), "{golden}");
    assert!(outcome.complete, "{golden}");
    // Every event is valid JSON (or [DONE]).
    assert!(!sse_events(&out).is_empty());
    out
}

#[test]
fn anthropic_stream_to_openai() {
    let out = stream_case(
        ApiFormat::Anthropic,
        ApiFormat::OpenAi,
        true,
        "anthropic_stream.sse",
        "anthropic_stream.to_openai.sse",
    );
    let events = sse_events(&out);
    let (_, last_chunk) = &events[events.len() - 2];
    assert_eq!(
        last_chunk["usage"],
        json!({"prompt_tokens": 2520, "completion_tokens": 89, "total_tokens": 2609, "prompt_tokens_details": {"cached_tokens": 2048}})
    );
    assert_eq!(last_chunk["choices"], json!([]));
    assert_eq!(events.last().unwrap().1, json!("[DONE]"));
    // The tool call's arguments, joined, are the tool input.
    let args: String = events
        .iter()
        .filter_map(|(_, v)| v.pointer("/choices/0/delta/tool_calls/0/function/arguments"))
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        json_of(args.as_bytes()),
        json!({"location": "San Francisco, CA", "unit": "fahrenheit"})
    );
    // Without include_usage: no usage anywhere, still [DONE].
    let (plain, _) = run(
        &spec(ApiFormat::OpenAi, ApiFormat::Anthropic, true, false),
        &fixture("anthropic_stream.sse"),
        &[],
    );
    let plain = String::from_utf8(plain).unwrap();
    assert!(!plain.contains("usage"));
    assert!(plain.ends_with("data: [DONE]\n\n"));
}

#[test]
fn gemini_stream_to_openai() {
    let out = stream_case(
        ApiFormat::Gemini,
        ApiFormat::OpenAi,
        true,
        "gemini_stream.sse",
        "gemini_stream.to_openai.sse",
    );
    let events = sse_events(&out);
    let finish: Vec<&Value> = events
        .iter()
        .filter_map(|(_, v)| v.pointer("/choices/0/finish_reason"))
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, [&json!("tool_calls")]);
    let (_, usage) = &events[events.len() - 2];
    assert_eq!(
        usage["usage"],
        json!({"prompt_tokens": 60, "completion_tokens": 44, "total_tokens": 104,
            "prompt_tokens_details": {"cached_tokens": 32}, "completion_tokens_details": {"reasoning_tokens": 25}})
    );
}

#[test]
fn openai_stream_to_anthropic() {
    let out = stream_case(
        ApiFormat::OpenAi,
        ApiFormat::Anthropic,
        false,
        "openai_stream.sse",
        "openai_stream.to_anthropic.sse",
    );
    let events = sse_events(&out);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    // Block indices count up; each event's data names its own type.
    let starts: Vec<u64> = events
        .iter()
        .filter(|(n, _)| n.as_deref() == Some("content_block_start"))
        .map(|(_, v)| v["index"].as_u64().unwrap())
        .collect();
    assert_eq!(starts, [0, 1, 2]);
    for (name, v) in &events {
        assert_eq!(v["type"].as_str(), name.as_deref());
    }
    let (_, delta) = &events[events.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(
        delta["usage"],
        json!({"input_tokens": 93, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024, "output_tokens": 46})
    );
}

#[test]
fn gemini_stream_to_anthropic() {
    let out = stream_case(
        ApiFormat::Gemini,
        ApiFormat::Anthropic,
        false,
        "gemini_stream.sse",
        "gemini_stream.to_anthropic.sse",
    );
    let events = sse_events(&out);
    // message_start already carries Gemini's prompt figures.
    assert_eq!(events[0].1["message"]["usage"]["input_tokens"], json!(28));
    assert_eq!(events.last().unwrap().0.as_deref(), Some("message_stop"));
}

#[test]
fn streams_cut_short_end_without_terminator() {
    use ApiFormat::*;
    for (back, front, input, cut_at, terminator) in [
        (
            Anthropic,
            OpenAi,
            "anthropic_stream.sse",
            "event: message_delta",
            "[DONE]",
        ),
        (
            OpenAi,
            Anthropic,
            "openai_stream.sse",
            "data: [DONE]",
            "message_stop",
        ),
        (
            Gemini,
            OpenAi,
            "gemini_stream.sse",
            "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}]",
            "[DONE]",
        ),
    ] {
        let body = fixture(input);
        let cut = memchr::memmem::find(&body, cut_at.as_bytes()).unwrap();
        let (out, outcome) = run(&spec(front, back, true, true), &body[..cut], &[cut / 2]);
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains(terminator), "{input}");
        assert!(!outcome.complete, "{input}");
        assert_eq!(
            outcome,
            tracker_outcome(back, true, &body[..cut]),
            "{input}"
        );
    }
}

#[test]
fn mid_stream_errors_are_rendered_in_the_front_format() {
    use ApiFormat::*;
    let anthropic = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let (out, outcome) = run(&spec(OpenAi, Anthropic, true, true), anthropic, &[]);
    let events = sse_events(&out);
    assert_eq!(
        events.last().unwrap().1,
        json!({"error": {"message": "Overloaded", "type": "api_error", "param": null, "code": "overloaded_error"}})
    );
    assert!(!String::from_utf8(out).unwrap().contains("[DONE]"));
    assert!(!outcome.complete);
    let openai = b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"code\":null}}\n\n";
    let (out, _) = run(&spec(Anthropic, OpenAi, true, false), openai, &[]);
    let events = sse_events(&out);
    let (name, last) = events.last().unwrap();
    assert_eq!(name.as_deref(), Some("error"));
    assert_eq!(
        last,
        &json!({"type": "error", "error": {"type": "api_error", "message": "The server had an error"}})
    );
    assert!(!String::from_utf8(out).unwrap().contains("message_stop"));
    let gemini = b"data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}\n\n";
    let (out, _) = run(&spec(Anthropic, Gemini, true, false), gemini, &[]);
    let events = sse_events(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["error"]["type"], "overloaded_error");
}

#[test]
fn parallel_tool_calls_interleaved_by_openai_keep_their_blocks() {
    // Arguments of call 0 arriving after call 1 started still go to call 0's block.
    let body = b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}},{\"index\":1,\"id\":\"call_b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}]}\n\n\
data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"x\\\":1}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n";
    let (out, _) = run(
        &spec(ApiFormat::Anthropic, ApiFormat::OpenAi, true, false),
        body,
        &[],
    );
    let events = sse_events(&out);
    let deltas: Vec<(u64, &str)> = events
        .iter()
        .filter(|(n, _)| n.as_deref() == Some("content_block_delta"))
        .map(|(_, v)| {
            (
                v["index"].as_u64().unwrap(),
                v["delta"]["partial_json"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(deltas, [(1, "{}"), (0, "{\"x\":1}")]);
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn back_end_errors_in_the_front_format() {
    use ApiFormat::*;
    let anthropic_overloaded = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#;
    let (status, body) = translate_error(Anthropic, OpenAi, 529, anthropic_overloaded);
    assert_eq!(status, 529);
    assert_eq!(
        json_of(&body),
        json!({"error": {"message": "Overloaded", "type": "api_error", "param": null, "code": "overloaded_error"}})
    );
    let anthropic_bad = br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}"#;
    let (status, body) = translate_error(Anthropic, OpenAi, 400, anthropic_bad);
    assert_eq!(status, 400);
    assert_eq!(
        json_of(&body),
        json!({"error": {"message": "max_tokens: Field required", "type": "invalid_request_error", "param": null, "code": "invalid_request_error"}})
    );
    let gemini_bad = br#"{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"foo\": Cannot find field.","status":"INVALID_ARGUMENT","details":[]}}"#;
    let (_, body) = translate_error(Gemini, OpenAi, 400, gemini_bad);
    assert_eq!(json_of(&body)["error"]["code"], "INVALID_ARGUMENT");
    assert_eq!(json_of(&body)["error"]["type"], "invalid_request_error");
    let (_, body) = translate_error(Gemini, Anthropic, 429, br#"[{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}]"#);
    assert_eq!(
        json_of(&body),
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Resource has been exhausted"}})
    );
    let openai_404 = br#"{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#;
    let (status, body) = translate_error(OpenAi, Anthropic, 404, openai_404);
    assert_eq!(status, 404);
    assert_eq!(
        json_of(&body),
        json!({"type": "error", "error": {"type": "not_found_error", "message": "The model `gpt-9` does not exist"}})
    );
    // An unreadable body still gives a well-formed error.
    let (status, body) = translate_error(OpenAi, Anthropic, 502, b"<html>bad gateway</html>");
    assert_eq!(status, 502);
    let v = json_of(&body);
    assert_eq!(v["error"]["type"], "api_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("502"));
    // Same format: untouched.
    let (_, body) = translate_error(OpenAi, OpenAi, 400, openai_404);
    assert_eq!(&body[..], openai_404);
}

#[test]
fn translate_error_renders_for_every_front() {
    let err = TranslateError::Unsupported {
        param: "top_k".into(),
        message: "no".into(),
    };
    let (_, gemini) = err.render(ApiFormat::Gemini);
    assert_eq!(
        json_of(&gemini),
        json!({"error": {"code": 400, "message": "no", "status": "INVALID_ARGUMENT"}})
    );
    let err = TranslateError::UnsupportedPair {
        front: ApiFormat::Gemini,
        back: ApiFormat::OpenAi,
    };
    assert_eq!(err.param(), None);
    assert!(err.to_string().contains("gemini"));
}

#[test]
fn usage_outcome_is_the_back_ends_own_figures() {
    let (_, outcome) = run(
        &spec(ApiFormat::OpenAi, ApiFormat::Anthropic, true, false),
        &fixture("anthropic_stream.sse"),
        &[],
    );
    assert_eq!(
        outcome,
        UsageOutcome {
            usage: Some(Usage {
                prompt_tokens: 472,
                completion_tokens: 89,
                cache_write_tokens: 0,
                cache_read_tokens: 2048,
                prompt_includes_cache: false,
            }),
            complete: true
        }
    );
}

#[test]
fn several_gemini_candidates_become_several_choices() {
    use ApiFormat::*;
    let body = br#"{"messages":[{"role":"user","content":"hi"}],"n":2}"#;
    let t = translate(OpenAi, Gemini, body, "g");
    assert_eq!(json_of(&t.body)["generationConfig"]["candidateCount"], 2);
    let answer = br#"{"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP","index":0},{"content":{"parts":[{"text":"b"}]},"finishReason":"MAX_TOKENS","index":1}],"responseId":"r"}"#;
    let (out, _) = run(&t.response, answer, &[]);
    let out = json_of(&out);
    assert_eq!(out["choices"][1]["message"]["content"], "b");
    assert_eq!(out["choices"][1]["finish_reason"], "length");
    // Streamed: each candidate keeps its index; [DONE] once both finished.
    let stream = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"index\":0},{\"content\":{\"parts\":[{\"text\":\"b\"}]},\"index\":1}],\"responseId\":\"r\"}\n\n\
data: {\"candidates\":[{\"content\":{\"parts\":[]},\"finishReason\":\"STOP\",\"index\":0}],\"responseId\":\"r\"}\n\n\
data: {\"candidates\":[{\"content\":{\"parts\":[]},\"finishReason\":\"STOP\",\"index\":1}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2},\"responseId\":\"r\"}\n\n";
    let streaming = ResponseSpec {
        stream: true,
        ..t.response.clone()
    };
    let (out, outcome) = run(&streaming, stream, &[]);
    let events = sse_events(&out);
    let texts: Vec<(u64, &str)> = events
        .iter()
        .filter_map(|(_, v)| {
            let c = v.pointer("/choices/0")?;
            Some((c["index"].as_u64()?, c["delta"]["content"].as_str()?))
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    assert_eq!(texts, [(0, "a"), (1, "b")]);
    let dones = events.iter().filter(|(_, v)| v == &json!("[DONE]")).count();
    assert_eq!(dones, 1);
    assert!(outcome.complete);
    // Cut before the second candidate finished: no [DONE].
    let cut = memchr::memmem::rfind(stream, b"data:").unwrap();
    let (out, _) = run(&streaming, &stream[..cut], &[]);
    assert!(!String::from_utf8(out).unwrap().contains("[DONE]"));
}
