//! The proxy's budget of buffered request bytes: every body is read whole before it is
//! forwarded, so all bodies in memory at once are capped together. A body that does not fit
//! waits briefly for room, then is refused with 503 and Retry-After.

use super::error::ProxyError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub struct BodyBudget {
    used: AtomicU64,
    max: u64,
}

/// The bytes one request holds; given back when it is dropped.
#[derive(Debug)]
pub struct BodyHold {
    budget: Arc<BodyBudget>,
    bytes: u64,
}

/// How long a body waits for room before it is refused.
const WAIT: Duration = Duration::from_secs(1);
const STEP: Duration = Duration::from_millis(10);

impl BodyBudget {
    pub fn new(max: u64) -> Arc<Self> {
        Arc::new(Self {
            used: AtomicU64::new(0),
            max,
        })
    }

    fn try_take(&self, n: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|t| *t <= self.max)
            })
            .is_ok()
    }

    pub fn hold(self: &Arc<Self>) -> BodyHold {
        BodyHold {
            budget: self.clone(),
            bytes: 0,
        }
    }
}

impl BodyHold {
    /// Holds `n` more bytes, waiting up to a second for room.
    pub async fn grow(&mut self, n: u64) -> Result<(), ProxyError> {
        let mut waited = Duration::ZERO;
        while !self.budget.try_take(n) {
            if waited >= WAIT {
                return Err(ProxyError::Busy);
            }
            tokio::time::sleep(STEP).await;
            waited += STEP;
        }
        self.bytes += n;
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for BodyHold {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn caps_all_bodies_together_and_gives_back() {
        let b = BodyBudget::new(100);
        let mut one = b.hold();
        one.grow(60).await.unwrap();
        let mut two = b.hold();
        assert!(matches!(two.grow(50).await, Err(ProxyError::Busy)));
        two.grow(40).await.unwrap();
        assert_eq!(b.used.load(Ordering::Relaxed), 100);
        // A waiting body gets room when another request ends.
        let b2 = b.clone();
        let waiter = tokio::spawn(async move {
            let mut h = b2.hold();
            h.grow(30).await.map(|_| h.bytes())
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(one);
        assert_eq!(waiter.await.unwrap().unwrap(), 30);
        drop(two);
        assert_eq!(b.used.load(Ordering::Relaxed), 0);
    }
}
