//! Gemini generateContent in translation: the request rendered (back end), the
//! `GenerateContentResponse` parsed, whole or as `alt=sse` chunks.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::ir::{
    Choice, Finish, Image, Part, Request, Response, ResponseFormat, Role, StreamEvent, Tokens,
    ToolCall, ToolChoice, tool_id,
};
use super::{Ctx, TranslateError, arguments_object, str_of};

/// The MIME type of an image URL, from its extension (Gemini needs one for `fileData`).
fn mime_from_url(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("heic") => "image/heic",
        Some("heif") => "image/heif",
        Some("pdf") => "application/pdf",
        _ => "image/jpeg",
    }
}

fn image_part(img: &Image) -> Value {
    match img {
        Image::Base64 { media_type, data } => {
            json!({"inlineData": {"mimeType": media_type, "data": data}})
        }
        Image::Url(url) => json!({"fileData": {"mimeType": mime_from_url(url), "fileUri": url}}),
    }
}

fn parts(src: &[Part], ctx: &mut Ctx<'_>) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::new();
    for p in src {
        match p {
            Part::Text(t) if t.is_empty() => {}
            Part::Text(t) => out.push(json!({"text": t})),
            Part::Image(img) => out.push(image_part(img)),
            Part::ToolCall(c) => out.push(json!({"functionCall": {
                "name": c.name,
                "args": arguments_object(&c.arguments)?
            }})),
            Part::ToolResult(r) => {
                let Some(name) = &r.name else {
                    return Err(TranslateError::invalid(
                        "messages",
                        format!(
                            "the tool result for call `{}` does not follow an assistant turn that made that call",
                            r.id
                        ),
                    ));
                };
                if r.content.iter().any(|c| matches!(c, Part::Image(_))) {
                    ctx.unsupported(
                        "messages.content.tool_result.image",
                        "an image inside a tool result",
                    )?;
                }
                let text = r.text();
                let mut response = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => json!({"content": text}),
                };
                if r.is_error {
                    response = json!({"error": response});
                }
                out.push(json!({"functionResponse": {"name": name, "response": response}}));
            }
        }
    }
    Ok(out)
}

/// The request body and the path (with `?alt=sse` when streaming).
pub(super) fn render_request(
    req: &Request,
    model: &str,
    ctx: &mut Ctx<'_>,
) -> Result<(Value, String), TranslateError> {
    let mut out = Map::new();
    let mut contents: Vec<(Role, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let ps = parts(&m.parts, ctx)?;
        if ps.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some((role, existing)) if *role == m.role => existing.extend(ps),
            _ => contents.push((m.role, ps)),
        }
    }
    out.insert(
        "contents".into(),
        Value::Array(
            contents
                .into_iter()
                .map(|(role, parts)| {
                    let role = match role {
                        Role::User => "user",
                        Role::Assistant => "model",
                    };
                    json!({"role": role, "parts": parts})
                })
                .collect(),
        ),
    );
    if req.system.iter().any(|t| !t.is_empty()) {
        let parts: Vec<Value> = req
            .system
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| json!({"text": t}))
            .collect();
        out.insert("systemInstruction".into(), json!({"parts": parts}));
    }
    let mut config = Map::new();
    if let Some(n) = req.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    for (k, v) in [
        ("temperature", &req.temperature),
        ("topP", &req.top_p),
        ("topK", &req.top_k),
        ("seed", &req.seed),
        ("presencePenalty", &req.presence_penalty),
        ("frequencyPenalty", &req.frequency_penalty),
    ] {
        if let Some(v) = v {
            config.insert(k.into(), v.clone());
        }
    }
    if !req.stop.is_empty() {
        config.insert("stopSequences".into(), json!(req.stop));
    }
    if let Some(n) = req.n {
        config.insert("candidateCount".into(), json!(n));
    }
    match &req.response_format {
        None => {}
        Some(ResponseFormat::JsonObject) => {
            config.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            config.insert("responseMimeType".into(), json!("application/json"));
            config.insert("responseJsonSchema".into(), schema.clone());
        }
    }
    if !config.is_empty() {
        out.insert("generationConfig".into(), Value::Object(config));
    }
    if !req.tools.is_empty() {
        let declarations: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut d = Map::new();
                d.insert("name".into(), json!(t.name));
                if let Some(desc) = &t.description {
                    d.insert("description".into(), json!(desc));
                }
                if let Some(p) = &t.parameters {
                    d.insert("parametersJsonSchema".into(), p.clone());
                }
                Value::Object(d)
            })
            .collect();
        out.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
    }
    if let Some(choice) = &req.tool_choice {
        let config = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Named(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        out.insert(
            "toolConfig".into(),
            json!({"functionCallingConfig": config}),
        );
    }
    if req.parallel_tool_calls == Some(false) {
        ctx.unsupported("parallel_tool_calls", "turning parallel tool calls off")?;
    }
    let path = if req.stream {
        format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("/v1beta/models/{model}:generateContent")
    };
    Ok((Value::Object(out), path))
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

fn finish_of(reason: &str, had_tools: bool) -> Finish {
    match reason {
        "MAX_TOKENS" => Finish::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY"
        | "LANGUAGE" => Finish::ContentFilter,
        _ if had_tools => Finish::ToolCalls,
        _ => Finish::Stop,
    }
}

pub(super) fn tokens_of(usage: &Value) -> Option<Tokens> {
    if !usage.is_object() {
        return None;
    }
    let n = |key: &str| usage.get(key).and_then(Value::as_u64).unwrap_or(0);
    Some(Tokens {
        input: n("promptTokenCount") + n("toolUsePromptTokenCount"),
        output: n("candidatesTokenCount") + n("thoughtsTokenCount"),
        cache_read: n("cachedContentTokenCount"),
        cache_write: 0,
        reasoning: n("thoughtsTokenCount"),
    })
}

fn candidate_parts(c: &Value) -> &[Value] {
    c.pointer("/content/parts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn is_blocked(value: &Value) -> bool {
    value
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
        .is_some_and(|r| !r.is_empty())
}

pub(super) fn parse_response(value: &Value) -> Option<Response> {
    let id = str_of(value, "responseId").unwrap_or_default().to_string();
    let candidates = value.get("candidates").and_then(Value::as_array);
    if candidates.is_none() && !is_blocked(value) && value.get("usageMetadata").is_none() {
        return None;
    }
    let mut out = Response {
        id: id.clone(),
        choices: Vec::new(),
        usage: value.get("usageMetadata").and_then(tokens_of),
    };
    let mut calls = 0;
    for (i, c) in candidates
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let mut choice = Choice {
            index: c
                .get("index")
                .and_then(Value::as_u64)
                .map_or(i as u32, |x| x as u32),
            ..Choice::default()
        };
        for p in candidate_parts(c) {
            if p.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(t) = str_of(p, "text") {
                choice.text.push_str(t);
            }
            if let Some(f) = p.get("functionCall") {
                choice.tool_calls.push(ToolCall {
                    id: str_of(f, "id")
                        .map(str::to_string)
                        .unwrap_or_else(|| tool_id("call", &id, calls)),
                    name: str_of(f, "name").unwrap_or_default().to_string(),
                    arguments: f
                        .get("args")
                        .map_or_else(|| "{}".to_string(), Value::to_string),
                });
                calls += 1;
            }
        }
        choice.finish = str_of(c, "finishReason")
            .filter(|r| !r.is_empty())
            .map(|r| finish_of(r, !choice.tool_calls.is_empty()));
        out.choices.push(choice);
    }
    if out.choices.is_empty() && is_blocked(value) {
        out.choices.push(Choice {
            finish: Some(Finish::ContentFilter),
            ..Choice::default()
        });
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Streams (alt=sse): each event is a GenerateContentResponse with the next parts
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
pub(super) struct StreamParser {
    started: bool,
    /// Candidate index → tool calls seen so far.
    calls: HashMap<u32, u32>,
    /// Candidate index → finished.
    candidates: BTreeMap<u32, bool>,
    done: bool,
}

impl StreamParser {
    pub fn event(&mut self, data: &[u8], out: &mut Vec<StreamEvent>) {
        let Ok(value) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        if let Some(err) = value.get("error") {
            out.push(StreamEvent::Error {
                status: err
                    .get("code")
                    .and_then(Value::as_u64)
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(500),
                kind: str_of(err, "status").unwrap_or("INTERNAL").to_string(),
                message: str_of(err, "message").unwrap_or_default().to_string(),
            });
            return;
        }
        let id = str_of(&value, "responseId").unwrap_or_default();
        let usage = value.get("usageMetadata").and_then(tokens_of);
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: id.to_string(),
                usage,
            });
        }
        let candidates = value
            .get("candidates")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, c) in candidates.iter().enumerate() {
            let choice = c
                .get("index")
                .and_then(Value::as_u64)
                .map_or(i as u32, |x| x as u32);
            self.candidates.entry(choice).or_insert(false);
            for p in candidate_parts(c) {
                if p.get("thought").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                if let Some(t) = str_of(p, "text").filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::Text {
                        choice,
                        text: t.to_string(),
                    });
                }
                if let Some(f) = p.get("functionCall") {
                    let index = {
                        let n = self.calls.entry(choice).or_insert(0);
                        *n += 1;
                        *n - 1
                    };
                    out.push(StreamEvent::ToolStart {
                        choice,
                        index,
                        id: str_of(f, "id")
                            .map(str::to_string)
                            .unwrap_or_else(|| tool_id("call", id, index as usize)),
                        name: str_of(f, "name").unwrap_or_default().to_string(),
                    });
                    out.push(StreamEvent::ToolArgs {
                        choice,
                        index,
                        fragment: f
                            .get("args")
                            .map_or_else(|| "{}".to_string(), Value::to_string),
                    });
                }
            }
            if let Some(reason) = str_of(c, "finishReason").filter(|r| !r.is_empty()) {
                let had_tools = self.calls.get(&choice).is_some_and(|n| *n > 0);
                out.push(StreamEvent::Finish {
                    choice,
                    finish: finish_of(reason, had_tools),
                });
                self.candidates.insert(choice, true);
            }
        }
        if candidates.is_empty() && is_blocked(&value) {
            out.push(StreamEvent::Finish {
                choice: 0,
                finish: Finish::ContentFilter,
            });
            self.candidates.insert(0, true);
        }
        if let Some(u) = usage {
            out.push(StreamEvent::Usage(u));
        }
        if !self.done && !self.candidates.is_empty() && self.candidates.values().all(|f| *f) {
            self.done = true;
            out.push(StreamEvent::Done);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_from_urls() {
        assert_eq!(mime_from_url("https://x.org/a.PNG?s=1"), "image/png");
        assert_eq!(mime_from_url("https://x.org/a.webp#f"), "image/webp");
        assert_eq!(mime_from_url("https://x.org/photo"), "image/jpeg");
        assert_eq!(mime_from_url("gs://bucket/doc.pdf"), "application/pdf");
    }
}
