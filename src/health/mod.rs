//! Provider-key health: passive signals from live traffic (invalid, cooling down, circuit open),
//! latency and error statistics for the scheduler, and the state shown by the API.

mod probe;
mod shared;

pub use probe::{CheckResult, Prober};
pub use shared::HealthSync;

use crate::providers::{Verdict, VerdictClass};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Tuning of the passive health rules.
#[derive(Debug, Clone)]
pub struct HealthPolicy {
    /// Consecutive connect errors, timeouts or 5xx that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit stays open before a half-open trial.
    pub circuit_open: Duration,
    /// Cooldown for a 429 without `Retry-After`: doubles per consecutive 429, capped here.
    pub cooldown_max: Duration,
    /// How long a key whose account is out of quota or credit stays out of rotation when the
    /// provider does not say.
    pub quota_cooldown: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            failure_threshold: 3,
            circuit_open: Duration::from_secs(30),
            cooldown_max: Duration::from_secs(300),
            quota_cooldown: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Healthy,
    CoolingDown,
    CircuitOpen,
    /// The account behind the key is out of quota or credit (a long cool-down).
    QuotaExhausted,
    Invalid,
}

/// What an attempt on a key ended with, as far as health is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Success {
        ttfb: Duration,
    },
    /// The provider says the credential is invalid; `reason` is its own code.
    Rejected {
        reason: String,
    },
    /// The credential's account is out of quota or credit.
    OutOfQuota {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// 429, with the provider's reset time when it gave one.
    RateLimited {
        retry_after: Option<Duration>,
    },
    /// Connect error, timeout, 5xx, overload. `by`: the client key whose request failed, when
    /// the request itself may have caused it (`None`: it cannot have, e.g. a connect error).
    /// `shared`: the credential also serves other client keys.
    Failure {
        by: Option<i64>,
        shared: bool,
    },
}

impl Signal {
    /// A failure that no request can have caused (connect, DNS, TLS, an active check).
    pub const UNRELATED_FAILURE: Signal = Signal::Failure {
        by: None,
        shared: true,
    };

    /// What a provider's verdict on an answer says about the key; `None` for the caller's own
    /// faults, which say nothing about it. `ttfb` is used for a success; `by` and `shared` as
    /// in [`Signal::Failure`].
    pub fn from_verdict(
        verdict: &Verdict,
        ttfb: Duration,
        by: Option<i64>,
        shared: bool,
    ) -> Option<Signal> {
        let code = || {
            verdict
                .code
                .clone()
                .unwrap_or_else(|| "no code".to_string())
        };
        match verdict.class {
            VerdictClass::Success => Some(Signal::Success { ttfb }),
            VerdictClass::CallerFault => None,
            VerdictClass::CredentialInvalid => Some(Signal::Rejected { reason: code() }),
            VerdictClass::CredentialQuota => Some(Signal::OutOfQuota {
                reason: code(),
                retry_after: verdict.retry_after,
            }),
            VerdictClass::RateLimited => Some(Signal::RateLimited {
                retry_after: verdict.retry_after,
            }),
            VerdictClass::Overloaded | VerdictClass::ServerError => {
                Some(Signal::Failure { by, shared })
            }
        }
    }
}

/// Shared, serialisable part of a key's health (what other instances learn through Redis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub state: State,
    pub reason: Option<String>,
    /// Unix milliseconds since the state began.
    pub since_ms: u64,
    /// Unix milliseconds when the key may be tried again (cooldown, open circuit).
    pub retry_at_ms: Option<u64>,
}

impl Default for Status {
    /// Healthy since forever: any state another instance published is newer.
    fn default() -> Self {
        Self {
            state: State::Healthy,
            reason: None,
            since_ms: 0,
            retry_at_ms: None,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    status: Status,
    consecutive_failures: u32,
    /// Who caused the current run of failures: the first client key, and whether another
    /// client key (or a cause no request controls) failed too.
    run_by: Option<i64>,
    run_mixed: bool,
    consecutive_429: u32,
    /// A half-open trial is under way (only one request probes an open circuit).
    trial_in_flight: bool,
    latency_ewma_ms: Option<f64>,
    error_ewma: f64,
    /// Bumped on every local change, so the Redis sync knows what to publish.
    version: u64,
    last_check: Option<CheckResult>,
}

/// One provider key's health.
#[derive(Debug, Default)]
pub struct KeyHealth {
    inner: Mutex<Inner>,
    in_flight: AtomicU32,
}

/// Read-only view for the API and the scheduler.
#[derive(Debug, Clone, Serialize)]
pub struct HealthView {
    #[serde(flatten)]
    pub status: Status,
    pub latency_ms: Option<f64>,
    pub error_rate: f64,
    pub in_flight: u32,
    pub consecutive_failures: u32,
    pub last_check: Option<CheckResult>,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

const LATENCY_ALPHA: f64 = 0.2;
const ERROR_ALPHA: f64 = 0.1;

impl KeyHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the key may take a request now. A key whose cooldown or open circuit has run
    /// out is usable again; for an open circuit only one trial request is let through.
    pub fn try_admit(&self, now: u64) -> bool {
        let mut g = self.lock();
        match g.status.state {
            State::Healthy => true,
            State::Invalid => false,
            State::CoolingDown | State::QuotaExhausted => {
                if g.status.retry_at_ms.is_some_and(|t| now >= t) {
                    g.status = Status {
                        state: State::Healthy,
                        reason: None,
                        since_ms: now,
                        retry_at_ms: None,
                    };
                    g.version += 1;
                    true
                } else {
                    false
                }
            }
            State::CircuitOpen => {
                if g.status.retry_at_ms.is_some_and(|t| now >= t) && !g.trial_in_flight {
                    g.trial_in_flight = true;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Whether the key could take a request now, without claiming a trial slot.
    pub fn is_available(&self, now: u64) -> bool {
        let g = self.lock();
        match g.status.state {
            State::Healthy => true,
            State::Invalid => false,
            State::CoolingDown | State::QuotaExhausted => {
                g.status.retry_at_ms.is_some_and(|t| now >= t)
            }
            State::CircuitOpen => {
                g.status.retry_at_ms.is_some_and(|t| now >= t) && !g.trial_in_flight
            }
        }
    }

    pub fn begin(self: &Arc<Self>) -> InFlightGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlightGuard(self.clone())
    }

    pub fn record(&self, signal: Signal, policy: &HealthPolicy) {
        let now = now_ms();
        let mut g = self.lock();
        g.trial_in_flight = false;
        let before = g.status.clone();
        match signal {
            Signal::Success { ttfb } => {
                let ms = ttfb.as_secs_f64() * 1000.0;
                g.latency_ewma_ms = Some(match g.latency_ewma_ms {
                    Some(prev) => prev + LATENCY_ALPHA * (ms - prev),
                    None => ms,
                });
                g.error_ewma *= 1.0 - ERROR_ALPHA;
                g.consecutive_failures = 0;
                g.run_by = None;
                g.run_mixed = false;
                g.consecutive_429 = 0;
                if g.status.state != State::Healthy {
                    g.status = Status {
                        state: State::Healthy,
                        reason: None,
                        since_ms: now,
                        retry_at_ms: None,
                    };
                }
            }
            Signal::Rejected { reason } => {
                g.error_ewma += ERROR_ALPHA * (1.0 - g.error_ewma);
                g.status = Status {
                    state: State::Invalid,
                    reason: Some(format!("credential rejected by the provider ({reason})")),
                    since_ms: now,
                    retry_at_ms: None,
                };
            }
            Signal::OutOfQuota {
                reason,
                retry_after,
            } => {
                let wait = retry_after
                    .filter(|d| !d.is_zero())
                    .unwrap_or(policy.quota_cooldown);
                g.status = Status {
                    state: State::QuotaExhausted,
                    reason: Some(format!("out of quota or credit ({reason})")),
                    since_ms: now,
                    retry_at_ms: Some(now + wait.as_millis() as u64),
                };
            }
            Signal::RateLimited { retry_after } => {
                g.consecutive_429 += 1;
                let wait = retry_after
                    .map(|r| r.min(policy.cooldown_max))
                    .unwrap_or_else(|| {
                        let exp = 2u64.saturating_pow(g.consecutive_429.saturating_sub(1).min(16));
                        Duration::from_secs(exp).min(policy.cooldown_max)
                    });
                g.status = Status {
                    state: State::CoolingDown,
                    reason: Some(match retry_after {
                        Some(_) => "rate limited (429, Retry-After)".to_string(),
                        None => "rate limited (429, backoff)".to_string(),
                    }),
                    since_ms: now,
                    retry_at_ms: Some(now + wait.as_millis() as u64),
                };
            }
            Signal::Failure { by, shared } => {
                g.error_ewma += ERROR_ALPHA * (1.0 - g.error_ewma);
                g.consecutive_failures += 1;
                match (by, g.run_by) {
                    // Not caused by a request, or the key serves this client key alone.
                    (None, _) => g.run_mixed = true,
                    (Some(_), _) if !shared => g.run_mixed = true,
                    (Some(c), None) => g.run_by = Some(c),
                    (Some(c), Some(first)) if c != first => g.run_mixed = true,
                    _ => {}
                }
                let reopen = g.status.state == State::CircuitOpen;
                // One client key's requests never open a circuit other client keys share.
                if reopen || (g.consecutive_failures >= policy.failure_threshold && g.run_mixed) {
                    g.status = Status {
                        state: State::CircuitOpen,
                        reason: Some(format!("{} consecutive failures", g.consecutive_failures)),
                        since_ms: now,
                        retry_at_ms: Some(now + policy.circuit_open.as_millis() as u64),
                    };
                }
            }
        }
        if g.status != before {
            g.version += 1;
        }
    }

    /// An attempt ended without saying anything about the key (the request failed on our
    /// side): a half-open trial it held is given back.
    pub fn release_trial(&self) {
        self.lock().trial_in_flight = false;
    }

    /// Clears every mark (the key was edited, re-enabled, or an active check succeeded).
    pub fn reset(&self) {
        let mut g = self.lock();
        g.status = Status {
            since_ms: now_ms(),
            ..Status::default()
        };
        g.consecutive_failures = 0;
        g.run_by = None;
        g.run_mixed = false;
        g.consecutive_429 = 0;
        g.trial_in_flight = false;
        g.version += 1;
    }

    pub fn view(&self) -> HealthView {
        let g = self.lock();
        HealthView {
            status: g.status.clone(),
            latency_ms: g.latency_ewma_ms.map(|v| (v * 10.0).round() / 10.0),
            error_rate: (g.error_ewma * 1000.0).round() / 1000.0,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            consecutive_failures: g.consecutive_failures,
            last_check: g.last_check.clone(),
        }
    }

    pub fn set_last_check(&self, result: CheckResult) {
        self.lock().last_check = Some(result);
    }

    /// The health_best score: lower is better. Expected latency, inflated by the recent error
    /// rate and by the requests already waiting on the key:
    /// `(latency_ewma_ms + 1) × (1 + 4 × error_rate) × (1 + in_flight)`; a key with no latency
    /// sample yet scores as 1 ms so it gets tried.
    pub fn score(&self) -> u64 {
        let g = self.lock();
        let latency = g.latency_ewma_ms.unwrap_or(0.0) + 1.0;
        let inflight = f64::from(self.in_flight.load(Ordering::Relaxed));
        (latency * (1.0 + 4.0 * g.error_ewma) * (1.0 + inflight) * 100.0).round() as u64
    }

    fn shared(&self) -> (u64, Status) {
        let g = self.lock();
        (g.version, g.status.clone())
    }

    /// Adopts a state another instance published, if it is newer than ours.
    fn adopt(&self, remote: &Status) {
        let mut g = self.lock();
        if remote.since_ms > g.status.since_ms && *remote != g.status {
            g.status = remote.clone();
        }
    }
}

/// Decrements the key's in-flight count when the attempt ends.
pub struct InFlightGuard(Arc<KeyHealth>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Every key's health, by provider key id.
#[derive(Debug, Default)]
pub struct HealthRegistry {
    keys: RwLock<HashMap<i64, Arc<KeyHealth>>>,
    pub policy: HealthPolicy,
}

impl HealthRegistry {
    pub fn new(policy: HealthPolicy) -> Self {
        Self {
            keys: RwLock::default(),
            policy,
        }
    }

    pub fn get(&self, key_id: i64) -> Arc<KeyHealth> {
        if let Ok(keys) = self.keys.read() {
            if let Some(h) = keys.get(&key_id) {
                return h.clone();
            }
        }
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.entry(key_id).or_default().clone()
    }

    pub fn view(&self, key_id: i64) -> HealthView {
        self.get(key_id).view()
    }

    pub fn record(&self, key_id: i64, signal: Signal) {
        self.get(key_id).record(signal, &self.policy);
    }

    pub fn reset(&self, key_id: i64) {
        self.get(key_id).reset();
    }

    fn all(&self) -> Vec<(i64, Arc<KeyHealth>)> {
        self.keys
            .read()
            .map(|k| k.iter().map(|(id, h)| (*id, h.clone())).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn policy() -> HealthPolicy {
        HealthPolicy {
            failure_threshold: 3,
            circuit_open: Duration::from_millis(50),
            cooldown_max: Duration::from_secs(8),
            quota_cooldown: Duration::from_secs(3600),
        }
    }

    #[test]
    fn rejected_keys_leave_rotation_until_reset() {
        let h = KeyHealth::default();
        h.record(
            Signal::Rejected {
                reason: "invalid_api_key".into(),
            },
            &policy(),
        );
        assert!(h.view().status.reason.unwrap().contains("invalid_api_key"));
        assert_eq!(h.view().status.state, State::Invalid);
        assert!(!h.try_admit(now_ms() + 10_000_000));
        h.reset();
        assert!(h.try_admit(now_ms()));
    }

    #[test]
    fn rate_limited_keys_return_after_retry_after_or_backoff() {
        let h = KeyHealth::default();
        h.record(
            Signal::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
            },
            &policy(),
        );
        let v = h.view();
        assert_eq!(v.status.state, State::CoolingDown);
        let at = v.status.retry_at_ms.unwrap();
        assert!(!h.try_admit(at - 1));
        assert!(h.try_admit(at));
        assert_eq!(h.view().status.state, State::Healthy);
        // Without Retry-After, after a success: 1 s, 2 s, 4 s, 8 s (capped).
        h.record(
            Signal::Success {
                ttfb: Duration::from_millis(1),
            },
            &policy(),
        );
        let mut waits = vec![];
        for _ in 0..5 {
            h.record(Signal::RateLimited { retry_after: None }, &policy());
            let v = h.view().status;
            waits.push((v.retry_at_ms.unwrap() - v.since_ms) / 1000);
        }
        assert_eq!(waits, vec![1, 2, 4, 8, 8]);
    }

    #[test]
    fn circuit_opens_after_a_run_of_failures_and_a_trial_decides() {
        let h = KeyHealth::default();
        let p = policy();
        h.record(Signal::UNRELATED_FAILURE, &p);
        h.record(Signal::UNRELATED_FAILURE, &p);
        assert_eq!(h.view().status.state, State::Healthy);
        h.record(Signal::UNRELATED_FAILURE, &p);
        let v = h.view().status;
        assert_eq!(v.state, State::CircuitOpen);
        let at = v.retry_at_ms.unwrap();
        assert!(!h.try_admit(at - 1));
        assert!(h.try_admit(at), "half-open trial");
        assert!(!h.try_admit(at), "only one trial at a time");
        h.record(Signal::UNRELATED_FAILURE, &p);
        assert_eq!(
            h.view().status.state,
            State::CircuitOpen,
            "failed trial re-opens"
        );
        let at = h.view().status.retry_at_ms.unwrap();
        assert!(h.try_admit(at));
        h.record(
            Signal::Success {
                ttfb: Duration::from_millis(5),
            },
            &p,
        );
        assert_eq!(h.view().status.state, State::Healthy);
    }

    #[test]
    fn one_client_key_cannot_open_a_shared_circuit() {
        let p = policy();
        let shared = |by| Signal::Failure {
            by: Some(by),
            shared: true,
        };
        let h = KeyHealth::default();
        for _ in 0..10 {
            h.record(shared(7), &p);
        }
        assert_eq!(h.view().status.state, State::Healthy, "client 7 alone");
        h.record(shared(8), &p);
        assert_eq!(
            h.view().status.state,
            State::CircuitOpen,
            "a second client key"
        );
        // A key serving one client key only: that client's failures count.
        let own = KeyHealth::default();
        for _ in 0..3 {
            own.record(
                Signal::Failure {
                    by: Some(7),
                    shared: false,
                },
                &p,
            );
        }
        assert_eq!(own.view().status.state, State::CircuitOpen);
        // A failure no request causes counts whoever asked.
        let mixed = KeyHealth::default();
        mixed.record(shared(7), &p);
        mixed.record(shared(7), &p);
        mixed.record(Signal::UNRELATED_FAILURE, &p);
        assert_eq!(mixed.view().status.state, State::CircuitOpen);
        // A success ends the run.
        let reset = KeyHealth::default();
        reset.record(shared(7), &p);
        reset.record(
            Signal::Success {
                ttfb: Duration::from_millis(1),
            },
            &p,
        );
        reset.record(shared(8), &p);
        reset.record(shared(8), &p);
        assert_eq!(reset.view().status.state, State::Healthy);
    }

    #[test]
    fn out_of_quota_is_a_long_cooldown_shown_as_such() {
        let h = KeyHealth::default();
        h.record(
            Signal::OutOfQuota {
                reason: "insufficient_quota".into(),
                retry_after: None,
            },
            &policy(),
        );
        let v = h.view().status;
        assert_eq!(v.state, State::QuotaExhausted);
        assert!(v.reason.unwrap().contains("insufficient_quota"));
        let at = v.retry_at_ms.unwrap();
        assert!(at - v.since_ms >= 3_600_000);
        assert!(!h.try_admit(at - 1));
        assert!(h.try_admit(at));
    }

    #[test]
    fn score_prefers_fast_reliable_idle_keys() {
        let p = policy();
        let fast = Arc::new(KeyHealth::default());
        let slow = Arc::new(KeyHealth::default());
        fast.record(
            Signal::Success {
                ttfb: Duration::from_millis(10),
            },
            &p,
        );
        slow.record(
            Signal::Success {
                ttfb: Duration::from_millis(100),
            },
            &p,
        );
        assert!(fast.score() < slow.score());
        let _busy: Vec<_> = (0..20).map(|_| fast.begin()).collect();
        assert!(fast.score() > slow.score(), "in-flight load counts");
        drop(_busy);
        fast.record(Signal::UNRELATED_FAILURE, &p);
        fast.record(Signal::UNRELATED_FAILURE, &p);
        let failing = fast.score();
        fast.record(
            Signal::Success {
                ttfb: Duration::from_millis(10),
            },
            &p,
        );
        assert!(fast.score() < failing);
    }
}
