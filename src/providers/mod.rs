//! Provider API formats as pure data and byte transforms: which API a path belongs to, what a
//! request asks for, where usage sits in a response, how errors and credentials look on the wire.
//! No I/O, no async: bytes in, bytes out.

mod anthropic;
mod gemini;
pub mod headers;
mod json;
mod models;
mod openai;
mod progress;
pub mod sse;
mod text;
mod tracker;
pub mod translate;
mod verdict;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use json::Scalar;

pub use gemini::{gemini_path_with_model, model_from_gemini_path};
pub use models::{ModelPage, model_list_query, parse_model_list, render_model, render_model_list};
pub use progress::MAX_TEXT_KEPT;
pub use sse::{SseEvent, SseItem, SseSplitter};
pub use text::TextSink;
pub use tracker::UsageTracker;
pub use translate::{
    ResponseSpec, ResponseTranslator, TranslateError, TranslateOptions, Translated, rename_model,
    translate_error, translate_request,
};
pub use verdict::{
    MAX_ERROR_BODY, Verdict, VerdictClass, parse_go_duration, parse_retry_after, verdict,
};

/// The wire format (API family) a client speaks and a provider serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiFormat {
    /// OpenAI and OpenAI-compatible APIs (`"openai"`).
    OpenAi,
    /// Anthropic Messages API (`"anthropic"`).
    Anthropic,
    /// Google Gemini API (`"gemini"`).
    Gemini,
}

impl ApiFormat {
    pub const ALL: [ApiFormat; 3] = [ApiFormat::OpenAi, ApiFormat::Anthropic, ApiFormat::Gemini];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiFormat::OpenAi => "openai",
            ApiFormat::Anthropic => "anthropic",
            ApiFormat::Gemini => "gemini",
        }
    }

    /// Parses the name given by [`ApiFormat::as_str`] (ASCII case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Where this provider expects its credential upstream.
    pub fn default_credential_placement(self) -> CredentialPlacement {
        match self {
            ApiFormat::OpenAi => CredentialPlacement::Bearer,
            ApiFormat::Anthropic => CredentialPlacement::XApiKey,
            ApiFormat::Gemini => CredentialPlacement::XGoogApiKey,
        }
    }
}

/// Provider auth as data: where the credential goes upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialPlacement {
    /// `Authorization: Bearer <key>`
    Bearer,
    /// `x-api-key: <key>`
    XApiKey,
    /// `x-goog-api-key: <key>`
    XGoogApiKey,
    /// `api-key: <key>` (Azure OpenAI)
    ApiKey,
}

impl CredentialPlacement {
    pub const ALL: [CredentialPlacement; 4] = [
        CredentialPlacement::Bearer,
        CredentialPlacement::XApiKey,
        CredentialPlacement::XGoogApiKey,
        CredentialPlacement::ApiKey,
    ];
}

/// One API operation the gateway knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    ChatCompletions,
    Completions,
    Responses,
    Embeddings,
    Moderations,
    Models,
    Messages,
    CountTokens,
    GenerateContent,
    StreamGenerateContent,
    /// Gemini `:embedContent` and `:batchEmbedContents`.
    EmbedContent,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat_completions",
            Endpoint::Completions => "completions",
            Endpoint::Responses => "responses",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Moderations => "moderations",
            Endpoint::Models => "models",
            Endpoint::Messages => "messages",
            Endpoint::CountTokens => "count_tokens",
            Endpoint::GenerateContent => "generate_content",
            Endpoint::StreamGenerateContent => "stream_generate_content",
            Endpoint::EmbedContent => "embed_content",
        }
    }

    /// Whether responses carry token usage. (Gemini embed responses carry none.)
    pub fn has_usage(self) -> bool {
        matches!(
            self,
            Endpoint::ChatCompletions
                | Endpoint::Completions
                | Endpoint::Responses
                | Endpoint::Embeddings
                | Endpoint::Messages
                | Endpoint::GenerateContent
                | Endpoint::StreamGenerateContent
        )
    }
}

/// Which API a request path belongs to (query string NOT included in `path`).
/// Returns the endpoint if `path` is valid for `format`, else `None` (the proxy answers 404).
pub fn classify(format: ApiFormat, path: &str) -> Option<Endpoint> {
    match format {
        ApiFormat::OpenAi => openai::classify(path),
        ApiFormat::Anthropic => anthropic::classify(path),
        ApiFormat::Gemini => gemini::classify(path),
    }
}

/// Best guess of which API a caller speaks before its key is known; used only to shape errors
/// for unauthenticated or unknown requests.
pub fn guess_format(path: &str, has_anthropic_version_header: bool) -> ApiFormat {
    if gemini::looks_like_gemini(path) {
        ApiFormat::Gemini
    } else if has_anthropic_version_header
        || path == "/v1/messages"
        || path.starts_with("/v1/messages/")
    {
        ApiFormat::Anthropic
    } else {
        ApiFormat::OpenAi
    }
}

/// What the gateway needs to know from a request before forwarding it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFacts {
    pub model: Option<String>,
    pub stream: bool,
    pub max_tokens: Option<u64>,
}

/// Reads the model, streaming flag and output-token cap of a request. For Gemini the model
/// comes from the path and streaming from the method; otherwise from the JSON body. A body that
/// is not JSON gives defaults (never an error). Only those fields are decoded.
pub fn inspect_request(
    format: ApiFormat,
    endpoint: Endpoint,
    path: &str,
    body: &[u8],
) -> RequestFacts {
    match format {
        ApiFormat::Gemini => gemini::inspect_request(endpoint, path, body),
        ApiFormat::OpenAi | ApiFormat::Anthropic => {
            let facts: BodyFacts = serde_json::from_slice(body).unwrap_or_default();
            RequestFacts {
                model: match facts.model {
                    Scalar::Str(s) => Some(s),
                    _ => None,
                },
                stream: facts.stream == Scalar::Bool(true),
                max_tokens: facts
                    .max_completion_tokens
                    .as_u64()
                    .or_else(|| facts.max_output_tokens.as_u64())
                    .or_else(|| facts.max_tokens.as_u64()),
            }
        }
    }
}

/// The request-body fields the gateway reads; everything else is skipped. Wrong types and
/// duplicate keys (last wins) are tolerated.
#[derive(Default)]
struct BodyFacts {
    model: Scalar,
    stream: Scalar,
    max_tokens: Scalar,
    max_completion_tokens: Scalar,
    max_output_tokens: Scalar,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum BodyField {
    Model,
    Stream,
    MaxTokens,
    MaxCompletionTokens,
    MaxOutputTokens,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for BodyFacts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BodyFacts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BodyFacts, A::Error> {
                let mut facts = BodyFacts::default();
                while let Some(field) = map.next_key::<BodyField>()? {
                    let slot = match field {
                        BodyField::Model => &mut facts.model,
                        BodyField::Stream => &mut facts.stream,
                        BodyField::MaxTokens => &mut facts.max_tokens,
                        BodyField::MaxCompletionTokens => &mut facts.max_completion_tokens,
                        BodyField::MaxOutputTokens => &mut facts.max_output_tokens,
                        BodyField::Other => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value()?;
                }
                Ok(facts)
            }
        }
        d.deserialize_map(V)
    }
}

/// For a streaming OpenAI chat/legacy completion that would stream back no usage, returns the
/// body with `stream_options.include_usage = true` (every other byte kept), else `None`.
pub fn inject_stream_usage(format: ApiFormat, endpoint: Endpoint, body: &[u8]) -> Option<Vec<u8>> {
    match (format, endpoint) {
        (ApiFormat::OpenAi, Endpoint::ChatCompletions | Endpoint::Completions) => {
            openai::inject_stream_usage(body)
        }
        _ => None,
    }
}

/// Token usage as the provider reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// The provider's own input figure: OpenAI `prompt_tokens` / `input_tokens`; Anthropic
    /// `input_tokens`; Gemini `promptTokenCount` + `toolUsePromptTokenCount`.
    pub prompt_tokens: u64,
    /// OpenAI `completion_tokens` / `output_tokens`; Anthropic `output_tokens`; Gemini
    /// `candidatesTokenCount` + `thoughtsTokenCount`.
    pub completion_tokens: u64,
    /// Anthropic `cache_creation_input_tokens`; 0 elsewhere.
    pub cache_write_tokens: u64,
    /// OpenAI `cached_tokens`; Anthropic `cache_read_input_tokens`; Gemini
    /// `cachedContentTokenCount`.
    pub cache_read_tokens: u64,
    /// Whether `prompt_tokens` already includes the cached tokens (OpenAI, Gemini).
    pub prompt_includes_cache: bool,
}

impl Usage {
    /// Input tokens billed at the plain input price.
    pub fn uncached_prompt_tokens(&self) -> u64 {
        if self.prompt_includes_cache {
            self.prompt_tokens
                .saturating_sub(self.cache_read_tokens)
                .saturating_sub(self.cache_write_tokens)
        } else {
            self.prompt_tokens
        }
    }
}

/// Result of watching one response body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageOutcome {
    pub usage: Option<Usage>,
    /// The terminal event was seen (non-stream: the JSON document was complete).
    pub complete: bool,
}

/// A gateway error rendered in the wire format of the API the client called, so the official
/// SDKs surface it. `code` is Tollgate's stable machine code (e.g. `"invalid_api_key"`).
pub fn error_body(format: ApiFormat, status: u16, code: &str, message: &str) -> Vec<u8> {
    let value = match format {
        ApiFormat::OpenAi => openai::error_value(status, code, message),
        ApiFormat::Anthropic => anthropic::error_value(status, message),
        ApiFormat::Gemini => gemini::error_value(status, message),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn api_format_names_round_trip() {
        for f in ApiFormat::ALL {
            assert_eq!(ApiFormat::parse(f.as_str()), Some(f));
            assert_eq!(serde_json::to_value(f).unwrap(), json!(f.as_str()));
            let back: ApiFormat = serde_json::from_value(json!(f.as_str())).unwrap();
            assert_eq!(back, f);
        }
        assert_eq!(
            serde_json::to_string(&ApiFormat::OpenAi).unwrap(),
            "\"openai\""
        );
        assert_eq!(ApiFormat::parse("OpenAI"), Some(ApiFormat::OpenAi));
        assert_eq!(ApiFormat::parse("open_ai"), None);
        assert_eq!(ApiFormat::parse(""), None);
        assert!(serde_json::from_value::<ApiFormat>(json!("open_ai")).is_err());
    }

    #[test]
    fn credential_placement_per_format() {
        assert_eq!(
            ApiFormat::OpenAi.default_credential_placement(),
            CredentialPlacement::Bearer
        );
        assert_eq!(
            ApiFormat::Anthropic.default_credential_placement(),
            CredentialPlacement::XApiKey
        );
        assert_eq!(
            ApiFormat::Gemini.default_credential_placement(),
            CredentialPlacement::XGoogApiKey
        );
    }

    #[test]
    fn endpoint_names_are_distinct_and_usage_flags() {
        let all = [
            Endpoint::ChatCompletions,
            Endpoint::Completions,
            Endpoint::Responses,
            Endpoint::Embeddings,
            Endpoint::Moderations,
            Endpoint::Models,
            Endpoint::Messages,
            Endpoint::CountTokens,
            Endpoint::GenerateContent,
            Endpoint::StreamGenerateContent,
            Endpoint::EmbedContent,
        ];
        let names: std::collections::HashSet<_> = all.iter().map(|e| e.as_str()).collect();
        assert_eq!(names.len(), all.len());
        let with: Vec<_> = all.iter().filter(|e| e.has_usage()).collect();
        assert_eq!(
            with,
            [
                &Endpoint::ChatCompletions,
                &Endpoint::Completions,
                &Endpoint::Responses,
                &Endpoint::Embeddings,
                &Endpoint::Messages,
                &Endpoint::GenerateContent,
                &Endpoint::StreamGenerateContent,
            ]
        );
        assert_eq!(Endpoint::ChatCompletions.as_str(), "chat_completions");
    }

    #[test]
    fn classify_per_format() {
        use ApiFormat::*;
        use Endpoint::*;
        let cases: &[(ApiFormat, &str, Option<Endpoint>)] = &[
            (OpenAi, "/v1/chat/completions", Some(ChatCompletions)),
            (OpenAi, "/v1/completions", Some(Completions)),
            (OpenAi, "/v1/responses", Some(Responses)),
            (OpenAi, "/v1/embeddings", Some(Embeddings)),
            (OpenAi, "/v1/moderations", Some(Moderations)),
            (OpenAi, "/v1/models", Some(Models)),
            (OpenAi, "/v1/models/gpt-4o", Some(Models)),
            (OpenAi, "/v1/models/ft:gpt-4o:org::abc", Some(Models)),
            (OpenAi, "/v1/models/", None),
            (OpenAi, "/v1/messages", None),
            (OpenAi, "/v1/chat/completions/", None),
            (OpenAi, "/v1beta/models/gemini:generateContent", None),
            (OpenAi, "", None),
            (OpenAi, "/", None),
            (Anthropic, "/v1/messages", Some(Messages)),
            (Anthropic, "/v1/messages/count_tokens", Some(CountTokens)),
            (Anthropic, "/v1/models", Some(Models)),
            (Anthropic, "/v1/models/claude-sonnet-4-5", Some(Models)),
            (Anthropic, "/v1/chat/completions", None),
            (Anthropic, "/v1/messages/batches", None),
            (Gemini, "/v1beta/models", Some(Models)),
            (Gemini, "/v1/models", Some(Models)),
            (Gemini, "/v1beta/models/gemini-2.5-flash", Some(Models)),
            (
                Gemini,
                "/v1beta/models/gemini-2.5-flash:generateContent",
                Some(GenerateContent),
            ),
            (
                Gemini,
                "/v1/models/gemini-2.5-flash:streamGenerateContent",
                Some(StreamGenerateContent),
            ),
            (
                Gemini,
                "/v1beta/models/gemini-2.5-flash:countTokens",
                Some(CountTokens),
            ),
            (
                Gemini,
                "/v1beta/models/text-embedding-004:embedContent",
                Some(EmbedContent),
            ),
            (
                Gemini,
                "/v1beta/models/text-embedding-004:batchEmbedContents",
                Some(EmbedContent),
            ),
            (Gemini, "/v1beta/models/gemini:unknownMethod", None),
            (Gemini, "/v1beta/models/:generateContent", None),
            (Gemini, "/v1beta/models/a/b:generateContent", None),
            (Gemini, "/v2/models/gemini:generateContent", None),
            (Gemini, "/v1beta/chat/completions", None),
            (Gemini, "/v1beta/models/", None),
        ];
        for (format, path, want) in cases {
            assert_eq!(classify(*format, path), *want, "{format:?} {path}");
        }
    }

    #[test]
    fn guess_format_from_path_and_header() {
        assert_eq!(guess_format("/v1beta/models", false), ApiFormat::Gemini);
        assert_eq!(
            guess_format("/v1/models/gemini-pro:generateContent", false),
            ApiFormat::Gemini
        );
        assert_eq!(
            guess_format("/v1/models/x:streamGenerateContent", true),
            ApiFormat::Gemini
        );
        assert_eq!(guess_format("/v1/messages", false), ApiFormat::Anthropic);
        assert_eq!(
            guess_format("/v1/messages/count_tokens", false),
            ApiFormat::Anthropic
        );
        assert_eq!(guess_format("/v1/models", true), ApiFormat::Anthropic);
        assert_eq!(guess_format("/v1/models", false), ApiFormat::OpenAi);
        assert_eq!(
            guess_format("/v1/models/ft:gpt-4o:x", false),
            ApiFormat::OpenAi
        );
        assert_eq!(
            guess_format("/v1/chat/completions", false),
            ApiFormat::OpenAi
        );
        assert_eq!(guess_format("/anything", false), ApiFormat::OpenAi);
        assert_eq!(guess_format("/v1/messagesx", false), ApiFormat::OpenAi);
    }

    #[test]
    fn inspect_openai_and_anthropic_bodies() {
        let facts = inspect_request(
            ApiFormat::OpenAi,
            Endpoint::ChatCompletions,
            "/v1/chat/completions",
            br#"{"messages":[{"role":"user","content":"{\"model\":\"x\"}"}],"model":"gpt-4o","stream":true,"max_completion_tokens":50}"#,
        );
        assert_eq!(
            facts,
            RequestFacts {
                model: Some("gpt-4o".into()),
                stream: true,
                max_tokens: Some(50)
            }
        );
        let facts = inspect_request(
            ApiFormat::OpenAi,
            Endpoint::Responses,
            "/v1/responses",
            br#"{"model":"o3","input":"hi","max_output_tokens":900}"#,
        );
        assert_eq!(facts.max_tokens, Some(900));
        assert!(!facts.stream);
        let facts = inspect_request(
            ApiFormat::Anthropic,
            Endpoint::Messages,
            "/v1/messages",
            br#"{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":false,"messages":[]}"#,
        );
        assert_eq!(
            facts,
            RequestFacts {
                model: Some("claude-sonnet-4-5".into()),
                stream: false,
                max_tokens: Some(1024)
            }
        );
    }

    #[test]
    fn inspect_tolerates_bad_bodies() {
        let f =
            |body: &[u8]| inspect_request(ApiFormat::OpenAi, Endpoint::ChatCompletions, "/", body);
        assert_eq!(f(b""), RequestFacts::default());
        assert_eq!(f(b"not json"), RequestFacts::default());
        assert_eq!(f(b"[1,2]"), RequestFacts::default());
        assert_eq!(f(b"{\"model\":\"a\""), RequestFacts::default());
        assert_eq!(
            f(br#"{"model":5,"stream":"yes","max_tokens":"12"}"#),
            RequestFacts {
                model: None,
                stream: false,
                max_tokens: Some(12)
            }
        );
        assert_eq!(
            f(br#"{"model":"a","model":"b","stream":null,"max_tokens":null}"#),
            RequestFacts {
                model: Some("b".into()),
                stream: false,
                max_tokens: None
            }
        );
        assert_eq!(
            f(br#"{"model":{"nested":["x"]},"stream":true}"#),
            RequestFacts {
                model: None,
                stream: true,
                max_tokens: None
            }
        );
        assert_eq!(
            f("{\"model\":\"gpt-\\u00e9\"}".as_bytes()).model.as_deref(),
            Some("gpt-é")
        );
    }

    #[test]
    fn inspect_gemini_uses_path_and_generation_config() {
        let facts = inspect_request(
            ApiFormat::Gemini,
            Endpoint::StreamGenerateContent,
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
            br#"{"contents":[],"generationConfig":{"temperature":0.2,"maxOutputTokens":256}}"#,
        );
        assert_eq!(
            facts,
            RequestFacts {
                model: Some("gemini-2.5-pro".into()),
                stream: true,
                max_tokens: Some(256)
            }
        );
        let facts = inspect_request(
            ApiFormat::Gemini,
            Endpoint::GenerateContent,
            "/v1/models/gemini-2.0-flash:generateContent",
            br#"{"generation_config":{"max_output_tokens":7}}"#,
        );
        assert_eq!(facts.max_tokens, Some(7));
        assert!(!facts.stream);
        let facts = inspect_request(
            ApiFormat::Gemini,
            Endpoint::GenerateContent,
            "/v1beta/models/gemini-2.0-flash:generateContent",
            b"garbage",
        );
        assert_eq!(
            facts,
            RequestFacts {
                model: Some("gemini-2.0-flash".into()),
                stream: false,
                max_tokens: None
            }
        );
        let facts = inspect_request(
            ApiFormat::Gemini,
            Endpoint::CountTokens,
            "/v1beta/models/gemini-2.0-flash:countTokens",
            br#"{"generationConfig":{"maxOutputTokens":5}}"#,
        );
        assert_eq!(facts.model.as_deref(), Some("gemini-2.0-flash"));
        assert_eq!(facts.max_tokens, None);
    }

    #[test]
    fn inject_only_for_openai_completions() {
        let body = br#"{"model":"x","stream":true}"#;
        assert!(inject_stream_usage(ApiFormat::OpenAi, Endpoint::ChatCompletions, body).is_some());
        assert!(inject_stream_usage(ApiFormat::OpenAi, Endpoint::Completions, body).is_some());
        assert!(inject_stream_usage(ApiFormat::OpenAi, Endpoint::Responses, body).is_none());
        assert!(inject_stream_usage(ApiFormat::Anthropic, Endpoint::Messages, body).is_none());
        assert!(inject_stream_usage(ApiFormat::Gemini, Endpoint::ChatCompletions, body).is_none());
    }

    #[test]
    fn uncached_prompt_tokens() {
        let openai = Usage {
            prompt_tokens: 100,
            cache_read_tokens: 30,
            prompt_includes_cache: true,
            ..Usage::default()
        };
        assert_eq!(openai.uncached_prompt_tokens(), 70);
        let anthropic = Usage {
            prompt_tokens: 100,
            cache_read_tokens: 30,
            cache_write_tokens: 20,
            prompt_includes_cache: false,
            ..Usage::default()
        };
        assert_eq!(anthropic.uncached_prompt_tokens(), 100);
        let odd = Usage {
            prompt_tokens: 10,
            cache_read_tokens: 30,
            prompt_includes_cache: true,
            ..Usage::default()
        };
        assert_eq!(odd.uncached_prompt_tokens(), 0);
    }

    fn body(format: ApiFormat, status: u16, code: &str) -> Value {
        serde_json::from_slice(&error_body(format, status, code, "bad \"key\"\n")).unwrap()
    }

    #[test]
    fn error_bodies_per_format() {
        assert_eq!(
            body(ApiFormat::OpenAi, 401, "invalid_api_key"),
            json!({"error":{"message":"bad \"key\"\n","type":"authentication_error","param":null,"code":"invalid_api_key"}})
        );
        assert_eq!(
            body(ApiFormat::Anthropic, 401, "invalid_api_key"),
            json!({"type":"error","error":{"type":"authentication_error","message":"bad \"key\"\n"}})
        );
        assert_eq!(
            body(ApiFormat::Gemini, 401, "invalid_api_key"),
            json!({"error":{"code":401,"message":"bad \"key\"\n","status":"UNAUTHENTICATED"}})
        );
        let oa = |s| body(ApiFormat::OpenAi, s, "c")["error"]["type"].clone();
        let an = |s| body(ApiFormat::Anthropic, s, "c")["error"]["type"].clone();
        let ge = |s| body(ApiFormat::Gemini, s, "c")["error"]["status"].clone();
        for (status, o, a, g) in [
            (
                400,
                "invalid_request_error",
                "invalid_request_error",
                "INVALID_ARGUMENT",
            ),
            (
                403,
                "permission_error",
                "permission_error",
                "PERMISSION_DENIED",
            ),
            (404, "not_found_error", "not_found_error", "NOT_FOUND"),
            (
                413,
                "invalid_request_error",
                "request_too_large",
                "INVALID_ARGUMENT",
            ),
            (
                429,
                "rate_limit_error",
                "rate_limit_error",
                "RESOURCE_EXHAUSTED",
            ),
            (500, "server_error", "api_error", "INTERNAL"),
            (502, "api_error", "api_error", "UNAVAILABLE"),
            (503, "api_error", "overloaded_error", "UNAVAILABLE"),
            (504, "api_error", "timeout_error", "DEADLINE_EXCEEDED"),
            (
                418,
                "invalid_request_error",
                "invalid_request_error",
                "FAILED_PRECONDITION",
            ),
        ] {
            assert_eq!(oa(status), json!(o), "{status}");
            assert_eq!(an(status), json!(a), "{status}");
            assert_eq!(ge(status), json!(g), "{status}");
        }
        assert_eq!(
            body(ApiFormat::Gemini, 503, "x")["error"]["code"],
            json!(503)
        );
        assert_eq!(
            body(ApiFormat::OpenAi, 503, "no_healthy_credential")["error"]["code"],
            json!("no_healthy_credential")
        );
    }
}
