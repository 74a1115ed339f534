//! Prometheus metrics and the per-request log line: every per-request figure is derived from
//! the finished ledger record in one place (`observe_request`); gauges (credential health,
//! pools, ledger queue, logins) are read from their owners at scrape time.

mod live;
mod request_log;

pub use live::Sources;

use crate::config::{MetricsConfig, RequestLevel};
use crate::snapshot::Catalog;
use crate::usage::LogRecord;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use tracing::Span;

/// Label pairs; a label that does not apply (the client key when those labels are off) is
/// left out, not sent empty.
type Labels = Vec<(&'static str, String)>;

/// Request latency buckets, seconds: 5 ms to 5 min.
const LATENCY_BUCKETS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
];
/// Upstream attempts per request: 1 (no retry) to 11 (`max_retries` is at most 10).
const ATTEMPT_BUCKETS: [f64; 6] = [1.0, 2.0, 3.0, 4.0, 6.0, 11.0];
/// Longest model name kept as a label value.
const MAX_MODEL_LABEL: usize = 100;
/// The label value for "nothing": no provider (unauthenticated), no model, no error.
const NONE: &str = "none";
/// Model names beyond `metrics.max_models` distinct ones.
const OTHER: &str = "other";

/// The metric families and the registry they are exposed from.
pub struct Metrics {
    registry: Registry,
    catalog: Arc<Catalog>,
    client_key_labels: bool,
    request_level: RequestLevel,
    models: ModelLabels,
    requests: Family<Labels, Counter>,
    request_duration: Family<Labels, Histogram>,
    upstream_ttfb: Family<Labels, Histogram>,
    tokens: Family<Labels, Counter>,
    cost: Family<Labels, Counter<f64, AtomicU64>>,
    unpriced: Family<Labels, Counter>,
    attempts: Family<Labels, Histogram>,
    retries: Family<Labels, Counter>,
    failovers: Family<Labels, Counter>,
    limit_rejections: Family<Labels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn attempts_histogram() -> Histogram {
    Histogram::new(ATTEMPT_BUCKETS)
}

impl Metrics {
    pub fn new(config: &MetricsConfig, request_level: RequestLevel, sources: Sources) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "tollgate_requests",
            "Proxied requests by provider, model, status class (2xx..5xx) and error kind",
            requests.clone(),
        );
        let request_duration =
            Family::<Labels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register_with_unit(
            "tollgate_request_duration",
            "Time from the request's arrival to the end of its answer, by provider, model and status class",
            Unit::Seconds,
            request_duration.clone(),
        );
        let upstream_ttfb =
            Family::<Labels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register_with_unit(
            "tollgate_upstream_ttfb",
            "Time to the upstream's first response byte (time to first token when streaming), by provider and model",
            Unit::Seconds,
            upstream_ttfb.clone(),
        );
        let tokens = Family::<Labels, Counter>::default();
        registry.register(
            "tollgate_tokens",
            "Tokens used, by provider, model and kind (input, output, cache_write, cache_read)",
            tokens.clone(),
        );
        let cost = Family::<Labels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "tollgate_cost",
            "Cost of priced requests in the price's currency, by provider, model and currency",
            cost.clone(),
        );
        let unpriced = Family::<Labels, Counter>::default();
        registry.register(
            "tollgate_unpriced_requests",
            "Requests that used tokens of a model without a price, by provider and model",
            unpriced.clone(),
        );
        let attempts =
            Family::<Labels, Histogram>::new_with_constructor(attempts_histogram as fn() -> _);
        registry.register(
            "tollgate_upstream_attempts",
            "Provider credentials tried per forwarded request, by provider",
            attempts.clone(),
        );
        let retries = Family::<Labels, Counter>::default();
        registry.register(
            "tollgate_retries",
            "Attempts after a request's first one (each on another credential), by provider",
            retries.clone(),
        );
        let failovers = Family::<Labels, Counter>::default();
        registry.register(
            "tollgate_failovers",
            "Requests that moved to another credential at least once, by provider and final status class",
            failovers.clone(),
        );
        let limit_rejections = Family::<Labels, Counter>::default();
        registry.register(
            "tollgate_limit_rejections",
            "Requests refused by a client-key limit, by limit (rpm, max_concurrent, rpd, tpd, cost_per_day, budget)",
            limit_rejections.clone(),
        );
        registry.register(
            "tollgate_build",
            "Build information",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register_with_unit(
            "tollgate_ledger_batch_duration",
            "Time to write one ledger batch (rows and rollups, one transaction, retries included)",
            Unit::Seconds,
            sources.ledger.stats().batch_seconds.clone(),
        );
        let catalog = sources.catalog.clone();
        registry.register_collector(Box::new(live::LiveCollector::new(
            sources,
            config.client_key_labels,
        )));
        Self {
            registry,
            catalog,
            client_key_labels: config.client_key_labels,
            request_level,
            models: ModelLabels::new(config.max_models),
            requests,
            request_duration,
            upstream_ttfb,
            tokens,
            cost,
            unpriced,
            attempts,
            retries,
            failovers,
            limit_rejections,
        }
    }

    /// The exposition text (OpenMetrics).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!("cannot encode metrics: {e}");
        }
        out
    }

    /// Counts a finished request, completes its span and writes its log line: called once per
    /// proxied request, with the record the ledger receives.
    pub fn observe_request(&self, record: &LogRecord, span: &Span) {
        let snapshot = self.catalog.snapshot();
        let provider = record
            .provider_id
            .and_then(|id| snapshot.provider(id))
            .map_or_else(|| NONE.to_string(), |p| p.name.clone());
        let client_key = record
            .client_key_id
            .and_then(|id| snapshot.client_key_by_id(id))
            .map(|k| k.name.clone());
        span.record("status", record.status);
        span.record("provider", provider.as_str());
        if let Some(model) = &record.model {
            span.record("model", model.as_str());
        }
        if let Some(kind) = &record.error_kind {
            span.record("error_kind", kind.as_str());
        }
        span.in_scope(|| {
            request_log::emit(self.request_level, record, &provider, client_key.as_deref());
        });

        let model = record
            .model
            .as_deref()
            .map_or_else(|| NONE.to_string(), |m| self.models.label(m));
        let class = status_class(record.status);
        let key_label = |labels: &mut Labels| {
            if self.client_key_labels {
                labels.push((
                    "client_key",
                    client_key.clone().unwrap_or_else(|| NONE.into()),
                ));
            }
        };
        let mut by_model: Labels = vec![("provider", provider.clone()), ("model", model.clone())];
        key_label(&mut by_model);
        let with = |extra: &[(&'static str, String)]| {
            let mut l = by_model.clone();
            l.extend_from_slice(extra);
            l
        };

        let error_kind = record.error_kind.clone().unwrap_or_else(|| NONE.into());
        self.requests
            .get_or_create(&with(&[
                ("status_class", class.into()),
                ("error_kind", error_kind),
            ]))
            .inc();
        self.request_duration
            .get_or_create(&with(&[("status_class", class.into())]))
            .observe(millis_to_secs(record.latency_ms));
        if let Some(ttfb) = record.ttfb_ms {
            self.upstream_ttfb
                .get_or_create(&by_model)
                .observe(millis_to_secs(ttfb));
        }
        for (kind, n) in [
            ("input", record.prompt_tokens),
            ("output", record.completion_tokens),
            ("cache_write", record.cache_write_tokens),
            ("cache_read", record.cache_read_tokens),
        ] {
            if n > 0 {
                self.tokens
                    .get_or_create(&with(&[("kind", kind.into())]))
                    .inc_by(n);
            }
        }
        match record.cost_nanos {
            Some(nanos) if nanos > 0 => {
                let currency = record
                    .model
                    .as_deref()
                    .and_then(|m| snapshot.price_at(m, record.created_at))
                    .map_or_else(|| "USD".to_string(), |p| p.currency.clone());
                self.cost
                    .get_or_create(&with(&[("currency", currency)]))
                    .inc_by(nanos as f64 / 1e9);
            }
            None if record.total_tokens() > 0 => {
                self.unpriced.get_or_create(&by_model).inc();
            }
            _ => {}
        }

        let mut by_provider: Labels = vec![("provider", provider)];
        key_label(&mut by_provider);
        let tries = record.attempts.len() as u64;
        if tries > 0 {
            self.attempts
                .get_or_create(&by_provider)
                .observe(tries as f64);
        }
        if tries > 1 {
            self.retries.get_or_create(&by_provider).inc_by(tries - 1);
            let mut l = by_provider.clone();
            l.push(("status_class", class.into()));
            self.failovers.get_or_create(&l).inc();
        }
        if let Some(limit) = record
            .error_kind
            .as_deref()
            .and_then(|k| k.strip_prefix("limit_"))
        {
            let mut l: Labels = vec![("limit", limit.to_string())];
            key_label(&mut l);
            self.limit_rejections.get_or_create(&l).inc();
        }
    }
}

/// The span of one proxied request: it covers the whole answer (the pipeline runs inside it)
/// and gets the outcome recorded when the request finishes. Exported as a trace when
/// `otel.endpoint` is set.
pub fn request_span(request_id: &str, method: &str, path: &str) -> Span {
    tracing::info_span!(
        target: "tollgate::request",
        "proxy_request",
        request_id = %request_id,
        method = %method,
        path = %path,
        status = tracing::field::Empty,
        provider = tracing::field::Empty,
        model = tracing::field::Empty,
        error_kind = tracing::field::Empty,
    )
}

fn millis_to_secs(ms: i64) -> f64 {
    ms.max(0) as f64 / 1000.0
}

/// `2xx`, `4xx`, …; `0xx` for a request that never got a status (the client left first).
fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        5 => "5xx",
        _ => "0xx",
    }
}

/// Model names are chosen by callers, so the label values are bounded: the first
/// `metrics.max_models` distinct names (cut to 100 characters) are kept, later ones count as
/// `other`.
struct ModelLabels {
    max: usize,
    seen: Mutex<HashSet<String>>,
}

impl ModelLabels {
    fn new(max: usize) -> Self {
        Self {
            max,
            seen: Mutex::new(HashSet::new()),
        }
    }

    fn label(&self, model: &str) -> String {
        let name: String = model.chars().take(MAX_MODEL_LABEL).collect();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(&name) {
            return name;
        }
        if seen.len() < self.max {
            seen.insert(name.clone());
            return name;
        }
        OTHER.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn model_labels_are_bounded() {
        let m = ModelLabels::new(2);
        assert_eq!(m.label("a"), "a");
        assert_eq!(m.label("b"), "b");
        assert_eq!(m.label("c"), "other");
        assert_eq!(m.label("a"), "a");
        assert_eq!(m.label(&"x".repeat(500)).len(), 5);
        let long = ModelLabels::new(10);
        assert_eq!(long.label(&"y".repeat(500)).len(), MAX_MODEL_LABEL);
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(0), "0xx");
    }
}
