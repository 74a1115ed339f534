//! What several Tollgate instances share: the Redis connection (absent in single-instance mode).

use redis::aio::ConnectionManager;
use std::time::Duration;

/// A Redis handle that reconnects by itself; `None` means in-process mode.
#[derive(Clone)]
pub struct Cluster {
    redis: Option<ConnectionManager>,
    pub key_prefix: String,
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
        }
    }

    /// Connects; an unreachable Redis at start-up is an error naming the setting, because a
    /// configured but absent Redis would silently split the instances' limits.
    pub async fn connect(url: &str, key_prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("redis.url is not a valid Redis URL: {e}"))?;
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
        })
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
            _ => RedisStatus::Unreachable,
        }
    }
}
