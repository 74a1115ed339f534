//! Limits, quotas and budgets per client key (sliding-minute rate, concurrency, daily requests,
//! tokens and cost, lifetime budget) and per-provider-key caps. A request reserves an estimate
//! before it is forwarded and settles to its real usage afterwards; a request that fails gives
//! its reservation back. In-process by default; with Redis every check-and-reserve is one
//! atomic script call shared by every instance.

pub mod glob;
mod local;
mod shared;

pub use local::{BUDGET_RETRY_MS, LocalLimiter, ProviderCaps, Seed};
pub use shared::RedisLimiter;

use crate::cluster::Cluster;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A client key's limits; `None` is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLimits {
    pub rpm: Option<u32>,
    pub max_concurrent: Option<u32>,
    pub rpd: Option<u64>,
    pub tpd: Option<u64>,
    /// Nano-units of currency.
    pub cost_per_day: Option<i64>,
    pub budget: Option<i64>,
}

/// What a request is expected to use, reserved before it is forwarded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Estimate {
    pub tokens: u64,
    pub cost: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Rpm,
    Concurrency,
    Rpd,
    Tpd,
    CostPerDay,
    Budget,
}

impl Limit {
    /// The setting's name, as in the API.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Rpm => "rpm",
            Limit::Concurrency => "max_concurrent",
            Limit::Rpd => "rpd",
            Limit::Tpd => "tpd",
            Limit::CostPerDay => "cost_per_day",
            Limit::Budget => "budget",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Limit::Rpm => "requests per minute",
            Limit::Concurrency => "concurrent requests",
            Limit::Rpd => "requests per day",
            Limit::Tpd => "tokens per day",
            Limit::CostPerDay => "cost per day",
            Limit::Budget => "lifetime budget",
        }
    }
}

/// A refused request: which limit, and when trying again may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub limit: Limit,
    pub retry_after: Duration,
    /// `retry_after` is "until the day changes" and still has to be computed.
    until_tomorrow: bool,
}

impl Refusal {
    fn after_ms(limit: Limit, ms: u64) -> Self {
        Self {
            limit,
            retry_after: Duration::from_millis(ms),
            until_tomorrow: false,
        }
    }

    fn until_tomorrow(limit: Limit) -> Self {
        Self {
            limit,
            retry_after: Duration::ZERO,
            until_tomorrow: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("limit reached: {}", .0.limit.describe())]
    Refused(Refusal),
    /// Redis is unreachable and the configuration says to fail closed.
    #[error("limits unavailable")]
    Unavailable,
}

/// A client key's counters now, for the API.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct UsageView {
    pub minute_requests: u64,
    pub in_flight: u64,
    pub day: String,
    pub day_requests: u64,
    pub day_tokens: u64,
    pub day_cost_nanos: i64,
    pub lifetime_spend_nanos: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedisFailure {
    FailOpen,
    FailClosed,
}

pub struct Limits {
    local: Arc<LocalLimiter>,
    redis: Option<Arc<RedisLimiter>>,
    pub caps: Arc<ProviderCaps>,
    tz: Tz,
    on_redis_failure: RedisFailure,
    /// Until when Redis is skipped after a failure (unix ms), so an outage costs no timeouts.
    redis_down_until: AtomicU64,
    warned: AtomicBool,
    /// Makes sliding-window entries unique across instances (instance, sequence).
    instance: u64,
    seq: AtomicU64,
}

/// Where a reservation lives, so it settles in the same place.
enum Held {
    Local(Arc<LocalLimiter>),
    Redis(Arc<RedisLimiter>),
}

/// A reservation; settles to real usage with `settle`, or gives everything back when dropped.
pub struct Reservation {
    held: Option<Held>,
    key: i64,
    day: String,
    est: Estimate,
}

impl Reservation {
    pub fn settle(mut self, tokens: u64, cost: i64) {
        self.finish(tokens, cost);
    }

    fn finish(&mut self, tokens: u64, cost: i64) {
        match self.held.take() {
            Some(Held::Local(l)) => l.settle(self.key, &self.day, self.est, tokens, cost),
            Some(Held::Redis(r)) => r.settle(self.key, &self.day, self.est, tokens, cost),
            None => {}
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.finish(0, 0);
    }
}

const REDIS_RETRY_MS: u64 = 1000;

impl Limits {
    pub fn new(cluster: &Cluster, tz: Tz, on_redis_failure: RedisFailure) -> Self {
        Self {
            local: Arc::new(LocalLimiter::default()),
            redis: RedisLimiter::new(cluster).map(Arc::new),
            caps: Arc::new(ProviderCaps::default()),
            tz,
            on_redis_failure,
            redis_down_until: AtomicU64::new(0),
            warned: AtomicBool::new(false),
            instance: rand::random(),
            seq: AtomicU64::new(0),
        }
    }

    /// The calendar day `at` falls on in the configured time zone ("2026-11-22").
    pub fn day_of(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz).format("%Y-%m-%d").to_string()
    }

    /// When the day `at` falls on began, in UTC.
    pub fn day_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let local = at.with_timezone(&self.tz).date_naive();
        local
            .and_hms_opt(0, 0, 0)
            .and_then(|midnight| self.tz.from_local_datetime(&midnight).earliest())
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or(at)
    }

    /// Time left until the next day starts (days are 23 to 25 hours long, so today's start
    /// plus 36 hours always falls on tomorrow).
    fn until_tomorrow(&self, now: DateTime<Utc>) -> Duration {
        let tomorrow = self.day_start(self.day_start(now) + chrono::Duration::hours(36));
        (tomorrow - now)
            .to_std()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_secs(1))
    }

    pub async fn reserve(
        &self,
        key: i64,
        limits: &KeyLimits,
        est: Estimate,
    ) -> Result<Reservation, LimitError> {
        let now = Utc::now();
        let now_ms = now.timestamp_millis() as u64;
        let day = self.day_of(now);
        let finish = |r: Refusal| {
            let mut r = r;
            if r.until_tomorrow {
                r.retry_after = self.until_tomorrow(now);
            }
            LimitError::Refused(r)
        };
        if let Some(redis) = &self.redis {
            if now_ms >= self.redis_down_until.load(Ordering::Relaxed) {
                let member = format!(
                    "{:x}-{}",
                    self.instance,
                    self.seq.fetch_add(1, Ordering::Relaxed)
                );
                match redis.reserve(key, limits, est, now_ms, &day, &member).await {
                    Ok(result) => {
                        if self.warned.swap(false, Ordering::Relaxed) {
                            tracing::info!("Redis is back: limits are shared again");
                        }
                        result.map_err(finish)?;
                        return Ok(Reservation {
                            held: Some(Held::Redis(redis.clone())),
                            key,
                            day,
                            est,
                        });
                    }
                    Err(e) => {
                        self.redis_down_until
                            .store(now_ms + REDIS_RETRY_MS, Ordering::Relaxed);
                        if !self.warned.swap(true, Ordering::Relaxed) {
                            tracing::warn!(
                                "Redis unreachable for limits ({e}); {}",
                                match self.on_redis_failure {
                                    RedisFailure::FailOpen => "falling back to in-process limits",
                                    RedisFailure::FailClosed => "refusing requests (fail_closed)",
                                }
                            );
                        }
                    }
                }
            }
            if self.on_redis_failure == RedisFailure::FailClosed {
                return Err(LimitError::Unavailable);
            }
        }
        self.local
            .reserve(key, limits, est, now_ms, &day)
            .map_err(finish)?;
        Ok(Reservation {
            held: Some(Held::Local(self.local.clone())),
            key,
            day,
            est,
        })
    }

    /// Loads spend that happened before this process started (from the ledger).
    pub async fn seed(&self, key: i64, seed: &Seed) {
        self.local.seed(key, seed);
        if let Some(redis) = &self.redis {
            if let Err(e) = redis.seed(key, seed).await {
                tracing::warn!(client_key = key, "cannot seed limit counters in Redis: {e}");
            }
        }
    }

    pub async fn usage(&self, key: i64) -> UsageView {
        let now = Utc::now();
        let (now_ms, day) = (now.timestamp_millis() as u64, self.day_of(now));
        if let Some(redis) = &self.redis {
            match redis.usage(key, now_ms, &day).await {
                Ok(u) => return u,
                Err(e) => tracing::debug!("usage from Redis unavailable: {e}"),
            }
        }
        self.local.usage(key, now_ms, &day)
    }

    pub fn redis(&self) -> Option<Arc<RedisLimiter>> {
        self.redis.clone()
    }
}

/// What a request will use at most, reserved before it is forwarded: the prompt as one token
/// per three bytes of body (generous for English and CJK alike, JSON overhead included) plus
/// the completion it asks for (`max_tokens`, or the configured default), priced at the model's
/// price; an unpriced model reserves no cost.
pub fn estimate(
    body_len: usize,
    max_tokens: Option<u64>,
    default_max_tokens: u64,
    price: Option<&crate::snapshot::PriceEntry>,
) -> Estimate {
    let prompt = (body_len as u64).div_ceil(3);
    let completion = max_tokens.unwrap_or(default_max_tokens);
    let usage = crate::providers::Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        prompt_includes_cache: false,
        ..Default::default()
    };
    Estimate {
        tokens: prompt + completion,
        cost: price.map_or(0, |p| crate::usage::cost_nanos(&usage, p)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_configured_time_zone() {
        let utc = Limits::new(
            &Cluster::in_process("t:"),
            chrono_tz::UTC,
            RedisFailure::FailOpen,
        );
        let shanghai = Limits::new(
            &Cluster::in_process("t:"),
            chrono_tz::Asia::Shanghai,
            RedisFailure::FailOpen,
        );
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 17, 30, 0).unwrap();
        assert_eq!(utc.day_of(at), "2026-11-22");
        assert_eq!(shanghai.day_of(at), "2026-11-23");
        assert_eq!(
            shanghai.day_start(at),
            Utc.with_ymd_and_hms(2026, 11, 22, 16, 0, 0).unwrap()
        );
        assert_eq!(utc.until_tomorrow(at), Duration::from_secs(6 * 3600 + 1800));
        assert_eq!(
            shanghai.until_tomorrow(at),
            Duration::from_secs(22 * 3600 + 1800)
        );
    }
}
