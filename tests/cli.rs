//! The command line of the real binary: `config check`, `migrate up|status`, `admin
//! reset-password`, `keys create`, `version`, and `--help` against docs/configuration.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `tollgate ARGS` in `dir` with only these variables.
fn run(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TOLLGATE__LOG__LEVEL", "warn")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn config_check_prints_the_effective_configuration_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("TOLLGATE__PROXY__LISTEN", "127.0.0.1:18080"),
        (
            "TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD",
            "bootstrap-secret-value",
        ),
        ("TOLLGATE__DATABASE__URL", "postgres://u:db-secret-pw@h/db"),
        ("TOLLGATE__SECURITY__MASTER_KEY", common::TEST_MASTER_KEY),
        ("TOLLGATE__METRICS__BEARER_TOKEN", "metrics-secret-token"),
        ("TOLLGATE__LOG__FORMAT", "text"),
    ];
    for args in [&["config", "check"][..], &["check-config"][..]] {
        let o = run(dir.path(), &env, args, None);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["proxy"]["listen"].as_str(), Some("127.0.0.1:18080"));
        assert_eq!(parsed["database"]["url"].as_str(), Some("[redacted]"));
        assert_eq!(
            parsed["admin"]["bootstrap_password"].as_str(),
            Some("[redacted]")
        );
        assert_eq!(
            parsed["security"]["master_key"].as_str(),
            Some("[redacted]")
        );
        assert_eq!(
            parsed["metrics"]["bearer_token"].as_str(),
            Some("[redacted]")
        );
        // `text` is read as an alias of `pretty`.
        assert_eq!(parsed["log"]["format"].as_str(), Some("pretty"));
        assert_eq!(
            parsed["limits"]["on_redis_failure"].as_str(),
            Some("fail_open")
        );
        assert!(
            parsed["otel"].get("endpoint").is_none(),
            "OTLP export is off by default"
        );
        for secret in [
            "bootstrap-secret-value",
            "db-secret-pw",
            common::TEST_MASTER_KEY,
            "metrics-secret-token",
        ] {
            assert!(!text.contains(secret), "{secret} printed");
        }
    }
    let bad = run(
        dir.path(),
        &[("TOLLGATE__METRICS__MAX_MODELS", "0")],
        &["config", "check"],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("metrics.max_models"),
        "{}",
        stderr(&bad)
    );
    assert!(stdout(&bad).is_empty());
}

#[test]
fn migrate_status_lists_pending_then_applied_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/t.db", dir.path().display());
    let env = [("TOLLGATE__DATABASE__URL", db.as_str())];
    let before = run(dir.path(), &env, &["migrate", "status"], None);
    assert!(before.status.success(), "{}", stderr(&before));
    let lines: Vec<String> = stdout(&before).lines().map(str::to_string).collect();
    assert!(lines.len() >= 10, "{lines:?}");
    assert!(
        lines.iter().all(|l| l.starts_with("pending m20")),
        "{lines:?}"
    );
    let up = run(dir.path(), &env, &["migrate", "up"], None);
    assert!(up.status.success(), "{}", stderr(&up));
    let after = run(dir.path(), &env, &["migrate"], None);
    assert!(after.status.success());
    let after = run(dir.path(), &env, &["migrate", "status"], None);
    let applied: Vec<String> = stdout(&after).lines().map(str::to_string).collect();
    assert_eq!(applied.len(), lines.len());
    assert!(
        applied.iter().all(|l| l.starts_with("applied m20")),
        "{applied:?}"
    );
}

#[test]
fn version_and_help_match_the_documentation() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &[], &["version"], None);
    assert_eq!(
        stdout(&o).trim(),
        format!("tollgate {}", env!("CARGO_PKG_VERSION"))
    );
    let docs = include_str!("../docs/configuration.md");
    let help = stdout(&run(dir.path(), &[], &["--help"], None));
    for word in [
        "serve",
        "migrate",
        "config",
        "admin",
        "keys",
        "version",
        "--config",
        "--proxy-listen",
        "--admin-listen",
        "--database-url",
        "--redis-url",
    ] {
        assert!(help.contains(word), "--help lacks {word}: {help}");
        assert!(
            docs.contains(&format!("`{word}")),
            "docs/configuration.md lacks `{word}`"
        );
    }
    for (args, words) in [
        (&["migrate", "--help"][..], &["up", "status"][..]),
        (
            &["admin", "reset-password", "--help"][..],
            &["--password-stdin", "reset-password"][..],
        ),
        (
            &["keys", "create", "--help"][..],
            &["--name", "--provider", "--pool"][..],
        ),
    ] {
        let help = stdout(&run(dir.path(), &[], args, None));
        for w in words {
            assert!(help.contains(w), "{args:?} --help lacks {w}: {help}");
            assert!(docs.contains(w), "docs/configuration.md lacks {w}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_create_and_reset_password_act_on_a_running_deployment() {
    let mock = tollgate_testkit::MockUpstream::start().await;
    let tg = Tollgate::start_with(Options::default()).await;
    let pid = tg
        .create_provider("cli-made", "openai", &mock.base_url())
        .await;
    let kid = tg.create_provider_key(pid, "sk-cli").await;
    let db = format!("sqlite://{}/tollgate.db", tg.dir.path().display());
    let env = [("TOLLGATE__DATABASE__URL", db.as_str())];

    let bad = run(
        tg.dir.path(),
        &env,
        &[
            "keys",
            "create",
            "--name",
            "x",
            "--provider",
            "cli-made",
            "--pool",
            "999",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("999"), "{}", stderr(&bad));
    let o = run(
        tg.dir.path(),
        &env,
        &[
            "keys",
            "create",
            "--name",
            "from-cli",
            "--provider",
            "cli-made",
            "--pool",
            &kid.to_string(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let key = out.lines().last().unwrap().trim().to_string();
    assert!(key.len() > 20, "{out}");
    // The running instance picks the key up with its next configuration poll.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o-mini", "messages": []}))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 401);
        assert!(std::time::Instant::now() < deadline, "the key never worked");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, keys) = tg.api("GET", "/api/client-keys", None).await;
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "from-cli")
    );
    assert!(!tg.log().contains(&key));

    // A generated password, printed once.
    let o = run(
        tg.dir.path(),
        &env,
        &["admin", "reset-password", "admin"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let generated = stdout(&o).trim().rsplit(' ').next().unwrap().to_string();
    assert_eq!(generated.len(), 24);
    assert!(tg.login(common::ADMIN_PASSWORD).await.is_none());
    assert!(tg.login(&generated).await.is_some());
    // Sessions from before the reset are over.
    let (status, _) = tg.api("GET", "/api/client-keys", None).await;
    assert_eq!(status, 401);
    // From stdin.
    let o = run(
        tg.dir.path(),
        &env,
        &["admin", "reset-password", "admin", "--password-stdin"],
        Some("chosen-password-1\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("chosen-password-1"));
    assert!(tg.login("chosen-password-1").await.is_some());
    let missing = run(
        tg.dir.path(),
        &env,
        &["admin", "reset-password", "nobody"],
        None,
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("nobody"));
}
