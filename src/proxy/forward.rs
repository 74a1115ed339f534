//! Sends a fully-read request to the chosen upstream through Pingora's pooled connector and
//! streams the answer back to the caller untouched, watching it for usage on the way.

use super::dns::Resolver;
use super::error::ProxyError;
use crate::providers::{ApiFormat, Endpoint, UsageOutcome, UsageTracker};
use crate::snapshot::ProviderEntry;
use bytes::Bytes;
use pingora::connectors::http::Connector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};
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
    pub request_id: &'a str,
}

/// What happened, for the ledger.
#[derive(Debug, Default)]
pub struct Outcome {
    pub status: Option<u16>,
    pub ttfb: Option<Duration>,
    pub usage: UsageOutcome,
    /// The body did not reach the client whole (upstream cut, client gone, unparsed usage).
    pub partial: bool,
    pub error_kind: Option<&'static str>,
}

pub struct Forwarder {
    connector: Connector,
    dns: Resolver,
    idle_timeout: Duration,
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
            connector: Connector::new(None),
            dns: Resolver::default(),
            idle_timeout,
            max_usage_buffer,
        }
    }

    async fn peer(&self, provider: &ProviderEntry) -> Result<HttpPeer, ProxyError> {
        let up = &provider.upstream;
        let addr = self
            .dns
            .resolve(&up.host, up.port)
            .await
            .ok_or(ProxyError::Upstream { kind: "dns_error" })?;
        let sni = if up.tls {
            up.host.clone()
        } else {
            String::new()
        };
        let mut peer = HttpPeer::new(addr, up.tls, sni);
        peer.options.connection_timeout = Some(provider.connect_timeout);
        peer.options.total_connection_timeout = Some(provider.connect_timeout * 2);
        peer.options.read_timeout = Some(provider.first_byte_timeout);
        peer.options.write_timeout = Some(Duration::from_secs(30));
        peer.options.idle_timeout = Some(self.idle_timeout);
        Ok(peer)
    }

    /// Forwards and streams back. `Err` means nothing was written to the client yet, so the
    /// caller answers with an error in the client's format; once headers went out every failure
    /// is reported in the outcome instead.
    pub async fn forward(
        &self,
        session: &mut Session,
        ex: Exchange<'_>,
        outcome: &mut Outcome,
    ) -> Result<(), ProxyError> {
        let peer = self.peer(ex.provider).await?;
        let started = Instant::now();
        let mut upstream = self.send(&peer, &ex).await?;
        outcome.ttfb = Some(started.elapsed());
        let Some(resp) = upstream.response_header().cloned() else {
            return Err(ProxyError::Upstream {
                kind: "no_response_header",
            });
        };
        let status = resp.status.as_u16();
        outcome.status = Some(status);
        if status == 401 || status == 403 {
            // The provider refused our credential: its message may quote part of the key.
            return Err(ProxyError::UpstreamAuth);
        }

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
            self.connector
                .release_http_session(upstream, &peer, Some(self.idle_timeout))
                .await;
        }
        Ok(())
    }

    /// Writes the request and reads the response header, retrying on a fresh connection when a
    /// pooled one turns out to be stale (the upstream closed it before answering anything).
    async fn send(
        &self,
        peer: &HttpPeer,
        ex: &Exchange<'_>,
    ) -> Result<pingora::protocols::http::client::HttpSession, ProxyError> {
        const MAX_STALE: usize = 3;
        for _ in 0..=MAX_STALE {
            let (mut up, reused) = self
                .connector
                .get_http_session(peer)
                .await
                .map_err(|e| connect_error(&e))?;
            match exchange(&mut up, ex).await {
                Ok(()) => return Ok(up),
                Err(e) if reused && is_stale(&e) => {
                    tracing::debug!(request_id = ex.request_id, "stale pooled connection: {e}");
                    continue;
                }
                Err(e) => return Err(exchange_error(&e)),
            }
        }
        Err(ProxyError::Upstream {
            kind: "upstream_closed",
        })
    }
}

async fn exchange(
    up: &mut pingora::protocols::http::client::HttpSession,
    ex: &Exchange<'_>,
) -> Result<(), Box<Error>> {
    up.write_request_header(Box::new(ex.header.clone())).await?;
    if !ex.body.is_empty() {
        up.write_request_body(ex.body.clone(), true).await?;
    }
    up.finish_request_body().await?;
    up.read_response_header().await
}

fn is_stale(e: &Error) -> bool {
    matches!(
        e.etype(),
        ErrorType::ConnectionClosed | ErrorType::ReadError | ErrorType::WriteError
    )
}

fn connect_error(e: &Error) -> ProxyError {
    match e.etype() {
        ErrorType::ConnectTimedout | ErrorType::TLSHandshakeTimedout => {
            ProxyError::UpstreamTimeout {
                kind: "connect_timeout",
            }
        }
        ErrorType::TLSHandshakeFailure | ErrorType::InvalidCert | ErrorType::HandshakeError => {
            ProxyError::Upstream { kind: "tls_error" }
        }
        _ => ProxyError::Upstream {
            kind: "connect_error",
        },
    }
}

fn exchange_error(e: &Error) -> ProxyError {
    match e.etype() {
        ErrorType::ReadTimedout => ProxyError::UpstreamTimeout {
            kind: "first_byte_timeout",
        },
        ErrorType::WriteTimedout => ProxyError::UpstreamTimeout {
            kind: "write_timeout",
        },
        ErrorType::InvalidHTTPHeader | ErrorType::H1Error | ErrorType::H2Error => {
            ProxyError::Upstream {
                kind: "bad_response",
            }
        }
        _ => ProxyError::Upstream {
            kind: "upstream_closed",
        },
    }
}
