//! Generated text seen in a response, kept (bounded) so that a stream cut before the provider
//! reported its usage can still be metered by estimating the tokens that were delivered.

use super::json::{elements, members, string_contents};

/// Members whose string value is generated text (content deltas, tool-call argument fragments,
/// reasoning), in any of the three formats.
const TEXT_KEYS: [&[u8]; 8] = [
    b"content",
    b"text",
    b"arguments",
    b"partial_json",
    b"thinking",
    b"reasoning_content",
    b"refusal",
    b"delta",
];

/// Members never worth descending into.
const SKIP_KEYS: [&[u8]; 4] = [b"usage", b"usageMetadata", b"logprobs", b"safetyRatings"];

/// Bounded text buffer: the first `cap` bytes are kept, the rest only counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextSink {
    kept: Vec<u8>,
    cap: usize,
    /// Bytes seen beyond `cap`.
    overflow: u64,
}

impl TextSink {
    pub fn new(cap: usize) -> Self {
        Self {
            kept: Vec::new(),
            cap,
            overflow: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let room = self.cap.saturating_sub(self.kept.len());
        let (keep, rest) = bytes.split_at(bytes.len().min(room));
        self.kept.extend_from_slice(keep);
        self.overflow += rest.len() as u64;
    }

    /// The text kept (JSON-escaped as it arrived).
    pub fn kept(&self) -> &[u8] {
        &self.kept
    }

    /// Bytes seen but not kept.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.overflow == 0
    }
}

/// Appends the generated text found anywhere in the JSON value `v`.
pub(super) fn collect(v: &[u8], sink: &mut TextSink) {
    collect_at(v, sink, 0);
}

fn collect_at(v: &[u8], sink: &mut TextSink, depth: u32) {
    // Deep nesting is not generated text; it is not worth the stack.
    if depth > 12 {
        return;
    }
    match v.first() {
        Some(b'{') => {
            for m in members(v) {
                let key = &v[m.key.clone()];
                let value = &v[m.value.clone()];
                if SKIP_KEYS.contains(&key) {
                    continue;
                }
                match (TEXT_KEYS.contains(&key), string_contents(value)) {
                    (true, Some(text)) => sink.push(text),
                    (_, None) => collect_at(value, sink, depth + 1),
                    (false, Some(_)) => {}
                }
            }
        }
        Some(b'[') => {
            for e in elements(v) {
                collect_at(e, sink, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn text(v: &str) -> String {
        let mut s = TextSink::new(1 << 20);
        collect(v.as_bytes(), &mut s);
        String::from_utf8(s.kept().to_vec()).unwrap()
    }

    #[test]
    fn finds_text_in_each_format() {
        assert_eq!(
            text(
                r#"{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#
            ),
            "Hel"
        );
        assert_eq!(
            text(
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}}]}"#
            ),
            r#"{\"ci"#
        );
        assert_eq!(
            text(
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi there"}}"#
            ),
            "Hi there"
        );
        assert_eq!(
            text(
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#
            ),
            r#"{\"a\":"#
        );
        assert_eq!(
            text(
                r#"{"candidates":[{"content":{"parts":[{"text":"One"},{"text":" two"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":5}}"#
            ),
            "One two"
        );
        assert_eq!(
            text(r#"{"type":"response.output_text.delta","item_id":"m","delta":"Yo"}"#),
            "Yo"
        );
        assert_eq!(
            text(r#"{"type":"message_start","message":{"role":"assistant","content":[]}}"#),
            ""
        );
    }

    #[test]
    fn bounded_and_tolerant() {
        let mut s = TextSink::new(4);
        collect(br#"{"text":"abcdefgh"}"#, &mut s);
        assert_eq!(s.kept(), b"abcd");
        assert_eq!(s.overflow(), 4);
        for junk in [
            "",
            "x",
            "{",
            "[",
            "{\"text\":",
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[\"a\"]",
        ] {
            collect(junk.as_bytes(), &mut s);
        }
        let deep = "[".repeat(100_000);
        collect(deep.as_bytes(), &mut s);
    }
}
