//! The Gemini wire format: its `models/{model}:method` paths, request facts from path and
//! `generationConfig`, usage from the last `usageMetadata` (SSE, JSON array or object), and its
//! error shape.

use memchr::memmem;
use serde::Deserialize;
use serde_json::{Value, json};

use super::json::{LenientU64, Scalar, is_object, member, members, string_contents};
use super::progress::Progress;
use super::{Endpoint, RequestFacts, Usage};

const METHODS: [(&str, Endpoint); 5] = [
    ("generateContent", Endpoint::GenerateContent),
    ("streamGenerateContent", Endpoint::StreamGenerateContent),
    ("countTokens", Endpoint::CountTokens),
    ("embedContent", Endpoint::EmbedContent),
    ("batchEmbedContents", Endpoint::EmbedContent),
];

fn valid_model(model: &str) -> bool {
    !model.is_empty() && !model.contains('/') && !model.contains(':')
}

pub(super) fn classify(path: &str) -> Option<Endpoint> {
    let rest = path
        .strip_prefix("/v1beta/")
        .or_else(|| path.strip_prefix("/v1/"))?;
    if rest == "models" {
        return Some(Endpoint::Models);
    }
    let tail = rest.strip_prefix("models/")?;
    match tail.rsplit_once(':') {
        Some((model, method)) => {
            if !valid_model(model) {
                return None;
            }
            METHODS
                .iter()
                .find(|(name, _)| *name == method)
                .map(|(_, e)| *e)
        }
        None => valid_model(tail).then_some(Endpoint::Models),
    }
}

/// Whether a path looks like a Gemini call (for shaping errors before the key is known).
pub(super) fn looks_like_gemini(path: &str) -> bool {
    path.starts_with("/v1beta/")
        || path == "/v1beta"
        || METHODS.iter().any(|(name, _)| {
            path.rsplit_once(':')
                .is_some_and(|(_, method)| method == *name)
        })
}

/// The model named by a Gemini path (`…/models/{model}` or `…/models/{model}:method`).
pub fn model_from_gemini_path(path: &str) -> Option<&str> {
    let at = path.find("/models/")?;
    let tail = &path[at + "/models/".len()..];
    let model = tail.split(':').next()?;
    valid_model(model).then_some(model)
}

/// The path with the model of a `…/models/{model}…` path replaced (`None` when the path names
/// no model or `model` cannot stand in a Gemini path).
pub fn gemini_path_with_model(path: &str, model: &str) -> Option<String> {
    let at = path.find("/models/")? + "/models/".len();
    let tail = &path[at..];
    let end = tail.find(':').unwrap_or(tail.len());
    if !valid_model(&tail[..end]) || !valid_model(model) {
        return None;
    }
    Some(format!("{}{model}{}", &path[..at], &tail[end..]))
}

#[derive(Deserialize, Default)]
struct GenerationConfig {
    #[serde(default, rename = "maxOutputTokens", alias = "max_output_tokens")]
    max_output_tokens: LenientU64,
}

#[derive(Deserialize, Default)]
struct RequestBody {
    #[serde(default, rename = "generationConfig", alias = "generation_config")]
    generation_config: Option<GenerationConfig>,
}

pub(super) fn inspect_request(endpoint: Endpoint, path: &str, body: &[u8]) -> RequestFacts {
    let max_tokens = match endpoint {
        Endpoint::GenerateContent | Endpoint::StreamGenerateContent => {
            serde_json::from_slice::<RequestBody>(body)
                .ok()
                .and_then(|b| b.generation_config)
                .and_then(|g| g.max_output_tokens.0)
        }
        _ => None,
    };
    RequestFacts {
        model: model_from_gemini_path(path).map(str::to_owned),
        stream: endpoint == Endpoint::StreamGenerateContent,
        max_tokens,
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireUsage {
    prompt_token_count: LenientU64,
    candidates_token_count: LenientU64,
    thoughts_token_count: LenientU64,
    cached_content_token_count: LenientU64,
    tool_use_prompt_token_count: LenientU64,
    total_token_count: LenientU64,
}

/// Parses a `usageMetadata` object.
pub(super) fn parse_usage(value: &[u8]) -> Option<Usage> {
    if !is_object(value) {
        return None;
    }
    let w: WireUsage = serde_json::from_slice(value).ok()?;
    if w.prompt_token_count.0.is_none()
        && w.candidates_token_count.0.is_none()
        && w.thoughts_token_count.0.is_none()
        && w.total_token_count.0.is_none()
    {
        return None;
    }
    let n = |v: LenientU64| v.0.unwrap_or(0);
    Some(Usage {
        prompt_tokens: n(w.prompt_token_count).saturating_add(n(w.tool_use_prompt_token_count)),
        completion_tokens: n(w.candidates_token_count).saturating_add(n(w.thoughts_token_count)),
        cache_write_tokens: 0,
        cache_read_tokens: n(w.cached_content_token_count),
        prompt_includes_cache: true,
    })
}

#[derive(Deserialize)]
struct Candidate {
    #[serde(default, rename = "finishReason")]
    finish_reason: Scalar,
}

fn has_finish_reason(candidates: &[u8]) -> bool {
    memmem::find(candidates, b"\"finishReason\"").is_some()
        && serde_json::from_slice::<Vec<Candidate>>(candidates).is_ok_and(|cs| {
            cs.iter()
                .any(|c| matches!(&c.finish_reason, Scalar::Str(s) if !s.is_empty()))
        })
}

fn is_blocked(prompt_feedback: &[u8]) -> bool {
    memmem::find(prompt_feedback, b"\"blockReason\"").is_some()
        && member(prompt_feedback, b"blockReason")
            .and_then(string_contents)
            .is_some_and(|r| !r.is_empty())
}

/// One GenerateContentResponse (an SSE event's data or an element of the JSON array): the last
/// `usageMetadata` wins; a candidate `finishReason` (or a blocked prompt) completes the stream.
pub(super) fn on_response(
    usage_metadata: Option<&[u8]>,
    candidates: Option<&[u8]>,
    prompt_feedback: Option<&[u8]>,
    progress: &mut Progress,
) {
    if let Some(u) = usage_metadata.and_then(parse_usage) {
        progress.usage = Some(u);
    }
    if candidates.is_some_and(has_finish_reason) || prompt_feedback.is_some_and(is_blocked) {
        progress.complete = true;
    }
}

/// One `alt=sse` event's data.
pub(super) fn on_sse_data(data: &[u8], progress: &mut Progress) {
    let (mut usage, mut candidates, mut feedback) = (None, None, None);
    for m in members(data) {
        let value = &data[m.value.clone()];
        match &data[m.key.clone()] {
            b"usageMetadata" => usage = Some(value),
            b"candidates" => candidates = Some(value),
            b"promptFeedback" => feedback = Some(value),
            _ => {}
        }
    }
    on_response(usage, candidates, feedback, progress);
}

pub(super) fn error_value(status: u16, message: &str) -> Value {
    let kind = match status {
        400 | 413 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        502 | 503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        400..=499 => "FAILED_PRECONDITION",
        _ => "INTERNAL",
    };
    json!({"error": {"code": status, "message": message, "status": kind}})
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tracker::testkit::{Setup, fuzz};
    use super::super::{ApiFormat, UsageOutcome};
    use super::*;

    fn response(
        text: &str,
        finish: Option<&str>,
        candidates: u32,
        thoughts: Option<u32>,
    ) -> String {
        let finish = finish.map_or(String::new(), |f| format!(r#","finishReason":"{f}""#));
        let thoughts = thoughts.map_or(String::new(), |t| format!(r#","thoughtsTokenCount":{t}"#));
        format!(
            r#"{{"candidates": [{{"content": {{"parts": [{{"text": "{text}"}}],"role": "model"}}{finish},"index": 0}}],"usageMetadata": {{"promptTokenCount": 1200,"candidatesTokenCount": {candidates},"totalTokenCount": 1300,"cachedContentTokenCount": 1024,"promptTokensDetails": [{{"modality": "TEXT","tokenCount": 1200}}]{thoughts}}},"modelVersion": "gemini-2.5-flash","responseId": "abc"}}"#
        )
    }

    fn parts() -> Vec<String> {
        vec![
            response("Hel", None, 1, None),
            response(r#"lo \"finishReason\": \"STOP\""#, None, 5, Some(40)),
            response("!", Some("STOP"), 9, Some(60)),
        ]
    }

    fn final_usage() -> Usage {
        Usage {
            prompt_tokens: 1200,
            completion_tokens: 69,
            cache_write_tokens: 0,
            cache_read_tokens: 1024,
            prompt_includes_cache: true,
        }
    }

    fn done() -> UsageOutcome {
        UsageOutcome {
            usage: Some(final_usage()),
            complete: true,
        }
    }

    #[test]
    fn sse_stream_in_any_chunking() {
        let setup = Setup::new(ApiFormat::Gemini, Endpoint::StreamGenerateContent, true);
        for eol in ["\n", "\r\n"] {
            let body: String = parts()
                .iter()
                .map(|p| format!("data: {p}{eol}{eol}"))
                .collect();
            setup.check_all_chunkings(body.as_bytes(), body.as_bytes(), &done());
        }
    }

    #[test]
    fn sse_stream_cut_before_finish_is_partial() {
        let setup = Setup::new(ApiFormat::Gemini, Endpoint::StreamGenerateContent, true);
        let p = parts();
        let body = format!("data: {}\n\ndata: {}\n\n", p[0], p[1]);
        assert_eq!(
            setup.run(body.as_bytes(), &[7]).1,
            UsageOutcome {
                usage: Some(Usage {
                    completion_tokens: 45,
                    ..final_usage()
                }),
                complete: false
            }
        );
    }

    #[test]
    fn json_array_stream_in_any_chunking() {
        let setup = Setup::new(ApiFormat::Gemini, Endpoint::StreamGenerateContent, false);
        let body = format!("[{}\n]", parts().join(",\r\n"));
        setup.check_all_chunkings(body.as_bytes(), body.as_bytes(), &done());
        // Cut mid-array: what was seen so far.
        let p = parts();
        let cut = format!("[{},\r\n{},\r\n{{\"candidates\": [", p[0], p[1]);
        assert_eq!(
            setup.run(cut.as_bytes(), &[10]).1,
            UsageOutcome {
                usage: Some(Usage {
                    completion_tokens: 45,
                    ..final_usage()
                }),
                complete: false
            }
        );
    }

    #[test]
    fn json_array_error_object_and_garbage() {
        let setup = Setup::new(ApiFormat::Gemini, Endpoint::StreamGenerateContent, false);
        let err = br#"{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}"#;
        assert_eq!(
            setup.run(err, &[]).1,
            UsageOutcome {
                usage: None,
                complete: true
            }
        );
        let wrapped = br#"[{"error":{"code":500,"message":"x","status":"INTERNAL"}}]"#;
        assert_eq!(setup.run(wrapped, &[]).1, UsageOutcome::default());
        assert_eq!(setup.run(b"not json", &[]).1, UsageOutcome::default());
    }

    #[test]
    fn non_stream_generate_content() {
        let setup = Setup::new(ApiFormat::Gemini, Endpoint::GenerateContent, false);
        let body = parts()[2].clone();
        setup.check_all_chunkings(body.as_bytes(), body.as_bytes(), &done());
        let truncated = &body.as_bytes()[..body.len() - 1];
        assert_eq!(
            setup.run(truncated, &[]).1,
            UsageOutcome {
                usage: Some(final_usage()),
                complete: false
            }
        );
    }

    #[test]
    fn blocked_prompt_completes() {
        let blocked = r#"{"promptFeedback": {"blockReason": "SAFETY","safetyRatings": []},"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8},"modelVersion": "gemini-2.0-flash"}"#;
        let want = UsageOutcome {
            usage: Some(Usage {
                prompt_tokens: 8,
                prompt_includes_cache: true,
                ..Usage::default()
            }),
            complete: true,
        };
        let sse = format!("data: {blocked}\r\n\r\n");
        let setup = Setup::new(ApiFormat::Gemini, Endpoint::StreamGenerateContent, true);
        assert_eq!(setup.run(sse.as_bytes(), &[]).1, want);
        let setup = Setup::new(ApiFormat::Gemini, Endpoint::StreamGenerateContent, false);
        assert_eq!(setup.run(format!("[{blocked}]").as_bytes(), &[]).1, want);
        let setup = Setup::new(ApiFormat::Gemini, Endpoint::GenerateContent, false);
        assert_eq!(setup.run(blocked.as_bytes(), &[]).1, want);
    }

    #[test]
    fn usage_fields() {
        assert_eq!(
            parse_usage(br#"{"promptTokenCount":10,"toolUsePromptTokenCount":5,"candidatesTokenCount":3,"thoughtsTokenCount":2,"cachedContentTokenCount":4,"totalTokenCount":20}"#),
            Some(Usage {
                prompt_tokens: 15,
                completion_tokens: 5,
                cache_write_tokens: 0,
                cache_read_tokens: 4,
                prompt_includes_cache: true
            })
        );
        assert_eq!(parse_usage(br#"{}"#), None);
        assert_eq!(parse_usage(b"null"), None);
        assert_eq!(
            parse_usage(br#"{"promptTokenCount":7}"#).map(|u| u.uncached_prompt_tokens()),
            Some(7)
        );
        assert_eq!(final_usage().uncached_prompt_tokens(), 176);
    }

    #[test]
    fn finish_reason_detection() {
        assert!(has_finish_reason(br#"[{"finishReason":"MAX_TOKENS"}]"#));
        assert!(!has_finish_reason(br#"[{"finishReason":""}]"#));
        assert!(!has_finish_reason(br#"[{"finishReason":null}]"#));
        assert!(!has_finish_reason(
            br#"[{"content":{"parts":[{"text":"\"finishReason\""}]}}]"#
        ));
        assert!(!has_finish_reason(br#"{"finishReason":"STOP"}"#));
    }

    #[test]
    fn model_paths() {
        assert_eq!(
            model_from_gemini_path("/v1beta/models/gemini-2.5-pro:generateContent"),
            Some("gemini-2.5-pro")
        );
        assert_eq!(
            model_from_gemini_path("/v1/models/gemini-pro"),
            Some("gemini-pro")
        );
        assert_eq!(
            model_from_gemini_path("/v1beta/models/:generateContent"),
            None
        );
        assert_eq!(model_from_gemini_path("/v1beta/models"), None);
        assert_eq!(model_from_gemini_path("/v1beta/models/a/b:x"), None);
        assert_eq!(model_from_gemini_path(""), None);
    }

    #[test]
    fn garbage_never_panics() {
        let sse: String = parts().iter().map(|p| format!("data: {p}\n\n")).collect();
        let array = format!("[{}]", parts().join(","));
        for sse_mode in [true, false] {
            let setup = Setup::new(ApiFormat::Gemini, Endpoint::StreamGenerateContent, sse_mode);
            fuzz(&setup, sse.as_bytes());
            fuzz(&setup, array.as_bytes());
        }
    }
}
