//! The ledger never loses a served request: when the queue is full, records go to the spill
//! file and are written later; a `kill -9` with records still in the spill file loses none of
//! them (the restarted instance replays the file).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate};
use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};
use tollgate_testkit::bench::metric_sum;
use tollgate_testkit::mock::MockUpstream;

/// A queue of one record and batches of one row: the writer cannot keep up with 32
/// concurrent clients, so most records spill.
fn tiny_queue() -> Options {
    Options::default()
        .env("TOLLGATE__LEDGER__QUEUE_CAPACITY", "1")
        .env("TOLLGATE__LEDGER__BATCH_SIZE", "1")
}

/// Sends `n` chat requests, `concurrency` at a time; the request ids of the 200s.
async fn load(tg: &Tollgate, key: &str, n: usize, concurrency: usize) -> Vec<String> {
    let url = format!("{}/v1/chat/completions", tg.proxy);
    futures_util::stream::iter(0..n)
        .map(|i| {
            let req = tg.http.post(&url).bearer_auth(key).json(&json!({
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": format!("hello {i}")}]
            }));
            async move {
                let r = req.send().await.unwrap();
                assert_eq!(r.status(), 200);
                let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
                r.bytes().await.unwrap();
                id
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

async fn stored_ids(dir: &Path) -> Vec<String> {
    let db = Database::connect(format!("sqlite://{}/tollgate.db?mode=ro", dir.display()))
        .await
        .unwrap();
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT request_id FROM request_logs",
        ))
        .await
        .unwrap();
    let ids = rows
        .iter()
        .map(|r| r.try_get::<String>("", "request_id").unwrap())
        .collect();
    db.close().await.unwrap();
    ids
}

async fn metrics(tg: &Tollgate) -> String {
    tg.http
        .get(format!("{}/metrics", tg.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Request ids still waiting in the spill files of `dir` (the replay file from its offset).
fn spilled_ids(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    let offset: usize = std::fs::read_to_string(dir.join("ledger.spill.replaying.offset"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    for (name, from) in [("ledger.spill.replaying", offset), ("ledger.spill", 0)] {
        let Ok(text) = std::fs::read(dir.join(name)) else {
            continue;
        };
        for line in text[from.min(text.len())..].split(|b| *b == b'\n') {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
                ids.push(v["request_id"].as_str().unwrap().to_string());
            }
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_spills_and_every_served_request_gets_its_row() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start_with(tiny_queue()).await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-spill").await;

    let served = load(&tg, &key, 1500, 32).await;
    assert_eq!(served.len(), 1500);

    // Every row arrives, some of them through the spill file.
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        let text = metrics(&tg).await;
        if metric_sum(&text, "tollgate_ledger_rows_written_total") >= 1500 {
            break text;
        }
        assert!(Instant::now() < deadline, "ledger behind:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let spilled = metric_sum(&text, "tollgate_ledger_spilled_total");
    assert!(spilled > 0, "nothing spilled with a queue of one:\n{text}");
    assert_eq!(
        metric_sum(&text, "tollgate_ledger_dropped_total"),
        0,
        "{text}"
    );

    let stored = stored_ids(tg.dir.path()).await;
    let unique: HashSet<_> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "a row written twice");
    let served: HashSet<_> = served.iter().collect();
    assert_eq!(unique, served, "rows differ from the requests served");

    // The stats read the rollups written with those rows: the spilled ones are counted too.
    let (status, stats) = tg.api("GET", "/api/stats/overview", None).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        stats["requests"], 1500,
        "rollups miss spilled rows: {stats}"
    );
    assert!(!tg.dir.path().join("ledger.spill.replaying").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spilled_records_survive_kill_9() {
    let mock = MockUpstream::start().await;
    let mut tg = Tollgate::start_with(tiny_queue()).await;
    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-spill").await;

    let served = load(&tg, &key, 800, 32).await;
    // The worst moment: rows still queued in the spill file.
    let mut child = tg.child.take().unwrap();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let waiting = spilled_ids(tg.dir.path());
    assert!(
        !waiting.is_empty(),
        "the spill file was empty at the kill; the test proves nothing"
    );
    let served: HashSet<_> = served.into_iter().collect();
    assert!(waiting.iter().all(|id| served.contains(id)));

    // The restarted instance replays what was left.
    let dir = std::mem::replace(&mut tg.dir, tempfile::tempdir().unwrap());
    let again = Tollgate::start_in(dir, tiny_queue()).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while again.dir.path().join("ledger.spill").exists()
        || again.dir.path().join("ledger.spill.replaying").exists()
    {
        assert!(Instant::now() < deadline, "spill never replayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored = stored_ids(again.dir.path()).await;
    let unique: HashSet<_> = stored.iter().cloned().collect();
    assert_eq!(unique.len(), stored.len(), "a row written twice");
    for id in &waiting {
        assert!(unique.contains(id), "spilled {id} lost across kill -9");
    }
    // Everything written belongs to a served request.
    assert!(unique.iter().all(|id| served.contains(id)));
}
