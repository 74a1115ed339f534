//! The ledger: request records go through a bounded queue to a batch writer, off the hot path.
//! Each batch is written with the usage rollups it adds to, in one transaction.

use super::rollup;
use crate::store::Store;
use chrono::{DateTime, Utc};
use entity::request_log;
use sea_orm::Set;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// One try of one provider key within a request.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct AttemptRecord {
    pub provider_key_id: i64,
    /// The provider tried (rows written before routing may lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<i64>,
    /// The model asked of that provider (after `provider/` prefixes and model routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The request was translated into the provider's API format.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub translated: bool,
    pub status: Option<u16>,
    pub error_kind: Option<String>,
    /// The provider's own error code or type (`invalid_api_key`, `overloaded_error`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub latency_ms: u64,
}

/// One request as it will be stored.
#[derive(Debug, Clone, Default)]
pub struct LogRecord {
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub client_key_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub provider_key_id: Option<i64>,
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    pub status: u16,
    pub error_kind: Option<String>,
    pub latency_ms: i64,
    pub ttfb_ms: Option<i64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cache_write_tokens: u64,
    pub cache_read_tokens: u64,
    pub cost_nanos: Option<i64>,
    pub stream: bool,
    pub partial: bool,
    pub attempts: Vec<AttemptRecord>,
    /// The provider's prompt figure already includes cached tokens (OpenAI, Gemini).
    pub provider_format_includes_cache: bool,
    /// `provider` or `estimated`; `None` when the answer carried no usage.
    pub usage_source: Option<UsageSource>,
    /// The model the answer named.
    pub response_model: Option<String>,
    /// The model the request was finally sent to, when it differs from `model`.
    pub resolved_model: Option<String>,
    /// The model route that chose the targets.
    pub route: Option<String>,
    /// The request and answer were translated between API formats.
    pub translated: bool,
}

/// Where a request's token figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageSource {
    /// The provider's own usage report.
    Provider,
    /// The answer ended before the provider reported usage: tokens counted with a tokenizer.
    Estimated,
}

impl UsageSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UsageSource::Provider => "provider",
            UsageSource::Estimated => "estimated",
        }
    }
}

impl LogRecord {
    /// Every token the request used: input (cached or not), cache writes, output.
    pub fn total_tokens(&self) -> u64 {
        let cache = if self.provider_format_includes_cache {
            0
        } else {
            self.cache_read_tokens + self.cache_write_tokens
        };
        self.prompt_tokens + cache + self.completion_tokens
    }

    fn into_row(self) -> request_log::ActiveModel {
        let tokens = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        request_log::ActiveModel {
            request_id: Set(self.request_id),
            created_at: Set(self.created_at),
            client_key_id: Set(self.client_key_id),
            provider_id: Set(self.provider_id),
            provider_key_id: Set(self.provider_key_id),
            method: Set(self.method),
            path: Set(self.path),
            model: Set(self.model),
            status: Set(i32::from(self.status)),
            error_kind: Set(self.error_kind),
            latency_ms: Set(self.latency_ms),
            ttfb_ms: Set(self.ttfb_ms),
            prompt_tokens: Set(tokens(self.prompt_tokens)),
            completion_tokens: Set(tokens(self.completion_tokens)),
            cache_write_tokens: Set(tokens(self.cache_write_tokens)),
            cache_read_tokens: Set(tokens(self.cache_read_tokens)),
            cost_nanos: Set(self.cost_nanos),
            stream: Set(self.stream),
            partial: Set(self.partial),
            attempts: Set((!self.attempts.is_empty())
                .then(|| serde_json::to_string(&self.attempts).ok())
                .flatten()),
            usage_source: Set(self.usage_source.map(|s| s.as_str().to_string())),
            response_model: Set(self.response_model),
            resolved_model: Set(self.resolved_model),
            route: Set(self.route),
            translated: Set(self.translated),
            ..Default::default()
        }
    }
}

/// The sending side, shared by the proxy. Never blocks.
#[derive(Clone)]
pub struct Ledger {
    tx: mpsc::Sender<LogRecord>,
    dropped: Arc<AtomicU64>,
}

/// The receiving side: owned by one task that writes batches.
pub struct LedgerWriter {
    rx: mpsc::Receiver<LogRecord>,
    store: Store,
    batch_size: usize,
    dropped: Arc<AtomicU64>,
}

impl Ledger {
    pub fn new(store: Store, capacity: usize, batch_size: usize) -> (Ledger, LedgerWriter) {
        let (tx, rx) = mpsc::channel(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        (
            Ledger {
                tx,
                dropped: dropped.clone(),
            },
            LedgerWriter {
                rx,
                store,
                batch_size,
                dropped,
            },
        )
    }

    /// Queues a record; when the queue is full the record is dropped, counted and logged.
    pub fn record(&self, record: LogRecord) {
        if let Err(err) = self.tx.try_send(record) {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n % 1000 == 0 {
                let why = match err {
                    mpsc::error::TrySendError::Full(_) => "queue full",
                    mpsc::error::TrySendError::Closed(_) => "writer stopped",
                };
                tracing::warn!(dropped_total = n, "ledger record dropped: {why}");
            }
        }
    }

    /// Queues a record, waiting while the queue is full: for bulk loads (tools and tests),
    /// never for the proxy. Fails only when the writer has stopped.
    pub async fn record_waiting(&self, record: LogRecord) -> Result<(), LogRecord> {
        self.tx.send(record).await.map_err(|e| e.0)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl LedgerWriter {
    /// Writes batches until the queue is closed (all senders gone or `close` called) and drained.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut batch = Vec::with_capacity(self.batch_size);
        loop {
            tokio::select! {
                n = self.rx.recv_many(&mut batch, self.batch_size) => {
                    if n == 0 {
                        break;
                    }
                    self.write(&mut batch).await;
                }
                _ = stop.changed() => {
                    // Flush what is queued, then stop.
                    self.rx.close();
                    while self.rx.recv_many(&mut batch, self.batch_size).await > 0 {
                        self.write(&mut batch).await;
                    }
                    break;
                }
            }
        }
        tracing::info!(
            dropped = self.dropped.load(Ordering::Relaxed),
            "ledger writer stopped"
        );
    }

    async fn write(&self, batch: &mut Vec<LogRecord>) {
        let rollups = rollup::aggregate(batch);
        let rows: Vec<_> = batch.drain(..).map(LogRecord::into_row).collect();
        let count = rows.len();
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=5 {
            match self.store.write_ledger_batch(rows.clone(), &rollups).await {
                Ok(()) => return,
                Err(e) if attempt < 5 => {
                    tracing::warn!(attempt, "ledger batch of {count} failed, retrying: {e}");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => {
                    self.dropped.fetch_add(count as u64, Ordering::Relaxed);
                    tracing::error!("ledger batch of {count} rows lost: {e}");
                }
            }
        }
    }
}
