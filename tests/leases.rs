//! Crash-safe shared limits against the real binaries, a real Redis and the mock upstream:
//! concurrency slots and spend reservations are leases that a killed instance cannot keep,
//! that a living one keeps renewed for as long as its requests run, and that still cost one
//! script call per request. Also: stored limits that cannot be enforced refuse the key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use common::{Options, Tollgate, redis_url};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tollgate_testkit::{MockOptions, MockUpstream};

const TTL_SECS: u64 = 3;

async fn chat(tg: &Tollgate, key: &str, stream: bool) -> reqwest::Response {
    tg.http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(key)
        .json(&json!({"model": "gpt-4o", "max_tokens": 1000, "stream": stream, "messages": []}))
        .send()
        .await
        .unwrap()
}

/// A status and the body's error code, for asserting refusals.
async fn attempt(tg: &Tollgate, key: &str) -> (u16, String) {
    let r = chat(tg, key, false).await;
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (
        status,
        v["error"]["code"].as_str().unwrap_or("").to_string(),
    )
}

/// Opens `n` streams on `tg` and reads their first event: each is admitted and holds its
/// lease until the stream ends (the mock holds streams until released).
async fn hold(
    tg: &Tollgate,
    key: &str,
    n: usize,
) -> Vec<impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + use<>> {
    let mut held = Vec::new();
    for _ in 0..n {
        let r = chat(tg, key, true).await;
        assert_eq!(r.status(), 200);
        let mut stream = r.bytes_stream();
        stream.next().await.unwrap().unwrap();
        held.push(stream);
    }
    held
}

/// Polls until `key` is admitted on `tg`; returns how long it took, failing after `within`.
async fn admitted_after(tg: &Tollgate, key: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (status, code) = attempt(tg, key).await;
        if status == 200 {
            return started.elapsed();
        }
        assert_eq!(status, 429, "{code}");
        assert!(
            started.elapsed() < within,
            "still refused ({code}) after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_gives_back_its_slots_and_reservations_within_the_lease_ttl() {
    let Some(cluster) = common::Cluster::create().await else {
        return;
    };
    let opts = || {
        cluster
            .options()
            .env("TOLLGATE__LIMITS__LEASE_TTL_SECS", &TTL_SECS.to_string())
    };
    let mock = MockUpstream::start_with(MockOptions {
        gate_streams: true,
        ..Default::default()
    })
    .await;
    let mut a = Tollgate::start_with(opts()).await;
    let b = Tollgate::start_with(opts()).await;
    // $1000 per million tokens: a request asking for 1000 tokens reserves a little over $1.
    a.set_price("gpt-4o", "1000", "1000", "0", "0").await;
    let pid = a
        .create_provider("leased", "openai", &mock.base_url())
        .await;
    let kid = a.create_provider_key(pid, "sk-leases").await;
    let (slots_id, slots) = a
        .create_client_key_with(pid, &[kid], json!({"max_concurrent": 10}))
        .await;
    let (_, budget) = a
        .create_client_key_with(pid, &[kid], json!({"budget": "10.5"}))
        .await;
    // B has loaded both keys once it answers anything but 401 (non-streamed answers are not held).
    let deadline = Instant::now() + Duration::from_secs(10);
    for key in [&slots, &budget] {
        while attempt(&b, key).await.0 == 401 {
            assert!(Instant::now() < deadline, "B never saw the keys");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (_, v) = b.api("GET", "/api/client-keys", None).await;
    assert_eq!(v.as_array().unwrap().len(), 2);

    // A holds all 10 slots of one key and 10 reservations (about $10.4 of $10.5) of the other.
    let held_slots = hold(&a, &slots, 10).await;
    let held_budget = hold(&a, &budget, 10).await;
    assert_eq!(attempt(&b, &slots).await, (429, "rate_limited".into()));
    assert_eq!(
        attempt(&b, &budget).await,
        (429, "insufficient_quota".into())
    );
    let (_, v) = b
        .api("GET", &format!("/api/client-keys/{slots_id}"), None)
        .await;
    assert_eq!(v["usage"]["in_flight"], 10, "{v}");

    // kill -9: nothing is settled, nothing given back by A.
    a.signal("KILL");
    a.wait_exit(Duration::from_secs(5));
    assert!(
        a.child.as_mut().unwrap().try_wait().unwrap().is_some(),
        "A still runs"
    );
    let killed = Instant::now();
    // The leases are still valid: B goes on refusing until they lapse.
    assert_eq!(attempt(&b, &slots).await, (429, "rate_limited".into()));
    assert_eq!(
        attempt(&b, &budget).await,
        (429, "insufficient_quota".into())
    );
    let within = Duration::from_secs(3 * TTL_SECS);
    let slots_free = admitted_after(&b, &slots, within).await;
    let budget_free = admitted_after(&b, &budget, within).await;
    let total = killed.elapsed();
    eprintln!(
        "after kill -9: slots free after {slots_free:?}, reservations after {:?} (TTL {TTL_SECS} s)",
        total
    );
    let _ = budget_free;
    assert!(
        total <= Duration::from_millis(TTL_SECS * 1000 + 1500),
        "leases outlived the TTL: {total:?}"
    );
    // Not before they lapsed: the last renewal was at most TTL/3 before the kill.
    assert!(slots_free >= Duration::from_secs(1), "{slots_free:?}");
    // And only the dead instance's share came back: the limit still holds on B.
    let held_b = hold(&b, &slots, 10).await;
    assert_eq!(attempt(&b, &slots).await, (429, "rate_limited".into()));
    mock.release_streams();
    drop((held_slots, held_budget, held_b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_keeps_a_long_request_holding_its_slot() {
    let Some(url) = redis_url() else { return };
    let mock = MockUpstream::start_with(MockOptions {
        gate_streams: true,
        ..Default::default()
    })
    .await;
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__REDIS__URL", &url)
            .env(
                "TOLLGATE__REDIS__KEY_PREFIX",
                &format!("tollgate-test-{}:", common::rand_suffix()),
            )
            .env("TOLLGATE__LIMITS__LEASE_TTL_SECS", &TTL_SECS.to_string()),
    )
    .await;
    let pid = tg
        .create_provider("renewed", "openai", &mock.base_url())
        .await;
    let kid = tg.create_provider_key(pid, "sk-renewed").await;
    let (id, key) = tg
        .create_client_key_with(pid, &[kid], json!({"max_concurrent": 2}))
        .await;
    let mut held = hold(&tg, &key, 2).await;
    // Four lease lifetimes: every attempt in between is refused, the slots stay taken.
    let until = Instant::now() + Duration::from_secs(4 * TTL_SECS);
    let mut refused = 0;
    while Instant::now() < until {
        assert_eq!(attempt(&tg, &key).await, (429, "rate_limited".into()));
        refused += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(refused > 10);
    let (_, v) = tg.api("GET", &format!("/api/client-keys/{id}"), None).await;
    assert_eq!(v["usage"]["in_flight"], 2, "{v}");
    // The streams end normally and give their slots back.
    mock.release_streams();
    for stream in &mut held {
        while let Some(chunk) = stream.next().await {
            chunk.unwrap();
        }
    }
    admitted_after(&tg, &key, Duration::from_secs(5)).await;
}

/// Every command Redis runs while `during` runs, as MONITOR prints them.
async fn monitor<F: std::future::Future<Output = ()>>(url: &str, during: F) -> Vec<String> {
    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    conn.write_all(b"MONITOR\r\n").await.unwrap();
    let mut lines = tokio::io::BufReader::new(conn).lines();
    assert_eq!(lines.next_line().await.unwrap().unwrap(), "+OK");
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            tokio::select! {
                line = lines.next_line() => match line.unwrap() {
                    Some(l) => seen.push(l),
                    None => break,
                },
                _ = &mut stop_rx => break,
            }
        }
        seen
    });
    during.await;
    // Let the last commands arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_tx.send(()).unwrap();
    reader.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hot_path_is_one_script_call_per_request() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("tollgate-test-{}:", common::rand_suffix());
    let mock = MockUpstream::start().await;
    // No flush and no renewal during the measurement: only what requests themselves send.
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__REDIS__URL", &url)
            .env("TOLLGATE__REDIS__KEY_PREFIX", &prefix)
            .env("TOLLGATE__LIMITS__SETTLE_FLUSH_MS", "600000")
            .env("TOLLGATE__LIMITS__LEASE_TTL_SECS", "3600"),
    )
    .await;
    let pid = tg.create_provider("hot", "openai", &mock.base_url()).await;
    let kid = tg.create_provider_key(pid, "sk-hot").await;
    let (_, key) = tg
        .create_client_key_with(
            pid,
            &[kid],
            json!({"rpm": 1000, "max_concurrent": 5, "budget": "100"}),
        )
        .await;
    // The script is loaded on the first call.
    assert_eq!(attempt(&tg, &key).await.0, 200);
    let seen = monitor(&url, async {
        for _ in 0..20 {
            assert_eq!(attempt(&tg, &key).await.0, 200);
        }
    })
    .await;
    // Commands sent by clients, not those the script runs inside Redis (`[0 lua]`).
    let ours: Vec<&String> = seen
        .iter()
        .filter(|l| l.contains(&format!("\"{prefix}limits:")) && !l.contains(" lua] "))
        .collect();
    assert_eq!(ours.len(), 20, "{ours:#?}");
    assert!(ours.iter().all(|l| l.contains("\"EVALSHA\"")), "{ours:#?}");
    // Settlements rode along ("1" settlement, then its lease) rather than costing calls.
    assert!(ours.iter().any(|l| l.contains("\"1\" \"")), "{ours:#?}");
}

/// The log without terminal colour codes (`ESC [ ... m`).
fn without_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn stored_limits_that_cannot_be_enforced_refuse_the_key_and_are_refused_on_write() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let pid = tg
        .create_provider("strict", "openai", &mock.base_url())
        .await;
    let kid = tg.create_provider_key(pid, "sk-strict").await;
    let base = json!({"name": "v", "provider_id": pid, "provider_key_ids": [kid]});

    // On write: 422 naming the field, nothing created.
    let cases = [
        ("rpm", json!(-5)),
        ("rpm", json!(0)),
        ("max_concurrent", json!(0)),
        ("rpd", json!(-1)),
        ("tpd", json!(0)),
        ("budget", json!("-1")),
        ("cost_per_day", json!("abc")),
        ("allowed_models", json!([])),
        ("allowed_models", json!(["gpt 4o"])),
        ("allowed_models", json!(["gpt-[45]o"])),
        ("allowed_models", json!(["gpt-**"])),
        ("allowed_models", json!(["x".repeat(201)])),
        ("allowed_models", json!(vec!["m"; 101])),
    ];
    for (field, value) in &cases {
        let mut body = base.clone();
        body[*field] = value.clone();
        let (s, v) = tg.api("POST", "/api/client-keys", Some(body)).await;
        assert_eq!(s, 422, "{field} = {value}: {v}");
        assert_eq!(v["error"]["code"], "invalid_value", "{v}");
        assert_eq!(v["error"]["field"], *field, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(field));
    }
    let (_, list) = tg.api("GET", "/api/client-keys", None).await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    // PATCH too; a valid key stays as it was.
    let (id, key) = tg
        .create_client_key_with(
            pid,
            &[kid],
            json!({"rpm": 1000, "allowed_models": ["gpt-4o*"]}),
        )
        .await;
    let (s, v) = tg
        .api(
            "PATCH",
            &format!("/api/client-keys/{id}"),
            Some(json!({"rpm": -1})),
        )
        .await;
    assert_eq!((s, v["error"]["field"].clone()), (422, json!("rpm")));
    assert_eq!(attempt(&tg, &key).await.0, 200);

    // In the database behind the API's back (with `updated_at` moved on, as any writer does,
    // so the instances' configuration poll notices): refused at the proxy (fail closed),
    // logged with the key and the field.
    const TOUCH: &str = "updated_at = replace(updated_at, substr(updated_at, 1, 4), '2099')";
    let (bad_limit_id, bad_limit) = tg
        .create_client_key_with(pid, &[kid], json!({"rpm": 1000}))
        .await;
    let db =
        sea_orm::Database::connect(format!("sqlite://{}/tollgate.db", tg.dir.path().display()))
            .await
            .unwrap();
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(&format!(
        "UPDATE client_keys SET rpm = -5, {TOUCH} WHERE id = {bad_limit_id}"
    ))
    .await
    .unwrap();
    db.execute_unprepared(&format!(
        "UPDATE client_keys SET allowed_models = '[\"gpt-4o*\"', {TOUCH} WHERE id = {id}"
    ))
    .await
    .unwrap();
    // Picked up by the configuration poll (once a second).
    let deadline = Instant::now() + Duration::from_secs(10);
    for k in [&bad_limit, &key] {
        loop {
            let r = chat(&tg, k, false).await;
            if r.status() == 403 {
                let v: Value = r.json().await.unwrap();
                assert_eq!(v["error"]["code"], "forbidden", "{v}");
                assert!(
                    v["error"]["message"].as_str().unwrap().contains("invalid"),
                    "{v}"
                );
                break;
            }
            assert_eq!(r.status(), 200);
            assert!(Instant::now() < deadline, "the bad value was never noticed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Nothing goes upstream for a refused key, and the ledger says why.
    let sent = mock.request_count();
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&bad_limit)
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(mock.request_count(), sent);
    assert_eq!(
        tg.log_row(&request_id).await["error_kind"],
        "key_misconfigured"
    );
    let log = without_colours(&tg.log());
    assert!(
        log.contains(&format!("client_key={bad_limit_id}")) && log.contains("field=\"rpm\""),
        "{log}"
    );
    assert!(
        log.contains(&format!("client_key={id}")) && log.contains("field=\"allowed_models\""),
        "{log}"
    );
    // Corrected through the API: served again.
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/client-keys/{bad_limit_id}"),
            Some(json!({"rpm": 100})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(attempt(&tg, &bad_limit).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_leases_leave_exactly_the_real_usage_in_redis() {
    let Some(url) = redis_url() else { return };
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(Options::default().env("TOLLGATE__REDIS__URL", &url).env(
        "TOLLGATE__REDIS__KEY_PREFIX",
        &format!("tollgate-test-{}:", common::rand_suffix()),
    ))
    .await;
    tg.set_price("gpt-4o", "2.5", "10", "0", "1.25").await;
    let pid = tg
        .create_provider("settled", "openai", &mock.base_url())
        .await;
    let kid = tg.create_provider_key(pid, "sk-settled").await;
    let (id, key) = tg
        .create_client_key_with(
            pid,
            &[kid],
            json!({"budget": "1000", "tpd": 100000000, "max_concurrent": 50}),
        )
        .await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (http, proxy, key) = (tg.http.clone(), tg.proxy.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            http.post(format!("{proxy}/v1/chat/completions"))
                .bearer_auth(&key)
                .json(
                    &json!({"model": "gpt-4o", "max_tokens": 500, "stream": i % 2 == 0,
                              "messages": [{"role": "user", "content": "x".repeat(i * 10)}]}),
                )
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // The ledger's figures, once every row is written.
    let deadline = Instant::now() + Duration::from_secs(10);
    let rows = loop {
        let (_, v) = tg
            .api(
                "GET",
                &format!("/api/logs?client_key_id={id}&per_page=500"),
                None,
            )
            .await;
        if v["total"] == 30 {
            break v["items"].as_array().unwrap().clone();
        }
        assert!(Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let tokens: i64 = rows
        .iter()
        .map(|r| r["prompt_tokens"].as_i64().unwrap() + r["completion_tokens"].as_i64().unwrap())
        .sum();
    let cost: rust_decimal::Decimal = rows
        .iter()
        .map(|r| {
            r["cost"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert!(tokens > 0 && cost > rust_decimal::Decimal::ZERO);
    // Every lease released, every estimate replaced by the real usage (settlements reach Redis
    // within limits.settle_flush_ms).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, v) = tg.api("GET", &format!("/api/client-keys/{id}"), None).await;
        let u = &v["usage"];
        let spend: rust_decimal::Decimal = u["lifetime_spend"].as_str().unwrap().parse().unwrap();
        let day: rust_decimal::Decimal = u["day_cost"].as_str().unwrap().parse().unwrap();
        if u["in_flight"] == 0 && u["day_tokens"] == tokens && spend == cost && day == cost {
            assert_eq!(u["day_requests"], 30);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{u} vs tokens {tokens}, cost {cost}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
