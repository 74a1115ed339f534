//! What several Tollgate instances share: the Redis connection (absent in single-instance mode).

use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A Redis handle that reconnects by itself; `None` means in-process mode.
#[derive(Clone)]
pub struct Cluster {
    redis: Option<ConnectionManager>,
    pub key_prefix: String,
    errors: Arc<RedisErrors>,
}

/// Where a Redis failure was seen (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisErrorSource {
    /// A limit check, settlement flush or lease renewal failed.
    Limits,
    /// The key-health exchange with the other instances failed.
    HealthSync,
    /// A health ping (`/api/health`) failed or timed out.
    Ping,
    /// An OAuth refresh lock could not be taken in Redis.
    OAuthLock,
}

#[derive(Debug, Default)]
struct RedisErrors {
    limits: AtomicU64,
    health_sync: AtomicU64,
    ping: AtomicU64,
    oauth_lock: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RedisStatus {
    Disabled,
    Ok,
    Unreachable,
}

impl Cluster {
    pub fn in_process(key_prefix: &str) -> Self {
        Self {
            redis: None,
            key_prefix: key_prefix.to_string(),
            errors: Arc::default(),
        }
    }

    /// Connects; an unreachable Redis at start-up is an error naming the setting, because a
    /// configured but absent Redis would silently split the instances' limits.
    pub async fn connect(url: &str, key_prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("redis.url is not a valid Redis URL: {e}"))?;
        let errors = Arc::new(RedisErrors::default());
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        let manager = tokio::time::timeout(
            Duration::from_secs(5),
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| anyhow::anyhow!("redis.url: Redis did not answer within 5s"))?
        .map_err(|e| anyhow::anyhow!("redis.url: cannot connect to Redis: {e}"))?;
        Ok(Self {
            redis: Some(manager),
            key_prefix: key_prefix.to_string(),
            errors,
        })
    }

    /// Counts a Redis failure seen by a caller.
    pub fn count_error(&self, source: RedisErrorSource) {
        let e = &self.errors;
        let counter = match source {
            RedisErrorSource::Limits => &e.limits,
            RedisErrorSource::HealthSync => &e.health_sync,
            RedisErrorSource::Ping => &e.ping,
            RedisErrorSource::OAuthLock => &e.oauth_lock,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Failures since start, by where they were seen.
    pub fn error_counts(&self) -> [(&'static str, u64); 4] {
        let e = &self.errors;
        [
            ("limits", e.limits.load(Ordering::Relaxed)),
            ("health_sync", e.health_sync.load(Ordering::Relaxed)),
            ("ping", e.ping.load(Ordering::Relaxed)),
            ("oauth_lock", e.oauth_lock.load(Ordering::Relaxed)),
        ]
    }

    pub fn redis(&self) -> Option<&ConnectionManager> {
        self.redis.as_ref()
    }

    pub async fn status(&self) -> RedisStatus {
        let Some(manager) = &self.redis else {
            return RedisStatus::Disabled;
        };
        let mut conn = manager.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(Duration::from_secs(1), ping).await {
            Ok(Ok(_)) => RedisStatus::Ok,
            _ => {
                self.count_error(RedisErrorSource::Ping);
                RedisStatus::Unreachable
            }
        }
    }
}
