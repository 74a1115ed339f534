//! Limits, quotas and budgets per client key (sliding-minute rate, concurrency, daily requests,
//! tokens and cost, lifetime budget) and per-provider-key caps. A request reserves an estimate
//! before it is forwarded and settles to its real usage afterwards; a request that fails gives
//! its reservation back. In-process by default; with Redis every check-and-reserve is one
//! atomic script call shared by every instance, and what a running request holds (its
//! concurrency slot, its reserved tokens and cost) is a lease that lapses unless renewed, so a
//! crashed instance cannot hold anything for longer than `limits.lease_ttl_secs`.

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

/// A client key's limits as stored (the database columns), before they are trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredLimits {
    pub rpm: Option<i32>,
    pub max_concurrent: Option<i32>,
    pub rpd: Option<i64>,
    pub tpd: Option<i64>,
    pub cost_per_day: Option<i64>,
    pub budget: Option<i64>,
}

/// A stored value that cannot be enforced: the setting's name (as in the API) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {why}")]
pub struct BadSetting {
    pub field: &'static str,
    pub why: String,
}

impl BadSetting {
    pub fn new(field: &'static str, why: impl Into<String>) -> Self {
        Self {
            field,
            why: why.into(),
        }
    }
}

/// Request and token counts must be greater than 0 (none at all is `None`, not 0).
pub fn check_count<T: Into<i64> + Copy>(field: &'static str, v: T) -> Result<T, BadSetting> {
    if v.into() > 0 {
        Ok(v)
    } else {
        Err(BadSetting::new(
            field,
            "must be greater than 0 (or null for no limit)",
        ))
    }
}

/// Amounts (nano-units) must not be negative; 0 allows no spending at all.
pub fn check_amount(field: &'static str, v: i64) -> Result<i64, BadSetting> {
    if v >= 0 {
        Ok(v)
    } else {
        Err(BadSetting::new(field, "must not be negative"))
    }
}

impl StoredLimits {
    /// The limits to enforce, or the first value that cannot be (the key must then be refused:
    /// reading a bad value as "no limit" would fail open).
    pub fn check(&self) -> Result<KeyLimits, BadSetting> {
        let count32 = |field, v: Option<i32>| {
            v.map(|v| check_count(field, v).map(|v| v.unsigned_abs()))
                .transpose()
        };
        let count64 = |field, v: Option<i64>| {
            v.map(|v| check_count(field, v).map(|v| v.unsigned_abs()))
                .transpose()
        };
        let amount = |field, v: Option<i64>| v.map(|v| check_amount(field, v)).transpose();
        Ok(KeyLimits {
            rpm: count32("rpm", self.rpm)?,
            max_concurrent: count32("max_concurrent", self.max_concurrent)?,
            rpd: count64("rpd", self.rpd)?,
            tpd: count64("tpd", self.tpd)?,
            cost_per_day: amount("cost_per_day", self.cost_per_day)?,
            budget: amount("budget", self.budget)?,
        })
    }
}

/// The stored `allowed_models` (a JSON array of patterns, or NULL for every model), checked.
pub fn parse_allowed_models(stored: Option<&str>) -> Result<Option<Vec<String>>, BadSetting> {
    let Some(json) = stored else {
        return Ok(None);
    };
    let list: Vec<String> = serde_json::from_str(json)
        .map_err(|_| BadSetting::new("allowed_models", "is not a JSON array of strings"))?;
    glob::check_patterns(&list).map_err(|why| BadSetting::new("allowed_models", why))?;
    Ok(Some(list))
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

pub use crate::config::RedisFailure;

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
    /// The lease's id in Redis (also its entry in the sliding minute window).
    lease: String,
}

impl Reservation {
    pub fn settle(mut self, tokens: u64, cost: i64) {
        self.finish(tokens, cost);
    }

    fn finish(&mut self, tokens: u64, cost: i64) {
        match self.held.take() {
            Some(Held::Local(l)) => l.settle(self.key, &self.day, self.est, tokens, cost),
            Some(Held::Redis(r)) => r.settle(self.key, &self.day, &self.lease, tokens, cost),
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
    /// `lease_ttl`: how long a Redis lease outlives its last renewal (`limits.lease_ttl_secs`).
    pub fn new(
        cluster: &Cluster,
        tz: Tz,
        on_redis_failure: RedisFailure,
        lease_ttl: Duration,
    ) -> Self {
        Self {
            local: Arc::new(LocalLimiter::default()),
            redis: RedisLimiter::new(cluster, lease_ttl).map(Arc::new),
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
                let lease = format!(
                    "{:x}-{}",
                    self.instance,
                    self.seq.fetch_add(1, Ordering::Relaxed)
                );
                match redis.reserve(key, limits, est, now_ms, &day, &lease).await {
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
                            lease,
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
            lease: String::new(),
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
    price: Option<&crate::pricing::PriceEntry>,
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
        cost: price.map_or(0, |p| crate::pricing::cost_nanos(&usage, p)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn stored_limits_fail_closed() {
        let ok = StoredLimits {
            rpm: Some(10),
            max_concurrent: Some(2),
            rpd: Some(100),
            tpd: None,
            cost_per_day: Some(0),
            budget: Some(5),
        };
        assert_eq!(
            ok.check().unwrap(),
            KeyLimits {
                rpm: Some(10),
                max_concurrent: Some(2),
                rpd: Some(100),
                tpd: None,
                cost_per_day: Some(0),
                budget: Some(5),
            }
        );
        let bad = |s: StoredLimits| s.check().unwrap_err().field;
        assert_eq!(
            bad(StoredLimits {
                rpm: Some(-1),
                ..ok.clone()
            }),
            "rpm"
        );
        assert_eq!(
            bad(StoredLimits {
                max_concurrent: Some(0),
                ..ok.clone()
            }),
            "max_concurrent"
        );
        assert_eq!(
            bad(StoredLimits {
                tpd: Some(-5),
                ..ok.clone()
            }),
            "tpd"
        );
        assert_eq!(
            bad(StoredLimits {
                budget: Some(-1),
                ..ok.clone()
            }),
            "budget"
        );
        assert_eq!(parse_allowed_models(None).unwrap(), None);
        assert_eq!(
            parse_allowed_models(Some(r#"["gpt-4o*"]"#)).unwrap(),
            Some(vec!["gpt-4o*".to_string()])
        );
        for bad in [
            r#"["gpt-4o*""#,
            r#"{"a":1}"#,
            "[1]",
            "[]",
            r#"["a b"]"#,
            "null",
        ] {
            assert_eq!(
                parse_allowed_models(Some(bad)).unwrap_err().field,
                "allowed_models",
                "{bad}"
            );
        }
    }

    #[test]
    fn days_follow_the_configured_time_zone() {
        let utc = Limits::new(
            &Cluster::in_process("t:"),
            chrono_tz::UTC,
            RedisFailure::FailOpen,
            Duration::from_secs(30),
        );
        let shanghai = Limits::new(
            &Cluster::in_process("t:"),
            chrono_tz::Asia::Shanghai,
            RedisFailure::FailOpen,
            Duration::from_secs(30),
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
