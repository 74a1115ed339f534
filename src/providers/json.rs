//! Cheap JSON helpers for the providers module: lenient scalar decoding, a non-allocating
//! walker over the members of one JSON object, and a streaming scanner that captures chosen
//! members of top-level objects from a body that arrives in chunks.

use std::ops::Range;

use memchr::memchr2;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

// ---------------------------------------------------------------------------------------------
// Lenient scalars
// ---------------------------------------------------------------------------------------------

/// Any JSON value, reduced to what the gateway cares about. Never fails on a well-formed value.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Scalar {
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    #[default]
    Other,
}

impl Scalar {
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::U64(n) => Some(*n),
            Scalar::I64(n) => u64::try_from(*n).ok(),
            Scalar::F64(f) if f.is_finite() && *f >= 0.0 => Some(*f as u64),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// A token count that tolerates `null`, floats, numeric strings and wrong types (→ `None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LenientU64(pub Option<u64>);

impl<'de> Deserialize<'de> for LenientU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LenientU64(Scalar::deserialize(d)?.as_u64()))
    }
}

// ---------------------------------------------------------------------------------------------
// Members of one complete JSON object
// ---------------------------------------------------------------------------------------------

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_ws(s[i]) {
        i += 1;
    }
    i
}

/// `s[i]` is an opening quote; returns the index just past the closing quote.
fn skip_string(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let off = memchr2(b'"', b'\\', s.get(j..)?)?;
        j += off;
        if s[j] == b'\\' {
            j += 2;
        } else {
            return Some(j + 1);
        }
    }
}

/// `s[i]` starts a value; returns the index just past it.
fn skip_value(s: &[u8], i: usize) -> Option<usize> {
    match *s.get(i)? {
        b'"' => skip_string(s, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < s.len() {
                match s[j] {
                    b'"' => {
                        j = skip_string(s, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        b',' | b'}' | b']' | b':' => None,
        _ => {
            let mut j = i;
            while j < s.len() && !matches!(s[j], b',' | b'}' | b']') && !is_ws(s[j]) {
                j += 1;
            }
            Some(j)
        }
    }
}

/// One member of a JSON object, as byte ranges into the object's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    /// The key's raw bytes, without the quotes (escapes are not decoded).
    pub key: Range<usize>,
    /// The value's raw bytes.
    pub value: Range<usize>,
    /// Position of the comma before this member, if any.
    pub sep_before: Option<usize>,
    /// Position of the comma after this member, if any.
    pub sep_after: Option<usize>,
}

impl Member {
    /// The range to delete so that the object stays valid JSON without this member.
    pub(crate) fn removal(&self) -> Range<usize> {
        let start = self.key.start.saturating_sub(1);
        match (self.sep_before, self.sep_after) {
            (Some(c), _) => c..self.value.end,
            (None, Some(c)) => start..c + 1,
            (None, None) => start..self.value.end,
        }
    }
}

/// Iterates over the members of the JSON object in `s` without allocating. Stops at the first
/// malformed byte; [`Members::ok`] tells whether the closing brace was reached.
pub(crate) struct Members<'a> {
    s: &'a [u8],
    pos: usize,
    started: bool,
    done: bool,
    ok: bool,
    prev_comma: Option<usize>,
}

pub(crate) fn members(s: &[u8]) -> Members<'_> {
    Members {
        s,
        pos: 0,
        started: false,
        done: false,
        ok: false,
        prev_comma: None,
    }
}

impl Members<'_> {
    pub(crate) fn ok(&self) -> bool {
        self.ok
    }

    fn fail(&mut self) -> Option<Member> {
        self.done = true;
        None
    }
}

impl Iterator for Members<'_> {
    type Item = Member;

    fn next(&mut self) -> Option<Member> {
        if self.done {
            return None;
        }
        let s = self.s;
        if !self.started {
            self.started = true;
            self.pos = skip_ws(s, 0);
            if s.get(self.pos) != Some(&b'{') {
                return self.fail();
            }
            self.pos = skip_ws(s, self.pos + 1);
            if s.get(self.pos) == Some(&b'}') {
                self.ok = true;
                return self.fail();
            }
        }
        let mut i = skip_ws(s, self.pos);
        if s.get(i) != Some(&b'"') {
            return self.fail();
        }
        let Some(key_end) = skip_string(s, i) else {
            return self.fail();
        };
        let key = i + 1..key_end - 1;
        i = skip_ws(s, key_end);
        if s.get(i) != Some(&b':') {
            return self.fail();
        }
        i = skip_ws(s, i + 1);
        let Some(value_end) = skip_value(s, i) else {
            return self.fail();
        };
        let value = i..value_end;
        i = skip_ws(s, value_end);
        let sep_before = self.prev_comma;
        let sep_after = match s.get(i) {
            Some(b',') => {
                self.prev_comma = Some(i);
                self.pos = i + 1;
                Some(i)
            }
            Some(b'}') => {
                self.ok = true;
                self.done = true;
                None
            }
            _ => {
                self.done = true;
                None
            }
        };
        Some(Member {
            key,
            value,
            sep_before,
            sep_after,
        })
    }
}

/// The raw elements of the JSON array in `s`, without allocating; stops at the first malformed
/// byte.
pub(crate) fn elements(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut i = skip_ws(s, 0);
    let mut ok = s.get(i) == Some(&b'[');
    i += 1;
    std::iter::from_fn(move || {
        if !ok {
            return None;
        }
        i = skip_ws(s, i);
        if s.get(i) == Some(&b']') {
            ok = false;
            return None;
        }
        let end = skip_value(s, i)?;
        let value = &s[i..end];
        i = skip_ws(s, end);
        match s.get(i) {
            Some(b',') => i += 1,
            _ => ok = false,
        }
        Some(value)
    })
}

/// The value of the last member named `key` in the object `obj` (JSON parsers keep the last
/// duplicate). `None` if absent or `obj` is not an object.
pub(crate) fn member<'a>(obj: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    members(obj)
        .filter(|m| &obj[m.key.clone()] == key)
        .last()
        .map(|m| &obj[m.value])
}

/// The value of the first member named `key` (for discriminators such as `"type"`, which lead).
pub(crate) fn first_member<'a>(obj: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    members(obj)
        .find(|m| &obj[m.key.clone()] == key)
        .map(|m| &obj[m.value])
}

/// The raw contents of a JSON string value without its quotes (no unescaping).
pub(crate) fn string_contents(v: &[u8]) -> Option<&[u8]> {
    v.strip_prefix(b"\"")?.strip_suffix(b"\"")
}

/// Whether `v` is (starts like) a JSON object; serde would also accept an array for a struct.
pub(crate) fn is_object(v: &[u8]) -> bool {
    trim(v).first() == Some(&b'{')
}

pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !is_ws(*b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ws(*b)).map_or(start, |e| e + 1);
    &s[start..end]
}

// ---------------------------------------------------------------------------------------------
// Streaming scanner
// ---------------------------------------------------------------------------------------------

/// What the top-level value of the scanned body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Root {
    Unknown,
    Object,
    Array,
    Invalid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MemberState {
    /// Not at the member level of an element.
    Idle,
    ExpectKey,
    InKey,
    AfterKey,
    BeforeValue,
    InValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    Container,
    Scalar,
}

const MAX_KEY: usize = 64;

/// Scans a JSON body arriving in chunks. "Elements" are the top-level object, or each object
/// directly inside a top-level array (Gemini's non-SSE stream). The value of every member of an
/// element whose key is in `keys` is captured (up to `max_value` bytes) and handed to the
/// callback as soon as the value ends. Everything else is skipped without being stored.
pub(crate) struct JsonStream {
    keys: &'static [&'static [u8]],
    max_value: usize,
    depth: u32,
    in_string: bool,
    escape: bool,
    root: Root,
    root_closed: bool,
    state: MemberState,
    key: Vec<u8>,
    key_too_long: bool,
    /// Index into `keys` of the member whose value comes next, if wanted.
    pending: Option<usize>,
    capturing: Option<(usize, Kind)>,
    capture_from: usize,
    cap: Vec<u8>,
    cap_overflow: bool,
}

impl JsonStream {
    pub(crate) fn new(keys: &'static [&'static [u8]], max_value: usize) -> Self {
        JsonStream {
            keys,
            max_value,
            depth: 0,
            in_string: false,
            escape: false,
            root: Root::Unknown,
            root_closed: false,
            state: MemberState::Idle,
            key: Vec::new(),
            key_too_long: false,
            pending: None,
            capturing: None,
            capture_from: 0,
            cap: Vec::new(),
            cap_overflow: false,
        }
    }

    pub(crate) fn root(&self) -> Root {
        self.root
    }

    /// The top-level value was closed (the body is structurally complete).
    pub(crate) fn root_closed(&self) -> bool {
        self.root_closed
    }

    fn level(&self) -> u32 {
        match self.root {
            Root::Object => 1,
            Root::Array => 2,
            _ => u32::MAX,
        }
    }

    fn start_value(&mut self, at: usize, kind: Kind) {
        self.state = MemberState::InValue;
        if let Some(k) = self.pending.take() {
            self.capturing = Some((k, kind));
            self.capture_from = at;
            self.cap.clear();
            self.cap_overflow = false;
        }
    }

    fn append_capture(&mut self, bytes: &[u8]) {
        if self.cap_overflow {
            return;
        }
        if self.cap.len() + bytes.len() > self.max_value {
            self.cap_overflow = true;
            self.cap = Vec::new();
        } else {
            self.cap.extend_from_slice(bytes);
        }
    }

    fn end_capture<F: FnMut(usize, &[u8])>(&mut self, chunk: &[u8], end: usize, on_member: &mut F) {
        if let Some((k, _)) = self.capturing.take() {
            let from = self.capture_from.min(end);
            self.append_capture(&chunk[from..end]);
            if !self.cap_overflow {
                on_member(k, &self.cap);
            }
        }
        self.state = MemberState::InValue;
    }

    /// Feeds one chunk. `on_member(i, value)` is called for each wanted member whose value
    /// ended in this chunk, `i` being the key's index in `keys`.
    pub(crate) fn feed<F: FnMut(usize, &[u8])>(&mut self, chunk: &[u8], mut on_member: F) {
        if self.root_closed || self.root == Root::Invalid {
            return;
        }
        let n = chunk.len();
        let mut i = 0;
        while i < n {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                    if self.state == MemberState::InKey {
                        self.push_key(&chunk[i..i + 1]);
                    }
                    i += 1;
                    continue;
                }
                let Some(off) = memchr2(b'"', b'\\', &chunk[i..]) else {
                    if self.state == MemberState::InKey {
                        self.push_key(&chunk[i..]);
                    }
                    break;
                };
                if self.state == MemberState::InKey {
                    self.push_key(&chunk[i..i + off]);
                }
                i += off;
                if chunk[i] == b'\\' {
                    self.escape = true;
                    if self.state == MemberState::InKey {
                        self.push_key(b"\\");
                    }
                    i += 1;
                    continue;
                }
                self.in_string = false;
                if self.state == MemberState::InKey {
                    self.state = MemberState::AfterKey;
                } else if self.depth == self.level()
                    && matches!(self.capturing, Some((_, Kind::Str)))
                {
                    self.end_capture(chunk, i + 1, &mut on_member);
                }
                i += 1;
                continue;
            }
            let b = chunk[i];
            let level = self.level();
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b'"' => {
                    if self.depth == 0 {
                        self.root = Root::Invalid;
                        return;
                    }
                    self.in_string = true;
                    if self.depth == level {
                        match self.state {
                            MemberState::ExpectKey => {
                                self.state = MemberState::InKey;
                                self.key.clear();
                                self.key_too_long = false;
                            }
                            MemberState::BeforeValue => self.start_value(i, Kind::Str),
                            _ => {}
                        }
                    }
                }
                b'{' | b'[' => {
                    if self.depth == 0 {
                        if self.root != Root::Unknown {
                            return;
                        }
                        self.root = if b == b'{' { Root::Object } else { Root::Array };
                    } else if self.depth == level && self.state == MemberState::BeforeValue {
                        self.start_value(i, Kind::Container);
                    }
                    self.depth += 1;
                    if self.depth == self.level() {
                        self.state = if b == b'{' {
                            MemberState::ExpectKey
                        } else {
                            MemberState::Idle
                        };
                        self.pending = None;
                        self.capturing = None;
                    }
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        self.root = Root::Invalid;
                        return;
                    }
                    if self.depth == level && matches!(self.capturing, Some((_, Kind::Scalar))) {
                        self.end_capture(chunk, i, &mut on_member);
                    }
                    self.depth -= 1;
                    if self.depth == level && matches!(self.capturing, Some((_, Kind::Container))) {
                        self.end_capture(chunk, i + 1, &mut on_member);
                    }
                    if self.depth + 1 == level {
                        self.state = MemberState::Idle;
                        self.pending = None;
                        self.capturing = None;
                    }
                    if self.depth == 0 {
                        self.root_closed = true;
                        return;
                    }
                }
                b',' => {
                    if self.depth == level {
                        if matches!(self.capturing, Some((_, Kind::Scalar))) {
                            self.end_capture(chunk, i, &mut on_member);
                        }
                        self.pending = None;
                        self.state = MemberState::ExpectKey;
                    }
                }
                b':' => {
                    if self.depth == level && self.state == MemberState::AfterKey {
                        self.state = MemberState::BeforeValue;
                        self.pending = if self.key_too_long {
                            None
                        } else {
                            self.keys.iter().position(|k| *k == self.key.as_slice())
                        };
                    }
                }
                _ => {
                    if self.depth == 0 {
                        self.root = Root::Invalid;
                        return;
                    }
                    if self.depth == level && self.state == MemberState::BeforeValue {
                        self.start_value(i, Kind::Scalar);
                    }
                }
            }
            i += 1;
        }
        if self.capturing.is_some() {
            let from = self.capture_from.min(n);
            self.append_capture(&chunk[from..]);
            self.capture_from = 0;
        }
    }

    fn push_key(&mut self, bytes: &[u8]) {
        if self.key.len() + bytes.len() > MAX_KEY {
            self.key_too_long = true;
        } else {
            self.key.extend_from_slice(bytes);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn keys_of(s: &[u8]) -> Vec<String> {
        members(s)
            .map(|m| String::from_utf8(s[m.key].to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn lenient_u64_accepts_numbers_and_rejects_the_rest() {
        let p = |s: &str| serde_json::from_str::<LenientU64>(s).unwrap().0;
        assert_eq!(p("12"), Some(12));
        assert_eq!(p("12.9"), Some(12));
        assert_eq!(p("\"7\""), Some(7));
        assert_eq!(p("-3"), None);
        assert_eq!(p("null"), None);
        assert_eq!(p("true"), None);
        assert_eq!(p("{\"a\":[1,2]}"), None);
        assert_eq!(p("[1]"), None);
        assert_eq!(p("\"x\""), None);
    }

    #[test]
    fn members_walks_keys_values_and_separators() {
        let s = br#" { "a" : 1 , "b":{"x":"}\"{"}, "c":[1,[2]],"d":"s\\","e":null } "#;
        assert_eq!(keys_of(s), ["a", "b", "c", "d", "e"]);
        let mut it = members(s);
        let v: Vec<Member> = it.by_ref().collect();
        assert!(it.ok());
        assert_eq!(&s[v[0].value.clone()], b"1");
        assert_eq!(&s[v[1].value.clone()], br#"{"x":"}\"{"}"#);
        assert_eq!(&s[v[2].value.clone()], b"[1,[2]]");
        assert_eq!(&s[v[3].value.clone()], br#""s\\""#);
        assert_eq!(&s[v[4].value.clone()], b"null");
        assert_eq!(v[0].sep_before, None);
        assert_eq!(v[1].sep_before, v[0].sep_after);
        assert_eq!(v[4].sep_after, None);
    }

    #[test]
    fn members_handles_empty_and_malformed() {
        let mut it = members(b"{}");
        assert_eq!(it.next(), None);
        assert!(it.ok());
        for bad in [
            &b""[..],
            b"[1]",
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\":1",
            b"{\"a\" 1}",
            b"{a:1}",
            b"{\"a\":\"unterminated}",
            b"{\"a\":{\"b\":1}",
            b"null",
        ] {
            let mut it = members(bad);
            let _ = it.by_ref().count();
            assert!(!it.ok(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn member_removal_keeps_valid_json() {
        for (input, want) in [
            (r#"{"a":1,"usage":null,"b":2}"#, r#"{"a":1,"b":2}"#),
            (r#"{"usage":null,"b":2}"#, r#"{"b":2}"#),
            (r#"{"a":1,"usage":null}"#, r#"{"a":1}"#),
            (r#"{"usage":null}"#, r#"{}"#),
            (r#"{ "a":1 , "usage" : null }"#, r#"{ "a":1  }"#),
        ] {
            let s = input.as_bytes();
            let m = members(s).find(|m| &s[m.key.clone()] == b"usage").unwrap();
            let r = m.removal();
            let mut out = s[..r.start].to_vec();
            out.extend_from_slice(&s[r.end..]);
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }

    #[test]
    fn member_takes_last_duplicate_and_first_member_the_first() {
        let s = br#"{"type":"a","x":1,"type":"b"}"#;
        assert_eq!(member(s, b"type"), Some(&br#""b""#[..]));
        assert_eq!(first_member(s, b"type"), Some(&br#""a""#[..]));
        assert_eq!(member(s, b"nope"), None);
        assert_eq!(string_contents(br#""abc""#), Some(&b"abc"[..]));
        assert_eq!(string_contents(b"abc"), None);
        assert_eq!(trim(b" \r\n x y\t"), b"x y");
        assert_eq!(trim(b"   "), b"");
    }

    type Captured = Vec<(usize, Vec<u8>)>;

    fn scan_all(body: &[u8], splits: &[usize]) -> (Captured, Root, bool) {
        static KEYS: &[&[u8]] = &[b"usage", b"tag"];
        let mut js = JsonStream::new(KEYS, 1 << 20);
        let mut out = Vec::new();
        let mut start = 0;
        for &s in splits.iter().chain(std::iter::once(&body.len())) {
            js.feed(&body[start..s], |k, v| out.push((k, v.to_vec())));
            start = s;
        }
        (out, js.root(), js.root_closed())
    }

    #[test]
    fn json_stream_captures_top_level_members_in_any_chunking() {
        let body = br#" {"data":[{"usage":{"no":1}}],"x\"usage":"usage","usage" : {"prompt_tokens":3,"s":"}]"} ,"tag":"t\"g","z":12}"#;
        let want = vec![
            (0, br#"{"prompt_tokens":3,"s":"}]"}"#.to_vec()),
            (1, br#""t\"g""#.to_vec()),
        ];
        for a in 0..=body.len() {
            for b in a..=body.len() {
                let (got, root, closed) = scan_all(body, &[a, b]);
                assert_eq!(root, Root::Object);
                assert!(closed);
                assert_eq!(got, want, "split {a} {b}");
            }
        }
    }

    #[test]
    fn json_stream_scalar_values_and_array_elements() {
        let body =
            br#"[{"usage":12,"tag":null},{"other":[{"usage":1}]},[{"usage":5}],{"tag":true}]"#;
        for a in 0..=body.len() {
            let (got, root, closed) = scan_all(body, &[a]);
            assert_eq!(root, Root::Array);
            assert!(closed);
            assert_eq!(
                got,
                vec![
                    (0, b"12".to_vec()),
                    (1, b"null".to_vec()),
                    (1, b"true".to_vec()),
                ]
            );
        }
    }

    #[test]
    fn json_stream_truncated_and_garbage() {
        let (got, root, closed) = scan_all(br#"[{"usage":1},{"usage":{"a":2}"#, &[]);
        assert_eq!(root, Root::Array);
        assert!(!closed);
        assert_eq!(got, vec![(0, b"1".to_vec()), (0, br#"{"a":2}"#.to_vec())]);
        let (got, _, _) = scan_all(br#"{"usage":{"a":2"#, &[]);
        assert!(got.is_empty());
        for junk in [&b"<html>oops</html>"[..], b"\"str\"", b"]]]]", b"}", b"123"] {
            let (got, root, closed) = scan_all(junk, &[1]);
            assert!(got.is_empty());
            assert_eq!(root, Root::Invalid);
            assert!(!closed);
        }
        let (got, _, closed) = scan_all(b"", &[]);
        assert!(got.is_empty() && !closed);
    }

    #[test]
    fn json_stream_drops_values_over_the_limit() {
        static KEYS: &[&[u8]] = &[b"usage"];
        let mut got = Vec::new();
        let mut js = JsonStream::new(KEYS, 8);
        js.feed(br#"{"usage":{"a":123456789}}"#, |_, v| got.push(v.to_vec()));
        assert!(got.is_empty());
        let mut js = JsonStream::new(KEYS, 8);
        js.feed(br#"{"usage":{"a":1}}"#, |_, v| got.push(v.to_vec()));
        assert_eq!(got, vec![br#"{"a":1}"#.to_vec()]);
    }

    #[test]
    fn json_stream_ignores_long_keys() {
        static KEYS: &[&[u8]] = &[b"usage"];
        let long = format!(r#"{{"{}usage":1,"usage":2}}"#, "k".repeat(100));
        let mut js = JsonStream::new(KEYS, 64);
        let mut got = Vec::new();
        js.feed(long.as_bytes(), |_, v| got.push(v.to_vec()));
        assert_eq!(got, [b"2".to_vec()]);
    }
}
