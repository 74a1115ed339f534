//! JWT access tokens for the management API (HS256 under a key derived from the master key).

use super::{AuthError, MasterKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// user id, as a string (RFC 7519)
    pub sub: String,
    /// user id
    pub uid: i64,
    pub name: String,
    /// The user's role name (a built-in or custom role).
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    /// Issue time in milliseconds: sessions are cut off at a precise instant, which whole
    /// seconds cannot express.
    #[serde(default)]
    pub iat_ms: i64,
}

impl Claims {
    /// When the token was issued, in Unix milliseconds.
    pub fn issued_ms(&self) -> i64 {
        if self.iat_ms > 0 {
            self.iat_ms
        } else {
            self.iat.saturating_mul(1000)
        }
    }
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub ttl_secs: u64,
}

impl JwtKeys {
    pub fn new(master: &MasterKey, ttl_secs: u64) -> Self {
        let secret = master.derive("jwt/v1");
        Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            ttl_secs,
        }
    }

    pub fn issue(&self, user_id: i64, name: &str, role: &str) -> Result<String, AuthError> {
        self.issue_at(user_id, name, role, chrono::Utc::now().timestamp_millis())
    }

    /// Issues a token with the given issue time (Unix milliseconds); it expires `ttl_secs`
    /// later.
    pub fn issue_at(
        &self,
        user_id: i64,
        name: &str,
        role: &str,
        iat_ms: i64,
    ) -> Result<String, AuthError> {
        let iat = iat_ms.div_euclid(1000);
        let claims = Claims {
            sub: user_id.to_string(),
            uid: user_id,
            name: name.to_string(),
            role: role.to_string(),
            iat,
            exp: iat + self.ttl_secs as i64,
            iat_ms,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| AuthError::Crypto)
    }

    /// Only HS256 with our key and an unexpired `exp` passes; `alg: none` never does.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|_| AuthError::InvalidToken)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn issued_tokens_verify_and_forgeries_do_not() {
        let master = MasterKey::generate();
        let keys = JwtKeys::new(&master, 3600);
        let token = keys.issue(7, "alice", "member").unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.uid, claims.role.as_str()), (7, "member"));

        // another key
        let other = JwtKeys::new(&MasterKey::generate(), 3600);
        assert!(other.verify(&token).is_err());

        // alg: none with the same claims
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = token.split('.').nth(1).unwrap();
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            payload
        );
        assert!(keys.verify(&none).is_err());

        // expired
        let now = chrono::Utc::now().timestamp();
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "7".into(),
                uid: 7,
                name: "a".into(),
                role: "admin".into(),
                iat: now - 100,
                exp: now - 10,
                iat_ms: 0,
            },
            &EncodingKey::from_secret(&master.derive("jwt/v1")),
        )
        .unwrap();
        assert!(keys.verify(&expired).is_err());
    }
}
