//! The management API on :9090: auth, validation, and secrets that never come back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Tollgate;
use serde_json::json;

#[tokio::test]
async fn login_and_token_checks() {
    let tg = Tollgate::start().await;
    assert!(tg.login("wrong-password").await.is_none());
    let r = tg
        .http
        .post(format!("{}/api/auth/login", tg.admin))
        .json(&json!({"username": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = tg
        .http
        .post(format!("{}/api/auth/login", tg.admin))
        .json(&json!({"username": "admin", "password": common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 0);

    let r = tg
        .http
        .get(format!("{}/api/health", tg.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for path in [
        "/api/providers",
        "/api/provider-keys",
        "/api/client-keys",
        "/api/logs",
        "/api/logs/1",
        "/api/model-prices",
    ] {
        let r = tg
            .http
            .get(format!("{}{path}", tg.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let r = tg
            .http
            .get(format!("{}{path}", tg.admin))
            .bearer_auth("not.a.jwt")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field() {
    let tg = Tollgate::start().await;
    let (s, v) = tg
        .api(
            "POST",
            "/api/providers",
            Some(json!({"api_format": "openai", "base_url": "http://x"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("name"),
        "{v}"
    );

    let (s, v) = tg
        .api(
            "POST",
            "/api/providers",
            Some(json!({"name": "x", "api_format": "cohere", "base_url": "http://x"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("api_format"),
        "{v}"
    );

    let (s, v) = tg
        .api(
            "POST",
            "/api/providers",
            Some(json!({"name": "x", "api_format": "openai", "base_url": "ftp://x"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("base_url"),
        "{v}"
    );

    let (s, v) = tg
        .api(
            "POST",
            "/api/provider-keys",
            Some(json!({"provider_id": 1, "name": "k", "secret": 5})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("secret"),
        "{v}"
    );

    let r = tg
        .http
        .post(format!("{}/api/providers", tg.admin))
        .bearer_auth(&tg.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let (s, _) = tg
        .api(
            "POST",
            "/api/providers",
            Some(json!({"name": "openai", "api_format": "openai", "base_url": "http://x"})),
        )
        .await;
    assert_eq!(s, 409);

    // A pool may only hold the provider's own keys.
    let p1 = tg
        .create_provider("one", "openai", "http://127.0.0.1:1")
        .await;
    let p2 = tg
        .create_provider("two", "openai", "http://127.0.0.1:2")
        .await;
    let k2 = tg.create_provider_key(p2, "sk-two-xxxxxxxx").await;
    let (s, v) = tg
        .api(
            "POST",
            "/api/client-keys",
            Some(json!({"name": "c", "provider_id": p1, "provider_key_ids": [k2]})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("provider_key_ids"),
        "{v}"
    );

    let (s, _) = tg.api("GET", "/api/providers/999999", None).await;
    assert_eq!(s, 404);
    let (s, _) = tg.api("GET", "/api/logs?per_page=0", None).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn secrets_are_shown_once_or_never_and_stored_protected() {
    let tg = Tollgate::start().await;
    let provider_secret = "sk-provider-secret-0123456789";
    let pid = tg
        .create_provider("p", "openai", "http://127.0.0.1:9")
        .await;
    let kid = tg.create_provider_key(pid, provider_secret).await;
    let (ckid, client_key) = tg.create_client_key(pid, &[kid]).await;

    let mut seen = String::new();
    for path in [
        "/api/provider-keys".to_string(),
        format!("/api/provider-keys/{kid}"),
        "/api/client-keys".to_string(),
        format!("/api/client-keys/{ckid}"),
    ] {
        let (s, v) = tg.api("GET", &path, None).await;
        assert_eq!(s, 200);
        seen.push_str(&v.to_string());
    }
    assert!(!seen.contains(provider_secret));
    assert!(!seen.contains(&client_key));
    assert!(seen.contains("sk-…6789"), "masked preview: {seen}");

    // PATCH rotates the provider secret without echoing it.
    let (s, v) = tg
        .api(
            "PATCH",
            &format!("/api/provider-keys/{kid}"),
            Some(json!({"secret": "sk-rotated-secret-abcdefgh", "weight": 3})),
        )
        .await;
    assert_eq!(s, 200);
    assert!(!v.to_string().contains("sk-rotated-secret-abcdefgh"));
    assert_eq!(v["weight"], 3);

    // Neither secret is in the database file in plain text.
    let db = std::fs::read(tg.dir.path().join("tollgate.db")).unwrap();
    let mut wal = std::fs::read(tg.dir.path().join("tollgate.db-wal")).unwrap_or_default();
    wal.extend_from_slice(&db);
    let hay = String::from_utf8_lossy(&wal);
    assert!(!hay.contains(provider_secret));
    assert!(!hay.contains("sk-rotated-secret-abcdefgh"));
    assert!(!hay.contains(&client_key));
    assert!(!tg.log().contains(provider_secret));
    assert!(!tg.log().contains(&client_key));

    // Delete works and the key stops existing.
    let (s, _) = tg
        .api("DELETE", &format!("/api/client-keys/{ckid}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = tg
        .api("GET", &format!("/api/client-keys/{ckid}"), None)
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn logs_filter_and_page() {
    let mock = tollgate_testkit::MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, kid, key) = tg.setup("openai", &mock.base_url(), "sk-logs").await;
    let mut ids = vec![];
    for model in ["gpt-4o", "gpt-4o", "gpt-4o-mini"] {
        let r = tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(&key)
            .json(&json!({"model": model, "messages": []}))
            .send()
            .await
            .unwrap();
        ids.push(r.headers()["x-request-id"].to_str().unwrap().to_string());
    }
    let _ = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth("tg-bad")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    for id in &ids {
        tg.log_row(id).await;
    }
    let (_, v) = tg.api("GET", "/api/logs?model=gpt-4o", None).await;
    assert_eq!(v["total"], 2);
    let (_, v) = tg
        .api(
            "GET",
            &format!("/api/logs?provider_key_id={kid}&per_page=1&page=2"),
            None,
        )
        .await;
    assert_eq!(v["total"], 3);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let (_, v) = tg.api("GET", "/api/logs?status=401", None).await;
    assert_eq!(v["total"], 1);
    let (_, v) = tg
        .api("GET", "/api/logs?from=2999-01-01T00:00:00Z", None)
        .await;
    assert_eq!(v["total"], 0);
    let (_, v) = tg.api("GET", "/api/logs?model=gpt-4o-mini", None).await;
    let id = v["items"][0]["id"].as_i64().unwrap();
    let (s, one) = tg.api("GET", &format!("/api/logs/{id}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(one["model"], "gpt-4o-mini");
}

#[tokio::test]
async fn rotating_a_client_key_stops_the_old_one_at_once() {
    let mock = tollgate_testkit::MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, _, old) = tg.setup("openai", &mock.base_url(), "sk-rot").await;
    let call = |key: String| {
        let (http, proxy) = (tg.http.clone(), tg.proxy.clone());
        async move {
            http.post(format!("{proxy}/v1/chat/completions"))
                .bearer_auth(key)
                .json(&json!({"model": "gpt-4o", "messages": []}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(call(old.clone()).await, 200);
    let (_, keys) = tg.api("GET", "/api/client-keys", None).await;
    let id = keys[0]["id"].as_i64().unwrap();
    let (s, v) = tg
        .api("POST", &format!("/api/client-keys/{id}/rotate"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    let new = v["key"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(v["key_prefix"].as_str().unwrap(), &new[..10]);
    assert_eq!(call(old).await, 401);
    assert_eq!(call(new).await, 200);
}

#[tokio::test]
async fn bundled_prices_price_dated_models_and_unpriced_ones_are_listed() {
    let mock = tollgate_testkit::MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (_, prices) = tg.api("GET", "/api/model-prices", None).await;
    let gpt4o = prices
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["model"] == "gpt-4o")
        .expect("bundled gpt-4o");
    assert_eq!(gpt4o["input_per_mtok"], "2.5");
    assert_eq!(gpt4o["output_per_mtok"], "10");
    assert!(
        prices
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["model"] == "claude-sonnet-4-5")
    );
    assert!(
        prices
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["model"] == "gemini-2.5-flash")
    );

    let (_, _, key) = tg.setup("openai", &mock.base_url(), "sk-prices").await;
    let mut ids = vec![];
    for model in ["gpt-4o-2024-08-06", "mystery-model-1"] {
        let r = tg
            .http
            .post(format!("{}/v1/chat/completions", tg.proxy))
            .bearer_auth(&key)
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        ids.push(r.headers()["x-request-id"].to_str().unwrap().to_string());
    }
    let dated = tg.log_row(&ids[0]).await;
    assert_eq!(dated["priced"], true, "{dated}");
    let mystery = tg.log_row(&ids[1]).await;
    assert_eq!(mystery["priced"], false);
    let (s, unpriced) = tg.api("GET", "/api/model-prices/unpriced", None).await;
    assert_eq!(s, 200);
    let models: Vec<&str> = unpriced
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, vec!["mystery-model-1"], "{unpriced}");
    assert_eq!(unpriced[0]["requests"], 1);

    // Replacing a price changes what later requests cost; recorded ones keep theirs.
    let id = gpt4o["id"].as_i64().unwrap();
    let (s, v) = tg.api("PUT", &format!("/api/model-prices/{id}"), Some(json!({
        "model": "gpt-4o", "input_per_mtok": "25", "output_per_mtok": "100", "effective_from": "2020-01-01T00:00:00Z"
    }))).await;
    assert_eq!(s, 200, "{v}");
    let (_, again) = tg
        .api("GET", &format!("/api/logs/{}", dated["id"]), None)
        .await;
    assert_eq!(again["cost"], dated["cost"]);
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&key)
        .json(
            &json!({"model": "gpt-4o-2024-08-06", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    let later = tg
        .log_row(r.headers()["x-request-id"].to_str().unwrap())
        .await;
    let (a, b): (f64, f64) = (
        later["cost"].as_str().unwrap().parse().unwrap(),
        dated["cost"].as_str().unwrap().parse().unwrap(),
    );
    assert!(a > b * 5.0, "{a} vs {b}");
}
