//! One attempt on one credential: send the fully-read request, classify the upstream's answer
//! with the provider's verdict, and either hand a refusal back for failover or stream the
//! answer to the client untouched, watching it for usage. When the client leaves mid-answer
//! the upstream is read on (bounded) so the provider's own usage is still captured.

use crate::health::now_ms;
use crate::providers::{
    self, Endpoint, ResponseSpec, ResponseTranslator, TextSink, UsageOutcome, UsageTracker,
    Verdict, VerdictClass, headers::ResponseHeader as Allowed,
};
use crate::snapshot::ProviderEntry;
use crate::upstream::{self, SendError, UpstreamClient};
use bytes::Bytes;
use pingora::ErrorType;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;
use std::time::{Duration, Instant};

/// What one upstream exchange needs.
pub struct Exchange<'a> {
    pub provider: &'a ProviderEntry,
    pub header: RequestHeader,
    pub body: Bytes,
    pub endpoint: Endpoint,
    /// We asked the upstream for usage the client did not ask for; hide it from the client.
    pub strip_injected_usage: bool,
    pub request_id: &'a str,
    /// Headers of our own for the client (its key's rate-limit figures).
    pub extra_headers: &'a [(&'static str, String)],
    /// The request was translated from the client's format: the answer (and an error) is
    /// translated back, event by event.
    pub translation: Option<&'a ResponseSpec>,
}

/// Watches the answer on its way to the client: the usage tracker (passthrough) or the
/// response translator (which runs a tracker on the back end's bytes inside).
enum Watch {
    Track(Box<UsageTracker>),
    Translate(Box<ResponseTranslator>),
}

impl Watch {
    /// The bytes for the client for one upstream chunk.
    fn feed(&mut self, chunk: Bytes) -> Bytes {
        match self {
            Watch::Track(t) => t.feed(&chunk).unwrap_or(chunk),
            Watch::Translate(t) => t.feed(&chunk),
        }
    }

    fn flush(&mut self) -> Bytes {
        match self {
            Watch::Track(t) => t.flush(),
            Watch::Translate(t) => t.finish(),
        }
    }

    fn outcome(&self) -> UsageOutcome {
        match self {
            Watch::Track(t) => t.outcome(),
            Watch::Translate(t) => t.outcome(),
        }
    }

    fn model(&self) -> Option<&str> {
        match self {
            Watch::Track(t) => t.model(),
            Watch::Translate(t) => t.model(),
        }
    }

    fn text(&self) -> &TextSink {
        match self {
            Watch::Track(t) => t.text(),
            Watch::Translate(t) => t.text(),
        }
    }

    fn body_bytes(&self) -> u64 {
        match self {
            Watch::Track(t) => t.body_bytes(),
            Watch::Translate(t) => t.body_bytes(),
        }
    }
}

/// How one attempt ended.
pub enum Attempt {
    /// An answer went to the client: a success, or the caller's own fault relayed as the
    /// provider gave it.
    Delivered(Box<Delivery>),
    /// The upstream refused in a way another credential may not; nothing reached the client.
    Refused {
        status: u16,
        verdict: Verdict,
        ttfb: Duration,
    },
    /// No answer; nothing reached the client.
    Failed(SendError),
}

/// What happened to an answer that went to the client, for the ledger and key health.
#[derive(Debug)]
pub struct Delivery {
    pub status: u16,
    /// `Success` or `CallerFault`.
    pub class: VerdictClass,
    /// The provider's error code, for a relayed error.
    pub code: Option<String>,
    pub ttfb: Duration,
    pub usage: UsageOutcome,
    /// The model the answer named.
    pub model: Option<String>,
    /// Generated text seen (for estimating a cut answer's tokens).
    pub text: TextSink,
    pub body_bytes: u64,
    /// The body did not reach the client whole (upstream cut, client gone).
    pub partial: bool,
    /// `client_closed`, `upstream_cut`, `upstream_stalled`, `drain_limit`.
    pub error_kind: Option<&'static str>,
}

/// Limits on reading an answer the client no longer waits for.
#[derive(Debug, Clone, Copy)]
pub struct DrainLimits {
    pub max_bytes: u64,
    pub timeout: Duration,
}

pub struct Forwarder {
    client: UpstreamClient,
    max_usage_buffer: usize,
    drain: DrainLimits,
}

impl Forwarder {
    pub fn new(idle_timeout: Duration, max_usage_buffer: usize, drain: DrainLimits) -> Self {
        Self {
            client: UpstreamClient::new(idle_timeout),
            max_usage_buffer,
            drain,
        }
    }

    /// Sends the request on one credential and, unless the answer is a refusal worth another
    /// credential, delivers it to the client.
    pub async fn attempt(&self, session: &mut Session, ex: Exchange<'_>) -> Attempt {
        let started = Instant::now();
        let peer = match self.client.peer(ex.provider).await {
            Ok(p) => p,
            Err(e) => return Attempt::Failed(e),
        };
        let sent = match self.client.send(&peer, &ex.header, &ex.body).await {
            Ok(s) => s,
            Err(e) => return Attempt::Failed(e),
        };
        let ttfb = started.elapsed();
        let reusable = sent.body_complete;
        let mut upstream = sent.session;
        let Some(resp) = upstream.response_header().cloned() else {
            return Attempt::Failed(SendError::BadResponse);
        };
        let status = resp.status.as_u16();
        let (verdict, prefix, body_done) = if status >= 400 {
            let (body, done) =
                upstream::read_bounded(&mut upstream, providers::MAX_ERROR_BODY).await;
            let v = providers::verdict(ex.provider.format, status, &resp.headers, &body, now_ms());
            (v, body, done)
        } else {
            (
                providers::verdict(ex.provider.format, status, &resp.headers, b"", 0),
                Bytes::new(),
                false,
            )
        };
        if verdict.class.try_another_credential() {
            if body_done && reusable && upstream.response_done() {
                self.client.release(upstream, &peer).await;
            }
            return Attempt::Refused {
                status,
                verdict,
                ttfb,
            };
        }
        let mut delivery = Delivery {
            status,
            class: verdict.class,
            code: verdict.code,
            ttfb,
            usage: UsageOutcome::default(),
            model: None,
            text: TextSink::default(),
            body_bytes: 0,
            partial: false,
            error_kind: None,
        };
        let upstream_clean = self
            .deliver(
                session,
                &ex,
                &mut upstream,
                &resp,
                (prefix, body_done),
                &mut delivery,
            )
            .await;
        if upstream_clean && reusable && upstream.response_done() {
            self.client.release(upstream, &peer).await;
        }
        Attempt::Delivered(Box::new(delivery))
    }

    /// Streams the answer to the client; returns whether the upstream body ended cleanly.
    async fn deliver(
        &self,
        session: &mut Session,
        ex: &Exchange<'_>,
        upstream: &mut pingora::protocols::http::client::HttpSession,
        resp: &ResponseHeader,
        (prefix, prefix_is_all): (Bytes, bool),
        out: &mut Delivery,
    ) -> bool {
        let sse = resp
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        let success = out.status < 300;
        if let Some(spec) = ex.translation.filter(|_| !success) {
            return self
                .relay_translated_error(session, ex, upstream, spec, prefix, prefix_is_all, out)
                .await;
        }
        let strip = ex.strip_injected_usage && sse && success;
        let endpoint = if success {
            ex.endpoint
        } else {
            Endpoint::Models
        };
        let mut tracker = match ex.translation {
            Some(spec) => Watch::Translate(Box::new(ResponseTranslator::new(
                spec.clone(),
                chrono::Utc::now().timestamp().max(0) as u64,
            ))),
            None => Watch::Track(Box::new(UsageTracker::new(
                ex.provider.format,
                endpoint,
                sse,
                strip,
                self.max_usage_buffer,
            ))),
        };
        let down = match ex.translation {
            Some(spec) => translated_header(resp, ex, spec.content_type(), None),
            None => client_header(resp, ex, strip, prefix_is_all.then_some(prefix.len())),
        };
        let down = match down {
            Ok(h) => h,
            Err(_) => {
                out.error_kind = Some("bad_response");
                return false;
            }
        };
        let chunked = down.headers.get(http::header::CONTENT_LENGTH).is_none();
        let mut client_gone = session
            .write_response_header(Box::new(down), false)
            .await
            .is_err();
        let mut drain_until = client_gone.then(|| tokio::time::Instant::now() + self.drain.timeout);
        let mut drained = 0u64;
        if !prefix.is_empty() {
            let piece = tracker.feed(prefix);
            if !client_gone
                && !piece.is_empty()
                && session
                    .write_response_body(Some(piece), false)
                    .await
                    .is_err()
            {
                client_gone = true;
                drain_until = Some(tokio::time::Instant::now() + self.drain.timeout);
            }
        }
        let mut upstream_clean = prefix_is_all;
        while !upstream_clean {
            let read = match drain_until {
                Some(deadline) => {
                    match tokio::time::timeout_at(deadline, upstream.read_response_body()).await {
                        Ok(r) => r,
                        Err(_) => {
                            out.error_kind = Some("drain_limit");
                            break;
                        }
                    }
                }
                None => upstream.read_response_body().await,
            };
            match read {
                Ok(Some(chunk)) => {
                    let len = chunk.len() as u64;
                    let piece = tracker.feed(chunk);
                    if client_gone {
                        drained += len;
                        if drained > self.drain.max_bytes {
                            out.error_kind = Some("drain_limit");
                            break;
                        }
                        continue;
                    }
                    if !piece.is_empty()
                        && session
                            .write_response_body(Some(piece), false)
                            .await
                            .is_err()
                    {
                        client_gone = true;
                        drain_until = Some(tokio::time::Instant::now() + self.drain.timeout);
                    }
                }
                Ok(None) => upstream_clean = true,
                Err(e) => {
                    tracing::debug!(request_id = ex.request_id, "upstream body ended early: {e}");
                    out.error_kind = Some(if matches!(e.etype(), ErrorType::ReadTimedout) {
                        "upstream_stalled"
                    } else {
                        "upstream_cut"
                    });
                    break;
                }
            }
        }
        let tail = tracker.flush();
        out.usage = tracker.outcome();
        out.model = tracker.model().map(str::to_string);
        out.text = tracker.text().clone();
        out.body_bytes = tracker.body_bytes();
        out.partial = !upstream_clean || (success && !out.usage.complete);
        if client_gone {
            out.partial = true;
            // The client's leaving is the story; an upstream cut during the drain only means
            // the usage had to be estimated.
            out.error_kind = Some("client_closed");
            return upstream_clean;
        }
        if !upstream_clean && (!chunked || ex.translation.is_some()) {
            // A fixed-length body cannot be finished: close the connection so the client sees
            // the truncation instead of waiting.
            session.set_keepalive(None);
            let _ = session.write_response_body(Some(tail), false).await;
            return false;
        }
        if session.write_response_body(Some(tail), true).await.is_err() {
            out.partial = true;
            out.error_kind.get_or_insert("client_closed");
        }
        upstream_clean
    }
}

impl Forwarder {
    /// A back-end error relayed to a client of another format: read whole (bounded), put in
    /// the client's error shape, sent with its length.
    #[allow(clippy::too_many_arguments)]
    async fn relay_translated_error(
        &self,
        session: &mut Session,
        ex: &Exchange<'_>,
        upstream: &mut pingora::protocols::http::client::HttpSession,
        spec: &ResponseSpec,
        prefix: Bytes,
        prefix_is_all: bool,
        out: &mut Delivery,
    ) -> bool {
        let mut body = prefix.to_vec();
        let mut upstream_clean = prefix_is_all;
        while !upstream_clean && body.len() < providers::MAX_ERROR_BODY {
            match upstream.read_response_body().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => upstream_clean = true,
                Err(_) => break,
            }
        }
        out.body_bytes = body.len() as u64;
        let (status, rendered) =
            providers::translate_error(spec.back, spec.front, out.status, &body);
        let down = match ResponseHeader::build(status, Some(4)).and_then(|mut h| {
            h.insert_header(http::header::CONTENT_TYPE, "application/json")?;
            h.insert_header(http::header::CONTENT_LENGTH, rendered.len().to_string())?;
            h.insert_header("x-request-id", ex.request_id)?;
            for (name, value) in ex.extra_headers {
                h.insert_header(*name, value.as_str())?;
            }
            Ok(h)
        }) {
            Ok(h) => h,
            Err(_) => {
                out.error_kind = Some("bad_response");
                return false;
            }
        };
        if session
            .write_response_header(Box::new(down), false)
            .await
            .is_err()
            || session
                .write_response_body(Some(rendered), true)
                .await
                .is_err()
        {
            out.partial = true;
            out.error_kind = Some("client_closed");
        }
        upstream_clean
    }
}

/// The client's header for a translated answer: the provider's status, our content type,
/// chunked; of the provider's headers only its request id (as `x-upstream-request-id`).
fn translated_header(
    resp: &ResponseHeader,
    ex: &Exchange<'_>,
    content_type: &str,
    _known_length: Option<usize>,
) -> Result<ResponseHeader, Box<pingora::Error>> {
    let mut down = ResponseHeader::build(resp.status, Some(6))?;
    if let Some(id) = resp
        .headers
        .get("x-request-id")
        .or_else(|| resp.headers.get("request-id"))
    {
        down.append_header("x-upstream-request-id", id.clone())?;
    }
    down.insert_header(http::header::CONTENT_TYPE, content_type)?;
    if content_type == "text/event-stream" {
        down.insert_header(http::header::CACHE_CONTROL, "no-cache")?;
    }
    down.insert_header(http::header::TRANSFER_ENCODING, "chunked")?;
    down.insert_header("x-request-id", ex.request_id)?;
    for (name, value) in ex.extra_headers {
        down.insert_header(*name, value.as_str())?;
    }
    Ok(down)
}

/// The client's response header: the provider's status and only the allowlisted headers,
/// our request id, and the client key's own rate-limit figures.
fn client_header(
    resp: &ResponseHeader,
    ex: &Exchange<'_>,
    strip: bool,
    known_length: Option<usize>,
) -> Result<ResponseHeader, Box<pingora::Error>> {
    let mut down = ResponseHeader::build(resp.status, Some(resp.headers.len() + 4))?;
    for (name, value) in resp.headers.iter() {
        let n = name.as_str();
        match providers::headers::response_header(n) {
            Allowed::Keep => {
                let length = n == "content-length";
                if !(length && (strip || known_length.is_some())) {
                    down.append_header(name.clone(), value.clone())?;
                }
            }
            Allowed::UpstreamRequestId => {
                down.append_header("x-upstream-request-id", value.clone())?;
            }
            Allowed::Drop => {}
        }
    }
    match known_length {
        Some(n) => down.insert_header(http::header::CONTENT_LENGTH, n.to_string())?,
        None if down.headers.get(http::header::CONTENT_LENGTH).is_none() => {
            down.insert_header(http::header::TRANSFER_ENCODING, "chunked")?
        }
        None => {}
    }
    down.insert_header("x-request-id", ex.request_id)?;
    for (name, value) in ex.extra_headers {
        down.insert_header(*name, value.as_str())?;
    }
    Ok(down)
}
