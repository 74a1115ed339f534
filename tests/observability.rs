//! Metrics, logs and traces of the real binary after real proxied requests: `/metrics` is
//! scraped and parsed, the JSON log is parsed line by line, and OTLP spans are caught by a
//! collector listening in the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::exposition::{Sample, has, parse, sum};
use common::{Options, Tollgate, free_port};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tollgate_testkit::MockUpstream;

async fn scrape(tg: &Tollgate, base: &str, token: Option<&str>) -> (u16, String) {
    let mut req = tg.http.get(format!("{base}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn chat(
    tg: &Tollgate,
    key: &str,
    model: &str,
    stream: bool,
    request_id: Option<&str>,
) -> reqwest::Response {
    let mut req = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(key)
        .json(&json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}));
    if let Some(id) = request_id {
        req = req.header("x-request-id", id);
    }
    req.send().await.unwrap()
}

/// Every log row, once the ledger holds `n` of them.
async fn rows(tg: &Tollgate, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = tg.api("GET", "/api/logs?per_page=500", None).await;
        let items = v["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= n {
            assert_eq!(items.len(), n, "more rows than requests: {v}");
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} rows: {v}",
            items.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn tokens(rows: &[Value], model: &str, field: &str) -> f64 {
    rows.iter()
        .filter(|r| r["model"] == model)
        .map(|r| r[field].as_i64().unwrap() as f64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_json_logs_describe_exactly_the_requests_made() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(Options::default().env("TOLLGATE__LOG__FORMAT", "json").env(
        "TOLLGATE__LOG__LEVEL",
        "info,pingora_core=warn,pingora_proxy=debug,sqlx=warn,sea_orm=warn",
    ))
    .await;
    tg.set_price("gpt-4o-mini", "1", "2", "0", "0").await;
    let pid = tg
        .create_provider("metered", "openai", &mock.base_url())
        .await;
    let good = tg
        .create_provider_key(pid, "sk-metrics-upstream-secret")
        .await;
    let (_, v) = tg
        .api(
            "POST",
            "/api/client-keys",
            Some(json!({"name": "alpha-app", "provider_id": pid, "provider_key_ids": [good]})),
        )
        .await;
    let key = v["key"].as_str().unwrap().to_string();
    let (_, limited) = tg
        .create_client_key_with(pid, &[good], json!({"rpm": 1}))
        .await;
    // A pool whose first key fails with 503: the request moves to the good one.
    let failing = tg.create_provider_key(pid, "fail-503").await;
    let (_, failover) = tg
        .create_client_key_with(pid, &[failing, good], json!({"strategy": "weighted"}))
        .await;
    tg.api(
        "PATCH",
        &format!("/api/provider-keys/{good}"),
        Some(json!({"weight": 1})),
    )
    .await;
    tg.api(
        "PATCH",
        &format!("/api/provider-keys/{failing}"),
        Some(json!({"weight": 1000})),
    )
    .await;

    // 3 answers + 1 stream for gpt-4o-mini, one with the caller's own request id.
    let r = chat(&tg, &key, "gpt-4o-mini", false, Some("caller-req.42")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "caller-req.42");
    for _ in 0..2 {
        assert_eq!(
            chat(&tg, &key, "gpt-4o-mini", false, None).await.status(),
            200
        );
    }
    let r = chat(&tg, &key, "gpt-4o-mini", true, Some("bad id with spaces")).await;
    assert_eq!(r.status(), 200);
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(generated, "bad id with spaces");
    let mut body = r.bytes_stream();
    while body.next().await.is_some() {}
    // 2 with a wrong key, 1 admitted + 1 refused by rpm, 1 after a failover.
    for _ in 0..2 {
        assert_eq!(
            chat(&tg, "tg-wrong", "gpt-4o-mini", false, None)
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        chat(&tg, &limited, "house-model", false, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        chat(&tg, &limited, "house-model", false, None)
            .await
            .status(),
        429
    );
    assert_eq!(
        chat(&tg, &failover, "house-model", false, Some("failover-1"))
            .await
            .status(),
        200
    );
    let failed_login = tg.login("not-the-password").await;
    assert!(failed_login.is_none());

    let rows = rows(&tg, 9).await;
    let (status, text) = scrape(&tg, &tg.admin, None).await;
    assert_eq!(status, 200, "{text}");
    let m: Vec<Sample> = parse(&text);
    let p = "metered";
    let ok = [
        ("provider", p),
        ("model", "gpt-4o-mini"),
        ("status_class", "2xx"),
        ("error_kind", "none"),
    ];
    assert_eq!(sum(&m, "tollgate_requests_total", &ok), 4.0, "{text}");
    assert_eq!(
        sum(
            &m,
            "tollgate_requests_total",
            &[
                ("provider", "none"),
                ("status_class", "4xx"),
                ("error_kind", "invalid_key")
            ]
        ),
        2.0
    );
    assert_eq!(
        sum(
            &m,
            "tollgate_requests_total",
            &[
                ("provider", p),
                ("model", "house-model"),
                ("error_kind", "limit_rpm")
            ]
        ),
        1.0
    );
    assert_eq!(sum(&m, "tollgate_requests_total", &[]), 9.0);
    assert_eq!(
        sum(&m, "tollgate_limit_rejections_total", &[("limit", "rpm")]),
        1.0
    );
    assert_eq!(sum(&m, "tollgate_limit_rejections_total", &[]), 1.0);

    // Histograms: one observation per request, the upstream ones per forwarded request.
    let mini = [("provider", p), ("model", "gpt-4o-mini")];
    assert_eq!(
        sum(&m, "tollgate_request_duration_seconds_count", &mini),
        4.0
    );
    assert_eq!(sum(&m, "tollgate_request_duration_seconds_count", &[]), 9.0);
    assert_eq!(sum(&m, "tollgate_upstream_ttfb_seconds_count", &mini), 4.0);
    assert!(sum(&m, "tollgate_request_duration_seconds_sum", &mini) > 0.0);
    assert_eq!(
        sum(
            &m,
            "tollgate_request_duration_seconds_bucket",
            &[("provider", p), ("model", "gpt-4o-mini"), ("le", "+Inf")]
        ),
        4.0
    );

    // Tokens and cost, as the ledger recorded them.
    let input = tokens(&rows, "gpt-4o-mini", "prompt_tokens");
    let output = tokens(&rows, "gpt-4o-mini", "completion_tokens");
    assert!(input > 0.0 && output > 0.0);
    assert_eq!(
        sum(
            &m,
            "tollgate_tokens_total",
            &[("model", "gpt-4o-mini"), ("kind", "input")]
        ),
        input
    );
    assert_eq!(
        sum(
            &m,
            "tollgate_tokens_total",
            &[("model", "gpt-4o-mini"), ("kind", "output")]
        ),
        output
    );
    let cost: f64 = rows
        .iter()
        .filter_map(|r| r["cost"].as_str())
        .map(|c| c.parse::<f64>().unwrap())
        .sum();
    let metric_cost = sum(
        &m,
        "tollgate_cost_total",
        &[("model", "gpt-4o-mini"), ("currency", "USD")],
    );
    assert!(
        (metric_cost - cost).abs() < 1e-9 && cost > 0.0,
        "{metric_cost} vs {cost}"
    );
    // house-model has no price: its two answered requests used tokens unpriced.
    assert_eq!(
        sum(
            &m,
            "tollgate_unpriced_requests_total",
            &[("model", "house-model")]
        ),
        2.0
    );

    // Retries and failovers: exactly what the failover request's attempts say.
    let row = rows
        .iter()
        .find(|r| r["request_id"] == "failover-1")
        .unwrap();
    let tries = row["attempts"].as_array().unwrap().len();
    assert!(tries >= 2, "{row}");
    assert_eq!(
        sum(&m, "tollgate_retries_total", &[("provider", p)]),
        (tries - 1) as f64
    );
    assert_eq!(
        sum(
            &m,
            "tollgate_failovers_total",
            &[("provider", p), ("status_class", "2xx")]
        ),
        1.0
    );
    let forwarded = rows
        .iter()
        .filter(|r| !r["attempts"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(
        sum(&m, "tollgate_upstream_attempts_count", &[("provider", p)]),
        forwarded as f64
    );

    // Scrape-time figures.
    let good_id = good.to_string();
    let bad_id = failing.to_string();
    assert_eq!(
        sum(
            &m,
            "tollgate_credential_state",
            &[("credential_id", &good_id), ("state", "healthy")]
        ),
        1.0
    );
    assert_eq!(
        sum(
            &m,
            "tollgate_credential_state",
            &[("credential_id", &good_id)]
        ),
        1.0
    );
    assert!(has(
        &m,
        "tollgate_credential_health_score",
        &[("credential_id", &bad_id)]
    ));
    assert_eq!(
        sum(&m, "tollgate_provider_credentials", &[("provider", p)]),
        2.0
    );
    assert_eq!(sum(&m, "tollgate_ledger_rows_written_total", &[]), 9.0);
    assert_eq!(sum(&m, "tollgate_ledger_dropped_total", &[]), 0.0);
    assert_eq!(sum(&m, "tollgate_ledger_queue_depth", &[]), 0.0);
    assert!(sum(&m, "tollgate_ledger_batch_duration_seconds_count", &[]) >= 1.0);
    assert_eq!(
        sum(&m, "tollgate_login_failures_total", &[("reason", "failed")]),
        1.0
    );
    assert_eq!(sum(&m, "tollgate_database_errors_total", &[]), 0.0);
    assert!(has(
        &m,
        "tollgate_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))]
    ));
    assert!(has(
        &m,
        "tollgate_redis_errors_total",
        &[("source", "limits")]
    ));
    // Every metric the Grafana dashboard queries exists.
    let dashboard = include_str!("../deploy/grafana/tollgate.json");
    let mut queried = 0;
    for (i, _) in dashboard.match_indices("tollgate_") {
        let name: String = dashboard[i..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if name == "tollgate_" || name.starts_with("tollgate_overview") {
            continue;
        }
        queried += 1;
        assert!(
            m.iter().any(|s| s.name == name),
            "the dashboard queries {name}, which /metrics lacks"
        );
    }
    assert!(queried > 20);
    // No client-key label unless metrics.client_key_labels is on.
    assert!(!text.contains("client_key"), "{text}");
    assert!(!text.contains(&key));

    // The JSON log: every line parses; one line per request with the right fields.
    let log = tg.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "tollgate::request" && l["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 9, "{log}");
    let mine = requests
        .iter()
        .find(|l| l["request_id"] == "caller-req.42")
        .unwrap_or_else(|| panic!("no line for caller-req.42: {log}"));
    assert_eq!(mine["level"], "INFO");
    assert_eq!(mine["client_key"], "alpha-app");
    assert_eq!(mine["provider"], p);
    assert_eq!(mine["model"], "gpt-4o-mini");
    assert_eq!(mine["status"], 200);
    assert_eq!(mine["method"], "POST");
    assert!(mine["latency_ms"].as_i64().is_some());
    let row = rows
        .iter()
        .find(|r| r["request_id"] == "caller-req.42")
        .unwrap();
    assert_eq!(mine["prompt_tokens"], row["prompt_tokens"]);
    assert_eq!(mine["completion_tokens"], row["completion_tokens"]);
    assert!(
        requests
            .iter()
            .any(|l| l["request_id"] == generated.as_str() && l["stream"] == true)
    );
    assert!(
        requests
            .iter()
            .any(|l| l["error_kind"] == "limit_rpm" && l["status"] == 429)
    );
    for secret in [key.as_str(), limited.as_str(), "sk-metrics-upstream-secret"] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    // Pingora's own `log` records (pingora_proxy logs each request at debug) arrive through
    // the bridge, as JSON like everything else.
    assert!(
        lines.iter().any(|l| l["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("pingora"))),
        "no Pingora line: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_address_need_the_token_and_may_name_client_keys() {
    let mock = MockUpstream::start().await;
    let port = free_port();
    let token = "scrape-token-0123456789";
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__METRICS__LISTEN", &format!("127.0.0.1:{port}"))
            .env("TOLLGATE__METRICS__BEARER_TOKEN", token)
            .env("TOLLGATE__METRICS__CLIENT_KEY_LABELS", "true")
            .env("TOLLGATE__LOG__REQUEST_LEVEL", "off"),
    )
    .await;
    let pid = tg
        .create_provider("labelled", "openai", &mock.base_url())
        .await;
    let kid = tg.create_provider_key(pid, "sk-labelled").await;
    let (_, v) = tg
        .api(
            "POST",
            "/api/client-keys",
            Some(json!({"name": "billing-svc", "provider_id": pid, "provider_key_ids": [kid]})),
        )
        .await;
    let key = v["key"].as_str().unwrap().to_string();
    assert_eq!(
        chat(&tg, &key, "gpt-4o-mini", false, None).await.status(),
        200
    );

    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(scrape(&tg, &base, None).await.0, 401);
    assert_eq!(
        scrape(&tg, &base, Some("scrape-token-wrong-000000"))
            .await
            .0,
        401
    );
    // Not on the admin port when it has its own address.
    let (_, admin_text) = scrape(&tg, &tg.admin, Some(token)).await;
    assert!(!admin_text.contains("tollgate_requests_total"));

    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let (status, text) = scrape(&tg, &base, Some(token)).await;
        assert_eq!(status, 200);
        if text.contains("tollgate_requests_total{") {
            break text;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let m = parse(&text);
    assert_eq!(
        sum(
            &m,
            "tollgate_requests_total",
            &[("client_key", "billing-svc"), ("status_class", "2xx")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sum(
            &m,
            "tollgate_pool_credentials_available",
            &[("client_key", "billing-svc")]
        ),
        1.0
    );
    assert_eq!(
        sum(&m, "tollgate_pools_without_available_credential", &[]),
        0.0
    );
    // request_level = off: no per-request line.
    assert!(!tg.log().contains("tollgate::request"));
}

/// What the collector received: "path content-type" and the body, per request.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A minimal OTLP/HTTP collector: keeps every body POSTed to it.
async fn collector() -> (String, Received) {
    let bodies: Received = Arc::default();
    let kept = bodies.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let kept = kept.clone();
        async move {
            let path = req.uri().path().to_string();
            let ctype = req
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = axum::body::to_bytes(req.into_body(), 16 << 20)
                .await
                .unwrap();
            kept.lock()
                .unwrap()
                .push((format!("{path} {ctype}"), body.to_vec()));
            axum::http::StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), bodies)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_are_exported_over_otlp_only_when_configured() {
    let mock = MockUpstream::start().await;
    let (url, bodies) = collector().await;

    // Off by default: the same requests send nothing anywhere, and say so nowhere.
    let plain = Tollgate::start().await;
    let (_, _, key) = plain.setup("openai", &mock.base_url(), "sk-otel-off").await;
    assert_eq!(
        chat(&plain, &key, "gpt-4o-mini", false, Some("otel-off-1"))
            .await
            .status(),
        200
    );
    assert!(!plain.log().contains("exporting traces"));

    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__OTEL__ENDPOINT", &format!("{url}/v1/traces"))
            .env("TOLLGATE__OTEL__SERVICE_NAME", "tollgate-under-test")
            .env("OTEL_BSP_SCHEDULE_DELAY", "100"),
    )
    .await;
    assert!(tg.log().contains("exporting traces"), "{}", tg.log());
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-otel-on").await;
    assert_eq!(
        chat(&tg, &key, "gpt-4o-mini", false, Some("otel-trace-1"))
            .await
            .status(),
        200
    );

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        {
            let got = bodies.lock().unwrap();
            if let Some((what, body)) = got.iter().find(|(_, b)| contains(b, "otel-trace-1")) {
                assert!(
                    what.starts_with("/v1/traces application/x-protobuf"),
                    "{what}"
                );
                assert!(contains(body, "proxy_request"));
                assert!(contains(body, "tollgate-under-test"));
                assert!(contains(body, "/v1/chat/completions"));
                assert!(!got.iter().any(|(_, b)| contains(b, "otel-off-1")));
                assert!(!got.iter().any(|(_, b)| contains(b, &key)));
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no span reached the collector:\n{}",
            tg.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_used_twice_keeps_both_ledger_rows() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-twice").await;
    for n in 1..=2 {
        let r = chat(&tg, &key, "gpt-4o-mini", false, Some("same-id-twice")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-request-id"], "same-id-twice");
        // The first is stored before the second is sent: the conflict is with a stored row.
        if n == 1 {
            rows(&tg, 1).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = tg.api("GET", "/api/logs?per_page=500", None).await;
        let ids: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["request_id"].as_str().unwrap().to_string())
            .collect();
        if ids.len() == 2 {
            assert!(ids.contains(&"same-id-twice".to_string()), "{ids:?}");
            assert!(
                ids.iter().any(|id| id.starts_with("same-id-twice~")),
                "{ids:?}"
            );
            break;
        }
        assert!(ids.len() < 2 && Instant::now() < deadline, "{ids:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(tg.log().contains("request id already recorded"));
}
