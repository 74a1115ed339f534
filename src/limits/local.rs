//! In-process counters: exact under concurrency (one mutex per key, check and reserve together).

use super::{Estimate, KeyLimits, Limit, Refusal, UsageView};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

const MINUTE_MS: u64 = 60_000;
/// A spent lifetime budget does not come back by itself; clients are told to wait a day
/// (an administrator raises the budget).
pub const BUDGET_RETRY_MS: u64 = 86_400_000;

#[derive(Debug, Default)]
struct Counters {
    /// Admission times within the last minute (sliding window).
    window: VecDeque<u64>,
    concurrent: u32,
    day: String,
    day_requests: u64,
    day_tokens: u64,
    day_cost: i64,
    lifetime_spend: i64,
}

impl Counters {
    fn roll(&mut self, now: u64, day: &str) {
        while self.window.front().is_some_and(|t| *t + MINUTE_MS <= now) {
            self.window.pop_front();
        }
        if self.day != day {
            self.day = day.to_string();
            self.day_requests = 0;
            self.day_tokens = 0;
            self.day_cost = 0;
        }
    }
}

#[derive(Debug, Default)]
pub struct LocalLimiter {
    keys: Mutex<HashMap<i64, Arc<Mutex<Counters>>>>,
}

/// Totals already spent before this process started (from the ledger).
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub lifetime_spend: i64,
    pub day: String,
    pub day_requests: u64,
    pub day_tokens: u64,
    pub day_cost: i64,
}

impl LocalLimiter {
    fn counters(&self, key: i64) -> Arc<Mutex<Counters>> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.entry(key).or_default().clone()
    }

    pub fn seed(&self, key: i64, seed: &Seed) {
        let c = self.counters(key);
        let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
        c.lifetime_spend = seed.lifetime_spend;
        c.day = seed.day.clone();
        c.day_requests = seed.day_requests;
        c.day_tokens = seed.day_tokens;
        c.day_cost = seed.day_cost;
    }

    /// Checks every limit and, when all pass, reserves the estimate against them.
    pub fn reserve(
        &self,
        key: i64,
        limits: &KeyLimits,
        est: Estimate,
        now: u64,
        day: &str,
    ) -> Result<(), Refusal> {
        let c = self.counters(key);
        let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
        c.roll(now, day);
        if let Some(rpm) = limits.rpm {
            if c.window.len() as u64 >= u64::from(rpm) {
                let oldest = c.window.front().copied().unwrap_or(now);
                return Err(Refusal::after_ms(Limit::Rpm, oldest + MINUTE_MS - now));
            }
        }
        if let Some(max) = limits.max_concurrent {
            if c.concurrent >= max {
                return Err(Refusal::after_ms(Limit::Concurrency, 1000));
            }
        }
        if limits.rpd.is_some_and(|rpd| c.day_requests + 1 > rpd) {
            return Err(Refusal::until_tomorrow(Limit::Rpd));
        }
        if limits
            .tpd
            .is_some_and(|tpd| c.day_tokens + est.tokens > tpd)
        {
            return Err(Refusal::until_tomorrow(Limit::Tpd));
        }
        if limits
            .cost_per_day
            .is_some_and(|cap| c.day_cost + est.cost > cap)
        {
            return Err(Refusal::until_tomorrow(Limit::CostPerDay));
        }
        if limits
            .budget
            .is_some_and(|cap| c.lifetime_spend + est.cost > cap)
        {
            return Err(Refusal::after_ms(Limit::Budget, BUDGET_RETRY_MS));
        }
        c.window.push_back(now);
        c.concurrent += 1;
        c.day_requests += 1;
        c.day_tokens += est.tokens;
        c.day_cost += est.cost;
        c.lifetime_spend += est.cost;
        Ok(())
    }

    /// Replaces a reservation by what the request really used.
    pub fn settle(&self, key: i64, day: &str, est: Estimate, tokens: u64, cost: i64) {
        let c = self.counters(key);
        let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
        c.concurrent = c.concurrent.saturating_sub(1);
        if c.day == day {
            c.day_tokens = (c.day_tokens + tokens).saturating_sub(est.tokens);
            c.day_cost += cost - est.cost;
        }
        c.lifetime_spend += cost - est.cost;
    }

    pub fn usage(&self, key: i64, now: u64, day: &str) -> UsageView {
        let c = self.counters(key);
        let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
        c.roll(now, day);
        UsageView {
            minute_requests: c.window.len() as u64,
            in_flight: u64::from(c.concurrent),
            day: c.day.clone(),
            day_requests: c.day_requests,
            day_tokens: c.day_tokens,
            day_cost_nanos: c.day_cost,
            lifetime_spend_nanos: c.lifetime_spend,
        }
    }
}

/// Per-provider-key request and token caps per minute (sliding window), so the scheduler can
/// skip a key at its cap.
#[derive(Debug, Default)]
pub struct ProviderCaps {
    keys: Mutex<HashMap<i64, KeyWindow>>,
}

#[derive(Debug, Default)]
struct KeyWindow {
    requests: VecDeque<u64>,
    tokens: VecDeque<(u64, u64)>,
    token_sum: u64,
}

impl KeyWindow {
    fn roll(&mut self, now: u64) {
        while self.requests.front().is_some_and(|t| *t + MINUTE_MS <= now) {
            self.requests.pop_front();
        }
        while let Some((t, n)) = self.tokens.front().copied() {
            if t + MINUTE_MS > now {
                break;
            }
            self.token_sum -= n;
            self.tokens.pop_front();
        }
    }
}

impl ProviderCaps {
    /// Takes a slot on the key when it has room for one more request of `tokens`.
    pub fn try_take(
        &self,
        key: i64,
        rpm: Option<i32>,
        tpm: Option<i64>,
        tokens: u64,
        now: u64,
    ) -> bool {
        if rpm.is_none() && tpm.is_none() {
            return true;
        }
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let w = keys.entry(key).or_default();
        w.roll(now);
        if rpm.is_some_and(|r| w.requests.len() as i64 >= i64::from(r)) {
            return false;
        }
        if tpm.is_some_and(|t| w.token_sum + tokens > t.max(0) as u64 && w.token_sum > 0) {
            return false;
        }
        w.requests.push_back(now);
        w.tokens.push_back((now, tokens));
        w.token_sum += tokens;
        true
    }

    /// Whether the key could take a request now (without taking it).
    pub fn has_room(&self, key: i64, rpm: Option<i32>, tpm: Option<i64>, now: u64) -> bool {
        if rpm.is_none() && tpm.is_none() {
            return true;
        }
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let w = keys.entry(key).or_default();
        w.roll(now);
        rpm.is_none_or(|r| (w.requests.len() as i64) < i64::from(r))
            && tpm.is_none_or(|t| w.token_sum < t.max(0) as u64)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn est(tokens: u64, cost: i64) -> Estimate {
        Estimate { tokens, cost }
    }

    #[test]
    fn sliding_minute_has_no_double_burst() {
        let l = LocalLimiter::default();
        let limits = KeyLimits {
            rpm: Some(3),
            ..Default::default()
        };
        for t in [0, 10, 59_000] {
            l.reserve(1, &limits, est(0, 0), t, "d").unwrap();
            l.settle(1, "d", est(0, 0), 0, 0);
        }
        // A fixed window would reset at 60 000; the sliding one waits for the first to age out.
        let r = l.reserve(1, &limits, est(0, 0), 59_999, "d").unwrap_err();
        assert_eq!(r.limit, Limit::Rpm);
        assert_eq!(r.retry_after.as_millis(), 1);
        l.reserve(1, &limits, est(0, 0), 60_000, "d").unwrap();
        assert!(l.reserve(1, &limits, est(0, 0), 60_005, "d").is_err());
        l.reserve(1, &limits, est(0, 0), 60_010, "d").unwrap();
    }

    #[test]
    fn concurrency_daily_quotas_and_budget() {
        let l = LocalLimiter::default();
        let limits = KeyLimits {
            max_concurrent: Some(2),
            tpd: Some(100),
            cost_per_day: Some(1000),
            budget: Some(1500),
            ..Default::default()
        };
        l.reserve(1, &limits, est(40, 400), 0, "d1").unwrap();
        l.reserve(1, &limits, est(40, 400), 0, "d1").unwrap();
        assert_eq!(
            l.reserve(1, &limits, est(1, 1), 0, "d1").unwrap_err().limit,
            Limit::Concurrency
        );
        l.settle(1, "d1", est(40, 400), 10, 100); // settles below the estimate: room is given back
        assert_eq!(
            l.reserve(1, &limits, est(60, 10), 0, "d1")
                .unwrap_err()
                .limit,
            Limit::Tpd
        );
        l.reserve(1, &limits, est(40, 450), 0, "d1").unwrap();
        l.settle(1, "d1", est(40, 400), 40, 400);
        l.settle(1, "d1", est(40, 450), 40, 450);
        assert_eq!(
            l.reserve(1, &limits, est(1, 100), 0, "d1")
                .unwrap_err()
                .limit,
            Limit::CostPerDay
        );
        // A new day resets the daily counters but not the lifetime spend (950 so far).
        l.reserve(1, &limits, est(1, 500), 0, "d2").unwrap();
        l.settle(1, "d2", est(1, 500), 1, 500);
        assert_eq!(
            l.reserve(1, &limits, est(1, 100), 0, "d2")
                .unwrap_err()
                .limit,
            Limit::Budget
        );
        let u = l.usage(1, 0, "d2");
        assert_eq!(
            (
                u.day_requests,
                u.day_cost_nanos,
                u.lifetime_spend_nanos,
                u.in_flight
            ),
            (1, 500, 1450, 0)
        );
    }

    #[test]
    fn provider_caps_skip_keys_at_their_cap() {
        let caps = ProviderCaps::default();
        assert!(caps.try_take(1, Some(2), None, 0, 0));
        assert!(caps.try_take(1, Some(2), None, 0, 1));
        assert!(!caps.has_room(1, Some(2), None, 2));
        assert!(!caps.try_take(1, Some(2), None, 0, 2));
        assert!(caps.try_take(1, Some(2), None, 0, 60_000));
        assert!(caps.try_take(2, None, Some(100), 80, 0));
        assert!(!caps.try_take(2, None, Some(100), 30, 0));
        assert!(caps.try_take(2, None, Some(100), 30, 60_000));
        assert!(caps.try_take(3, None, None, 1_000_000, 0));
    }
}
