//! The same proxied requests and migrations on the real Postgres (TOLLGATE_TEST_POSTGRES_URL).
//! Outside CI the test is skipped when the variable is unset; CI sets it and requires the server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, PgDatabase, Tollgate};
use serde_json::json;
use tollgate_testkit::MockUpstream;

#[tokio::test]
async fn proxy_and_ledger_work_on_postgres() {
    let Some(admin_url) = common::postgres_url() else {
        return;
    };
    let db = PgDatabase::create(&admin_url).await;
    let master = common::TEST_MASTER_KEY;

    // Without a master key Postgres refuses to start.
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        database_url: Some(db.url.clone()),
        ..Default::default()
    };
    let out = common::command(dir.path(), common::free_port(), common::free_port(), &opts)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("security.master_key"));

    // `tollgate migrate` applies the schema.
    let opts = Options {
        database_url: Some(db.url.clone()),
        ..Default::default()
    }
    .env("TOLLGATE__SECURITY__MASTER_KEY", master);
    let out = common::command(dir.path(), 1, 2, &opts)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(opts).await;
    tg.set_price("gpt-4o", "2.5", "10", "0", "1.25").await;
    let (_, kid, key) = tg.setup("openai", &mock.base_url(), "sk-pg").await;
    let r = tg.http.post(format!("{}/v1/chat/completions", tg.proxy)).bearer_auth(&key)
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello postgres"}]}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.credential.as_deref(), Some("sk-pg"));
    let usage = sent.usage_sent.unwrap();
    let row = tg.log_row(&request_id).await;
    assert_eq!(row["provider_key_id"], kid);
    assert_eq!(row["prompt_tokens"].as_u64().unwrap(), usage.prompt_tokens);
    assert_eq!(
        row["completion_tokens"].as_u64().unwrap(),
        usage.completion_tokens
    );
    assert_eq!(row["priced"], true);
    let (_, v) = tg.api("GET", "/api/logs?model=gpt-4o", None).await;
    assert_eq!(v["total"], 1);
}
