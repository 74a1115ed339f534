//! Several instances as deployed: two real `tollgate` processes on one Postgres and one Redis,
//! in front of the mock upstream. What one instance learns or is told, the other acts on;
//! limits and budgets hold across both; an instance stopped under load drains and loses no
//! ledger row.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use common::{Cluster, Tollgate};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tollgate_testkit::{MockOptions, MockUpstream};

/// The configuration poll, fast enough that a change reaches the other instance well within
/// a second (the default is 1000 ms).
const POLL_MS: &str = "250";

async fn two(cluster: &Cluster) -> (Tollgate, Tollgate) {
    let opts = || {
        cluster
            .options()
            .env("TOLLGATE__SERVER__CONFIG_POLL_MS", POLL_MS)
            .env("TOLLGATE__HEALTH__SYNC_INTERVAL_MS", "100")
            .env("TOLLGATE__LOG__REQUEST_LEVEL", "off")
    };
    let a = Tollgate::start_with(opts()).await;
    let b = Tollgate::start_with(opts()).await;
    (a, b)
}

async fn chat(tg: &Tollgate, key: &str, body: Value) -> (u16, Value) {
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn hello(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

/// Waits until `tg` knows `key`: a request for a model the key may not use is refused with
/// 403 (not 401) and counts against nothing.
async fn known_on(tg: &Tollgate, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, v) = chat(tg, key, hello("not-allowed-model")).await;
        if status == 403 {
            return;
        }
        assert_eq!(status, 401, "{v}");
        assert!(
            Instant::now() < deadline,
            "{} never loaded the key",
            tg.admin
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long until `tg` answers `key` with `want` (polling every 10 ms), failing after 5 s.
async fn refused_after(tg: &Tollgate, key: &str, want: u16) -> Duration {
    let started = Instant::now();
    loop {
        let (status, _) = chat(tg, key, hello("gpt-4o-mini")).await;
        if status == want {
            return started.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still admitted after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_started_together_on_an_empty_database_both_come_up() {
    let Some(cluster) = Cluster::create().await else {
        return;
    };
    // Both migrate and create the first admin at the same time; neither may give up.
    let (a, b) = tokio::join!(
        Tollgate::start_with(cluster.options()),
        Tollgate::start_with(cluster.options())
    );
    for tg in [&a, &b] {
        let (status, v) = tg.api("GET", "/api/users", None).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_disabled_or_rotated_on_one_instance_is_refused_on_the_other_within_a_second() {
    let Some(cluster) = Cluster::create().await else {
        return;
    };
    let mock = MockUpstream::start().await;
    let (a, b) = two(&cluster).await;
    let pid = a
        .create_provider("shared", "openai", &mock.base_url())
        .await;
    let kid = a.create_provider_key(pid, "sk-shared").await;
    let only = json!({"allowed_models": ["gpt-*"]});
    let (disabled_id, disabled) = a.create_client_key_with(pid, &[kid], only.clone()).await;
    let (rotated_id, rotated) = a.create_client_key_with(pid, &[kid], only).await;
    known_on(&b, &disabled).await;
    known_on(&b, &rotated).await;
    assert_eq!(chat(&b, &disabled, hello("gpt-4o-mini")).await.0, 200);

    let (s, _) = a
        .api(
            "PATCH",
            &format!("/api/client-keys/{disabled_id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    // A applies its own change at once; B with its next poll.
    assert_eq!(chat(&a, &disabled, hello("gpt-4o-mini")).await.0, 403);
    let took = refused_after(&b, &disabled, 403).await;
    assert!(
        took < Duration::from_secs(1),
        "disabled key still served by B after {took:?}"
    );
    eprintln!("disable reached the other instance after {took:?}");

    let (s, v) = a
        .api(
            "POST",
            &format!("/api/client-keys/{rotated_id}/rotate"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let new_key = v["key"].as_str().unwrap().to_string();
    assert_eq!(chat(&a, &rotated, hello("gpt-4o-mini")).await.0, 401);
    let took = refused_after(&b, &rotated, 401).await;
    assert!(
        took < Duration::from_secs(1),
        "old key still served by B after {took:?}"
    );
    eprintln!("rotation reached the other instance after {took:?}");
    assert_eq!(chat(&b, &new_key, hello("gpt-4o-mini")).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_found_invalid_by_one_instance_is_skipped_by_the_other() {
    let Some(cluster) = Cluster::create().await else {
        return;
    };
    let mock = MockUpstream::start().await;
    let (a, b) = two(&cluster).await;
    let pid = a
        .create_provider("pooled", "openai", &mock.base_url())
        .await;
    let bad = a.create_provider_key(pid, "fail-401").await;
    let good = a.create_provider_key(pid, "sk-good").await;
    let (_, key) = a
        .create_client_key_with(pid, &[bad, good], json!({"allowed_models": ["gpt-*"]}))
        .await;
    known_on(&b, &key).await;

    // A meets the 401 (`invalid_api_key`), marks the key invalid and fails over.
    let deadline = Instant::now() + Duration::from_secs(10);
    while mock
        .requests()
        .iter()
        .all(|r| r.credential.as_deref() != Some("fail-401"))
    {
        assert_eq!(chat(&a, &key, hello("gpt-4o-mini")).await.0, 200);
        assert!(Instant::now() < deadline);
    }
    let (_, v) = a
        .api("GET", &format!("/api/provider-keys/{bad}"), None)
        .await;
    assert_eq!(v["health"]["state"], "invalid", "{v}");
    // B learns it through Redis and reports it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = b
            .api("GET", &format!("/api/provider-keys/{bad}"), None)
            .await;
        if v["health"]["state"] == "invalid" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B never learnt the key is invalid: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mock.clear_requests();
    for _ in 0..20 {
        let (status, v) = chat(&b, &key, hello("gpt-4o-mini")).await;
        assert_eq!(status, 200, "{v}");
    }
    let creds: Vec<Option<String>> = mock.requests().into_iter().map(|r| r.credential).collect();
    assert_eq!(creds.len(), 20, "B retried somewhere: {creds:?}");
    assert!(
        creds.iter().all(|c| c.as_deref() == Some("sk-good")),
        "{creds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_budgets_hold_exactly_across_both_instances() {
    let Some(cluster) = Cluster::create().await else {
        return;
    };
    let mock = MockUpstream::start().await;
    let (a, b) = two(&cluster).await;
    // Output tokens at $1000 per million, input free: a request that asks for at most 15
    // tokens (what the mock answers) reserves exactly what it then costs, $0.015.
    a.set_price("gpt-4o-mini", "0", "1000", "0", "0").await;
    let pid = a
        .create_provider("limited", "openai", &mock.base_url())
        .await;
    let kid = a.create_provider_key(pid, "sk-limited").await;
    let (_, per_day) = a
        .create_client_key_with(pid, &[kid], json!({"rpd": 12, "allowed_models": ["gpt-*"]}))
        .await;
    // Room for 7 requests and half of an 8th.
    let (budget_id, budget) = a
        .create_client_key_with(
            pid,
            &[kid],
            json!({"budget": "0.1125", "allowed_models": ["gpt-*"]}),
        )
        .await;
    known_on(&b, &per_day).await;
    known_on(&b, &budget).await;
    let body = json!({"model": "gpt-4o-mini", "max_tokens": 15, "messages": [{"role": "user", "content": "hi"}]});

    for (key, admitted, refusal) in [(&per_day, 12, "limit_rpd"), (&budget, 7, "limit_budget")] {
        let mut tasks = Vec::new();
        for i in 0..30 {
            let (http, proxy) = if i % 2 == 0 {
                (a.http.clone(), a.proxy.clone())
            } else {
                (b.http.clone(), b.proxy.clone())
            };
            let (key, body) = (key.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let r = http
                    .post(format!("{proxy}/v1/chat/completions"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        let ok = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(ok, admitted, "{refusal}: {statuses:?}");
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 429),
            "{statuses:?}"
        );
        // Both instances go on refusing.
        for tg in [&a, &b] {
            assert_eq!(chat(tg, key, body.clone()).await.0, 429);
        }
        // Every refusal is in the shared ledger once both writers have caught up.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, logs) = b
                .api(
                    "GET",
                    &format!("/api/logs?per_page=500&error_kind={refusal}"),
                    None,
                )
                .await;
            let n = logs["items"].as_array().unwrap().len();
            if n == 30 - admitted + 2 {
                break;
            }
            assert!(
                n < 30 - admitted + 2 && Instant::now() < deadline,
                "{n} rows: {logs}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // The budget was spent to the nano, never past it.
    let (_, v) = b
        .api("GET", &format!("/api/client-keys/{budget_id}"), None)
        .await;
    assert_eq!(v["usage"]["lifetime_spend"], "0.105", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_stopped_under_load_drains_and_loses_no_ledger_row() {
    let Some(cluster) = Cluster::create().await else {
        return;
    };
    // Streams of about one second, so some are surely running when the signal comes.
    let mock = MockUpstream::start_with(MockOptions {
        event_delay: Duration::from_millis(100),
        completion_chunks: 10,
        ..Default::default()
    })
    .await;
    let (mut a, b) = two(&cluster).await;
    let pid = a
        .create_provider("drained", "openai", &mock.base_url())
        .await;
    let kid = a.create_provider_key(pid, "sk-drain").await;
    let (_, key) = a
        .create_client_key_with(pid, &[kid], json!({"allowed_models": ["gpt-*"]}))
        .await;
    known_on(&b, &key).await;

    // Steady load on both instances: each request carries its own id.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (http, proxies, key, stop) = (
            b.http.clone(),
            [a.proxy.clone(), b.proxy.clone()],
            key.clone(),
            stop.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let id = format!("load-{worker}-{n}");
                let proxy = &proxies[n % 2];
                let sent = http
                    .post(format!("{proxy}/v1/chat/completions"))
                    .bearer_auth(&key)
                    .header("x-request-id", &id)
                    .json(&hello("gpt-4o-mini"))
                    .send()
                    .await;
                if let Ok(r) = sent {
                    let status = r.status().as_u16();
                    if r.bytes().await.is_ok() {
                        ok.push((id, status));
                    }
                } else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            ok
        }));
    }
    // Streams on A, each under way (first event read) when A gets SIGTERM.
    let mut streams = Vec::new();
    for i in 0..8 {
        let id = format!("stream-{i}");
        let r = a
            .http
            .post(format!("{}/v1/chat/completions", a.proxy))
            .bearer_auth(&key)
            .header("x-request-id", &id)
            .json(&json!({"model": "gpt-4o-mini", "stream": true, "messages": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let mut body = r.bytes_stream();
        let first = body.next().await.unwrap().unwrap();
        streams.push((id, first, body));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.signal("TERM");
    let mut finished = Vec::new();
    for (id, first, mut body) in streams {
        let mut text = String::from_utf8_lossy(&first).into_owned();
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(
                &chunk.expect("a stream was cut at shutdown"),
            ));
        }
        assert!(
            text.contains("data: [DONE]"),
            "stream {id} ended early: {text}"
        );
        finished.push((id, 200u16));
    }
    assert_eq!(a.wait_exit(Duration::from_secs(30)), Some(0), "{}", a.log());
    assert!(a.log().contains("shutdown complete"));
    // Load goes on against B alone for a moment, then stops.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answered = finished;
    for t in load {
        answered.extend(t.await.unwrap());
    }
    assert!(answered.iter().all(|(_, s)| *s == 200), "{answered:?}");
    assert!(answered.len() > 20, "too little load: {}", answered.len());

    // Every answered request has its row, and there is no other row.
    let want: HashSet<String> = answered.iter().map(|(id, _)| id.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let got: HashSet<String> = loop {
        let mut rows = Vec::new();
        for page in 1.. {
            let (_, v) = b
                .api("GET", &format!("/api/logs?per_page=500&page={page}"), None)
                .await;
            let items = v["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{v}"))
                .clone();
            if items.is_empty() {
                break;
            }
            rows.extend(items);
        }
        let ids: HashSet<String> = rows
            .iter()
            .map(|r| r["request_id"].as_str().unwrap().to_string())
            // Leaves out the probes of `known_on`, which carry generated ids.
            .filter(|id| id.starts_with("load-") || id.starts_with("stream-"))
            .collect();
        if ids.len() >= want.len() || Instant::now() > deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty(),
        "answered without a ledger row: {missing:?}"
    );
    assert!(extra.is_empty(), "rows without an answer: {extra:?}");
    eprintln!("{} answered requests, {} rows", want.len(), got.len());
}
