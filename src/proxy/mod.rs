//! The data plane on :8080: a Pingora `ProxyHttp` whose hooks stay thin and call the pipeline.

mod budget;
mod error;
mod forward;
mod pipeline;
mod plan;
mod request;

pub use error::ProxyError;
pub use forward::Forwarder;

use crate::state::AppState;
use crate::usage::LogRecord;
use async_trait::async_trait;
use budget::{BodyBudget, BodyHold};
use pingora::proxy::{ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tracing::Instrument;

pub struct Gateway {
    state: Arc<AppState>,
    forwarder: Forwarder,
    bodies: Arc<BodyBudget>,
}

impl Gateway {
    pub fn new(state: Arc<AppState>) -> Self {
        let proxy = &state.config.proxy;
        let forwarder = Forwarder::new(
            std::time::Duration::from_secs(proxy.upstream_idle_timeout_secs),
            usize::try_from(proxy.max_usage_buffer_bytes).unwrap_or(usize::MAX),
            forward::DrainLimits {
                max_bytes: proxy.drain_max_bytes,
                timeout: std::time::Duration::from_secs(proxy.drain_timeout_secs),
            },
        );
        let bodies = BodyBudget::new(proxy.max_buffered_bytes);
        Self {
            state,
            forwarder,
            bodies,
        }
    }
}

/// Counts requests in flight so shutdown can wait for them.
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Per-request state: the ledger record being filled in.
pub struct RequestCtx {
    pub started: Instant,
    pub record: LogRecord,
    /// The request body's share of the buffered-bytes budget.
    body: BodyHold,
    /// The request's tracing span (closed when the context is dropped, after `logging`).
    pub span: tracing::Span,
    _in_flight: InFlight,
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            started: Instant::now(),
            record: LogRecord {
                request_id: uuid::Uuid::now_v7().to_string(),
                created_at: chrono::Utc::now(),
                ..Default::default()
            },
            body: self.bodies.hold(),
            span: tracing::Span::none(),
            _in_flight: InFlight::enter(&self.state.in_flight),
        }
    }

    /// Every request is answered here: the body is read whole (routing, limits and replay need
    /// it), then forwarded by `Forwarder`; Pingora's own upstream path is not used.
    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<bool> {
        let req = session.req_header();
        if let Some(id) = request::incoming_request_id(req) {
            ctx.record.request_id = id;
        }
        ctx.span = crate::metrics::request_span(
            &ctx.record.request_id,
            req.method.as_str(),
            req.uri.path(),
        );
        let span = ctx.span.clone();
        pipeline::handle(&self.state, &self.forwarder, session, ctx)
            .instrument(span)
            .await
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _ctx: &mut RequestCtx,
    ) -> pingora::Result<Box<HttpPeer>> {
        Err(pingora::Error::explain(
            pingora::ErrorType::InternalError,
            "every request is answered in request_filter",
        ))
    }

    async fn logging(
        &self,
        _session: &mut Session,
        _e: Option<&pingora::Error>,
        ctx: &mut RequestCtx,
    ) {
        ctx.record.latency_ms =
            i64::try_from(ctx.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.state.metrics.observe_request(&ctx.record, &ctx.span);
        self.state.ledger.record(std::mem::take(&mut ctx.record));
    }
}
