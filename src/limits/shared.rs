//! Limits across instances: every check-and-reserve is one Lua script call on Redis (all limits
//! of the key at once). What a request holds while it runs — its concurrency slot and its
//! reserved tokens and cost — is a lease with a TTL: each instance renews all of its live
//! leases in one pipeline every TTL/3, so the leases of an instance that dies (`kill -9`,
//! a lost host) vanish within the TTL instead of holding slots and budget forever. Settlements
//! wait in memory and ride along with the key's next reservation (so an admitted request costs
//! one round trip); a background flush sends the rest.

use super::{Estimate, KeyLimits, Limit, Refusal, UsageView};
use crate::cluster::Cluster;
use redis::aio::ConnectionManager;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// Lua shared by both scripts. A lease's record in the `held` hash is `"<day> <tokens> <cost>"`
/// (what it reserved); the hash also keeps running totals of the live reservations: `#cost`
/// (all days, against the budget), `#tok:<day>` and `#cost:<day>` (against that day's quotas).
const COMMON: &str = r#"
local function bump(h, f, d)
  if d ~= 0 and redis.call('HINCRBY', h, f, d) == 0 then redis.call('HDEL', h, f) end
end
-- Gives back what a lease reserved and forgets the lease.
local function release(leases, held, lease)
  local rec = redis.call('HGET', held, lease)
  if rec then
    local day, tok, cost = string.match(rec, '^(%S+) (%-?%d+) (%-?%d+)$')
    if day then
      tok, cost = tonumber(tok), tonumber(cost)
      bump(held, '#tok:' .. day, -tok)
      bump(held, '#cost:' .. day, -cost)
      bump(held, '#cost', -cost)
    end
    redis.call('HDEL', held, lease)
  end
  redis.call('ZREM', leases, lease)
end
-- Leases whose holder stopped renewing them (it died): their slots and reservations go back.
local function purge(leases, held, now)
  for _, lease in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do
    release(leases, held, lease)
  end
end
-- Settlements from ARGV[from]: a count, then (lease, tokens, cost) for each. The lease's
-- reservation is released (if it is still there) and the real usage is added.
local function settle(leases, held, day, spend, from, day_ttl)
  local n = tonumber(ARGV[from])
  for i = 0, n - 1 do
    local at = from + 1 + 3 * i
    release(leases, held, ARGV[at])
    local tok, cost = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
    if tok ~= 0 then redis.call('HINCRBY', day, 'tok', tok) end
    if cost ~= 0 then
      redis.call('HINCRBY', day, 'cost', cost)
      redis.call('INCRBY', spend, cost)
    end
  end
  if n > 0 then redis.call('EXPIRE', day, day_ttl) end
end
"#;

const RESERVE: &str = r#"
-- KEYS: 1 minute window (zset), 2 leases (zset: lease -> expiry ms), 3 held (hash, see above),
--       4 day hash (req, and settled tok and cost), 5 lifetime spend (settled)
-- ARGV: 1 now_ms, 2 lease id, 3 rpm, 4 max_concurrent, 5 rpd, 6 tpd, 7 cost/day, 8 budget
--       (-1 = no limit), 9 est tokens, 10 est cost, 11 day, 12 day ttl s, 13 lease ttl ms,
--       14.. the settlements riding along (same key and day)
local now = tonumber(ARGV[1])
settle(KEYS[2], KEYS[3], KEYS[4], KEYS[5], 14, ARGV[12])
purge(KEYS[2], KEYS[3], now)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
local rpm = tonumber(ARGV[3])
if rpm >= 0 and redis.call('ZCARD', KEYS[1]) >= rpm then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, 'rpm', tonumber(oldest[2]) + 60000 - now}
end
local maxc = tonumber(ARGV[4])
if maxc >= 0 and redis.call('ZCARD', KEYS[2]) >= maxc then
  return {0, 'concurrency', 1000}
end
local dayname = ARGV[11]
local d = redis.call('HMGET', KEYS[4], 'req', 'tok', 'cost')
local h = redis.call('HMGET', KEYS[3], '#tok:' .. dayname, '#cost:' .. dayname, '#cost')
local dreq = tonumber(d[1] or '0')
local dtok = tonumber(d[2] or '0') + tonumber(h[1] or '0')
local dcost = tonumber(d[3] or '0') + tonumber(h[2] or '0')
local est_tok, est_cost = tonumber(ARGV[9]), tonumber(ARGV[10])
local rpd, tpd, cday, budget = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if rpd >= 0 and dreq + 1 > rpd then return {0, 'rpd', -1} end
if tpd >= 0 and dtok + est_tok > tpd then return {0, 'tpd', -1} end
if cday >= 0 and dcost + est_cost > cday then return {0, 'cost_per_day', -1} end
if budget >= 0 and tonumber(redis.call('GET', KEYS[5]) or '0') + tonumber(h[3] or '0') + est_cost > budget then
  return {0, 'budget', 86400000}
end
local ttl = tonumber(ARGV[13])
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], 61000)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], dayname .. ' ' .. ARGV[9] .. ' ' .. ARGV[10])
bump(KEYS[3], '#tok:' .. dayname, est_tok)
bump(KEYS[3], '#cost:' .. dayname, est_cost)
bump(KEYS[3], '#cost', est_cost)
redis.call('PEXPIRE', KEYS[2], 2 * ttl)
redis.call('PEXPIRE', KEYS[3], 2 * ttl)
redis.call('HINCRBY', KEYS[4], 'req', 1)
redis.call('EXPIRE', KEYS[4], ARGV[12])
return {1}
"#;

const SETTLE: &str = r#"
-- KEYS: 1 leases, 2 held, 3 day hash, 4 lifetime spend
-- ARGV: 1 day ttl s, 2.. settlements
settle(KEYS[1], KEYS[2], KEYS[3], KEYS[4], 2, ARGV[1])
return 1
"#;

/// Days are kept two days, so yesterday's counters survive until nobody can ask.
const DAY_TTL_SECS: u64 = 2 * 86_400;

/// A settlement not yet sent: the lease to release and what the request really used.
#[derive(Debug, Clone)]
struct Settlement {
    lease: String,
    tokens: u64,
    cost: i64,
}

/// Minute count, live leases, day (requests, tokens, cost), lifetime spend, reserved (all-day
/// cost, today's tokens, today's cost).
type UsageReply = (
    u64,
    u64,
    (Option<u64>, Option<u64>, Option<i64>),
    Option<i64>,
    (Option<i64>, Option<i64>, Option<i64>),
);

pub struct RedisLimiter {
    conn: ConnectionManager,
    prefix: String,
    reserve: redis::Script,
    settle: redis::Script,
    lease_ttl: Duration,
    pending: Mutex<HashMap<(i64, String), Vec<Settlement>>>,
    /// The leases this instance holds, per client key: what the renewal extends.
    live: Mutex<HashMap<i64, HashSet<String>>>,
}

/// The Redis keys of one client key (one hash slot: `{id}`).
struct KeyNames {
    minute: String,
    leases: String,
    held: String,
    day: String,
    spend: String,
}

fn key_names(prefix: &str, key: i64, day: &str) -> KeyNames {
    KeyNames {
        minute: format!("{prefix}limits:{{{key}}}:minute"),
        leases: format!("{prefix}limits:{{{key}}}:leases"),
        held: format!("{prefix}limits:{{{key}}}:held"),
        day: format!("{prefix}limits:{{{key}}}:day:{day}"),
        spend: format!("{prefix}limits:{{{key}}}:spend"),
    }
}

fn arg(limit: Option<i64>) -> i64 {
    limit.unwrap_or(-1)
}

fn push_settlements(inv: &mut redis::ScriptInvocation<'_>, list: &[Settlement]) {
    inv.arg(list.len());
    for s in list {
        inv.arg(&s.lease).arg(s.tokens).arg(s.cost);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RedisLimiter {
    pub fn new(cluster: &Cluster, lease_ttl: Duration) -> Option<Self> {
        Some(Self {
            conn: cluster.redis()?.clone(),
            prefix: cluster.key_prefix.clone(),
            reserve: redis::Script::new(&format!("{COMMON}{RESERVE}")),
            settle: redis::Script::new(&format!("{COMMON}{SETTLE}")),
            lease_ttl: lease_ttl.max(Duration::from_secs(1)),
            pending: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
        })
    }

    fn take_pending(&self, key: i64, day: &str) -> Vec<Settlement> {
        lock(&self.pending)
            .remove(&(key, day.to_string()))
            .unwrap_or_default()
    }

    fn restore_pending(&self, key: i64, day: &str, back: Vec<Settlement>) {
        if back.is_empty() {
            return;
        }
        lock(&self.pending)
            .entry((key, day.to_string()))
            .or_default()
            .extend(back);
    }

    /// One round trip: applies this key's waiting settlements, drops expired leases, checks
    /// every limit, and takes a lease named `lease` holding the estimate.
    pub async fn reserve(
        &self,
        key: i64,
        limits: &KeyLimits,
        est: Estimate,
        now: u64,
        day: &str,
        lease: &str,
    ) -> Result<Result<(), Refusal>, redis::RedisError> {
        let k = key_names(&self.prefix, key, day);
        let riding = self.take_pending(key, day);
        let mut inv = self.reserve.prepare_invoke();
        inv.key(&k.minute)
            .key(&k.leases)
            .key(&k.held)
            .key(&k.day)
            .key(&k.spend);
        inv.arg(now)
            .arg(lease)
            .arg(arg(limits.rpm.map(i64::from)))
            .arg(arg(limits.max_concurrent.map(i64::from)))
            .arg(arg(limits.rpd.map(|v| v as i64)))
            .arg(arg(limits.tpd.map(|v| v as i64)))
            .arg(arg(limits.cost_per_day))
            .arg(arg(limits.budget))
            .arg(est.tokens)
            .arg(est.cost)
            .arg(day)
            .arg(DAY_TTL_SECS)
            .arg(millis(self.lease_ttl));
        push_settlements(&mut inv, &riding);
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
            lock(&self.live)
                .entry(key)
                .or_default()
                .insert(lease.to_string());
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

    /// Ends a lease: it is no longer renewed, and its settlement (release the reservation, add
    /// the real usage) rides with the key's next reservation or the next flush.
    pub fn settle(&self, key: i64, day: &str, lease: &str, tokens: u64, cost: i64) {
        {
            let mut live = lock(&self.live);
            if let Some(set) = live.get_mut(&key) {
                set.remove(lease);
                if set.is_empty() {
                    live.remove(&key);
                }
            }
        }
        self.restore_pending(
            key,
            day,
            vec![Settlement {
                lease: lease.to_string(),
                tokens,
                cost,
            }],
        );
    }

    /// Sends every waiting settlement in one pipeline (one script call per key and day).
    pub async fn flush(&self) -> redis::RedisResult<()> {
        let all: Vec<((i64, String), Vec<Settlement>)> = lock(&self.pending).drain().collect();
        if all.is_empty() {
            return Ok(());
        }
        let calls: Vec<_> = all
            .iter()
            .map(|((key, day), list)| {
                let k = key_names(&self.prefix, *key, day);
                let mut inv = self.settle.prepare_invoke();
                inv.key(k.leases).key(k.held).key(k.day).key(k.spend);
                inv.arg(DAY_TTL_SECS);
                push_settlements(&mut inv, list);
                inv
            })
            .collect();
        let mut pipe = redis::pipe();
        for inv in &calls {
            pipe.invoke_script(inv).ignore();
        }
        let mut conn = self.conn.clone();
        let mut result = pipe.query_async::<()>(&mut conn).await;
        if matches!(&result, Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript))
        {
            // A restarted or flushed Redis: load the script and send the rest again (a call
            // that ran before the failing one ran once; NOSCRIPT means none of them ran).
            result = match self.settle.load_async(&mut conn).await {
                Ok(_) => pipe.query_async::<()>(&mut conn).await,
                Err(e) => Err(e),
            };
        }
        match result {
            Ok(()) => Ok(()),
            // A script that ran and failed would fail again: sending it again could only
            // apply the calls before it twice.
            Err(e) if matches!(e.kind(), redis::ErrorKind::Server(_)) => {
                tracing::error!("limit settlements refused by Redis and dropped: {e}");
                Err(e)
            }
            Err(e) => {
                for ((key, day), list) in all {
                    self.restore_pending(key, &day, list);
                }
                Err(e)
            }
        }
    }

    /// Extends every live lease of this instance to now + TTL, in one pipeline: one `ZADD XX`
    /// per client key with all of its leases (`XX`: a lease that was settled or purged in the
    /// meantime is not brought back).
    pub async fn renew(&self, now: u64) -> redis::RedisResult<usize> {
        let live: Vec<(i64, Vec<String>)> = lock(&self.live)
            .iter()
            .map(|(k, set)| (*k, set.iter().cloned().collect()))
            .collect();
        if live.is_empty() {
            return Ok(0);
        }
        let ttl = millis(self.lease_ttl);
        let expiry = now.saturating_add(ttl);
        let mut pipe = redis::pipe();
        let mut count = 0;
        for (key, leases) in &live {
            let k = key_names(&self.prefix, *key, "");
            let mut zadd = redis::cmd("ZADD");
            zadd.arg(&k.leases).arg("XX");
            for lease in leases {
                zadd.arg(expiry).arg(lease);
            }
            count += leases.len();
            pipe.add_command(zadd).ignore();
            pipe.pexpire(&k.leases, 2 * ttl as i64).ignore();
            pipe.pexpire(&k.held, 2 * ttl as i64).ignore();
        }
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await?;
        Ok(count)
    }

    /// Flushes settlements every `every` and renews leases every TTL/3, until shutdown (then
    /// flushes once more).
    pub async fn run_flusher(
        &self,
        every: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut flush = tokio::time::interval(every);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renew = tokio::time::interval(self.lease_ttl / 3);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = flush.tick() => {
                    if let Err(e) = self.flush().await {
                        tracing::debug!("limit settlements not flushed yet: {e}");
                    }
                }
                _ = renew.tick() => {
                    let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
                    if let Err(e) = self.renew(now).await {
                        tracing::warn!("limit leases not renewed ({e}); they lapse after limits.lease_ttl_secs");
                    }
                }
                _ = shutdown.changed() => {
                    if let Err(e) = self.flush().await {
                        tracing::debug!("limit settlements not flushed at shutdown: {e}");
                    }
                    return;
                }
            }
        }
    }

    /// Fills in spend that predates Redis (from the ledger); only where Redis has nothing yet.
    pub async fn seed(&self, key: i64, seed: &super::Seed) -> redis::RedisResult<()> {
        let k = key_names(&self.prefix, key, &seed.day);
        let mut conn = self.conn.clone();
        redis::pipe()
            .set_nx(&k.spend, seed.lifetime_spend)
            .ignore()
            .hset_nx(&k.day, "req", seed.day_requests)
            .ignore()
            .hset_nx(&k.day, "tok", seed.day_tokens)
            .ignore()
            .hset_nx(&k.day, "cost", seed.day_cost)
            .ignore()
            .expire(&k.day, DAY_TTL_SECS as i64)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
    }

    /// The key's counters: settled usage plus what live leases hold, as the checks see it.
    pub async fn usage(&self, key: i64, now: u64, day: &str) -> redis::RedisResult<UsageView> {
        let k = key_names(&self.prefix, key, day);
        let mut conn = self.conn.clone();
        let (count, flight, d, s, h): UsageReply = redis::pipe()
            .zcount(&k.minute, (now.saturating_sub(60_000) + 1) as f64, "+inf")
            .zcount(&k.leases, (now + 1) as f64, "+inf")
            .hmget(&k.day, &["req", "tok", "cost"])
            .get(&k.spend)
            .hmget(
                &k.held,
                &[
                    "#cost".to_string(),
                    format!("#tok:{day}"),
                    format!("#cost:{day}"),
                ],
            )
            .query_async(&mut conn)
            .await?;
        Ok(UsageView {
            minute_requests: count,
            in_flight: flight,
            day: day.to_string(),
            day_requests: d.0.unwrap_or(0),
            day_tokens: (d.1.unwrap_or(0) as i64 + h.1.unwrap_or(0)).max(0) as u64,
            day_cost_nanos: d.2.unwrap_or(0) + h.2.unwrap_or(0),
            lifetime_spend_nanos: s.unwrap_or(0) + h.0.unwrap_or(0),
        })
    }

    /// How many leases this instance holds now.
    pub fn live_leases(&self) -> usize {
        lock(&self.live).values().map(HashSet::len).sum()
    }
}
