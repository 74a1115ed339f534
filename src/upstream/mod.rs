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
    /// No byte of response within the provider's first-byte timeout.
    FirstByteTimeout,
    WriteTimeout,
    /// The upstream closed a fresh connection after receiving the request.
    Closed,
    BadResponse,
}

impl SendError {
    pub fn kind(self) -> &'static str {
        match self {
            SendError::Dns => "dns_error",
            SendError::Connect => "connect_error",
            SendError::ConnectTimeout => "connect_timeout",
            SendError::Tls => "tls_error",
            SendError::FirstByteTimeout => "first_byte_timeout",
            SendError::WriteTimeout => "write_timeout",
            SendError::Closed => "upstream_closed",
            SendError::BadResponse => "bad_response",
        }
    }

    pub fn is_timeout(self) -> bool {
        matches!(
            self,
            SendError::ConnectTimeout | SendError::FirstByteTimeout | SendError::WriteTimeout
        )
    }

    /// Safe to try on another key: nothing was sent, or nothing came back within the first-byte
    /// timeout. A connection the upstream closed after taking the request is not retried.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            SendError::Dns
                | SendError::Connect
                | SendError::ConnectTimeout
                | SendError::Tls
                | SendError::FirstByteTimeout
        )
    }
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

    /// Writes the request and reads the response header, retrying on a fresh connection when a
    /// pooled one turns out to be stale (closed by the upstream before it answered anything).
    pub async fn send(
        &self,
        peer: &HttpPeer,
        header: &RequestHeader,
        body: &Bytes,
    ) -> Result<HttpSession, SendError> {
        const MAX_STALE: usize = 3;
        for _ in 0..=MAX_STALE {
            let (mut session, reused) = self
                .connector
                .get_http_session(peer)
                .await
                .map_err(|e| connect_error(&e))?;
            // The connector does not apply these; Pingora's own proxy loop sets them likewise.
            session.set_read_timeout(peer.options.read_timeout);
            session.set_write_timeout(peer.options.write_timeout);
            match exchange(&mut session, header, body).await {
                Ok(()) => return Ok(session),
                Err(e) if reused && is_stale(&e) => {
                    tracing::debug!("stale pooled connection: {e}");
                    continue;
                }
                Err(e) => return Err(exchange_error(&e)),
            }
        }
        Err(SendError::Closed)
    }

    /// Returns a connection whose response was read to the end to the pool.
    pub async fn release(&self, session: HttpSession, peer: &HttpPeer) {
        self.connector
            .release_http_session(session, peer, Some(self.idle_timeout))
            .await;
    }
}

async fn exchange(
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
    session.finish_request_body().await?;
    session.read_response_header().await
}

fn is_stale(e: &Error) -> bool {
    matches!(
        e.etype(),
        ErrorType::ConnectionClosed | ErrorType::ReadError | ErrorType::WriteError
    )
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

fn exchange_error(e: &Error) -> SendError {
    match e.etype() {
        ErrorType::ReadTimedout => SendError::FirstByteTimeout,
        ErrorType::WriteTimedout => SendError::WriteTimeout,
        ErrorType::InvalidHTTPHeader | ErrorType::H1Error | ErrorType::H2Error => {
            SendError::BadResponse
        }
        _ => SendError::Closed,
    }
}

/// Parses `Retry-After` given in seconds (integer or decimal).
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
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
