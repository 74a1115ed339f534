//! Start-up, configuration errors, port conflicts and graceful shutdown of the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate, free_port};
use futures_util::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};
use tollgate_testkit::{MockOptions, MockUpstream};

fn run_to_exit(env: &[(&str, &str)]) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::default();
    for (k, v) in env {
        opts = opts.env(k, v);
    }
    let started = Instant::now();
    let out = common::command(dir.path(), free_port(), free_port(), &opts)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text, started.elapsed())
}

#[test]
fn an_invalid_setting_is_a_one_line_error_naming_the_key() {
    let (code, out, _) = run_to_exit(&[("TOLLGATE__PROXY__LISTEN", "not-an-address")]);
    assert_ne!(code, Some(0));
    assert!(out.contains("proxy.listen"), "{out}");
    assert_eq!(out.trim().lines().count(), 1, "{out}");

    let (code, out, _) = run_to_exit(&[("TOLLGATE__DATABASE__URL", "mysql://x/y")]);
    assert_ne!(code, Some(0));
    assert!(out.contains("database.url"), "{out}");
}

#[test]
fn a_busy_port_stops_start_up_quickly_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, out, took) = run_to_exit(&[("TOLLGATE__PROXY__LISTEN", &addr)]);
    assert_ne!(code, Some(0));
    assert!(out.contains(&addr), "{out}");
    assert!(took < Duration::from_secs(10), "took {took:?}");

    let (code, out, _) = run_to_exit(&[("TOLLGATE__ADMIN__LISTEN", &addr)]);
    assert_ne!(code, Some(0));
    assert!(out.contains(&addr) && out.contains("admin.listen"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_streams_finish_and_flushes_the_ledger() {
    let mock = MockUpstream::start_with(MockOptions {
        gate_streams: true,
        ..Default::default()
    })
    .await;
    let mut tg = Tollgate::start().await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-drain").await;
    let resp = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true}, "messages": []}))
        .send()
        .await
        .unwrap();
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let mut stream = resp.bytes_stream();
    stream.next().await.unwrap().unwrap();

    tg.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New connections are refused while the in-flight stream continues.
    assert!(
        tokio::net::TcpStream::connect(tg.proxy.trim_start_matches("http://"))
            .await
            .is_err()
    );
    mock.release_streams();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.unwrap());
    }
    assert!(String::from_utf8_lossy(&body).contains("[DONE]"));
    let code = tokio::task::block_in_place(|| tg.wait_exit(Duration::from_secs(10)));
    assert_eq!(code, Some(0), "{}", tg.log());

    // The row written during shutdown is in the database: start again on the same file.
    let dir = tg.dir.path().to_path_buf();
    let (proxy, admin) = (free_port(), free_port());
    let mut child = common::command(&dir, proxy, admin, &Options::default())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let token = loop {
        if let Ok(r) = http
            .post(format!("http://127.0.0.1:{admin}/api/auth/login"))
            .json(&json!({"username": "admin", "password": common::ADMIN_PASSWORD}))
            .send()
            .await
        {
            if r.status().is_success() {
                break r.json::<serde_json::Value>().await.unwrap()["access_token"]
                    .as_str()
                    .unwrap()
                    .to_string();
            }
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let logs: serde_json::Value = http
        .get(format!("http://127.0.0.1:{admin}/api/logs"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let row = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["request_id"] == request_id.as_str());
    let row = row.expect("row flushed at shutdown");
    assert_eq!(row["status"], 200);
    assert_eq!(row["partial"], false);
    assert!(row["completion_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn first_start_on_a_fresh_folder_creates_database_key_and_admin() {
    let tg = Tollgate::start().await;
    let data = tg.dir.path();
    assert!(data.join("tollgate.db").exists());
    let key = data.join("master.key");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Seeded providers with their real HTTPS base URLs.
    let (s, v) = tg.api("GET", "/api/providers", None).await;
    assert_eq!(s, 200);
    let names: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["base_url"].as_str().unwrap()))
        .collect();
    assert!(names.contains(&("openai", "https://api.openai.com")));
    assert!(names.contains(&("anthropic", "https://api.anthropic.com")));
    assert!(names.contains(&("gemini", "https://generativelanguage.googleapis.com")));
}
