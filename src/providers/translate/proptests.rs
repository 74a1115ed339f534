//! Property tests: translation never panics on arbitrary JSON or bytes, and OpenAI → Anthropic
//! → OpenAI keeps messages, tools and parameters.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::tests::{fixture, run};
use super::*;

const PAIRS: [(ApiFormat, ApiFormat); 6] = [
    (ApiFormat::OpenAi, ApiFormat::Anthropic),
    (ApiFormat::OpenAi, ApiFormat::Gemini),
    (ApiFormat::Anthropic, ApiFormat::OpenAi),
    (ApiFormat::Anthropic, ApiFormat::Gemini),
    (ApiFormat::OpenAi, ApiFormat::OpenAi),
    (ApiFormat::Anthropic, ApiFormat::Anthropic),
];

/// Keys the formats use, so that arbitrary JSON reaches deep into the parsers.
const KEYS: [&str; 40] = [
    "model",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "tool_calls",
    "function",
    "name",
    "arguments",
    "tools",
    "tool_choice",
    "image_url",
    "url",
    "source",
    "data",
    "media_type",
    "tool_call_id",
    "tool_use_id",
    "input",
    "id",
    "stop",
    "max_tokens",
    "stream",
    "stream_options",
    "include_usage",
    "system",
    "candidates",
    "parts",
    "functionCall",
    "args",
    "usage",
    "choices",
    "delta",
    "index",
    "finish_reason",
    "stop_reason",
    "error",
    "message",
    "usageMetadata",
];

const ROLES: [&str; 6] = ["user", "assistant", "system", "tool", "developer", "model"];

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&KEYS[..]).prop_map(str::to_string),
        1 => "[a-z_]{0,6}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        prop::sample::select(&ROLES[..]).prop_map(|r| json!(r)),
        prop::sample::select(&KEYS[..]).prop_map(|r| json!(r)),
        any::<String>().prop_map(Value::String),
        Just(json!("data:image/png;base64,AAAA")),
        Just(json!("{\"a\":1}")),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..7)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A request-shaped object: known top-level keys with arbitrary values, messages with roles.
fn arb_request() -> impl Strategy<Value = Value> {
    let message = (prop::sample::select(&ROLES[..]), arb_json(), arb_json()).prop_map(
        |(role, content, extra)| {
            let mut m = json!({"role": role, "content": content});
            if let Value::Object(extra) = extra {
                for (k, v) in extra {
                    m[k] = v;
                }
            }
            m
        },
    );
    (
        prop::collection::vec(message, 0..5),
        prop::collection::vec((arb_key(), arb_json()), 0..6),
    )
        .prop_map(|(messages, extra)| {
            let mut req = json!({"model": "m", "max_tokens": 10, "messages": messages});
            for (k, v) in extra {
                req[k] = v;
            }
            req
        })
}

fn sse_body(events: &[(Option<&str>, Value)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in events {
        if let Some(n) = name {
            out.extend_from_slice(format!("event: {n}\n").as_bytes());
        }
        out.extend_from_slice(format!("data: {data}\n\n").as_bytes());
    }
    out
}

const EVENT_NAMES: [&str; 9] = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "error",
    "ping",
    "x",
];

fn all_specs() -> Vec<ResponseSpec> {
    let mut specs = Vec::new();
    for (front, back) in PAIRS {
        for stream in [false, true] {
            for include_usage in [false, true] {
                specs.push(ResponseSpec {
                    front,
                    back,
                    stream,
                    include_usage,
                    usage_injected: front == back && include_usage,
                    model: "m".into(),
                });
            }
        }
    }
    specs
}

fn opts(drop: bool) -> TranslateOptions {
    TranslateOptions {
        drop_unsupported_params: drop,
        ..TranslateOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn requests_never_panic_on_arbitrary_json(value in prop_oneof![arb_json(), arb_request()], drop in any::<bool>()) {
        let body = value.to_string();
        for (front, back) in PAIRS {
            if let Ok(t) = translate_request(front, back, body.as_bytes(), "target", &opts(drop)) {
                // Whatever comes out is JSON.
                prop_assert!(serde_json::from_slice::<Value>(&t.body).is_ok());
            }
        }
    }

    #[test]
    fn requests_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for (front, back) in PAIRS {
            let _ = translate_request(front, back, &bytes, "target", &opts(true));
        }
    }

    #[test]
    fn responses_never_panic_on_arbitrary_events(
        events in prop::collection::vec((prop::option::of(prop::sample::select(&EVENT_NAMES[..])), arb_json()), 0..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let body = sse_body(&events);
        let cut = cut.index(body.len() + 1);
        for spec in all_specs() {
            let _ = run(&spec, &body, &[cut]);
        }
    }

    #[test]
    fn responses_never_panic_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        cut in any::<prop::sample::Index>(),
    ) {
        let cut = cut.index(bytes.len() + 1);
        for spec in all_specs() {
            let _ = run(&spec, &bytes, &[cut]);
        }
    }

    #[test]
    fn mangled_fixtures_never_panic(
        which in 0usize..6,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let name = ["anthropic_stream.sse", "gemini_stream.sse", "openai_stream.sse",
            "anthropic_response.json", "gemini_response.json", "openai_response.json"][which];
        let mut body = fixture(name);
        for (at, byte, op) in edits {
            if body.is_empty() { break; }
            let i = at.index(body.len());
            match op {
                0 => { body.remove(i); }
                1 => body[i] = byte,
                _ => body.insert(i, byte),
            }
        }
        let cut = cut.index(body.len() + 1);
        for spec in all_specs() {
            let _ = run(&spec, &body, &[cut]);
        }
    }

    #[test]
    fn errors_never_panic(body in prop_oneof![arb_json().prop_map(|v| v.to_string().into_bytes()), prop::collection::vec(any::<u8>(), 0..64)], status in any::<u16>()) {
        for back in ApiFormat::ALL {
            for front in ApiFormat::ALL {
                let (s, out) = translate_error(back, front, status, &body);
                prop_assert_eq!(s, status);
                if back != front {
                    prop_assert!(serde_json::from_slice::<Value>(&out).is_ok());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Round trip OpenAI → Anthropic → OpenAI
// ---------------------------------------------------------------------------------------------

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,!?']{1,24}",
        prop::collection::vec(any::<char>(), 1..12).prop_map(|c| c.into_iter().collect()),
    ]
}

#[derive(Clone, Debug)]
enum UserPart {
    Text(String),
    DataImage(String),
    UrlImage(String),
}

fn arb_user_part() -> impl Strategy<Value = UserPart> {
    prop_oneof![
        arb_text().prop_map(UserPart::Text),
        "[A-Za-z0-9+/]{4,16}".prop_map(UserPart::DataImage),
        "[a-z]{1,8}".prop_map(|p| UserPart::UrlImage(format!("https://example.com/{p}.png"))),
    ]
}

#[derive(Clone, Debug)]
struct Exchange {
    user: Result<String, Vec<UserPart>>,
    assistant_text: Option<String>,
    /// (tool index, argument value, tool result)
    calls: Vec<(usize, i64, String)>,
}

fn arb_exchange() -> impl Strategy<Value = Exchange> {
    (
        prop_oneof![
            arb_text().prop_map(Ok),
            prop::collection::vec(arb_user_part(), 1..4).prop_map(Err)
        ],
        prop::option::of(arb_text()),
        prop::collection::vec((0usize..3, any::<i64>(), arb_text()), 0..3),
    )
        .prop_map(|(user, assistant_text, calls)| Exchange {
            // An assistant turn needs text or calls.
            assistant_text: if calls.is_empty() && assistant_text.is_none() {
                Some("ok".into())
            } else {
                assistant_text
            },
            user,
            calls,
        })
}

#[derive(Clone, Debug)]
struct Params {
    max_tokens: u64,
    temperature: Option<f64>,
    top_p: Option<f64>,
    stop: Vec<String>,
    stream: bool,
    user: Option<String>,
    tool_choice: Option<u8>,
    parallel_off: bool,
}

fn arb_params() -> impl Strategy<Value = Params> {
    (
        1u64..100_000,
        prop::option::of((0u32..=200).prop_map(|t| f64::from(t) / 100.0)),
        prop::option::of((0u32..=100).prop_map(|t| f64::from(t) / 100.0)),
        prop::collection::vec(arb_text(), 0..3),
        any::<bool>(),
        prop::option::of("[a-z0-9-]{1,12}"),
        prop::option::of(0u8..4),
        any::<bool>(),
    )
        .prop_map(
            |(max_tokens, temperature, top_p, stop, stream, user, tool_choice, parallel_off)| {
                Params {
                    max_tokens,
                    temperature,
                    top_p,
                    stop,
                    stream,
                    user,
                    tool_choice,
                    parallel_off,
                }
            },
        )
}

const TOOL_NAMES: [&str; 3] = ["get_weather", "search_docs", "send_email"];

fn build_openai(
    system: &[String],
    exchanges: &[Exchange],
    final_user: &str,
    ntools: usize,
    p: &Params,
) -> Value {
    let mut messages: Vec<Value> = system
        .iter()
        .map(|s| json!({"role": "system", "content": s}))
        .collect();
    let mut call_no = 0;
    for ex in exchanges {
        let content = match &ex.user {
            Ok(text) => json!(text),
            Err(parts) => Value::Array(
                parts
                    .iter()
                    .map(|p| match p {
                        UserPart::Text(t) => json!({"type": "text", "text": t}),
                        UserPart::DataImage(d) => json!({"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{d}")}}),
                        UserPart::UrlImage(u) => json!({"type": "image_url", "image_url": {"url": u}}),
                    })
                    .collect(),
            ),
        };
        messages.push(json!({"role": "user", "content": content}));
        let calls: Vec<(String, Value, &String)> = ex
            .calls
            .iter()
            .map(|(tool, arg, result)| {
                call_no += 1;
                let name = TOOL_NAMES[*tool % ntools.max(1)];
                (
                    format!("call_{call_no}"),
                    json!({"id": format!("call_{call_no}"), "type": "function",
                        "function": {"name": name, "arguments": json!({"n": arg, "name": name}).to_string()}}),
                    result,
                )
            })
            .collect();
        let mut assistant = json!({"role": "assistant", "content": ex.assistant_text});
        if !calls.is_empty() {
            assistant["tool_calls"] = Value::Array(calls.iter().map(|c| c.1.clone()).collect());
        }
        messages.push(assistant);
        for (id, _, result) in &calls {
            messages.push(json!({"role": "tool", "tool_call_id": id, "content": result}));
        }
    }
    messages.push(json!({"role": "user", "content": final_user}));
    let mut req =
        json!({"model": "openai-front", "messages": messages, "max_tokens": p.max_tokens});
    if ntools > 0 {
        req["tools"] = Value::Array(
            TOOL_NAMES[..ntools]
                .iter()
                .map(|n| json!({"type": "function", "function": {"name": n, "description": format!("{n} tool"),
                    "parameters": {"type": "object", "properties": {"n": {"type": "integer"}, "name": {"type": "string"}}, "required": ["n"]}}}))
                .collect(),
        );
        if let Some(c) = p.tool_choice {
            req["tool_choice"] = match c {
                0 => json!("auto"),
                1 => json!("none"),
                2 => json!("required"),
                _ => json!({"type": "function", "function": {"name": TOOL_NAMES[0]}}),
            };
            if p.parallel_off && c != 1 {
                req["parallel_tool_calls"] = json!(false);
            }
        }
    }
    if let Some(t) = p.temperature {
        req["temperature"] = json!(t);
    }
    if let Some(t) = p.top_p {
        req["top_p"] = json!(t);
    }
    if !p.stop.is_empty() {
        req["stop"] = json!(p.stop);
    }
    if p.stream {
        req["stream"] = json!(true);
    }
    if let Some(u) = &p.user {
        req["user"] = json!(u);
    }
    req
}

/// What must survive the round trip, in a canonical form.
fn canonical(req: &Value) -> Value {
    let mut out = req.clone();
    let obj = out.as_object_mut().unwrap();
    obj.remove("model");
    obj.remove("stream_options");
    for m in obj
        .get_mut("messages")
        .and_then(Value::as_array_mut)
        .unwrap()
    {
        // One text part is the same as a string.
        if let Some(parts) = m["content"].as_array()
            && parts.len() == 1
            && parts[0]["type"] == "text"
        {
            m["content"] = parts[0]["text"].clone();
        }
        if m["role"] == "assistant" {
            if m["content"] == json!("") || m["content"].is_null() {
                m["content"] = Value::Null;
            }
            if let Some(calls) = m.get_mut("tool_calls").and_then(Value::as_array_mut) {
                for c in calls {
                    let args: Value =
                        serde_json::from_str(c["function"]["arguments"].as_str().unwrap()).unwrap();
                    c["function"]["arguments"] = args;
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn openai_anthropic_openai_round_trip(
        system in prop::collection::vec(arb_text(), 0..3),
        exchanges in prop::collection::vec(arb_exchange(), 0..4),
        final_user in arb_text(),
        ntools in 0usize..=3,
        params in arb_params(),
    ) {
        let original = build_openai(&system, &exchanges, &final_user, ntools, &params);
        let body = original.to_string();
        let to_anthropic = translate_request(ApiFormat::OpenAi, ApiFormat::Anthropic, body.as_bytes(), "claude", &opts(false)).unwrap();
        prop_assert!(to_anthropic.dropped.is_empty());
        let back = translate_request(ApiFormat::Anthropic, ApiFormat::OpenAi, &to_anthropic.body, "gpt", &opts(false)).unwrap();
        prop_assert_eq!(back.stream, params.stream);
        let back: Value = serde_json::from_slice(&back.body).unwrap();
        prop_assert_eq!(back["model"].as_str(), Some("gpt"));
        prop_assert_eq!(canonical(&back), canonical(&original));
    }
}
