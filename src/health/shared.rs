//! Key state shared through Redis, so instances stop sending to a key another one found
//! rate-limited, rejected or failing. Changes are published to one hash and the hash is read
//! back on an interval; the proxy only ever reads local memory.

use super::{HealthRegistry, Status};
use crate::cluster::Cluster;
use redis::AsyncCommands;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub struct HealthSync {
    registry: Arc<HealthRegistry>,
    cluster: Cluster,
    published: HashMap<i64, u64>,
    failing: bool,
}

impl HealthSync {
    pub fn new(registry: Arc<HealthRegistry>, cluster: Cluster) -> Self {
        Self {
            registry,
            cluster,
            published: HashMap::new(),
            failing: false,
        }
    }

    pub async fn run(mut self, every: Duration, mut shutdown: watch::Receiver<bool>) {
        if self.cluster.redis().is_none() {
            return;
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            match self.sync_once().await {
                Ok(()) if self.failing => {
                    tracing::info!("key health sync with Redis restored");
                    self.failing = false;
                }
                Ok(()) => {}
                Err(e) if !self.failing => {
                    tracing::warn!("key health sync with Redis failed (keeping local state): {e}");
                    self.failing = true;
                }
                Err(_) => {}
            }
        }
    }

    async fn sync_once(&mut self) -> redis::RedisResult<()> {
        let Some(conn) = self.cluster.redis() else {
            return Ok(());
        };
        let mut conn = conn.clone();
        let hash = format!("{}key-health", self.cluster.key_prefix);
        let mut pipe = redis::pipe();
        let mut changed = Vec::new();
        for (id, health) in self.registry.all() {
            let (version, status) = health.shared();
            if self.published.get(&id) != Some(&version) && version > 0 {
                if let Ok(json) = serde_json::to_string(&status) {
                    pipe.hset(&hash, id, json).ignore();
                    changed.push((id, version));
                }
            }
        }
        if !changed.is_empty() {
            pipe.query_async::<()>(&mut conn).await?;
            self.published.extend(changed);
        }
        let remote: HashMap<i64, String> = conn.hgetall(&hash).await?;
        for (id, json) in remote {
            if let Ok(status) = serde_json::from_str::<Status>(&json) {
                self.registry.get(id).adopt(&status);
            }
        }
        Ok(())
    }
}
