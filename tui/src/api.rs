//! The management API as the terminal client sees it: the shapes it reads (lenient: unknown
//! fields are ignored, missing optional ones default) and an HTTP client that signs in by
//! challenge-response, keeps the session, refreshes it and signs out.

use crate::keys::KeyPair;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What went wrong talking to the API, in words fit for the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server refused the key-pair sign-in (401).
    #[error("sign-in refused: {0}")]
    SignInRefused(String),
    /// The session can no longer be used or refreshed: sign in again.
    #[error("session ended: {0}")]
    SessionEnded(String),
    /// The API answered with an error (403 not allowed, 404, 409, 400 …) and this message.
    #[error("{status}: {message}")]
    Api { status: u16, message: String },
    /// The server could not be reached, or timed out.
    #[error("cannot reach the server: {0}")]
    Network(String),
    /// The answer was not what the API documents.
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl ClientError {
    /// True when the user must sign in again before anything else can work.
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            ClientError::SignInRefused(_) | ClientError::SessionEnded(_)
        )
    }
}

#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Challenge {
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// `GET /api/auth/me`. `permissions` comes with the permissions model; older servers send
/// only `role`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub role: String,
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Tokens {
    #[serde(default)]
    pub total: i64,
}

/// `GET /api/stats/overview`: the window covered and its totals.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Overview {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    #[serde(default)]
    pub requests: i64,
    #[serde(default)]
    pub errors: i64,
    #[serde(default)]
    pub error_rate: f64,
    #[serde(default)]
    pub tokens: Tokens,
    #[serde(default)]
    pub cost: String,
    #[serde(default)]
    pub unpriced_requests: i64,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Provider {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct LastCheck {
    #[serde(default)]
    pub ok: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Health {
    #[serde(default)]
    pub state: String,
    pub reason: Option<String>,
    pub next_retry_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<f64>,
    #[serde(default)]
    pub error_rate: f64,
    #[serde(default)]
    pub in_flight: u32,
    pub last_check: Option<LastCheck>,
}

impl Health {
    /// The documented `health_best` score: `(latency_ms + 1) × (1 + 4 × error_rate) ×
    /// (1 + in_flight)`; lower is better.
    pub fn score(&self) -> f64 {
        (self.latency_ms.unwrap_or(0.0) + 1.0)
            * (1.0 + 4.0 * self.error_rate)
            * (1.0 + f64::from(self.in_flight))
    }
}

/// `GET /api/provider-keys`: a provider credential (secret masked).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct ProviderKey {
    pub id: i64,
    pub provider_id: i64,
    pub name: String,
    #[serde(default)]
    pub secret_preview: String,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub health: Health,
}

/// `POST /api/provider-keys/{id}/health-check`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct CheckOutcome {
    #[serde(default)]
    pub ok: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
    #[serde(default)]
    pub latency_ms: u64,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Usage {
    #[serde(default)]
    pub minute_requests: u64,
    #[serde(default)]
    pub in_flight: u64,
    #[serde(default)]
    pub day_requests: u64,
    #[serde(default)]
    pub day_tokens: u64,
    #[serde(default)]
    pub day_cost: String,
    #[serde(default)]
    pub lifetime_spend: String,
    #[serde(default)]
    pub expired: bool,
}

/// `GET /api/client-keys[/{id}]`: a Tollgate-issued key, its limits and (one by one) usage.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct ClientKey {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub key_prefix: String,
    #[serde(default)]
    pub provider_id: i64,
    #[serde(default)]
    pub enabled: bool,
    pub rpm: Option<i64>,
    pub rpd: Option<i64>,
    pub tpd: Option<i64>,
    pub cost_per_day: Option<String>,
    pub budget: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub usage: Option<Usage>,
}

/// `POST /api/client-keys`: the key object plus its secret, shown this once.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedClientKey {
    pub id: i64,
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NewClientKey {
    pub name: String,
    pub provider_id: i64,
    pub provider_key_ids: Vec<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Attempt {
    pub provider_key_id: i64,
    pub status: Option<u16>,
    pub error_kind: Option<String>,
    #[serde(default)]
    pub latency_ms: u64,
}

/// One request-log row.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct LogRow {
    pub id: i64,
    #[serde(default)]
    pub request_id: String,
    pub created_at: Option<DateTime<Utc>>,
    pub client_key_id: Option<i64>,
    pub provider_key_id: Option<i64>,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    pub model: Option<String>,
    #[serde(default)]
    pub status: i32,
    pub error_kind: Option<String>,
    #[serde(default)]
    pub latency_ms: i64,
    pub ttfb_ms: Option<i64>,
    #[serde(default)]
    pub prompt_tokens: i64,
    #[serde(default)]
    pub completion_tokens: i64,
    #[serde(default)]
    pub cache_write_tokens: i64,
    #[serde(default)]
    pub cache_read_tokens: i64,
    pub cost: Option<String>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub partial: bool,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Clone, Deserialize)]
struct Page<T> {
    items: Vec<T>,
}

/// One audit entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub created_at: Option<DateTime<Utc>>,
    pub username: Option<String>,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub resource: String,
    pub resource_id: Option<String>,
    pub address: Option<String>,
    #[serde(default)]
    pub details: Value,
}

/// Filters of the live log, as the API takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub client_key_id: Option<i64>,
    pub model: Option<String>,
    pub status: Option<i32>,
}

impl LogFilter {
    fn query(&self, per_page: u32) -> Vec<(&'static str, String)> {
        let mut q = vec![("per_page", per_page.to_string())];
        if let Some(k) = self.client_key_id {
            q.push(("client_key_id", k.to_string()));
        }
        if let Some(m) = &self.model {
            q.push(("model", m.clone()));
        }
        if let Some(s) = self.status {
            q.push(("status", s.to_string()));
        }
        q
    }
}

struct Session {
    access: String,
    refresh: String,
    expires_at: Instant,
    lifetime: Duration,
}

impl Session {
    fn from_pair(pair: TokenPair) -> Self {
        let lifetime = Duration::from_secs(pair.expires_in.max(1));
        Self {
            access: pair.access_token,
            refresh: pair.refresh_token,
            expires_at: Instant::now() + lifetime,
            lifetime,
        }
    }

    /// Refresh ahead of expiry: a fifth of the lifetime before, at most a minute.
    fn due(&self) -> bool {
        let margin = (self.lifetime / 5).min(Duration::from_secs(60));
        Instant::now() + margin >= self.expires_at
    }
}

/// The API client: one session at a time, shared by every request in flight.
pub struct Client {
    http: reqwest::Client,
    base: String,
    session: Mutex<Option<Session>>,
}

const SIGN_IN_REFUSED: &str = "the server did not accept the signed challenge";

impl Client {
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("tollgate-tui/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            session: Mutex::new(None),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api{path}", self.base)
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(StatusCode, String), ClientError> {
        let mut req = self.http.request(method, self.url(path));
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(network_error)?;
        let status = resp.status();
        let text = resp.text().await.map_err(network_error)?;
        Ok((status, text))
    }

    /// `GET /api/auth/challenge?username=U`.
    pub async fn challenge(&self, username: &str) -> Result<Challenge, ClientError> {
        let (status, text) = self
            .send_raw(
                Method::GET,
                "/auth/challenge",
                None,
                &[("username", username.to_string())],
                None,
            )
            .await?;
        decode(status, &text)
    }

    /// `POST /api/auth/challenge` with a signature; a refusal is [`ClientError::SignInRefused`].
    pub async fn answer(
        &self,
        username: &str,
        nonce: &str,
        signature: &str,
    ) -> Result<TokenPair, ClientError> {
        let body =
            serde_json::json!({"username": username, "nonce": nonce, "signature": signature});
        let (status, text) = self
            .send_raw(Method::POST, "/auth/challenge", None, &[], Some(&body))
            .await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(ClientError::SignInRefused(SIGN_IN_REFUSED.into()));
        }
        decode(status, &text)
    }

    /// Signs in: a fresh challenge, its raw nonce bytes signed with `key`, the answer.
    pub async fn sign_in(&self, username: &str, key: &KeyPair) -> Result<(), ClientError> {
        let challenge = self.challenge(username).await?;
        let nonce = STANDARD
            .decode(&challenge.nonce)
            .map_err(|_| ClientError::Decode("the challenge nonce is not base64".into()))?;
        let pair = self
            .answer(username, &challenge.nonce, &key.sign_base64(&nonce))
            .await?;
        self.adopt(pair).await;
        Ok(())
    }

    /// Uses this token pair as the session.
    pub async fn adopt(&self, pair: TokenPair) {
        *self.session.lock().await = Some(Session::from_pair(pair));
    }

    pub async fn signed_in(&self) -> bool {
        self.session.lock().await.is_some()
    }

    /// Ends the session on the server (`POST /api/auth/logout`) and forgets it.
    pub async fn sign_out(&self) -> Result<(), ClientError> {
        let Some(session) = self.session.lock().await.take() else {
            return Ok(());
        };
        let body = serde_json::json!({"refresh_token": session.refresh});
        let (status, text) = self
            .send_raw(Method::POST, "/auth/logout", None, &[], Some(&body))
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(api_error(status, &text))
        }
    }

    /// Exchanges the refresh token; on refusal the session is dropped.
    async fn refresh_locked(&self, slot: &mut Option<Session>) -> Result<(), ClientError> {
        let Some(session) = slot.as_ref() else {
            return Err(ClientError::SessionEnded("not signed in".into()));
        };
        let body = serde_json::json!({"refresh_token": session.refresh});
        let (status, text) = self
            .send_raw(Method::POST, "/auth/refresh", None, &[], Some(&body))
            .await?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            *slot = None;
            return Err(session_ended());
        }
        let pair: TokenPair = decode(status, &text)?;
        *slot = Some(Session::from_pair(pair));
        Ok(())
    }

    /// The access token to use now, refreshed first when it is about to run out.
    async fn access_token(&self) -> Result<String, ClientError> {
        let mut slot = self.session.lock().await;
        if slot.as_ref().is_some_and(Session::due) {
            self.refresh_locked(&mut slot).await?;
        }
        slot.as_ref()
            .map(|s| s.access.clone())
            .ok_or_else(|| ClientError::SessionEnded("not signed in".into()))
    }

    /// After a 401: refresh, unless another request already did since `stale` was handed out.
    async fn recover(&self, stale: &str) -> Result<String, ClientError> {
        let mut slot = self.session.lock().await;
        if slot.as_ref().is_some_and(|s| s.access != stale) {
            return slot
                .as_ref()
                .map(|s| s.access.clone())
                .ok_or_else(session_ended);
        }
        self.refresh_locked(&mut slot).await?;
        slot.as_ref()
            .map(|s| s.access.clone())
            .ok_or_else(session_ended)
    }

    /// An authenticated call: refreshes ahead of expiry, and once more after a 401.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(StatusCode, String), ClientError> {
        let token = self.access_token().await?;
        let (status, text) = self
            .send_raw(method.clone(), path, Some(&token), query, body)
            .await?;
        if status != StatusCode::UNAUTHORIZED {
            return Ok((status, text));
        }
        let token = self.recover(&token).await?;
        let (status, text) = self
            .send_raw(method, path, Some(&token), query, body)
            .await?;
        if status == StatusCode::UNAUTHORIZED {
            *self.session.lock().await = None;
            return Err(session_ended());
        }
        Ok((status, text))
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        let (status, text) = self.call(Method::GET, path, query, None).await?;
        decode(status, &text)
    }

    async fn write<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ClientError> {
        let (status, text) = self.call(method, path, &[], body).await?;
        decode(status, &text)
    }

    pub async fn me(&self) -> Result<Me, ClientError> {
        self.get("/auth/me", &[]).await
    }

    /// Totals since `from` (the server rounds it down to the hour), or the last 24 h.
    pub async fn overview(&self, from: Option<DateTime<Utc>>) -> Result<Overview, ClientError> {
        let query: Vec<(&str, String)> = from
            .map(|f| vec![("from", f.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))])
            .unwrap_or_default();
        self.get("/stats/overview", &query).await
    }

    pub async fn providers(&self) -> Result<Vec<Provider>, ClientError> {
        self.get("/providers", &[]).await
    }

    pub async fn provider_keys(&self) -> Result<Vec<ProviderKey>, ClientError> {
        self.get("/provider-keys", &[]).await
    }

    pub async fn check_provider_key(&self, id: i64) -> Result<CheckOutcome, ClientError> {
        self.write(
            Method::POST,
            &format!("/provider-keys/{id}/health-check"),
            None,
        )
        .await
    }

    pub async fn set_provider_key_enabled(
        &self,
        id: i64,
        enabled: bool,
    ) -> Result<ProviderKey, ClientError> {
        let body = serde_json::json!({ "enabled": enabled });
        self.write(Method::PATCH, &format!("/provider-keys/{id}"), Some(&body))
            .await
    }

    /// The caller's client keys with each one's usage (one `GET` per key, at most `limit`).
    pub async fn client_keys(&self, limit: usize) -> Result<Vec<ClientKey>, ClientError> {
        let list: Vec<ClientKey> = self.get("/client-keys", &[]).await?;
        let mut out = Vec::with_capacity(list.len());
        for (i, key) in list.into_iter().enumerate() {
            if i >= limit {
                out.push(key);
                continue;
            }
            match self
                .get::<ClientKey>(&format!("/client-keys/{}", key.id), &[])
                .await
            {
                Ok(full) => out.push(full),
                // Deleted between the list and this read: leave it out.
                Err(ClientError::Api { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    pub async fn create_client_key(
        &self,
        new: &NewClientKey,
    ) -> Result<CreatedClientKey, ClientError> {
        let body = serde_json::to_value(new).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.write(Method::POST, "/client-keys", Some(&body)).await
    }

    pub async fn set_client_key_enabled(
        &self,
        id: i64,
        enabled: bool,
    ) -> Result<ClientKey, ClientError> {
        let body = serde_json::json!({ "enabled": enabled });
        self.write(Method::PATCH, &format!("/client-keys/{id}"), Some(&body))
            .await
    }

    /// The newest `per_page` rows matching `filter`, newest first.
    pub async fn logs(
        &self,
        filter: &LogFilter,
        per_page: u32,
    ) -> Result<Vec<LogRow>, ClientError> {
        let page: Page<LogRow> = self.get("/logs", &filter.query(per_page)).await?;
        Ok(page.items)
    }

    pub async fn log(&self, id: i64) -> Result<LogRow, ClientError> {
        self.get(&format!("/logs/{id}"), &[]).await
    }

    pub async fn audit(&self, per_page: u32) -> Result<Vec<AuditEntry>, ClientError> {
        let page: Page<AuditEntry> = self
            .get("/audit", &[("per_page", per_page.to_string())])
            .await?;
        Ok(page.items)
    }
}

fn session_ended() -> ClientError {
    ClientError::SessionEnded(
        "the server no longer accepts this session (expired, signed out elsewhere, or the \
         account was disabled)"
            .into(),
    )
}

fn network_error(e: reqwest::Error) -> ClientError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    ClientError::Network(message)
}

fn api_error(status: StatusCode, text: &str) -> ClientError {
    let message = serde_json::from_str::<ErrorEnvelope>(text)
        .map(|e| e.error.message)
        .ok()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("request failed")
                .to_lowercase()
        });
    ClientError::Api {
        status: status.as_u16(),
        message,
    }
}

fn decode<T: DeserializeOwned>(status: StatusCode, text: &str) -> Result<T, ClientError> {
    if !status.is_success() {
        return Err(api_error(status, text));
    }
    serde_json::from_str(text).map_err(|e| ClientError::Decode(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_carry_the_servers_message() {
        let e = api_error(
            StatusCode::FORBIDDEN,
            r#"{"error":{"code":"forbidden","message":"requires the `audit:read` permission"}}"#,
        );
        assert_eq!(e.to_string(), "403: requires the `audit:read` permission");
        let e = api_error(StatusCode::BAD_GATEWAY, "<html>");
        assert_eq!(e.to_string(), "502: bad gateway");
        assert!(!e.needs_sign_in());
        assert!(session_ended().needs_sign_in());
    }

    #[test]
    fn shapes_decode_from_old_and_new_servers() {
        let me: Me = serde_json::from_str(
            r#"{"id":1,"username":"a","role":"member","enabled":true,"created_at":"2025-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(me.permissions, None);
        let me: Me = serde_json::from_str(
            r#"{"id":1,"username":"a","role":"viewer","permissions":["logs:read"]}"#,
        )
        .unwrap();
        assert_eq!(me.permissions.unwrap(), vec!["logs:read".to_string()]);
        // Keyset log pages (`next`) and numbered ones (`total`) both decode.
        let page: Page<LogRow> =
            serde_json::from_str(r#"{"items":[{"id":3,"status":200,"attempts":[]}],"next":null}"#)
                .unwrap();
        assert_eq!(page.items[0].id, 3);
    }

    #[test]
    fn log_filters_become_query_parameters() {
        let f = LogFilter {
            client_key_id: Some(4),
            model: Some("gpt-4o".into()),
            status: Some(429),
        };
        assert_eq!(
            f.query(100),
            vec![
                ("per_page", "100".to_string()),
                ("client_key_id", "4".to_string()),
                ("model", "gpt-4o".to_string()),
                ("status", "429".to_string()),
            ]
        );
    }

    #[test]
    fn sessions_refresh_a_fifth_of_their_lifetime_early() {
        let mut s = Session::from_pair(TokenPair {
            access_token: "a".into(),
            refresh_token: "r".into(),
            expires_in: 100,
        });
        assert!(!s.due());
        s.expires_at = Instant::now() + Duration::from_secs(19);
        assert!(s.due());
        assert_eq!(
            Health {
                latency_ms: Some(99.0),
                error_rate: 0.25,
                in_flight: 1,
                ..Default::default()
            }
            .score(),
            400.0
        );
    }
}
