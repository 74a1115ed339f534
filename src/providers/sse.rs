//! Server-sent events framing: splits a byte stream arriving in arbitrary chunks into complete
//! events (name, joined data, raw bytes and their position), keeping only the incomplete tail.

use std::ops::Range;

use memchr::memchr;

/// One complete event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The event's bytes exactly as received, including the blank line that ended it (absent
    /// only for a final unterminated event reported by [`SseSplitter::finish`]).
    pub raw: &'a [u8],
    /// Where `raw` lies in the chunk passed to [`SseSplitter::push`], when wholly inside it
    /// (`None` when the event started in an earlier chunk).
    pub chunk_range: Option<Range<usize>>,
    /// Value of the last `event:` field.
    pub event: Option<&'a [u8]>,
    /// The `data:` values joined with `\n`; `None` when the event has no data field.
    pub data: Option<&'a [u8]>,
    /// Where `data` lies in `raw`, when the event has exactly one `data:` line.
    pub data_range: Option<Range<usize>>,
}

/// What the splitter reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SseItem<'a> {
    Event(SseEvent<'a>),
    /// Bytes of an event too large to hold back (over `max_event`); not parsed, to be forwarded
    /// as they are.
    Passthrough(&'a [u8]),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineState {
    /// Inside a line that has content.
    Mid,
    /// At the start of a line.
    Start,
    /// At the start of a line, after a `\r`.
    StartCr,
}

/// Incremental SSE event splitter. Lines end with `\n` or `\r\n`; an empty line ends an event.
#[derive(Debug)]
pub struct SseSplitter {
    tail: Vec<u8>,
    line: LineState,
    skipping: bool,
    max_event: usize,
    scratch: Vec<u8>,
}

impl SseSplitter {
    /// `max_event`: most bytes of one event held back across chunks; a longer event is reported
    /// as [`SseItem::Passthrough`] pieces.
    pub fn new(max_event: usize) -> Self {
        SseSplitter {
            tail: Vec::new(),
            line: LineState::Start,
            skipping: false,
            max_event,
            scratch: Vec::new(),
        }
    }

    /// Bytes currently held back (the incomplete event).
    pub fn pending(&self) -> usize {
        self.tail.len()
    }

    /// Finds the end (exclusive) of the event that continues at `s[from..]`.
    fn find_end(&mut self, s: &[u8], from: usize) -> Option<usize> {
        let mut i = from;
        while i < s.len() {
            match self.line {
                LineState::Start => match s[i] {
                    b'\n' => return Some(i + 1),
                    b'\r' => {
                        self.line = LineState::StartCr;
                        i += 1;
                    }
                    _ => self.line = LineState::Mid,
                },
                LineState::StartCr => {
                    if s[i] == b'\n' {
                        self.line = LineState::Start;
                        return Some(i + 1);
                    }
                    self.line = LineState::Mid;
                }
                LineState::Mid => match memchr(b'\n', &s[i..]) {
                    Some(off) => {
                        i += off + 1;
                        self.line = LineState::Start;
                    }
                    None => i = s.len(),
                },
            }
        }
        None
    }

    /// Feeds one chunk; `f` is called for every event completed by it, in order. Together the
    /// reported `raw` and `Passthrough` bytes, plus what stays pending, are exactly the input.
    pub fn push<F: FnMut(SseItem<'_>)>(&mut self, chunk: &[u8], mut f: F) {
        let mut start = 0;
        while start < chunk.len() {
            match self.find_end(chunk, start) {
                Some(end) => {
                    self.line = LineState::Start;
                    let piece = &chunk[start..end];
                    if self.skipping {
                        self.skipping = false;
                        f(SseItem::Passthrough(piece));
                    } else if self.tail.is_empty() {
                        dispatch(piece, Some(start..end), &mut self.scratch, &mut f);
                    } else if self.tail.len() + piece.len() > self.max_event {
                        f(SseItem::Passthrough(&self.tail));
                        f(SseItem::Passthrough(piece));
                        self.tail.clear();
                    } else {
                        self.tail.extend_from_slice(piece);
                        dispatch(&self.tail, None, &mut self.scratch, &mut f);
                        self.tail.clear();
                    }
                    start = end;
                }
                None => {
                    let rest = &chunk[start..];
                    if self.skipping {
                        f(SseItem::Passthrough(rest));
                    } else if self.tail.len() + rest.len() > self.max_event {
                        f(SseItem::Passthrough(&self.tail));
                        f(SseItem::Passthrough(rest));
                        self.tail = Vec::new();
                        self.skipping = true;
                    } else {
                        self.tail.extend_from_slice(rest);
                    }
                    break;
                }
            }
        }
    }

    /// End of stream: reports a final event that lacked its blank line, if any.
    pub fn finish<F: FnMut(SseItem<'_>)>(&mut self, mut f: F) {
        if !self.tail.is_empty() {
            dispatch(&self.tail, None, &mut self.scratch, &mut f);
        }
        self.tail.clear();
        self.skipping = false;
        self.line = LineState::Start;
    }
}

/// Parses the lines of one complete event and reports it.
fn dispatch<F: FnMut(SseItem<'_>)>(
    raw: &[u8],
    chunk_range: Option<Range<usize>>,
    scratch: &mut Vec<u8>,
    f: &mut F,
) {
    let mut event = None;
    let mut first_data: Option<Range<usize>> = None;
    let mut data_lines = 0usize;
    let mut pos = 0;
    while pos < raw.len() {
        let end = memchr(b'\n', &raw[pos..]).map_or(raw.len(), |o| pos + o);
        let mut line = pos..end;
        pos = end + 1;
        if line.end > line.start && raw[line.end - 1] == b'\r' {
            line.end -= 1;
        }
        if raw[line.clone()].starts_with(b"\xEF\xBB\xBF") {
            line.start += 3;
        }
        let text = &raw[line.clone()];
        if text.is_empty() || text[0] == b':' {
            continue;
        }
        let (name, value) = match memchr(b':', text) {
            Some(c) => {
                let mut vs = line.start + c + 1;
                if vs < line.end && raw[vs] == b' ' {
                    vs += 1;
                }
                (&text[..c], vs..line.end)
            }
            None => (text, line.end..line.end),
        };
        match name {
            b"event" => event = Some(&raw[value]),
            b"data" => {
                data_lines += 1;
                match &first_data {
                    None => first_data = Some(value),
                    Some(first) => {
                        if data_lines == 2 {
                            scratch.clear();
                            scratch.extend_from_slice(&raw[first.clone()]);
                        }
                        scratch.push(b'\n');
                        scratch.extend_from_slice(&raw[value]);
                    }
                }
            }
            _ => {}
        }
    }
    let (data, data_range) = match (data_lines, first_data) {
        (1, Some(r)) => (Some(&raw[r.clone()]), Some(r)),
        (n, Some(_)) if n > 1 => (Some(scratch.as_slice()), None),
        _ => (None, None),
    };
    f(SseItem::Event(SseEvent {
        raw,
        chunk_range,
        event,
        data,
        data_range,
    }));
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq, Clone)]
    struct Owned {
        raw: Vec<u8>,
        event: Option<String>,
        data: Option<String>,
        data_in_raw: Option<String>,
    }

    fn s(b: &[u8]) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    /// Feeds `input` split at `splits`; returns events and the concatenation of all reported
    /// bytes (which must equal the input).
    fn run(input: &[u8], splits: &[usize], max: usize) -> (Vec<Owned>, Vec<u8>, usize) {
        let mut sp = SseSplitter::new(max);
        let mut events = Vec::new();
        let mut echoed = Vec::new();
        let mut passthrough = 0;
        let mut start = 0;
        let mut on = |item: SseItem<'_>, chunk: Option<&[u8]>| match item {
            SseItem::Event(ev) => {
                if let (Some(r), Some(c)) = (ev.chunk_range.clone(), chunk) {
                    assert_eq!(&c[r], ev.raw);
                }
                echoed.extend_from_slice(ev.raw);
                events.push(Owned {
                    raw: ev.raw.to_vec(),
                    event: ev.event.map(s),
                    data: ev.data.map(s),
                    data_in_raw: ev.data_range.map(|r| s(&ev.raw[r])),
                });
            }
            SseItem::Passthrough(b) => {
                passthrough += 1;
                echoed.extend_from_slice(b);
            }
        };
        for &cut in splits.iter().chain(std::iter::once(&input.len())) {
            let chunk = &input[start..cut];
            sp.push(chunk, |item| on(item, Some(chunk)));
            start = cut;
        }
        sp.finish(|item| on(item, None));
        assert_eq!(sp.pending(), 0);
        (events, echoed, passthrough)
    }

    const STREAM: &[u8] = b": ping\n\nevent: message_start\ndata: {\"a\":1}\n\n\
data:{\"b\":2}\r\n\r\n\
event:x\r\ndata: line1\r\ndata: line2\r\nid: 7\r\nretry: 10\r\n\r\n\
data\n\n\
\n\
data: [DONE]\n\n";

    fn expected() -> Vec<(Option<&'static str>, Option<&'static str>)> {
        vec![
            (None, None),
            (Some("message_start"), Some("{\"a\":1}")),
            (None, Some("{\"b\":2}")),
            (Some("x"), Some("line1\nline2")),
            (None, Some("")),
            (None, None),
            (None, Some("[DONE]")),
        ]
    }

    fn summary(events: &[Owned]) -> Vec<(Option<&str>, Option<&str>)> {
        events
            .iter()
            .map(|e| (e.event.as_deref(), e.data.as_deref()))
            .collect()
    }

    #[test]
    fn parses_fields_in_one_chunk() {
        let (events, echoed, pt) = run(STREAM, &[], 1 << 20);
        assert_eq!(summary(&events), expected());
        assert_eq!(echoed, STREAM);
        assert_eq!(pt, 0);
        assert_eq!(events[1].data_in_raw.as_deref(), Some("{\"a\":1}"));
        assert_eq!(events[3].data_in_raw, None);
        assert_eq!(events[2].raw, b"data:{\"b\":2}\r\n\r\n");
    }

    #[test]
    fn same_events_at_every_split_position_and_pair() {
        let want = run(STREAM, &[], 1 << 20).0;
        for a in 0..=STREAM.len() {
            for b in a..=STREAM.len() {
                let (events, echoed, _) = run(STREAM, &[a, b], 1 << 20);
                assert_eq!(events, want, "split at {a},{b}");
                assert_eq!(echoed, STREAM);
            }
        }
    }

    #[test]
    fn byte_by_byte() {
        let splits: Vec<usize> = (1..STREAM.len()).collect();
        let (events, echoed, _) = run(STREAM, &splits, 1 << 20);
        assert_eq!(summary(&events), expected());
        assert_eq!(echoed, STREAM);
    }

    #[test]
    fn complete_events_are_reported_immediately() {
        let mut sp = SseSplitter::new(1024);
        let mut n = 0;
        sp.push(b"data: 1\n\ndata: 2\n\ndata: 3", |_| n += 1);
        assert_eq!(n, 2);
        assert_eq!(sp.pending(), 7);
        sp.push(b"\n", |_| n += 1);
        assert_eq!(n, 2);
        sp.push(b"\n", |_| n += 1);
        assert_eq!(n, 3);
        assert_eq!(sp.pending(), 0);
    }

    #[test]
    fn unterminated_final_event_is_reported_at_finish() {
        let (events, echoed, _) = run(b"data: {\"x\":1}\ndata: y", &[3], 1 << 20);
        assert_eq!(summary(&events), vec![(None, Some("{\"x\":1}\ny"))]);
        assert_eq!(echoed, b"data: {\"x\":1}\ndata: y");
    }

    #[test]
    fn oversized_events_pass_through_unparsed() {
        let big = format!("data: {}\n\ndata: small\n\n", "x".repeat(100));
        let input = big.as_bytes();
        for a in 1..input.len() {
            let (events, echoed, _) = run(input, &[a], 32);
            assert_eq!(echoed, input, "split {a}");
            let datas: Vec<_> = events.iter().filter_map(|e| e.data.clone()).collect();
            assert!(datas.contains(&"small".to_string()), "split {a}");
            assert!(datas.iter().all(|d| d == "small" || d.len() == 100));
        }
        // Held back across chunks beyond the limit: reported as passthrough.
        let (_, echoed, pt) = run(input, &[10, 50], 32);
        assert!(pt >= 2);
        assert_eq!(echoed, input);
    }

    #[test]
    fn bom_and_bare_lines() {
        let (events, _, _) = run(b"\xEF\xBB\xBFdata: a\n\nevent\ndata\ndata\n\n", &[], 64);
        assert_eq!(
            summary(&events),
            vec![(None, Some("a")), (Some(""), Some("\n"))]
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        let mut seed = 7u64;
        for _ in 0..200 {
            let mut bytes = Vec::new();
            for _ in 0..64 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let alphabet = b"\r\n:da ta\xff{}";
                bytes.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            let (_, echoed, _) = run(&bytes, &[5, 9, 30], 16);
            assert_eq!(echoed, bytes);
        }
    }
}
