//! Active health checks: a cheap call per key (the provider's health-check path, as data) on
//! an interval and on demand, moving keys in and out of rotation.

use super::{HealthRegistry, Signal, now_ms};
use crate::providers::{self, ApiFormat, Verdict};
use crate::snapshot::{Catalog, ProviderEntry, ProviderKeyEntry};
use crate::upstream::{self, UpstreamClient};
use chrono::{DateTime, Utc};
use pingora::http::RequestHeader;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One active health check of a provider key.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CheckResult {
    pub ok: bool,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub checked_at: DateTime<Utc>,
}

pub struct Prober {
    client: UpstreamClient,
    registry: Arc<HealthRegistry>,
    timeout: Duration,
}

impl Prober {
    pub fn new(registry: Arc<HealthRegistry>, timeout: Duration) -> Self {
        Self {
            client: UpstreamClient::new(Duration::from_secs(30)),
            registry,
            timeout,
        }
    }

    /// Runs one check now, records it in the key's health, and returns it.
    pub async fn check(&self, provider: &ProviderEntry, key: &ProviderKeyEntry) -> CheckResult {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.timeout, self.call(provider, key)).await;
        let latency = started.elapsed();
        let (signal, status, error) = match outcome {
            Err(_) => (
                Some(Signal::UNRELATED_FAILURE),
                None,
                Some("timeout".to_string()),
            ),
            Ok(Err(kind)) => (
                Some(Signal::UNRELATED_FAILURE),
                None,
                Some(kind.to_string()),
            ),
            Ok(Ok((status, verdict))) => {
                // A check is no request of anyone's: even a "caller fault" answer means the
                // check itself cannot pass, which counts against the key like a failure.
                let signal = Signal::from_verdict(&verdict, latency, None, true)
                    .or(Some(Signal::UNRELATED_FAILURE));
                let error = (!(200..=299).contains(&status)).then(|| match &verdict.code {
                    Some(code) => format!("status {status} ({code})"),
                    None => format!("status {status}"),
                });
                (signal, Some(status), error)
            }
        };
        let result = CheckResult {
            ok: matches!(signal, Some(Signal::Success { .. })),
            status,
            latency_ms: latency.as_millis() as u64,
            error,
            checked_at: Utc::now(),
        };
        let health = self.registry.get(key.id);
        if let Some(signal) = signal {
            health.record(signal, &self.registry.policy);
        }
        health.set_last_check(result.clone());
        result
    }

    async fn call(
        &self,
        provider: &ProviderEntry,
        key: &ProviderKeyEntry,
    ) -> Result<(u16, Verdict), &'static str> {
        let peer = self.client.peer(provider).await.map_err(|e| e.kind())?;
        let path = format!(
            "{}{}",
            provider.upstream.path_prefix, provider.health_check_path
        );
        let mut header =
            RequestHeader::build("GET", path.as_bytes(), Some(4)).map_err(|_| "bad_path")?;
        header
            .insert_header(http::header::HOST, provider.upstream.host_header.as_str())
            .map_err(|_| "bad_host")?;
        if provider.format == ApiFormat::Anthropic {
            header
                .insert_header("anthropic-version", "2023-06-01")
                .map_err(|_| "bad_header")?;
        }
        upstream::set_credential(&mut header, provider.auth, key.credential().expose())
            .map_err(|_| "bad_credential")?;
        let mut session = self
            .client
            .send(&peer, &header, &bytes::Bytes::new())
            .await
            .map_err(|e| e.kind())?
            .session;
        let resp = session.response_header().ok_or("bad_response")?.clone();
        let status = resp.status.as_u16();
        let body = if status >= 400 {
            upstream::read_bounded(&mut session, providers::MAX_ERROR_BODY)
                .await
                .0
        } else {
            bytes::Bytes::new()
        };
        let verdict = providers::verdict(provider.format, status, &resp.headers, &body, now_ms());
        Ok((status, verdict))
    }

    /// Checks every enabled key of every enabled provider on an interval.
    pub async fn run(
        self: Arc<Self>,
        catalog: Arc<Catalog>,
        every: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            let snapshot = catalog.snapshot();
            for key in snapshot.provider_keys().filter(|k| k.usable()) {
                let Some(provider) = snapshot.provider(key.provider_id).filter(|p| p.enabled)
                else {
                    continue;
                };
                let result = self.check(provider, key).await;
                if !result.ok {
                    tracing::info!(provider_key = key.id, error = ?result.error, "health check failed");
                }
            }
        }
    }
}
