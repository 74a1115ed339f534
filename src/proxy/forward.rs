//! Sends a fully-read request to the chosen upstream and streams the answer back to the caller
//! untouched, watching it for usage on the way.

use super::error::ProxyError;
use crate::providers::{ApiFormat, Endpoint, UsageOutcome, UsageTracker};
use crate::snapshot::ProviderEntry;
use crate::upstream::{self, UpstreamClient};
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
    pub format: ApiFormat,
    pub endpoint: Endpoint,
    /// We asked the upstream for usage the client did not ask for; hide it from the client.
    pub strip_injected_usage: bool,
    /// No other key will be tried after this one: a 429/5xx answer is passed to the client
    /// instead of being turned into a retry.
    pub final_attempt: bool,
    pub request_id: &'a str,
}

/// What happened, for the ledger and key health.
#[derive(Debug, Default)]
pub struct Outcome {
    pub status: Option<u16>,
    pub ttfb: Option<Duration>,
    pub usage: UsageOutcome,
    /// The body did not reach the client whole (upstream cut, client gone).
    pub partial: bool,
    pub error_kind: Option<&'static str>,
    /// `Retry-After` of a 429 passed through to the client.
    pub retry_after: Option<Duration>,
}

pub struct Forwarder {
    client: UpstreamClient,
    max_usage_buffer: usize,
}

/// Response headers that belong to one hop or describe the gateway's provider account.
fn drop_response_header(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "upgrade"
            | "set-cookie"
            | "openai-organization"
            | "openai-project"
            | "anthropic-organization-id"
    )
}

impl Forwarder {
    pub fn new(idle_timeout: Duration, max_usage_buffer: usize) -> Self {
        Self {
            client: UpstreamClient::new(idle_timeout),
            max_usage_buffer,
        }
    }

    /// Forwards and streams back. `Err` means nothing was written to the client yet, so the
    /// caller may try another key or answer with an error in the client's format; once headers
    /// went out every failure is reported in the outcome instead.
    pub async fn forward(
        &self,
        session: &mut Session,
        ex: Exchange<'_>,
        outcome: &mut Outcome,
    ) -> Result<(), ProxyError> {
        let started = Instant::now();
        let peer = self
            .client
            .peer(ex.provider)
            .await
            .map_err(ProxyError::from)?;
        let mut upstream = self
            .client
            .send(&peer, &ex.header, &ex.body)
            .await
            .map_err(ProxyError::from)?;
        outcome.ttfb = Some(started.elapsed());
        let Some(resp) = upstream.response_header().cloned() else {
            return Err(ProxyError::Send(upstream::SendError::BadResponse));
        };
        let status = resp.status.as_u16();
        outcome.status = Some(status);
        if status == 401 || status == 403 {
            // The provider refused our credential; its message may quote part of the key.
            return Err(ProxyError::UpstreamAuth { status });
        }
        if (status == 429 || status >= 500) && !ex.final_attempt {
            return Err(ProxyError::UpstreamStatus {
                status,
                retry_after: upstream::retry_after(&resp.headers),
            });
        }

        outcome.retry_after = upstream::retry_after(&resp.headers);
        let sse = resp
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        let strip = ex.strip_injected_usage && sse && status < 300;
        let mut tracker =
            UsageTracker::new(ex.format, ex.endpoint, sse, strip, self.max_usage_buffer);
        let mut down = ResponseHeader::build(resp.status, Some(resp.headers.len() + 1))
            .map_err(|_| ProxyError::Internal)?;
        for (name, value) in resp.headers.iter() {
            let n = name.as_str();
            if drop_response_header(n) || (strip && n == "content-length") {
                continue;
            }
            if n == "x-request-id" {
                // Ours goes to the client; the provider's stays available for support tickets.
                down.append_header("x-upstream-request-id", value.clone())
                    .map_err(|_| ProxyError::Internal)?;
                continue;
            }
            down.append_header(name.clone(), value.clone())
                .map_err(|_| ProxyError::Internal)?;
        }
        let chunked = down.headers.get(http::header::CONTENT_LENGTH).is_none();
        if strip && down.headers.get(http::header::TRANSFER_ENCODING).is_none() {
            down.insert_header(http::header::TRANSFER_ENCODING, "chunked")
                .map_err(|_| ProxyError::Internal)?;
        }
        down.insert_header("x-request-id", ex.request_id)
            .map_err(|_| ProxyError::Internal)?;

        if session
            .write_response_header(Box::new(down), false)
            .await
            .is_err()
        {
            outcome.partial = true;
            outcome.error_kind = Some("client_closed");
            return Ok(());
        }

        let mut upstream_clean = false;
        loop {
            match upstream.read_response_body().await {
                Ok(Some(chunk)) => {
                    let out = tracker.feed(&chunk).unwrap_or(chunk);
                    if !out.is_empty()
                        && session.write_response_body(Some(out), false).await.is_err()
                    {
                        outcome.partial = true;
                        outcome.error_kind = Some("client_closed");
                        outcome.usage = tracker.outcome();
                        return Ok(());
                    }
                }
                Ok(None) => {
                    upstream_clean = true;
                    break;
                }
                Err(e) => {
                    tracing::debug!(request_id = ex.request_id, "upstream body ended early: {e}");
                    outcome.error_kind = Some(if matches!(e.etype(), ErrorType::ReadTimedout) {
                        "upstream_stalled"
                    } else {
                        "upstream_cut"
                    });
                    break;
                }
            }
        }
        let tail = tracker.flush();
        outcome.usage = tracker.outcome();
        outcome.partial = !upstream_clean || !outcome.usage.complete;
        if !upstream_clean && !chunked {
            // A fixed-length body cannot be finished: close the connection so the client sees
            // the truncation instead of waiting.
            session.set_keepalive(None);
            let _ = session.write_response_body(Some(tail), false).await;
            return Ok(());
        }
        if session.write_response_body(Some(tail), true).await.is_err() {
            outcome.partial = true;
            outcome.error_kind.get_or_insert("client_closed");
        }
        if upstream_clean && upstream.response_done() {
            self.client.release(upstream, &peer).await;
        }
        Ok(())
    }
}
