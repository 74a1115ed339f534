//! Key pools: strategies, passive and active health, failover, hot changes, shared key state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tollgate_testkit::MockUpstream;

async fn pool(
    tg: &Tollgate,
    base_url: &str,
    secrets: &[&str],
    strategy: &str,
) -> (i64, Vec<i64>, i64, String) {
    let pid = tg
        .create_provider(&format!("p-{}", common::rand_suffix()), "openai", base_url)
        .await;
    let mut kids = vec![];
    for s in secrets {
        kids.push(tg.create_provider_key(pid, s).await);
    }
    let (s, v) = tg
        .api("POST", "/api/client-keys", Some(json!({"name": "pool", "provider_id": pid, "provider_key_ids": kids, "strategy": strategy, "max_retries": 2})))
        .await;
    assert_eq!(s, 201, "{v}");
    (
        pid,
        kids,
        v["id"].as_i64().unwrap(),
        v["key"].as_str().unwrap().to_string(),
    )
}

async fn chat(http: &reqwest::Client, proxy: &str, key: &str) -> reqwest::Response {
    http.post(format!("{proxy}/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
}

fn count_by_credential(mock: &MockUpstream) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in mock.requests() {
        *counts.entry(r.credential.unwrap_or_default()).or_default() += 1;
    }
    counts
}

async fn key_state(tg: &Tollgate, kid: i64) -> Value {
    let (s, v) = tg
        .api("GET", &format!("/api/provider-keys/{kid}"), None)
        .await;
    assert_eq!(s, 200);
    v["health"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_keys_never_reach_the_client() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, kids, _, key) = pool(
        &tg,
        &mock.base_url(),
        &["sk-good", "fail-401-bad", "limited-3"],
        "round_robin",
    )
    .await;

    // 1,000 sequential requests: every one succeeds.
    for i in 0..1000 {
        let r = chat(&tg.http, &tg.proxy, &key).await;
        assert_eq!(
            r.status(),
            200,
            "sequential request {i}: {}",
            r.text().await.unwrap()
        );
    }
    let counts = count_by_credential(&mock);
    assert_eq!(
        counts.get("fail-401-bad"),
        Some(&1),
        "the invalid key is dropped after its first failure"
    );
    assert_eq!(key_state(&tg, kids[1]).await["state"], "invalid");

    // Wait out the rate limit (Retry-After: 3) so the limited key is back.
    let limited_before = counts.get("limited-3").copied().unwrap_or(0);
    assert!(limited_before >= 1);
    tokio::time::sleep(Duration::from_millis(3200)).await;

    // 1,000 requests 50 at a time: every one succeeds, and the rate-limited key takes traffic again.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (http, proxy, key) = (tg.http.clone(), tg.proxy.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = vec![];
            for _ in 0..20 {
                statuses.push(chat(&http, &proxy, &key).await.status().as_u16());
            }
            statuses
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().iter().all(|s| *s == 200));
    }
    let counts = count_by_credential(&mock);
    assert_eq!(counts.get("fail-401-bad"), Some(&1));
    let limited_after = counts.get("limited-3").copied().unwrap_or(0);
    assert!(
        limited_after > limited_before + 100,
        "limited key came back: {limited_before} -> {limited_after}"
    );
    assert_eq!(key_state(&tg, kids[2]).await["state"], "healthy");

    // The failover is visible in the log detail: a first attempt on a bad key, then success.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, logs) = tg.api("GET", "/api/logs?per_page=1", None).await;
        if logs["total"].as_u64().unwrap() >= 2000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ledger behind: {}",
            logs["total"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut page = 1;
    let retried = loop {
        let (_, v) = tg
            .api("GET", &format!("/api/logs?per_page=500&page={page}"), None)
            .await;
        let items = v["items"].as_array().unwrap();
        if let Some(row) = items
            .iter()
            .find(|r| r["attempts"].as_array().unwrap().len() > 1)
        {
            break row.clone();
        }
        assert!(!items.is_empty(), "no request with a retry was logged");
        page += 1;
    };
    let attempts = retried["attempts"].as_array().unwrap();
    assert_ne!(attempts[0]["status"], 200);
    assert_eq!(attempts.last().unwrap()["status"], 200);
    assert_eq!(retried["status"], 200);
    assert_ne!(
        attempts[0]["provider_key_id"],
        attempts.last().unwrap()["provider_key_id"]
    );
}

/// The upstream got the whole request and did not answer in time: it may be working on it,
/// and would bill a resend, so the request ends with 504; with the provider's
/// `retry_after_send` it goes to the next key instead.
#[tokio::test]
async fn a_hanging_key_ends_the_request_unless_the_provider_allows_a_resend() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (pid, kids, _, key) = pool(&tg, &mock.base_url(), &["hang", "sk-ok"], "round_robin").await;
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/providers/{pid}"),
            Some(json!({"first_byte_timeout_ms": 300})),
        )
        .await;
    assert_eq!(s, 200);
    let mut timed_out = None;
    for _ in 0..4 {
        let r = chat(&tg.http, &tg.proxy, &key).await;
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let status = r.status().as_u16();
        let row = tg.log_row(&id).await;
        if row["provider_key_id"] == kids[0] {
            assert_eq!(status, 504);
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"]["code"], "upstream_timeout");
            timed_out = Some(row);
        } else {
            assert_eq!(status, 200);
        }
    }
    let row = timed_out.expect("some request went to the hanging key");
    let attempts = row["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "not sent again: {row}");
    assert_eq!(attempts[0]["error_kind"], "first_byte_timeout");
    assert!(attempts[0]["latency_ms"].as_u64().unwrap() >= 290);
    let hung = mock
        .requests()
        .iter()
        .filter(|r| r.credential.as_deref() == Some("hang"))
        .count();

    // Opted in: the next key answers.
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/providers/{pid}"),
            Some(json!({"retry_after_send": true})),
        )
        .await;
    assert_eq!(s, 200);
    let mut resent = None;
    for _ in 0..4 {
        let started = Instant::now();
        let r = chat(&tg.http, &tg.proxy, &key).await;
        assert_eq!(r.status(), 200);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let row = tg.log_row(&id).await;
        if row["attempts"].as_array().unwrap().len() == 2 {
            assert!(started.elapsed() < Duration::from_secs(3));
            resent = Some(row);
        }
    }
    let row = resent.expect("some request tried the hanging key first");
    let attempts = row["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["provider_key_id"], kids[0]);
    assert_eq!(attempts[0]["error_kind"], "first_byte_timeout");
    assert_eq!(attempts[1]["provider_key_id"], kids[1]);
    assert_eq!(attempts[1]["status"], 200);
    assert!(hung >= 1);
}

#[tokio::test]
async fn when_every_key_is_unusable_the_client_gets_503_quickly_in_its_format() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let pid = tg
        .create_provider("ant", "anthropic", &mock.base_url())
        .await;
    let a = tg.create_provider_key(pid, "fail-401-a").await;
    let b = tg.create_provider_key(pid, "fail-429-b").await;
    let (_, key) = tg.create_client_key(pid, &[a, b]).await;
    for round in 0..3 {
        let started = Instant::now();
        let r = tg
            .http
            .post(format!("{}/v1/messages", tg.proxy))
            .header("x-api-key", &key)
            .header("anthropic-version", "2023-06-01")
            .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "round {round}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "overloaded_error");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    // Each bad key was tried once; afterwards nothing more went upstream.
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn pool_changes_apply_at_once_without_restart() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (pid, kids, ckid, key) = pool(&tg, &mock.base_url(), &["sk-a", "sk-b"], "weighted").await;
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/provider-keys/{}", kids[0]),
            Some(json!({"weight": 3})),
        )
        .await;
    assert_eq!(s, 200);
    let shares = |before: HashMap<String, usize>, after: HashMap<String, usize>, k: &str| {
        after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0)
    };
    let send = |n: usize| {
        let (http, proxy, key) = (tg.http.clone(), tg.proxy.clone(), key.clone());
        async move {
            for _ in 0..n {
                assert_eq!(chat(&http, &proxy, &key).await.status(), 200);
            }
        }
    };
    let c0 = count_by_credential(&mock);
    send(40).await;
    let c1 = count_by_credential(&mock);
    assert_eq!(
        (
            shares(c0.clone(), c1.clone(), "sk-a"),
            shares(c0, c1.clone(), "sk-b")
        ),
        (30, 10),
        "weights 3:1"
    );

    // Re-weight to 1:1.
    tg.api(
        "PATCH",
        &format!("/api/provider-keys/{}", kids[0]),
        Some(json!({"weight": 1})),
    )
    .await;
    send(40).await;
    let c2 = count_by_credential(&mock);
    assert_eq!(
        (
            shares(c1.clone(), c2.clone(), "sk-a"),
            shares(c1, c2.clone(), "sk-b")
        ),
        (20, 20),
        "weights 1:1"
    );

    // Disable one key: it gets nothing.
    tg.api(
        "PATCH",
        &format!("/api/provider-keys/{}", kids[0]),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(key_state(&tg, kids[0]).await["state"], "disabled");
    send(10).await;
    let c3 = count_by_credential(&mock);
    assert_eq!(shares(c2.clone(), c3.clone(), "sk-a"), 0);

    // Add a key to the pool: it takes traffic.
    let kc = tg.create_provider_key(pid, "sk-c").await;
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/client-keys/{ckid}"),
            Some(json!({"provider_key_ids": [kids[0], kids[1], kc]})),
        )
        .await;
    assert_eq!(s, 200);
    send(10).await;
    let c4 = count_by_credential(&mock);
    assert_eq!(shares(c3, c4, "sk-c"), 5);
}

#[tokio::test]
async fn health_best_prefers_the_faster_key() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, _, _, key) = pool(
        &tg,
        &mock.base_url(),
        &["slow-header-80-a", "sk-fast"],
        "health_best",
    )
    .await;
    for _ in 0..40 {
        assert_eq!(chat(&tg.http, &tg.proxy, &key).await.status(), 200);
    }
    let counts = count_by_credential(&mock);
    let slow = counts.get("slow-header-80-a").copied().unwrap_or(0);
    let fast = counts.get("sk-fast").copied().unwrap_or(0);
    assert!(fast >= 35 && slow <= 5, "fast {fast}, slow {slow}");
}

#[tokio::test]
async fn active_checks_find_bad_keys_and_report_on_demand() {
    let mock = MockUpstream::start().await;
    let tg =
        Tollgate::start_with(Options::default().env("TOLLGATE__HEALTH__CHECK_INTERVAL_SECS", "1"))
            .await;
    let (_, kids, _, _) = pool(
        &tg,
        &mock.base_url(),
        &["sk-fine", "fail-401-x", "fail-500-y"],
        "round_robin",
    )
    .await;

    let (s, v) = tg
        .api(
            "POST",
            &format!("/api/provider-keys/{}/health-check", kids[0]),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["status"], 200);
    assert_eq!(v["health"]["state"], "healthy");
    let (_, v) = tg
        .api(
            "POST",
            &format!("/api/provider-keys/{}/health-check", kids[1]),
            None,
        )
        .await;
    assert_eq!(
        (
            v["ok"].clone(),
            v["status"].clone(),
            v["health"]["state"].clone()
        ),
        (json!(false), json!(401), json!("invalid"))
    );

    // The background prober opens the circuit of the failing key by itself.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = key_state(&tg, kids[2]).await;
        if h["state"] == "circuit_open" {
            assert!(h["next_retry_at"].is_string());
            assert_eq!(h["last_check"]["status"], 500);
            break;
        }
        assert!(Instant::now() < deadline, "{h}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The checks used the model list with the provider's credential.
    assert!(mock.requests().iter().any(|r| r.method == "GET"
        && r.path == "/v1/models"
        && r.credential.as_deref() == Some("sk-fine")));
}

#[tokio::test]
async fn instances_sharing_redis_stop_using_a_key_the_other_found_rate_limited() {
    let Some(cluster) = common::Cluster::create().await else {
        return;
    };
    let opts = || cluster.options();
    let mock = MockUpstream::start().await;
    let a = Tollgate::start_with(opts()).await;
    let b = Tollgate::start_with(opts()).await;
    let (pid, kids, _, key) = pool(
        &a,
        &mock.base_url(),
        &["limited-30", "sk-ok"],
        "round_robin",
    )
    .await;
    // A second client key that pools only the healthy key, created last: once B accepts it, B's
    // snapshot holds the first one too (and B has sent nothing to the limited key).
    let (_, probe_key) = a.create_client_key(pid, &[kids[1]]).await;

    // B learns the new keys from the shared database.
    let deadline = Instant::now() + Duration::from_secs(5);
    while chat(&b.http, &b.proxy, &probe_key).await.status() == 401 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Drive A until the limited key has been hit (and marked) there.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !count_by_credential(&mock).contains_key("limited-30") {
        assert_eq!(chat(&a.http, &a.proxy, &key).await.status(), 200);
        assert!(Instant::now() < deadline);
    }
    let hits = count_by_credential(&mock)["limited-30"];
    assert_eq!(hits, 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    assert_eq!(key_state(&b, kids[0]).await["state"], "cooling_down");
    for _ in 0..20 {
        assert_eq!(chat(&b.http, &b.proxy, &key).await.status(), 200);
    }
    assert_eq!(
        count_by_credential(&mock)["limited-30"],
        hits,
        "B sent to a key A found rate-limited"
    );
}
