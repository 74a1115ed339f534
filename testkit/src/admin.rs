//! Client for Tollgate's management API (:9090): log in, create providers and keys.

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

/// A logged-in admin session.
#[derive(Clone, Debug)]
pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// What [`bench_setup`] created.
#[derive(Clone, Debug)]
pub struct BenchSetup {
    /// The Tollgate client key (`tg-...`), for `Authorization: Bearer` on the proxy port.
    pub client_key: String,
    /// The ids as Tollgate returned them (number or string).
    pub provider_id: Value,
    pub provider_key_id: Value,
    pub client_key_id: Value,
    /// The admin session used, for further calls.
    pub admin: AdminClient,
}

impl AdminClient {
    /// `POST /api/auth/login` as `admin`.
    pub async fn login(base: &str, password: &str) -> anyhow::Result<AdminClient> {
        Self::login_as(base, "admin", password).await
    }

    /// `POST /api/auth/login` as `username`.
    pub async fn login_as(base: &str, username: &str, password: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .context("building the admin HTTP client")?;
        let base = base.trim_end_matches('/').to_string();
        let response = http
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .with_context(|| format!("POST {base}/api/auth/login"))?;
        let body = expect_success(response, "POST /api/auth/login").await?;
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("login answer has no access_token: {body}"))?
            .to_string();
        Ok(AdminClient { http, base, token })
    }

    /// The bearer token of this session.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The management API base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST {path}` with a JSON body; fails unless the status is 2xx. Returns the JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        expect_success(response, &format!("POST {path}")).await
    }

    /// `GET {path}`; fails unless the status is 2xx. Returns the JSON answer.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        expect_success(response, &format!("GET {path}")).await
    }

    /// `POST /api/providers`; returns the new provider's id.
    pub async fn create_provider(
        &self,
        name: &str,
        api_format: &str,
        base_url: &str,
    ) -> anyhow::Result<Value> {
        let body = self
            .post(
                "/api/providers",
                &json!({"name": name, "api_format": api_format, "base_url": base_url}),
            )
            .await?;
        id_of(&body, "provider")
    }

    /// `POST /api/provider-keys`; returns the new provider key's id.
    pub async fn create_provider_key(
        &self,
        provider_id: &Value,
        name: &str,
        secret: &str,
    ) -> anyhow::Result<Value> {
        let body = self
            .post(
                "/api/provider-keys",
                &json!({"provider_id": provider_id, "name": name, "secret": secret}),
            )
            .await?;
        id_of(&body, "provider key")
    }

    /// `POST /api/client-keys`; returns the new client key's id and its secret (`tg-...`).
    pub async fn create_client_key(
        &self,
        name: &str,
        provider_id: &Value,
        provider_key_ids: &[Value],
    ) -> anyhow::Result<(Value, String)> {
        self.create_client_key_with(
            name,
            provider_id,
            provider_key_ids,
            "round_robin",
            &Value::Null,
        )
        .await
    }

    /// `POST /api/client-keys` with a scheduling strategy and extra fields (limits).
    pub async fn create_client_key_with(
        &self,
        name: &str,
        provider_id: &Value,
        provider_key_ids: &[Value],
        strategy: &str,
        extra: &Value,
    ) -> anyhow::Result<(Value, String)> {
        let mut body = json!({"name": name, "provider_id": provider_id, "provider_key_ids": provider_key_ids, "strategy": strategy});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let body = self.post("/api/client-keys", &body).await?;
        let id = id_of(&body, "client key")?;
        let key = body
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("client key answer has no key: {body}"))?
            .to_string();
        Ok((id, key))
    }
}

fn id_of(body: &Value, what: &str) -> anyhow::Result<Value> {
    match body.get("id") {
        Some(id) if !id.is_null() => Ok(id.clone()),
        _ => bail!("{what} answer has no id: {body}"),
    }
}

async fn expect_success(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("{what}: reading the answer"))?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {text}");
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: answer is not JSON: {text}"))
}

/// Logs in to the management API at `admin_base` and creates provider `mock-openai`
/// (`api_format` openai, base URL `mock_base_url`), `keys` provider keys `k1…` with secrets
/// `sk-bench-1…`, and client key `bench` pooling them with `strategy`.
pub async fn bench_setup(
    admin_base: &str,
    password: &str,
    mock_base_url: &str,
    keys: usize,
    strategy: &str,
    key_fields: &Value,
) -> anyhow::Result<BenchSetup> {
    let admin = AdminClient::login(admin_base, password).await?;
    let provider_id = admin
        .create_provider("mock-openai", "openai", mock_base_url)
        .await?;
    let mut pool = Vec::new();
    for i in 1..=keys.max(1) {
        pool.push(
            admin
                .create_provider_key(&provider_id, &format!("k{i}"), &format!("sk-bench-{i}"))
                .await?,
        );
    }
    let provider_key_id = pool[0].clone();
    let (client_key_id, client_key) = admin
        .create_client_key_with("bench", &provider_id, &pool, strategy, key_fields)
        .await?;
    Ok(BenchSetup {
        client_key,
        provider_id,
        provider_key_id,
        client_key_id,
        admin,
    })
}

/// Polls `url` with GET until it answers 200, or fails after `timeout`.
pub async fn wait_for_ok(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .context("building the health-check client")?;
    let deadline = Instant::now() + timeout;
    let mut last = String::from("no answer yet");
    while Instant::now() < deadline {
        match http.get(url).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("HTTP {}", response.status()),
            Err(err) => last = err.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} not ready after {timeout:?} (last: {last})")
}
