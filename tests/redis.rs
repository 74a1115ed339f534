//! Redis mode against the real server (TOLLGATE_TEST_REDIS_URL; CI requires it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate, free_port, redis_url};

#[tokio::test]
async fn health_reports_the_shared_redis() {
    let Some(url) = redis_url() else { return };
    let tg = Tollgate::start_with(Options::default().env("TOLLGATE__REDIS__URL", &url)).await;
    let v: serde_json::Value = tg
        .http
        .get(format!("{}/api/health", tg.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["redis"], "ok");
    assert_eq!(v["database"], "ok");

    let plain = Tollgate::start().await;
    let v: serde_json::Value = plain
        .http
        .get(format!("{}/api/health", plain.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["redis"], "disabled");
}

#[test]
fn a_configured_but_unreachable_redis_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options::default().env(
        "TOLLGATE__REDIS__URL",
        &format!("redis://127.0.0.1:{}", free_port()),
    );
    let out = common::command(dir.path(), free_port(), free_port(), &opts)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("redis.url"), "{err}");
}
