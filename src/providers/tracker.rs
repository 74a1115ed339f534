//! The usage tracker: watches a response body chunk by chunk as it streams to the client,
//! reads the provider's usage figures, and (when we injected `include_usage`) strips what the
//! client did not ask for.

use std::ops::Range;

use bytes::Bytes;

use super::json::{JsonStream, Root, member, members, string_contents};
use super::progress::{Action, Progress};
use super::sse::{SseEvent, SseItem, SseSplitter};
use super::text::{self, TextSink};
use super::{ApiFormat, Endpoint, UsageOutcome, anthropic, gemini, openai};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    OpenAiChat,
    OpenAiResponses,
    Anthropic,
    Gemini,
}

enum Mode {
    /// The response carries no usage: forward untouched.
    Opaque,
    Sse(SseSplitter),
    Json(JsonStream),
}

const USAGE_KEYS: &[&[u8]] = &[b"usage", b"model"];
const GEMINI_KEYS: &[&[u8]] = &[b"usageMetadata", b"modelVersion"];
const GEMINI_STREAM_KEYS: &[&[u8]] = &[
    b"usageMetadata",
    b"candidates",
    b"promptFeedback",
    b"modelVersion",
];

/// Watches a response body as it streams to the client, chunk by chunk, in any chunking.
pub struct UsageTracker {
    format: ApiFormat,
    json_keys: &'static [&'static [u8]],
    flavor: Flavor,
    strip: bool,
    mode: Mode,
    progress: Progress,
    finished: bool,
}

impl std::fmt::Debug for UsageTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageTracker")
            .field("format", &self.format)
            .field("flavor", &self.flavor)
            .field("strip", &self.strip)
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

impl UsageTracker {
    /// `sse`: the upstream response is `text/event-stream`; otherwise the body is JSON (for
    /// Gemini `streamGenerateContent` without `alt=sse`, a JSON array of responses).
    /// `strip_injected_usage`: we injected `include_usage`, so remove what it added.
    /// `max_buffer`: most bytes held back at once (one SSE event across chunks, or one captured
    /// JSON value); past it that piece is forwarded/skipped without being parsed.
    pub fn new(
        format: ApiFormat,
        endpoint: Endpoint,
        sse: bool,
        strip_injected_usage: bool,
        max_buffer: usize,
    ) -> Self {
        let flavor = match (format, endpoint) {
            (ApiFormat::OpenAi, Endpoint::Responses) => Flavor::OpenAiResponses,
            (ApiFormat::OpenAi, _) => Flavor::OpenAiChat,
            (ApiFormat::Anthropic, _) => Flavor::Anthropic,
            (ApiFormat::Gemini, _) => Flavor::Gemini,
        };
        let json_keys = match (format, endpoint) {
            (ApiFormat::Gemini, Endpoint::StreamGenerateContent) => GEMINI_STREAM_KEYS,
            (ApiFormat::Gemini, _) => GEMINI_KEYS,
            _ => USAGE_KEYS,
        };
        let mode = if !endpoint.has_usage() {
            Mode::Opaque
        } else if sse {
            Mode::Sse(SseSplitter::new(max_buffer))
        } else {
            Mode::Json(JsonStream::new(json_keys, max_buffer))
        };
        let strip =
            strip_injected_usage && flavor == Flavor::OpenAiChat && matches!(mode, Mode::Sse(_));
        UsageTracker {
            format,
            json_keys,
            flavor,
            strip,
            mode,
            progress: Progress::default(),
            finished: false,
        }
    }

    /// Feeds one chunk. `None`: forward the chunk untouched. `Some(bytes)`: forward these
    /// instead (strip mode; complete events are emitted at once, only an incomplete tail is
    /// held back, so the bytes may be empty).
    pub fn feed(&mut self, chunk: &[u8]) -> Option<Bytes> {
        if self.finished {
            return None;
        }
        let UsageTracker {
            format,
            json_keys,
            flavor,
            strip,
            mode,
            progress,
            ..
        } = self;
        progress.body_bytes += chunk.len() as u64;
        match mode {
            Mode::Opaque => None,
            Mode::Json(js) => {
                js.feed(chunk, |key, value| {
                    on_json_member(*format, json_keys[key], value, progress)
                });
                if js.root() == Root::Object && js.root_closed() {
                    progress.complete = true;
                }
                None
            }
            Mode::Sse(splitter) => {
                if *strip {
                    let mut out = Vec::with_capacity(chunk.len() + splitter.pending());
                    splitter.push(chunk, |item| strip_item(*flavor, item, progress, &mut out));
                    Some(Bytes::from(out))
                } else {
                    splitter.push(chunk, |item| {
                        if let SseItem::Event(ev) = item {
                            on_event(*flavor, &ev, false, progress);
                        }
                    });
                    None
                }
            }
        }
    }

    /// End of body. Returns the held-back bytes to forward (strip mode); empty otherwise.
    pub fn flush(&mut self) -> Bytes {
        if self.finished {
            return Bytes::new();
        }
        self.finished = true;
        let UsageTracker {
            flavor,
            strip,
            mode,
            progress,
            ..
        } = self;
        match mode {
            Mode::Opaque => {
                progress.complete = true;
                Bytes::new()
            }
            Mode::Json(_) => Bytes::new(),
            Mode::Sse(splitter) => {
                let mut out = Vec::new();
                if *strip {
                    splitter.finish(|item| strip_item(*flavor, item, progress, &mut out));
                } else {
                    splitter.finish(|item| {
                        if let SseItem::Event(ev) = item {
                            on_event(*flavor, &ev, false, progress);
                        }
                    });
                }
                Bytes::from(out)
            }
        }
    }

    /// What was seen so far (a stream cut short reports its usage with `complete == false`).
    pub fn outcome(&self) -> UsageOutcome {
        UsageOutcome {
            usage: self.progress.usage,
            complete: self.progress.complete && !self.progress.failed,
        }
    }

    /// The model the answer itself names (it wins over the requested one for pricing).
    pub fn model(&self) -> Option<&str> {
        self.progress.model.as_deref()
    }

    /// Generated text seen in a streamed answer (bounded), for estimating its tokens.
    pub fn text(&self) -> &TextSink {
        &self.progress.text
    }

    /// Body bytes seen so far.
    pub fn body_bytes(&self) -> u64 {
        self.progress.body_bytes
    }
}

/// The model an answer names: top-level `model` (OpenAI, Anthropic JSON) or `modelVersion`
/// (Gemini), or inside `message` (Anthropic `message_start`) / `response` (OpenAI responses).
fn find_model(data: &[u8]) -> Option<String> {
    for m in members(data) {
        let value = &data[m.value.clone()];
        let found = match &data[m.key.clone()] {
            b"model" | b"modelVersion" => string_contents(value),
            b"message" | b"response" => member(value, b"model").and_then(string_contents),
            _ => None,
        };
        if let Some(name) = found.filter(|n| !n.is_empty() && n.len() <= 256) {
            return std::str::from_utf8(name).ok().map(str::to_string);
        }
    }
    None
}

/// A wanted member of a JSON body ended.
fn on_json_member(format: ApiFormat, key: &[u8], value: &[u8], progress: &mut Progress) {
    if matches!(key, b"model" | b"modelVersion") {
        if progress.model.is_none() {
            progress.model = string_contents(value)
                .filter(|n| !n.is_empty() && n.len() <= 256)
                .and_then(|n| std::str::from_utf8(n).ok())
                .map(str::to_string);
        }
        return;
    }
    let usage = match format {
        ApiFormat::OpenAi => openai::parse_usage(value),
        ApiFormat::Anthropic => anthropic::parse_usage(value),
        ApiFormat::Gemini => {
            match key {
                b"usageMetadata" => gemini::on_response(Some(value), None, None, progress),
                b"candidates" => gemini::on_response(None, Some(value), None, progress),
                _ => gemini::on_response(None, None, Some(value), progress),
            }
            return;
        }
    };
    if usage.is_some() {
        progress.usage = usage;
    }
}

fn on_event(flavor: Flavor, ev: &SseEvent<'_>, strip: bool, progress: &mut Progress) -> Action {
    let Some(data) = ev.data else {
        return Action::Keep;
    };
    if progress.model.is_none() {
        progress.model = find_model(data);
    }
    text::collect(data, &mut progress.text);
    match flavor {
        Flavor::OpenAiChat => openai::on_chat_event(data, strip, progress),
        Flavor::OpenAiResponses => {
            openai::on_responses_event(ev.event, data, progress);
            Action::Keep
        }
        Flavor::Anthropic => {
            anthropic::on_event(ev.event, data, progress);
            Action::Keep
        }
        Flavor::Gemini => {
            gemini::on_sse_data(data, progress);
            Action::Keep
        }
    }
}

fn strip_item(flavor: Flavor, item: SseItem<'_>, progress: &mut Progress, out: &mut Vec<u8>) {
    match item {
        SseItem::Passthrough(bytes) => out.extend_from_slice(bytes),
        SseItem::Event(ev) => match on_event(flavor, &ev, true, progress) {
            Action::Keep => out.extend_from_slice(ev.raw),
            Action::Drop => {}
            Action::Cut(cut) => match &ev.data_range {
                Some(dr) => {
                    out.extend_from_slice(&ev.raw[..dr.start + cut.start]);
                    out.extend_from_slice(&ev.raw[dr.start + cut.end..]);
                }
                None => rebuild_event(&ev, cut, out),
            },
        },
    }
}

/// Re-renders an event with several `data:` lines after removing `cut` from its joined data.
fn rebuild_event(ev: &SseEvent<'_>, cut: Range<usize>, out: &mut Vec<u8>) {
    let Some(data) = ev.data else {
        out.extend_from_slice(ev.raw);
        return;
    };
    let eol: &[u8] = if memchr::memmem::find(ev.raw, b"\r\n").is_some() {
        b"\r\n"
    } else {
        b"\n"
    };
    for line in ev.raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line == b"data" || line.starts_with(b"data:") {
            continue;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(eol);
    }
    let mut kept = Vec::with_capacity(data.len());
    kept.extend_from_slice(&data[..cut.start]);
    kept.extend_from_slice(&data[cut.end..]);
    for line in kept.split(|b| *b == b'\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line);
        out.extend_from_slice(eol);
    }
    if ev.raw.ends_with(b"\n\n") || ev.raw.ends_with(b"\n\r\n") {
        out.extend_from_slice(eol);
    }
}

/// Test helpers shared by the format modules' tests.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(super) mod testkit {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    pub struct Setup {
        pub format: ApiFormat,
        pub endpoint: Endpoint,
        pub sse: bool,
        pub strip: bool,
        pub max_buffer: usize,
    }

    impl Setup {
        pub fn new(format: ApiFormat, endpoint: Endpoint, sse: bool) -> Self {
            Setup {
                format,
                endpoint,
                sse,
                strip: false,
                max_buffer: 1 << 20,
            }
        }

        pub fn strip(mut self) -> Self {
            self.strip = true;
            self
        }

        pub fn tracker(&self) -> UsageTracker {
            UsageTracker::new(
                self.format,
                self.endpoint,
                self.sse,
                self.strip,
                self.max_buffer,
            )
        }

        /// Feeds `body` cut at `splits`; returns the bytes forwarded and the outcome.
        pub fn run(&self, body: &[u8], splits: &[usize]) -> (Vec<u8>, UsageOutcome) {
            let mut t = self.tracker();
            let mut out = Vec::new();
            let mut start = 0;
            for &cut in splits.iter().chain(std::iter::once(&body.len())) {
                let chunk = &body[start..cut];
                match t.feed(chunk) {
                    None => out.extend_from_slice(chunk),
                    Some(b) => out.extend_from_slice(&b),
                }
                start = cut;
            }
            out.extend_from_slice(&t.flush());
            let outcome = t.outcome();
            assert!(t.flush().is_empty());
            assert_eq!(t.outcome(), outcome);
            (out, outcome)
        }

        /// Checks that every chunking gives the same forwarded bytes and outcome: one chunk,
        /// every split position, byte by byte, and pseudo-random multi-way splits.
        pub fn check_all_chunkings(&self, body: &[u8], want_out: &[u8], want: &UsageOutcome) {
            let (out, outcome) = self.run(body, &[]);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(want_out),
                "one chunk"
            );
            assert_eq!(&outcome, want, "one chunk");
            for a in 0..=body.len() {
                let (out, outcome) = self.run(body, &[a]);
                assert_eq!(out, want_out, "split at {a}");
                assert_eq!(&outcome, want, "split at {a}");
            }
            let every: Vec<usize> = (1..body.len()).collect();
            let (out, outcome) = self.run(body, &every);
            assert_eq!(out, want_out, "byte by byte");
            assert_eq!(&outcome, want, "byte by byte");
            let mut seed = body.len() as u64 | 1;
            for round in 0..64 {
                let mut cuts = Vec::new();
                for _ in 0..(round % 9) {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    cuts.push((seed >> 33) as usize % (body.len() + 1));
                }
                cuts.sort_unstable();
                let (out, outcome) = self.run(body, &cuts);
                assert_eq!(out, want_out, "cuts {cuts:?}");
                assert_eq!(&outcome, want, "cuts {cuts:?}");
            }
        }

        /// Strip mode: after any first chunk, exactly the (stripped) events completed by it have
        /// been emitted: nothing complete is delayed, nothing incomplete is emitted.
        pub fn check_no_delay(&self, body: &[u8], sep: &[u8]) {
            let full = self.run(body, &[]).0;
            for a in 0..=body.len() {
                let mut t = self.tracker();
                let first = t.feed(&body[..a]).map(|b| b.to_vec());
                let first = first.unwrap_or_else(|| body[..a].to_vec());
                let complete_upto =
                    memchr::memmem::rfind(&body[..a], sep).map_or(0, |p| p + sep.len());
                let expect = self.run(&body[..complete_upto], &[]).0;
                assert_eq!(first, expect, "first chunk of {a} bytes");
                assert!(full.starts_with(&first));
            }
        }
    }

    /// Feeds random bytes and mangled copies of `body` in random chunkings: must not panic.
    pub fn fuzz(setup: &Setup, body: &[u8]) {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for round in 0..300 {
            let mut bytes = body.to_vec();
            for _ in 0..(round % 17) {
                if bytes.is_empty() {
                    break;
                }
                let i = next() % bytes.len();
                match next() % 4 {
                    0 => {
                        bytes.remove(i);
                    }
                    1 => {
                        let alphabet = b"{}[]\":,\\\n\r0ae ";
                        bytes[i] = alphabet[next() % alphabet.len()];
                    }
                    2 => bytes.truncate(i),
                    _ => bytes.insert(i, (next() % 256) as u8),
                }
            }
            let cuts: Vec<usize> = (0..round % 7).map(|_| next() % (bytes.len() + 1)).collect();
            let mut cuts = cuts;
            cuts.sort_unstable();
            let _ = setup.run(&bytes, &cuts);
            let mut small = *setup;
            small.max_buffer = 16;
            let _ = small.run(&bytes, &cuts);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::testkit::Setup;
    use super::*;

    #[test]
    fn endpoints_without_usage_complete_at_end_and_pass_through() {
        for (format, endpoint) in [
            (ApiFormat::OpenAi, Endpoint::Models),
            (ApiFormat::OpenAi, Endpoint::Moderations),
            (ApiFormat::Anthropic, Endpoint::CountTokens),
            (ApiFormat::Anthropic, Endpoint::Models),
            (ApiFormat::Gemini, Endpoint::CountTokens),
            (ApiFormat::Gemini, Endpoint::EmbedContent),
            (ApiFormat::Gemini, Endpoint::Models),
        ] {
            for sse in [false, true] {
                let setup = Setup::new(format, endpoint, sse);
                let mut t = setup.tracker();
                assert_eq!(t.feed(br#"{"data":[],"usage":{"prompt_tokens":1}}"#), None);
                assert_eq!(t.outcome(), UsageOutcome::default());
                assert!(t.flush().is_empty());
                assert_eq!(
                    t.outcome(),
                    UsageOutcome {
                        usage: None,
                        complete: true
                    }
                );
            }
        }
    }

    #[test]
    fn strip_is_ignored_where_nothing_was_injected() {
        let body = b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n";
        // Not SSE: nothing to strip.
        let mut t = Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, false)
            .strip()
            .tracker();
        assert_eq!(t.feed(body), None);
        // Not OpenAI chat.
        let mut t = Setup::new(ApiFormat::OpenAi, Endpoint::Responses, true)
            .strip()
            .tracker();
        assert_eq!(t.feed(body), None);
    }

    #[test]
    fn feed_after_flush_is_ignored() {
        let mut t = Setup::new(ApiFormat::OpenAi, Endpoint::ChatCompletions, true)
            .strip()
            .tracker();
        assert_eq!(t.flush(), Bytes::new());
        assert_eq!(t.feed(b"data: [DONE]\n\n"), None);
        assert_eq!(t.outcome(), UsageOutcome::default());
    }

    #[test]
    fn empty_bodies() {
        for format in ApiFormat::ALL {
            for endpoint in [
                Endpoint::ChatCompletions,
                Endpoint::Messages,
                Endpoint::GenerateContent,
                Endpoint::StreamGenerateContent,
                Endpoint::Responses,
            ] {
                for sse in [false, true] {
                    let (out, outcome) = Setup::new(format, endpoint, sse).run(b"", &[]);
                    assert!(out.is_empty());
                    assert_eq!(outcome, UsageOutcome::default());
                }
            }
        }
    }
}
