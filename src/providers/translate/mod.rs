//! Translation between provider API formats (the unified API): an OpenAI Chat Completions or
//! Anthropic Messages request rewritten for another provider's API, and that provider's answer
//! (JSON or SSE, event by event) and errors rewritten back. Pure: bytes in, bytes out.
//!
//! One call per step for the proxy:
//! - [`translate_request`] gives the back end's body, path and streaming flag;
//! - [`Translated::response_translator`] (or [`ResponseTranslator::new`]) turns the back end's
//!   response bytes into the front format as they arrive, and reports the back end's own usage
//!   figures ([`ResponseTranslator::outcome`], the same figures a [`super::UsageTracker`] on the
//!   back-end bytes would report — it runs one inside);
//! - [`translate_error`] renders a back-end error body in the front format.
//!
//! Every translation goes through the neutral model in `ir`: the front format is parsed into it
//! and the back format rendered from it (and the reverse for responses).

mod anthropic;
mod gemini;
mod ir;
mod openai;
mod stream;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value, json};

use super::ApiFormat;
use super::json::members;

pub use stream::ResponseTranslator;

/// Anthropic requires `max_tokens`; this is used when the caller gave none (and
/// [`TranslateOptions::default_max_tokens`] is not changed). 4096 is the largest output every
/// current Claude model accepts.
pub const DEFAULT_ANTHROPIC_MAX_TOKENS: u64 = 4096;

/// Which field carries the output cap in an OpenAI-format back-end request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MaxTokensParam {
    /// `max_tokens`: understood by every OpenAI-compatible server.
    #[default]
    MaxTokens,
    /// `max_completion_tokens`: required by OpenAI's reasoning models.
    MaxCompletionTokens,
}

/// Provider quirks that steer a translation, as data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslateOptions {
    /// `max_tokens` sent to Anthropic when the caller set no output cap.
    pub default_max_tokens: u64,
    /// Drop parameters the back end cannot honour (listed in [`Translated::dropped`]) instead
    /// of refusing the request with a 400 that names the first one.
    pub drop_unsupported_params: bool,
    /// The output-cap field of an OpenAI-format back end.
    pub openai_max_tokens_param: MaxTokensParam,
}

impl Default for TranslateOptions {
    fn default() -> Self {
        TranslateOptions {
            default_max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
            drop_unsupported_params: false,
            openai_max_tokens_param: MaxTokensParam::MaxTokens,
        }
    }
}

/// What the response translator must know about the exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseSpec {
    /// The format the client speaks.
    pub front: ApiFormat,
    /// The format the back end answers in.
    pub back: ApiFormat,
    /// The back end streams (SSE).
    pub stream: bool,
    /// OpenAI front: the client asked for a final usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
    /// `stream_options.include_usage` was added to the back-end request (same-format OpenAI
    /// only): the usage chunk is removed again from the client's stream.
    pub usage_injected: bool,
    /// The model name shown to the client (as the client wrote it).
    pub model: String,
}

impl ResponseSpec {
    /// The `Content-Type` of the translated answer (a translated error is JSON either way).
    pub fn content_type(&self) -> &'static str {
        if self.stream {
            "text/event-stream"
        } else {
            "application/json"
        }
    }
}

/// A request translated for the back end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translated {
    /// The back end's request body (JSON).
    pub body: Vec<u8>,
    /// The back end's path and query, e.g. `/v1/messages` or
    /// `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`.
    pub path: String,
    /// Whether the back end will stream (SSE).
    pub stream: bool,
    /// Parameters dropped because the back end cannot honour them (only with
    /// [`TranslateOptions::drop_unsupported_params`]).
    pub dropped: Vec<String>,
    /// What the response translator needs.
    pub response: ResponseSpec,
}

impl Translated {
    /// The translator for the back end's answer to this request. `created` is the Unix time
    /// shown in OpenAI-format responses.
    pub fn response_translator(&self, created: u64) -> ResponseTranslator {
        ResponseTranslator::new(self.response.clone(), created)
    }
}

/// Why a request cannot be translated. All are the caller's fault (400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// The body is not a valid request of the front format.
    #[error("{message}")]
    InvalidRequest {
        param: Option<String>,
        message: String,
    },
    /// The back end cannot honour a parameter (and dropping is not configured).
    #[error("{message}")]
    Unsupported { param: String, message: String },
    /// No translation exists between these formats.
    #[error("requests in the {} format cannot be sent to a {} provider", .front.as_str(), .back.as_str())]
    UnsupportedPair { front: ApiFormat, back: ApiFormat },
}

impl TranslateError {
    pub(crate) fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        TranslateError::InvalidRequest {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// HTTP status to answer with.
    pub fn status(&self) -> u16 {
        400
    }

    /// The request parameter at fault, if one is.
    pub fn param(&self) -> Option<&str> {
        match self {
            TranslateError::InvalidRequest { param, .. } => param.as_deref(),
            TranslateError::Unsupported { param, .. } => Some(param),
            TranslateError::UnsupportedPair { .. } => None,
        }
    }

    /// The status and body to answer the client with, in its own format.
    pub fn render(&self, front: ApiFormat) -> (u16, Vec<u8>) {
        let message = self.to_string();
        let value = match front {
            ApiFormat::OpenAi => {
                let code = match self {
                    TranslateError::Unsupported { .. } => "unsupported_parameter",
                    TranslateError::InvalidRequest { .. } => "invalid_request",
                    TranslateError::UnsupportedPair { .. } => "unsupported_model",
                };
                json!({"error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": self.param(),
                    "code": code
                }})
            }
            ApiFormat::Anthropic => super::anthropic::error_value(400, &message),
            ApiFormat::Gemini => super::gemini::error_value(400, &message),
        };
        (
            self.status(),
            serde_json::to_vec(&value).unwrap_or_default(),
        )
    }
}

/// Translation state shared by the parser and the renderer of one request.
pub(crate) struct Ctx<'a> {
    pub opts: &'a TranslateOptions,
    pub back: ApiFormat,
    pub dropped: Vec<String>,
}

impl Ctx<'_> {
    /// The back end cannot honour `param`: dropped (and remembered) or refused.
    pub fn unsupported(&mut self, param: &str, what: &str) -> Result<(), TranslateError> {
        if self.opts.drop_unsupported_params {
            if !self.dropped.iter().any(|p| p == param) {
                self.dropped.push(param.to_string());
            }
            return Ok(());
        }
        Err(TranslateError::Unsupported {
            param: param.to_string(),
            message: format!(
                "{what} is not supported by the {} API of the selected model (parameter `{param}`)",
                provider_name(self.back)
            ),
        })
    }
}

impl Ctx<'_> {
    /// A parameter the front parser has no mapping for: passes when `ignored` lists it or it
    /// is `null`; otherwise the back end cannot honour it.
    pub fn other_param(
        &mut self,
        key: &str,
        value: &Value,
        ignored: &[&str],
    ) -> Result<(), TranslateError> {
        if ignored.contains(&key) || value.is_null() {
            return Ok(());
        }
        self.unsupported(key, &format!("`{key}`"))
    }
}

/// Fails unless the request has `messages`.
pub(crate) fn require_messages(map: &Map<String, Value>) -> Result<(), TranslateError> {
    if map.contains_key("messages") {
        Ok(())
    } else {
        Err(TranslateError::invalid(
            "messages",
            "`messages` is required",
        ))
    }
}

pub(crate) fn provider_name(format: ApiFormat) -> &'static str {
    match format {
        ApiFormat::OpenAi => "OpenAI",
        ApiFormat::Anthropic => "Anthropic",
        ApiFormat::Gemini => "Gemini",
    }
}

/// Translates a request from the `front` format (OpenAI `/v1/chat/completions` or Anthropic
/// `/v1/messages` body) to the `back` format for `target_model` (the back end's own model
/// name, without any `provider/` prefix). With `front == back` only the model is replaced
/// (every other byte kept) and, for a streaming OpenAI request, usage is asked for.
pub fn translate_request(
    front: ApiFormat,
    back: ApiFormat,
    body: &[u8],
    target_model: &str,
    opts: &TranslateOptions,
) -> Result<Translated, TranslateError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| TranslateError::InvalidRequest {
            param: None,
            message: format!("the request body is not valid JSON: {e}"),
        })?;
    let Value::Object(map) = value else {
        return Err(TranslateError::InvalidRequest {
            param: None,
            message: "the request body must be a JSON object".into(),
        });
    };
    let front_model = map
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or(target_model)
        .to_string();
    if front == back {
        return same_format(front, body, &map, target_model, front_model);
    }
    let mut ctx = Ctx {
        opts,
        back,
        dropped: Vec::new(),
    };
    let request = match front {
        ApiFormat::OpenAi => openai::parse_request(&map, &mut ctx)?,
        ApiFormat::Anthropic => anthropic::parse_request(&map, &mut ctx)?,
        ApiFormat::Gemini => return Err(TranslateError::UnsupportedPair { front, back }),
    };
    let (body, path) = match back {
        ApiFormat::OpenAi => (
            openai::render_request(&request, target_model, &mut ctx)?,
            "/v1/chat/completions".to_string(),
        ),
        ApiFormat::Anthropic => (
            anthropic::render_request(&request, target_model, &mut ctx)?,
            "/v1/messages".to_string(),
        ),
        ApiFormat::Gemini => gemini::render_request(&request, target_model, &mut ctx)?,
    };
    Ok(Translated {
        body: serde_json::to_vec(&body).unwrap_or_default(),
        path,
        stream: request.stream,
        dropped: ctx.dropped,
        response: ResponseSpec {
            front,
            back,
            stream: request.stream,
            include_usage: request.include_usage,
            usage_injected: false,
            model: front_model,
        },
    })
}

/// Same format on both sides: replace the model, keep every other byte.
fn same_format(
    format: ApiFormat,
    body: &[u8],
    map: &Map<String, Value>,
    target_model: &str,
    front_model: String,
) -> Result<Translated, TranslateError> {
    let path = match format {
        ApiFormat::OpenAi => "/v1/chat/completions",
        ApiFormat::Anthropic => "/v1/messages",
        ApiFormat::Gemini => {
            return Err(TranslateError::UnsupportedPair {
                front: format,
                back: format,
            });
        }
    };
    let stream = map.get("stream") == Some(&Value::Bool(true));
    let mut out = replace_model(body, map, target_model);
    let mut usage_injected = false;
    if format == ApiFormat::OpenAi
        && let Some(injected) = super::openai::inject_stream_usage(&out)
    {
        out = injected;
        usage_injected = true;
    }
    Ok(Translated {
        body: out,
        path: path.to_string(),
        stream,
        dropped: Vec::new(),
        response: ResponseSpec {
            front: format,
            back: format,
            stream,
            include_usage: !usage_injected
                && map
                    .get("stream_options")
                    .and_then(|o| o.get("include_usage"))
                    == Some(&Value::Bool(true)),
            usage_injected,
            model: front_model,
        },
    })
}

/// A request body of the OpenAI or Anthropic format with its top-level `model` replaced (every
/// other byte kept): a same-format request sent to another model than the one it names (a
/// `provider/model` prefix removed, a model route resolved). Fails like [`translate_request`]
/// on a body that is not a JSON object.
pub fn rename_model(body: &[u8], model: &str) -> Result<Vec<u8>, TranslateError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(replace_model(body, &map, model)),
        Ok(_) => Err(TranslateError::InvalidRequest {
            param: None,
            message: "the request body must be a JSON object".into(),
        }),
        Err(e) => Err(TranslateError::InvalidRequest {
            param: None,
            message: format!("the request body is not valid JSON: {e}"),
        }),
    }
}

/// The body with the top-level `model` value replaced (or added first), every other byte kept.
/// `map` is the parsed body: when the raw scan cannot place the member (an escaped key, say),
/// the body is re-serialized instead.
fn replace_model(body: &[u8], map: &Map<String, Value>, model: &str) -> Vec<u8> {
    let rendered = serde_json::to_vec(model).unwrap_or_default();
    let mut it = members(body);
    let found = it
        .by_ref()
        .filter(|m| &body[m.key.clone()] == b"model")
        .last();
    let mut out = Vec::with_capacity(body.len() + rendered.len());
    match (found, it.ok(), body.iter().position(|b| *b == b'{')) {
        (Some(m), true, _) => {
            out.extend_from_slice(&body[..m.value.start]);
            out.extend_from_slice(&rendered);
            out.extend_from_slice(&body[m.value.end..]);
        }
        (None, true, Some(brace)) if !map.contains_key("model") => {
            out.extend_from_slice(&body[..=brace]);
            out.extend_from_slice(b"\"model\":");
            out.extend_from_slice(&rendered);
            let rest = &body[brace + 1..];
            if super::json::trim(rest).first() != Some(&b'}') {
                out.push(b',');
            }
            out.extend_from_slice(rest);
        }
        _ => {
            let mut map = map.clone();
            map.insert("model".into(), Value::String(model.to_string()));
            return serde_json::to_vec(&map).unwrap_or_default();
        }
    }
    out
}

/// Renders a back-end error (status and body as the provider sent them) in the front format's
/// error shape. The status is kept; the provider's message is kept; its machine code becomes
/// the OpenAI `code` (or decides the Anthropic error `type`).
pub fn translate_error(
    back: ApiFormat,
    front: ApiFormat,
    status: u16,
    body: &[u8],
) -> (u16, bytes::Bytes) {
    if back == front {
        return (status, bytes::Bytes::copy_from_slice(body));
    }
    let error = parse_error(back, status, body);
    (status, bytes::Bytes::from(render_error(front, &error)))
}

/// A provider error, normalized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProviderError {
    pub status: u16,
    pub message: String,
    /// The provider's machine code: OpenAI `code` (else `type`), Anthropic `error.type`,
    /// Gemini `status`.
    pub code: Option<String>,
    pub param: Option<String>,
}

pub(crate) fn parse_error(back: ApiFormat, status: u16, body: &[u8]) -> ProviderError {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    // Gemini's JSON-array stream wraps the error in an array.
    let value = match value {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        v => v,
    };
    let err = value.get("error");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let message = text(err.and_then(|e| e.get("message")));
    let (code, param) = match back {
        ApiFormat::OpenAi => (
            text(err.and_then(|e| e.get("code"))).or_else(|| text(err.and_then(|e| e.get("type")))),
            text(err.and_then(|e| e.get("param"))),
        ),
        ApiFormat::Anthropic => (text(err.and_then(|e| e.get("type"))), None),
        ApiFormat::Gemini => (text(err.and_then(|e| e.get("status"))), None),
    };
    ProviderError {
        status,
        message: message.unwrap_or_else(|| {
            format!(
                "the {} provider answered with status {status}",
                provider_name(back)
            )
        }),
        code,
        param,
    }
}

pub(crate) fn render_error_value(front: ApiFormat, error: &ProviderError) -> Value {
    match front {
        ApiFormat::OpenAi => {
            let mut v = super::openai::error_value(
                error.status,
                error.code.as_deref().unwrap_or(""),
                &error.message,
            );
            v["error"]["code"] = error.code.clone().map_or(Value::Null, Value::String);
            v["error"]["param"] = error.param.clone().map_or(Value::Null, Value::String);
            v
        }
        ApiFormat::Anthropic => {
            let mut v = super::anthropic::error_value(error.status, &error.message);
            // Anthropic's own overload status.
            if error.code.as_deref() == Some("overloaded_error") {
                v["error"]["type"] = json!("overloaded_error");
            }
            v
        }
        ApiFormat::Gemini => super::gemini::error_value(error.status, &error.message),
    }
}

fn render_error(front: ApiFormat, error: &ProviderError) -> Vec<u8> {
    serde_json::to_vec(&render_error_value(front, error)).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Small JSON helpers shared by the format modules
// ---------------------------------------------------------------------------------------------

/// An array parameter (`null` or absent: empty).
pub(crate) fn array<'a>(value: &'a Value, param: &str) -> Result<&'a [Value], TranslateError> {
    match value {
        Value::Null => Ok(&[]),
        Value::Array(items) => Ok(items),
        _ => Err(TranslateError::invalid(
            param,
            format!("`{param}` must be an array"),
        )),
    }
}

/// A list of strings (OpenAI `stop` may also be one string).
pub(crate) fn strings(value: &Value, param: &str) -> Result<Vec<String>, TranslateError> {
    let bad = || TranslateError::invalid(param, format!("`{param}` must be strings"));
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        other => array(other, param)
            .map_err(|_| bad())?
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect(),
    }
}

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A value that asks for nothing: `null`, or absent.
pub(crate) fn is_null(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

/// A JSON number or `None` (null); anything else is the caller's error.
pub(crate) fn number(map: &Map<String, Value>, key: &str) -> Result<Option<Value>, TranslateError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(_)) => Ok(Some(v.clone())),
        Some(_) => Err(TranslateError::invalid(
            key,
            format!("`{key}` must be a number"),
        )),
    }
}

pub(crate) fn uint(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, TranslateError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            TranslateError::invalid(key, format!("`{key}` must be a non-negative integer"))
        }),
    }
}

/// Parses tool-call arguments (JSON text) into the object Anthropic and Gemini want.
pub(crate) fn arguments_object(arguments: &str) -> Result<Value, TranslateError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(TranslateError::invalid(
            "messages",
            "tool call arguments must be a JSON object",
        )),
    }
}

/// Tool-call input from a response, as JSON text; a non-object becomes `{}`.
pub(crate) fn object_or_empty(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({}),
    }
}
