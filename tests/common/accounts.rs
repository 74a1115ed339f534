//! Helpers for users, sessions and forged tokens.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Tollgate;
use serde_json::{Value, json};

/// A fixed master key, so tests can forge tokens signed with Tollgate's own JWT key.
pub const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Tollgate's JWT signing key under [`MASTER_KEY`]: HMAC-SHA256(master, "tollgate/jwt/v1").
pub fn jwt_secret() -> Vec<u8> {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let master = base64::engine::general_purpose::STANDARD
        .decode(MASTER_KEY)
        .unwrap();
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&master).unwrap();
    mac.update(b"tollgate/jwt/v1");
    mac.finalize().into_bytes().to_vec()
}

/// An HS256 token over `claims` with the given key.
pub fn sign_jwt(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .unwrap()
}

pub fn claims(uid: i64, role: &str, iat: i64, exp: i64) -> Value {
    json!({"sub": uid.to_string(), "uid": uid, "name": "x", "role": role, "iat": iat, "exp": exp})
}

impl Tollgate {
    /// A management call with the given bearer token (or none).
    pub async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{}", self.admin, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST /api/auth/login`: status and body.
    pub async fn login_user(&self, username: &str, password: &str) -> (u16, Value) {
        self.call(
            None,
            "POST",
            "/api/auth/login",
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    /// Logs in and returns the access token.
    pub async fn session(&self, username: &str, password: &str) -> String {
        let (s, v) = self.login_user(username, password).await;
        assert_eq!(s, 200, "login {username}: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// Creates a user as the admin; returns its id.
    pub async fn create_user(&self, username: &str, password: &str, role: &str) -> i64 {
        let (s, v) = self
            .api(
                "POST",
                "/api/users",
                Some(json!({"username": username, "password": password, "role": role})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_i64().unwrap()
    }
}
