//! What protects the unauthenticated login endpoints: attempts per client address and per
//! username (token buckets, in this instance's memory), and counters of failed and refused
//! attempts — counted here rather than each written to the audit trail.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Buckets past this count are pruned of those that are full again (which forget nothing).
const PRUNE_ABOVE: usize = 10_000;
/// Usernames are counted by at most this many characters (no real one is longer), so a flood of
/// huge usernames cannot grow the table.
const MAX_USERNAME_CHARS: usize = 64;

/// `per_minute` attempts per key: a burst of that many, then one every `60 s / per_minute`
/// (GCRA: one instant per key, the time at which its bucket is full again).
#[derive(Debug)]
struct Buckets<K> {
    interval: Duration,
    tolerance: Duration,
    full_at: Mutex<HashMap<K, Instant>>,
}

impl<K: Eq + Hash> Buckets<K> {
    fn new(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        let interval = Duration::from_secs(60) / per_minute;
        Self {
            interval,
            tolerance: interval * (per_minute - 1),
            full_at: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt, or says how long until one is available.
    fn take(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut map = self.full_at.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, full| *full > now);
        }
        let full = map.get(&key).copied().unwrap_or(now).max(now);
        let busy_for = full - now;
        if busy_for > self.tolerance {
            return Err(busy_for - self.tolerance);
        }
        map.insert(key, full + self.interval);
        Ok(())
    }
}

/// Totals since start, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoginCounters {
    /// Wrong passwords, unknown or disabled users, locked usernames, bad key-pair answers.
    pub failed: u64,
    /// Refused with 429: too many attempts from one address or for one username.
    pub rate_limited: u64,
    /// Refused with 429: every password check slot stayed busy for the whole wait.
    pub busy: u64,
    /// Usernames locked after repeated failures.
    pub lockouts: u64,
    /// Key-pair challenges refused because the table of live challenges was full.
    pub challenges_refused: u64,
}

#[derive(Debug, Default)]
struct Counters {
    failed: AtomicU64,
    rate_limited: AtomicU64,
    busy: AtomicU64,
    lockouts: AtomicU64,
    challenges_refused: AtomicU64,
}

/// Which counter to bump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Failed,
    RateLimited,
    Busy,
    Lockout,
    ChallengeRefused,
}

#[derive(Debug)]
pub struct LoginGuard {
    per_address: Buckets<IpAddr>,
    per_username: Buckets<String>,
    counters: Counters,
}

impl LoginGuard {
    pub fn new(per_address_per_minute: u32, per_username_per_minute: u32) -> Self {
        Self {
            per_address: Buckets::new(per_address_per_minute),
            per_username: Buckets::new(per_username_per_minute),
            counters: Counters::default(),
        }
    }

    /// Takes one attempt for the address (when known) and the username; `Err` is how long to
    /// wait. A refusal by the address does not use up the username's attempts.
    pub fn admit(&self, address: Option<IpAddr>, username: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let result = address
            .map_or(Ok(()), |ip| self.per_address.take(ip, now))
            .and_then(|()| {
                let name: String = username.chars().take(MAX_USERNAME_CHARS).collect();
                self.per_username.take(name, now)
            });
        if result.is_err() {
            self.count(Count::RateLimited);
        }
        result
    }

    pub fn count(&self, which: Count) {
        let c = &self.counters;
        let counter = match which {
            Count::Failed => &c.failed,
            Count::RateLimited => &c.rate_limited,
            Count::Busy => &c.busy,
            Count::Lockout => &c.lockouts,
            Count::ChallengeRefused => &c.challenges_refused,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counters(&self) -> LoginCounters {
        let c = &self.counters;
        LoginCounters {
            failed: c.failed.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            busy: c.busy.load(Ordering::Relaxed),
            lockouts: c.lockouts.load(Ordering::Relaxed),
            challenges_refused: c.challenges_refused.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_one_per_interval() {
        let b = Buckets::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            b.take("k", t0).unwrap();
        }
        let wait = b.take("k", t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(20));
        assert!(b.take("other", t0).is_ok());
        assert!(b.take("k", t0 + Duration::from_secs(19)).is_err());
        b.take("k", t0 + Duration::from_secs(20)).unwrap();
        assert!(b.take("k", t0 + Duration::from_secs(21)).is_err());
        // After a quiet minute the whole burst is back.
        let later = t0 + Duration::from_secs(120);
        for _ in 0..3 {
            b.take("k", later).unwrap();
        }
        assert!(b.take("k", later).is_err());
    }

    #[test]
    fn address_and_username_are_limited_apart() {
        let g = LoginGuard::new(4, 2);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(g.admit(Some(ip), "alice").is_ok());
        assert!(g.admit(Some(ip), "alice").is_ok());
        // alice is spent, from any address; the address still has room for others.
        assert!(g.admit(Some(other), "alice").is_err());
        assert!(g.admit(Some(ip), "bob").is_ok());
        assert!(g.admit(Some(ip), "carol").is_ok());
        // The address is spent now (4 taken; the refusal for alice came from another one).
        assert!(g.admit(Some(ip), "dave").is_err());
        assert!(g.admit(None, "erin").is_ok());
        assert_eq!(g.counters().rate_limited, 2);
        // Huge usernames are counted by their first 64 characters.
        let long = "x".repeat(1 << 20);
        assert!(g.admit(None, &long).is_ok());
        assert!(g.admit(None, &format!("{}y", "x".repeat(64))).is_ok());
        assert!(g.admit(None, &long).is_err());
        let map = g.per_username.full_at.lock().unwrap();
        assert!(map.keys().all(|k| k.chars().count() <= 64));
    }
}
