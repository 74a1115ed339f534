//! The unauthenticated surface of the management port against the real binary: a flood of wrong
//! passwords keeps memory flat and the proxy answering, attempts are limited per address and
//! per username (429 + Retry-After), challenges are bounded, and failed logins are counted
//! rather than written to the audit trail one by one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use common::{ADMIN_PASSWORD, Options, Tollgate};
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// VmRSS and VmHWM of a process, in MiB.
fn memory_mib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap()
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn login(
    http: &reqwest::Client,
    admin: &str,
    user: &str,
    password: &str,
) -> (u16, Option<u64>, Value) {
    let r = http
        .post(format!("{admin}/api/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

async fn challenge(http: &reqwest::Client, admin: &str, user: &str) -> (u16, Option<u64>) {
    let r = http
        .get(format!("{admin}/api/auth/challenge?username={user}"))
        .send()
        .await
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (r.status().as_u16(), retry)
}

async fn sqlite(tg: &Tollgate) -> sea_orm::DatabaseConnection {
    Database::connect(format!(
        "sqlite://{}/tollgate.db?mode=ro",
        tg.dir.path().display()
    ))
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_password_flood_keeps_memory_flat_and_the_proxy_answering() {
    // Every attempt reaches a password check: no rate limit, no lockout, a long wait for a slot.
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__ADMIN__LOGIN_PER_ADDRESS_PER_MINUTE", "100000")
            .env("TOLLGATE__ADMIN__LOGIN_PER_USERNAME_PER_MINUTE", "100000")
            .env("TOLLGATE__ADMIN__LOCKOUT_ATTEMPTS", "1000")
            .env("TOLLGATE__ADMIN__PASSWORD_CHECK_WAIT_MS", "60000"),
    )
    .await;
    let pid = tg.pid();
    let (rss_before, _) = memory_mib(pid);

    // The proxy is asked all along with a bad client key: it must keep answering 401.
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let (proxy, stop) = (tg.proxy.clone(), stop.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut answers = Vec::new();
            let mut slowest = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let r = http
                    .post(format!("{proxy}/v1/chat/completions"))
                    .bearer_auth("tg-not-a-real-key")
                    .json(&json!({"model": "gpt-4o", "messages": []}))
                    .send()
                    .await;
                slowest = slowest.max(started.elapsed());
                answers.push(r.map(|r| r.status().as_u16()).map_err(|e| e.to_string()));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (answers, slowest)
        })
    };

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(200)
        .build()
        .unwrap();
    let sem = Arc::new(tokio::sync::Semaphore::new(200));
    let mut tasks = Vec::new();
    let mut peak_rss = 0;
    let started = Instant::now();
    for i in 0..1000 {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (http, admin) = (http.clone(), tg.admin.clone());
        tasks.push(tokio::spawn(async move {
            // A real user and an unknown one (which costs the same check), 500 each: under
            // the lockout threshold, so the right password still works afterwards.
            let user = if i % 2 == 0 { "admin" } else { "ghost" };
            let answer = login(&http, &admin, user, &format!("wrong-password-{i}")).await;
            drop(permit);
            answer.0
        }));
        if i % 50 == 0 {
            peak_rss = peak_rss.max(memory_mib(pid).0);
        }
    }
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        *statuses.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    let flood = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (answers, slowest) = prober.await.unwrap();
    let (rss_after, hwm) = memory_mib(pid);
    eprintln!(
        "1000 wrong-password logins at concurrency 200 in {flood:?}: {statuses:?}; RSS {rss_before} MiB \
         before, {rss_after} MiB after, peak {hwm} MiB (sampled {peak_rss}); proxy probes: {} \
         (slowest {slowest:?})",
        answers.len()
    );
    // Every attempt was checked (and failed), none refused for lack of a slot.
    assert_eq!(statuses.get(&401), Some(&1000), "{statuses:?}");
    assert!(hwm < 200, "peak RSS {hwm} MiB");
    assert!(!answers.is_empty());
    assert!(
        answers.iter().all(|a| *a == Ok(401)),
        "the proxy did not keep answering: {answers:?}"
    );
    // Failed logins are counted, not audited one by one; the right password still works.
    let (_, audit) = tg.api("GET", "/api/audit?action=login_failed", None).await;
    assert_eq!(audit["total"], 0, "{audit}");
    assert_eq!(
        login(&http, &tg.admin, "admin", ADMIN_PASSWORD).await.0,
        200
    );
}

#[tokio::test]
async fn attempts_are_limited_per_address_and_per_username() {
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__ADMIN__LOGIN_PER_ADDRESS_PER_MINUTE", "5")
            .env("TOLLGATE__ADMIN__LOGIN_PER_USERNAME_PER_MINUTE", "3"),
    )
    .await;
    let http = &tg.http;
    // The harness logged in once as admin: two more attempts for admin, then 429.
    for _ in 0..2 {
        assert_eq!(
            login(http, &tg.admin, "admin", "wrong-password").await.0,
            401
        );
    }
    let (status, retry, body) = login(http, &tg.admin, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    let retry = retry.expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(body["error"]["message"].is_string());
    // Another username from the same address: one attempt left for the address (5 in all),
    // then the address is refused whatever the username, challenges included.
    assert_eq!(login(http, &tg.admin, "bob", "wrong-password").await.0, 401);
    let (status, retry, _) = login(http, &tg.admin, "carol", "wrong-password").await;
    assert_eq!(status, 429);
    assert!(retry.is_some_and(|r| r >= 1));
    let (status, retry) = challenge(http, &tg.admin, "erin").await;
    assert_eq!((status, retry.is_some()), (429, true));
    // Refused and failed attempts leave no audit rows; the API's other routes are unaffected.
    let (s, audit) = tg.api("GET", "/api/audit?resource=sessions", None).await;
    assert_eq!(s, 200);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["login"], "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_are_bounded_per_username_in_total_and_per_address() {
    // The default allowance: 10,000 challenge requests from one address become at most a burst
    // of rows.
    let tg = Tollgate::start_with(
        Options::default().env("TOLLGATE__ADMIN__LOGIN_PER_ADDRESS_PER_MINUTE", "30"),
    )
    .await;
    let http = reqwest::Client::new();
    let sem = Arc::new(tokio::sync::Semaphore::new(100));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for i in 0..10_000 {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (http, admin) = (http.clone(), tg.admin.clone());
        tasks.push(tokio::spawn(async move {
            let r = challenge(&http, &admin, &format!("user{i}")).await;
            drop(permit);
            r
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (200, _) => ok += 1,
            (429, Some(r)) if r >= 1 => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    let db = sqlite(&tg).await;
    let rows = entity::auth_challenge::Entity::find()
        .count(&db)
        .await
        .unwrap();
    eprintln!("10,000 challenge requests: {ok} issued, {refused} refused, {rows} rows");
    assert_eq!(ok + refused, 10_000);
    // A burst of 30 per address, then one every 2 s.
    let allowed = 30 + started.elapsed().as_secs() / 2 + 1;
    assert!(ok <= allowed, "{ok} issued, at most {allowed} allowed");
    assert_eq!(rows, ok);

    // Without the address limit: a username keeps its newest few, and the total is capped.
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__ADMIN__LOGIN_PER_ADDRESS_PER_MINUTE", "100000")
            .env("TOLLGATE__ADMIN__LOGIN_PER_USERNAME_PER_MINUTE", "100000")
            .env("TOLLGATE__ADMIN__CHALLENGES_PER_USERNAME", "3")
            .env("TOLLGATE__ADMIN__CHALLENGES_MAX", "40"),
    )
    .await;
    for _ in 0..20 {
        assert_eq!(challenge(&http, &tg.admin, "erin").await.0, 200);
    }
    let db = sqlite(&tg).await;
    let erin = || {
        entity::auth_challenge::Entity::find()
            .filter(entity::auth_challenge::Column::Username.eq("erin"))
            .count(&db)
    };
    assert_eq!(erin().await.unwrap(), 3);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..100 {
        let (s, retry) = challenge(&http, &tg.admin, &format!("u{i}")).await;
        if s == 429 {
            assert!(retry.is_some_and(|r| r >= 1));
        }
        *statuses.entry(s).or_insert(0) += 1;
    }
    assert_eq!(statuses, [(200, 37), (429, 63)].into_iter().collect());
    let rows = entity::auth_challenge::Entity::find()
        .count(&db)
        .await
        .unwrap();
    assert_eq!(rows, 40);
    assert_eq!(erin().await.unwrap(), 3);
}
