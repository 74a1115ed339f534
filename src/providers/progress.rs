//! What watching one response has learned so far, shared by the usage tracker and the
//! per-format event handlers.

use super::Usage;
use super::text::TextSink;
use std::ops::Range;

/// Most generated text kept per response for estimating a cut stream's tokens; beyond it the
/// bytes are only counted.
pub const MAX_TEXT_KEPT: usize = 64 * 1024;

/// What has been learned from a response so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Progress {
    pub usage: Option<Usage>,
    /// The terminal event was seen.
    pub complete: bool,
    /// The provider reported an error mid-stream.
    pub failed: bool,
    /// The model the answer says served it.
    pub model: Option<String>,
    /// Generated text seen (streams only).
    pub text: TextSink,
    /// Body bytes seen.
    pub body_bytes: u64,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            usage: None,
            complete: false,
            failed: false,
            model: None,
            text: TextSink::new(MAX_TEXT_KEPT),
            body_bytes: 0,
        }
    }
}

/// What to do with one SSE event in strip mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Action {
    Keep,
    /// Drop the whole event.
    Drop,
    /// Remove this byte range of the event's data.
    Cut(Range<usize>),
}
