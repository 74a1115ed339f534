//! The format-neutral model every translation goes through: a chat request, a chat response and
//! the events of a streamed response. Each wire format parses into it and renders from it, so
//! n formats need n parsers and n renderers instead of n² converters.

use serde_json::Value;

/// A chat request as the front door asked for it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Request {
    /// System instructions, one entry per system message / system block.
    pub system: Vec<String>,
    pub messages: Vec<Message>,
    pub max_tokens: Option<u64>,
    /// Numbers are kept as JSON numbers so that `0.7` stays `0.7`.
    pub temperature: Option<Value>,
    pub top_p: Option<Value>,
    pub top_k: Option<Value>,
    pub stop: Vec<String>,
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`: the client wants a final usage chunk.
    pub include_usage: bool,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    /// `Some(false)`: at most one tool call per turn.
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    /// End-user id (OpenAI `user`, Anthropic `metadata.user_id`).
    pub user: Option<String>,
    pub seed: Option<Value>,
    pub presence_penalty: Option<Value>,
    pub frequency_penalty: Option<Value>,
    /// Number of choices (only when more than one).
    pub n: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ResponseFormat {
    JsonObject,
    JsonSchema {
        name: Option<String>,
        schema: Value,
        strict: Option<bool>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    pub parameters: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ToolChoice {
    Auto,
    None,
    Required,
    Named(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    User,
    Assistant,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Message {
    pub role: Role,
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Part {
    Text(String),
    Image(Image),
    ToolCall(ToolCall),
    ToolResult(ToolResult),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Image {
    Base64 { media_type: String, data: String },
    Url(String),
}

impl Image {
    /// Parses an OpenAI `image_url.url`: a `data:` URL or a plain URL.
    pub fn from_url(url: &str) -> Image {
        if let Some(rest) = url.strip_prefix("data:")
            && let Some((meta, data)) = rest.split_once(',')
            && let Some(media_type) = meta.strip_suffix(";base64")
        {
            return Image::Base64 {
                media_type: media_type.to_string(),
                data: data.to_string(),
            };
        }
        Image::Url(url.to_string())
    }

    /// As an OpenAI `image_url.url`.
    pub fn to_url(&self) -> String {
        match self {
            Image::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
            Image::Url(url) => url.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as JSON text (OpenAI's representation).
    pub arguments: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ToolResult {
    pub id: String,
    /// The called tool's name, found from the assistant turn that made the call.
    pub name: Option<String>,
    /// Text and image parts.
    pub content: Vec<Part>,
    pub is_error: bool,
}

impl ToolResult {
    /// The text parts joined.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.content {
            if let Part::Text(t) = part {
                out.push_str(t);
            }
        }
        out
    }
}

/// Why generation stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    /// A stop sequence matched (Anthropic says which).
    StopSequence(Option<String>),
}

/// Token figures in one convention: `input` includes the cached tokens (read and written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    /// Part of `output` spent on reasoning, when the provider says.
    pub reasoning: u64,
}

impl Tokens {
    /// Input tokens neither read from nor written to a cache (Anthropic's `input_tokens`).
    pub fn uncached_input(&self) -> u64 {
        self.input
            .saturating_sub(self.cache_read)
            .saturating_sub(self.cache_write)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Choice {
    pub index: u32,
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish: Option<Finish>,
}

/// A complete (non-streamed) chat response.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Response {
    pub id: String,
    pub choices: Vec<Choice>,
    pub usage: Option<Tokens>,
}

/// One step of a streamed response.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum StreamEvent {
    /// The response began (`id` from the back end).
    Start {
        id: String,
        usage: Option<Tokens>,
    },
    Text {
        choice: u32,
        text: String,
    },
    /// A tool call begins; `index` counts the calls of this choice from 0.
    ToolStart {
        choice: u32,
        index: u32,
        id: String,
        name: String,
    },
    /// More argument text of call `index`.
    ToolArgs {
        choice: u32,
        index: u32,
        fragment: String,
    },
    Finish {
        choice: u32,
        finish: Finish,
    },
    /// The figures known so far (each event carries the complete current figures).
    Usage(Tokens),
    /// The back end reported an error mid-stream; nothing follows.
    Error {
        status: u16,
        kind: String,
        message: String,
    },
    /// The back end's stream ended properly.
    Done,
}

/// A tool-call id usable by every format (`^[a-zA-Z0-9_-]+$`).
pub(crate) fn tool_id(prefix: &str, seed: &str, index: usize) -> String {
    let clean: String = seed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(40)
        .collect();
    if clean.is_empty() {
        format!("{prefix}_{index}")
    } else {
        format!("{prefix}_{clean}_{index}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn image_urls() {
        let img = Image::from_url("data:image/png;base64,iVBORw0KGgo=");
        assert_eq!(
            img,
            Image::Base64 {
                media_type: "image/png".into(),
                data: "iVBORw0KGgo=".into()
            }
        );
        assert_eq!(img.to_url(), "data:image/png;base64,iVBORw0KGgo=");
        let url = "https://upload.wikimedia.org/a.jpg";
        assert_eq!(Image::from_url(url), Image::Url(url.into()));
        // Not base64: kept as a URL.
        assert_eq!(
            Image::from_url("data:text/plain,hello"),
            Image::Url("data:text/plain,hello".into())
        );
    }

    #[test]
    fn tool_ids_are_clean() {
        assert_eq!(tool_id("call", "ab c/d", 2), "call_abcd_2");
        assert_eq!(tool_id("call", "", 0), "call_0");
        assert_eq!(tool_id("call", "///", 1), "call_1");
    }

    #[test]
    fn uncached_input() {
        let t = Tokens {
            input: 100,
            cache_read: 30,
            cache_write: 20,
            ..Tokens::default()
        };
        assert_eq!(t.uncached_input(), 50);
        let odd = Tokens {
            input: 10,
            cache_read: 30,
            ..Tokens::default()
        };
        assert_eq!(odd.uncached_input(), 0);
    }
}
