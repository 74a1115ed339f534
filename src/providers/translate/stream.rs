//! The response translator: back-end response bytes in (as they arrive), front-format bytes
//! out. SSE is translated event by event (only an incomplete event is held back); a JSON body
//! is translated as one document at the end. A usage tracker watches the back-end bytes.

use bytes::Bytes;
use serde_json::Value;

use super::super::sse::{SseItem, SseSplitter};
use super::super::{ApiFormat, Endpoint, UsageOutcome, UsageTracker};
use super::ir::StreamEvent;
use super::{ProviderError, ResponseSpec, anthropic, gemini, openai, render_error_value};

/// Most bytes of one SSE event (or member of a JSON body, for the usage tracker) held back.
const MAX_EVENT: usize = 16 << 20;

enum Back {
    OpenAi(openai::StreamParser),
    Anthropic(anthropic::StreamParser),
    Gemini(gemini::StreamParser),
}

impl Back {
    fn event(&mut self, name: Option<&[u8]>, data: &[u8], out: &mut Vec<StreamEvent>) {
        match self {
            Back::OpenAi(p) => p.event(data, out),
            Back::Anthropic(p) => p.event(name, data, out),
            Back::Gemini(p) => p.event(data, out),
        }
    }
}

enum Front {
    OpenAi(openai::StreamWriter),
    Anthropic(anthropic::StreamWriter),
}

impl Front {
    fn write(&mut self, ev: StreamEvent, out: &mut Vec<u8>) {
        match self {
            Front::OpenAi(w) => w.write(ev, out),
            Front::Anthropic(w) => w.write(ev, out),
        }
    }
}

enum Mode {
    /// Same format on both sides: bytes as the tracker lets them through.
    Passthrough,
    /// A JSON body, translated when complete.
    Json {
        body: Vec<u8>,
    },
    Sse(Box<SseState>),
}

struct SseState {
    splitter: SseSplitter,
    back: Back,
    front: Front,
    events: Vec<StreamEvent>,
}

/// Translates one back-end response into the front format. Feed it every body chunk in order,
/// forward what [`ResponseTranslator::feed`] returns at once, then forward
/// [`ResponseTranslator::finish`].
pub struct ResponseTranslator {
    spec: ResponseSpec,
    created: u64,
    tracker: UsageTracker,
    mode: Mode,
    finished: bool,
    unreadable: bool,
}

impl ResponseTranslator {
    /// `created`: the Unix time shown in OpenAI-format responses.
    pub fn new(spec: ResponseSpec, created: u64) -> Self {
        let endpoint = match spec.back {
            ApiFormat::OpenAi => Endpoint::ChatCompletions,
            ApiFormat::Anthropic => Endpoint::Messages,
            ApiFormat::Gemini if spec.stream => Endpoint::StreamGenerateContent,
            ApiFormat::Gemini => Endpoint::GenerateContent,
        };
        let tracker = UsageTracker::new(
            spec.back,
            endpoint,
            spec.stream,
            spec.usage_injected,
            MAX_EVENT,
        );
        let front = match spec.front {
            ApiFormat::OpenAi => Some(Front::OpenAi(openai::StreamWriter::new(
                &spec.model,
                created,
                spec.include_usage,
            ))),
            ApiFormat::Anthropic => {
                Some(Front::Anthropic(anthropic::StreamWriter::new(&spec.model)))
            }
            ApiFormat::Gemini => None,
        };
        let mode = match front {
            _ if spec.front == spec.back => Mode::Passthrough,
            None => Mode::Passthrough,
            Some(_) if !spec.stream => Mode::Json { body: Vec::new() },
            Some(front) => Mode::Sse(Box::new(SseState {
                splitter: SseSplitter::new(MAX_EVENT),
                back: match spec.back {
                    ApiFormat::OpenAi => Back::OpenAi(openai::StreamParser::default()),
                    ApiFormat::Anthropic => Back::Anthropic(anthropic::StreamParser::default()),
                    ApiFormat::Gemini => Back::Gemini(gemini::StreamParser::default()),
                },
                front,
                events: Vec::new(),
            })),
        };
        ResponseTranslator {
            spec,
            created,
            tracker,
            mode,
            finished: false,
            unreadable: false,
        }
    }

    /// Translates one chunk of the back-end body; returns the bytes to send to the client now
    /// (possibly empty: an incomplete event, or a JSON body still arriving).
    pub fn feed(&mut self, chunk: &[u8]) -> Bytes {
        if self.finished {
            return Bytes::new();
        }
        let tracked = self.tracker.feed(chunk);
        match &mut self.mode {
            Mode::Passthrough => tracked.unwrap_or_else(|| Bytes::copy_from_slice(chunk)),
            Mode::Json { body } => {
                body.extend_from_slice(chunk);
                Bytes::new()
            }
            Mode::Sse(state) => state.translate(Some(chunk)),
        }
    }

    /// End of the back-end body: returns the last bytes for the client (the whole translated
    /// document for a JSON body).
    pub fn finish(&mut self) -> Bytes {
        if self.finished {
            return Bytes::new();
        }
        self.finished = true;
        let tracked = self.tracker.flush();
        match &mut self.mode {
            Mode::Passthrough => tracked,
            Mode::Json { body } => {
                let body = std::mem::take(body);
                match translate_json(&self.spec, self.created, &body) {
                    Some(out) => Bytes::from(out),
                    None => {
                        self.unreadable = true;
                        let error = ProviderError {
                            status: 502,
                            message: "the upstream answer could not be read".into(),
                            code: None,
                            param: None,
                        };
                        Bytes::from(
                            serde_json::to_vec(&render_error_value(self.spec.front, &error))
                                .unwrap_or_default(),
                        )
                    }
                }
            }
            Mode::Sse(state) => state.translate(None),
        }
    }

    /// The back end's own usage figures seen so far, exactly as a [`UsageTracker`] on the
    /// back-end bytes reports them (`complete` once the back end's terminal event was seen).
    pub fn outcome(&self) -> UsageOutcome {
        self.tracker.outcome()
    }

    /// The model the back end's answer named (as its usage tracker read it).
    pub fn model(&self) -> Option<&str> {
        self.tracker.model()
    }

    /// Generated text seen in the back end's answer (for estimating a cut answer's tokens).
    pub fn text(&self) -> &super::super::TextSink {
        self.tracker.text()
    }

    /// Bytes of the back end's answer seen.
    pub fn body_bytes(&self) -> u64 {
        self.tracker.body_bytes()
    }

    /// A JSON answer could not be parsed and an error document was sent instead.
    pub fn unreadable(&self) -> bool {
        self.unreadable
    }

    /// What this translator was made for.
    pub fn spec(&self) -> &ResponseSpec {
        &self.spec
    }
}

impl SseState {
    /// Translates the events a chunk completes (`None`: the end of the stream).
    fn translate(&mut self, chunk: Option<&[u8]>) -> Bytes {
        let SseState {
            splitter,
            back,
            front,
            events,
        } = self;
        let mut out = Vec::new();
        let mut on = |item: SseItem<'_>| on_item(item, back, front, events, &mut out);
        match chunk {
            Some(chunk) => splitter.push(chunk, &mut on),
            None => splitter.finish(&mut on),
        }
        Bytes::from(out)
    }
}

fn on_item(
    item: SseItem<'_>,
    back: &mut Back,
    front: &mut Front,
    events: &mut Vec<StreamEvent>,
    out: &mut Vec<u8>,
) {
    // An event too large to hold cannot be translated; it is left out.
    let SseItem::Event(ev) = item else {
        return;
    };
    let Some(data) = ev.data else {
        return;
    };
    back.event(ev.event, data, events);
    for e in events.drain(..) {
        front.write(e, out);
    }
}

fn translate_json(spec: &ResponseSpec, created: u64, body: &[u8]) -> Option<Vec<u8>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let response = match spec.back {
        ApiFormat::OpenAi => openai::parse_response(&value),
        ApiFormat::Anthropic => anthropic::parse_response(&value),
        ApiFormat::Gemini => gemini::parse_response(&value),
    }?;
    let rendered = match spec.front {
        ApiFormat::OpenAi => openai::render_response(&response, &spec.model, created),
        ApiFormat::Anthropic => anthropic::render_response(&response, &spec.model),
        ApiFormat::Gemini => return None,
    };
    serde_json::to_vec(&rendered).ok()
}
