//! Benchmark harness: the mock called directly, a bare Pingora pass-through and Tollgate,
//! each measured for throughput at saturation, latency at low concurrency and peak RSS.
//!
//! All traffic stays on 127.0.0.1. Every phase is bounded in time; child processes are killed
//! when their guard drops (also on error and on Ctrl-C).

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::admin::{bench_setup, wait_for_ok};
use crate::mock::{MockOptions, MockUpstream};

/// Path every benchmark request goes to.
pub const BENCH_PATH: &str = "/v1/chat/completions";
/// The small non-streaming chat body every benchmark request carries.
pub const BENCH_BODY: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":16}"#;
/// The same request, streamed (SSE), for the time-to-first-token phase.
pub const BENCH_STREAM_BODY: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}"#;
/// Credential used when calling the mock (directly or through the bare proxy).
const DIRECT_CREDENTIAL: &str = "sk-bench-direct";
/// One request never waits longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The latency phase of one target never runs longer than this.
const LATENCY_PHASE_LIMIT: Duration = Duration::from_secs(120);
/// Consecutive failures after which a phase gives up.
const MAX_CONSECUTIVE_FAILURES: u32 = 50;

/// Command-line flags of `tollgate-bench`.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tollgate-bench",
    about = "Throughput, latency and memory of Tollgate against a bare Pingora pass-through and the mock called directly"
)]
pub struct BenchArgs {
    /// Concurrent keep-alive connections in the throughput phase.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Length of the throughput phase, seconds.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Sequential requests on one connection in the latency phase.
    #[arg(long, default_value_t = 2000)]
    pub latency_requests: usize,
    /// Sequential streamed (SSE) requests on one connection in the time-to-first-token phase
    /// (0 skips it).
    #[arg(long, default_value_t = 500)]
    pub stream_requests: usize,
    /// The nginx binary for the `nginx` target (default: `nginx` on PATH or /usr/sbin/nginx;
    /// Debian's `nginx-light`, which scripts/bench.sh installs).
    #[arg(long)]
    pub nginx_bin: Option<PathBuf>,
    /// Measure only these targets (repeatable): tollgate, bare, nginx, mock. Default: all.
    #[arg(long = "only", value_enum)]
    pub only: Vec<TargetKind>,
    /// Extra environment for the Tollgate child, K=V (repeatable).
    #[arg(long = "tollgate-extra-env", value_parser = parse_env_pair)]
    pub tollgate_extra_env: Vec<(String, String)>,
    /// Scheduling strategy of the benchmark's client key: round_robin, weighted, health_best.
    #[arg(long, default_value = "round_robin")]
    pub strategy: String,
    /// Extra client-key fields as JSON, e.g. limits: '{"rpm":100000000,"tpd":100000000000}'.
    #[arg(long, default_value = "{}", value_parser = parse_json)]
    pub key_fields: serde_json::Value,
    /// Provider keys in the benchmark client key's pool.
    #[arg(long, default_value_t = 3)]
    pub keys: usize,
    /// The tollgate binary (default: `tollgate` next to this executable).
    #[arg(long)]
    pub tollgate_bin: Option<PathBuf>,
    /// The bare-proxy binary (default: `bare-proxy` next to this executable).
    #[arg(long)]
    pub bare_bin: Option<PathBuf>,
    /// Worker threads of the bare proxy (default: the number of CPUs).
    #[arg(long)]
    pub bare_threads: Option<usize>,
    /// Streams held open at once in the slow-streams phase (tollgate and bare; 0 skips it): the
    /// proxy's resident memory per open stream. Each costs the proxy two file descriptors and
    /// this process two more, so the machine's open-file limit bounds it.
    #[arg(long, default_value_t = 0)]
    pub slow_streams: usize,
    /// Measure only the CPU cost of format translation (unified API) per request and per
    /// streamed event, next to passthrough; starts no server (see `translate_bench`).
    #[arg(long)]
    pub translate: bool,
    /// Requests translated per round with `--translate` (streams and responses: a tenth).
    #[arg(long, default_value_t = 20_000)]
    pub translate_iterations: usize,
}

fn parse_json(s: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))
}

fn parse_env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected K=V, got {s:?}")),
    }
}

/// What is measured.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// The mock upstream called directly.
    Mock,
    /// The bare Pingora pass-through in front of the mock.
    Bare,
    /// nginx `proxy_pass` with upstream keep-alive in front of the mock.
    Nginx,
    /// Tollgate with the full pipeline in front of the mock.
    Tollgate,
}

impl TargetKind {
    fn name(self) -> &'static str {
        match self {
            TargetKind::Mock => "mock",
            TargetKind::Bare => "bare",
            TargetKind::Nginx => "nginx",
            TargetKind::Tollgate => "tollgate",
        }
    }
}

/// Where and how to send the benchmark request.
#[derive(Clone, Debug)]
pub struct LoadTarget {
    pub addr: SocketAddr,
    pub authorization: String,
    pub body: Bytes,
}

impl LoadTarget {
    pub fn new(addr: SocketAddr, bearer: &str) -> Self {
        Self {
            addr,
            authorization: format!("Bearer {bearer}"),
            body: Bytes::from_static(BENCH_BODY.as_bytes()),
        }
    }

    /// The same target asked for a streamed answer.
    pub fn streaming(&self) -> Self {
        Self {
            body: Bytes::from_static(BENCH_STREAM_BODY.as_bytes()),
            ..self.clone()
        }
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> anyhow::Result<Connection> {
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| anyhow!("connect to {addr} timed out"))?
            .with_context(|| format!("connect to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Connection { sender })
    }

    /// Sends the request and reads the whole answer.
    async fn send(&mut self, target: &LoadTarget) -> anyhow::Result<StatusCode> {
        Ok(self.send_timed(target, Instant::now()).await?.0)
    }

    /// Sends the request and reads the whole answer; the status and when the first body
    /// bytes arrived, measured from `started`.
    async fn send_timed(
        &mut self,
        target: &LoadTarget,
        started: Instant,
    ) -> anyhow::Result<(StatusCode, Duration)> {
        let exchange = async {
            self.sender.ready().await?;
            let request = Request::post(BENCH_PATH)
                .header(header::HOST, target.addr.to_string())
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, &target.authorization)
                .body(Full::new(target.body.clone()))?;
            let response = self.sender.send_request(request).await?;
            let status = response.status();
            let mut body = response.into_body();
            let mut first = None;
            while let Some(frame) = body.frame().await {
                if frame?.data_ref().is_some_and(|d| !d.is_empty()) && first.is_none() {
                    first = Some(started.elapsed());
                }
            }
            anyhow::Ok((status, first.unwrap_or_else(|| started.elapsed())))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| anyhow!("request timed out after {REQUEST_TIMEOUT:?}"))?
    }
}

/// Sends one request on a fresh connection; the status, or the error.
pub async fn probe(target: &LoadTarget) -> anyhow::Result<StatusCode> {
    Connection::open(target.addr).await?.send(target).await
}

/// Latency at concurrency 1.
#[derive(Clone, Debug, Default)]
pub struct Latency {
    pub ok: u64,
    pub failed: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Time to the first body bytes (for a streamed answer: the first event).
    pub first_p50_us: u64,
    pub first_p99_us: u64,
}

/// Throughput at saturation.
#[derive(Clone, Debug, Default)]
pub struct Throughput {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
    pub rps: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000, 3).context("creating a histogram")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// `requests` sequential requests on one keep-alive connection (reconnecting after an error).
pub async fn measure_latency(target: &LoadTarget, requests: usize) -> anyhow::Result<Latency> {
    let mut hist = histogram()?;
    let mut first_hist = histogram()?;
    let mut result = Latency::default();
    let mut connection: Option<Connection> = None;
    let mut consecutive_failures = 0;
    let deadline = Instant::now() + LATENCY_PHASE_LIMIT;
    for _ in 0..requests {
        if Instant::now() > deadline {
            break;
        }
        let started = Instant::now();
        let outcome = match connection.as_mut() {
            Some(c) => c.send_timed(target, started).await,
            None => match Connection::open(target.addr).await {
                Ok(mut c) => {
                    let outcome = c.send_timed(target, started).await;
                    connection = Some(c);
                    outcome
                }
                Err(err) => Err(err),
            },
        };
        match outcome {
            Ok((status, first)) if status.is_success() => {
                hist.saturating_record(micros(started.elapsed()));
                first_hist.saturating_record(micros(first));
                result.ok += 1;
                consecutive_failures = 0;
            }
            Ok(_) => {
                result.failed += 1;
                consecutive_failures += 1;
            }
            Err(_) => {
                result.failed += 1;
                consecutive_failures += 1;
                connection = None;
            }
        }
        if consecutive_failures >= MAX_CONSECUTIVE_FAILURES {
            bail!("{MAX_CONSECUTIVE_FAILURES} requests in a row failed");
        }
    }
    result.p50_us = hist.value_at_quantile(0.50);
    result.p99_us = hist.value_at_quantile(0.99);
    result.max_us = hist.max();
    result.first_p50_us = first_hist.value_at_quantile(0.50);
    result.first_p99_us = first_hist.value_at_quantile(0.99);
    Ok(result)
}

/// `concurrency` workers, each with its own keep-alive connection, for `duration`.
pub async fn measure_throughput(
    target: &LoadTarget,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Throughput> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let target = target.clone();
        workers.spawn(async move { throughput_worker(target, deadline).await });
    }
    let mut total = Throughput::default();
    let mut hist = histogram()?;
    while let Some(joined) = workers.join_next().await {
        let (ok, failed, worker_hist) = joined.context("a load worker died")??;
        total.ok += ok;
        total.failed += failed;
        hist.add(&worker_hist).context("merging histograms")?;
    }
    total.elapsed = started.elapsed();
    total.rps = total.ok as f64 / total.elapsed.as_secs_f64().max(1e-9);
    total.p50_us = hist.value_at_quantile(0.50);
    total.p99_us = hist.value_at_quantile(0.99);
    Ok(total)
}

async fn throughput_worker(
    target: LoadTarget,
    deadline: Instant,
) -> anyhow::Result<(u64, u64, Histogram<u64>)> {
    let mut hist = histogram()?;
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut connection: Option<Connection> = None;
    let mut consecutive_failures = 0;
    while Instant::now() < deadline && consecutive_failures < MAX_CONSECUTIVE_FAILURES {
        if connection.is_none() {
            match Connection::open(target.addr).await {
                Ok(c) => connection = Some(c),
                Err(_) => {
                    failed += 1;
                    consecutive_failures += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(c) = connection.as_mut() else {
            continue;
        };
        let sent = Instant::now();
        match c.send(&target).await {
            Ok(status) if status.is_success() => {
                hist.saturating_record(micros(sent.elapsed()));
                ok += 1;
                consecutive_failures = 0;
            }
            Ok(_) => {
                failed += 1;
                consecutive_failures += 1;
            }
            Err(_) => {
                failed += 1;
                consecutive_failures += 1;
                connection = None;
            }
        }
    }
    Ok((ok, failed, hist))
}

/// Peak resident set size (VmHWM) of a process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:")
}

/// A `/proc/PID/status` field in KiB (`VmRSS:`, `VmHWM:`).
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// A free loopback port (bound and released; a small race is accepted).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A child process that is killed when this guard drops.
pub struct ChildGuard {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Spawns `command` with stdout and stderr going to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> anyhow::Result<ChildGuard> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;
        Ok(ChildGuard {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the child has already exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited early ({status}); its output ends with:\n{}",
                self.name,
                self.log_tail()
            );
        }
        Ok(())
    }

    /// The last lines of the child's output.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = file.seek(SeekFrom::Start(len.saturating_sub(4096)));
            let _ = file.read_to_string(&mut text);
        }
        text.lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until `url` answers 200, failing early if the child dies.
    pub async fn wait_ready(&mut self, url: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive()?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                bail!(
                    "{} not ready at {url} after {timeout:?}; its output ends with:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if wait_for_ok(url, remaining.min(Duration::from_millis(500)))
                .await
                .is_ok()
            {
                return Ok(());
            }
        }
    }
}

impl Drop for ChildGuard {
    /// SIGTERM first, so a child with children of its own (nginx's workers) takes them down
    /// instead of leaving them orphaned; SIGKILL after 3 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Finds a sibling binary of the running executable.
fn sibling_binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the bench executable")?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent directory", exe.display()))?;
    Ok(dir.join(name))
}

/// The binary given with `flag_name`, or the sibling `name` of this executable.
pub fn binary(flag: Option<&PathBuf>, name: &str, flag_name: &str) -> anyhow::Result<PathBuf> {
    let path = match flag {
        Some(path) => path.clone(),
        None => sibling_binary(name)?,
    };
    if !path.is_file() {
        bail!(
            "{name} binary not found at {} (build it, e.g. `cargo build --release --bin {name}`, or pass {flag_name})",
            path.display()
        );
    }
    Ok(path)
}

/// Figures for one target.
#[derive(Clone, Debug)]
pub struct TargetReport {
    pub kind: TargetKind,
    pub latency: Latency,
    /// Streamed requests at concurrency 1 (`first_*`: time to the first event).
    pub stream: Option<Latency>,
    pub throughput: Throughput,
    pub peak_rss_kib: Option<u64>,
    /// Resident memory after start-up and set-up, before the measured phases.
    pub idle_rss_kib: Option<u64>,
    /// Resident memory after the throughput phase.
    pub end_rss_kib: Option<u64>,
    /// Tollgate only: resident memory once the load has been over for [`SETTLE`] (its
    /// allocator hands free pages back every 10 s).
    pub settled_rss_kib: Option<u64>,
    /// Tollgate only: what its ledger did with the requests it served.
    pub ledger: Option<LedgerCheck>,
    /// The slow-streams phase, when asked for.
    pub slow: Option<crate::slow_streams::SlowStreams>,
}

/// Requests Tollgate counted against the rows its ledger wrote, from its `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct LedgerCheck {
    pub requests: u64,
    pub written: u64,
    pub spilled: u64,
    pub dropped: u64,
    /// How long after the load the last row was written.
    pub caught_up_after: Duration,
}

/// Warms up, then measures latency and throughput.
async fn measure(
    kind: TargetKind,
    target: &LoadTarget,
    args: &BenchArgs,
    pid: Option<u32>,
) -> anyhow::Result<TargetReport> {
    let idle_rss_kib = pid.and_then(|p| proc_status_kib(p, "VmRSS:"));
    measure_latency(target, 200.min(args.latency_requests.max(1)))
        .await
        .with_context(|| format!("{}: warm-up", kind.name()))?;
    let latency = measure_latency(target, args.latency_requests.max(1))
        .await
        .with_context(|| format!("{}: latency phase", kind.name()))?;
    let stream = if args.stream_requests > 0 {
        let streaming = target.streaming();
        measure_latency(&streaming, 50.min(args.stream_requests))
            .await
            .with_context(|| format!("{}: streaming warm-up", kind.name()))?;
        Some(
            measure_latency(&streaming, args.stream_requests)
                .await
                .with_context(|| format!("{}: streaming phase", kind.name()))?,
        )
    } else {
        None
    };
    let throughput = measure_throughput(
        target,
        args.concurrency,
        Duration::from_secs(args.duration_secs.max(1)),
    )
    .await
    .with_context(|| format!("{}: throughput phase", kind.name()))?;
    Ok(TargetReport {
        kind,
        latency,
        stream,
        throughput,
        peak_rss_kib: pid.and_then(peak_rss_kib),
        idle_rss_kib,
        end_rss_kib: pid.and_then(|p| proc_status_kib(p, "VmRSS:")),
        ledger: None,
        settled_rss_kib: None,
        slow: None,
    })
}

async fn bench_bare(
    args: &BenchArgs,
    mock: &MockUpstream,
    dir: &Path,
) -> anyhow::Result<TargetReport> {
    let bin = binary(args.bare_bin.as_ref(), "bare-proxy", "--bare-bin")?;
    let port = free_port()?;
    let threads = args.bare_threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
    });
    let mut command = Command::new(bin);
    command
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--upstream")
        .arg(mock.addr.to_string())
        .arg("--threads")
        .arg(threads.to_string());
    let mut child = ChildGuard::spawn("bare-proxy", command, &dir.join("bare-proxy.log"))?;
    child
        .wait_ready(
            &format!("http://127.0.0.1:{port}/__mock/health"),
            Duration::from_secs(15),
        )
        .await?;
    let target = LoadTarget::new(SocketAddr::from(([127, 0, 0, 1], port)), DIRECT_CREDENTIAL);
    let mut report = measure(TargetKind::Bare, &target, args, Some(child.pid())).await?;
    report.slow = slow_phase(args, &target, child.pid(), mock).await?;
    child.check_alive()?;
    Ok(report)
}

/// The slow-streams phase, when `--slow-streams` asks for it.
async fn slow_phase(
    args: &BenchArgs,
    target: &LoadTarget,
    pid: u32,
    mock: &MockUpstream,
) -> anyhow::Result<Option<crate::slow_streams::SlowStreams>> {
    if args.slow_streams == 0 {
        return Ok(None);
    }
    let streaming = target.streaming();
    crate::slow_streams::measure(
        streaming.addr,
        &streaming.authorization,
        &streaming.body,
        args.slow_streams,
        pid,
        mock,
    )
    .await
    .map(Some)
    .context("slow-streams phase")
}

async fn bench_tollgate(
    args: &BenchArgs,
    mock: &MockUpstream,
    dir: &Path,
) -> anyhow::Result<TargetReport> {
    let bin = binary(args.tollgate_bin.as_ref(), "tollgate", "--tollgate-bin")?;
    let proxy_port = free_port()?;
    let admin_port = free_port()?;
    let password = "bench-admin-password-0123456789";
    let mut command = Command::new(bin);
    command
        .current_dir(dir)
        .env("TOLLGATE__PROXY__LISTEN", format!("127.0.0.1:{proxy_port}"))
        .env("TOLLGATE__ADMIN__LISTEN", format!("127.0.0.1:{admin_port}"))
        .env(
            "TOLLGATE__DATABASE__URL",
            format!("sqlite://{}/tollgate.db", dir.display()),
        )
        .env("TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD", password)
        .env("TOLLGATE__LOG__LEVEL", "warn");
    if args.slow_streams > 0 {
        // Room for every held stream from the bench's one address.
        let room = (args.slow_streams + args.concurrency + 64).to_string();
        command
            .env("TOLLGATE__PROXY__MAX_CONNECTIONS", &room)
            .env("TOLLGATE__PROXY__MAX_CONNECTIONS_PER_IP", &room);
    }
    for (key, value) in &args.tollgate_extra_env {
        command.env(key, value);
    }
    let mut child = ChildGuard::spawn("tollgate", command, &dir.join("tollgate.log"))?;
    let admin_base = format!("http://127.0.0.1:{admin_port}");
    child
        .wait_ready(&format!("{admin_base}/api/health"), Duration::from_secs(60))
        .await?;
    let setup = bench_setup(
        &admin_base,
        password,
        &mock.base_url(),
        args.keys,
        &args.strategy,
        &args.key_fields,
    )
    .await
    .context("tollgate: creating provider, provider key and client key")?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let target = LoadTarget::new(
        SocketAddr::from(([127, 0, 0, 1], proxy_port)),
        &setup.client_key,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        child.check_alive()?;
        let last = match probe(&target).await {
            Ok(status) if status.is_success() => break,
            Ok(status) => format!("HTTP {status}"),
            Err(err) => err.to_string(),
        };
        if Instant::now() > deadline {
            bail!(
                "tollgate: the proxy did not answer 200 within 10 s after setup (last: {last}); its output ends with:\n{}",
                child.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut report = measure(TargetKind::Tollgate, &target, args, Some(child.pid())).await?;
    child.check_alive()?;
    report.ledger = Some(ledger_check(&admin_base).await?);
    tokio::time::sleep(SETTLE).await;
    report.settled_rss_kib = proc_status_kib(child.pid(), "VmRSS:");
    report.slow = slow_phase(args, &target, child.pid(), mock).await?;
    child.check_alive()?;
    Ok(report)
}

/// How long after the load Tollgate's settled memory is read.
const SETTLE: Duration = Duration::from_secs(12);

/// Sum of a family's samples in a Prometheus text exposition (used by tests too).
pub fn metric_sum(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Waits (up to 60 s) until Tollgate's ledger has accounted for every request it served:
/// written, or (never expected) dropped.
async fn ledger_check(admin_base: &str) -> anyhow::Result<LedgerCheck> {
    let url = format!("{admin_base}/metrics");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let text = client
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let check = LedgerCheck {
            requests: metric_sum(&text, "tollgate_requests_total"),
            written: metric_sum(&text, "tollgate_ledger_rows_written_total"),
            spilled: metric_sum(&text, "tollgate_ledger_spilled_total"),
            dropped: metric_sum(&text, "tollgate_ledger_dropped_total"),
            caught_up_after: started.elapsed(),
        };
        if check.written + check.dropped >= check.requests
            || started.elapsed() > Duration::from_secs(60)
        {
            return Ok(check);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// nginx `proxy_pass` with upstream keep-alive, one worker per CPU, access log off: the
/// anchor for what a mature C proxy does on this machine.
async fn bench_nginx(
    args: &BenchArgs,
    mock: &MockUpstream,
    dir: &Path,
    bin: PathBuf,
) -> anyhow::Result<TargetReport> {
    let port = free_port()?;
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(prefix.join("tmp"))?;
    let conf = prefix.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nmaster_process on;\nworker_processes auto;\npid {p}/nginx.pid;\nerror_log {p}/error.log warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {p}/tmp;\n  proxy_temp_path {p}/tmp;\n  fastcgi_temp_path {p}/tmp;\n  uwsgi_temp_path {p}/tmp;\n  scgi_temp_path {p}/tmp;\n\
               upstream mock {{ server {mock}; keepalive 128; }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    keepalive_requests 10000000;\n    location / {{\n      proxy_pass http://mock;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_next_upstream error timeout non_idempotent;\n      proxy_buffering off;\n    }}\n  }}\n}}\n",
            p = prefix.display(),
            mock = mock.addr,
        ),
    )?;
    let mut command = Command::new(bin);
    command
        .arg("-p")
        .arg(&prefix)
        .arg("-e")
        .arg(prefix.join("error.log"))
        .arg("-c")
        .arg(&conf);
    let mut child = ChildGuard::spawn("nginx", command, &dir.join("nginx.log"))?;
    child
        .wait_ready(
            &format!("http://127.0.0.1:{port}/__mock/health"),
            Duration::from_secs(15),
        )
        .await?;
    let target = LoadTarget::new(SocketAddr::from(([127, 0, 0, 1], port)), DIRECT_CREDENTIAL);
    let mut report = measure(TargetKind::Nginx, &target, args, None).await?;
    child.check_alive()?;
    // Master and workers together.
    report.peak_rss_kib = process_tree(child.pid())
        .into_iter()
        .map(peak_rss_kib)
        .sum::<Option<u64>>();
    Ok(report)
}

/// A process and its children (one level: nginx's master and workers).
fn process_tree(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        pids.extend(
            children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    pids
}

/// The nginx binary: `--nginx-bin`, else `nginx` on PATH, else /usr/sbin/nginx.
fn nginx_binary(flag: Option<&PathBuf>) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.clone());
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// Runs the selected targets and writes the report to `out`.
pub async fn run(args: &BenchArgs, out: &mut impl Write) -> anyhow::Result<Vec<TargetReport>> {
    if args.translate {
        crate::translate_bench::run(out, args.translate_iterations)?;
        return Ok(Vec::new());
    }
    let selected = |kind| args.only.is_empty() || args.only.contains(&kind);
    // Fail before measuring anything if a needed binary is missing.
    if selected(TargetKind::Bare) {
        binary(args.bare_bin.as_ref(), "bare-proxy", "--bare-bin")?;
    }
    if selected(TargetKind::Tollgate) {
        binary(args.tollgate_bin.as_ref(), "tollgate", "--tollgate-bin")?;
    }
    let nginx = nginx_binary(args.nginx_bin.as_ref());
    if args.only.contains(&TargetKind::Nginx) && nginx.as_ref().is_none_or(|p| !p.is_file()) {
        bail!(
            "nginx not found (install Debian's nginx-light, as scripts/bench.sh does, or pass --nginx-bin)"
        );
    }
    if args.slow_streams > 0 {
        crate::slow_streams::raise_fd_limit();
    }
    let mock = MockUpstream::try_start_with(MockOptions {
        event_delay: Duration::ZERO,
        ..MockOptions::default()
    })
    .await
    .context("starting the in-process mock upstream")?;
    mock.set_recording(false);
    let dir = tempfile::Builder::new()
        .prefix("tollgate-bench-")
        .tempdir()
        .context("creating a temporary directory")?;
    writeln!(
        out,
        "tollgate-bench: POST {BENCH_PATH} (non-streaming, {} B body); throughput: {} keep-alive connections for {} s; latency: {} sequential requests on 1 connection",
        BENCH_BODY.len(),
        args.concurrency,
        args.duration_secs.max(1),
        args.latency_requests.max(1)
    )?;
    writeln!(
        out,
        "upstream: in-process mock at {} (event_delay 0, shares the bench's runtime); proxies run as child processes",
        mock.addr
    )?;
    out.flush()?;

    let mut reports = Vec::new();
    for kind in [
        TargetKind::Mock,
        TargetKind::Nginx,
        TargetKind::Bare,
        TargetKind::Tollgate,
    ] {
        if !selected(kind) {
            continue;
        }
        if kind == TargetKind::Nginx && nginx.is_none() {
            writeln!(
                out,
                "skipping nginx: not installed (scripts/bench.sh installs nginx-light)"
            )?;
            continue;
        }
        writeln!(out, "measuring {} ...", kind.name())?;
        out.flush()?;
        let report = match kind {
            TargetKind::Mock => {
                let target = LoadTarget::new(mock.addr, DIRECT_CREDENTIAL);
                measure(TargetKind::Mock, &target, args, None).await?
            }
            TargetKind::Bare => bench_bare(args, &mock, dir.path()).await?,
            TargetKind::Nginx => {
                let bin = nginx.clone().ok_or_else(|| anyhow!("nginx not found"))?;
                bench_nginx(args, &mock, dir.path(), bin).await?
            }
            TargetKind::Tollgate => bench_tollgate(args, &mock, dir.path()).await?,
        };
        reports.push(report);
    }
    write_report(out, &reports)?;
    Ok(reports)
}

fn signed_diff(a: u64, b: u64) -> i128 {
    i128::from(a) - i128::from(b)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "-".to_string(), |k| format!("{:.1}", k as f64 / 1024.0))
}

/// The table and the summary line.
pub fn write_report(out: &mut impl Write, reports: &[TargetReport]) -> anyhow::Result<()> {
    let find = |k| reports.iter().find(|r| r.kind == k);
    let (mock, bare, nginx, tollgate) = (
        find(TargetKind::Mock),
        find(TargetKind::Bare),
        find(TargetKind::Nginx),
        find(TargetKind::Tollgate),
    );
    let ttft = |r: &TargetReport| r.stream.as_ref().map(|l| l.first_p50_us);
    let ttft99 = |r: &TargetReport| r.stream.as_ref().map(|l| l.first_p99_us);
    let opt = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    writeln!(out)?;
    writeln!(
        out,
        "{:<9} {:>9} {:>6} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7}",
        "target",
        "req/s",
        "errors",
        "p50 µs",
        "p99 µs",
        "+p50 µs",
        "+p99 µs",
        "sat p50µs",
        "sat p99µs",
        "ttft p50",
        "ttft p99",
        "+ttft50",
        "idleMiB",
        "endMiB",
        "peakMiB"
    )?;
    for r in reports {
        let (added50, added99, added_ttft) = match (mock, r.kind) {
            (Some(m), kind) if kind != TargetKind::Mock => (
                format!("{:+}", signed_diff(r.latency.p50_us, m.latency.p50_us)),
                format!("{:+}", signed_diff(r.latency.p99_us, m.latency.p99_us)),
                match (ttft(r), ttft(m)) {
                    (Some(a), Some(b)) => format!("{:+}", signed_diff(a, b)),
                    _ => "-".to_string(),
                },
            ),
            _ => ("-".to_string(), "-".to_string(), "-".to_string()),
        };
        writeln!(
            out,
            "{:<9} {:>9.0} {:>6} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7}",
            r.kind.name(),
            r.throughput.rps,
            r.throughput.failed + r.latency.failed + r.stream.as_ref().map_or(0, |l| l.failed),
            r.latency.p50_us,
            r.latency.p99_us,
            added50,
            added99,
            r.throughput.p50_us,
            r.throughput.p99_us,
            opt(ttft(r)),
            opt(ttft99(r)),
            added_ttft,
            mib(r.idle_rss_kib),
            mib(r.end_rss_kib),
            mib(r.peak_rss_kib),
        )?;
    }
    writeln!(out)?;
    let mut summary = Vec::new();
    let ratio = |a: &TargetReport, b: &TargetReport| a.throughput.rps / b.throughput.rps.max(1e-9);
    if let (Some(t), Some(n)) = (tollgate, nginx) {
        summary.push(format!("tollgate/nginx throughput {:.2}", ratio(t, n)));
    }
    if let (Some(t), Some(b)) = (tollgate, bare) {
        summary.push(format!("tollgate/bare throughput {:.2}", ratio(t, b)));
    }
    if let (Some(b), Some(n)) = (bare, nginx) {
        summary.push(format!("bare/nginx throughput {:.2}", ratio(b, n)));
    }
    for (name, r) in [("tollgate", tollgate), ("bare", bare), ("nginx", nginx)] {
        if let (Some(r), Some(m)) = (r, mock) {
            summary.push(format!(
                "{name} added p50 {:+} µs p99 {:+} µs{}",
                signed_diff(r.latency.p50_us, m.latency.p50_us),
                signed_diff(r.latency.p99_us, m.latency.p99_us),
                match (ttft(r), ttft(m)) {
                    (Some(a), Some(b)) => format!(" ttft {:+} µs", signed_diff(a, b)),
                    _ => String::new(),
                }
            ));
        }
    }
    if let Some(t) = tollgate {
        summary.push(format!(
            "tollgate RSS idle {} MiB, after load {} MiB, {} MiB {} s later, peak {} MiB",
            mib(t.idle_rss_kib),
            mib(t.end_rss_kib),
            mib(t.settled_rss_kib),
            SETTLE.as_secs(),
            mib(t.peak_rss_kib)
        ));
    }
    writeln!(out, "summary: {}", summary.join("; "))?;
    for r in [bare, tollgate].into_iter().flatten() {
        if let Some(s) = &r.slow {
            writeln!(
                out,
                "slow streams: {} {} open at once (opened in {:.1} s): RSS {} MiB before, {} MiB open, {} MiB after they ended: {:.1} KiB per open stream",
                r.kind.name(),
                s.open,
                s.opening.as_secs_f64(),
                mib(Some(s.before_kib)),
                mib(Some(s.open_kib)),
                mib(Some(s.after_kib)),
                s.per_stream_kib()
            )?;
        }
    }
    if let Some(l) = tollgate.and_then(|t| t.ledger.as_ref()) {
        writeln!(
            out,
            "ledger: {} requests served, {} rows written, {} spilled to disk (and replayed), {} dropped; caught up {:.1} s after the load",
            l.requests,
            l.written,
            l.spilled,
            l.dropped,
            l.caught_up_after.as_secs_f64()
        )?;
    }
    out.flush()?;
    Ok(())
}
