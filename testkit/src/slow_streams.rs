//! The bench's slow-streams phase: many streamed answers held open at once, to measure what one
//! open stream costs the proxy in resident memory.
//!
//! The mock holds every stream after its first event (`MockUpstream::hold_streams`); the bench
//! opens `n` connections, sends each a streamed chat completion and waits for its first event,
//! reads the proxy's `VmRSS`, then releases the mock and reads every stream to its end.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::bench::proc_status_kib;
use crate::mock::MockUpstream;

/// What holding the streams cost.
#[derive(Clone, Debug)]
pub struct SlowStreams {
    /// Streams that were open (first event received) at the measurement.
    pub open: usize,
    /// The proxy's resident memory just before the streams were opened.
    pub before_kib: u64,
    /// Its resident memory with every stream open.
    pub open_kib: u64,
    /// Its resident memory 12 s after every stream ended.
    pub after_kib: u64,
    /// How long opening them took.
    pub opening: Duration,
}

impl SlowStreams {
    /// Resident memory per open stream, KiB.
    pub fn per_stream_kib(&self) -> f64 {
        self.open_kib.saturating_sub(self.before_kib) as f64 / self.open.max(1) as f64
    }
}

/// Opened at once at most (the rest wait), so the listen backlog never overflows.
const OPENING_AT_ONCE: usize = 256;
/// Longest wait for one stream's first event, or for its end once released.
const STREAM_TIMEOUT: Duration = Duration::from_secs(60);

/// Raises this process's open-file limit as far as allowed: each stream is two descriptors here
/// (the client's and the in-process mock's).
pub fn raise_fd_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// Holds `n` streams open through the proxy at `addr` (process `pid`) and measures its memory.
pub async fn measure(
    addr: SocketAddr,
    authorization: &str,
    body: &[u8],
    n: usize,
    pid: u32,
    mock: &MockUpstream,
) -> anyhow::Result<SlowStreams> {
    let request = std::sync::Arc::new(
        [
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {authorization}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes(),
            body.to_vec(),
        ]
        .concat(),
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before_kib = proc_status_kib(pid, "VmRSS:").context("reading the proxy's VmRSS")?;
    mock.hold_streams();
    let started = Instant::now();
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(OPENING_AT_ONCE));
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (request, limit) = (request.clone(), limit.clone());
        opening.spawn(async move {
            let _permit = limit.acquire_owned().await;
            tokio::time::timeout(STREAM_TIMEOUT, open_stream(addr, &request)).await
        });
    }
    let mut streams = Vec::with_capacity(n);
    let mut failed = Vec::new();
    while let Some(joined) = opening.join_next().await {
        match joined {
            Ok(Ok(Ok(stream))) => streams.push(stream),
            Ok(Ok(Err(e))) => failed.push(e.to_string()),
            Ok(Err(_)) => failed.push("no first event within 60 s".into()),
            Err(e) => failed.push(e.to_string()),
        }
    }
    let opening = started.elapsed();
    // Let every task settle before reading the figure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let open_kib = proc_status_kib(pid, "VmRSS:").context("reading the proxy's VmRSS")?;
    mock.release_streams();
    let mut ending = tokio::task::JoinSet::new();
    let open = streams.len();
    for (mut stream, seen) in streams {
        ending.spawn(async move {
            tokio::time::timeout(STREAM_TIMEOUT, read_to_end(&mut stream, seen)).await
        });
    }
    let mut unfinished = 0usize;
    while let Some(joined) = ending.join_next().await {
        if !matches!(joined, Ok(Ok(Ok(())))) {
            unfinished += 1;
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {n} streams did not open (first: {})",
            failed.len(),
            failed[0]
        );
    }
    if unfinished > 0 {
        bail!("{unfinished} of {open} streams did not end cleanly once released");
    }
    // Past the allocator's trim interval (10 s in Tollgate), so freed memory has been returned.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let after_kib = proc_status_kib(pid, "VmRSS:").context("reading the proxy's VmRSS")?;
    Ok(SlowStreams {
        open,
        before_kib,
        open_kib,
        after_kib,
        opening,
    })
}

/// Sends the request and reads until the first SSE event has arrived; returns the stream and
/// what was read.
async fn open_stream(addr: SocketAddr, request: &[u8]) -> anyhow::Result<(TcpStream, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    stream.write_all(request).await?;
    let mut seen = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 2048];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!(
                "closed before the first event: {}",
                String::from_utf8_lossy(&seen)
            );
        }
        seen.extend_from_slice(&chunk[..n]);
        if let Some(head_end) = find(&seen, b"\r\n\r\n") {
            if !seen.starts_with(b"HTTP/1.1 200") {
                bail!(
                    "answered {}",
                    String::from_utf8_lossy(&seen[..head_end.min(200)])
                );
            }
            if find(&seen[head_end..], b"data:").is_some() {
                return Ok((stream, seen));
            }
        }
    }
}

/// Reads a chunked streamed answer to its last chunk (or the connection's end).
async fn read_to_end(stream: &mut TcpStream, mut seen: Vec<u8>) -> anyhow::Result<()> {
    let mut chunk = [0u8; 4096];
    loop {
        if seen.ends_with(b"\r\n0\r\n\r\n") || find(&seen, b"[DONE]").is_some() {
            return Ok(());
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        // Only the tail matters for the end marks.
        if seen.len() > 64 * 1024 {
            seen.drain(..seen.len() - 64);
        }
        seen.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
