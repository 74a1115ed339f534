//! OpenAI wire format: chat completions, legacy completions, responses, embeddings, models.

use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{Value, json};

use super::tools::{PlannedCall, planned_calls};
use super::{
    Call, Event, Provider, Reply, SentUsage, embedding_values, now_secs, sse_data, sse_event,
};

const SYSTEM_FINGERPRINT: &str = "fp_m0ck5eed01";
const SSE: &str = "text/event-stream; charset=utf-8";
const DONE: &str = "data: [DONE]\n\n";
const MODELS: [(&str, &str); 6] = [
    ("gpt-4o-mini", "system"),
    ("gpt-4o", "system"),
    ("gpt-4.1", "system"),
    ("o3-mini", "system"),
    ("gpt-3.5-turbo-instruct", "system"),
    ("text-embedding-3-small", "system"),
];

/// `{"error":{"message","type","param","code"}}`
pub(crate) fn error_body(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

pub(crate) fn failure_body(status: u16, credential: &str) -> Value {
    match status {
        401 => {
            let shown: String = credential.chars().take(8).collect();
            error_body(
                &format!(
                    "Incorrect API key provided: {shown}****. You can find your API key at https://platform.openai.com/account/api-keys."
                ),
                "invalid_request_error",
                Some("invalid_api_key"),
            )
        }
        404 => error_body(
            "The model `gpt-4o` does not exist or you do not have access to it.",
            "invalid_request_error",
            Some("model_not_found"),
        ),
        super::QUOTA => error_body(
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            Some("insufficient_quota"),
        ),
        413 => error_body(
            "Request too large for the model. Please reduce the length of the messages.",
            "invalid_request_error",
            Some("request_too_large"),
        ),
        429 => error_body(
            "Rate limit reached for requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 2s.",
            "requests",
            Some("rate_limit_exceeded"),
        ),
        503 => error_body(
            "The server is overloaded or not ready yet.",
            "server_error",
            None,
        ),
        504 => error_body("Gateway timeout.", "server_error", None),
        _ => error_body(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ),
    }
}

/// The figures this call reports: prompt from the body size, a third of it cached.
fn figures(call: &Call) -> SentUsage {
    let prompt = call.prompt_tokens();
    SentUsage {
        prompt_tokens: prompt,
        completion_tokens: call.chunks() as u64 * 3,
        cache_write_tokens: 0,
        cache_read_tokens: prompt / 3,
    }
}

/// Chat / legacy completions usage object.
fn completion_usage(u: SentUsage) -> Value {
    json!({
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

fn include_usage(call: &Call) -> bool {
    call.json
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true)
}

fn ok_headers() -> Vec<(&'static str, String)> {
    vec![
        ("x-ratelimit-limit-requests", "500".to_string()),
        ("x-ratelimit-remaining-requests", "499".to_string()),
        ("x-ratelimit-reset-requests", "120ms".to_string()),
        ("x-ratelimit-limit-tokens", "30000".to_string()),
        ("x-ratelimit-remaining-tokens", "29900".to_string()),
        ("x-ratelimit-reset-tokens", "200ms".to_string()),
    ]
}

/// Collects stream chunks into SSE events, the usage chunk (if any) and `[DONE]`.
fn sse_reply(mut events: Vec<Event>) -> Reply {
    events.push(Event::new(DONE));
    Reply::Stream {
        content_type: SSE,
        events,
        headers: ok_headers(),
    }
}

/// POST /v1/chat/completions
pub(crate) fn chat(call: &Call) -> Reply {
    let planned = planned_calls(Provider::OpenAi, &call.json);
    if !planned.is_empty() {
        return chat_tool_calls(call, &planned);
    }
    let model = call.model_or("gpt-4o-mini");
    let id = format!("chatcmpl-{}", call.id(29));
    let created = now_secs();
    let usage = figures(call);
    if !call.wants_stream() {
        let message = json!({
            "role": "assistant",
            "content": call.full_text(),
            "refusal": null,
            "annotations": []
        });
        let body = completion_body(&id, created, &model, message, "stop", usage);
        return with_ok_headers(Reply::ok(body, Some(usage)));
    }
    let chunks = ChatChunks {
        id: &id,
        created,
        model: &model,
        with_usage: include_usage(call),
    };
    let chunk = |choices: Value| chunks.chunk(choices);
    let mut events = vec![Event::new(sse_data(&chunk(json!([{
        "index": 0,
        "delta": {"role": "assistant", "content": "", "refusal": null},
        "logprobs": null,
        "finish_reason": null
    }]))))];
    for i in 0..call.chunks() {
        events.push(Event::new(sse_data(&chunk(json!([{
            "index": 0,
            "delta": {"content": Call::word(i)},
            "logprobs": null,
            "finish_reason": null
        }])))));
    }
    events.push(Event::new(sse_data(&chunk(json!([{
        "index": 0,
        "delta": {},
        "logprobs": null,
        "finish_reason": "stop"
    }])))));
    events.extend(chunks.usage_chunk(usage));
    sse_reply(events)
}

/// A whole `chat.completion` with one choice.
fn completion_body(
    id: &str,
    created: u64,
    model: &str,
    message: Value,
    finish_reason: &str,
    usage: SentUsage,
) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason
        }],
        "usage": completion_usage(usage),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT
    })
}

/// The chunks of one streamed chat completion.
struct ChatChunks<'a> {
    id: &'a str,
    created: u64,
    model: &'a str,
    /// `stream_options.include_usage`: `"usage": null` on every chunk and a final usage chunk.
    with_usage: bool,
}

impl ChatChunks<'_> {
    fn chunk(&self, choices: Value) -> Value {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices
        });
        if self.with_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    /// The final usage-only chunk, when asked for.
    fn usage_chunk(&self, usage: SentUsage) -> Option<Event> {
        self.with_usage.then(|| {
            let mut last = self.chunk(json!([]));
            last["usage"] = completion_usage(usage);
            Event::with_usage(sse_data(&last), usage)
        })
    }
}

/// Output tokens of a tool-calling answer: from the size of the arguments.
pub(crate) fn tool_call_tokens(planned: &[PlannedCall]) -> u64 {
    planned
        .iter()
        .map(|c| c.arguments_text().len() as u64 / 4 + 5)
        .sum()
}

/// A chat completion that calls tools (see `tools`): `tool_calls` with the arguments as JSON
/// text; streamed, each call opens with its id and name and its arguments follow in fragments.
fn chat_tool_calls(call: &Call, planned: &[PlannedCall]) -> Reply {
    let model = call.model_or("gpt-4o-mini");
    let id = format!("chatcmpl-{}", call.id(29));
    let created = now_secs();
    let ids: Vec<String> = planned
        .iter()
        .map(|_| format!("call_{}", call.id(24)))
        .collect();
    let usage = SentUsage {
        completion_tokens: tool_call_tokens(planned),
        ..figures(call)
    };
    if !call.wants_stream() {
        let tool_calls: Vec<Value> = planned
            .iter()
            .zip(&ids)
            .map(|(c, id)| {
                json!({
                    "id": id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments_text()}
                })
            })
            .collect();
        let message = json!({
            "role": "assistant",
            "content": null,
            "tool_calls": tool_calls,
            "refusal": null,
            "annotations": []
        });
        let body = completion_body(&id, created, &model, message, "tool_calls", usage);
        return with_ok_headers(Reply::ok(body, Some(usage)));
    }
    let chunks = ChatChunks {
        id: &id,
        created,
        model: &model,
        with_usage: include_usage(call),
    };
    let chunk = |delta: Value, finish: Value| {
        Event::new(sse_data(&chunks.chunk(json!([
            {"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}
        ]))))
    };
    let mut events = Vec::new();
    for (i, (c, call_id)) in planned.iter().zip(&ids).enumerate() {
        let opening = json!([{
            "index": i,
            "id": call_id,
            "type": "function",
            "function": {"name": c.name, "arguments": ""}
        }]);
        let delta = if i == 0 {
            json!({"role": "assistant", "content": null, "tool_calls": opening, "refusal": null})
        } else {
            json!({"tool_calls": opening})
        };
        events.push(chunk(delta, Value::Null));
        for fragment in c.fragments(8) {
            events.push(chunk(
                json!({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]}),
                Value::Null,
            ));
        }
    }
    events.push(chunk(json!({}), json!("tool_calls")));
    events.extend(chunks.usage_chunk(usage));
    sse_reply(events)
}

/// POST /v1/completions (legacy)
pub(crate) fn completions(call: &Call) -> Reply {
    let model = call.model_or("gpt-3.5-turbo-instruct");
    let id = format!("cmpl-{}", call.id(29));
    let created = now_secs();
    let usage = figures(call);
    if !call.wants_stream() {
        let body = json!({
            "id": id,
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [{
                "text": call.full_text(),
                "index": 0,
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": completion_usage(usage)
        });
        return with_ok_headers(Reply::ok(body, Some(usage)));
    }
    let with_usage = include_usage(call);
    let chunk = |text: &str, finish: Value| {
        let mut chunk = json!({
            "id": id,
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [{"text": text, "index": 0, "logprobs": null, "finish_reason": finish}]
        });
        if with_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    };
    let mut events: Vec<Event> = (0..call.chunks())
        .map(|i| Event::new(sse_data(&chunk(Call::word(i), Value::Null))))
        .collect();
    events.push(Event::new(sse_data(&chunk("", json!("stop")))));
    if with_usage {
        let mut last = chunk("", Value::Null);
        last["choices"] = json!([]);
        last["usage"] = completion_usage(usage);
        events.push(Event::with_usage(sse_data(&last), usage));
    }
    sse_reply(events)
}

/// The `response` object of the Responses API.
struct ResponseObject {
    id: String,
    created_at: u64,
    model: String,
    request: Value,
}

impl ResponseObject {
    fn render(&self, status: &str, output: Value, usage: Option<SentUsage>) -> Value {
        let field = |name: &str| self.request.get(name).cloned().unwrap_or(Value::Null);
        let usage = usage.map_or(Value::Null, |u| {
            json!({
                "input_tokens": u.prompt_tokens,
                "input_tokens_details": {"cached_tokens": u.cache_read_tokens},
                "output_tokens": u.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": u.prompt_tokens + u.completion_tokens
            })
        });
        json!({
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": false,
            "error": null,
            "incomplete_details": null,
            "instructions": field("instructions"),
            "max_output_tokens": field("max_output_tokens"),
            "model": self.model,
            "output": output,
            "parallel_tool_calls": true,
            "previous_response_id": field("previous_response_id"),
            "reasoning": {"effort": null, "summary": null},
            "service_tier": "default",
            "store": self.request.get("store").cloned().unwrap_or(json!(true)),
            "temperature": self.request.get("temperature").cloned().unwrap_or(json!(1.0)),
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": self.request.get("top_p").cloned().unwrap_or(json!(1.0)),
            "truncation": "disabled",
            "usage": usage,
            "user": null,
            "metadata": self.request.get("metadata").cloned().unwrap_or(json!({}))
        })
    }
}

/// POST /v1/responses
pub(crate) fn responses(call: &Call) -> Reply {
    let object = ResponseObject {
        id: format!("resp_{}", call.id(48)),
        created_at: now_secs(),
        model: call.model_or("gpt-4.1"),
        request: call.json.clone(),
    };
    let item_id = format!("msg_{}", call.id(48));
    let usage = figures(call);
    let text = call.full_text();
    let part = |text: &str| json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text});
    let item = |status: &str, content: Value| json!({"id": item_id, "type": "message", "status": status, "content": content, "role": "assistant"});
    let done_item = item("completed", json!([part(&text)]));
    if !call.wants_stream() {
        let body = object.render("completed", json!([done_item]), Some(usage));
        return with_ok_headers(Reply::ok(body, Some(usage)));
    }
    let mut sequence = 0u64;
    let mut events = Vec::new();
    let mut push = |name: &str, mut payload: Value, sent: Option<SentUsage>| {
        payload["type"] = json!(name);
        payload["sequence_number"] = json!(sequence);
        sequence += 1;
        let bytes = sse_event(name, &payload);
        events.push(match sent {
            Some(u) => Event::with_usage(bytes, u),
            None => Event::new(bytes),
        });
    };
    push(
        "response.created",
        json!({"response": object.render("in_progress", json!([]), None)}),
        None,
    );
    push(
        "response.in_progress",
        json!({"response": object.render("in_progress", json!([]), None)}),
        None,
    );
    push(
        "response.output_item.added",
        json!({"output_index": 0, "item": item("in_progress", json!([]))}),
        None,
    );
    push(
        "response.content_part.added",
        json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part("")}),
        None,
    );
    for i in 0..call.chunks() {
        push(
            "response.output_text.delta",
            json!({"item_id": item_id, "output_index": 0, "content_index": 0, "delta": Call::word(i), "logprobs": []}),
            None,
        );
    }
    push(
        "response.output_text.done",
        json!({"item_id": item_id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
        None,
    );
    push(
        "response.content_part.done",
        json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part(&text)}),
        None,
    );
    push(
        "response.output_item.done",
        json!({"output_index": 0, "item": done_item}),
        None,
    );
    push(
        "response.completed",
        json!({"response": object.render("completed", json!([done_item]), Some(usage))}),
        Some(usage),
    );
    Reply::Stream {
        content_type: SSE,
        events,
        headers: ok_headers(),
    }
}

/// How many inputs an embeddings request carries.
fn input_count(input: Option<&Value>) -> usize {
    match input {
        Some(Value::Array(items)) if items.first().is_some_and(|v| !v.is_number()) => items.len(),
        _ => 1,
    }
}

/// POST /v1/embeddings
pub(crate) fn embeddings(call: &Call) -> Reply {
    let model = call.model_or("text-embedding-3-small");
    let dims = call
        .json
        .get("dimensions")
        .and_then(Value::as_u64)
        .map_or(16, |d| d.clamp(1, 4096) as usize);
    let base64 = call.json.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = (0..input_count(call.json.get("input")))
        .map(|i| {
            let values = embedding_values(i as u64, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(values)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let prompt = call.prompt_tokens();
    let usage = SentUsage {
        prompt_tokens: prompt,
        ..SentUsage::default()
    };
    let body = json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt}
    });
    with_ok_headers(Reply::ok(body, Some(usage)))
}

fn model_object(id: &str, owned_by: &str) -> Value {
    json!({"id": id, "object": "model", "created": 1_715_367_049u64, "owned_by": owned_by})
}

/// GET /v1/models
pub(crate) fn models() -> Reply {
    let data: Vec<Value> = MODELS.iter().map(|(id, by)| model_object(id, by)).collect();
    Reply::ok(json!({"object": "list", "data": data}), None)
}

/// GET /v1/models/{id}
pub(crate) fn model(id: &str) -> Reply {
    match MODELS.iter().find(|(known, _)| *known == id) {
        Some((id, by)) => Reply::ok(model_object(id, by), None),
        None => Reply::error(
            StatusCode::NOT_FOUND,
            json!({"error": {
                "message": format!("The model '{id}' does not exist"),
                "type": "invalid_request_error",
                "param": "model",
                "code": "model_not_found"
            }}),
        ),
    }
}

fn with_ok_headers(mut reply: Reply) -> Reply {
    if let Reply::Json { headers, .. } = &mut reply {
        headers.extend(ok_headers());
    }
    reply
}
