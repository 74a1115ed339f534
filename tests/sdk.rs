//! The official OpenAI and Anthropic Python SDKs, unchanged, against the unified API of the real
//! binary: OpenAI SDK → Anthropic and Gemini back ends, Anthropic SDK → OpenAI back end, each
//! streaming and not, text, a tool-call round trip, an image, errors as the SDKs' own exception
//! types (`scripts/sdk_unified.py`). The usage each SDK saw is compared here with the figures the
//! mock upstream sent. The SDKs come from `scripts/sdk-venv.sh` (pinned, in `.venv-sdk`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Tollgate;
use serde_json::{Value, json};
use std::process::Command;
use tollgate_testkit::MockUpstream;

fn sdk_python() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/scripts/sdk-venv.sh"))
        .output()
        .expect("run scripts/sdk-venv.sh");
    assert!(
        out.status.success(),
        "scripts/sdk-venv.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .expect("the venv's python")
        .to_string()
}

#[tokio::test]
async fn official_sdks_work_unchanged_across_formats() {
    let python = sdk_python();
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let mut ids = Vec::new();
    let mut pool = Vec::new();
    for (name, format, secret) in [
        ("openai", "openai", "sk-openai"),
        ("anthropic", "anthropic", "sk-ant"),
        ("gemini", "gemini", "goog-key"),
    ] {
        let id = tg.provider_at(name, format, &mock.base_url()).await;
        pool.push(tg.create_provider_key(id, secret).await);
        ids.push(id);
    }
    let (s, v) = tg
        .api(
            "POST",
            "/api/client-keys",
            Some(json!({"name": "sdk", "provider_ids": ids, "provider_key_ids": pool})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let key = v["key"].as_str().unwrap().to_string();
    for id in &ids {
        let (s, v) = tg
            .api("POST", &format!("/api/providers/{id}/models/refresh"), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(v["last_error"], Value::Null, "{v}");
    }
    mock.clear_requests();

    let out = tokio::task::spawn_blocking({
        let (python, proxy, key) = (python.clone(), tg.proxy.clone(), key.clone());
        move || {
            Command::new(python)
                .arg(format!(
                    "{}/scripts/sdk_unified.py",
                    env!("CARGO_MANIFEST_DIR")
                ))
                .env("TOLLGATE_PROXY", proxy)
                .env("TOLLGATE_KEY", key)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "SDK script failed\nstdout:\n{stdout}\nstderr:\n{}\ngateway log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        tg.log()
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.last().unwrap()["done"], true, "{stdout}");
    let reports: Vec<&Value> = lines.iter().filter(|l| l.get("case").is_some()).collect();
    assert_eq!(reports.len(), 17, "{stdout}");

    // Every successful generation the mock answered, in order, against the SDK's usage.
    let answered: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.status == Some(200) && r.usage_sent.is_some())
        .collect();
    assert_eq!(answered.len(), reports.len(), "{stdout}");
    for (report, req) in reports.iter().zip(&answered) {
        let case = report["case"].as_str().unwrap();
        let sent = req.usage_sent.unwrap();
        let u = &report["usage"];
        let back = case.split("->").nth(1).unwrap().split(' ').next().unwrap();
        let want_path = match back {
            "anthropic" => "/v1/messages",
            "openai" => "/v1/chat/completions",
            _ => "gemini",
        };
        assert!(
            req.path.contains(want_path)
                || (want_path == "gemini"
                    && req.path.starts_with("/v1beta/models/gemini-2.5-flash:")),
            "{case}: sent to {}",
            req.path
        );
        match u["format"].as_str().unwrap() {
            "openai" => {
                let prompt = match back {
                    "anthropic" => {
                        sent.prompt_tokens + sent.cache_read_tokens + sent.cache_write_tokens
                    }
                    _ => sent.prompt_tokens,
                };
                assert_eq!(u["prompt_tokens"], prompt, "{case}: {u} vs {sent:?}");
                assert_eq!(u["completion_tokens"], sent.completion_tokens, "{case}");
                assert_eq!(u["cached_tokens"], sent.cache_read_tokens, "{case}");
            }
            _ => {
                assert_eq!(
                    u["input_tokens"],
                    sent.prompt_tokens - sent.cache_read_tokens,
                    "{case}: {u} vs {sent:?}"
                );
                assert_eq!(
                    u["cache_read_input_tokens"], sent.cache_read_tokens,
                    "{case}"
                );
                assert_eq!(u["output_tokens"], sent.completion_tokens, "{case}");
            }
        }
    }
    // Nothing of the refused requests reached a provider: only the forbidden model did (403).
    let refused: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.status != Some(200))
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(refused, [("/v1/messages".to_string(), Some(403))]);
}
