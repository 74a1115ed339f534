//! Gemini wire format: generateContent, streamGenerateContent (SSE and JSON array),
//! countTokens, embedContent, batchEmbedContents, models.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::openai::tool_call_tokens;
use super::tools::{PlannedCall, planned_calls};
use super::{Call, Event, Provider, Reply, SentUsage, embedding_values};

const SSE: &str = "text/event-stream";
const JSON_STREAM: &str = "application/json; charset=UTF-8";
const MODELS: [(&str, &str); 3] = [
    ("gemini-2.5-flash", "Gemini 2.5 Flash"),
    ("gemini-2.5-pro", "Gemini 2.5 Pro"),
    ("text-embedding-004", "Text Embedding 004"),
];

/// `{"error":{"code","message","status"}}`
pub(crate) fn error_body(code: u16, message: &str, status: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

pub(crate) fn failure_body(status: u16) -> Value {
    match status {
        401 => json!({"error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}
            }]
        }}),
        403 => error_body(
            403,
            "The caller does not have permission",
            "PERMISSION_DENIED",
        ),
        413 => error_body(
            400,
            "Request payload size exceeds the limit: 20971520 bytes.",
            "INVALID_ARGUMENT",
        ),
        super::QUOTA => error_body(
            400,
            "User location is not supported for the API use.",
            "FAILED_PRECONDITION",
        ),
        429 => json!({"error": {
            "code": 429,
            "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]
        }}),
        503 => error_body(
            503,
            "The model is overloaded. Please try again later.",
            "UNAVAILABLE",
        ),
        504 => error_body(
            504,
            "Deadline expired before operation could complete.",
            "DEADLINE_EXCEEDED",
        ),
        _ => error_body(
            500,
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            "INTERNAL",
        ),
    }
}

/// Gemini's usage parts: the thinking figure depends on the request too.
struct Figures {
    prompt: u64,
    cached: u64,
    thoughts: u64,
}

impl Figures {
    fn of(call: &Call) -> Figures {
        let prompt = call.prompt_tokens();
        Figures {
            prompt,
            cached: prompt / 3,
            thoughts: prompt % 7 + 5,
        }
    }

    /// `usageMetadata` once `candidates` output tokens were produced, and its normalized form.
    fn metadata(&self, candidates: u64) -> (Value, SentUsage) {
        let value = json!({
            "promptTokenCount": self.prompt,
            "candidatesTokenCount": candidates,
            "totalTokenCount": self.prompt + candidates + self.thoughts,
            "cachedContentTokenCount": self.cached,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": self.prompt}],
            "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": self.cached}],
            "thoughtsTokenCount": self.thoughts
        });
        let usage = SentUsage {
            prompt_tokens: self.prompt,
            completion_tokens: candidates + self.thoughts,
            cache_write_tokens: 0,
            cache_read_tokens: self.cached,
        };
        (value, usage)
    }
}

fn response(text: &str, finished: bool, usage: Value, model: &str, id: &str) -> Value {
    let mut candidate =
        json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
    if finished {
        candidate["finishReason"] = json!("STOP");
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": id
    })
}

/// A response whose candidate calls functions (see `tools`): one `functionCall` part per call,
/// arguments as an object; Gemini sends the calls whole, also when streaming.
fn function_calls(
    planned: &[PlannedCall],
    figures: &Figures,
    model: &str,
    id: &str,
) -> (Value, SentUsage) {
    let (metadata, usage) = figures.metadata(tool_call_tokens(planned));
    let parts: Vec<Value> = planned
        .iter()
        .map(|c| json!({"functionCall": {"name": c.name, "args": c.arguments}}))
        .collect();
    let body = json!({
        "candidates": [{
            "content": {"parts": parts, "role": "model"},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": metadata,
        "modelVersion": model,
        "responseId": id
    });
    (body, usage)
}

/// POST /v1beta/models/{model}:generateContent
pub(crate) fn generate(call: &Call, model: &str) -> Reply {
    let figures = Figures::of(call);
    let planned = planned_calls(Provider::Gemini, &call.json);
    if !planned.is_empty() {
        let (body, usage) = function_calls(&planned, &figures, model, &call.id(22));
        return Reply::ok(body, Some(usage));
    }
    let (metadata, usage) = figures.metadata(call.chunks() as u64 * 3);
    let body = response(&call.full_text(), true, metadata, model, &call.id(22));
    Reply::ok(body, Some(usage))
}

/// POST /v1beta/models/{model}:streamGenerateContent (`?alt=sse` or a streamed JSON array)
pub(crate) fn stream(call: &Call, model: &str) -> Reply {
    let figures = Figures::of(call);
    let id = call.id(22);
    let sse = call.query_param("alt") == Some("sse");
    let planned = planned_calls(Provider::Gemini, &call.json);
    if !planned.is_empty() {
        let (body, usage) = function_calls(&planned, &figures, model, &id);
        let bytes = if sse {
            format!("data: {body}\r\n\r\n")
        } else {
            format!("[{body}]")
        };
        return Reply::Stream {
            content_type: if sse { SSE } else { JSON_STREAM },
            events: vec![Event::with_usage(bytes, usage)],
            headers: Vec::new(),
        };
    }
    let chunks = call.chunks();
    let events = (0..chunks)
        .map(|i| {
            let last = i + 1 == chunks;
            let (metadata, usage) = figures.metadata((i as u64 + 1) * 3);
            let chunk = response(Call::word(i), last, metadata, model, &id);
            let bytes = if sse {
                format!("data: {chunk}\r\n\r\n")
            } else {
                let open = if i == 0 { "[" } else { ",\r\n" };
                let close = if last { "]" } else { "" };
                format!("{open}{chunk}{close}")
            };
            Event::with_usage(bytes, usage)
        })
        .collect();
    Reply::Stream {
        content_type: if sse { SSE } else { JSON_STREAM },
        events,
        headers: Vec::new(),
    }
}

/// POST /v1beta/models/{model}:countTokens
pub(crate) fn count_tokens(call: &Call) -> Reply {
    let prompt = call.prompt_tokens();
    Reply::ok(
        json!({
            "totalTokens": prompt,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]
        }),
        None,
    )
}

fn dims(request: &Value) -> usize {
    request
        .get("outputDimensionality")
        .and_then(Value::as_u64)
        .map_or(16, |d| d.clamp(1, 4096) as usize)
}

/// POST /v1beta/models/{model}:embedContent
pub(crate) fn embed(call: &Call) -> Reply {
    let values = embedding_values(0, dims(&call.json));
    Reply::ok(json!({"embedding": {"values": values}}), None)
}

/// POST /v1beta/models/{model}:batchEmbedContents
pub(crate) fn batch_embed(call: &Call) -> Reply {
    let requests = call
        .json
        .get("requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let embeddings: Vec<Value> = requests
        .iter()
        .enumerate()
        .map(|(i, request)| json!({"values": embedding_values(i as u64, dims(request))}))
        .collect();
    Reply::ok(json!({"embeddings": embeddings}), None)
}

fn model_object(id: &str, display: &str) -> Value {
    json!({
        "name": format!("models/{id}"),
        "version": "001",
        "displayName": display,
        "description": format!("Mock {display}"),
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "countTokens", "embedContent"]
    })
}

/// GET /v1beta/models
pub(crate) fn models() -> Reply {
    let models: Vec<Value> = MODELS.iter().map(|(id, d)| model_object(id, d)).collect();
    Reply::ok(json!({"models": models}), None)
}

/// GET /v1beta/models/{name}
pub(crate) fn model(name: &str) -> Reply {
    match MODELS.iter().find(|(id, _)| *id == name) {
        Some((id, d)) => Reply::ok(model_object(id, d), None),
        None => Reply::error(
            StatusCode::NOT_FOUND,
            error_body(
                404,
                &format!("models/{name} is not found for API version v1beta"),
                "NOT_FOUND",
            ),
        ),
    }
}
