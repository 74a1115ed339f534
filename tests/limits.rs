//! Limits, quotas and budgets: exact under concurrency, shared across instances, clear refusals,
//! and a Redis outage that does not take the proxy down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate, free_port};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tollgate_testkit::{MockOptions, MockUpstream};

async fn limited_key(tg: &Tollgate, base_url: &str, limits: Value) -> (i64, String) {
    let pid = tg
        .create_provider(&format!("p-{}", common::rand_suffix()), "openai", base_url)
        .await;
    let kid = tg.create_provider_key(pid, "sk-limits").await;
    tg.create_client_key_with(pid, &[kid], limits).await
}

fn chat_body(model: &str) -> Value {
    json!({"model": model, "max_tokens": 15, "messages": [{"role": "user", "content": "how much is this?"}]})
}

async fn chat(http: &reqwest::Client, proxy: &str, key: &str, model: &str) -> reqwest::Response {
    http.post(format!("{proxy}/v1/chat/completions"))
        .bearer_auth(key)
        .json(&chat_body(model))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_holds_under_200_concurrent_requests() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    tg.set_price("gpt-4o", "2.5", "10", "0", "1.25").await;
    // What one request really costs, measured through an unlimited key.
    let (_, probe) = limited_key(&tg, &mock.base_url(), json!({})).await;
    let r = chat(&tg.http, &tg.proxy, &probe, "gpt-4o").await;
    let one: rust_decimal::Decimal = tg
        .log_row(r.headers()["x-request-id"].to_str().unwrap())
        .await["cost"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let budget = one * rust_decimal::Decimal::from(50);
    let (id, key) = limited_key(&tg, &mock.base_url(), json!({"budget": budget.to_string()})).await;

    let before = mock.request_count();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (http, proxy, key) = (tg.http.clone(), tg.proxy.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let r = chat(&http, &proxy, &key, "gpt-4o").await;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, body)
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            200 => admitted += 1,
            429 => assert_eq!(body["error"]["code"], "insufficient_quota", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(admitted <= 50, "admitted {admitted}");
    assert!(admitted >= 1);
    assert_eq!(
        mock.request_count() - before,
        admitted,
        "refused requests were not forwarded"
    );

    // The spend recorded for the key never passes the budget by more than one request.
    let deadline = Instant::now() + Duration::from_secs(10);
    let spent = loop {
        let (_, v) = tg
            .api(
                "GET",
                &format!("/api/logs?client_key_id={id}&per_page=500"),
                None,
            )
            .await;
        if v["total"].as_u64().unwrap() >= 200 {
            break v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["cost"].as_str())
                .map(|c| c.parse::<rust_decimal::Decimal>().unwrap())
                .sum::<rust_decimal::Decimal>();
        }
        assert!(Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(spent <= budget + one, "spent {spent}, budget {budget}");
    let (_, v) = tg.api("GET", &format!("/api/client-keys/{id}"), None).await;
    let lifetime: rust_decimal::Decimal = v["usage"]["lifetime_spend"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(lifetime, spent, "{v}");
    assert_eq!(v["usage"]["in_flight"], 0);
}

#[tokio::test]
async fn refusals_name_the_limit_and_are_logged_without_forwarding() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;

    // Requests per minute.
    let (_, key) = limited_key(&tg, &mock.base_url(), json!({"rpm": 3})).await;
    for _ in 0..3 {
        assert_eq!(
            chat(&tg.http, &tg.proxy, &key, "gpt-4o").await.status(),
            200
        );
    }
    let sent = mock.request_count();
    let r = chat(&tg.http, &tg.proxy, &key, "gpt-4o").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requests per minute"),
        "{v}"
    );
    assert_eq!(mock.request_count(), sent);
    let row = tg.log_row(&id).await;
    assert_eq!(
        (row["status"].clone(), row["error_kind"].clone()),
        (json!(429), json!("limit_rpm"))
    );

    // Requests per day, in the Anthropic format.
    let pid = tg
        .create_provider("ant", "anthropic", &mock.base_url())
        .await;
    let kid = tg.create_provider_key(pid, "sk-ant").await;
    let (s, v) = tg
        .api(
            "POST",
            "/api/client-keys",
            Some(json!({"name": "a", "provider_id": pid, "provider_key_ids": [kid], "rpd": 1})),
        )
        .await;
    assert_eq!(s, 201);
    let akey = v["key"].as_str().unwrap().to_string();
    let call = || {
        tg.http
            .post(format!("{}/v1/messages", tg.proxy))
            .header("x-api-key", &akey)
            .header("anthropic-version", "2023-06-01")
            .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": []}))
            .send()
    };
    assert_eq!(call().await.unwrap().status(), 200);
    let r = call().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requests per day")
    );

    // Tokens per day: the reservation alone is over the quota.
    let (_, key) = limited_key(&tg, &mock.base_url(), json!({"tpd": 10})).await;
    let r = chat(&tg.http, &tg.proxy, &key, "gpt-4o").await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("tokens per day"));
}

#[tokio::test]
async fn concurrency_is_capped_and_released() {
    let mock = MockUpstream::start_with(MockOptions {
        gate_streams: true,
        ..Default::default()
    })
    .await;
    let tg = Tollgate::start().await;
    let (id, key) = limited_key(&tg, &mock.base_url(), json!({"max_concurrent": 1})).await;
    let first = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let mut stream = first.bytes_stream();
    stream.next().await.unwrap().unwrap();
    let (_, v) = tg.api("GET", &format!("/api/client-keys/{id}"), None).await;
    assert_eq!(v["usage"]["in_flight"], 1);
    let r = chat(&tg.http, &tg.proxy, &key, "gpt-4o").await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("max_concurrent"));
    mock.release_streams();
    while stream.next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        chat(&tg.http, &tg.proxy, &key, "gpt-4o").await.status(),
        200
    );
}

#[tokio::test]
async fn disabled_expired_and_disallowed_models_get_403_with_the_reason() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, expired) = limited_key(
        &tg,
        &mock.base_url(),
        json!({"expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await;
    let r = chat(&tg.http, &tg.proxy, &expired, "gpt-4o").await;
    assert_eq!(r.status(), 403);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(r.text().await.unwrap().contains("expired"));
    assert_eq!(tg.log_row(&id).await["error_kind"], "key_expired");

    let (kid, models) = limited_key(
        &tg,
        &mock.base_url(),
        json!({"allowed_models": ["gpt-4o-mini*", "o3"]}),
    )
    .await;
    let r = chat(&tg.http, &tg.proxy, &models, "gpt-4o").await;
    assert_eq!(r.status(), 403);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(r.text().await.unwrap().contains("gpt-4o"));
    assert_eq!(tg.log_row(&id).await["error_kind"], "model_not_allowed");
    assert_eq!(
        chat(&tg.http, &tg.proxy, &models, "gpt-4o-mini-2024-07-18")
            .await
            .status(),
        200
    );
    // Listing models names no model and stays allowed.
    let r = tg
        .http
        .get(format!("{}/v1/models", tg.proxy))
        .bearer_auth(&models)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/client-keys/{kid}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    let r = chat(&tg.http, &tg.proxy, &models, "gpt-4o-mini").await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("disabled"));

    // Clearing the model list with null allows every model again.
    tg.api(
        "PATCH",
        &format!("/api/client-keys/{kid}"),
        Some(json!({"enabled": true, "allowed_models": null})),
    )
    .await;
    assert_eq!(
        chat(&tg.http, &tg.proxy, &models, "gpt-4o").await.status(),
        200
    );
    // Three requests went upstream in all: the allowed model, the model list, the cleared key.
    assert_eq!(mock.request_count(), 3);
}

#[tokio::test]
async fn a_provider_key_at_its_cap_is_skipped_not_failed() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let pid = tg
        .create_provider("capped", "openai", &mock.base_url())
        .await;
    let (s, v) = tg
        .api(
            "POST",
            "/api/provider-keys",
            Some(json!({"provider_id": pid, "name": "small", "secret": "sk-small", "rpm": 2})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let small = v["id"].as_i64().unwrap();
    let big = tg.create_provider_key(pid, "sk-big").await;
    let (_, key) = tg.create_client_key(pid, &[small, big]).await;
    for _ in 0..10 {
        assert_eq!(
            chat(&tg.http, &tg.proxy, &key, "gpt-4o").await.status(),
            200
        );
    }
    let small_hits = mock
        .requests()
        .iter()
        .filter(|r| r.credential.as_deref() == Some("sk-small"))
        .count();
    assert_eq!(small_hits, 2);
}

#[tokio::test]
async fn two_instances_on_one_redis_admit_no_more_than_the_limit_in_total() {
    let Some(cluster) = common::Cluster::create().await else {
        return;
    };
    let opts = || cluster.options();
    let mock = MockUpstream::start().await;
    let a = Tollgate::start_with(opts()).await;
    let b = Tollgate::start_with(opts()).await;
    let (_, key) = limited_key(&a, &mock.base_url(), json!({"rpm": 25})).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    // B knows the key once it answers anything but 401 (this request counts against the limit).
    let mut used = 0;
    loop {
        let s = chat(&b.http, &b.proxy, &key, "gpt-4o").await.status();
        if s != 401 {
            assert_eq!(s, 200);
            used += 1;
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (http, proxy, key) = if i % 2 == 0 {
            (a.http.clone(), a.proxy.clone(), key.clone())
        } else {
            (b.http.clone(), b.proxy.clone(), key.clone())
        };
        tasks.push(tokio::spawn(async move {
            chat(&http, &proxy, &key, "gpt-4o").await.status().as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(
        ok + used,
        25,
        "the two instances admitted {} in total",
        ok + used
    );
}

struct RedisServer {
    child: std::process::Child,
    port: u16,
}

impl RedisServer {
    fn start(port: u16) -> RedisServer {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the Redis outage test");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { child, port }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn keys(&self, pattern: &str) -> Vec<String> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}", self.port)).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut conn)
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_under_load_causes_no_5xx_and_redis_is_used_again_after() {
    if common::redis_url().is_none() {
        return;
    }
    let port = free_port();
    let mut redis = RedisServer::start(port);
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(
        Options::default().env("TOLLGATE__REDIS__URL", &format!("redis://127.0.0.1:{port}")),
    )
    .await;
    let (_, key) = limited_key(&tg, &mock.base_url(), json!({"rpm": 100000})).await;
    assert_eq!(
        chat(&tg.http, &tg.proxy, &key, "gpt-4o").await.status(),
        200
    );
    assert!(
        !redis.keys("tollgate:limits:*").await.is_empty(),
        "limits live in Redis"
    );

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (http, proxy, key, stop) =
            (tg.http.clone(), tg.proxy.clone(), key.clone(), stop.clone());
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                statuses.push(chat(&http, &proxy, &key, "gpt-4o").await.status().as_u16());
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut redis = RedisServer::start(port);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let statuses = load.await.unwrap();
    assert!(statuses.len() > 20, "{}", statuses.len());
    assert!(
        statuses.iter().all(|s| *s == 200),
        "{:?}",
        statuses.iter().filter(|s| **s != 200).collect::<Vec<_>>()
    );
    // Back on Redis without a restart: the fresh server holds the counters again.
    assert!(
        !redis.keys("tollgate:limits:*").await.is_empty(),
        "Redis used again"
    );
    assert!(tg.log().contains("falling back to in-process limits"));
    redis.stop();

    // fail_closed refuses instead.
    let port = free_port();
    let mut redis = RedisServer::start(port);
    let closed = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__REDIS__URL", &format!("redis://127.0.0.1:{port}"))
            .env("TOLLGATE__LIMITS__ON_REDIS_FAILURE", "fail_closed"),
    )
    .await;
    let (_, key) = limited_key(&closed, &mock.base_url(), json!({})).await;
    assert_eq!(
        chat(&closed.http, &closed.proxy, &key, "gpt-4o")
            .await
            .status(),
        200
    );
    redis.stop();
    let r = chat(&closed.http, &closed.proxy, &key, "gpt-4o").await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("limits_unavailable"));
}

#[tokio::test]
async fn members_cannot_set_or_lift_limits_on_their_own_keys() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let pid = tg.create_provider("m", "openai", &mock.base_url()).await;
    let kid = tg.create_provider_key(pid, "sk-member").await;
    tg.create_user("member1", "member-password-123", "member")
        .await;
    let member = tg.session("member1", "member-password-123").await;
    let base = json!({"name": "mine", "provider_id": pid, "provider_key_ids": [kid]});
    let (s, v) = tg
        .call(
            Some(&member),
            "POST",
            "/api/client-keys",
            Some(base.clone()),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let mut with_budget = base.clone();
    with_budget["budget"] = json!("100");
    let (s, _) = tg
        .call(Some(&member), "POST", "/api/client-keys", Some(with_budget))
        .await;
    assert_eq!(s, 403);
    // The admin sets a budget; the member cannot remove it, but can rename the key.
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/client-keys/{id}"),
            Some(json!({"budget": "1"})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = tg
        .call(
            Some(&member),
            "PATCH",
            &format!("/api/client-keys/{id}"),
            Some(json!({"budget": null})),
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = tg
        .call(
            Some(&member),
            "PATCH",
            &format!("/api/client-keys/{id}"),
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["budget"], "1");
}
