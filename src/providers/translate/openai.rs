//! OpenAI Chat Completions in translation: the request parsed (front) and rendered (back), the
//! `chat.completion` response and the `chat.completion.chunk` stream parsed and rendered.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::ir::{
    Choice, Finish, Image, Message, Part, Request, Response, ResponseFormat, Role, StreamEvent,
    Tokens, Tool, ToolCall, ToolChoice, ToolResult, tool_id,
};
use super::{
    Ctx, MaxTokensParam, TranslateError, array, is_null, number, require_messages, str_of, strings,
    uint,
};

/// Parameters that do not change the answer and that no other provider needs.
const IGNORED: [&str; 7] = [
    "model",
    "store",
    "metadata",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
];

pub(super) fn parse_request(
    map: &Map<String, Value>,
    ctx: &mut Ctx<'_>,
) -> Result<Request, TranslateError> {
    let mut req = Request::default();
    for (key, value) in map {
        match key.as_str() {
            "messages" => parse_messages(value, &mut req, ctx)?,
            "max_tokens" | "max_completion_tokens" => {
                if let Some(n) = uint(map, key)? {
                    // max_completion_tokens wins when both are given.
                    if key == "max_completion_tokens" || req.max_tokens.is_none() {
                        req.max_tokens = Some(n);
                    }
                }
            }
            "temperature" => req.temperature = number(map, key)?,
            "top_p" => req.top_p = number(map, key)?,
            "seed" => req.seed = number(map, key)?,
            "presence_penalty" => {
                req.presence_penalty = number(map, key)?.filter(|v| v.as_f64() != Some(0.0))
            }
            "frequency_penalty" => {
                req.frequency_penalty = number(map, key)?.filter(|v| v.as_f64() != Some(0.0))
            }
            "n" => req.n = uint(map, key)?.filter(|n| *n != 1),
            "stop" => req.stop = strings(value, "stop")?,
            "stream" => req.stream = value.as_bool().unwrap_or(false),
            "stream_options" => {
                req.include_usage =
                    value.get("include_usage").and_then(Value::as_bool) == Some(true)
            }
            "tools" => req.tools = parse_tools(value, ctx)?,
            "tool_choice" => req.tool_choice = parse_tool_choice(value)?,
            "parallel_tool_calls" => {
                req.parallel_tool_calls = value.as_bool().filter(|p| !*p);
            }
            "response_format" => req.response_format = parse_response_format(value)?,
            "user" => req.user = value.as_str().map(str::to_string),
            "logprobs" if value.as_bool() != Some(true) => {}
            k => ctx.other_param(k, value, &IGNORED)?,
        }
    }
    require_messages(map)?;
    Ok(req)
}

fn text_parts(value: &Value, param: &str) -> Result<Vec<String>, TranslateError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(parts) => parts
            .iter()
            .map(|p| match (str_of(p, "type"), str_of(p, "text")) {
                (Some("text"), Some(t)) => Ok(t.to_string()),
                _ => Err(TranslateError::invalid(
                    param,
                    "only text content parts are allowed here",
                )),
            })
            .collect(),
        _ => Err(TranslateError::invalid(
            param,
            "content must be a string or an array",
        )),
    }
}

fn parse_messages(
    value: &Value,
    req: &mut Request,
    ctx: &mut Ctx<'_>,
) -> Result<(), TranslateError> {
    let items = array(value, "messages")?;
    // Tool-call id → tool name, from the assistant turns seen so far.
    let mut names: HashMap<String, String> = HashMap::new();
    for (i, m) in items.iter().enumerate() {
        let role = str_of(m, "role").unwrap_or_default();
        let content = m.get("content").unwrap_or(&Value::Null);
        match role {
            "system" | "developer" => {
                let texts = text_parts(content, "messages")?;
                req.system.push(texts.concat());
            }
            "user" => {
                let parts = user_parts(content, i, ctx)?;
                req.messages.push(Message {
                    role: Role::User,
                    parts,
                });
            }
            "assistant" => {
                let mut parts = Vec::new();
                let text = match content {
                    Value::Array(items) => {
                        let mut out = String::new();
                        for p in items {
                            match str_of(p, "type") {
                                Some("text") => out.push_str(str_of(p, "text").unwrap_or_default()),
                                Some("refusal") => {
                                    out.push_str(str_of(p, "refusal").unwrap_or_default())
                                }
                                _ => {
                                    return Err(TranslateError::invalid(
                                        format!("messages[{i}].content"),
                                        "assistant content parts must be text or refusal",
                                    ));
                                }
                            }
                        }
                        out
                    }
                    other => text_parts(other, "messages")?.concat(),
                };
                if !text.is_empty() {
                    parts.push(Part::Text(text));
                }
                if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
                    for call in calls {
                        let function = call.get("function").unwrap_or(&Value::Null);
                        let id = str_of(call, "id").unwrap_or_default().to_string();
                        let name = str_of(function, "name").unwrap_or_default().to_string();
                        if name.is_empty() {
                            return Err(TranslateError::invalid(
                                format!("messages[{i}].tool_calls"),
                                "a tool call needs a function name",
                            ));
                        }
                        names.insert(id.clone(), name.clone());
                        parts.push(Part::ToolCall(ToolCall {
                            id,
                            name,
                            arguments: str_of(function, "arguments")
                                .unwrap_or_default()
                                .to_string(),
                        }));
                    }
                }
                if !is_null(m.get("function_call")) {
                    ctx.unsupported("function_call", "the legacy `function_call` message")?;
                }
                req.messages.push(Message {
                    role: Role::Assistant,
                    parts,
                });
            }
            "tool" => {
                let id = str_of(m, "tool_call_id").unwrap_or_default().to_string();
                let text = text_parts(content, "messages")?.concat();
                let result = ToolResult {
                    name: names.get(&id).cloned(),
                    id,
                    content: vec![Part::Text(text)],
                    is_error: false,
                };
                req.messages.push(Message {
                    role: Role::User,
                    parts: vec![Part::ToolResult(result)],
                });
            }
            other => {
                return Err(TranslateError::invalid(
                    format!("messages[{i}].role"),
                    format!("unsupported message role `{other}`"),
                ));
            }
        }
    }
    Ok(())
}

fn user_parts(content: &Value, i: usize, ctx: &mut Ctx<'_>) -> Result<Vec<Part>, TranslateError> {
    match content {
        Value::String(s) => Ok(vec![Part::Text(s.clone())]),
        Value::Array(items) => {
            let mut parts = Vec::new();
            for (j, p) in items.iter().enumerate() {
                match str_of(p, "type") {
                    Some("text") => parts.push(Part::Text(
                        str_of(p, "text").unwrap_or_default().to_string(),
                    )),
                    Some("image_url") => {
                        let url = p
                            .get("image_url")
                            .and_then(|u| u.get("url").or(Some(u)))
                            .and_then(Value::as_str)
                            .ok_or_else(|| {
                                TranslateError::invalid(
                                    format!("messages[{i}].content[{j}].image_url"),
                                    "`image_url.url` is required",
                                )
                            })?;
                        parts.push(Part::Image(Image::from_url(url)));
                    }
                    Some(other) => ctx.unsupported(
                        &format!("messages[{i}].content[{j}].type"),
                        &format!("`{other}` content"),
                    )?,
                    None => {
                        return Err(TranslateError::invalid(
                            format!("messages[{i}].content[{j}]"),
                            "a content part needs a `type`",
                        ));
                    }
                }
            }
            Ok(parts)
        }
        _ => Err(TranslateError::invalid(
            format!("messages[{i}].content"),
            "user content must be a string or an array",
        )),
    }
}

fn parse_tools(value: &Value, ctx: &mut Ctx<'_>) -> Result<Vec<Tool>, TranslateError> {
    let items = array(value, "tools")?;
    let mut tools = Vec::new();
    for t in items {
        if str_of(t, "type") != Some("function") {
            ctx.unsupported("tools.type", "a tool that is not a function")?;
            continue;
        }
        let f = t.get("function").unwrap_or(&Value::Null);
        let Some(name) = str_of(f, "name") else {
            return Err(TranslateError::invalid(
                "tools",
                "a function tool needs a name",
            ));
        };
        tools.push(Tool {
            name: name.to_string(),
            description: str_of(f, "description").map(str::to_string),
            parameters: f.get("parameters").filter(|p| !p.is_null()).cloned(),
        });
    }
    Ok(tools)
}

fn parse_tool_choice(value: &Value) -> Result<Option<ToolChoice>, TranslateError> {
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::String(s) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            _ => {
                return Err(TranslateError::invalid(
                    "tool_choice",
                    "`tool_choice` must be auto, none, required or a named function",
                ));
            }
        },
        v => match v
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
        {
            Some(name) => ToolChoice::Named(name.to_string()),
            None => {
                return Err(TranslateError::invalid(
                    "tool_choice",
                    "a named `tool_choice` needs `function.name`",
                ));
            }
        },
    }))
}

fn parse_response_format(value: &Value) -> Result<Option<ResponseFormat>, TranslateError> {
    match str_of(value, "type") {
        None if value.is_null() => Ok(None),
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_schema") => {
            let js = value.get("json_schema").unwrap_or(&Value::Null);
            Ok(Some(ResponseFormat::JsonSchema {
                name: str_of(js, "name").map(str::to_string),
                schema: js.get("schema").cloned().unwrap_or_else(|| json!({})),
                strict: js.get("strict").and_then(Value::as_bool),
            }))
        }
        _ => Err(TranslateError::invalid(
            "response_format",
            "`response_format.type` must be text, json_object or json_schema",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering a request (OpenAI back end)
// ---------------------------------------------------------------------------------------------

pub(super) fn render_request(
    req: &Request,
    model: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Value, TranslateError> {
    let mut messages: Vec<Value> = req
        .system
        .iter()
        .map(|s| json!({"role": "system", "content": s}))
        .collect();
    for m in &req.messages {
        render_message(m, &mut messages, ctx)?;
    }
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    out.insert("messages".into(), Value::Array(messages));
    if let Some(n) = req.max_tokens {
        let field = match ctx.opts.openai_max_tokens_param {
            MaxTokensParam::MaxTokens => "max_tokens",
            MaxTokensParam::MaxCompletionTokens => "max_completion_tokens",
        };
        out.insert(field.into(), json!(n));
    }
    let mut put = |k: &str, v: &Option<Value>| {
        if let Some(v) = v {
            out.insert(k.into(), v.clone());
        }
    };
    put("temperature", &req.temperature);
    put("top_p", &req.top_p);
    put("seed", &req.seed);
    put("presence_penalty", &req.presence_penalty);
    put("frequency_penalty", &req.frequency_penalty);
    if req.top_k.is_some() {
        ctx.unsupported("top_k", "`top_k`")?;
    }
    if let Some(n) = req.n {
        out.insert("n".into(), json!(n));
    }
    if !req.stop.is_empty() {
        out.insert("stop".into(), json!(req.stop));
    }
    if req.stream {
        out.insert("stream".into(), json!(true));
        // Always: the usage is recorded from the back end's own figures.
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut f = Map::new();
                f.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    f.insert("description".into(), json!(d));
                }
                if let Some(p) = &t.parameters {
                    f.insert("parameters".into(), p.clone());
                }
                json!({"type": "function", "function": f})
            })
            .collect();
        out.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = &req.tool_choice {
        out.insert(
            "tool_choice".into(),
            match choice {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::None => json!("none"),
                ToolChoice::Required => json!("required"),
                ToolChoice::Named(name) => json!({"type": "function", "function": {"name": name}}),
            },
        );
    }
    if let Some(p) = req.parallel_tool_calls {
        out.insert("parallel_tool_calls".into(), json!(p));
    }
    match &req.response_format {
        None => {}
        Some(ResponseFormat::JsonObject) => {
            out.insert("response_format".into(), json!({"type": "json_object"}));
        }
        Some(ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        }) => {
            let mut js = Map::new();
            js.insert("name".into(), json!(name.as_deref().unwrap_or("response")));
            js.insert("schema".into(), schema.clone());
            if let Some(s) = strict {
                js.insert("strict".into(), json!(s));
            }
            out.insert(
                "response_format".into(),
                json!({"type": "json_schema", "json_schema": js}),
            );
        }
    }
    if let Some(u) = &req.user {
        out.insert("user".into(), json!(u));
    }
    Ok(Value::Object(out))
}

fn render_message(
    m: &Message,
    out: &mut Vec<Value>,
    ctx: &mut Ctx<'_>,
) -> Result<(), TranslateError> {
    match m.role {
        Role::Assistant => {
            let mut text = String::new();
            let mut calls = Vec::new();
            for p in &m.parts {
                match p {
                    Part::Text(t) => text.push_str(t),
                    Part::ToolCall(c) => calls.push(json!({
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments}
                    })),
                    Part::Image(_) => {
                        ctx.unsupported("messages.content.image", "an image in an assistant turn")?
                    }
                    Part::ToolResult(_) => {}
                }
            }
            let mut msg = Map::new();
            msg.insert("role".into(), json!("assistant"));
            msg.insert(
                "content".into(),
                if text.is_empty() && !calls.is_empty() {
                    Value::Null
                } else {
                    json!(text)
                },
            );
            if !calls.is_empty() {
                msg.insert("tool_calls".into(), Value::Array(calls));
            }
            out.push(Value::Object(msg));
        }
        Role::User => {
            // Tool results become `tool` messages; the other parts a user message, in order.
            let mut pending: Vec<&Part> = Vec::new();
            let flush = |pending: &mut Vec<&Part>, out: &mut Vec<Value>| {
                if pending.is_empty() {
                    return;
                }
                let content = match pending.as_slice() {
                    [Part::Text(t)] => json!(t),
                    parts => Value::Array(
                        parts
                            .iter()
                            .filter_map(|p| match p {
                                Part::Text(t) => Some(json!({"type": "text", "text": t})),
                                Part::Image(img) => Some(
                                    json!({"type": "image_url", "image_url": {"url": img.to_url()}}),
                                ),
                                _ => None,
                            })
                            .collect(),
                    ),
                };
                out.push(json!({"role": "user", "content": content}));
                pending.clear();
            };
            for p in &m.parts {
                match p {
                    Part::ToolResult(r) => {
                        flush(&mut pending, out);
                        if r.content.iter().any(|c| matches!(c, Part::Image(_))) {
                            ctx.unsupported(
                                "messages.content.tool_result.image",
                                "an image inside a tool result",
                            )?;
                        }
                        out.push(
                            json!({"role": "tool", "tool_call_id": r.id, "content": r.text()}),
                        );
                    }
                    Part::ToolCall(_) => {}
                    other => pending.push(other),
                }
            }
            flush(&mut pending, out);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Responses: parsing (OpenAI back end)
// ---------------------------------------------------------------------------------------------

pub(super) fn finish_of(reason: &str) -> Finish {
    match reason {
        "length" => Finish::Length,
        "tool_calls" | "function_call" => Finish::ToolCalls,
        "content_filter" => Finish::ContentFilter,
        _ => Finish::Stop,
    }
}

pub(super) fn finish_name(finish: &Finish) -> &'static str {
    match finish {
        Finish::Stop | Finish::StopSequence(_) => "stop",
        Finish::Length => "length",
        Finish::ToolCalls => "tool_calls",
        Finish::ContentFilter => "content_filter",
    }
}

pub(super) fn tokens_of(usage: &Value) -> Option<Tokens> {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    if !usage.is_object() {
        return None;
    }
    Some(Tokens {
        input: n(usage.get("prompt_tokens")),
        output: n(usage.get("completion_tokens")),
        cache_read: n(usage.pointer("/prompt_tokens_details/cached_tokens")),
        cache_write: 0,
        reasoning: n(usage.pointer("/completion_tokens_details/reasoning_tokens")),
    })
}

pub(super) fn usage_value(t: &Tokens) -> Value {
    let mut usage = json!({
        "prompt_tokens": t.input,
        "completion_tokens": t.output,
        "total_tokens": t.input + t.output,
        "prompt_tokens_details": {"cached_tokens": t.cache_read},
    });
    if t.reasoning > 0 {
        usage["completion_tokens_details"] = json!({"reasoning_tokens": t.reasoning});
    }
    usage
}

pub(super) fn parse_response(value: &Value) -> Option<Response> {
    let choices = value.get("choices")?.as_array()?;
    let mut out = Response {
        id: str_of(value, "id").unwrap_or_default().to_string(),
        choices: Vec::new(),
        usage: value.get("usage").and_then(tokens_of),
    };
    for (i, c) in choices.iter().enumerate() {
        let message = c.get("message").unwrap_or(&Value::Null);
        let mut text = str_of(message, "content").unwrap_or_default().to_string();
        if let Some(r) = str_of(message, "refusal") {
            text.push_str(r);
        }
        let tool_calls = message
            .get("tool_calls")
            .and_then(Value::as_array)
            .map(|calls| {
                calls
                    .iter()
                    .enumerate()
                    .map(|(k, call)| ToolCall {
                        id: str_of(call, "id")
                            .map(str::to_string)
                            .unwrap_or_else(|| tool_id("call", &out.id, k)),
                        name: call
                            .pointer("/function/name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        arguments: call
                            .pointer("/function/arguments")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.choices.push(Choice {
            index: c
                .get("index")
                .and_then(Value::as_u64)
                .map_or(i as u32, |x| x as u32),
            text,
            tool_calls,
            finish: str_of(c, "finish_reason").map(finish_of),
        });
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Responses: rendering (OpenAI front door)
// ---------------------------------------------------------------------------------------------

pub(super) fn render_response(resp: &Response, model: &str, created: u64) -> Value {
    let choices: Vec<Value> = resp
        .choices
        .iter()
        .map(|c| {
            let mut message = Map::new();
            message.insert("role".into(), json!("assistant"));
            message.insert(
                "content".into(),
                if c.text.is_empty() && !c.tool_calls.is_empty() {
                    Value::Null
                } else {
                    json!(c.text)
                },
            );
            message.insert("refusal".into(), Value::Null);
            if !c.tool_calls.is_empty() {
                message.insert(
                    "tool_calls".into(),
                    Value::Array(
                        c.tool_calls
                            .iter()
                            .map(|t| {
                                json!({
                                    "id": t.id,
                                    "type": "function",
                                    "function": {"name": t.name, "arguments": t.arguments}
                                })
                            })
                            .collect(),
                    ),
                );
            }
            json!({
                "index": c.index,
                "message": message,
                "logprobs": null,
                "finish_reason": c.finish.as_ref().map_or("stop", finish_name)
            })
        })
        .collect();
    let mut out = json!({
        "id": chat_id(&resp.id),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
    });
    if let Some(u) = &resp.usage {
        out["usage"] = usage_value(u);
    }
    out
}

fn chat_id(id: &str) -> String {
    if id.starts_with("chatcmpl") {
        id.to_string()
    } else {
        format!("chatcmpl-{id}")
    }
}

// ---------------------------------------------------------------------------------------------
// Streams: parsing (OpenAI back end)
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
pub(super) struct StreamParser {
    started: bool,
    /// Tool calls seen, as (choice, index).
    tools_seen: HashSet<(u32, u32)>,
}

impl StreamParser {
    pub fn event(&mut self, data: &[u8], out: &mut Vec<StreamEvent>) {
        if super::super::json::trim(data) == b"[DONE]" {
            out.push(StreamEvent::Done);
            return;
        }
        let Ok(chunk) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        if let Some(err) = chunk.get("error") {
            out.push(StreamEvent::Error {
                status: 500,
                kind: str_of(err, "code")
                    .or_else(|| str_of(err, "type"))
                    .unwrap_or("api_error")
                    .to_string(),
                message: str_of(err, "message").unwrap_or_default().to_string(),
            });
            return;
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: str_of(&chunk, "id").unwrap_or_default().to_string(),
                usage: None,
            });
        }
        for c in chunk
            .get("choices")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let choice = c.get("index").and_then(Value::as_u64).unwrap_or(0) as u32;
            let delta = c.get("delta").unwrap_or(&Value::Null);
            for key in ["content", "refusal"] {
                if let Some(t) = str_of(delta, key).filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::Text {
                        choice,
                        text: t.to_string(),
                    });
                }
            }
            for (k, call) in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let index = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .unwrap_or(k as u64) as u32;
                if self.tools_seen.insert((choice, index)) {
                    out.push(StreamEvent::ToolStart {
                        choice,
                        index,
                        id: str_of(call, "id")
                            .map(str::to_string)
                            .unwrap_or_else(|| tool_id("call", "", index as usize)),
                        name: call
                            .pointer("/function/name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    });
                }
                if let Some(args) = call
                    .pointer("/function/arguments")
                    .and_then(Value::as_str)
                    .filter(|a| !a.is_empty())
                {
                    out.push(StreamEvent::ToolArgs {
                        choice,
                        index,
                        fragment: args.to_string(),
                    });
                }
            }
            if let Some(reason) = str_of(c, "finish_reason") {
                out.push(StreamEvent::Finish {
                    choice,
                    finish: finish_of(reason),
                });
            }
        }
        if let Some(t) = chunk.get("usage").and_then(tokens_of) {
            out.push(StreamEvent::Usage(t));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streams: rendering (OpenAI front door)
// ---------------------------------------------------------------------------------------------

pub(super) struct StreamWriter {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    usage: Option<Tokens>,
    started: bool,
    done: bool,
}

impl StreamWriter {
    pub fn new(model: &str, created: u64, include_usage: bool) -> Self {
        StreamWriter {
            id: String::new(),
            model: model.to_string(),
            created,
            include_usage,
            usage: None,
            started: false,
            done: false,
        }
    }

    fn chunk(&self, choices: Value, out: &mut Vec<u8>) {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        });
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        data_line(&chunk, out);
    }

    fn delta(&self, choice: u32, delta: Value, finish: Option<&str>, out: &mut Vec<u8>) {
        self.chunk(
            json!([{"index": choice, "delta": delta, "logprobs": null, "finish_reason": finish}]),
            out,
        );
    }

    fn ensure_started(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            self.delta(0, json!({"role": "assistant", "content": ""}), None, out);
        }
    }

    pub fn write(&mut self, event: StreamEvent, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        match event {
            StreamEvent::Start { id, usage } => {
                self.id = chat_id(&id);
                if usage.is_some() {
                    self.usage = usage;
                }
                self.ensure_started(out);
            }
            StreamEvent::Text { choice, text } => {
                self.ensure_started(out);
                self.delta(choice, json!({"content": text}), None, out);
            }
            StreamEvent::ToolStart {
                choice,
                index,
                id,
                name,
            } => {
                self.ensure_started(out);
                self.delta(
                    choice,
                    json!({"tool_calls": [{
                        "index": index,
                        "id": id,
                        "type": "function",
                        "function": {"name": name, "arguments": ""}
                    }]}),
                    None,
                    out,
                );
            }
            StreamEvent::ToolArgs {
                choice,
                index,
                fragment,
            } => {
                self.ensure_started(out);
                self.delta(
                    choice,
                    json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}),
                    None,
                    out,
                );
            }
            StreamEvent::Finish { choice, finish } => {
                self.ensure_started(out);
                self.delta(choice, json!({}), Some(finish_name(&finish)), out);
            }
            StreamEvent::Usage(t) => self.usage = Some(t),
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
                let value = super::render_error_value(super::ApiFormat::OpenAi, &error);
                data_line(&value, out);
            }
            StreamEvent::Done => {
                self.done = true;
                self.ensure_started(out);
                if self.include_usage {
                    let mut chunk = json!({
                        "id": self.id,
                        "object": "chat.completion.chunk",
                        "created": self.created,
                        "model": self.model,
                        "choices": [],
                    });
                    chunk["usage"] = self.usage.as_ref().map_or(Value::Null, usage_value);
                    data_line(&chunk, out);
                }
                out.extend_from_slice(b"data: [DONE]\n\n");
            }
        }
    }
}

fn data_line(value: &Value, out: &mut Vec<u8>) {
    out.extend_from_slice(b"data: ");
    let _ = serde_json::to_writer(&mut *out, value);
    out.extend_from_slice(b"\n\n");
}
