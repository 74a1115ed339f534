//! Inbound OAuth2 client credentials (RFC 6749 §4.4): the token endpoint logic behind
//! `POST /oauth/token` (and RFC 7009 revocation at `POST /oauth/revoke`), and the check of an
//! issued access token on every proxied request — in memory, without SQL: the token carries
//! its client, client key and expiry under an HMAC; revocations are kept in memory, refreshed
//! from the database.

use super::OAuthError;
use super::jwt::JwtIssuers;
use crate::auth::MasterKey;
use crate::store::Store;
use arc_swap::ArcSwap;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::Arc;

/// Prefix of every access token Tollgate issues.
pub const ACCESS_TOKEN_PREFIX: &str = "tgo_";
/// Prefix of every OAuth client id Tollgate issues.
pub const CLIENT_ID_PREFIX: &str = "tgc_";
const SECRET_PURPOSE: &str = "oauth-client-secrets/v1";
const TOKEN_HASH_PURPOSE: &str = "oauth-access-tokens/hash/v1";
const TOKEN_MAC_PURPOSE: &str = "oauth-access-tokens/mac/v1";
/// oauth client id, client key id, expiry (unix seconds), each 8 bytes; 16 random bytes.
const PAYLOAD_LEN: usize = 8 * 3 + 16;
const MAC_LEN: usize = 32;

/// Who a presented credential is, as far as inbound OAuth is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Not an OAuth token or a JWT: look it up as a client key.
    NotOAuth,
    /// A valid token of this client key.
    ClientKey(i64),
    /// Looks like a token of ours or a JWT, but is expired, revoked, forged or foreign.
    Refused,
}

/// An answer of the token or revocation endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointReply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl EndpointReply {
    fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".into()),
                ("cache-control", "no-store".into()),
                ("pragma", "no-cache".into()),
            ],
            body: body.to_string(),
        }
    }

    /// RFC 6749 §5.2. `invalid_client` is a 401 with a Basic challenge.
    fn error(code: &str, description: &str) -> Self {
        let status = if code == "invalid_client" { 401 } else { 400 };
        let mut reply = Self::json(
            status,
            serde_json::json!({"error": code, "error_description": description}),
        );
        if status == 401 {
            reply
                .headers
                .push(("www-authenticate", r#"Basic realm="tollgate""#.into()));
        }
        reply
    }
}

#[derive(Debug, Default)]
struct Revoked {
    clients: HashSet<i64>,
    tokens: HashSet<String>,
}

pub struct Inbound {
    store: Store,
    master: MasterKey,
    ttl_secs: u64,
    revoked: ArcSwap<Revoked>,
    pub jwt: Arc<JwtIssuers>,
}

/// A new client's credentials; the secret is shown once.
#[derive(Debug, Clone)]
pub struct NewClientCredentials {
    pub client: entity::oauth_client::Model,
    pub client_secret: String,
}

fn random_b64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Inbound {
    pub fn new(store: Store, master: MasterKey, ttl_secs: u64, jwt: Arc<JwtIssuers>) -> Self {
        Self {
            store,
            master,
            ttl_secs,
            revoked: ArcSwap::from_pointee(Revoked::default()),
            jwt,
        }
    }

    /// Which client key a presented bearer stands for.
    pub async fn resolve(&self, presented: &str) -> Resolution {
        if presented.starts_with(ACCESS_TOKEN_PREFIX) {
            return match self.verify_access_token(presented, chrono::Utc::now().timestamp()) {
                Some(id) => Resolution::ClientKey(id),
                None => Resolution::Refused,
            };
        }
        if super::jwt::looks_like_jwt(presented) {
            return match self.jwt.verify(presented).await {
                Some(id) => Resolution::ClientKey(id),
                None => Resolution::Refused,
            };
        }
        Resolution::NotOAuth
    }

    fn mac(&self) -> Option<Hmac<Sha256>> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.master.derive(TOKEN_MAC_PURPOSE)).ok()
    }

    fn issue_token(&self, oauth_client_id: i64, client_key_id: i64, exp: i64) -> Option<String> {
        let mut raw = Vec::with_capacity(PAYLOAD_LEN + MAC_LEN);
        raw.extend_from_slice(&oauth_client_id.to_be_bytes());
        raw.extend_from_slice(&client_key_id.to_be_bytes());
        raw.extend_from_slice(&exp.to_be_bytes());
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        raw.extend_from_slice(&nonce);
        let mut mac = self.mac()?;
        mac.update(&raw);
        raw.extend_from_slice(&mac.finalize().into_bytes());
        Some(format!(
            "{ACCESS_TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(raw)
        ))
    }

    /// The client key of a genuine, unexpired, unrevoked token.
    fn verify_access_token(&self, token: &str, now: i64) -> Option<i64> {
        let raw = URL_SAFE_NO_PAD
            .decode(token.strip_prefix(ACCESS_TOKEN_PREFIX)?)
            .ok()?;
        if raw.len() != PAYLOAD_LEN + MAC_LEN {
            return None;
        }
        let (payload, tag) = raw.split_at(PAYLOAD_LEN);
        let mut mac = self.mac()?;
        mac.update(payload);
        mac.verify_slice(tag).ok()?;
        let num = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&payload[i * 8..i * 8 + 8]);
            i64::from_be_bytes(b)
        };
        let (client, key, exp) = (num(0), num(1), num(2));
        if exp <= now {
            return None;
        }
        let revoked = self.revoked.load();
        if revoked.clients.contains(&client) {
            return None;
        }
        if !revoked.tokens.is_empty() && revoked.tokens.contains(&self.token_hash(token)) {
            return None;
        }
        Some(key)
    }

    fn token_hash(&self, token: &str) -> String {
        self.master.hash_for(TOKEN_HASH_PURPOSE, token)
    }

    pub fn secret_hash(&self, secret: &str) -> String {
        self.master.hash_for(SECRET_PURPOSE, secret)
    }

    /// Creates a client of the client key: a fresh `client_id` and secret (kept hashed).
    pub async fn create_client(
        &self,
        client_key_id: i64,
        name: String,
    ) -> Result<NewClientCredentials, OAuthError> {
        let client_id = format!("{CLIENT_ID_PREFIX}{}", random_b64(16));
        let client_secret = random_b64(32);
        let client = self
            .store
            .create_oauth_client(
                client_key_id,
                client_id,
                self.secret_hash(&client_secret),
                name,
            )
            .await?;
        Ok(NewClientCredentials {
            client,
            client_secret,
        })
    }

    /// Revokes a client and every token it holds, here at once, elsewhere at the next sync.
    pub async fn revoke_client(&self, client_key_id: i64, id: i64) -> Result<(), OAuthError> {
        self.store.revoke_oauth_client(client_key_id, id).await?;
        self.revoked.rcu(|cur| {
            let mut clients = cur.clients.clone();
            clients.insert(id);
            Revoked {
                clients,
                tokens: cur.tokens.clone(),
            }
        });
        Ok(())
    }

    /// Reads revocations made through other instances.
    pub async fn sync(&self) -> Result<(), OAuthError> {
        let r = self.store.inbound_revocations().await?;
        self.revoked.store(Arc::new(Revoked {
            clients: r.clients.into_iter().collect(),
            tokens: r.token_hashes.into_iter().collect(),
        }));
        Ok(())
    }

    /// `POST /oauth/token` (RFC 6749 §4.4) and `POST /oauth/revoke` (RFC 7009): `path` says
    /// which, `authorization` is the request's `Authorization` header.
    pub async fn endpoint(
        &self,
        path: &str,
        method: &str,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> EndpointReply {
        if method != "POST" {
            let mut r = EndpointReply::error("invalid_request", "Use POST.");
            r.status = 405;
            r.headers.push(("allow", "POST".into()));
            return r;
        }
        let form_type = content_type.and_then(|ct| ct.split(';').next()).map(|ct| {
            ct.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        if form_type != Some(true) {
            return EndpointReply::error(
                "invalid_request",
                "The body must be application/x-www-form-urlencoded.",
            );
        }
        let mut params: Vec<(String, String)> = Vec::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            if params.iter().any(|(n, _)| *n == k) {
                return EndpointReply::error(
                    "invalid_request",
                    &format!("The parameter `{k}` is repeated."),
                );
            }
            params.push((k.into_owned(), v.into_owned()));
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let client = match self
            .authenticate(authorization, param("client_id"), param("client_secret"))
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if path.ends_with("/revoke") {
            return self.revoke(&client, param("token")).await;
        }
        match param("grant_type") {
            None => EndpointReply::error("invalid_request", "`grant_type` is required."),
            Some("client_credentials") => self.issue(&client).await,
            Some(_) => EndpointReply::error(
                "unsupported_grant_type",
                "Only the client_credentials grant is supported.",
            ),
        }
    }

    /// RFC 6749 §2.3.1: HTTP Basic (form-encoded id and secret) or both in the body, not both.
    async fn authenticate(
        &self,
        authorization: Option<&str>,
        body_id: Option<&str>,
        body_secret: Option<&str>,
    ) -> Result<entity::oauth_client::Model, EndpointReply> {
        let basic = match authorization {
            Some(h) => {
                let Some(b64) = h
                    .strip_prefix("Basic ")
                    .or_else(|| h.strip_prefix("basic "))
                else {
                    return Err(EndpointReply::error(
                        "invalid_client",
                        "Client authentication failed.",
                    ));
                };
                let decoded = STANDARD
                    .decode(b64.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| {
                        let (id, secret) = s.split_once(':')?;
                        let dec = |x: &str| {
                            url::form_urlencoded::parse(format!("x={x}").as_bytes())
                                .next()
                                .map(|(_, v)| v.into_owned())
                        };
                        Some((dec(id)?, dec(secret)?))
                    });
                match decoded {
                    Some(pair) => Some(pair),
                    None => {
                        return Err(EndpointReply::error(
                            "invalid_client",
                            "Client authentication failed.",
                        ));
                    }
                }
            }
            None => None,
        };
        let (id, secret) = match (basic, body_id, body_secret) {
            (Some(_), _, Some(_)) => {
                return Err(EndpointReply::error(
                    "invalid_request",
                    "Use one client authentication method, not two.",
                ));
            }
            (Some(pair), _, None) => pair,
            (None, Some(id), Some(secret)) => (id.to_string(), secret.to_string()),
            (None, _, _) => {
                return Err(EndpointReply::error(
                    "invalid_client",
                    "Client authentication failed.",
                ));
            }
        };
        let found = self.store.find_oauth_client(&id).await.map_err(|e| {
            tracing::error!("token endpoint: {e}");
            EndpointReply::error("server_error", "Internal error.")
        })?;
        match found {
            Some(c) if c.secret_hash == self.secret_hash(&secret) => Ok(c),
            _ => Err(EndpointReply::error(
                "invalid_client",
                "Client authentication failed.",
            )),
        }
    }

    async fn issue(&self, client: &entity::oauth_client::Model) -> EndpointReply {
        let ttl = i64::try_from(self.ttl_secs).unwrap_or(3600);
        let exp = chrono::Utc::now().timestamp() + ttl;
        let Some(token) = self.issue_token(client.id, client.client_key_id, exp) else {
            return EndpointReply::error("server_error", "Internal error.");
        };
        let expires_at = chrono::DateTime::from_timestamp(exp, 0).unwrap_or_default();
        if let Err(e) = self
            .store
            .insert_access_token(client.id, self.token_hash(&token), expires_at)
            .await
        {
            tracing::error!("token endpoint: {e}");
            return EndpointReply::error("server_error", "Internal error.");
        }
        EndpointReply::json(
            200,
            serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl}),
        )
    }

    /// RFC 7009: 200 whether or not the token was valid; only the client's own tokens.
    async fn revoke(
        &self,
        client: &entity::oauth_client::Model,
        token: Option<&str>,
    ) -> EndpointReply {
        let Some(token) = token else {
            return EndpointReply::error("invalid_request", "`token` is required.");
        };
        let hash = self.token_hash(token);
        match self.store.revoke_access_token(client.id, &hash).await {
            Ok(true) => {
                self.revoked.rcu(|cur| {
                    let mut tokens = cur.tokens.clone();
                    tokens.insert(hash.clone());
                    Revoked {
                        clients: cur.clients.clone(),
                        tokens,
                    }
                });
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!("revocation endpoint: {e}");
                return EndpointReply::error("server_error", "Internal error.");
            }
        }
        EndpointReply {
            status: 200,
            headers: vec![("cache-control", "no-store".into())],
            body: String::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::DatabaseKind;
    use std::time::Duration;

    async fn inbound() -> Inbound {
        let store = Store::connect("sqlite::memory:", DatabaseKind::Sqlite, None, 1)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let jwt = JwtIssuers::new(
            store.clone(),
            reqwest::Client::new(),
            Duration::from_secs(60),
            Duration::from_secs(1),
        );
        Inbound::new(store, MasterKey::generate(), 60, Arc::new(jwt))
    }

    #[tokio::test]
    async fn issued_tokens_verify_until_they_expire_and_only_unaltered() {
        let ib = inbound().await;
        let now = 1_000_000;
        let token = ib.issue_token(3, 42, now + 10).unwrap();
        assert!(token.starts_with(ACCESS_TOKEN_PREFIX));
        assert_eq!(ib.verify_access_token(&token, now), Some(42));
        assert_eq!(ib.verify_access_token(&token, now + 10), None, "expired");
        // Any change to any byte is refused.
        let raw = URL_SAFE_NO_PAD
            .decode(token.strip_prefix(ACCESS_TOKEN_PREFIX).unwrap())
            .unwrap();
        for i in [0, 8, 15, 16, 23, 30, PAYLOAD_LEN, raw.len() - 1] {
            let mut bad = raw.clone();
            bad[i] ^= 1;
            let forged = format!("{ACCESS_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(&bad));
            assert_eq!(ib.verify_access_token(&forged, now), None, "byte {i}");
        }
        assert_eq!(ib.verify_access_token("tgo_", now), None);
        assert_eq!(ib.verify_access_token("tgo_!!!", now), None);
        // Another master key's token is foreign.
        let other = inbound().await;
        let foreign = other.issue_token(3, 42, now + 10).unwrap();
        assert_eq!(ib.verify_access_token(&foreign, now), None);
    }

    #[tokio::test]
    async fn revoked_clients_and_tokens_are_refused() {
        let ib = inbound().await;
        let now = chrono::Utc::now().timestamp();
        let a = ib.issue_token(1, 42, now + 60).unwrap();
        let b = ib.issue_token(2, 42, now + 60).unwrap();
        ib.revoked.store(Arc::new(Revoked {
            clients: HashSet::from([1]),
            tokens: HashSet::new(),
        }));
        assert_eq!(ib.verify_access_token(&a, now), None);
        assert_eq!(ib.verify_access_token(&b, now), Some(42));
        ib.revoked.store(Arc::new(Revoked {
            clients: HashSet::new(),
            tokens: HashSet::from([ib.token_hash(&b)]),
        }));
        assert_eq!(ib.verify_access_token(&b, now), None);
        assert_eq!(ib.resolve("tg-a-client-key").await, Resolution::NotOAuth);
        assert_eq!(ib.resolve(&a).await, Resolution::ClientKey(42));
    }

    #[tokio::test]
    async fn the_token_endpoint_answers_rfc_6749_errors() {
        let ib = inbound().await;
        let form = Some("application/x-www-form-urlencoded");
        let call = |method: &'static str, auth: Option<&'static str>, ct, body: &'static str| {
            let ib = &ib;
            async move {
                ib.endpoint("/oauth/token", method, auth, ct, body.as_bytes())
                    .await
            }
        };
        let r = call("GET", None, form, "").await;
        assert_eq!(r.status, 405);
        let r = call("POST", None, Some("application/json"), "{}").await;
        assert_eq!((r.status, r.body.contains("invalid_request")), (400, true));
        let r = call("POST", None, form, "grant_type=client_credentials").await;
        assert_eq!((r.status, r.body.contains("invalid_client")), (401, true));
        assert!(r.headers.iter().any(|(n, _)| *n == "www-authenticate"));
        let r = call("POST", None, form, "grant_type=a&grant_type=b").await;
        assert_eq!((r.status, r.body.contains("repeated")), (400, true));
        let r = call(
            "POST",
            Some("Bearer x"),
            form,
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(r.status, 401);
        let r = call(
            "POST",
            None,
            form,
            "grant_type=client_credentials&client_id=tgc_nobody&client_secret=x",
        )
        .await;
        assert_eq!(r.status, 401);
        assert!(
            r.headers
                .iter()
                .any(|(n, v)| *n == "cache-control" && v == "no-store")
        );
    }
}
