//! Request-log retention: a background job that deletes rows older than the configured number
//! of days in small batches, with a pause between batches. Rollups are kept.

use crate::store::Store;
use std::time::Duration;
use tokio::sync::watch;

/// Pause between two delete batches, so writers and readers get the database in between.
const BATCH_PAUSE: Duration = Duration::from_millis(50);

pub struct Retention {
    store: Store,
    keep: chrono::Duration,
    batch_size: u64,
    interval: Duration,
}

impl Retention {
    pub fn new(store: Store, days: u32, batch_size: u64, interval: Duration) -> Self {
        Self {
            store,
            keep: chrono::Duration::days(i64::from(days)),
            batch_size,
            interval,
        }
    }

    /// Sweeps at once, then every interval, until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if let Some(deleted) = self.sweep(&mut stop).await {
                if deleted > 0 {
                    tracing::info!(deleted, "retention: deleted old request logs");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// Deletes every row older than the cutoff, batch by batch. None when stopped or failed.
    async fn sweep(&self, stop: &mut watch::Receiver<bool>) -> Option<u64> {
        let cutoff = chrono::Utc::now() - self.keep;
        let mut total = 0;
        loop {
            if *stop.borrow() {
                return None;
            }
            match self.store.delete_logs_before(cutoff, self.batch_size).await {
                Ok(0) => return Some(total),
                Ok(n) => total += n,
                Err(e) => {
                    tracing::warn!("retention: delete failed, retrying next interval: {e}");
                    return None;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(BATCH_PAUSE) => {}
                _ = stop.wait_for(|s| *s) => return None,
            }
        }
    }
}
