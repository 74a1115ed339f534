//! Stats and trends from the usage rollups, checked against the request_logs rows the same
//! requests produced (read through /api/logs): real proxied traffic through the real binary
//! against the mock upstream, on SQLite and on Postgres; member scoping; the migration's
//! backfill of existing logs; and the retention job deleting old logs while rollups stay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{Duration as Days, Utc};
use common::{Options, PgDatabase, Tollgate, rand_suffix};
use entity::{request_log, usage_rollup};
use sea_orm::{ActiveModelTrait, Database, EntityTrait, IntoActiveModel, QueryOrder};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tollgate::config::DatabaseKind;
use tollgate::store::{ClientKeyLimits, NewClientKey, Store};
use tollgate::usage::{Ledger, LogRecord, format_nanos, parse_nanos};
use tollgate_testkit::MockUpstream;

const MASTER: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Every log row, once there are `expected` of them (the ledger writes in batches).
async fn logs(tg: &Tollgate, token: Option<&str>, expected: u64) -> Vec<Value> {
    let token = token.unwrap_or(&tg.token);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (s, v) = tg
            .call(Some(token), "GET", "/api/logs?per_page=500", None)
            .await;
        assert_eq!(s, 200, "{v}");
        if v["total"] == expected {
            return v["items"].as_array().unwrap().clone();
        }
        assert!(
            Instant::now() < deadline,
            "expected {expected} log rows: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the stats should say about these log rows.
#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Expected {
    requests: i64,
    errors: i64,
    prompt: i64,
    completion: i64,
    cache_write: i64,
    cache_read: i64,
    total: i64,
    cost_nanos: i64,
    unpriced: i64,
    latency_max: i64,
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// Sums log rows the way the rollups should; `anthropic` names the provider whose prompt
/// figure leaves cached tokens out.
fn expected(rows: &[&Value], anthropic: i64) -> Expected {
    let mut e = Expected::default();
    for r in rows {
        let (p, c, cw, cr) = (
            int(&r["prompt_tokens"]),
            int(&r["completion_tokens"]),
            int(&r["cache_write_tokens"]),
            int(&r["cache_read_tokens"]),
        );
        e.requests += 1;
        if int(&r["status"]) >= 400 || !r["error_kind"].is_null() {
            e.errors += 1;
        }
        e.prompt += p;
        e.completion += c;
        e.cache_write += cw;
        e.cache_read += cr;
        e.total += p
            + c
            + if r["provider_id"] == anthropic {
                cw + cr
            } else {
                0
            };
        match r["cost"].as_str() {
            Some(cost) => e.cost_nanos += parse_nanos(cost).unwrap(),
            None if !r["model"].is_null() && p + c > 0 => e.unpriced += 1,
            None => {}
        }
        e.latency_max = e.latency_max.max(int(&r["latency_ms"]));
    }
    e
}

/// The same figures read from a stats answer (an overview, a trend point or a top-list item).
fn observed(v: &Value) -> Expected {
    Expected {
        requests: int(&v["requests"]),
        errors: int(&v["errors"]),
        prompt: int(&v["tokens"]["prompt"]),
        completion: int(&v["tokens"]["completion"]),
        cache_write: int(&v["tokens"]["cache_write"]),
        cache_read: int(&v["tokens"]["cache_read"]),
        total: int(&v["tokens"]["total"]),
        cost_nanos: parse_nanos(v["cost"].as_str().unwrap()).unwrap(),
        unpriced: int(&v["unpriced_requests"]),
        latency_max: v["latency_max_ms"].as_i64().unwrap_or(0),
    }
}

/// Sums trend points (the maximum of maxima).
fn summed(points: &[Value]) -> Expected {
    let mut e = Expected::default();
    for p in points {
        let o = observed(p);
        e.requests += o.requests;
        e.errors += o.errors;
        e.prompt += o.prompt;
        e.completion += o.completion;
        e.cache_write += o.cache_write;
        e.cache_read += o.cache_read;
        e.total += o.total;
        e.cost_nanos += o.cost_nanos;
        e.unpriced += o.unpriced;
        e.latency_max = e.latency_max.max(o.latency_max);
    }
    e
}

async fn get(tg: &Tollgate, token: &str, path: &str) -> Value {
    let (s, v) = tg.call(Some(token), "GET", path, None).await;
    assert_eq!(s, 200, "{path}: {v}");
    v
}

/// Sends one proxied request; returns its status.
async fn send(tg: &Tollgate, key: &str, format: &str, model: &str, stream: bool) -> u16 {
    let req = match format {
        "anthropic" => tg
            .http
            .post(format!("{}/v1/messages", tg.proxy))
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01")
            .json(&json!({"model": model, "max_tokens": 32, "stream": stream,
                          "messages": [{"role": "user", "content": "hello"}]})),
        _ => tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(key)
            .json(&json!({"model": model, "stream": stream,
                          "messages": [{"role": "user", "content": "hello"}]})),
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let _ = r.bytes().await;
    status
}

/// Ranks (name, value) pairs as the top lists do: value descending, then name ascending.
fn ranked<K: Ord + Clone>(counts: BTreeMap<K, i64>) -> Vec<(K, i64)> {
    let mut v: Vec<(K, i64)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Traffic across two client keys (a member's and the admin's), three models, a streamed
/// request, an upstream 500, an unpriced model and a bad client key, in two waves (the second
/// adds to rollup rows the first created); then every stats route against the log rows.
async fn stats_match_the_logs(tg: &Tollgate, mock: &MockUpstream) {
    tg.set_price("gpt-4o", "2.5", "10", "0", "1.25").await;
    tg.set_price("claude-sonnet-4-5", "3", "15", "3.75", "0.3")
        .await;
    let openai = tg
        .create_provider(&format!("oa-{}", rand_suffix()), "openai", &mock.base_url())
        .await;
    let anthropic = tg
        .create_provider(
            &format!("an-{}", rand_suffix()),
            "anthropic",
            &mock.base_url(),
        )
        .await;
    let pk_ok = tg.create_provider_key(openai, "sk-stats-ok").await;
    let pk_fail = tg.create_provider_key(openai, "fail-500-stats").await;
    let pk_ant = tg.create_provider_key(anthropic, "sk-ant-stats").await;

    let member_name = format!("m{}", rand_suffix());
    tg.create_user(&member_name, "member-password-123", "member")
        .await;
    let member = tg.session(&member_name, "member-password-123").await;
    let (s, v) = tg
        .call(
            Some(&member),
            "POST",
            "/api/client-keys",
            Some(json!({"name": "member-key", "provider_id": openai, "provider_key_ids": [pk_ok]})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (key_a, secret_a) = (int(&v["id"]), v["key"].as_str().unwrap().to_string());
    let (key_b, secret_b) = tg.create_client_key(anthropic, &[pk_ant]).await;
    let (key_c, secret_c) = tg.create_client_key(openai, &[pk_fail]).await;

    // Wave one.
    for _ in 0..3 {
        assert_eq!(send(tg, &secret_a, "openai", "gpt-4o", false).await, 200);
    }
    for _ in 0..2 {
        assert_eq!(
            send(tg, &secret_a, "openai", "house-model-x", false).await,
            200
        );
    }
    for _ in 0..2 {
        assert_eq!(
            send(tg, &secret_b, "anthropic", "claude-sonnet-4-5", false).await,
            200
        );
    }
    assert!(send(tg, &secret_c, "openai", "gpt-4o-mini", false).await >= 500);
    assert_eq!(
        send(tg, "tg-not-a-real-key", "openai", "gpt-4o", false).await,
        401
    );
    logs(tg, None, 9).await;
    // Wave two, into the same hours: the upserts add to existing rows.
    assert_eq!(send(tg, &secret_a, "openai", "gpt-4o", true).await, 200);
    assert_eq!(
        send(tg, &secret_b, "anthropic", "claude-sonnet-4-5", true).await,
        200
    );
    let rows = logs(tg, None, 11).await;
    let all: Vec<&Value> = rows.iter().collect();
    let want = expected(&all, anthropic);
    assert_eq!((want.requests, want.errors, want.unpriced), (11, 2, 2));
    assert!(want.cost_nanos > 0 && want.prompt > 0 && want.completion > 0);
    let admin = tg.token.clone();

    // Overview (default window: the last 24 hours).
    let o = get(tg, &admin, "/api/stats/overview").await;
    assert_eq!(observed(&o), want, "{o}");
    let rate = o["error_rate"].as_f64().unwrap();
    assert!((rate - 2.0 / 11.0).abs() < 1e-9, "{o}");
    let (p50, p95) = (int(&o["latency_p50_ms"]), int(&o["latency_p95_ms"]));
    assert!(p50 <= p95 && p95 <= want.latency_max, "{o}");
    let latency_sum: i64 = rows.iter().map(|r| int(&r["latency_ms"])).sum();
    assert_eq!(int(&o["latency_avg_ms"]), (latency_sum + 11 / 2) / 11);
    // An explicit window, and one that holds nothing.
    let from = (Utc::now() - Days::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let o2 = get(tg, &admin, &format!("/api/stats/overview?from={from}")).await;
    assert_eq!(observed(&o2), want);
    let o3 = get(
        tg,
        &admin,
        "/api/stats/overview?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z",
    )
    .await;
    assert_eq!(o3["requests"], 0);
    assert_eq!(o3["cost"], "0");
    assert!(o3["latency_p50_ms"].is_null());
    let (s, _) = tg
        .call(
            Some(&admin),
            "GET",
            "/api/stats/overview?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(s, 400);

    // Trends: every bucket present, and they add up to the overview.
    let t = get(tg, &admin, "/api/stats/trends?granularity=hour&days=1").await;
    let points = t["points"].as_array().unwrap();
    assert_eq!(points.len(), 24);
    assert_eq!(summed(points), want);
    let t = get(tg, &admin, "/api/stats/trends").await;
    assert_eq!(t["granularity"], "day");
    assert_eq!(t["timezone"], "UTC");
    let points = t["points"].as_array().unwrap();
    assert_eq!(points.len(), 7);
    assert_eq!(
        points[6]["day"],
        Utc::now().format("%Y-%m-%d").to_string(),
        "{t}"
    );
    assert_eq!(summed(points), want);
    // Filtered series equal the matching log rows.
    let only = |f: &dyn Fn(&Value) -> bool| -> Expected {
        expected(&rows.iter().filter(|r| f(r)).collect::<Vec<_>>(), anthropic)
    };
    for (query, want) in [
        (
            format!("client_key_id={key_a}"),
            only(&|r| r["client_key_id"] == key_a),
        ),
        (
            format!("provider_key_id={pk_ant}"),
            only(&|r| r["provider_key_id"] == pk_ant),
        ),
        (
            "model=gpt-4o".to_string(),
            only(&|r| r["model"] == "gpt-4o"),
        ),
        (
            format!("client_key_id={key_a}&model=house-model-x"),
            only(&|r| r["client_key_id"] == key_a && r["model"] == "house-model-x"),
        ),
    ] {
        let t = get(tg, &admin, &format!("/api/stats/trends?{query}")).await;
        assert_eq!(summed(t["points"].as_array().unwrap()), want, "{query}");
    }
    // The seed-001 shapes.
    let t = get(
        tg,
        &admin,
        &format!("/api/provider-keys/{pk_fail}/trends?days=7"),
    )
    .await;
    assert_eq!(
        summed(t["points"].as_array().unwrap()),
        only(&|r| r["provider_key_id"] == pk_fail)
    );
    assert_eq!(summed(t["points"].as_array().unwrap()).errors, 1);
    let t = get(
        tg,
        &admin,
        &format!("/api/client-keys/{key_b}/trends?days=7"),
    )
    .await;
    assert_eq!(
        summed(t["points"].as_array().unwrap()),
        only(&|r| r["client_key_id"] == key_b)
    );

    // Top lists, in the order the log rows give.
    let mut by_model = BTreeMap::new();
    let mut cost_by_model = BTreeMap::new();
    let mut by_key = BTreeMap::new();
    for r in &rows {
        if let Some(m) = r["model"].as_str() {
            *by_model.entry(m.to_string()).or_insert(0) += 1;
            *cost_by_model.entry(m.to_string()).or_insert(0) +=
                r["cost"].as_str().map_or(0, |c| parse_nanos(c).unwrap());
        }
        if let Some(k) = r["client_key_id"].as_i64() {
            *by_key.entry(k).or_insert(0) += 1;
        }
    }
    let top = get(tg, &admin, "/api/stats/top-models").await;
    let got: Vec<(String, i64)> = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["model"].as_str().unwrap().to_string(),
                int(&i["requests"]),
            )
        })
        .collect();
    assert_eq!(got, ranked(by_model), "{top}");
    let top = get(tg, &admin, "/api/stats/top-models?by=cost&limit=2").await;
    let got: Vec<(String, i64)> = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let cost = parse_nanos(i["cost"].as_str().unwrap()).unwrap();
            (i["model"].as_str().unwrap().to_string(), cost)
        })
        .collect();
    let mut want_cost = ranked(cost_by_model);
    want_cost.truncate(2);
    assert_eq!(got, want_cost);
    let top = get(tg, &admin, "/api/stats/top-keys").await;
    let got: Vec<(i64, i64)> = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (int(&i["client_key_id"]), int(&i["requests"])))
        .collect();
    assert_eq!(got, ranked(by_key));
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [key_a, key_b, key_c]
    );
    assert_eq!(top["items"][0]["name"], "member-key");
    for bad in [
        "/api/stats/top-keys?limit=0",
        "/api/stats/top-models?by=latency",
        "/api/stats/trends?granularity=hour&days=32",
        "/api/stats/trends?days=367",
        "/api/stats/trends?days=0",
        "/api/stats/trends?granularity=week",
        "/api/stats/overview?window=1",
    ] {
        let (s, v) = tg.call(Some(&admin), "GET", bad, None).await;
        assert_eq!(s, 400, "{bad}: {v}");
    }

    // A member sees only their own key's usage, everywhere.
    let own = only(&|r| r["client_key_id"] == key_a);
    assert_eq!(
        expected(
            &logs(tg, Some(&member), 6).await.iter().collect::<Vec<_>>(),
            anthropic
        ),
        own
    );
    let o = get(tg, &member, "/api/stats/overview").await;
    assert_eq!(observed(&o), own);
    let t = get(tg, &member, "/api/stats/trends?granularity=hour&days=2").await;
    assert_eq!(summed(t["points"].as_array().unwrap()), own);
    let t = get(
        tg,
        &member,
        &format!("/api/stats/trends?client_key_id={key_b}"),
    )
    .await;
    assert_eq!(summed(t["points"].as_array().unwrap()).requests, 0);
    let top = get(tg, &member, "/api/stats/top-keys").await;
    assert_eq!(top["items"].as_array().unwrap().len(), 1);
    assert_eq!(top["items"][0]["client_key_id"], key_a);
    let top = get(tg, &member, "/api/stats/top-models").await;
    let models: Vec<&str> = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["gpt-4o", "house-model-x"]);
    let t = get(tg, &member, &format!("/api/client-keys/{key_a}/trends")).await;
    assert_eq!(summed(t["points"].as_array().unwrap()), own);
    for (path, status) in [
        (format!("/api/client-keys/{key_b}/trends"), 404),
        (format!("/api/provider-keys/{pk_ok}/trends"), 403),
        (format!("/api/stats/trends?provider_key_id={pk_ok}"), 403),
    ] {
        let (s, v) = tg.call(Some(&member), "GET", &path, None).await;
        assert_eq!(s, status, "{path}: {v}");
    }
}

#[tokio::test]
async fn stats_match_the_logs_on_sqlite() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    stats_match_the_logs(&tg, &mock).await;
}

#[tokio::test]
async fn stats_match_the_logs_on_postgres() {
    let Some(admin_url) = common::postgres_url() else {
        return;
    };
    let db = PgDatabase::create(&admin_url).await;
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(
        Options {
            database_url: Some(db.url.clone()),
            ..Default::default()
        }
        .env("TOLLGATE__SECURITY__MASTER_KEY", MASTER),
    )
    .await;
    stats_match_the_logs(&tg, &mock).await;
}

/// Requests of several keys, models, statuses and latencies, `age` ago.
fn records(n: usize, age: Days, tag: &str) -> Vec<LogRecord> {
    let now = Utc::now();
    (0..n)
        .map(|i| {
            let anthropic = i % 3 == 0;
            LogRecord {
                request_id: format!("{tag}-{i}"),
                created_at: now - age - Days::minutes((i % 180) as i64),
                client_key_id: (i % 7 != 0).then_some((i % 4) as i64 + 1),
                provider_id: Some(if anthropic { 2 } else { 1 }),
                provider_key_id: Some((i % 2) as i64 + 1),
                method: "POST".into(),
                path: "/v1/chat/completions".into(),
                model: (i % 11 != 0).then(|| format!("model-{}", i % 3)),
                status: if i % 13 == 0 { 500 } else { 200 },
                error_kind: (i % 17 == 0).then(|| "upstream_cut".to_string()),
                latency_ms: ((i * 37) % 5000) as i64,
                prompt_tokens: (i % 50) as u64,
                completion_tokens: (i % 20) as u64,
                cache_write_tokens: if anthropic { 3 } else { 0 },
                cache_read_tokens: (i % 5) as u64,
                cost_nanos: (i % 4 != 0).then_some(i as i64 * 1000),
                provider_format_includes_cache: !anthropic,
                ..Default::default()
            }
        })
        .collect()
}

/// Writes records through the real ledger writer (rows and rollups) into a migrated database.
async fn write_through_ledger(url: &str, path: &std::path::Path, records: Vec<LogRecord>) {
    let store = Store::connect(url, DatabaseKind::Sqlite, Some(path), 4)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let (ledger, writer) = Ledger::new(store.clone(), 1024, 500);
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(writer.run(stop_rx));
    for r in records {
        ledger.record_waiting(r).await.unwrap();
    }
    drop(ledger);
    task.await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn retention_deletes_old_logs_in_batches_and_keeps_rollups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tollgate.db");
    let url = format!("sqlite://{}", path.display());
    // Client key 1 exists, so its spend is seeded into the limit counters at start-up.
    let store = Store::connect(&url, DatabaseKind::Sqlite, Some(&path), 2)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let key = store
        .create_client_key(NewClientKey {
            name: "old-spender".into(),
            key_hash: "not-a-real-hash".into(),
            key_prefix: "tg-old".into(),
            provider_ids: vec![1],
            owner_id: None,
            strategy: "round_robin".into(),
            max_retries: 0,
            enabled: true,
            provider_key_ids: vec![],
            limits: ClientKeyLimits::default(),
        })
        .await
        .unwrap();
    assert_eq!(key.key.id, 1);
    store.close().await;
    let mut all = records(2500, Days::days(10), "old");
    all.extend(records(40, Days::zero(), "new"));
    let spent: i64 = all
        .iter()
        .filter(|r| r.client_key_id == Some(1))
        .filter_map(|r| r.cost_nanos)
        .sum();
    write_through_ledger(&url, &path, all).await;

    let tg = Tollgate::start_with(
        Options {
            database_url: Some(url.clone()),
            ..Default::default()
        }
        .env("TOLLGATE__RETENTION__REQUEST_LOG_DAYS", "1")
        .env("TOLLGATE__RETENTION__BATCH_SIZE", "100"),
    )
    .await;
    // The first sweep runs at start-up: only the recent rows stay.
    let rows = logs(&tg, None, 40).await;
    assert!(
        rows.iter()
            .all(|r| r["request_id"].as_str().unwrap().starts_with("new-"))
    );
    // The rollups still hold all of them.
    let from = (Utc::now() - Days::days(12)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let o = get(&tg, &tg.token, &format!("/api/stats/overview?from={from}")).await;
    assert_eq!(o["requests"], 2540, "{o}");
    let o = get(&tg, &tg.token, "/api/stats/overview").await;
    assert_eq!(o["requests"], 40, "{o}");
    // The sweep reports its total once a delete finds nothing left.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !tg
        .log()
        .lines()
        .any(|l| l.contains("retention: deleted old request logs") && l.contains("2500"))
    {
        assert!(Instant::now() < deadline, "{}", tg.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // After a restart, the lifetime spend counted against budgets is still whole: it is read
    // from the rollups, not from the remaining rows.
    drop(tg);
    let tg = Tollgate::start_with(Options {
        database_url: Some(url),
        ..Default::default()
    })
    .await;
    assert_eq!(logs(&tg, None, 40).await.len(), 40);
    let k = get(&tg, &tg.token, "/api/client-keys/1").await;
    assert_eq!(k["usage"]["lifetime_spend"], format_nanos(spent), "{k}");
}

#[tokio::test]
async fn the_migration_rolls_up_existing_logs_like_the_ledger_does() {
    // A: written by the ledger writer (rows and rollups).
    let dir = tempfile::tempdir().unwrap();
    let path_a = dir.path().join("a.db");
    let url_a = format!("sqlite://{}?mode=rwc", path_a.display());
    write_through_ledger(&url_a, &path_a, records(1200, Days::hours(30), "m")).await;
    let a = Database::connect(&url_a).await.unwrap();
    let rows = request_log::Entity::find()
        .order_by_asc(request_log::Column::Id)
        .all(&a)
        .await
        .unwrap();
    let rollups_a = usage_rollup::Entity::find()
        .order_by_asc(usage_rollup::Column::BucketStart)
        .all(&a)
        .await
        .unwrap();
    assert!(rollups_a.len() > 10);

    // B: the same rows in a database from before the rollups, then migrated.
    let url_b = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
    let b = Database::connect(&url_b).await.unwrap();
    use migration::MigratorTrait;
    migration::Migrator::up(&b, Some(6)).await.unwrap();
    for row in rows {
        let mut m = row.into_active_model().reset_all();
        // Columns added after migration 6 are not in that schema.
        m.usage_source = sea_orm::ActiveValue::NotSet;
        m.response_model = sea_orm::ActiveValue::NotSet;
        m.resolved_model = sea_orm::ActiveValue::NotSet;
        m.route = sea_orm::ActiveValue::NotSet;
        m.translated = sea_orm::ActiveValue::NotSet;
        request_log::Entity::insert(m)
            .exec_without_returning(&b)
            .await
            .unwrap();
    }
    migration::Migrator::up(&b, None).await.unwrap();
    let mut rollups_b = usage_rollup::Entity::find().all(&b).await.unwrap();
    let key = |r: &usage_rollup::Model| {
        (
            r.bucket_start,
            r.client_key_id,
            r.provider_key_id,
            r.provider_id,
            r.model.clone(),
        )
    };
    let mut rollups_a = rollups_a;
    rollups_a.sort_by_key(key);
    rollups_b.sort_by_key(key);
    assert_eq!(rollups_a, rollups_b);
}
