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
