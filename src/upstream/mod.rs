//! The client side of every upstream call: asynchronous DNS, peers with the provider's TLS/SNI
//! and timeouts, Pingora's pooled connector, and the retry of stale pooled connections.

mod dns;

use crate::snapshot::ProviderEntry;
use bytes::Bytes;
use dns::Resolver;
use pingora::connectors::http::Connector;
use pingora::http::RequestHeader;
use pingora::protocols::http::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};
use std::time::Duration;

/// Why an upstream exchange failed before a response header arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    Dns,
    Connect,
    ConnectTimeout,
    Tls,
    /// Writing the request failed before it was complete: the upstream cannot have acted on it.
    Write,
    /// Writing the request stalled before it was complete.
    WriteTimeout,
    /// No byte of response within the provider's first-byte timeout, after the whole request
    /// was sent.
    FirstByteTimeout,
    /// The upstream closed or reset the connection after the whole request was sent.
    Reset,
    BadResponse,
}

impl SendError {
    pub fn kind(self) -> &'static str {
        match self {
            SendError::Dns => "dns_error",
            SendError::Connect => "connect_error",
            SendError::ConnectTimeout => "connect_timeout",
            SendError::Tls => "tls_error",
            SendError::Write => "write_error",
            SendError::WriteTimeout => "write_timeout",
            SendError::FirstByteTimeout => "first_byte_timeout",
            SendError::Reset => "upstream_reset",
            SendError::BadResponse => "bad_response",
        }
    }

    pub fn is_timeout(self) -> bool {
        matches!(
            self,
            SendError::ConnectTimeout | SendError::FirstByteTimeout | SendError::WriteTimeout
        )
    }

    /// The upstream provably did not act on the request: it was never connected to, or never
    /// received the whole request. Such a request is safe to send elsewhere.
    pub fn before_send(self) -> bool {
        matches!(
            self,
            SendError::Dns
                | SendError::Connect
                | SendError::ConnectTimeout
                | SendError::Tls
                | SendError::Write
                | SendError::WriteTimeout
        )
    }

    /// No request can have caused it (the connection itself failed).
    pub fn is_connection_failure(self) -> bool {
        matches!(
            self,
            SendError::Dns | SendError::Connect | SendError::ConnectTimeout | SendError::Tls
        )
    }
}

/// A request that reached the upstream and got a response header.
pub struct Sent {
    pub session: HttpSession,
    /// The whole body was written. `false`: the upstream answered before reading all of it
    /// (typically refusing it).
    pub body_complete: bool,
}

pub struct UpstreamClient {
    connector: Connector,
    dns: Resolver,
    idle_timeout: Duration,
}

impl UpstreamClient {
    pub fn new(idle_timeout: Duration) -> Self {
        Self {
            connector: Connector::new(None),
            dns: Resolver::default(),
            idle_timeout,
        }
    }

    pub async fn peer(&self, provider: &ProviderEntry) -> Result<HttpPeer, SendError> {
        let up = &provider.upstream;
        let addr = self
            .dns
            .resolve(&up.host, up.port)
            .await
            .ok_or(SendError::Dns)?;
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

    /// Writes the request and reads the response header. A pooled connection that fails while
    /// the request is being written (stale: the upstream closed it) is replaced by a fresh one;
    /// once the whole request was written, a failure ends the exchange (the upstream may have
    /// acted on it). An upstream that answers before reading the whole body (refusing it) has
    /// its answer returned.
    pub async fn send(
        &self,
        peer: &HttpPeer,
        header: &RequestHeader,
        body: &Bytes,
    ) -> Result<Sent, SendError> {
        const MAX_STALE: usize = 3;
        let mut attempt = 0;
        loop {
            let (mut session, reused) = self
                .connector
                .get_http_session(peer)
                .await
                .map_err(|e| connect_error(&e))?;
            // The connector does not apply these; Pingora's own proxy loop sets them likewise.
            session.set_read_timeout(peer.options.read_timeout);
            session.set_write_timeout(peer.options.write_timeout);
            if let Err(e) = write_request(&mut session, header, body).await {
                // The request is incomplete, so the upstream cannot have acted on it; but it may
                // have answered already (an early refusal of the body).
                let early = peer
                    .options
                    .read_timeout
                    .unwrap_or(EARLY_ANSWER_WAIT)
                    .min(EARLY_ANSWER_WAIT);
                if let Ok(Ok(())) =
                    tokio::time::timeout(early, session.read_response_header()).await
                {
                    if session.response_header().is_some() {
                        return Ok(Sent {
                            session,
                            body_complete: false,
                        });
                    }
                }
                if reused && attempt < MAX_STALE {
                    tracing::debug!("stale pooled connection: {e}");
                    attempt += 1;
                    continue;
                }
                return Err(write_error(&e));
            }
            return match session.read_response_header().await {
                Ok(()) => Ok(Sent {
                    session,
                    body_complete: true,
                }),
                Err(e) => Err(read_error(&e)),
            };
        }
    }

    /// Returns a connection whose response was read to the end to the pool.
    pub async fn release(&self, session: HttpSession, peer: &HttpPeer) {
        self.connector
            .release_http_session(session, peer, Some(self.idle_timeout))
            .await;
    }
}

/// Reads a response body up to `max` bytes; returns them and whether the body ended cleanly
/// (`false` after a read error or at the limit).
pub async fn read_bounded(session: &mut HttpSession, max: usize) -> (Bytes, bool) {
    let mut buf = bytes::BytesMut::new();
    loop {
        match session.read_response_body().await {
            Ok(Some(chunk)) => {
                buf.extend_from_slice(&chunk);
                if buf.len() >= max {
                    return (buf.freeze(), false);
                }
            }
            Ok(None) => return (buf.freeze(), true),
            Err(_) => return (buf.freeze(), false),
        }
    }
}

/// How long to look for an early answer after the upstream stopped taking the request body.
const EARLY_ANSWER_WAIT: Duration = Duration::from_secs(1);

async fn write_request(
    session: &mut HttpSession,
    header: &RequestHeader,
    body: &Bytes,
) -> Result<(), Box<Error>> {
    session
        .write_request_header(Box::new(header.clone()))
        .await?;
    if !body.is_empty() {
        session.write_request_body(body.clone(), true).await?;
    }
    session.finish_request_body().await
}

fn connect_error(e: &Error) -> SendError {
    match e.etype() {
        ErrorType::ConnectTimedout | ErrorType::TLSHandshakeTimedout => SendError::ConnectTimeout,
        ErrorType::TLSHandshakeFailure | ErrorType::InvalidCert | ErrorType::HandshakeError => {
            SendError::Tls
        }
        _ => SendError::Connect,
    }
}

fn write_error(e: &Error) -> SendError {
    match e.etype() {
        ErrorType::WriteTimedout => SendError::WriteTimeout,
        _ => SendError::Write,
    }
}

fn read_error(e: &Error) -> SendError {
    match e.etype() {
        ErrorType::ReadTimedout => SendError::FirstByteTimeout,
        ErrorType::InvalidHTTPHeader | ErrorType::H1Error | ErrorType::H2Error => {
            SendError::BadResponse
        }
        _ => SendError::Reset,
    }
}

/// Puts a provider credential where the provider expects it.
pub fn set_credential(
    header: &mut RequestHeader,
    placement: crate::providers::CredentialPlacement,
    secret: &str,
) -> Result<(), Box<Error>> {
    use crate::providers::CredentialPlacement;
    use http::header::{HeaderName, HeaderValue};
    let (name, value) = match placement {
        CredentialPlacement::Bearer => (http::header::AUTHORIZATION, format!("Bearer {secret}")),
        CredentialPlacement::XApiKey => (HeaderName::from_static("x-api-key"), secret.to_string()),
        CredentialPlacement::XGoogApiKey => (
            HeaderName::from_static("x-goog-api-key"),
            secret.to_string(),
        ),
        CredentialPlacement::ApiKey => (HeaderName::from_static("api-key"), secret.to_string()),
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        Error::explain(
            ErrorType::InternalError,
            "credential is not a valid header value",
        )
    })?;
    value.set_sensitive(true);
    header.insert_header(name, value)
}
