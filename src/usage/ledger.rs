//! The ledger: request records go through a bounded queue to a batch writer, off the hot path.
//! Each batch is written with the usage rollups it adds to, in one transaction.

use super::rollup;
use super::spill::Spill;
use crate::store::{LedgerRows, Store};
use chrono::{DateTime, Utc};
use entity::request_log;
use sea_orm::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
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

/// One request as it will be stored (and, when the queue is full, as it is spilled to disk).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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

    /// The request-log columns [`LogRecord::values`] fills, in its order.
    const COLUMNS: &'static [request_log::Column] = {
        use request_log::Column as C;
        &[
            C::RequestId,
            C::CreatedAt,
            C::ClientKeyId,
            C::ProviderId,
            C::ProviderKeyId,
            C::Method,
            C::Path,
            C::Model,
            C::Status,
            C::ErrorKind,
            C::LatencyMs,
            C::TtfbMs,
            C::PromptTokens,
            C::CompletionTokens,
            C::CacheWriteTokens,
            C::CacheReadTokens,
            C::CostNanos,
            C::Stream,
            C::Partial,
            C::Attempts,
            C::UsageSource,
            C::ResponseModel,
            C::ResolvedModel,
            C::Route,
            C::Translated,
        ]
    };

    /// The row's values, in the order of [`LogRecord::COLUMNS`].
    fn values(&self) -> [Value; 25] {
        let tokens = |v: u64| Value::from(i64::try_from(v).unwrap_or(i64::MAX));
        let attempts = (!self.attempts.is_empty())
            .then(|| serde_json::to_string(&self.attempts).ok())
            .flatten();
        [
            self.request_id.clone().into(),
            self.created_at.into(),
            self.client_key_id.into(),
            self.provider_id.into(),
            self.provider_key_id.into(),
            self.method.clone().into(),
            self.path.clone().into(),
            self.model.clone().into(),
            i32::from(self.status).into(),
            self.error_kind.clone().into(),
            self.latency_ms.into(),
            self.ttfb_ms.into(),
            tokens(self.prompt_tokens),
            tokens(self.completion_tokens),
            tokens(self.cache_write_tokens),
            tokens(self.cache_read_tokens),
            self.cost_nanos.into(),
            self.stream.into(),
            self.partial.into(),
            attempts.into(),
            self.usage_source.map(|s| s.as_str().to_string()).into(),
            self.response_model.clone().into(),
            self.resolved_model.clone().into(),
            self.route.clone().into(),
            self.translated.into(),
        ]
    }
}

/// The sending side, shared by the proxy. Never blocks (a spill is one small file append).
#[derive(Clone)]
pub struct Ledger {
    tx: mpsc::Sender<LogRecord>,
    dropped: Arc<AtomicU64>,
    stats: Arc<LedgerStats>,
    spill: Option<Arc<Spill>>,
}

/// The receiving side: owned by one task that writes batches.
pub struct LedgerWriter {
    rx: mpsc::Receiver<LogRecord>,
    store: Store,
    batch_size: usize,
    /// How long a batch that is not full waits for more records.
    linger: Duration,
    dropped: Arc<AtomicU64>,
    stats: Arc<LedgerStats>,
    spill: Option<Arc<Spill>>,
}

/// How often the writer looks for spilled records to replay when nothing else arrives.
const REPLAY_TICK: Duration = Duration::from_millis(500);

/// What the writer has done, for metrics.
#[derive(Debug)]
pub struct LedgerStats {
    written: AtomicU64,
    /// Seconds per batch write (retries included).
    pub batch_seconds: prometheus_client::metrics::histogram::Histogram,
}

impl LedgerStats {
    fn new() -> Self {
        Self {
            written: AtomicU64::new(0),
            batch_seconds: prometheus_client::metrics::histogram::Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
        }
    }

    /// Rows written to the database since start.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

impl Ledger {
    pub fn new(store: Store, capacity: usize, batch_size: usize) -> (Ledger, LedgerWriter) {
        let (tx, rx) = mpsc::channel(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let stats = Arc::new(LedgerStats::new());
        (
            Ledger {
                tx,
                dropped: dropped.clone(),
                stats: stats.clone(),
                spill: None,
            },
            LedgerWriter {
                rx,
                store,
                batch_size,
                linger: Duration::ZERO,
                dropped,
                stats,
                spill: None,
            },
        )
    }

    /// Like [`Ledger::new`], with records that do not fit the queue (or that the database
    /// refuses) appended to `spill` and replayed by the writer.
    pub fn with_spill(
        store: Store,
        capacity: usize,
        batch_size: usize,
        spill: Arc<Spill>,
    ) -> (Ledger, LedgerWriter) {
        let (mut ledger, mut writer) = Self::new(store, capacity, batch_size);
        ledger.spill = Some(spill.clone());
        writer.spill = Some(spill);
        (ledger, writer)
    }

    /// Queues a record; when the queue is full the record is spilled to disk, and only when
    /// that fails (or there is no spill file) dropped, counted and logged.
    pub fn record(&self, record: LogRecord) {
        let why = match self.tx.try_send(record) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(record)) => match &self.spill {
                Some(spill) => match spill.append([&record]) {
                    Ok(_) => return,
                    Err(e) => format!("queue full and the spill file cannot be written: {e}"),
                },
                None => "queue full".to_string(),
            },
            Err(mpsc::error::TrySendError::Closed(_)) => "writer stopped".to_string(),
        };
        let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if n == 1 || n % 1000 == 0 {
            tracing::warn!(dropped_total = n, "ledger record dropped: {why}");
        }
    }

    /// Records appended to the spill file since start.
    pub fn spilled(&self) -> u64 {
        self.spill.as_ref().map_or(0, |s| s.spilled())
    }

    /// Records in the spill file waiting to be written.
    pub fn spill_pending(&self) -> u64 {
        self.spill.as_ref().map_or(0, |s| s.pending())
    }

    /// Queues a record, waiting while the queue is full: for bulk loads (tools and tests),
    /// never for the proxy. Fails only when the writer has stopped.
    pub async fn record_waiting(&self, record: LogRecord) -> Result<(), LogRecord> {
        self.tx.send(record).await.map_err(|e| e.0)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Records waiting for the writer.
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    pub fn queue_capacity(&self) -> usize {
        self.tx.max_capacity()
    }

    pub fn stats(&self) -> &LedgerStats {
        &self.stats
    }
}

impl LedgerWriter {
    /// Lets a batch that is not full wait up to `linger` for more records before it is written:
    /// under load the database gets a few large transactions instead of many small ones.
    pub fn with_linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// Writes batches until the queue is closed (all senders gone or `close` called) and drained.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut batch = Vec::with_capacity(self.batch_size);
        // What an earlier run spilled goes first.
        self.replay_spill().await;
        let mut tick = tokio::time::interval(REPLAY_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                n = self.rx.recv_many(&mut batch, self.batch_size) => {
                    if n == 0 {
                        break;
                    }
                    self.fill(&mut batch).await;
                    self.write(&mut batch).await;
                }
                _ = tick.tick() => {
                    // Replay once the queue has room again, so replaying never makes it spill.
                    if self.rx.len() <= self.rx.max_capacity() / 2 {
                        self.replay_spill().await;
                    }
                }
                _ = stop.changed() => {
                    // Flush what is queued, then what was spilled, then stop.
                    self.rx.close();
                    while self.rx.recv_many(&mut batch, self.batch_size).await > 0 {
                        self.write(&mut batch).await;
                    }
                    self.replay_spill().await;
                    break;
                }
            }
        }
        tracing::info!(
            dropped = self.dropped.load(Ordering::Relaxed),
            "ledger writer stopped"
        );
    }

    /// Lets a batch that is not full wait out the linger, then takes what arrived meanwhile. The
    /// queue is not watched during the wait, so senders wake nobody: one wake-up per batch
    /// rather than one per record.
    async fn fill(&mut self, batch: &mut Vec<LogRecord>) {
        if self.linger.is_zero() || batch.len() >= self.batch_size {
            return;
        }
        if self.rx.len() + batch.len() < self.batch_size {
            tokio::time::sleep(self.linger).await;
        }
        while batch.len() < self.batch_size {
            match self.rx.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => return,
            }
        }
    }

    async fn write(&self, batch: &mut Vec<LogRecord>) {
        let started = Instant::now();
        self.write_batch(batch).await;
        self.stats
            .batch_seconds
            .observe(started.elapsed().as_secs_f64());
    }

    /// Writes a batch (emptying it). When the database refused it five times it is spilled;
    /// only when that fails too are the rows lost, and counted as dropped.
    async fn write_batch(&self, batch: &mut Vec<LogRecord>) {
        if !self.try_write_batch(batch, false).await {
            let count = batch.len() as u64;
            match self.spill.as_ref().map(|s| s.append(batch.iter())) {
                Some(Ok(_)) => tracing::warn!("ledger batch of {count} spilled for a later retry"),
                Some(Err(e)) => {
                    self.dropped.fetch_add(count, Ordering::Relaxed);
                    tracing::error!("ledger batch of {count} rows lost (spill file: {e})");
                }
                None => {
                    self.dropped.fetch_add(count, Ordering::Relaxed);
                    tracing::error!("ledger batch of {count} rows lost");
                }
            }
        }
        batch.clear();
    }

    /// Writes spilled records back, batch by batch, until the spill files are empty or the
    /// database refuses (they stay for the next try).
    async fn replay_spill(&self) {
        let Some(spill) = self.spill.clone() else {
            return;
        };
        while spill.has_work() {
            let mut replay = match spill.open_replay() {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    tracing::error!("cannot open the ledger spill file: {e}");
                    return;
                }
            };
            loop {
                let (batch, bad) = match replay.next_batch(self.batch_size) {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::error!("cannot read the ledger spill file: {e}");
                        return;
                    }
                };
                if bad > 0 {
                    self.dropped.fetch_add(bad, Ordering::Relaxed);
                    tracing::error!("{bad} unreadable lines in the ledger spill file skipped");
                }
                if batch.is_empty() {
                    break;
                }
                let n = batch.len() as u64;
                if !self.try_write_batch(&batch, true).await {
                    // Stays in the file (from the last committed offset) for the next tick.
                    return;
                }
                spill.replayed(n);
                if let Err(e) = replay.commit() {
                    tracing::error!("cannot record the ledger replay's progress: {e}");
                }
            }
            if let Err(e) = replay.finish() {
                tracing::error!("cannot remove the replayed ledger spill file: {e}");
                return;
            }
            tracing::info!(spilled_total = spill.spilled(), "ledger spill replayed");
        }
    }

    /// One batch with its rollups in one transaction, retried up to five times; whether it
    /// was written. `replay`: the records come from the spill file, where a crash between a
    /// batch's commit and the replay's progress mark can leave records already stored.
    async fn try_write_batch(&self, batch: &[LogRecord], replay: bool) -> bool {
        // The batch as it will be written, once request-id conflicts have been resolved.
        let mut resolved: Option<Vec<LogRecord>> = None;
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=5 {
            let records = resolved.as_deref().unwrap_or(batch);
            if records.is_empty() {
                return true;
            }
            let rollups = rollup::aggregate(records);
            let mut rows = LedgerRows::new(LogRecord::COLUMNS, records.len());
            for record in records {
                rows.push(record.values());
            }
            let count = rows.len();
            match self.store.write_ledger_batch(rows, &rollups).await {
                Ok(()) => {
                    self.stats
                        .written
                        .fetch_add(count as u64, Ordering::Relaxed);
                    return true;
                }
                // A request id already stored: try again at once without the conflict.
                Err(e) if e.is_conflict() && attempt < 5 => {
                    match self.resolve_conflicts(records, replay).await {
                        Ok(kept) => resolved = Some(kept),
                        Err(e) => tracing::warn!(
                            "ledger batch of {count} conflicts and cannot be checked: {e}"
                        ),
                    }
                }
                Err(e) if attempt < 5 => {
                    tracing::warn!(attempt, "ledger batch of {count} failed, retrying: {e}");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => {
                    tracing::error!("ledger batch of {count} rows failed five times: {e}");
                }
            }
        }
        false
    }

    /// The records minus those already stored by a replay interrupted by a crash (same request
    /// id and time), with every other request id that is stored, or repeated within the batch,
    /// made unique (`<id>~<random>`): a caller-chosen `x-request-id` used twice keeps both rows.
    async fn resolve_conflicts(
        &self,
        records: &[LogRecord],
        replay: bool,
    ) -> Result<Vec<LogRecord>, crate::store::StoreError> {
        let ids: Vec<String> = records.iter().map(|r| r.request_id.clone()).collect();
        let stored = self.store.existing_request_ids(&ids).await?;
        let mut seen = HashSet::new();
        let mut kept = Vec::with_capacity(records.len());
        for record in records {
            let mut record = record.clone();
            let id = record.request_id.clone();
            match stored.get(&id) {
                Some(at)
                    if replay && at.timestamp_micros() == record.created_at.timestamp_micros() =>
                {
                    tracing::info!(request_id = %id, "spilled record already stored; skipped");
                    continue;
                }
                Some(_) => {}
                None if seen.insert(id.clone()) => {
                    kept.push(record);
                    continue;
                }
                None => {}
            }
            let renamed = format!("{id}~{}", uuid::Uuid::new_v4().simple());
            tracing::warn!(request_id = %id, stored_as = %renamed, "request id already recorded; stored under another");
            record.request_id = renamed;
            kept.push(record);
        }
        Ok(kept)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    /// The hand-written insert names every column of the entity but the id, once each, and
    /// each row gives one value per column.
    #[test]
    fn columns_cover_the_entity() {
        let mut expected: Vec<String> = request_log::Column::iter()
            .map(|c| format!("{c:?}"))
            .filter(|c| c != "Id")
            .collect();
        let mut named: Vec<String> = LogRecord::COLUMNS
            .iter()
            .map(|c| format!("{c:?}"))
            .collect();
        expected.sort();
        named.sort();
        assert_eq!(named, expected);
        assert_eq!(
            LogRecord::default().values().len(),
            LogRecord::COLUMNS.len()
        );
    }
}
