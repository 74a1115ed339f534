//! Gauges and counters read from their owners at scrape time: credential health, pool
//! availability, the ledger queue, database and Redis errors, logins, requests in flight.

use crate::accounts::Accounts;
use crate::cluster::Cluster;
use crate::health::{HealthRegistry, State, now_ms};
use crate::snapshot::Catalog;
use crate::store::Store;
use crate::usage::Ledger;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Everything the scrape reads.
pub struct Sources {
    pub catalog: Arc<Catalog>,
    pub health: Arc<HealthRegistry>,
    pub ledger: Ledger,
    pub accounts: Arc<Accounts>,
    pub store: Store,
    pub cluster: Cluster,
    pub in_flight: Arc<AtomicUsize>,
}

pub(super) struct LiveCollector {
    sources: Sources,
    client_key_labels: bool,
    started_at: f64,
}

impl std::fmt::Debug for LiveCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCollector").finish_non_exhaustive()
    }
}

type Pairs = Vec<(&'static str, String)>;

/// The state names of `tollgate_credential_state` always listed (`disabled` for a key switched
/// off); a state the health registry adds later is listed once some key is in it.
const STATES: [&str; 5] = [
    "healthy",
    "cooling_down",
    "circuit_open",
    "invalid",
    "disabled",
];

/// The state's name as the API shows it (its serde name).
fn state_name(state: State) -> String {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{state:?}").to_lowercase(),
    }
}

fn gauge<V: prometheus_client::encoding::EncodeGaugeValue + Copy + Default>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Pairs, V)],
) -> Result<(), std::fmt::Error>
where
    ConstGauge<V>: EncodeMetric,
{
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in rows {
        ConstGauge::new(*value).encode(family.encode_family(labels)?)?;
    }
    Ok(())
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Pairs, u64)],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in rows {
        ConstCounter::new(*value).encode(family.encode_family(labels)?)?;
    }
    Ok(())
}

impl LiveCollector {
    pub(super) fn new(sources: Sources, client_key_labels: bool) -> Self {
        let started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Self {
            sources,
            client_key_labels,
            started_at,
        }
    }
}

impl Collector for LiveCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.sources;
        let snapshot = s.catalog.snapshot();
        let now = now_ms();

        // Credentials: one state gauge per key and state, the health score, in-flight count.
        let mut rows = Vec::new();
        let mut scores = Vec::new();
        let mut error_rates = Vec::new();
        let mut per_provider: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut keys: Vec<_> = snapshot.provider_keys().cloned().collect();
        keys.sort_by_key(|k| k.id);
        for key in &keys {
            let provider = snapshot
                .provider(key.provider_id)
                .map_or_else(|| key.provider_id.to_string(), |p| p.name.clone());
            let health = s.health.get(key.id);
            let view = health.view();
            let current = if key.enabled {
                state_name(view.status.state)
            } else {
                "disabled".to_string()
            };
            let base: Pairs = vec![
                ("provider", provider.clone()),
                ("credential_id", key.id.to_string()),
            ];
            rows.push((base.clone(), current));
            scores.push((base.clone(), health.score() as f64 / 100.0));
            error_rates.push((base, view.error_rate));
            let available = key.usable() && key.weight > 0 && health.is_available(now);
            let entry = per_provider.entry(provider).or_default();
            entry.0 += 1;
            entry.1 += i64::from(available);
        }
        let mut names: Vec<String> = STATES.iter().map(|s| s.to_string()).collect();
        for (_, current) in &rows {
            if !names.contains(current) {
                names.push(current.clone());
            }
        }
        let mut states = Vec::new();
        for (base, current) in &rows {
            for name in &names {
                let mut l = base.clone();
                l.push(("state", name.clone()));
                states.push((l, i64::from(name == current)));
            }
        }
        gauge(
            &mut encoder,
            "tollgate_credential_state",
            "1 for the state each provider credential is in (healthy, cooling_down, circuit_open, invalid, disabled), 0 for the others",
            &states,
        )?;
        gauge(
            &mut encoder,
            "tollgate_credential_health_score",
            "The health_best score of each credential: expected latency in ms inflated by errors and load; lower is better",
            &scores,
        )?;
        gauge(
            &mut encoder,
            "tollgate_credential_error_rate",
            "Recent error rate of each credential (moving average, 0 to 1)",
            &error_rates,
        )?;
        let (mut total, mut available) = (Vec::new(), Vec::new());
        for (provider, (n, up)) in per_provider {
            total.push((vec![("provider", provider.clone())], n));
            available.push((vec![("provider", provider)], up));
        }
        gauge(
            &mut encoder,
            "tollgate_provider_credentials",
            "Credentials of each provider in the configuration",
            &total,
        )?;
        gauge(
            &mut encoder,
            "tollgate_provider_credentials_available",
            "Credentials of each provider that could take a request now (enabled, weight > 0, not invalid, cooling down or open)",
            &available,
        )?;

        // Pools: each enabled client key's pool, by how many of its credentials are available.
        let mut pools = Vec::new();
        let mut empty_pools = 0i64;
        let mut clients: Vec<_> = snapshot.client_keys().cloned().collect();
        clients.sort_by_key(|c| c.id);
        for client in clients.iter().filter(|c| c.enabled) {
            let up = client
                .pool
                .iter()
                .filter_map(|id| snapshot.provider_key(*id))
                .filter(|k| k.usable() && k.weight > 0 && k.provider_id == client.provider_id)
                .filter(|k| s.health.get(k.id).is_available(now))
                .count() as i64;
            if up == 0 {
                empty_pools += 1;
            }
            if self.client_key_labels {
                pools.push((vec![("client_key", client.name.clone())], up));
            }
        }
        gauge(
            &mut encoder,
            "tollgate_pools_without_available_credential",
            "Enabled client keys none of whose pool's credentials could take a request now (their requests get 503)",
            &[(Vec::new(), empty_pools)],
        )?;
        if self.client_key_labels {
            gauge(
                &mut encoder,
                "tollgate_pool_credentials_available",
                "Credentials of each enabled client key's pool that could take a request now",
                &pools,
            )?;
        }

        let stats = s.ledger.stats();
        gauge(
            &mut encoder,
            "tollgate_ledger_queue_depth",
            "Request records waiting for the ledger writer",
            &[(Vec::new(), s.ledger.queue_depth() as i64)],
        )?;
        gauge(
            &mut encoder,
            "tollgate_ledger_queue_capacity",
            "Size of the ledger queue (ledger.queue_capacity); a full queue spills records to disk",
            &[(Vec::new(), s.ledger.queue_capacity() as i64)],
        )?;
        counter(
            &mut encoder,
            "tollgate_ledger_rows_written",
            "Request records written to the database",
            &[(Vec::new(), stats.written())],
        )?;
        counter(
            &mut encoder,
            "tollgate_ledger_spilled",
            "Request records appended to the spill file (queue full, or a batch refused five times) to be written later",
            &[(Vec::new(), s.ledger.spilled())],
        )?;
        gauge(
            &mut encoder,
            "tollgate_ledger_spill_pending",
            "Spilled request records not yet written to the database",
            &[(Vec::new(), s.ledger.spill_pending() as i64)],
        )?;
        counter(
            &mut encoder,
            "tollgate_ledger_dropped",
            "Request records lost: the spill file could not be written, or a spilled line was unreadable",
            &[(Vec::new(), s.ledger.dropped())],
        )?;
        counter(
            &mut encoder,
            "tollgate_database_errors",
            "Database statements that failed",
            &[(Vec::new(), s.store.error_count())],
        )?;
        counter(
            &mut encoder,
            "tollgate_redis_errors",
            "Redis calls that failed, by caller: limits (limit checks, settlement flushes, lease renewals), health_sync (key-health exchange), ping (/api/health), oauth_lock (OAuth refresh locks)",
            &s.cluster
                .error_counts()
                .into_iter()
                .map(|(source, n)| (vec![("source", source.to_string())], n))
                .collect::<Vec<_>>(),
        )?;
        let logins = s.accounts.login_counters();
        counter(
            &mut encoder,
            "tollgate_login_failures",
            "Refused logins to the management API: failed (wrong password, unknown user, locked, bad key-pair answer), rate_limited, busy (no password-check slot)",
            &[
                (vec![("reason", "failed".into())], logins.failed),
                (vec![("reason", "rate_limited".into())], logins.rate_limited),
                (vec![("reason", "busy".into())], logins.busy),
            ],
        )?;
        counter(
            &mut encoder,
            "tollgate_login_lockouts",
            "Usernames locked after repeated failed logins",
            &[(Vec::new(), logins.lockouts)],
        )?;
        counter(
            &mut encoder,
            "tollgate_login_challenges_refused",
            "Key-pair login challenges refused because admin.challenges_max live ones existed",
            &[(Vec::new(), logins.challenges_refused)],
        )?;
        gauge(
            &mut encoder,
            "tollgate_requests_in_flight",
            "Proxied requests being answered now",
            &[(Vec::new(), s.in_flight.load(Ordering::Relaxed) as i64)],
        )?;
        gauge(
            &mut encoder,
            "tollgate_start_time_seconds",
            "When this process started, unix seconds",
            &[(Vec::new(), self.started_at)],
        )?;
        Ok(())
    }
}
