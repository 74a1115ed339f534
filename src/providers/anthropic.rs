//! The Anthropic wire format: its paths, usage in Messages bodies and streams
//! (`message_start` input/cache figures plus the last `message_delta`), and its error shape.

use serde::Deserialize;
use serde_json::{Value, json};

use super::json::{LenientU64, first_member, is_object, member, string_contents};
use super::progress::Progress;
use super::{Endpoint, Usage};

pub(super) fn classify(path: &str) -> Option<Endpoint> {
    match path {
        "/v1/messages" => Some(Endpoint::Messages),
        "/v1/messages/count_tokens" => Some(Endpoint::CountTokens),
        "/v1/models" => Some(Endpoint::Models),
        _ => path
            .strip_prefix("/v1/models/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .map(|_| Endpoint::Models),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireUsage {
    input_tokens: LenientU64,
    output_tokens: LenientU64,
    cache_creation_input_tokens: LenientU64,
    cache_read_input_tokens: LenientU64,
}

impl WireUsage {
    /// Overwrites the figures this object carries; keeps the others.
    fn apply(&self, usage: &mut Usage) {
        let set = |field: &mut u64, v: LenientU64| {
            if let Some(v) = v.0 {
                *field = v;
            }
        };
        set(&mut usage.prompt_tokens, self.input_tokens);
        set(&mut usage.completion_tokens, self.output_tokens);
        set(
            &mut usage.cache_write_tokens,
            self.cache_creation_input_tokens,
        );
        set(&mut usage.cache_read_tokens, self.cache_read_input_tokens);
    }

    fn is_empty(&self) -> bool {
        self.input_tokens.0.is_none()
            && self.output_tokens.0.is_none()
            && self.cache_creation_input_tokens.0.is_none()
            && self.cache_read_input_tokens.0.is_none()
    }
}

fn wire(value: &[u8]) -> Option<WireUsage> {
    if !is_object(value) {
        return None;
    }
    serde_json::from_slice::<WireUsage>(value)
        .ok()
        .filter(|w| !w.is_empty())
}

fn base() -> Usage {
    Usage {
        prompt_includes_cache: false,
        ..Usage::default()
    }
}

/// Parses a Messages `usage` object.
pub(super) fn parse_usage(value: &[u8]) -> Option<Usage> {
    let w = wire(value)?;
    let mut usage = base();
    w.apply(&mut usage);
    Some(usage)
}

/// One Messages stream event.
pub(super) fn on_event(event: Option<&[u8]>, data: &[u8], progress: &mut Progress) {
    let kind = match event {
        Some(e) if !e.is_empty() => e,
        _ => first_member(data, b"type")
            .and_then(string_contents)
            .unwrap_or_default(),
    };
    let usage = match kind {
        b"message_start" => member(data, b"message").and_then(|m| member(m, b"usage")),
        b"message_delta" => member(data, b"usage"),
        b"message_stop" => {
            progress.complete = true;
            return;
        }
        b"error" => {
            progress.failed = true;
            return;
        }
        _ => return,
    };
    if let Some(w) = usage.and_then(wire) {
        let mut current = progress.usage.unwrap_or_else(base);
        w.apply(&mut current);
        progress.usage = Some(current);
    }
}

pub(super) fn error_value(status: u16, message: &str) -> Value {
    let kind = match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tracker::testkit::{Setup, fuzz};
    use super::super::{ApiFormat, UsageOutcome};
    use super::*;

    const STREAM: &str = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":2048,\"cache_creation\":{\"ephemeral_5m_input_tokens\":100,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":2,\"service_tier\":\"standard\"}}}\n\n\
event: content_block_start\n\
data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: ping\n\
data: {\"type\": \"ping\"}\n\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \\\"usage\\\":{\\\"output_tokens\\\":9}\"}}\n\n\
event: content_block_stop\n\
data: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":503}}\n\n\
event: message_stop\n\
data: {\"type\":\"message_stop\"}\n\n";

    fn stream_usage() -> Usage {
        Usage {
            prompt_tokens: 472,
            completion_tokens: 503,
            cache_write_tokens: 100,
            cache_read_tokens: 2048,
            prompt_includes_cache: false,
        }
    }

    #[test]
    fn messages_stream_in_any_chunking() {
        let setup = Setup::new(ApiFormat::Anthropic, Endpoint::Messages, true);
        let want = UsageOutcome {
            usage: Some(stream_usage()),
            complete: true,
        };
        setup.check_all_chunkings(STREAM.as_bytes(), STREAM.as_bytes(), &want);
        let crlf = STREAM.replace('\n', "\r\n");
        setup.check_all_chunkings(crlf.as_bytes(), crlf.as_bytes(), &want);
        // Strip mode is an OpenAI thing: ignored here, bytes untouched.
        setup
            .strip()
            .check_all_chunkings(STREAM.as_bytes(), STREAM.as_bytes(), &want);
    }

    #[test]
    fn stream_without_event_lines_uses_data_type() {
        let body: String = STREAM
            .lines()
            .filter(|l| !l.starts_with("event:"))
            .map(|l| format!("{l}\n"))
            .collect();
        let setup = Setup::new(ApiFormat::Anthropic, Endpoint::Messages, true);
        assert_eq!(
            setup.run(body.as_bytes(), &[]).1,
            UsageOutcome {
                usage: Some(stream_usage()),
                complete: true
            }
        );
    }

    #[test]
    fn stream_cut_short_reports_what_was_seen() {
        let setup = Setup::new(ApiFormat::Anthropic, Endpoint::Messages, true);
        let cut = STREAM.find("event: content_block_stop").unwrap();
        let (out, outcome) = setup.run(&STREAM.as_bytes()[..cut], &[]);
        assert_eq!(out, &STREAM.as_bytes()[..cut]);
        assert_eq!(
            outcome,
            UsageOutcome {
                usage: Some(Usage {
                    completion_tokens: 2,
                    ..stream_usage()
                }),
                complete: false
            }
        );
        let cut = STREAM.find("event: message_stop").unwrap();
        assert_eq!(
            setup.run(&STREAM.as_bytes()[..cut], &[]).1,
            UsageOutcome {
                usage: Some(stream_usage()),
                complete: false
            }
        );
    }

    #[test]
    fn message_delta_input_and_cache_figures_override() {
        let body = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":4,\"output_tokens\":20}}\n\n\
event: message_stop\n\
data: {\"type\":\"message_stop\"}\n\n";
        let setup = Setup::new(ApiFormat::Anthropic, Endpoint::Messages, true);
        assert_eq!(
            setup.run(body.as_bytes(), &[]).1,
            UsageOutcome {
                usage: Some(Usage {
                    prompt_tokens: 12,
                    completion_tokens: 20,
                    cache_write_tokens: 3,
                    cache_read_tokens: 4,
                    prompt_includes_cache: false
                }),
                complete: true
            }
        );
    }

    #[test]
    fn error_event_mid_stream_is_not_complete() {
        let cut = STREAM.find("event: message_delta").unwrap();
        let body = format!(
            "{}event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}}}\n\nevent: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n",
            &STREAM[..cut]
        );
        let setup = Setup::new(ApiFormat::Anthropic, Endpoint::Messages, true);
        assert_eq!(
            setup.run(body.as_bytes(), &[]).1,
            UsageOutcome {
                usage: Some(Usage {
                    completion_tokens: 2,
                    ..stream_usage()
                }),
                complete: false
            }
        );
    }

    #[test]
    fn messages_non_stream() {
        let body = br#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"{\"usage\":{\"input_tokens\":1}}"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2095,"cache_creation_input_tokens":0,"cache_read_input_tokens":1800,"output_tokens":503,"service_tier":"standard"}}"#;
        let setup = Setup::new(ApiFormat::Anthropic, Endpoint::Messages, false);
        let want = UsageOutcome {
            usage: Some(Usage {
                prompt_tokens: 2095,
                completion_tokens: 503,
                cache_write_tokens: 0,
                cache_read_tokens: 1800,
                prompt_includes_cache: false,
            }),
            complete: true,
        };
        setup.check_all_chunkings(body, body, &want);
        assert_eq!(want.usage.unwrap().uncached_prompt_tokens(), 2095);
    }

    #[test]
    fn non_stream_missing_fields_and_errors() {
        let setup = Setup::new(ApiFormat::Anthropic, Endpoint::Messages, false);
        assert_eq!(
            setup.run(br#"{"usage":{"output_tokens":3}}"#, &[]).1,
            UsageOutcome {
                usage: Some(Usage {
                    completion_tokens: 3,
                    ..base()
                }),
                complete: true
            }
        );
        assert_eq!(
            setup.run(br#"{"usage":{}}"#, &[]).1,
            UsageOutcome {
                usage: None,
                complete: true
            }
        );
        let err = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
        assert_eq!(
            setup.run(err, &[]).1,
            UsageOutcome {
                usage: None,
                complete: true
            }
        );
    }

    #[test]
    fn count_tokens_has_no_usage() {
        let setup = Setup::new(ApiFormat::Anthropic, Endpoint::CountTokens, false);
        let body = br#"{"input_tokens":2095}"#;
        setup.check_all_chunkings(
            body,
            body,
            &UsageOutcome {
                usage: None,
                complete: true,
            },
        );
    }

    #[test]
    fn garbage_never_panics() {
        for setup in [
            Setup::new(ApiFormat::Anthropic, Endpoint::Messages, true),
            Setup::new(ApiFormat::Anthropic, Endpoint::Messages, false),
        ] {
            fuzz(&setup, STREAM.as_bytes());
        }
    }
}
