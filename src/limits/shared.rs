//! Limits across instances: every check-and-reserve is one Lua script call on Redis (all limits
//! of the key at once). Settlements wait in memory and ride along with the key's next
//! reservation (so an admitted request costs one round trip); a background flush sends the rest.

use super::{Estimate, KeyLimits, Limit, Refusal, UsageView};
use crate::cluster::Cluster;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

const RESERVE: &str = r#"
-- KEYS: 1 minute window (zset), 2 in flight, 3 day hash, 4 lifetime spend
-- ARGV: 1 now_ms, 2 member, 3 rpm, 4 max_concurrent, 5 rpd, 6 tpd, 7 cost/day, 8 budget,
--       9 est tokens, 10 est cost, 11 day ttl s, 12 release, 13 day tokens delta,
--       14 day cost delta, 15 spend delta (the settlements riding along; -1 = no limit)
local now = tonumber(ARGV[1])
if tonumber(ARGV[12]) > 0 then redis.call('DECRBY', KEYS[2], ARGV[12]) end
if tonumber(ARGV[13]) ~= 0 then redis.call('HINCRBY', KEYS[3], 'tok', ARGV[13]) end
if tonumber(ARGV[14]) ~= 0 then redis.call('HINCRBY', KEYS[3], 'cost', ARGV[14]) end
if tonumber(ARGV[15]) ~= 0 then redis.call('INCRBY', KEYS[4], ARGV[15]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
local rpm = tonumber(ARGV[3])
if rpm >= 0 and redis.call('ZCARD', KEYS[1]) >= rpm then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, 'rpm', tonumber(oldest[2]) + 60000 - now}
end
local maxc = tonumber(ARGV[4])
if maxc >= 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= maxc then
  return {0, 'concurrency', 1000}
end
local day = redis.call('HMGET', KEYS[3], 'req', 'tok', 'cost')
local dreq, dtok, dcost = tonumber(day[1] or '0'), tonumber(day[2] or '0'), tonumber(day[3] or '0')
local est_tok, est_cost = tonumber(ARGV[9]), tonumber(ARGV[10])
local rpd, tpd, cday, budget = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if rpd >= 0 and dreq + 1 > rpd then return {0, 'rpd', -1} end
if tpd >= 0 and dtok + est_tok > tpd then return {0, 'tpd', -1} end
if cday >= 0 and dcost + est_cost > cday then return {0, 'cost_per_day', -1} end
if budget >= 0 and tonumber(redis.call('GET', KEYS[4]) or '0') + est_cost > budget then
  return {0, 'budget', 86400000}
end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], 61000)
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 3600)
redis.call('HINCRBY', KEYS[3], 'req', 1)
redis.call('HINCRBY', KEYS[3], 'tok', est_tok)
redis.call('HINCRBY', KEYS[3], 'cost', est_cost)
redis.call('EXPIRE', KEYS[3], ARGV[11])
redis.call('INCRBY', KEYS[4], est_cost)
return {1}
"#;

/// A settlement not yet sent: what to give back for one key and day.
#[derive(Debug, Default, Clone)]
struct Pending {
    release: i64,
    day_tokens: i64,
    day_cost: i64,
    spend: i64,
}

/// Minute count, in flight, day (requests, tokens, cost), lifetime spend.
type UsageReply = (
    u64,
    Option<i64>,
    (Option<u64>, Option<u64>, Option<i64>),
    Option<i64>,
);

pub struct RedisLimiter {
    conn: ConnectionManager,
    prefix: String,
    script: redis::Script,
    pending: Mutex<HashMap<(i64, String), Pending>>,
}

fn key_names(prefix: &str, key: i64, day: &str) -> [String; 4] {
    [
        format!("{prefix}limits:{{{key}}}:minute"),
        format!("{prefix}limits:{{{key}}}:in-flight"),
        format!("{prefix}limits:{{{key}}}:day:{day}"),
        format!("{prefix}limits:{{{key}}}:spend"),
    ]
}

fn arg(limit: Option<i64>) -> i64 {
    limit.unwrap_or(-1)
}

impl RedisLimiter {
    pub fn new(cluster: &Cluster) -> Option<Self> {
        Some(Self {
            conn: cluster.redis()?.clone(),
            prefix: cluster.key_prefix.clone(),
            script: redis::Script::new(RESERVE),
            pending: Mutex::new(HashMap::new()),
        })
    }

    fn take_pending(&self, key: i64, day: &str) -> Pending {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.remove(&(key, day.to_string())).unwrap_or_default()
    }

    fn restore_pending(&self, key: i64, day: &str, back: Pending) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let e = p.entry((key, day.to_string())).or_default();
        e.release += back.release;
        e.day_tokens += back.day_tokens;
        e.day_cost += back.day_cost;
        e.spend += back.spend;
    }

    /// One round trip: applies this key's waiting settlements, checks every limit, reserves.
    pub async fn reserve(
        &self,
        key: i64,
        limits: &KeyLimits,
        est: Estimate,
        now: u64,
        day: &str,
        member: &str,
    ) -> Result<Result<(), Refusal>, redis::RedisError> {
        let keys = key_names(&self.prefix, key, day);
        let riding = self.take_pending(key, day);
        let mut inv = self.script.prepare_invoke();
        for k in &keys {
            inv.key(k);
        }
        inv.arg(now)
            .arg(member)
            .arg(arg(limits.rpm.map(i64::from)))
            .arg(arg(limits.max_concurrent.map(i64::from)))
            .arg(arg(limits.rpd.map(|v| v as i64)))
            .arg(arg(limits.tpd.map(|v| v as i64)))
            .arg(arg(limits.cost_per_day))
            .arg(arg(limits.budget))
            .arg(est.tokens)
            .arg(est.cost)
            .arg(2 * 86_400)
            .arg(riding.release)
            .arg(riding.day_tokens)
            .arg(riding.day_cost)
            .arg(riding.spend);
        let mut conn = self.conn.clone();
        let reply: Vec<redis::Value> = match inv.invoke_async(&mut conn).await {
            Ok(v) => v,
            Err(e) => {
                self.restore_pending(key, day, riding);
                return Err(e);
            }
        };
        let ok = matches!(reply.first(), Some(redis::Value::Int(1)));
        if ok {
            return Ok(Ok(()));
        }
        let which = match reply.get(1) {
            Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(redis::Value::SimpleString(s)) => s.clone(),
            _ => String::new(),
        };
        let after = match reply.get(2) {
            Some(redis::Value::Int(n)) => *n,
            _ => -1,
        };
        let limit = match which.as_str() {
            "rpm" => Limit::Rpm,
            "concurrency" => Limit::Concurrency,
            "rpd" => Limit::Rpd,
            "tpd" => Limit::Tpd,
            "cost_per_day" => Limit::CostPerDay,
            _ => Limit::Budget,
        };
        Ok(Err(if after >= 0 {
            Refusal::after_ms(limit, after as u64)
        } else {
            Refusal::until_tomorrow(limit)
        }))
    }

    /// Queues the settlement of a reservation; it rides with the key's next reservation or the
    /// next flush.
    pub fn settle(&self, key: i64, day: &str, est: Estimate, tokens: u64, cost: i64) {
        self.restore_pending(
            key,
            day,
            Pending {
                release: 1,
                day_tokens: tokens as i64 - est.tokens as i64,
                day_cost: cost - est.cost,
                spend: cost - est.cost,
            },
        );
    }

    /// Sends every waiting settlement in one pipeline.
    pub async fn flush(&self) -> redis::RedisResult<()> {
        let all: Vec<((i64, String), Pending)> = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.drain().collect()
        };
        if all.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for ((key, day), s) in &all {
            let [_, in_flight, day_hash, spend] = key_names(&self.prefix, *key, day);
            pipe.decr(&in_flight, s.release).ignore();
            pipe.hincr(&day_hash, "tok", s.day_tokens).ignore();
            pipe.hincr(&day_hash, "cost", s.day_cost).ignore();
            pipe.incr(&spend, s.spend).ignore();
        }
        let mut conn = self.conn.clone();
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            for ((key, day), s) in all {
                self.restore_pending(key, &day, s);
            }
            return Err(e);
        }
        Ok(())
    }

    pub async fn run_flusher(
        &self,
        every: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = tick.tick() => false,
                _ = shutdown.changed() => true,
            };
            if let Err(e) = self.flush().await {
                tracing::debug!("limit settlements not flushed yet: {e}");
            }
            if stopping {
                return;
            }
        }
    }

    /// Fills in spend that predates Redis (from the ledger); only where Redis has nothing yet.
    pub async fn seed(&self, key: i64, seed: &super::Seed) -> redis::RedisResult<()> {
        let [_, _, day_hash, spend] = key_names(&self.prefix, key, &seed.day);
        let mut conn = self.conn.clone();
        redis::pipe()
            .set_nx(&spend, seed.lifetime_spend)
            .ignore()
            .hset_nx(&day_hash, "req", seed.day_requests)
            .ignore()
            .hset_nx(&day_hash, "tok", seed.day_tokens)
            .ignore()
            .hset_nx(&day_hash, "cost", seed.day_cost)
            .ignore()
            .expire(&day_hash, 2 * 86_400)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
    }

    pub async fn usage(&self, key: i64, now: u64, day: &str) -> redis::RedisResult<UsageView> {
        let [minute, in_flight, day_hash, spend] = key_names(&self.prefix, key, day);
        let mut conn = self.conn.clone();
        let (count, flight, d, s): UsageReply = redis::pipe()
            .zcount(&minute, (now.saturating_sub(60_000) + 1) as f64, "+inf")
            .get(&in_flight)
            .hmget(&day_hash, &["req", "tok", "cost"])
            .get(&spend)
            .query_async(&mut conn)
            .await?;
        Ok(UsageView {
            minute_requests: count,
            in_flight: flight.unwrap_or(0).max(0) as u64,
            day: day.to_string(),
            day_requests: d.0.unwrap_or(0),
            day_tokens: d.1.unwrap_or(0),
            day_cost_nanos: d.2.unwrap_or(0),
            lifetime_spend_nanos: s.unwrap_or(0),
        })
    }
}
