//! Mock AI provider upstream: one Axum app that speaks the OpenAI, Anthropic and Gemini wire
//! formats (streaming and not), records every request, and fails on demand by credential.
//!
//! The credential a request carries (in its provider's own place) chooses the behaviour, with
//! the provider's documented error bodies: `fail-401` is an invalid key (OpenAI 401
//! `invalid_api_key`, Anthropic 401 `authentication_error`, Gemini **400** `API_KEY_INVALID`);
//! `fail-403` is a model the key's account may not use (OpenAI 404 `model_not_found`,
//! Anthropic 403 `permission_error`, Gemini 403 `PERMISSION_DENIED`); `fail-quota` is an
//! account out of credit (OpenAI 429 `insufficient_quota`, Anthropic 400 "credit balance is
//! too low", Gemini 400 `FAILED_PRECONDITION`); `fail-429` (with `Retry-After: 2` and the
//! provider's reset headers), `fail-500`, `fail-503` and `fail-529` (Anthropic
//! `overloaded_error`; 503 elsewhere) answer with that status; `reset` takes the whole request
//! and resets the connection without answering; `max-body-{bytes}` answers 413 before reading
//! a larger body; `chaos-{seed}` picks one of these (or success) at random for each request;
//! a model named `forbidden…` gets the model-permission answer whatever the credential; `limited-{secs}` answers 429 with
//! `Retry-After: {secs}` from its first request until that window has passed, then succeeds
//! (a rate limit that lifts); `hang` never answers; `slow-header-{ms}`
//! waits before answering; `cut` sends about half of the response and then drops the
//! connection; anything else succeeds. A missing credential is a 401.
//!
//! A request that defines tools and ends with a user turn is answered with tool calls in the
//! provider's own wire format (rules in [`tools`]); images in requests are accepted.

mod anthropic;
mod conn;
mod gemini;
mod openai;
mod tools;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Largest request body the mock reads (bigger bodies are answered 413).
const MAX_BODY: usize = 64 * 1024 * 1024;
/// How long a `hang` credential keeps the request open.
const HANG_FOR: Duration = Duration::from_secs(3600);
/// Pause before a `cut` aborts the connection, so the bytes before the cut reach the client.
const CUT_FLUSH: Duration = Duration::from_millis(50);
/// Words the mock "generates", one per content delta.
const WORDS: [&str; 8] = [
    "Hello",
    " from",
    " the",
    " mock",
    " upstream",
    ",",
    " friend",
    ".",
];

/// How the mock behaves.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// Pause between two events of a streamed response (default 5 ms; zero = none).
    pub event_delay: Duration,
    /// Streams send their first event and then wait for [`MockUpstream::release_streams`].
    pub gate_streams: bool,
    /// Number of content deltas in a completion (default 5, at least 1 is used).
    pub completion_chunks: usize,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            event_delay: Duration::from_millis(5),
            gate_streams: false,
            completion_chunks: 5,
        }
    }
}

/// Token figures the mock itself put in a response, normalized across the three formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SentUsage {
    /// OpenAI `prompt_tokens` / `input_tokens`, Anthropic `input_tokens`, Gemini `promptTokenCount`.
    pub prompt_tokens: u64,
    /// OpenAI `completion_tokens` / `output_tokens`, Anthropic final `output_tokens`,
    /// Gemini `candidatesTokenCount + thoughtsTokenCount`.
    pub completion_tokens: u64,
    /// Anthropic `cache_creation_input_tokens` (0 elsewhere).
    pub cache_write_tokens: u64,
    /// OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`, Gemini `cachedContentTokenCount`.
    pub cache_read_tokens: u64,
}

/// One request the mock received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Every header, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The full request body.
    pub body: Bytes,
    /// The credential found in the provider's own place (Bearer, `x-api-key`,
    /// `x-goog-api-key`, `?key=`).
    pub credential: Option<String>,
    /// The usage the mock sent back so far (None if no usage figures were sent).
    pub usage_sent: Option<SentUsage>,
    /// The status the mock answered (None: no answer, e.g. a reset or a hang).
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// The first value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The recorded requests; indices handed out count from the first request ever.
#[derive(Default)]
struct Log {
    entries: Vec<RecordedRequest>,
    /// How many entries were cleared before `entries[0]`.
    cleared: usize,
}

/// State shared by the handle and the serving task.
struct Shared {
    opts: MockOptions,
    log: Mutex<Log>,
    /// Requests received, recorded or not.
    count: AtomicUsize,
    /// Whether requests are kept in `log` (off for long benchmark runs).
    recording: AtomicBool,
    gate: watch::Sender<bool>,
    seq: AtomicU64,
    /// `limited-{secs}` credentials: when their rate limit lifts.
    limited_until: Mutex<std::collections::HashMap<String, std::time::Instant>>,
    /// When set, a credential it refuses is answered 401 (see [`MockUpstream::set_credential_check`]).
    credential_check: Mutex<Option<CredentialCheck>>,
    /// Answers with a 2xx status, recorded or not.
    successes: AtomicUsize,
}

/// Decides whether the mock accepts a credential (e.g. only live OAuth access tokens).
pub type CredentialCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl Shared {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the request; returns its index (usize::MAX when recording is off).
    fn record(&self, request: RecordedRequest) -> usize {
        self.count.fetch_add(1, Ordering::Relaxed);
        if !self.recording.load(Ordering::Relaxed) {
            return usize::MAX;
        }
        let mut log = self.log();
        log.entries.push(request);
        log.cleared + log.entries.len() - 1
    }

    fn set_status(&self, index: usize, status: u16) {
        if (200..300).contains(&status) {
            self.successes.fetch_add(1, Ordering::Relaxed);
        }
        let mut log = self.log();
        let Some(position) = index.checked_sub(log.cleared) else {
            return;
        };
        if let Some(entry) = log.entries.get_mut(position) {
            entry.status = Some(status);
        }
    }

    fn set_usage(&self, index: usize, usage: SentUsage) {
        let mut log = self.log();
        let Some(position) = index.checked_sub(log.cleared) else {
            return;
        };
        if let Some(entry) = log.entries.get_mut(position) {
            entry.usage_sent = Some(usage);
        }
    }

    /// A `chaos-{seed}` credential's behaviour for one request: success 40 %, 429 15 %, 500 15 %,
    /// 529 15 %, reset 12 %, invalid key 3 %.
    fn chaos(&self, credential: &str) -> Behaviour {
        let seed = credential.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        match splitmix64(seed ^ n) % 100 {
            0..=39 => Behaviour::Succeed,
            40..=54 => Behaviour::Fail(429),
            55..=69 => Behaviour::Fail(500),
            70..=84 => Behaviour::Fail(529),
            85..=96 => Behaviour::Reset,
            _ => Behaviour::Fail(401),
        }
    }

    /// A fresh pseudo-random id suffix of `len` characters in `[a-zA-Z0-9]`.
    fn id(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut state = nanos
            ^ self
                .seq
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9E37);
        let mut out = String::with_capacity(len);
        for _ in 0..len {
            state = splitmix64(state);
            let i = (state % ALPHABET.len() as u64) as usize;
            out.push(char::from(ALPHABET[i]));
        }
        out
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A running mock upstream. Dropping it stops accepting new connections.
pub struct MockUpstream {
    /// Where the mock listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl MockUpstream {
    /// Starts a mock with default options on `127.0.0.1:0`.
    pub async fn start() -> MockUpstream {
        Self::start_with(MockOptions::default()).await
    }

    /// Starts a mock on `127.0.0.1:0`. Binding a loopback port essentially cannot fail; if it
    /// does, the returned mock has port 0 and every call to it fails to connect (use
    /// [`MockUpstream::try_start_with`] to see the error).
    pub async fn start_with(opts: MockOptions) -> MockUpstream {
        let fallback = opts.clone();
        match Self::try_start_with(opts).await {
            Ok(mock) => mock,
            Err(_) => MockUpstream {
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                shared: Arc::new(Shared::new(fallback)),
                task: None,
            },
        }
    }

    /// Starts a mock on `127.0.0.1:0`, reporting a bind failure.
    pub async fn try_start_with(opts: MockOptions) -> std::io::Result<MockUpstream> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), opts).await
    }

    /// Starts a mock on the given address, serving on a task of the current runtime.
    pub async fn bind(addr: SocketAddr, opts: MockOptions) -> std::io::Result<MockUpstream> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(opts));
        let app = router(Arc::clone(&shared));
        let listener = conn::Conns(listener);
        let task = tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<conn::Conn>();
            let _ = axum::serve(listener, service).await;
        });
        Ok(MockUpstream {
            addr,
            shared,
            task: Some(task),
        })
    }

    /// Starts the mock over HTTPS on every local address (IPv4 and IPv6), with a certificate
    /// for `localhost` signed by a new CA; returns the mock and the CA certificate (PEM).
    /// Reach it as `https://localhost:PORT` (see [`MockUpstream::https_url`]).
    pub async fn start_tls(opts: MockOptions) -> std::io::Result<(MockUpstream, String)> {
        let listener = match tokio::net::TcpListener::bind("[::]:0").await {
            Ok(l) => l,
            Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        };
        let addr = listener.local_addr()?;
        let (ca, config) = crate::tls::localhost_identity().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared::new(opts));
        let app = router(Arc::clone(&shared));
        let task = tokio::spawn(crate::tls::serve(listener, app, config));
        Ok((
            MockUpstream {
                addr,
                shared,
                task: Some(task),
            },
            ca,
        ))
    }

    /// `https://localhost:PORT`, for a mock started with [`MockUpstream::start_tls`].
    pub fn https_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log().entries.clone()
    }

    /// The most recent request, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.log().entries.last().cloned()
    }

    /// Number of requests received so far (also those received while recording was off).
    pub fn request_count(&self) -> usize {
        self.shared.count.load(Ordering::Relaxed)
    }

    /// Number of requests answered with a 2xx status (the ones a provider would bill).
    pub fn successes(&self) -> usize {
        self.shared.successes.load(Ordering::Relaxed)
    }

    /// Forgets the recorded requests (the count goes on).
    pub fn clear_requests(&self) {
        let mut log = self.shared.log();
        log.cleared += log.entries.len();
        log.entries.clear();
    }

    /// Turns keeping requests for [`MockUpstream::requests`] on or off (default on). A benchmark
    /// turns it off so that memory does not grow with every request.
    pub fn set_recording(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Relaxed);
    }

    /// Accept only credentials `check` passes; the others get the provider's 401 (invalid key).
    /// `None` goes back to the behaviour chosen by the credential's name.
    pub fn set_credential_check(&self, check: Option<CredentialCheck>) {
        *self
            .shared
            .credential_check
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = check;
    }

    /// Holds every later stream after its first event until [`MockUpstream::release_streams`].
    pub fn hold_streams(&self) {
        self.shared.gate.send_replace(false);
    }

    /// Lets gated streams (and every later stream) send the rest of their events.
    pub fn release_streams(&self) {
        self.shared.gate.send_replace(true);
    }

    /// Waits until the serving task ends (it runs until the mock is dropped).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Shared {
    fn new(opts: MockOptions) -> Self {
        let (gate, _) = watch::channel(!opts.gate_streams);
        Self {
            opts,
            log: Mutex::new(Log::default()),
            count: AtomicUsize::new(0),
            recording: AtomicBool::new(true),
            gate,
            seq: AtomicU64::new(1),
            limited_until: Mutex::default(),
            credential_check: Mutex::default(),
            successes: AtomicUsize::new(0),
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// Which provider's conventions (credential place, error shape) a route follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    OpenAi,
    Anthropic,
    Gemini,
}

/// What a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    Health,
    OpenAiChat,
    OpenAiCompletions,
    OpenAiResponses,
    OpenAiEmbeddings,
    OpenAiModels,
    OpenAiModel(String),
    AnthropicMessages,
    AnthropicCountTokens,
    AnthropicModels,
    GeminiGenerate(String),
    GeminiStream(String),
    GeminiCountTokens(String),
    GeminiEmbed(String),
    GeminiBatchEmbed(String),
    GeminiModels,
    GeminiModel(String),
    NotFound(Provider),
}

impl Route {
    fn classify(method: &str, path: &str, headers: &HeaderMap) -> Route {
        let post = method == "POST";
        let get = method == "GET";
        let anthropic_headers =
            headers.contains_key("x-api-key") || headers.contains_key("anthropic-version");
        if let Some(rest) = path
            .strip_prefix("/v1beta/models/")
            .or_else(|| path.strip_prefix("/v1/models/").filter(|r| r.contains(':')))
        {
            return match rest.rsplit_once(':') {
                Some((model, action)) if post => {
                    let model = model.to_string();
                    match action {
                        "generateContent" => Route::GeminiGenerate(model),
                        "streamGenerateContent" => Route::GeminiStream(model),
                        "countTokens" => Route::GeminiCountTokens(model),
                        "embedContent" => Route::GeminiEmbed(model),
                        "batchEmbedContents" => Route::GeminiBatchEmbed(model),
                        _ => Route::NotFound(Provider::Gemini),
                    }
                }
                None if get && !rest.is_empty() => Route::GeminiModel(rest.to_string()),
                _ => Route::NotFound(Provider::Gemini),
            };
        }
        match (method, path) {
            ("GET", "/__mock/health") => Route::Health,
            ("POST", "/v1/chat/completions") => Route::OpenAiChat,
            ("POST", "/v1/completions") => Route::OpenAiCompletions,
            ("POST", "/v1/responses") => Route::OpenAiResponses,
            ("POST", "/v1/embeddings") => Route::OpenAiEmbeddings,
            ("GET", "/v1/models") if anthropic_headers => Route::AnthropicModels,
            ("GET", "/v1/models") => Route::OpenAiModels,
            ("POST", "/v1/messages") => Route::AnthropicMessages,
            ("POST", "/v1/messages/count_tokens") => Route::AnthropicCountTokens,
            ("GET", "/v1beta/models") => Route::GeminiModels,
            ("GET", p) if p.starts_with("/v1/models/") && p.len() > "/v1/models/".len() => {
                Route::OpenAiModel(p["/v1/models/".len()..].to_string())
            }
            (_, p) if p.starts_with("/v1beta") => Route::NotFound(Provider::Gemini),
            (_, p) if p.starts_with("/v1/messages") => Route::NotFound(Provider::Anthropic),
            _ => Route::NotFound(Provider::OpenAi),
        }
    }

    fn provider(&self) -> Option<Provider> {
        match self {
            Route::Health => None,
            Route::OpenAiChat
            | Route::OpenAiCompletions
            | Route::OpenAiResponses
            | Route::OpenAiEmbeddings
            | Route::OpenAiModels
            | Route::OpenAiModel(_) => Some(Provider::OpenAi),
            Route::AnthropicMessages | Route::AnthropicCountTokens | Route::AnthropicModels => {
                Some(Provider::Anthropic)
            }
            Route::GeminiGenerate(_)
            | Route::GeminiStream(_)
            | Route::GeminiCountTokens(_)
            | Route::GeminiEmbed(_)
            | Route::GeminiBatchEmbed(_)
            | Route::GeminiModels
            | Route::GeminiModel(_) => Some(Provider::Gemini),
            Route::NotFound(p) => Some(*p),
        }
    }
}

/// Azure OpenAI's deployment paths (`/openai/deployments/{name}/chat/completions`) served like
/// OpenAI's own (`/v1/chat/completions`); the deployment name stands for the model.
fn azure_path(path: &str) -> String {
    match path
        .strip_prefix("/openai/deployments/")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((_, rest)) => format!("/v1/{rest}"),
        None => path.to_string(),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = header_str(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

fn query_key(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "key")
        .map(|(_, v)| percent_decode(v))
        .filter(|v| !v.is_empty())
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The credential in the provider's own place; for provider-less routes, any of them.
fn credential(
    provider: Option<Provider>,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Option<String> {
    let api_key = || header_str(headers, "x-api-key").map(str::to_string);
    let goog = || header_str(headers, "x-goog-api-key").map(str::to_string);
    match provider {
        // Azure OpenAI sends its key in `api-key`.
        Some(Provider::OpenAi) => {
            bearer(headers).or_else(|| header_str(headers, "api-key").map(str::to_string))
        }
        Some(Provider::Anthropic) => api_key().or_else(|| bearer(headers)),
        Some(Provider::Gemini) => goog().or_else(|| query_key(query)),
        None => bearer(headers)
            .or_else(api_key)
            .or_else(goog)
            .or_else(|| query_key(query)),
    }
}

/// What the credential asks the mock to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    Succeed,
    Fail(u16),
    Hang,
    SlowHeader(u64),
    Cut,
    Limited(u64),
    /// Take the request, then reset the connection without answering.
    Reset,
    /// Refuse bodies larger than this before reading them.
    MaxBody(u64),
    /// One of the behaviours above, drawn at random per request (seeded).
    Chaos,
}

impl Behaviour {
    fn of(credential: &str) -> Behaviour {
        for status in [401u16, 403, 429, 500, 503, 529] {
            if credential.starts_with(&format!("fail-{status}")) {
                return Behaviour::Fail(status);
            }
        }
        if credential.starts_with("fail-quota") {
            return Behaviour::Fail(QUOTA);
        }
        if credential.starts_with("reset") {
            return Behaviour::Reset;
        }
        if credential.starts_with("chaos") {
            return Behaviour::Chaos;
        }
        if let Some(rest) = credential.strip_prefix("max-body-") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                return Behaviour::MaxBody(n);
            }
        }
        if credential.starts_with("hang") {
            return Behaviour::Hang;
        }
        if let Some(rest) = credential.strip_prefix("limited-") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(secs) = digits.parse() {
                return Behaviour::Limited(secs);
            }
        }
        if let Some(rest) = credential.strip_prefix("slow-header-") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(ms) = digits.parse() {
                return Behaviour::SlowHeader(ms);
            }
        }
        if credential.starts_with("cut") {
            return Behaviour::Cut;
        }
        Behaviour::Succeed
    }
}

/// Everything a route handler needs to know about the request.
pub(crate) struct Call {
    shared: Arc<Shared>,
    pub(crate) body: Bytes,
    pub(crate) json: Value,
    pub(crate) query: Option<String>,
}

impl Call {
    pub(crate) fn chunks(&self) -> usize {
        self.shared.opts.completion_chunks.max(1)
    }

    /// Prompt token figure: depends on the request so that hard-coded figures fail.
    pub(crate) fn prompt_tokens(&self) -> u64 {
        self.body.len() as u64 / 4 + 7
    }

    pub(crate) fn id(&self, len: usize) -> String {
        self.shared.id(len)
    }

    /// The text of content delta `i`.
    pub(crate) fn word(i: usize) -> &'static str {
        WORDS[i % WORDS.len()]
    }

    /// The whole generated text.
    pub(crate) fn full_text(&self) -> String {
        (0..self.chunks()).map(Call::word).collect()
    }

    pub(crate) fn model_or(&self, default: &str) -> String {
        self.json
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    }

    pub(crate) fn wants_stream(&self) -> bool {
        self.json.get("stream").and_then(Value::as_bool) == Some(true)
    }

    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        query_param(self.query.as_deref(), name)
    }
}

/// One event of a streamed response and the usage figures sent once it is out.
pub(crate) struct Event {
    pub(crate) bytes: Bytes,
    pub(crate) usage: Option<SentUsage>,
}

impl Event {
    pub(crate) fn new(bytes: impl Into<Bytes>) -> Self {
        Self {
            bytes: bytes.into(),
            usage: None,
        }
    }

    pub(crate) fn with_usage(bytes: impl Into<Bytes>, usage: SentUsage) -> Self {
        Self {
            bytes: bytes.into(),
            usage: Some(usage),
        }
    }
}

/// `data: {json}\n\n`
pub(crate) fn sse_data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

/// `event: NAME\ndata: {json}\n\n`
pub(crate) fn sse_event(name: &str, value: &Value) -> String {
    format!("event: {name}\ndata: {value}\n\n")
}

/// What a route handler answers.
pub(crate) enum Reply {
    /// A complete JSON body.
    Json {
        status: StatusCode,
        body: Value,
        usage: Option<SentUsage>,
        headers: Vec<(&'static str, String)>,
    },
    /// A streamed body, one chunk per event.
    Stream {
        content_type: &'static str,
        events: Vec<Event>,
        headers: Vec<(&'static str, String)>,
    },
}

impl Reply {
    pub(crate) fn ok(body: Value, usage: Option<SentUsage>) -> Reply {
        Reply::Json {
            status: StatusCode::OK,
            body,
            usage,
            headers: Vec::new(),
        }
    }

    pub(crate) fn error(status: StatusCode, body: Value) -> Reply {
        Reply::Json {
            status,
            body,
            usage: None,
            headers: Vec::new(),
        }
    }

    /// Replaces a header the reply already has (or adds it).
    fn set_header(&mut self, name: &'static str, value: String) {
        match self {
            Reply::Json { headers, .. } | Reply::Stream { headers, .. } => {
                headers.retain(|(n, _)| *n != name);
                headers.push((name, value));
            }
        }
    }

    fn push_headers(&mut self, extra: Vec<(&'static str, String)>) {
        match self {
            Reply::Json { headers, .. } | Reply::Stream { headers, .. } => headers.extend(extra),
        }
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let conn = request
        .extensions()
        .get::<axum::extract::ConnectInfo<conn::Conn>>()
        .map(|c| c.0.clone());
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let route = Route::classify(&method, &azure_path(&path), &parts.headers);
    let provider = route.provider();
    let credential = credential(provider, &parts.headers, query.as_deref());
    let mut behaviour = credential.as_deref().map(Behaviour::of);
    if behaviour == Some(Behaviour::Chaos) {
        behaviour = Some(shared.chaos(credential.as_deref().unwrap_or_default()));
    }
    // A provider that refuses a body it will not take answers before reading it.
    if let (Some(Behaviour::MaxBody(max)), Some(p)) = (behaviour, provider) {
        let declared = header_str(&parts.headers, "content-length")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if declared > max {
            let index = shared.record(RecordedRequest {
                method,
                path,
                query,
                headers: Vec::new(),
                body: Bytes::new(),
                credential,
                usage_sent: None,
                status: None,
            });
            let mut reply = failure(p, 413, "");
            reply.set_header("connection", "close".to_string());
            return render(&shared, index, reply, false);
        }
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let index = shared.record(RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        headers,
        body: body.clone(),
        credential: credential.clone(),
        usage_sent: None,
        status: None,
    });
    if behaviour == Some(Behaviour::Reset) && provider.is_some() {
        // The whole request was read; the provider's front end dies before answering.
        if let Some(conn) = &conn {
            conn.reset();
        }
        return StatusCode::BAD_GATEWAY.into_response();
    }

    let Some(provider) = provider else {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ok"}"#,
        )
            .into_response();
    };
    let request_id = format!("req_{}", shared.id(24));
    let mut reply = dispatch(
        &shared,
        &route,
        provider,
        &method,
        &path,
        &parts.headers,
        credential.as_deref(),
        behaviour,
        body,
        query,
    )
    .await;
    reply.push_headers(provider_headers(provider, &request_id));
    let cut = behaviour == Some(Behaviour::Cut);
    render(&shared, index, reply, cut)
}

#[allow(clippy::too_many_arguments)]
async fn dispatch(
    shared: &Arc<Shared>,
    route: &Route,
    provider: Provider,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    credential: Option<&str>,
    behaviour: Option<Behaviour>,
    body: Bytes,
    query: Option<String>,
) -> Reply {
    if let Route::NotFound(_) = route {
        return not_found(provider, method, path);
    }
    let Some(credential) = credential else {
        return missing_credential(provider);
    };
    if provider == Provider::Anthropic && header_str(headers, "anthropic-version").is_none() {
        return Reply::error(
            StatusCode::BAD_REQUEST,
            anthropic::error_body(
                "invalid_request_error",
                "anthropic-version: header is required",
            ),
        );
    }
    let check = shared
        .credential_check
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if check.is_some_and(|accepts| !accepts(credential)) {
        return failure(provider, 401, credential);
    }
    match behaviour.unwrap_or(Behaviour::Succeed) {
        Behaviour::Fail(status) => return failure(provider, status, credential),
        Behaviour::Hang => {
            tokio::time::sleep(HANG_FOR).await;
            return failure(provider, 504, credential);
        }
        Behaviour::SlowHeader(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Behaviour::Limited(secs) => {
            let now = std::time::Instant::now();
            let limited = {
                let mut map = shared
                    .limited_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let until = *map
                    .entry(credential.to_string())
                    .or_insert(now + Duration::from_secs(secs));
                now < until
            };
            if limited {
                let mut reply = failure(provider, 429, credential);
                reply.set_header("retry-after", secs.to_string());
                return reply;
            }
        }
        Behaviour::Succeed
        | Behaviour::Cut
        | Behaviour::MaxBody(_)
        | Behaviour::Reset
        | Behaviour::Chaos => {}
    }
    let json = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(json) => json,
            Err(err) => return bad_json(provider, &err.to_string()),
        }
    };
    if method == "POST" && !json.is_object() {
        return bad_json(provider, "the request body must be a JSON object");
    }
    // A model no credential's account may use: the provider's permission answer.
    let model = match route {
        Route::GeminiGenerate(m) | Route::GeminiStream(m) => Some(m.as_str()),
        _ => json.get("model").and_then(Value::as_str),
    };
    if model.is_some_and(|m| m.starts_with("forbidden")) {
        return failure(provider, 403, credential);
    }
    let call = Call {
        shared: Arc::clone(shared),
        body,
        json,
        query,
    };
    match route {
        Route::OpenAiChat => openai::chat(&call),
        Route::OpenAiCompletions => openai::completions(&call),
        Route::OpenAiResponses => openai::responses(&call),
        Route::OpenAiEmbeddings => openai::embeddings(&call),
        Route::OpenAiModels => openai::models(),
        Route::OpenAiModel(id) => openai::model(id),
        Route::AnthropicMessages => anthropic::messages(&call),
        Route::AnthropicCountTokens => anthropic::count_tokens(&call),
        Route::AnthropicModels => anthropic::models(),
        Route::GeminiGenerate(model) => gemini::generate(&call, model),
        Route::GeminiStream(model) => gemini::stream(&call, model),
        Route::GeminiCountTokens(_) => gemini::count_tokens(&call),
        Route::GeminiEmbed(_) => gemini::embed(&call),
        Route::GeminiBatchEmbed(_) => gemini::batch_embed(&call),
        Route::GeminiModels => gemini::models(),
        Route::GeminiModel(name) => gemini::model(name),
        Route::Health | Route::NotFound(_) => not_found(provider, method, path),
    }
}

fn provider_headers(provider: Provider, request_id: &str) -> Vec<(&'static str, String)> {
    match provider {
        // The account headers real providers send; the gateway must not pass them on.
        Provider::OpenAi => vec![
            ("x-request-id", request_id.to_string()),
            ("openai-version", "2020-10-01".to_string()),
            ("openai-processing-ms", "1".to_string()),
            ("openai-organization", "org-mockaccount".to_string()),
            ("openai-project", "proj_mockaccount".to_string()),
        ],
        Provider::Anthropic => vec![
            ("request-id", request_id.to_string()),
            (
                "anthropic-organization-id",
                "6f0b1a8e-0000-4000-8000-mockaccount0".to_string(),
            ),
            ("anthropic-ratelimit-requests-limit", "4000".to_string()),
            ("anthropic-ratelimit-requests-remaining", "3999".to_string()),
        ],
        Provider::Gemini => vec![("server-timing", "gfet4t7; dur=1".to_string())],
    }
}

fn not_found(provider: Provider, method: &str, path: &str) -> Reply {
    let body = match provider {
        Provider::OpenAi => openai::error_body(
            &format!("Invalid URL ({method} {path})"),
            "invalid_request_error",
            None,
        ),
        Provider::Anthropic => anthropic::error_body("not_found_error", "Not Found"),
        Provider::Gemini => gemini::error_body(
            404,
            &format!("The requested URL {path} was not found on this server."),
            "NOT_FOUND",
        ),
    };
    Reply::error(StatusCode::NOT_FOUND, body)
}

fn missing_credential(provider: Provider) -> Reply {
    let body = match provider {
        Provider::OpenAi => openai::error_body(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            None,
        ),
        Provider::Anthropic => {
            anthropic::error_body("authentication_error", "x-api-key header is required")
        }
        Provider::Gemini => gemini::error_body(
            401,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            "UNAUTHENTICATED",
        ),
    };
    Reply::error(StatusCode::UNAUTHORIZED, body)
}

fn bad_json(provider: Provider, detail: &str) -> Reply {
    let body = match provider {
        Provider::OpenAi => openai::error_body(
            &format!("We could not parse the JSON body of your request. ({detail})"),
            "invalid_request_error",
            None,
        ),
        Provider::Anthropic => anthropic::error_body(
            "invalid_request_error",
            &format!("invalid JSON body: {detail}"),
        ),
        Provider::Gemini => gemini::error_body(
            400,
            &format!("Invalid JSON payload received. {detail}"),
            "INVALID_ARGUMENT",
        ),
    };
    Reply::error(StatusCode::BAD_REQUEST, body)
}

/// `fail-quota`: the account behind the key is out of credit.
const QUOTA: u16 = 1;

/// A failure as each provider really answers it (status, body and headers from its docs).
fn failure(provider: Provider, status: u16, credential: &str) -> Reply {
    let mut headers = Vec::new();
    if status == 429 {
        headers.push(("retry-after", "2".to_string()));
    }
    let (status, body) = match provider {
        Provider::OpenAi => {
            if status == 429 {
                headers.extend([
                    ("x-ratelimit-limit-requests", "500".to_string()),
                    ("x-ratelimit-remaining-requests", "0".to_string()),
                    ("x-ratelimit-reset-requests", "2s".to_string()),
                    ("x-ratelimit-limit-tokens", "30000".to_string()),
                    ("x-ratelimit-remaining-tokens", "0".to_string()),
                    ("x-ratelimit-reset-tokens", "2s".to_string()),
                ]);
            }
            match status {
                // A model the account may not use.
                403 => (404, openai::failure_body(404, credential)),
                QUOTA => (429, openai::failure_body(QUOTA, credential)),
                529 => (503, openai::failure_body(503, credential)),
                s => (s, openai::failure_body(s, credential)),
            }
        }
        Provider::Anthropic => {
            if status == 429 {
                headers.extend([
                    ("anthropic-ratelimit-requests-limit", "50".to_string()),
                    ("anthropic-ratelimit-requests-remaining", "0".to_string()),
                    (
                        "anthropic-ratelimit-requests-reset",
                        "1970-01-01T00:00:02Z".to_string(),
                    ),
                ]);
            }
            match status {
                QUOTA => (400, anthropic::failure_body(QUOTA)),
                s => (s, anthropic::failure_body(s)),
            }
        }
        Provider::Gemini => match status {
            // Gemini answers a bad key with 400 INVALID_ARGUMENT.
            401 => (400, gemini::failure_body(401)),
            QUOTA => (400, gemini::failure_body(QUOTA)),
            529 => (503, gemini::failure_body(503)),
            s => (s, gemini::failure_body(s)),
        },
    };
    Reply::Json {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
        usage: None,
        headers,
    }
}

fn render(shared: &Arc<Shared>, index: usize, reply: Reply, cut: bool) -> Response {
    match reply {
        Reply::Json {
            status,
            body,
            usage,
            headers,
        } => {
            let bytes = Bytes::from(body.to_string());
            let content_type = "application/json";
            if cut && status.is_success() {
                return cut_json(status, content_type, bytes, headers);
            }
            if let Some(usage) = usage {
                shared.set_usage(index, usage);
            }
            shared.set_status(index, status.as_u16());
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            set_headers(response.headers_mut(), content_type, headers);
            response
        }
        Reply::Stream {
            content_type,
            events,
            headers,
        } => {
            shared.set_status(index, 200);
            let body = stream_body(Arc::clone(shared), index, events, cut);
            let mut response = Response::new(body);
            set_headers(response.headers_mut(), content_type, headers);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
    }
}

fn set_headers(
    map: &mut HeaderMap,
    content_type: &'static str,
    extra: Vec<(&'static str, String)>,
) {
    map.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(&value) {
            map.append(HeaderName::from_static(name), value);
        }
    }
}

/// Headers with the full Content-Length, half the body, then an aborted connection.
fn cut_json(
    status: StatusCode,
    content_type: &'static str,
    bytes: Bytes,
    headers: Vec<(&'static str, String)>,
) -> Response {
    let full_len = bytes.len();
    let half = bytes.slice(..full_len / 2);
    let stream = async_stream::stream! {
        yield Ok::<Bytes, std::io::Error>(half);
        tokio::time::sleep(CUT_FLUSH).await;
        yield Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "mock cut"));
    };
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    set_headers(response.headers_mut(), content_type, headers);
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
    response
}

/// Sends events one by one: delay between events, gate after the first, cut at half.
fn stream_body(shared: Arc<Shared>, index: usize, events: Vec<Event>, cut: bool) -> Body {
    let total = events.len();
    let cut_at = if cut { Some((total / 2).max(1)) } else { None };
    let delay = shared.opts.event_delay;
    let mut gate = shared.gate.subscribe();
    let stream = async_stream::stream! {
        for (i, event) in events.into_iter().enumerate() {
            if Some(i) == cut_at {
                // Let the connection flush what was sent before aborting it.
                tokio::time::sleep(CUT_FLUSH).await;
                yield Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "mock cut"));
                return;
            }
            if i > 0 {
                if i == 1 {
                    // Ok(_) when released; Err only if the mock is gone, then go on.
                    let _ = gate.wait_for(|released| *released).await;
                }
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
            }
            if let Some(usage) = event.usage {
                shared.set_usage(index, usage);
            }
            yield Ok::<Bytes, std::io::Error>(event.bytes);
        }
    };
    Body::from_stream(stream)
}

/// Deterministic embedding values for input `seed`.
pub(crate) fn embedding_values(seed: u64, dims: usize) -> Vec<f32> {
    let mut state = seed.wrapping_add(0x5151);
    (0..dims)
        .map(|_| {
            state = splitmix64(state);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}
