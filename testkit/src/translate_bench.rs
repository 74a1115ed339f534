//! `tollgate-bench --translate`: what the unified API's format translation costs on the CPU,
//! per request and per streamed event, next to what passthrough does with the same bytes
//! (`inspect_request` on a request, the usage tracker on a response). Deterministic inputs,
//! no network; the figures are the best of several rounds.

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use serde_json::{Value, json};
use tollgate::providers::translate::{ResponseSpec, ResponseTranslator};
use tollgate::providers::{
    ApiFormat, Endpoint, TranslateOptions, UsageTracker, inspect_request, translate_request,
};

/// Rounds per figure; the fastest counts.
const ROUNDS: usize = 5;
/// Text deltas in the benchmark stream.
const STREAM_DELTAS: usize = 200;

/// One measured line.
#[derive(Clone, Debug)]
pub struct TranslateFigure {
    /// What was measured, e.g. `request openai→anthropic`.
    pub name: String,
    /// Nanoseconds per unit, translated.
    pub translated_ns: f64,
    /// Nanoseconds per unit, passthrough on the same bytes.
    pub passthrough_ns: f64,
    /// `request`, `event` or `response`.
    pub unit: &'static str,
    /// Bytes produced by one translation (so that a broken translation shows).
    pub output_bytes: usize,
}

fn arrow(front: ApiFormat, back: ApiFormat) -> String {
    format!("{}→{}", front.as_str(), back.as_str())
}

/// A chat request of realistic size: system prompt, five earlier turns with a tool round trip,
/// three tools.
pub fn request_body(front: ApiFormat, stream: bool) -> Vec<u8> {
    let schema = json!({"type": "object", "properties": {
        "location": {"type": "string", "description": "City and country, e.g. Paris, France"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14}
    }, "required": ["location"]});
    let filler = "The quick brown fox jumps over the lazy dog. ".repeat(6);
    let body = match front {
        ApiFormat::OpenAi => {
            let tools: Vec<Value> = ["get_weather", "get_forecast", "search_web"]
                .iter()
                .map(|n| json!({"type": "function", "function": {"name": n, "description": format!("{n}: {filler}"), "parameters": schema}}))
                .collect();
            json!({
                "model": "anthropic/claude-sonnet-4-5",
                "stream": stream,
                "stream_options": {"include_usage": true},
                "max_completion_tokens": 1024,
                "temperature": 0.3,
                "messages": [
                    {"role": "system", "content": format!("You are a travel assistant. {filler}")},
                    {"role": "user", "content": format!("Plan my week in Paris. {filler}")},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "get_forecast", "arguments": "{\"location\":\"Paris, France\",\"days\":7}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_1", "content": format!("Sunny all week. {filler}")},
                    {"role": "assistant", "content": format!("Here is a plan. {filler}")},
                    {"role": "user", "content": [
                        {"type": "text", "text": "And what about this place?"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/louvre.jpg"}}
                    ]}
                ],
                "tools": tools
            })
        }
        _ => {
            let tools: Vec<Value> = ["get_weather", "get_forecast", "search_web"]
                .iter()
                .map(|n| json!({"name": n, "description": format!("{n}: {filler}"), "input_schema": schema}))
                .collect();
            json!({
                "model": "openai/gpt-4o",
                "stream": stream,
                "max_tokens": 1024,
                "temperature": 0.3,
                "system": format!("You are a travel assistant. {filler}"),
                "messages": [
                    {"role": "user", "content": format!("Plan my week in Paris. {filler}")},
                    {"role": "assistant", "content": [
                        {"type": "tool_use", "id": "toolu_1", "name": "get_forecast", "input": {"location": "Paris, France", "days": 7}}
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": format!("Sunny all week. {filler}")}
                    ]},
                    {"role": "assistant", "content": format!("Here is a plan. {filler}")},
                    {"role": "user", "content": [
                        {"type": "text", "text": "And what about this place?"},
                        {"type": "image", "source": {"type": "url", "url": "https://example.com/louvre.jpg"}}
                    ]}
                ],
                "tools": tools
            })
        }
    };
    body.to_string().into_bytes()
}

/// A streamed answer in the back end's format: text deltas, one tool call in fragments, usage.
/// Returns the events (each a complete SSE event).
pub fn stream_events(back: ApiFormat) -> Vec<Vec<u8>> {
    let word = |i: usize| format!("word{i} ");
    let mut events = Vec::new();
    let mut push = |name: Option<&str>, data: Value| {
        let mut e = String::new();
        if let Some(n) = name {
            e.push_str(&format!("event: {n}\n"));
        }
        e.push_str(&format!("data: {data}\n\n"));
        events.push(e.into_bytes());
    };
    match back {
        ApiFormat::Anthropic => {
            push(
                Some("message_start"),
                json!({"type": "message_start", "message": {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 800, "output_tokens": 1}}}),
            );
            push(
                Some("content_block_start"),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            );
            for i in 0..STREAM_DELTAS {
                push(
                    Some("content_block_delta"),
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word(i)}}),
                );
            }
            push(
                Some("content_block_stop"),
                json!({"type": "content_block_stop", "index": 0}),
            );
            push(
                Some("content_block_start"),
                json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}}),
            );
            for part in [
                "{\"loca",
                "tion\": \"Pa",
                "ris\", \"unit\"",
                ": \"celsius\"}",
            ] {
                push(
                    Some("content_block_delta"),
                    json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": part}}),
                );
            }
            push(
                Some("content_block_stop"),
                json!({"type": "content_block_stop", "index": 1}),
            );
            push(
                Some("message_delta"),
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 230}}),
            );
            push(Some("message_stop"), json!({"type": "message_stop"}));
        }
        ApiFormat::OpenAi => {
            let chunk = |delta: Value, finish: Value| json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}], "usage": null});
            push(
                None,
                chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            );
            for i in 0..STREAM_DELTAS {
                push(None, chunk(json!({"content": word(i)}), Value::Null));
            }
            push(
                None,
                chunk(
                    json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
                    Value::Null,
                ),
            );
            for part in [
                "{\"loca",
                "tion\": \"Pa",
                "ris\", \"unit\"",
                ": \"celsius\"}",
            ] {
                push(
                    None,
                    chunk(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": part}}]}),
                        Value::Null,
                    ),
                );
            }
            push(None, chunk(json!({}), json!("tool_calls")));
            push(
                None,
                json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o", "choices": [], "usage": {"prompt_tokens": 2000, "completion_tokens": 230, "total_tokens": 2230, "prompt_tokens_details": {"cached_tokens": 800}}}),
            );
            events.push(b"data: [DONE]\n\n".to_vec());
        }
        ApiFormat::Gemini => {
            let usage = |out: u64| json!({"promptTokenCount": 2000, "candidatesTokenCount": out, "totalTokenCount": 2000 + out, "cachedContentTokenCount": 800});
            for i in 0..STREAM_DELTAS {
                push(
                    None,
                    json!({"candidates": [{"content": {"parts": [{"text": word(i)}], "role": "model"}, "index": 0}], "usageMetadata": usage(i as u64 + 1), "modelVersion": "gemini-2.5-flash", "responseId": "r1"}),
                );
            }
            push(
                None,
                json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather", "args": {"location": "Paris", "unit": "celsius"}}}], "role": "model"}, "finishReason": "STOP", "index": 0}], "usageMetadata": usage(230), "modelVersion": "gemini-2.5-flash", "responseId": "r1"}),
            );
        }
    }
    events
}

/// A complete (non-streamed) answer in the back end's format.
pub fn response_body(back: ApiFormat) -> Vec<u8> {
    let text = "word ".repeat(STREAM_DELTAS);
    let body = match back {
        ApiFormat::Anthropic => {
            json!({"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": text}, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "Paris"}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 800, "output_tokens": 230}})
        }
        ApiFormat::OpenAi => {
            json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}]}, "logprobs": null, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 2000, "completion_tokens": 230, "total_tokens": 2230, "prompt_tokens_details": {"cached_tokens": 800}}})
        }
        ApiFormat::Gemini => {
            json!({"candidates": [{"content": {"parts": [{"text": text}, {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 2000, "candidatesTokenCount": 230, "totalTokenCount": 2230, "cachedContentTokenCount": 800},
            "modelVersion": "gemini-2.5-flash", "responseId": "r1"})
        }
    };
    body.to_string().into_bytes()
}

/// Fastest of `ROUNDS` runs of `iterations` calls, in ns per call.
fn time(iterations: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::INFINITY;
    let mut produced = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..iterations.max(1) {
            produced = black_box(f());
        }
        let ns = start.elapsed().as_nanos() as f64 / iterations.max(1) as f64;
        best = best.min(ns);
    }
    (best, produced)
}

fn back_endpoint(back: ApiFormat, stream: bool) -> Endpoint {
    match back {
        ApiFormat::OpenAi => Endpoint::ChatCompletions,
        ApiFormat::Anthropic => Endpoint::Messages,
        ApiFormat::Gemini if stream => Endpoint::StreamGenerateContent,
        ApiFormat::Gemini => Endpoint::GenerateContent,
    }
}

const PAIRS: [(ApiFormat, ApiFormat); 4] = [
    (ApiFormat::OpenAi, ApiFormat::Anthropic),
    (ApiFormat::OpenAi, ApiFormat::Gemini),
    (ApiFormat::Anthropic, ApiFormat::OpenAi),
    (ApiFormat::Anthropic, ApiFormat::Gemini),
];

/// Measures every direction; `iterations` scales the work (requests per round; streams and
/// responses run a tenth as often).
pub fn measure(iterations: usize) -> anyhow::Result<Vec<TranslateFigure>> {
    let opts = TranslateOptions::default();
    let mut figures = Vec::new();
    for (front, back) in PAIRS {
        let body = request_body(front, false);
        let (front_endpoint, front_path) = match front {
            ApiFormat::OpenAi => (Endpoint::ChatCompletions, "/v1/chat/completions"),
            _ => (Endpoint::Messages, "/v1/messages"),
        };
        let (translated_ns, output_bytes) = time(iterations, || {
            translate_request(front, back, &body, "target-model", &opts).map_or(0, |t| t.body.len())
        });
        if output_bytes == 0 {
            anyhow::bail!("{} request translation failed", arrow(front, back));
        }
        let (passthrough_ns, _) = time(iterations, || {
            inspect_request(front, front_endpoint, front_path, &body)
                .model
                .map_or(0, |m| m.len())
        });
        figures.push(TranslateFigure {
            name: format!("request {} ({} B)", arrow(front, back), body.len()),
            translated_ns,
            passthrough_ns,
            unit: "request",
            output_bytes,
        });
    }
    let rare = (iterations / 10).max(1);
    for (front, back) in PAIRS {
        let events = stream_events(back);
        let spec = ResponseSpec {
            front,
            back,
            stream: true,
            include_usage: true,
            usage_injected: false,
            model: "client-model".into(),
        };
        let endpoint = back_endpoint(back, true);
        let (ns, output_bytes) = time(rare, || {
            let mut t = ResponseTranslator::new(spec.clone(), 1);
            let mut n = 0;
            for e in &events {
                n += t.feed(e).len();
            }
            n + t.finish().len()
        });
        let (pass, _) = time(rare, || {
            let mut t = UsageTracker::new(back, endpoint, true, false, 1 << 20);
            for e in &events {
                black_box(t.feed(e));
            }
            t.flush();
            t.outcome()
                .usage
                .map_or(0, |u| u.completion_tokens as usize)
        });
        let count = events.len() as f64;
        figures.push(TranslateFigure {
            name: format!(
                "stream {}←{} ({} events)",
                front.as_str(),
                back.as_str(),
                events.len()
            ),
            translated_ns: ns / count,
            passthrough_ns: pass / count,
            unit: "event",
            output_bytes,
        });
    }
    for (front, back) in PAIRS {
        let body = response_body(back);
        let spec = ResponseSpec {
            front,
            back,
            stream: false,
            include_usage: false,
            usage_injected: false,
            model: "client-model".into(),
        };
        let endpoint = back_endpoint(back, false);
        let (translated_ns, output_bytes) = time(rare, || {
            let mut t = ResponseTranslator::new(spec.clone(), 1);
            t.feed(&body).len() + t.finish().len()
        });
        let (passthrough_ns, _) = time(rare, || {
            let mut t = UsageTracker::new(back, endpoint, false, false, 1 << 20);
            black_box(t.feed(&body));
            t.flush();
            t.outcome()
                .usage
                .map_or(0, |u| u.completion_tokens as usize)
        });
        figures.push(TranslateFigure {
            name: format!(
                "response {}←{} ({} B)",
                front.as_str(),
                back.as_str(),
                body.len()
            ),
            translated_ns,
            passthrough_ns,
            unit: "response",
            output_bytes,
        });
    }
    Ok(figures)
}

/// Runs the measurement and writes the table.
pub fn run(out: &mut impl Write, iterations: usize) -> anyhow::Result<Vec<TranslateFigure>> {
    writeln!(
        out,
        "tollgate-bench --translate: CPU cost of format translation vs passthrough on the same bytes (best of {ROUNDS} rounds; passthrough = inspect_request for requests, the usage tracker for responses)"
    )?;
    out.flush()?;
    let figures = measure(iterations)?;
    writeln!(
        out,
        "{:<40} {:>14} {:>14} {:>8}",
        "what", "translated ns", "passthrough ns", "per"
    )?;
    for f in &figures {
        writeln!(
            out,
            "{:<40} {:>14.0} {:>14.0} {:>8}",
            f.name, f.translated_ns, f.passthrough_ns, f.unit
        )?;
    }
    out.flush()?;
    Ok(figures)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// The benchmark's inputs translate (no timing is asserted).
    #[test]
    fn every_direction_is_measured_and_produces_output() {
        let mut out = Vec::new();
        let figures = run(&mut out, 1).unwrap();
        assert_eq!(figures.len(), 12);
        for f in &figures {
            assert!(f.output_bytes > 0, "{}", f.name);
        }
        let text = String::from_utf8(out).unwrap();
        for (front, back) in PAIRS {
            assert!(
                text.contains(&format!("request {}", arrow(front, back))),
                "{text}"
            );
        }
        assert_eq!(figures.iter().filter(|f| f.unit == "event").count(), 4);
    }

    #[test]
    fn benchmark_streams_translate_completely() {
        for (front, back) in PAIRS {
            let spec = ResponseSpec {
                front,
                back,
                stream: true,
                include_usage: true,
                usage_injected: false,
                model: "m".into(),
            };
            let mut t = ResponseTranslator::new(spec, 1);
            let mut out = Vec::new();
            for e in stream_events(back) {
                out.extend_from_slice(&t.feed(&e));
            }
            out.extend_from_slice(&t.finish());
            let text = String::from_utf8(out).unwrap();
            let end = if front == ApiFormat::OpenAi {
                "data: [DONE]\n\n"
            } else {
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
            };
            assert!(text.ends_with(end), "{front:?}<-{back:?}");
            assert!(t.outcome().complete);
            assert_eq!(t.outcome().usage.unwrap().completion_tokens, 230);
        }
    }
}
