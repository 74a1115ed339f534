//! Connections as a resource: protocol edges get the JSON error shape, ambiguous framing is
//! refused, stalled heads and bodies time out (408), idle keep-alives close, a flood on the
//! management port cannot silence the proxy, buffered request bytes have a budget, and an
//! upstream's early refusal of a body is the caller's answer, not the credential's failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tollgate_testkit::mock::MockUpstream;

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// Sends raw bytes and reads until the server closes (or `wait` passes).
async fn raw(url: &str, bytes: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(addr(url)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn body_of(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {response:?}"))
}

fn quick() -> Options {
    Options::default()
        .env("TOLLGATE__PROXY__HEADER_TIMEOUT_SECS", "1")
        .env("TOLLGATE__PROXY__IDLE_TIMEOUT_SECS", "1")
        .env("TOLLGATE__PROXY__BODY_TIMEOUT_SECS", "1")
        .env("TOLLGATE__ADMIN__HEADER_TIMEOUT_SECS", "1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_get_the_json_shape_and_smuggling_shapes_are_refused() {
    let tg = Tollgate::start_with(quick()).await;
    let w = Duration::from_secs(5);

    let r = raw(&tg.proxy, b"\x16\x03\x01\x02\x00garbage\r\n\r\n", w).await;
    assert_eq!(status_of(&r), 400, "{r}");
    assert_eq!(body_of(&r)["error"]["code"], "bad_request");

    let r = raw(
        &tg.proxy,
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        w,
    )
    .await;
    assert_eq!(status_of(&r), 400, "{r}");
    let v = body_of(&r);
    assert_eq!(
        v["error"]["type"], "invalid_request_error",
        "OpenAI shape: {v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Transfer-Encoding")
    );

    let r = raw(
        &tg.proxy,
        b"POST /v1/messages HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
        w,
    )
    .await;
    assert_eq!(status_of(&r), 400, "{r}");
    assert_eq!(
        body_of(&r)["type"],
        "error",
        "Anthropic shape for /v1/messages"
    );

    let long = format!(
        "GET /v1/models?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(9000)
    );
    let r = raw(&tg.proxy, long.as_bytes(), w).await;
    assert_eq!(status_of(&r), 414, "{r}");
    body_of(&r);

    let r = raw(&tg.admin, b"NOT HTTP AT ALL\r\n\r\n", w).await;
    assert_eq!(status_of(&r), 400, "{r}");
    assert_eq!(
        body_of(&r)["error"]["code"],
        "bad_request",
        "the API's shape"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_heads_and_bodies_time_out_and_idle_connections_close() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(quick()).await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-x").await;

    // Half a request line: 408 after the header timeout.
    let started = Instant::now();
    let r = raw(&tg.proxy, b"POST /v1/chat/comp", Duration::from_secs(10)).await;
    assert_eq!(status_of(&r), 408, "{r}");
    body_of(&r);
    assert!(started.elapsed() < Duration::from_secs(8));

    // A body that stops: 408 in the caller's format, not a 400 after a minute.
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"model\":"
    );
    let r = raw(&tg.proxy, head.as_bytes(), Duration::from_secs(10)).await;
    assert_eq!(status_of(&r), 408, "{r}");
    assert_eq!(body_of(&r)["error"]["code"], "request_timeout");

    // Nothing sent at all: closed quietly after the header timeout, on both ports.
    for url in [&tg.proxy, &tg.admin] {
        let r = raw(url, b"", Duration::from_secs(10)).await;
        assert_eq!(r, "", "closed without an answer");
    }

    // An idle keep-alive connection is closed after the idle timeout.
    let mut s = TcpStream::connect(addr(&tg.proxy)).await.unwrap();
    s.write_all(
        format!("GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 65536];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the idle connection was closed");
}

/// 20,000 idle connections to the management port (from two helper processes, so the test
/// stays under its own file limit): the proxy keeps answering throughout, and every one of
/// them is closed — refused past the caps, or after the header timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_on_the_management_port_cannot_silence_the_proxy() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__ADMIN__MAX_CONNECTIONS_PER_IP", "64")
            .env("TOLLGATE__ADMIN__MAX_CONNECTIONS", "1024")
            .env("TOLLGATE__ADMIN__HEADER_TIMEOUT_SECS", "2"),
    )
    .await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-flood").await;
    let script = r#"
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks, failed = [], 0
for _ in range(n):
    s = socket.socket()
    s.settimeout(30)
    try:
        s.connect((host, port)); socks.append(s)
    except OSError:
        failed += 1
print("opened", len(socks), "failed", failed, flush=True)
start = time.time()
open_ = set(range(len(socks)))
for s in socks:
    s.setblocking(False)
while open_ and time.time() - start < 60:
    for i in list(open_):
        try:
            if socks[i].recv(4096) == b"":
                open_.discard(i)
        except BlockingIOError:
            pass
        except OSError:
            open_.discard(i)
    time.sleep(0.2)
print("closed", len(socks) - len(open_), "open", len(open_), "secs", round(time.time() - start, 1), flush=True)
"#;
    let port = addr(&tg.admin).rsplit(':').next().unwrap().to_string();
    let mut floods: Vec<_> = (0..2)
        .map(|_| {
            tokio::process::Command::new("python3")
                .args(["-c", script, "127.0.0.1", &port, "10000"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("python3")
        })
        .collect();
    // The proxy answers all along.
    let mut answered = 0;
    for _ in 0..40 {
        let r = tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        answered += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(answered, 40);
    let mut opened = 0;
    for f in floods.iter_mut() {
        let out = f.wait_with_output_ref().await;
        let text = String::from_utf8_lossy(&out).into_owned();
        let nums: Vec<u64> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        // opened, failed, closed, open, secs
        assert!(nums.len() >= 4, "{text}");
        assert_eq!(nums[3], 0, "every connection was closed: {text}");
        opened += nums[0];
    }
    assert!(
        opened >= 19_000,
        "the flood really opened its connections ({opened})"
    );
    // And the management port is usable again once the flood is gone.
    let r = tg
        .http
        .get(format!("{}/api/health", tg.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

trait WaitRef {
    async fn wait_with_output_ref(&mut self) -> Vec<u8>;
}

impl WaitRef for tokio::process::Child {
    async fn wait_with_output_ref(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(mut s) = self.stdout.take() {
            let _ = s.read_to_end(&mut out).await;
        }
        let _ = self.wait().await;
        out
    }
}

/// Request bodies share a memory budget: past it a body waits briefly, then gets 503 with
/// Retry-After, and the process never holds more than the budget in bodies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_request_bytes_have_a_budget() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__PROXY__MAX_BODY_BYTES", "33554432")
            .env("TOLLGATE__PROXY__MAX_BUFFERED_BYTES", "67108864"),
    )
    .await;
    let (_, _, key) = tg
        .setup("openai", &mock.base_url(), "slow-header-1500")
        .await;
    let filler = "x".repeat(30 * 1024 * 1024);
    let body =
        format!(r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"{filler}"}}]}}"#);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (http, proxy, key, body) =
            (tg.http.clone(), tg.proxy.clone(), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{proxy}/v1/chat/completions"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let retry = r.headers().contains_key("retry-after");
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (status, retry, v)
        }));
    }
    let (mut ok, mut busy) = (0, 0);
    for t in tasks {
        let (status, retry, v) = t.await.unwrap();
        match status {
            200 => ok += 1,
            503 => {
                assert!(retry);
                assert_eq!(v["error"]["code"], "gateway_busy", "{v}");
                busy += 1;
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(ok >= 2 && busy >= 1, "ok {ok} busy {busy}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", tg.pid())).unwrap();
    let hwm_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    // Two 30 MiB bodies fit the 64 MiB budget; eight would need 240 MiB.
    assert!(hwm_kb < 220 * 1024, "peak RSS {hwm_kb} kB");
}

/// An upstream that refuses a large body before reading it: its own answer reaches the client
/// as the caller's fault; the credential, shared with another client key, stays healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_refusal_of_a_body_is_the_callers_answer() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let pid = tg
        .create_provider("early", "openai", &mock.base_url())
        .await;
    let kid = tg.create_provider_key(pid, "max-body-1000000").await;
    let (_, key_a) = tg.create_client_key(pid, &[kid]).await;
    let (_, key_b) = tg.create_client_key(pid, &[kid]).await;
    let big = format!(
        r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "y".repeat(8 * 1024 * 1024)
    );
    for _ in 0..5 {
        let r = tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(&key_a)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v["error"]["code"], "request_too_large",
            "the provider's own answer: {v}"
        );
        let row = tg.log_row(&id).await;
        assert_eq!(row["error_kind"], "caller_fault", "{row}");
    }
    let (_, h) = tg
        .api("GET", &format!("/api/provider-keys/{kid}"), None)
        .await;
    assert_eq!(h["health"]["state"], "healthy", "{h}");
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key_b)
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
