//! No secret leaks: every API response, every log line and every byte of the database written
//! while the secrets are used is scanned for them. A secret may appear only in the one response
//! that issues it (a new client key, a token pair).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADMIN_PASSWORD, Tollgate};
use serde_json::{Value, json};
use std::time::Duration;
use tollgate_testkit::MockUpstream;

/// Every API answer the test saw, with the call that produced it.
struct Seen {
    answers: Vec<(String, String)>,
}

impl Seen {
    async fn call(
        &mut self,
        tg: &Tollgate,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = tg
            .http
            .request(method.parse().unwrap(), format!("{}{path}", tg.admin));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        self.answers
            .push((format!("{method} {path}"), text.clone()));
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn proxy(&mut self, tg: &Tollgate, key: &str, stream: bool) -> u16 {
        let r = tg.http.post(format!("{}/v1/chat/completions", tg.proxy)).bearer_auth(key)
            .json(&json!({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}))
            .send().await.unwrap();
        let status = r.status().as_u16();
        let headers = format!("{:?}", r.headers());
        let text = r.text().await.unwrap();
        self.answers
            .push(("proxy".into(), format!("{headers}{text}")));
        status
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_appear_nowhere_but_where_they_are_issued() {
    let mock = MockUpstream::start().await;
    let mut tg = Tollgate::start().await;
    let mut seen = Seen { answers: vec![] };
    let suffix = common::rand_suffix();
    let admin = tg.token.clone();
    let (s, login) = seen
        .call(
            &tg,
            None,
            "POST",
            "/api/auth/login",
            Some(json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(s, 200);
    let admin_refresh = login["refresh_token"].as_str().unwrap().to_string();

    // Provider secrets: set, then rotated.
    let provider_secret = format!("sk-provider-scan-{suffix}-first");
    let rotated_secret = format!("sk-provider-scan-{suffix}-second");
    let (_, p) = seen
        .call(
            &tg,
            Some(&admin),
            "POST",
            "/api/providers",
            Some(json!({"name": "scan", "api_format": "openai", "base_url": mock.base_url()})),
        )
        .await;
    let pid = p["id"].as_i64().unwrap();
    let (s, k) = seen
        .call(
            &tg,
            Some(&admin),
            "POST",
            "/api/provider-keys",
            Some(json!({"provider_id": pid, "name": "scan-key", "secret": provider_secret})),
        )
        .await;
    assert_eq!(s, 201);
    let kid = k["id"].as_i64().unwrap();
    seen.call(
        &tg,
        Some(&admin),
        "PATCH",
        &format!("/api/provider-keys/{kid}"),
        Some(json!({"secret": rotated_secret})),
    )
    .await;

    // Client keys: issued, used, rotated.
    let (s, ck) = seen
        .call(
            &tg,
            Some(&admin),
            "POST",
            "/api/client-keys",
            Some(json!({"name": "scan", "provider_id": pid, "provider_key_ids": [kid]})),
        )
        .await;
    assert_eq!(s, 201);
    let first_key = ck["key"].as_str().unwrap().to_string();
    let ckid = ck["id"].as_i64().unwrap();
    assert_eq!(seen.proxy(&tg, &first_key, false).await, 200);
    assert_eq!(seen.proxy(&tg, &first_key, true).await, 200);
    let (_, rot) = seen
        .call(
            &tg,
            Some(&admin),
            "POST",
            &format!("/api/client-keys/{ckid}/rotate"),
            None,
        )
        .await;
    let second_key = rot["key"].as_str().unwrap().to_string();
    assert_eq!(seen.proxy(&tg, &first_key, false).await, 401);
    assert_eq!(seen.proxy(&tg, &second_key, false).await, 200);

    // A member: password, tokens, refresh, password change.
    let member_password = format!("member-pass-{suffix}-first");
    let member_password2 = format!("member-pass-{suffix}-second");
    let (s, _) = seen.call(&tg, Some(&admin), "POST", "/api/users", Some(json!({"username": format!("m{suffix}"), "password": member_password, "role": "member"}))).await;
    assert_eq!(s, 201);
    let (_, ml) = seen
        .call(
            &tg,
            None,
            "POST",
            "/api/auth/login",
            Some(json!({"username": format!("m{suffix}"), "password": member_password})),
        )
        .await;
    let member_refresh = ml["refresh_token"].as_str().unwrap().to_string();
    let member_access = ml["access_token"].as_str().unwrap().to_string();
    let (_, rf) = seen
        .call(
            &tg,
            None,
            "POST",
            "/api/auth/refresh",
            Some(json!({"refresh_token": member_refresh})),
        )
        .await;
    let member_refresh2 = rf["refresh_token"].as_str().unwrap().to_string();
    let (s, pc) = seen.call(&tg, Some(&member_access), "POST", "/api/auth/password", Some(json!({"current_password": member_password, "new_password": member_password2, "refresh_token": member_refresh2}))).await;
    assert_eq!(s, 200, "{pc}");
    seen.call(
        &tg,
        None,
        "POST",
        "/api/auth/login",
        Some(json!({"username": format!("m{suffix}"), "password": "wrong-password-123"})),
    )
    .await;

    // Read everything an operator could look at.
    for path in [
        "/api/providers",
        "/api/provider-keys",
        &format!("/api/provider-keys/{kid}"),
        "/api/client-keys",
        &format!("/api/client-keys/{ckid}"),
        "/api/users",
        "/api/logs?per_page=500",
        "/api/audit?per_page=500",
        "/api/model-prices",
        "/api/health",
    ] {
        let (s, _) = seen.call(&tg, Some(&admin), "GET", path, None).await;
        assert_eq!(s, 200, "{path}");
    }
    seen.call(
        &tg,
        None,
        "POST",
        "/api/auth/logout",
        Some(json!({"refresh_token": admin_refresh})),
    )
    .await;

    // Stop gracefully so everything is flushed, then read the log and the database files.
    tokio::time::sleep(Duration::from_millis(300)).await;
    tg.signal("TERM");
    let code = tokio::task::block_in_place(|| tg.wait_exit(Duration::from_secs(15)));
    assert_eq!(code, Some(0));
    let log = tg.log();
    let dir = tg.dir.path().to_path_buf();
    let master_key = std::fs::read_to_string(dir.join("master.key"))
        .unwrap()
        .trim()
        .to_string();
    let mut db = Vec::new();
    for f in ["tollgate.db", "tollgate.db-wal"] {
        db.extend(std::fs::read(dir.join(f)).unwrap_or_default());
    }
    let db = String::from_utf8_lossy(&db).into_owned();

    // (secret, the one call whose answer may carry it)
    let secrets: Vec<(&str, String, Option<&str>)> = vec![
        ("provider secret", provider_secret.clone(), None),
        ("rotated provider secret", rotated_secret.clone(), None),
        (
            "client key",
            first_key.clone(),
            Some("POST /api/client-keys"),
        ),
        ("rotated client key", second_key.clone(), Some("/rotate")),
        ("member password", member_password.clone(), None),
        ("changed member password", member_password2.clone(), None),
        ("admin password", ADMIN_PASSWORD.to_string(), None),
        (
            "admin refresh token",
            admin_refresh.clone(),
            Some("POST /api/auth/login"),
        ),
        (
            "member refresh token",
            member_refresh.clone(),
            Some("POST /api/auth/login"),
        ),
        (
            "rotated member refresh token",
            member_refresh2.clone(),
            Some("POST /api/auth/refresh"),
        ),
        ("master key", master_key.clone(), None),
    ];
    for (what, secret, issuer) in &secrets {
        assert!(secret.len() >= 16, "{what} too short to scan for");
        let carriers: Vec<&String> = seen
            .answers
            .iter()
            .filter(|(_, body)| body.contains(secret.as_str()))
            .map(|(call, _)| call)
            .collect();
        match issuer {
            None => assert!(
                carriers.is_empty(),
                "{what} appeared in API answers: {carriers:?}"
            ),
            Some(call) => {
                assert_eq!(
                    carriers.len(),
                    1,
                    "{what} must appear in exactly one answer, got {carriers:?}"
                );
                assert!(
                    carriers[0].contains(call),
                    "{what} appeared in {carriers:?}"
                );
            }
        }
        assert!(!log.contains(secret.as_str()), "{what} appeared in the log");
        assert!(
            !db.contains(secret.as_str()),
            "{what} appeared in the database"
        );
    }
    // The upstream saw the provider credential, and nothing of the client key.
    let upstream = format!("{:?}", mock.requests());
    assert!(upstream.contains(&rotated_secret));
    assert!(!upstream.contains(&first_key) && !upstream.contains(&second_key));
    assert!(seen.answers.len() > 25);
}
