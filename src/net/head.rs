//! The request head, read and checked before a connection's request reaches the HTTP stack:
//! it must arrive within its time, fit its size, and frame its body unambiguously (RFC 9112:
//! no Content-Length beside Transfer-Encoding, a Host on HTTP/1.1). A bad head gets a JSON
//! error from us instead of an empty answer from the stack below.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

/// Largest request head accepted (request line and headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// Longest request target accepted.
pub const MAX_TARGET: usize = 8 * 1024;
/// Most header fields accepted.
const MAX_HEADERS: usize = 128;

/// Why a head was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// The connection closed (or sent nothing in time) before a request began: close quietly.
    Idle,
    /// A request began but its head did not arrive in time.
    Timeout,
    /// The head is larger than [`MAX_HEAD`], or has too many fields.
    TooLarge,
    UriTooLong {
        path: String,
    },
    Malformed(&'static str),
    /// Framing that two parsers could read differently (request smuggling).
    Ambiguous {
        path: String,
        why: &'static str,
    },
    MissingHost {
        path: String,
    },
}

impl HeadError {
    /// The answer to send, if any: status, machine code, message, and the request path when
    /// known (it chooses the error's format on the proxy port).
    pub fn response(&self) -> Option<(u16, &'static str, String, Option<&str>)> {
        Some(match self {
            HeadError::Idle => return None,
            HeadError::Timeout => (
                408,
                "request_timeout",
                "The request header did not arrive in time.".into(),
                None,
            ),
            HeadError::TooLarge => (
                431,
                "request_header_fields_too_large",
                format!(
                    "The request header is larger than {MAX_HEAD} bytes or has more than {MAX_HEADERS} fields."
                ),
                None,
            ),
            HeadError::UriTooLong { path } => (
                414,
                "uri_too_long",
                format!("The request target is longer than {MAX_TARGET} bytes."),
                Some(path.as_str()),
            ),
            HeadError::Malformed(why) => (
                400,
                "bad_request",
                format!("Malformed HTTP request: {why}."),
                None,
            ),
            HeadError::Ambiguous { path, why } => (
                400,
                "bad_request",
                format!("Ambiguous request framing: {why}."),
                Some(path.as_str()),
            ),
            HeadError::MissingHost { path } => (
                400,
                "bad_request",
                "An HTTP/1.1 request must carry a Host header.".into(),
                Some(path.as_str()),
            ),
        })
    }
}

/// Reads from `io` until a whole request head is buffered and checks it. `first_byte` bounds the
/// wait for the request to begin (a new connection's header timeout, or the idle keep-alive
/// timeout); `header` bounds the head from its first byte. Returns every byte read (the head and
/// whatever followed it), to be handed back to the HTTP stack.
pub async fn read_head<R: AsyncRead + Unpin>(
    io: &mut R,
    first_byte: Duration,
    header: Duration,
) -> Result<Vec<u8>, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let started = Instant::now();
    let mut deadline = started + first_byte;
    loop {
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096.min(MAX_HEAD + 1 - buf.len()).max(1024));
        }
        let read = tokio::time::timeout_at(deadline, io.read_buf(&mut buf)).await;
        let n = match read {
            Err(_) if buf.is_empty() => return Err(HeadError::Idle),
            Err(_) => return Err(HeadError::Timeout),
            Ok(Err(_)) | Ok(Ok(0)) if buf.is_empty() => return Err(HeadError::Idle),
            Ok(Err(_)) | Ok(Ok(0)) => {
                return Err(HeadError::Malformed("the connection closed mid-header"));
            }
            Ok(Ok(n)) => n,
        };
        if buf.len() == n {
            // The request began: its head is due within `header` from now.
            deadline = Instant::now() + header;
        }
        match check(&buf)? {
            Some(_) => return Ok(buf),
            None => continue,
        }
    }
}

/// Checks a buffered head: `Ok(Some(len))` when complete and acceptable, `Ok(None)` when more
/// bytes are needed.
pub fn check(buf: &[u8]) -> Result<Option<usize>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            if buf.len() > MAX_HEAD {
                return Err(HeadError::TooLarge);
            }
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(httparse::Error::Version) => {
            return Err(HeadError::Malformed("unsupported HTTP version"));
        }
        Err(_) => return Err(HeadError::Malformed("invalid request line or header")),
    };
    if len > MAX_HEAD {
        return Err(HeadError::TooLarge);
    }
    let path = req.path.unwrap_or("/");
    let short_path = || {
        path.split('?')
            .next()
            .unwrap_or("/")
            .chars()
            .take(256)
            .collect::<String>()
    };
    if path.len() > MAX_TARGET {
        return Err(HeadError::UriTooLong { path: short_path() });
    }
    let mut content_length: Option<&[u8]> = None;
    let mut transfer_encoding = false;
    let mut chunked_last = false;
    let mut host = false;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = h.value.trim_ascii();
            if !v.iter().all(u8::is_ascii_digit) || v.is_empty() {
                return Err(HeadError::Ambiguous {
                    path: short_path(),
                    why: "Content-Length is not a number",
                });
            }
            if content_length.is_some_and(|prev| prev != v) {
                return Err(HeadError::Ambiguous {
                    path: short_path(),
                    why: "Content-Length given twice with different values",
                });
            }
            content_length = Some(v);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = true;
            chunked_last = h
                .value
                .rsplit(|b| *b == b',')
                .next()
                .map(|c| c.trim_ascii().eq_ignore_ascii_case(b"chunked"))
                .unwrap_or(false);
        } else if h.name.eq_ignore_ascii_case("host") {
            host = true;
        }
    }
    if transfer_encoding && content_length.is_some() {
        return Err(HeadError::Ambiguous {
            path: short_path(),
            why: "both Content-Length and Transfer-Encoding",
        });
    }
    if transfer_encoding && !chunked_last {
        return Err(HeadError::Ambiguous {
            path: short_path(),
            why: "a Transfer-Encoding that does not end in chunked",
        });
    }
    if req.version == Some(1) && !host {
        return Err(HeadError::MissingHost { path: short_path() });
    }
    Ok(Some(len))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn c(s: &str) -> Result<Option<usize>, HeadError> {
        check(s.as_bytes())
    }

    #[test]
    fn accepts_good_heads_and_waits_for_partial_ones() {
        let ok = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(c(ok).unwrap(), Some(ok.len() - 2));
        assert_eq!(
            c("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n").unwrap(),
            None
        );
        assert_eq!(c("GET / HTTP/1.0\r\n\r\n").unwrap(), Some(18));
        assert!(
            c("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap()
                .is_some()
        );
        assert!(
            c("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn refuses_smuggling_shapes() {
        for bad in [
            "POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /v1/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            "POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            "POST /v1/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        ] {
            match c(bad) {
                Err(HeadError::Ambiguous { path, .. }) => assert_eq!(path, "/v1/x"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(matches!(
            c("POST /v1/x HTTP/1.1\r\nContent-Length: 2\r\n\r\n"),
            Err(HeadError::MissingHost { .. })
        ));
    }

    #[test]
    fn refuses_garbage_and_oversize() {
        assert!(matches!(
            c("\x16\x03\x01garbage\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
        assert!(matches!(
            c("GET / HTTP/9.9\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
        let long = format!(
            "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
            "a".repeat(MAX_TARGET + 1)
        );
        assert!(matches!(c(&long), Err(HeadError::UriTooLong { .. })));
        let many: String = (0..200).map(|i| format!("x-h{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
        assert_eq!(c(&many), Err(HeadError::TooLarge));
        let huge = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nx-big: {}\r\n",
            "a".repeat(MAX_HEAD)
        );
        assert_eq!(c(&huge), Err(HeadError::TooLarge));
    }

    #[tokio::test]
    async fn reads_with_deadlines() {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        use tokio::io::AsyncWriteExt;
        client
            .write_all(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\nextra")
            .await
            .unwrap();
        let got = read_head(&mut server, Duration::from_secs(1), Duration::from_secs(1))
            .await
            .unwrap();
        assert!(got.ends_with(b"extra"), "everything read is handed back");
        // Nothing sent: idle.
        let (_c2, mut s2) = tokio::io::duplex(64);
        assert_eq!(
            read_head(&mut s2, Duration::from_millis(50), Duration::from_secs(1)).await,
            Err(HeadError::Idle)
        );
        // Half a request line: a timeout with an answer.
        let (mut c3, mut s3) = tokio::io::duplex(64);
        c3.write_all(b"GET /v1/mod").await.unwrap();
        assert_eq!(
            read_head(&mut s3, Duration::from_secs(1), Duration::from_millis(50)).await,
            Err(HeadError::Timeout)
        );
    }
}
