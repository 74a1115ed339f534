//! Failed-login lockout, in process memory: each instance counts the failures it sees, so with
//! several instances behind a balancer an attacker gets up to `attempts` tries per instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries past this count are pruned of those that no longer matter.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
struct Entry {
    /// Recent failures, oldest first; only those within the window count.
    failures: Vec<Instant>,
    locked_until: Option<Instant>,
}

/// Locks a username for `window` after `attempts` failures within `window`.
#[derive(Debug)]
pub struct LoginLockout {
    attempts: usize,
    window: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginLockout {
    pub fn new(attempts: u32, window: Duration) -> Self {
        Self {
            attempts: attempts.max(1) as usize,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn with_entries<R>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> R) -> R {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    pub fn is_locked(&self, username: &str) -> bool {
        let now = Instant::now();
        self.with_entries(|m| {
            m.get(username)
                .and_then(|e| e.locked_until)
                .is_some_and(|until| until > now)
        })
    }

    /// Counts a failure; returns true when this failure locked the username.
    pub fn record_failure(&self, username: &str) -> bool {
        let now = Instant::now();
        let (attempts, window) = (self.attempts, self.window);
        self.with_entries(|m| {
            if m.len() > PRUNE_ABOVE {
                m.retain(|_, e| {
                    e.locked_until.is_some_and(|u| u > now)
                        || e.failures.iter().any(|t| now.duration_since(*t) < window)
                });
            }
            let entry = m.entry(username.to_string()).or_default();
            if entry.locked_until.is_some_and(|u| u > now) {
                return false;
            }
            entry.locked_until = None;
            entry.failures.retain(|t| now.duration_since(*t) < window);
            entry.failures.push(now);
            if entry.failures.len() >= attempts {
                entry.failures.clear();
                entry.locked_until = Some(now + window);
                return true;
            }
            false
        })
    }

    pub fn record_success(&self, username: &str) {
        self.with_entries(|m| {
            m.remove(username);
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_set_number_of_failures_then_expires() {
        let l = LoginLockout::new(3, Duration::from_millis(200));
        assert!(!l.record_failure("a"));
        assert!(!l.record_failure("a"));
        assert!(!l.is_locked("a"));
        assert!(l.record_failure("a"));
        assert!(l.is_locked("a"));
        assert!(!l.is_locked("b"));
        std::thread::sleep(Duration::from_millis(250));
        assert!(!l.is_locked("a"));
        // Counting starts again.
        assert!(!l.record_failure("a"));
        assert!(!l.is_locked("a"));
    }

    #[test]
    fn success_clears_failures_and_old_failures_fall_out_of_the_window() {
        let l = LoginLockout::new(2, Duration::from_millis(100));
        l.record_failure("a");
        l.record_success("a");
        assert!(!l.record_failure("a"));
        std::thread::sleep(Duration::from_millis(150));
        assert!(!l.record_failure("a"));
        assert!(!l.is_locked("a"));
    }
}
