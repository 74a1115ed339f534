//! Who may refresh a key right now, across instances: a Redis lock (`SET NX PX`, released only
//! by its owner) when Redis is configured, else a lease row in the database. Within one
//! instance a per-key mutex comes first, so at most one contender per instance gets here.

use crate::cluster::Cluster;
use crate::store::Store;
use std::time::Duration;

const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

#[derive(Clone)]
pub struct RefreshLock {
    cluster: Cluster,
    store: Store,
    ttl: Duration,
}

impl RefreshLock {
    pub fn new(cluster: Cluster, store: Store, ttl: Duration) -> Self {
        Self {
            cluster,
            store,
            ttl,
        }
    }

    fn redis_key(&self, key_id: i64) -> String {
        format!("{}oauth-refresh:{key_id}", self.cluster.key_prefix)
    }

    /// True when `owner` now holds the lock of `key_id`. A Redis error falls back to the
    /// database lease, so a Redis outage never lets two instances refresh at once unnoticed.
    pub async fn try_acquire(&self, key_id: i64, owner: &str) -> bool {
        if let Some(conn) = self.cluster.redis() {
            let mut conn = conn.clone();
            let res = redis::cmd("SET")
                .arg(self.redis_key(key_id))
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(self.ttl.as_millis() as u64)
                .query_async::<Option<String>>(&mut conn)
                .await;
            match res {
                Ok(v) => return v.is_some(),
                Err(e) => {
                    self.cluster
                        .count_error(crate::cluster::RedisErrorSource::OAuthLock);
                    tracing::warn!(
                        provider_key = key_id,
                        "refresh lock in Redis failed, using the database lease: {e}"
                    )
                }
            }
        }
        let until = chrono::Utc::now()
            + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::seconds(30));
        match self.store.acquire_token_lease(key_id, owner, until).await {
            Ok(taken) => taken,
            Err(e) => {
                tracing::warn!(provider_key = key_id, "refresh lease failed: {e}");
                false
            }
        }
    }

    pub async fn release(&self, key_id: i64, owner: &str) {
        if let Some(conn) = self.cluster.redis() {
            let mut conn = conn.clone();
            let res = redis::Script::new(RELEASE)
                .key(self.redis_key(key_id))
                .arg(owner)
                .invoke_async::<i64>(&mut conn)
                .await;
            if matches!(res, Ok(1)) {
                return;
            }
        }
        if let Err(e) = self.store.release_token_lease(key_id, owner).await {
            tracing::warn!(provider_key = key_id, "refresh lease release failed: {e}");
        }
    }
}
