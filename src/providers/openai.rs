//! The OpenAI wire format: its paths, the `include_usage` request rewrite, usage in chat,
//! completions, embeddings and responses bodies and streams, and its error shape.

use memchr::memmem;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::json::{LenientU64, first_member, is_object, member, members, string_contents, trim};
use super::progress::{Action, Progress};
use super::{Endpoint, Usage};

pub(super) fn classify(path: &str) -> Option<Endpoint> {
    match path {
        "/v1/chat/completions" => Some(Endpoint::ChatCompletions),
        "/v1/completions" => Some(Endpoint::Completions),
        "/v1/responses" => Some(Endpoint::Responses),
        "/v1/embeddings" => Some(Endpoint::Embeddings),
        "/v1/moderations" => Some(Endpoint::Moderations),
        "/v1/models" => Some(Endpoint::Models),
        _ => path
            .strip_prefix("/v1/models/")
            .filter(|id| !id.is_empty())
            .map(|_| Endpoint::Models),
    }
}

/// Sets `stream_options.include_usage = true` on a streaming body that lacks it. The body is
/// spliced, not re-serialized: every other byte stays as the client sent it.
pub(super) fn inject_stream_usage(body: &[u8]) -> Option<Vec<u8>> {
    // Cheap reject before walking the body.
    memmem::find(body, b"\"stream\"")?;
    let mut stream = false;
    let mut options = None;
    let mut it = members(body);
    for m in it.by_ref() {
        match &body[m.key.clone()] {
            b"stream" => stream = &body[m.value.clone()] == b"true",
            b"stream_options" => options = Some(m.value),
            _ => {}
        }
    }
    if !it.ok() || !stream {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() + 40);
    match options {
        None => {
            let brace = body.iter().position(|b| *b == b'{')?;
            out.extend_from_slice(&body[..=brace]);
            out.extend_from_slice(br#""stream_options":{"include_usage":true},"#);
            out.extend_from_slice(&body[brace + 1..]);
        }
        Some(range) => {
            let mut opts = match serde_json::from_slice::<Value>(&body[range.clone()]) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            };
            if opts.get("include_usage") == Some(&Value::Bool(true)) {
                return None;
            }
            opts.insert("include_usage".into(), Value::Bool(true));
            out.extend_from_slice(&body[..range.start]);
            serde_json::to_writer(&mut out, &opts).ok()?;
            out.extend_from_slice(&body[range.end..]);
        }
    }
    Some(out)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenDetails {
    cached_tokens: LenientU64,
}

/// Chat/completions/embeddings usage and responses usage, in one lenient shape.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WireUsage {
    prompt_tokens: LenientU64,
    completion_tokens: LenientU64,
    input_tokens: LenientU64,
    output_tokens: LenientU64,
    prompt_tokens_details: Option<TokenDetails>,
    input_tokens_details: Option<TokenDetails>,
}

/// Parses an OpenAI `usage` object (any endpoint's shape).
pub(super) fn parse_usage(value: &[u8]) -> Option<Usage> {
    if !is_object(value) {
        return None;
    }
    let w: WireUsage = serde_json::from_slice(value).ok()?;
    let prompt = w.prompt_tokens.0.or(w.input_tokens.0);
    let completion = w.completion_tokens.0.or(w.output_tokens.0);
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    let cached = |d: Option<TokenDetails>| d.and_then(|d| d.cached_tokens.0);
    Some(Usage {
        prompt_tokens: prompt.unwrap_or(0),
        completion_tokens: completion.unwrap_or(0),
        cache_write_tokens: 0,
        cache_read_tokens: cached(w.prompt_tokens_details)
            .or(cached(w.input_tokens_details))
            .unwrap_or(0),
        prompt_includes_cache: true,
    })
}

fn is_empty_array(v: &[u8]) -> bool {
    v.len() >= 2 && v[0] == b'[' && v[v.len() - 1] == b']' && trim(&v[1..v.len() - 1]).is_empty()
}

/// One chat/completions stream event. Usage comes from the chunk with a non-null `usage`;
/// `[DONE]` completes. In strip mode, `"usage":null` members are cut and a usage-only chunk
/// (no choices) is dropped.
pub(super) fn on_chat_event(data: &[u8], strip: bool, progress: &mut Progress) -> Action {
    if trim(data) == b"[DONE]" {
        progress.complete = true;
        return Action::Keep;
    }
    if memmem::find(data, b"\"usage\"").is_none() {
        return Action::Keep;
    }
    let mut usage = None;
    let mut choices_empty = true;
    for m in members(data) {
        match &data[m.key.clone()] {
            b"usage" => usage = Some(m),
            b"choices" => choices_empty = is_empty_array(&data[m.value.clone()]),
            _ => {}
        }
    }
    let Some(m) = usage else {
        return Action::Keep;
    };
    let value = &data[m.value.clone()];
    let is_null = value == b"null";
    if !is_null && let Some(u) = parse_usage(value) {
        progress.usage = Some(u);
    }
    if !strip {
        Action::Keep
    } else if !is_null && choices_empty {
        Action::Drop
    } else {
        Action::Cut(m.removal())
    }
}

/// One responses stream event: `response.completed` / `response.incomplete` /
/// `response.failed` carry the usage; the first two complete the stream.
pub(super) fn on_responses_event(event: Option<&[u8]>, data: &[u8], progress: &mut Progress) {
    let kind = match event {
        Some(e) if !e.is_empty() => e,
        _ => first_member(data, b"type")
            .and_then(string_contents)
            .unwrap_or_default(),
    };
    let completes = match kind {
        b"response.completed" | b"response.incomplete" => true,
        b"response.failed" => false,
        _ => return,
    };
    if let Some(u) = member(data, b"response")
        .and_then(|r| member(r, b"usage"))
        .and_then(parse_usage)
    {
        progress.usage = Some(u);
    }
    if completes {
        progress.complete = true;
    }
}

pub(super) fn error_value(status: u16, code: &str, message: &str) -> Value {
    let kind = match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        500 => "server_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tracker::testkit::{Setup, fuzz};
    use super::super::{ApiFormat, UsageOutcome};
    use super::*;

    fn chunk(delta: &str, finish: &str, usage: &str) -> String {
        format!(
            r#"data: {{"id":"chatcmpl-B9","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]{usage}}}"#
        )
    }

    const FINAL_USAGE: &str = r#"data: {"id":"chatcmpl-B9","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#;

    /// The stream as upstream sends it with include_usage on, and as the client would have
    /// received it without.
    fn chat_stream(eol: &str) -> (String, String) {
        let sep = format!("{eol}{eol}");
        let null = r#","usage":null"#;
        let parts = [
            (
                r#"{"role":"assistant","content":"","refusal":null}"#,
                "null",
            ),
            (r#"{"content":"Hel"}"#, "null"),
            (r#"{"content":"lo \"usage\":null"}"#, "null"),
            (r#"{}"#, r#""stop""#),
        ];
        let mut upstream = String::new();
        let mut client = String::new();
        for (delta, finish) in parts {
            upstream += &chunk(delta, finish, null);
            upstream += &sep;
            client += &chunk(delta, finish, "");
            client += &sep;
        }
        upstream += FINAL_USAGE;
        upstream += &sep;
        upstream += "data: [DONE]";
        upstream += &sep;
        client += "data: [DONE]";
        client += &sep;
        (upstream, client)
    }

    fn chat_usage() -> Usage {
        Usage {
            prompt_tokens: 1117,
            completion_tokens: 46,
            cache_write_tokens: 0,
            cache_read_tokens: 1024,
            prompt_includes_cache: true,
        }
    }

    fn done(usage: Option<Usage>) -> UsageOutcome {
        UsageOutcome {
            usage,
            complete: true,
        }
    }

    #[test]
    fn chat_stream_passthrough_reads_final_usage() {
        for eol in ["\n", "\r\n"] {
            let (upstream, _) = chat_stream(eol);
            let setup = Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, true);
            setup.check_all_chunkings(
                upstream.as_bytes(),
                upstream.as_bytes(),
                &done(Some(chat_usage())),
            );
        }
    }

    #[test]
    fn chat_stream_strip_restores_the_client_stream() {
        for eol in ["\n", "\r\n"] {
            let (upstream, client) = chat_stream(eol);
            let setup = Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, true).strip();
            setup.check_all_chunkings(
                upstream.as_bytes(),
                client.as_bytes(),
                &done(Some(chat_usage())),
            );
            setup.check_no_delay(upstream.as_bytes(), format!("{eol}{eol}").as_bytes());
            assert!(!client.contains(r#""usage":null}"#));
            assert!(client.contains(r#"lo \"usage\":null"#));
        }
    }

    #[test]
    fn chat_stream_cut_short_is_partial() {
        let (upstream, _) = chat_stream("\n");
        let cut = upstream.find("data: [DONE]").unwrap();
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, true);
        let (_, outcome) = setup.run(&upstream.as_bytes()[..cut], &[]);
        assert_eq!(
            outcome,
            UsageOutcome {
                usage: Some(chat_usage()),
                complete: false
            }
        );
        let cut = upstream.find(FINAL_USAGE).unwrap() + 100;
        let (out, outcome) = setup.strip().run(&upstream.as_bytes()[..cut], &[cut / 2]);
        assert_eq!(
            outcome,
            UsageOutcome {
                usage: None,
                complete: false
            }
        );
        // The incomplete tail is forwarded as received at the end.
        assert!(out.ends_with(&upstream.as_bytes()[cut - 100..cut]));
    }

    #[test]
    fn strip_handles_spacing_multiline_data_and_usage_on_content_chunks() {
        let upstream = "data: { \"choices\" : [ {\"delta\":{}} ] , \"usage\" : null }\n\n\
event: chunk\ndata: {\"usage\":null,\ndata: \"choices\":[{\"x\":1}]}\nid: 3\n\n\
data: {\"choices\":[{\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n\
: keepalive\n\n\
data: {\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3}}\n\n\
data: [DONE]\n\n";
        let client = "data: { \"choices\" : [ {\"delta\":{}} ]  }\n\n\
event: chunk\nid: 3\ndata: {\ndata: \"choices\":[{\"x\":1}]}\n\n\
data: {\"choices\":[{\"finish_reason\":\"stop\"}]}\n\n\
: keepalive\n\n\
data: [DONE]\n\n";
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, true).strip();
        let usage = Usage {
            prompt_tokens: 9,
            completion_tokens: 3,
            prompt_includes_cache: true,
            ..Usage::default()
        };
        setup.check_all_chunkings(upstream.as_bytes(), client.as_bytes(), &done(Some(usage)));
        let parsed: Value = serde_json::from_str("{\n\"choices\":[{\"x\":1}]}").unwrap();
        assert_eq!(parsed, json!({"choices":[{"x":1}]}));
    }

    #[test]
    fn legacy_completions_stream() {
        let upstream = "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"text\":\"Hi\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}],\"model\":\"gpt-3.5-turbo-instruct\",\"usage\":null}\n\n\
data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[],\"model\":\"gpt-3.5-turbo-instruct\",\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1,\"total_tokens\":5}}\n\n\
data: [DONE]\n\n";
        let client = "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"text\":\"Hi\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}],\"model\":\"gpt-3.5-turbo-instruct\"}\n\n\
data: [DONE]\n\n";
        let usage = Usage {
            prompt_tokens: 4,
            completion_tokens: 1,
            prompt_includes_cache: true,
            ..Usage::default()
        };
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::Completions, true);
        setup.check_all_chunkings(upstream.as_bytes(), upstream.as_bytes(), &done(Some(usage)));
        setup.strip().check_all_chunkings(
            upstream.as_bytes(),
            client.as_bytes(),
            &done(Some(usage)),
        );
    }

    #[test]
    fn chat_non_stream() {
        let body = br#"{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-2024-08-06",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "The \"usage\": {\"prompt_tokens\": 1} is fake.", "refusal": null, "annotations": []}, "logprobs": null, "finish_reason": "stop"}],
  "usage": {
    "prompt_tokens": 1117,
    "completion_tokens": 46,
    "total_tokens": 1163,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}"#;
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, false);
        setup.check_all_chunkings(body, body, &done(Some(chat_usage())));
        // Strip mode has nothing to do with JSON bodies.
        setup
            .strip()
            .check_all_chunkings(body, body, &done(Some(chat_usage())));
    }

    #[test]
    fn non_stream_missing_and_partial_fields() {
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, false);
        assert_eq!(setup.run(br#"{"id":"x","choices":[]}"#, &[]).1, done(None));
        assert_eq!(setup.run(br#"{"usage":null}"#, &[]).1, done(None));
        assert_eq!(
            setup
                .run(
                    br#"{"usage":{"prompt_tokens":3,"prompt_tokens_details":null}}"#,
                    &[]
                )
                .1,
            done(Some(Usage {
                prompt_tokens: 3,
                prompt_includes_cache: true,
                ..Usage::default()
            }))
        );
        let truncated = br#"{"id":"x","usage":{"prompt_tokens":3,"completion_tokens":4}"#;
        assert_eq!(
            setup.run(truncated, &[]).1,
            UsageOutcome {
                usage: Some(Usage {
                    prompt_tokens: 3,
                    completion_tokens: 4,
                    prompt_includes_cache: true,
                    ..Usage::default()
                }),
                complete: false
            }
        );
        let error = br#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        assert_eq!(setup.run(error, &[]).1, done(None));
        assert_eq!(
            setup.run(b"<html>502</html>", &[]).1,
            UsageOutcome::default()
        );
    }

    #[test]
    fn embeddings_non_stream() {
        let body = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,-0.0028842222]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#;
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::Embeddings, false);
        let usage = Usage {
            prompt_tokens: 8,
            completion_tokens: 0,
            prompt_includes_cache: true,
            ..Usage::default()
        };
        setup.check_all_chunkings(body, body, &done(Some(usage)));
    }

    #[test]
    fn embeddings_larger_than_max_buffer_still_counted() {
        let floats = vec!["0.0123456"; 100_000].join(",");
        let body = format!(
            r#"{{"object":"list","data":[{{"object":"embedding","index":0,"embedding":[{floats}]}}],"model":"m","usage":{{"prompt_tokens":8,"total_tokens":8}}}}"#
        );
        let mut setup = Setup::new(ApiFormat::OpenAi, Endpoint::Embeddings, false);
        setup.max_buffer = 4096;
        let (_, outcome) = setup.run(body.as_bytes(), &[1000, 500_000]);
        assert_eq!(outcome.usage.map(|u| u.prompt_tokens), Some(8));
        assert!(outcome.complete);
    }

    const RESPONSES_STREAM: &str = "event: response.created\n\
data: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[],\"usage\":null}}\n\n\
event: response.output_text.delta\n\
data: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi \\\"usage\\\"\"}\n\n\
event: response.completed\n\
data: {\"type\":\"response.completed\",\"sequence_number\":9,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi \\\"usage\\\"\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":36,\"input_tokens_details\":{\"cached_tokens\":12},\"output_tokens\":87,\"output_tokens_details\":{\"reasoning_tokens\":64},\"total_tokens\":123}}}\n\n";

    fn responses_usage() -> Usage {
        Usage {
            prompt_tokens: 36,
            completion_tokens: 87,
            cache_write_tokens: 0,
            cache_read_tokens: 12,
            prompt_includes_cache: true,
        }
    }

    #[test]
    fn responses_stream() {
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::Responses, true);
        for body in [
            RESPONSES_STREAM.to_string(),
            RESPONSES_STREAM.replace('\n', "\r\n"),
        ] {
            setup.check_all_chunkings(
                body.as_bytes(),
                body.as_bytes(),
                &done(Some(responses_usage())),
            );
        }
        // Without `event:` lines the data's type is used.
        let no_events: String = RESPONSES_STREAM
            .lines()
            .filter(|l| !l.starts_with("event:"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            setup.run(no_events.as_bytes(), &[]).1,
            done(Some(responses_usage()))
        );
        // Cut before the terminal event.
        let cut = RESPONSES_STREAM.find("event: response.completed").unwrap();
        assert_eq!(
            setup.run(&RESPONSES_STREAM.as_bytes()[..cut], &[]).1,
            UsageOutcome::default()
        );
    }

    #[test]
    fn responses_incomplete_and_failed() {
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::Responses, true);
        let event = |kind: &str| {
            format!(
                "event: {kind}\ndata: {{\"type\":\"{kind}\",\"response\":{{\"status\":\"x\",\"usage\":{{\"input_tokens\":5,\"output_tokens\":7,\"input_tokens_details\":{{\"cached_tokens\":0}}}}}}}}\n\n"
            )
        };
        let usage = Some(Usage {
            prompt_tokens: 5,
            completion_tokens: 7,
            prompt_includes_cache: true,
            ..Usage::default()
        });
        assert_eq!(
            setup.run(event("response.incomplete").as_bytes(), &[]).1,
            done(usage)
        );
        assert_eq!(
            setup.run(event("response.failed").as_bytes(), &[]).1,
            UsageOutcome {
                usage,
                complete: false
            }
        );
        assert_eq!(
            setup
                .run(b"event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"usage\":null}}\n\n", &[])
                .1,
            UsageOutcome::default()
        );
    }

    #[test]
    fn responses_non_stream() {
        let body = br#"{"id":"resp_1","object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"x"}]}],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":12},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":64},"total_tokens":123}}"#;
        let setup = Setup::new(ApiFormat::OpenAi, Endpoint::Responses, false);
        setup.check_all_chunkings(body, body, &done(Some(responses_usage())));
    }

    #[test]
    fn garbage_never_panics() {
        let (upstream, _) = chat_stream("\r\n");
        for setup in [
            Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, true),
            Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, true).strip(),
            Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, false),
            Setup::new(ApiFormat::OpenAi, Endpoint::Responses, true),
        ] {
            fuzz(&setup, upstream.as_bytes());
            fuzz(&setup, RESPONSES_STREAM.as_bytes());
        }
    }

    #[test]
    fn inject_adds_stream_options_without_touching_other_bytes() {
        let body = br#"  {"model":"gpt-4o", "messages":[{"role":"user","content":"{\"stream\":false}"}],"stream":true,"temperature":0.70}"#;
        let out = inject_stream_usage(body).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"  {"stream_options":{"include_usage":true},"model":"gpt-4o", "messages":[{"role":"user","content":"{\"stream\":false}"}],"stream":true,"temperature":0.70}"#
        );
    }

    #[test]
    fn inject_merges_existing_stream_options() {
        let body = br#"{"model":"m","stream":true,"stream_options":{"include_obfuscation":false,"include_usage":false},"n":1}"#;
        let out = inject_stream_usage(body).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"model":"m","stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true},"n":1}"#
        );
        let body = br#"{"model":"m","stream":true,"stream_options":null}"#;
        let out: Value = serde_json::from_slice(&inject_stream_usage(body).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"model":"m","stream":true,"stream_options":{"include_usage":true}})
        );
    }

    #[test]
    fn inject_not_needed() {
        for body in [
            &br#"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#[..],
            br#"{"model":"m","stream":false}"#,
            br#"{"model":"m"}"#,
            br#"{"model":"m","stream":"true"}"#,
            br#"{"model":"m","stream":true"#,
            br#"["stream",true]"#,
            b"stream",
            b"",
            br#"{"model":"m","stream":true,"stream":false}"#,
        ] {
            assert_eq!(
                inject_stream_usage(body),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Last duplicate wins, as in the upstream's parser.
        assert!(inject_stream_usage(br#"{"stream":false,"stream":true}"#).is_some());
    }

    #[test]
    fn inject_output_is_valid_json_with_every_field() {
        let body = br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}"#;
        let before: Value = serde_json::from_slice(body).unwrap();
        let after: Value = serde_json::from_slice(&inject_stream_usage(body).unwrap()).unwrap();
        let mut expected = before.clone();
        expected["stream_options"] = json!({"include_usage": true});
        assert_eq!(after, expected);
    }

    #[test]
    fn usage_parsing_is_lenient() {
        assert_eq!(parse_usage(b"null"), None);
        assert_eq!(parse_usage(b"{}"), None);
        assert_eq!(parse_usage(b"[1]"), None);
        assert_eq!(
            parse_usage(br#"{"prompt_tokens":"10","completion_tokens":2.0,"prompt_tokens_details":{"cached_tokens":null}}"#),
            Some(Usage {
                prompt_tokens: 10,
                completion_tokens: 2,
                prompt_includes_cache: true,
                ..Usage::default()
            })
        );
    }
}
