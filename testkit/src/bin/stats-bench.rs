//! `stats-bench`: how fast the stats API answers over a large ledger. Writes N request-log
//! rows (default 1,000,000) into a fresh SQLite database through Tollgate's own ledger writer
//! (the same code path as the proxy: rows and rollups, batch by batch), starts the real
//! `tollgate` binary on that file, and times the stats routes. A measurement, not a test.
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use clap::Parser;
use sea_orm::{ConnectionTrait, Database, Statement};
use tollgate::config::DatabaseKind;
use tollgate::store::Store;
use tollgate::usage::{Ledger, LogRecord};
use tollgate_testkit::AdminClient;
use tollgate_testkit::bench::{ChildGuard, binary, free_port};

#[derive(Parser, Debug)]
#[command(
    name = "stats-bench",
    about = "Stats API latency over a large SQLite ledger written through Tollgate's ledger writer"
)]
struct Args {
    /// Request-log rows to write.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// The rows are spread evenly over this many days before now.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Client keys (each bound to one provider, two provider keys and three models).
    #[arg(long, default_value_t = 20)]
    client_keys: u64,
    /// Calls per measured route.
    #[arg(long, default_value_t = 20)]
    calls: usize,
    /// Keep the database here instead of a temporary directory (reused when it exists).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The tollgate binary (default: `tollgate` next to this executable).
    #[arg(long)]
    tollgate_bin: Option<PathBuf>,
}

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const MODELS: [[&str; 3]; 3] = [
    ["gpt-4o", "gpt-4o-mini", "house-model"],
    ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"],
    ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash"],
];

fn record(rng: &mut Rng, i: usize, args: &Args, start: DateTime<Utc>, span_ms: i64) -> LogRecord {
    let key = rng.below(args.client_keys);
    let provider = key % 3;
    let model = MODELS[provider as usize][rng.below(3) as usize];
    let roll = rng.below(1000);
    let status: u16 = match roll {
        0..=9 => 429,
        10..=14 => 500,
        15..=17 => 401,
        _ => 200,
    };
    let ok = status == 200;
    let prompt = if ok { 50 + rng.below(4000) } else { 0 };
    let completion = if ok { 10 + rng.below(800) } else { 0 };
    // Mostly 0.2 to 3 s, some very fast failures, a slow tail.
    let latency = match rng.below(100) {
        0..=4 => 1 + rng.below(20),
        5..=94 => 200 + rng.below(2800),
        _ => 3000 + rng.below(40_000),
    } as i64;
    let at = start + chrono::Duration::milliseconds(span_ms / args.rows as i64 * i as i64);
    LogRecord {
        request_id: format!("bench-{i:08}"),
        created_at: at,
        client_key_id: Some(key as i64 + 1),
        provider_id: Some(provider as i64 + 1),
        provider_key_id: Some((provider * 2 + rng.below(2)) as i64 + 1),
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        model: Some(model.to_string()),
        status,
        error_kind: (!ok).then(|| format!("upstream_{status}")),
        latency_ms: latency,
        ttfb_ms: Some(latency / 3),
        prompt_tokens: prompt,
        completion_tokens: completion,
        cache_write_tokens: 0,
        cache_read_tokens: if ok { rng.below(200) } else { 0 },
        cost_nanos: (ok && model != "house-model")
            .then(|| (prompt * 2_500 + completion * 10_000) as i64),
        stream: rng.below(2) == 0,
        provider_format_includes_cache: provider != 1,
        ..Default::default()
    }
}

/// Writes the rows through the ledger writer.
async fn load(args: &Args, url: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let store = Store::connect(url, DatabaseKind::Sqlite, Some(path), 4).await?;
    store.migrate().await?;
    let (ledger, writer) = Ledger::new(store.clone(), 65_536, 1000);
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(writer.run(stop_rx));
    let now = Utc::now();
    let span = chrono::Duration::days(args.days);
    let start = now - span;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let began = Instant::now();
    for i in 0..args.rows {
        let r = record(&mut rng, i, args, start, span.num_milliseconds());
        ledger
            .record_waiting(r)
            .await
            .map_err(|_| anyhow!("the ledger writer stopped"))?;
        if i > 0 && i % 100_000 == 0 {
            println!("  {i} rows queued ({:.0} s)", began.elapsed().as_secs_f64());
        }
    }
    drop(ledger);
    task.await.context("ledger writer")?;
    let secs = began.elapsed().as_secs_f64();
    println!(
        "wrote {} rows through the ledger writer in {secs:.1} s ({:.0} rows/s)",
        args.rows,
        args.rows as f64 / secs
    );
    store.close().await;
    Ok(())
}

async fn count(url: &str, sql: &str) -> anyhow::Result<i64> {
    let db = Database::connect(url).await?;
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| anyhow!("no answer to {sql}"))?;
    let n: i64 = row.try_get_by_index(0)?;
    db.close().await?;
    Ok(n)
}

/// Calls `path` `calls` times; returns (p50, max) in ms.
async fn time(admin: &AdminClient, path: &str, calls: usize) -> anyhow::Result<(f64, f64)> {
    let mut ms = Vec::with_capacity(calls);
    for _ in 0..calls.max(1) {
        let t = Instant::now();
        admin.get(path).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms[(ms.len() - 1) / 2], ms[ms.len() - 1]))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = binary(args.tollgate_bin.as_ref(), "tollgate", "--tollgate-bin")?;
    let temp = tempfile::Builder::new().prefix("stats-bench-").tempdir()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("tollgate.db");
    let url = format!("sqlite://{}", path.display());
    let fresh = !path.exists();
    if !fresh {
        println!("reusing {}", path.display());
    } else {
        println!(
            "writing {} request-log rows over {} days into {}",
            args.rows,
            args.days,
            path.display()
        );
        load(&args, &url, &path).await?;
    }
    let url_rwc = format!("{url}?mode=rwc");
    let logs = count(&url_rwc, "SELECT COUNT(*) FROM request_logs").await?;
    let rollups = count(&url_rwc, "SELECT COUNT(*) FROM usage_rollups").await?;
    if fresh && logs != args.rows as i64 {
        return Err(anyhow!("{logs} of {} rows were written", args.rows));
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "database: {logs} request_logs rows, {rollups} usage_rollups rows, {:.0} MiB",
        size as f64 / 1048576.0
    );

    let admin_port = free_port()?;
    let password = "stats-bench-password-0123456789";
    let mut command = Command::new(bin);
    command
        .current_dir(&dir)
        .env(
            "TOLLGATE__PROXY__LISTEN",
            format!("127.0.0.1:{}", free_port()?),
        )
        .env("TOLLGATE__ADMIN__LISTEN", format!("127.0.0.1:{admin_port}"))
        .env("TOLLGATE__DATABASE__URL", &url)
        .env("TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD", password)
        .env("TOLLGATE__RETENTION__REQUEST_LOG_DAYS", "0")
        .env("TOLLGATE__HEALTH__CHECK_INTERVAL_SECS", "0")
        .env("TOLLGATE__LOG__LEVEL", "warn");
    let mut child = ChildGuard::spawn("tollgate", command, &dir.join("tollgate.log"))?;
    let base = format!("http://127.0.0.1:{admin_port}");
    child
        .wait_ready(&format!("{base}/api/health"), Duration::from_secs(120))
        .await?;
    let admin = AdminClient::login(&base, password).await?;
    let all_from = (Utc::now() - chrono::Duration::days(args.days + 1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let routes = [
        "/api/stats/overview".to_string(),
        format!("/api/stats/overview?from={all_from}"),
        "/api/stats/trends?granularity=hour&days=7".to_string(),
        format!("/api/stats/trends?granularity=day&days={}", args.days + 1),
        "/api/stats/trends?days=30&client_key_id=1".to_string(),
        "/api/stats/top-models".to_string(),
        "/api/stats/top-keys".to_string(),
        format!("/api/stats/top-models?from={all_from}"),
        format!("/api/stats/top-keys?from={all_from}"),
    ];
    let overview = admin.get(&routes[1]).await?;
    println!(
        "overview over everything: {} requests, cost {}, p50 {} ms, p95 {} ms",
        overview["requests"],
        overview["cost"],
        overview["latency_p50_ms"],
        overview["latency_p95_ms"]
    );
    println!("{:<72} {:>9} {:>9}", "route", "p50 ms", "max ms");
    for route in &routes {
        let (p50, max) = time(&admin, route, args.calls).await?;
        println!("{route:<72} {p50:>9.1} {max:>9.1}");
    }
    child.check_alive()?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let result = tokio::select! {
        r = run(args) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "stats-bench: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
