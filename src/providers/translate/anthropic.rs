//! Anthropic Messages in translation: the request parsed (front) and rendered (back), the
//! `message` response and the Messages event stream parsed and rendered.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::ir::{
    Choice, Finish, Image, Message, Part, Request, Response, ResponseFormat, Role, StreamEvent,
    Tokens, Tool, ToolCall, ToolChoice, ToolResult,
};
use super::{
    Ctx, TranslateError, arguments_object, array, is_null, number, object_or_empty,
    require_messages, str_of, strings, uint,
};

const IGNORED: [&str; 2] = ["model", "service_tier"];

pub(super) fn parse_request(
    map: &Map<String, Value>,
    ctx: &mut Ctx<'_>,
) -> Result<Request, TranslateError> {
    let mut req = Request::default();
    for (key, value) in map {
        match key.as_str() {
            "messages" => parse_messages(value, &mut req, ctx)?,
            "system" => {
                req.system = match value {
                    Value::Null => Vec::new(),
                    Value::String(s) => vec![s.clone()],
                    Value::Array(blocks) => blocks
                        .iter()
                        .map(|b| match (str_of(b, "type"), str_of(b, "text")) {
                            (Some("text"), Some(t)) => Ok(t.to_string()),
                            _ => Err(TranslateError::invalid(
                                "system",
                                "system blocks must be text blocks",
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(TranslateError::invalid(
                            "system",
                            "`system` must be a string or an array of text blocks",
                        ));
                    }
                }
            }
            "max_tokens" => req.max_tokens = uint(map, key)?,
            "temperature" => req.temperature = number(map, key)?,
            "top_p" => req.top_p = number(map, key)?,
            "top_k" => req.top_k = number(map, key)?,
            "stop_sequences" => {
                if value.is_string() {
                    return Err(TranslateError::invalid(
                        "stop_sequences",
                        "`stop_sequences` must be an array of strings",
                    ));
                }
                req.stop = strings(value, "stop_sequences")?
            }
            "stream" => req.stream = value.as_bool().unwrap_or(false),
            "metadata" => {
                req.user = value
                    .get("user_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }
            "tools" => req.tools = parse_tools(value, ctx)?,
            "tool_choice" => {
                if !value.is_null() {
                    let (choice, parallel) = parse_tool_choice(value)?;
                    req.tool_choice = Some(choice);
                    req.parallel_tool_calls = parallel;
                }
            }
            "thinking" => {
                if !is_null(Some(value)) && str_of(value, "type") != Some("disabled") {
                    ctx.unsupported("thinking", "extended thinking")?;
                }
            }
            k => ctx.other_param(k, value, &IGNORED)?,
        }
    }
    require_messages(map)?;
    if req.max_tokens.is_none() {
        return Err(TranslateError::invalid(
            "max_tokens",
            "`max_tokens` is required",
        ));
    }
    Ok(req)
}

fn parse_image(
    source: &Value,
    param: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<Image>, TranslateError> {
    match str_of(source, "type") {
        Some("base64") => Ok(Some(Image::Base64 {
            media_type: str_of(source, "media_type")
                .unwrap_or("image/png")
                .to_string(),
            data: str_of(source, "data").unwrap_or_default().to_string(),
        })),
        Some("url") => Ok(Some(Image::Url(
            str_of(source, "url").unwrap_or_default().to_string(),
        ))),
        _ => {
            ctx.unsupported(param, "this image source")?;
            Ok(None)
        }
    }
}

fn parse_messages(
    value: &Value,
    req: &mut Request,
    ctx: &mut Ctx<'_>,
) -> Result<(), TranslateError> {
    let items = array(value, "messages")?;
    let mut names: HashMap<String, String> = HashMap::new();
    for (i, m) in items.iter().enumerate() {
        let role = match str_of(m, "role") {
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            _ => {
                return Err(TranslateError::invalid(
                    format!("messages.{i}.role"),
                    "the role must be user or assistant",
                ));
            }
        };
        let mut parts = Vec::new();
        match m.get("content") {
            Some(Value::String(s)) => parts.push(Part::Text(s.clone())),
            Some(Value::Array(blocks)) => {
                for (j, b) in blocks.iter().enumerate() {
                    let param = format!("messages.{i}.content.{j}");
                    match str_of(b, "type") {
                        Some("text") => parts.push(Part::Text(
                            str_of(b, "text").unwrap_or_default().to_string(),
                        )),
                        Some("image") => {
                            let source = b.get("source").unwrap_or(&Value::Null);
                            if let Some(img) = parse_image(source, &param, ctx)? {
                                parts.push(Part::Image(img));
                            }
                        }
                        Some("tool_use") => {
                            let id = str_of(b, "id").unwrap_or_default().to_string();
                            let name = str_of(b, "name").unwrap_or_default().to_string();
                            names.insert(id.clone(), name.clone());
                            let input = b.get("input").cloned().unwrap_or_else(|| json!({}));
                            parts.push(Part::ToolCall(ToolCall {
                                id,
                                name,
                                arguments: input.to_string(),
                            }));
                        }
                        Some("tool_result") => {
                            let id = str_of(b, "tool_use_id").unwrap_or_default().to_string();
                            let mut content = Vec::new();
                            match b.get("content") {
                                Some(Value::String(s)) => content.push(Part::Text(s.clone())),
                                Some(Value::Array(inner)) => {
                                    for c in inner {
                                        match str_of(c, "type") {
                                            Some("text") => content.push(Part::Text(
                                                str_of(c, "text").unwrap_or_default().to_string(),
                                            )),
                                            Some("image") => {
                                                let source =
                                                    c.get("source").unwrap_or(&Value::Null);
                                                if let Some(img) = parse_image(source, &param, ctx)?
                                                {
                                                    content.push(Part::Image(img));
                                                }
                                            }
                                            _ => ctx.unsupported(
                                                &format!("{param}.content"),
                                                "this tool result content",
                                            )?,
                                        }
                                    }
                                }
                                _ => {}
                            }
                            parts.push(Part::ToolResult(ToolResult {
                                name: names.get(&id).cloned(),
                                id,
                                content,
                                is_error: b.get("is_error").and_then(Value::as_bool) == Some(true),
                            }));
                        }
                        // Earlier thinking of a Claude model means nothing to another one.
                        Some("thinking" | "redacted_thinking") => {}
                        Some(other) => ctx.unsupported(&param, &format!("`{other}` content"))?,
                        None => {
                            return Err(TranslateError::invalid(
                                param,
                                "a content block needs a `type`",
                            ));
                        }
                    }
                }
            }
            _ => {
                return Err(TranslateError::invalid(
                    format!("messages.{i}.content"),
                    "content must be a string or an array of blocks",
                ));
            }
        }
        req.messages.push(Message { role, parts });
    }
    Ok(())
}

fn parse_tools(value: &Value, ctx: &mut Ctx<'_>) -> Result<Vec<Tool>, TranslateError> {
    let items = array(value, "tools")?;
    let mut tools = Vec::new();
    for (i, t) in items.iter().enumerate() {
        if !matches!(str_of(t, "type"), None | Some("custom")) {
            ctx.unsupported(&format!("tools.{i}.type"), "a server tool")?;
            continue;
        }
        let Some(name) = str_of(t, "name") else {
            return Err(TranslateError::invalid(
                format!("tools.{i}.name"),
                "a tool needs a name",
            ));
        };
        tools.push(Tool {
            name: name.to_string(),
            description: str_of(t, "description").map(str::to_string),
            parameters: t.get("input_schema").filter(|s| !s.is_null()).cloned(),
        });
    }
    Ok(tools)
}

fn parse_tool_choice(value: &Value) -> Result<(ToolChoice, Option<bool>), TranslateError> {
    let choice = match str_of(value, "type") {
        Some("auto") => ToolChoice::Auto,
        Some("any") => ToolChoice::Required,
        Some("none") => ToolChoice::None,
        Some("tool") => match str_of(value, "name") {
            Some(name) => ToolChoice::Named(name.to_string()),
            None => {
                return Err(TranslateError::invalid(
                    "tool_choice.name",
                    "a `tool` choice needs a name",
                ));
            }
        },
        _ => {
            return Err(TranslateError::invalid(
                "tool_choice.type",
                "`tool_choice.type` must be auto, any, tool or none",
            ));
        }
    };
    let parallel = (value
        .get("disable_parallel_tool_use")
        .and_then(Value::as_bool)
        == Some(true))
    .then_some(false);
    Ok((choice, parallel))
}

// ---------------------------------------------------------------------------------------------
// Rendering a request (Anthropic back end)
// ---------------------------------------------------------------------------------------------

fn image_block(img: &Image) -> Value {
    match img {
        Image::Base64 { media_type, data } => {
            json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}})
        }
        Image::Url(url) => json!({"type": "image", "source": {"type": "url", "url": url}}),
    }
}

fn blocks(parts: &[Part]) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Part::Text(t) if t.is_empty() => {}
            Part::Text(t) => out.push(json!({"type": "text", "text": t})),
            Part::Image(img) => out.push(image_block(img)),
            Part::ToolCall(c) => out.push(json!({
                "type": "tool_use",
                "id": c.id,
                "name": c.name,
                "input": arguments_object(&c.arguments)?
            })),
            Part::ToolResult(r) => {
                let content = match r.content.as_slice() {
                    [Part::Text(t)] => json!(t),
                    parts => Value::Array(blocks(parts)?),
                };
                let mut block =
                    json!({"type": "tool_result", "tool_use_id": r.id, "content": content});
                if r.is_error {
                    block["is_error"] = json!(true);
                }
                out.push(block);
            }
        }
    }
    Ok(out)
}

pub(super) fn render_request(
    req: &Request,
    model: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Value, TranslateError> {
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    // Consecutive turns of one role are merged: the Messages API wants them alternating.
    let mut merged: Vec<(Role, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let content = blocks(&m.parts)?;
        if content.is_empty() {
            continue;
        }
        match merged.last_mut() {
            Some((role, existing)) if *role == m.role => existing.extend(content),
            _ => merged.push((m.role, content)),
        }
    }
    let messages: Vec<Value> = merged
        .into_iter()
        .map(|(role, content)| {
            let role = match role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            let content = match content.as_slice() {
                [single] if str_of(single, "type") == Some("text") => single["text"].clone(),
                _ => Value::Array(content),
            };
            json!({"role": role, "content": content})
        })
        .collect();
    match req.system.as_slice() {
        [] => {}
        [one] => {
            out.insert("system".into(), json!(one));
        }
        many => {
            out.insert(
                "system".into(),
                Value::Array(
                    many.iter()
                        .map(|t| json!({"type": "text", "text": t}))
                        .collect(),
                ),
            );
        }
    }
    out.insert("messages".into(), Value::Array(messages));
    out.insert(
        "max_tokens".into(),
        json!(req.max_tokens.unwrap_or(ctx.opts.default_max_tokens)),
    );
    for (k, v) in [
        ("temperature", &req.temperature),
        ("top_p", &req.top_p),
        ("top_k", &req.top_k),
    ] {
        if let Some(v) = v {
            out.insert(k.into(), v.clone());
        }
    }
    if !req.stop.is_empty() {
        out.insert("stop_sequences".into(), json!(req.stop));
    }
    if req.stream {
        out.insert("stream".into(), json!(true));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut tool = Map::new();
                tool.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    tool.insert("description".into(), json!(d));
                }
                tool.insert(
                    "input_schema".into(),
                    t.parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                );
                Value::Object(tool)
            })
            .collect();
        out.insert("tools".into(), Value::Array(tools));
    }
    let mut choice = req.tool_choice.as_ref().map(|c| match c {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::Named(name) => json!({"type": "tool", "name": name}),
    });
    if req.parallel_tool_calls == Some(false) {
        let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
        if c["type"] != "none" {
            c["disable_parallel_tool_use"] = json!(true);
        }
    }
    if let Some(c) = choice {
        out.insert("tool_choice".into(), c);
    }
    if let Some(u) = &req.user {
        out.insert("metadata".into(), json!({"user_id": u}));
    }
    match &req.response_format {
        None => {}
        Some(ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. }) => {
            ctx.unsupported("response_format", "a JSON response format")?
        }
    }
    if req.seed.is_some() {
        ctx.unsupported("seed", "`seed`")?;
    }
    if req.presence_penalty.is_some() {
        ctx.unsupported("presence_penalty", "`presence_penalty`")?;
    }
    if req.frequency_penalty.is_some() {
        ctx.unsupported("frequency_penalty", "`frequency_penalty`")?;
    }
    if req.n.is_some() {
        ctx.unsupported("n", "more than one choice (`n`)")?;
    }
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

pub(super) fn finish_of(reason: &str, stop_sequence: Option<&str>) -> Finish {
    match reason {
        "max_tokens" | "model_context_window_exceeded" => Finish::Length,
        "tool_use" => Finish::ToolCalls,
        "refusal" => Finish::ContentFilter,
        "stop_sequence" => Finish::StopSequence(stop_sequence.map(str::to_string)),
        _ => Finish::Stop,
    }
}

fn stop_reason(finish: &Finish) -> (&'static str, Value) {
    match finish {
        Finish::Stop => ("end_turn", Value::Null),
        Finish::Length => ("max_tokens", Value::Null),
        Finish::ToolCalls => ("tool_use", Value::Null),
        Finish::ContentFilter => ("refusal", Value::Null),
        Finish::StopSequence(s) => (
            "stop_sequence",
            s.clone().map_or(Value::Null, Value::String),
        ),
    }
}

/// Anthropic's usage figures as they come (input excludes the cache).
#[derive(Clone, Copy, Debug, Default)]
struct Raw {
    input: u64,
    output: u64,
    cache_write: u64,
    cache_read: u64,
}

impl Raw {
    fn apply(&mut self, usage: &Value) -> bool {
        let mut any = false;
        for (key, slot) in [
            ("input_tokens", &mut self.input),
            ("output_tokens", &mut self.output),
            ("cache_creation_input_tokens", &mut self.cache_write),
            ("cache_read_input_tokens", &mut self.cache_read),
        ] {
            if let Some(n) = usage.get(key).and_then(Value::as_u64) {
                *slot = n;
                any = true;
            }
        }
        any
    }

    fn tokens(&self) -> Tokens {
        Tokens {
            input: self.input + self.cache_write + self.cache_read,
            output: self.output,
            cache_read: self.cache_read,
            cache_write: self.cache_write,
            reasoning: 0,
        }
    }
}

fn usage_value(t: &Tokens) -> Value {
    json!({
        "input_tokens": t.uncached_input(),
        "cache_creation_input_tokens": t.cache_write,
        "cache_read_input_tokens": t.cache_read,
        "output_tokens": t.output
    })
}

pub(super) fn parse_response(value: &Value) -> Option<Response> {
    let content = value.get("content")?.as_array()?;
    let mut choice = Choice::default();
    for b in content {
        match str_of(b, "type") {
            Some("text") => choice.text.push_str(str_of(b, "text").unwrap_or_default()),
            Some("tool_use") => choice.tool_calls.push(ToolCall {
                id: str_of(b, "id").unwrap_or_default().to_string(),
                name: str_of(b, "name").unwrap_or_default().to_string(),
                arguments: b
                    .get("input")
                    .map_or_else(|| "{}".to_string(), Value::to_string),
            }),
            _ => {}
        }
    }
    choice.finish =
        str_of(value, "stop_reason").map(|r| finish_of(r, str_of(value, "stop_sequence")));
    let usage = value.get("usage").and_then(|u| {
        let mut raw = Raw::default();
        raw.apply(u).then(|| raw.tokens())
    });
    Some(Response {
        id: str_of(value, "id").unwrap_or_default().to_string(),
        choices: vec![choice],
        usage,
    })
}

fn message_id(id: &str) -> String {
    if id.starts_with("msg_") {
        id.to_string()
    } else {
        format!("msg_{id}")
    }
}

pub(super) fn render_response(resp: &Response, model: &str) -> Value {
    let empty = Choice::default();
    let choice = resp.choices.first().unwrap_or(&empty);
    let mut content = Vec::new();
    if !choice.text.is_empty() {
        content.push(json!({"type": "text", "text": choice.text}));
    }
    for t in &choice.tool_calls {
        content.push(json!({
            "type": "tool_use",
            "id": t.id,
            "name": t.name,
            "input": object_or_empty(&t.arguments)
        }));
    }
    let (reason, sequence) = stop_reason(choice.finish.as_ref().unwrap_or(&Finish::Stop));
    json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reason,
        "stop_sequence": sequence,
        "usage": usage_value(&resp.usage.unwrap_or_default())
    })
}

// ---------------------------------------------------------------------------------------------
// Streams: parsing (Anthropic back end)
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
pub(super) struct StreamParser {
    raw: Raw,
    /// Content block index → tool-call index.
    tools: HashMap<u64, u32>,
}

fn error_status(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "overloaded_error" => 529,
        "timeout_error" => 504,
        _ => 500,
    }
}

impl StreamParser {
    pub fn event(&mut self, name: Option<&[u8]>, data: &[u8], out: &mut Vec<StreamEvent>) {
        let Ok(ev) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        let kind = match name {
            Some(n) if !n.is_empty() => String::from_utf8_lossy(n).into_owned(),
            _ => str_of(&ev, "type").unwrap_or_default().to_string(),
        };
        match kind.as_str() {
            "message_start" => {
                let message = ev.get("message").unwrap_or(&Value::Null);
                if let Some(u) = message.get("usage") {
                    self.raw.apply(u);
                }
                out.push(StreamEvent::Start {
                    id: str_of(message, "id").unwrap_or_default().to_string(),
                    usage: Some(self.raw.tokens()),
                });
            }
            "content_block_start" => {
                let block = ev.get("content_block").unwrap_or(&Value::Null);
                let index = ev.get("index").and_then(Value::as_u64).unwrap_or(0);
                match str_of(block, "type") {
                    Some("text") => {
                        if let Some(t) = str_of(block, "text").filter(|t| !t.is_empty()) {
                            out.push(StreamEvent::Text {
                                choice: 0,
                                text: t.to_string(),
                            });
                        }
                    }
                    Some("tool_use") => {
                        let tool = self.tools.len() as u32;
                        self.tools.insert(index, tool);
                        out.push(StreamEvent::ToolStart {
                            choice: 0,
                            index: tool,
                            id: str_of(block, "id").unwrap_or_default().to_string(),
                            name: str_of(block, "name").unwrap_or_default().to_string(),
                        });
                        if let Some(input) = block
                            .get("input")
                            .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()))
                        {
                            out.push(StreamEvent::ToolArgs {
                                choice: 0,
                                index: tool,
                                fragment: input.to_string(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = ev.get("delta").unwrap_or(&Value::Null);
                let index = ev.get("index").and_then(Value::as_u64).unwrap_or(0);
                match str_of(delta, "type") {
                    Some("text_delta") => {
                        if let Some(t) = str_of(delta, "text").filter(|t| !t.is_empty()) {
                            out.push(StreamEvent::Text {
                                choice: 0,
                                text: t.to_string(),
                            });
                        }
                    }
                    Some("input_json_delta") => {
                        if let (Some(tool), Some(part)) = (
                            self.tools.get(&index),
                            str_of(delta, "partial_json").filter(|p| !p.is_empty()),
                        ) {
                            out.push(StreamEvent::ToolArgs {
                                choice: 0,
                                index: *tool,
                                fragment: part.to_string(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                let delta = ev.get("delta").unwrap_or(&Value::Null);
                if let Some(reason) = str_of(delta, "stop_reason") {
                    out.push(StreamEvent::Finish {
                        choice: 0,
                        finish: finish_of(reason, str_of(delta, "stop_sequence")),
                    });
                }
                if let Some(u) = ev.get("usage") {
                    self.raw.apply(u);
                    out.push(StreamEvent::Usage(self.raw.tokens()));
                }
            }
            "message_stop" => out.push(StreamEvent::Done),
            "error" => {
                let err = ev.get("error").unwrap_or(&Value::Null);
                let kind = str_of(err, "type").unwrap_or("api_error");
                out.push(StreamEvent::Error {
                    status: error_status(kind),
                    kind: kind.to_string(),
                    message: str_of(err, "message").unwrap_or_default().to_string(),
                });
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streams: rendering (Anthropic front door)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Text,
    Tool(u32),
}

pub(super) struct StreamWriter {
    model: String,
    started: bool,
    done: bool,
    /// The open content block: its index and kind.
    open: Option<(u32, Block)>,
    next_block: u32,
    /// Tool-call index → content block index.
    tool_blocks: HashMap<u32, u32>,
    finish: Option<Finish>,
    usage: Tokens,
}

fn event(name: &str, value: &Value, out: &mut Vec<u8>) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    let _ = serde_json::to_writer(&mut *out, value);
    out.extend_from_slice(b"\n\n");
}

impl StreamWriter {
    pub fn new(model: &str) -> Self {
        StreamWriter {
            model: model.to_string(),
            started: false,
            done: false,
            open: None,
            next_block: 0,
            tool_blocks: HashMap::new(),
            finish: None,
            usage: Tokens::default(),
        }
    }

    fn start(&mut self, id: &str, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        event(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": message_id(id),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage_value(&self.usage)
            }}),
            out,
        );
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if let Some((index, _)) = self.open.take() {
            event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
                out,
            );
        }
    }

    fn open(&mut self, kind: Block, block: Value, out: &mut Vec<u8>) -> u32 {
        self.close(out);
        let index = self.next_block;
        self.next_block += 1;
        self.open = Some((index, kind));
        event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
            out,
        );
        index
    }

    pub fn write(&mut self, ev: StreamEvent, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        match ev {
            StreamEvent::Start { id, usage } => {
                if let Some(u) = usage {
                    self.usage = u;
                }
                self.start(&id, out);
            }
            StreamEvent::Text { choice: 0, text } => {
                self.start("", out);
                let index = match self.open {
                    Some((index, Block::Text)) => index,
                    _ => self.open(Block::Text, json!({"type": "text", "text": ""}), out),
                };
                event(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}),
                    out,
                );
            }
            StreamEvent::ToolStart {
                choice: 0,
                index,
                id,
                name,
            } => {
                self.start("", out);
                let block = self.open(
                    Block::Tool(index),
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    out,
                );
                self.tool_blocks.insert(index, block);
            }
            StreamEvent::ToolArgs {
                choice: 0,
                index,
                fragment,
            } => {
                if let Some(block) = self.tool_blocks.get(&index) {
                    event(
                        "content_block_delta",
                        &json!({"type": "content_block_delta", "index": block, "delta": {"type": "input_json_delta", "partial_json": fragment}}),
                        out,
                    );
                }
            }
            StreamEvent::Finish { choice: 0, finish } => {
                self.close(out);
                self.finish = Some(finish);
            }
            StreamEvent::Usage(t) => self.usage = t,
            StreamEvent::Error {
                status,
                kind,
                message,
            } => {
                self.done = true;
                let error = super::ProviderError {
                    status,
                    message,
                    code: Some(kind),
                    param: None,
                };
                event(
                    "error",
                    &super::render_error_value(super::ApiFormat::Anthropic, &error),
                    out,
                );
            }
            StreamEvent::Done => {
                self.start("", out);
                self.close(out);
                self.done = true;
                let (reason, sequence) = stop_reason(self.finish.as_ref().unwrap_or(&Finish::Stop));
                event(
                    "message_delta",
                    &json!({
                        "type": "message_delta",
                        "delta": {"stop_reason": reason, "stop_sequence": sequence},
                        "usage": usage_value(&self.usage)
                    }),
                    out,
                );
                event("message_stop", &json!({"type": "message_stop"}), out);
            }
            // Only the first choice has a place in a Messages response.
            StreamEvent::Text { .. }
            | StreamEvent::ToolStart { .. }
            | StreamEvent::ToolArgs { .. }
            | StreamEvent::Finish { .. } => {}
        }
    }
}
