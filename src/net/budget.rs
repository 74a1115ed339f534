//! Connection budgets: how many connections a port holds at once, in total and per client
//! address. A connection holds a guard for its whole life; dropping it gives the slot back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct ConnBudget {
    max: usize,
    per_ip: usize,
    open: AtomicUsize,
    by_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Total,
    PerAddress,
}

/// One open connection's slot.
#[derive(Debug)]
pub struct ConnGuard {
    budget: Arc<ConnBudget>,
    ip: IpAddr,
}

impl ConnBudget {
    /// `per_ip` 0 means no per-address cap.
    pub fn new(max: usize, per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            per_ip,
            open: AtomicUsize::new(0),
            by_ip: Mutex::new(HashMap::new()),
        })
    }

    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnGuard, Refusal> {
        let mut by_ip = self.by_ip.lock().unwrap_or_else(|e| e.into_inner());
        if self.open.load(Ordering::Relaxed) >= self.max {
            return Err(Refusal::Total);
        }
        let n = by_ip.entry(ip).or_insert(0);
        if self.per_ip > 0 && *n >= self.per_ip {
            return Err(Refusal::PerAddress);
        }
        *n += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(ConnGuard {
            budget: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut by_ip = self.budget.by_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                by_ip.remove(&self.ip);
            }
        }
        self.budget.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn caps_total_and_per_address_and_gives_slots_back() {
        let b = ConnBudget::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let c: IpAddr = "10.0.0.2".parse().unwrap();
        let g1 = b.try_acquire(a).unwrap();
        let g2 = b.try_acquire(a).unwrap();
        assert_eq!(b.try_acquire(a).unwrap_err(), Refusal::PerAddress);
        let g3 = b.try_acquire(c).unwrap();
        assert_eq!(b.try_acquire(c).unwrap_err(), Refusal::Total);
        assert_eq!(b.open(), 3);
        drop(g1);
        let _g4 = b.try_acquire(a).unwrap();
        drop((g2, g3));
        assert_eq!(b.open(), 1);
        assert_eq!(b.by_ip.lock().unwrap().len(), 1);
        let unlimited = ConnBudget::new(10, 0);
        let _many: Vec<_> = (0..10).map(|_| unlimited.try_acquire(a).unwrap()).collect();
        assert_eq!(unlimited.try_acquire(a).unwrap_err(), Refusal::Total);
    }
}
