//! Anthropic wire format: messages (streaming and not), count_tokens, models.

use serde_json::{Value, json};

use super::openai::tool_call_tokens;
use super::tools::{PlannedCall, planned_calls};
use super::{Call, Event, Provider, Reply, SentUsage, sse_event};

const SSE: &str = "text/event-stream; charset=utf-8";
/// Fixed cache figures, so a gateway that drops or swaps them is caught.
const CACHE_CREATION: u64 = 11;
const CACHE_READ: u64 = 13;

/// `{"type":"error","error":{"type","message"}}`
pub(crate) fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

pub(crate) fn failure_body(status: u16) -> Value {
    match status {
        401 => error_body("authentication_error", "invalid x-api-key"),
        403 => error_body(
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        413 => error_body(
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        super::QUOTA => error_body(
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
        ),
        429 => error_body(
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit. Please try again later.",
        ),
        503 | 529 => error_body("overloaded_error", "Overloaded"),
        504 => error_body("timeout_error", "Request timed out"),
        _ => error_body("api_error", "Internal server error"),
    }
}

fn figures(call: &Call) -> SentUsage {
    SentUsage {
        prompt_tokens: call.prompt_tokens(),
        completion_tokens: call.chunks() as u64 * 3,
        cache_write_tokens: CACHE_CREATION,
        cache_read_tokens: CACHE_READ,
    }
}

fn usage_json(u: SentUsage) -> Value {
    json!({
        "input_tokens": u.prompt_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_write_tokens,
            "ephemeral_1h_input_tokens": 0
        },
        "output_tokens": u.completion_tokens,
        "service_tier": "standard"
    })
}

/// POST /v1/messages
pub(crate) fn messages(call: &Call) -> Reply {
    let model = call.model_or("claude-sonnet-4-6");
    let id = format!("msg_01{}", call.id(22));
    let usage = figures(call);
    let message = |content: Value, stop: Value, usage: SentUsage| {
        json!({
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": null,
            "usage": usage_json(usage)
        })
    };
    let planned = planned_calls(Provider::Anthropic, &call.json);
    if !planned.is_empty() {
        let usage = SentUsage {
            completion_tokens: tool_call_tokens(&planned),
            ..usage
        };
        return tool_use(call, &planned, usage, message);
    }
    if !call.wants_stream() {
        let body = message(
            json!([{"type": "text", "text": call.full_text()}]),
            json!("end_turn"),
            usage,
        );
        return Reply::ok(body, Some(usage));
    }
    let start_usage = SentUsage {
        completion_tokens: 1,
        ..usage
    };
    let mut events = vec![
        Event::with_usage(
            sse_event(
                "message_start",
                &json!({"type": "message_start", "message": message(json!([]), Value::Null, start_usage)}),
            ),
            start_usage,
        ),
        Event::new(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        )),
        Event::new(sse_event("ping", &json!({"type": "ping"}))),
    ];
    for i in 0..call.chunks() {
        events.push(Event::new(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": Call::word(i)}}),
        )));
    }
    events.push(Event::new(sse_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    )));
    events.extend(closing_events("end_turn", usage));
    Reply::Stream {
        content_type: SSE,
        events,
        headers: Vec::new(),
    }
}

/// A message that uses tools (see `tools`): a short text block, then one `tool_use` block per
/// call; streamed, each `tool_use` block's input follows as `input_json_delta` fragments.
fn tool_use(
    call: &Call,
    planned: &[PlannedCall],
    usage: SentUsage,
    message: impl Fn(Value, Value, SentUsage) -> Value,
) -> Reply {
    let names: Vec<&str> = planned.iter().map(|c| c.name.as_str()).collect();
    let text = format!("Calling {}.", names.join(", "));
    let ids: Vec<String> = planned
        .iter()
        .map(|_| format!("toolu_01{}", call.id(22)))
        .collect();
    if !call.wants_stream() {
        let mut content = vec![json!({"type": "text", "text": text})];
        for (c, id) in planned.iter().zip(&ids) {
            content
                .push(json!({"type": "tool_use", "id": id, "name": c.name, "input": c.arguments}));
        }
        let body = message(Value::Array(content), json!("tool_use"), usage);
        return Reply::ok(body, Some(usage));
    }
    let start_usage = SentUsage {
        completion_tokens: 1,
        ..usage
    };
    let delta = |index: usize, delta: Value| {
        Event::new(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        ))
    };
    let stop = |index: usize| {
        Event::new(sse_event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        ))
    };
    let mut events = vec![
        Event::with_usage(
            sse_event(
                "message_start",
                &json!({"type": "message_start", "message": message(json!([]), Value::Null, start_usage)}),
            ),
            start_usage,
        ),
        Event::new(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        )),
        delta(0, json!({"type": "text_delta", "text": text})),
        stop(0),
    ];
    for (i, (c, id)) in planned.iter().zip(&ids).enumerate() {
        let index = i + 1;
        events.push(Event::new(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": id, "name": c.name, "input": {}}}),
        )));
        events.push(delta(
            index,
            json!({"type": "input_json_delta", "partial_json": ""}),
        ));
        for fragment in c.fragments(8) {
            events.push(delta(
                index,
                json!({"type": "input_json_delta", "partial_json": fragment}),
            ));
        }
        events.push(stop(index));
    }
    events.extend(closing_events("tool_use", usage));
    Reply::Stream {
        content_type: SSE,
        events,
        headers: Vec::new(),
    }
}

/// `message_delta` with the stop reason and the final output figure, then `message_stop`.
fn closing_events(stop_reason: &str, usage: SentUsage) -> [Event; 2] {
    [
        Event::with_usage(
            sse_event(
                "message_delta",
                &json!({
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                    "usage": {"output_tokens": usage.completion_tokens}
                }),
            ),
            usage,
        ),
        Event::new(sse_event("message_stop", &json!({"type": "message_stop"}))),
    ]
}

/// POST /v1/messages/count_tokens
pub(crate) fn count_tokens(call: &Call) -> Reply {
    Reply::ok(json!({"input_tokens": call.prompt_tokens()}), None)
}

/// GET /v1/models (with Anthropic headers)
pub(crate) fn models() -> Reply {
    let ids = [
        (
            "claude-sonnet-4-6",
            "Claude Sonnet 4.6",
            "2026-02-17T00:00:00Z",
        ),
        (
            "claude-haiku-4-5-20251001",
            "Claude Haiku 4.5",
            "2025-10-01T00:00:00Z",
        ),
    ];
    let data: Vec<Value> = ids
        .iter()
        .map(|(id, name, at)| json!({"type": "model", "id": id, "display_name": name, "created_at": at}))
        .collect();
    Reply::ok(
        json!({
            "data": data,
            "has_more": false,
            "first_id": ids[0].0,
            "last_id": ids[ids.len() - 1].0
        }),
        None,
    )
}
