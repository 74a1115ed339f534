//! Credentials and identities: the master key and what it derives, password hashing, JWTs, client keys.

mod crypto;
mod jwt;
mod keypair;
mod lockout;
mod password;

pub use crypto::{MasterKey, load_or_create_master_key};
pub use jwt::{Claims, JwtKeys};
pub use keypair::{PublicKeyText, fingerprint, parse_public_key, verify_signature};
pub use lockout::LoginLockout;
pub use password::{Busy, Passwords, hash_password, verify_password};

use rand::RngCore;

/// Prefix of every Tollgate-issued client key.
pub const CLIENT_KEY_PREFIX: &str = "tg-";

/// A new random client key (`tg-` + 43 base64url characters: 256 bits).
pub fn generate_client_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    use base64::Engine;
    format!(
        "{CLIENT_KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A new refresh token: 43 base64url characters (256 random bits). Stored only as
/// [`MasterKey::hash_token`].
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// 32 random bytes as standard base64: a key-pair login challenge.
pub fn generate_nonce() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The part of a client key shown in lists (never enough to use it).
pub fn client_key_prefix(key: &str) -> String {
    key.chars().take(10).collect()
}

/// A masked preview of a provider secret: its first 3 and last 4 characters.
pub fn mask_secret(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 10 {
        return "****".to_string();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid or expired token")]
    InvalidToken,
    #[error("cryptography failure")]
    Crypto,
    #[error("master key: {0}")]
    MasterKey(String),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn client_keys_are_random_and_prefixed() {
        let a = generate_client_key();
        let b = generate_client_key();
        assert_ne!(a, b);
        assert!(a.starts_with(CLIENT_KEY_PREFIX));
        assert_eq!(a.len(), 3 + 43);
        assert_eq!(client_key_prefix(&a).len(), 10);
    }

    #[test]
    fn masks_never_reveal_the_middle() {
        assert_eq!(mask_secret("sk-abcdefghijklmnop"), "sk-…mnop");
        assert_eq!(mask_secret("short"), "****");
    }
}
