//! The master key: AES-256-GCM for provider secrets and HMAC-derived subkeys (client-key hash, JWT).

use super::AuthError;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

type HmacSha256 = Hmac<Sha256>;

/// 32 secret bytes from configuration or the generated key file.
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    pub fn from_base64(text: &str) -> Option<Self> {
        let raw = STANDARD.decode(text.trim()).ok()?;
        let bytes: [u8; 32] = raw.try_into().ok()?;
        Some(Self { bytes })
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self { bytes }
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// A subkey for one purpose, so no two uses share key material.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        if let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(&self.bytes) {
            mac.update(b"tollgate/");
            mac.update(purpose.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    /// Encrypts a secret: base64(nonce || ciphertext+tag).
    pub fn encrypt(&self, plaintext: &str) -> Result<String, AuthError> {
        let cipher =
            Aes256Gcm::new_from_slice(&self.derive("secrets/v1")).map_err(|_| AuthError::Crypto)?;
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| AuthError::Crypto)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(STANDARD.encode(out))
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, AuthError> {
        let raw = STANDARD.decode(stored).map_err(|_| AuthError::Crypto)?;
        if raw.len() < 12 + 16 {
            return Err(AuthError::Crypto);
        }
        let (nonce, ct) = raw.split_at(12);
        let cipher =
            Aes256Gcm::new_from_slice(&self.derive("secrets/v1")).map_err(|_| AuthError::Crypto)?;
        let pt = cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| AuthError::Crypto)?;
        String::from_utf8(pt).map_err(|_| AuthError::Crypto)
    }

    /// Keyed hash of a client key (hex); what the database stores instead of the key.
    pub fn hash_client_key(&self, key: &str) -> String {
        self.keyed_hash("client-keys/v1", key)
    }

    /// Keyed hash of a session token (refresh token, hex); what the database stores instead.
    pub fn hash_token(&self, token: &str) -> String {
        self.keyed_hash("session-tokens/v1", token)
    }

    /// Keyed hash (hex) for one named purpose: OAuth states, client secrets, issued tokens.
    pub fn hash_for(&self, purpose: &str, value: &str) -> String {
        self.keyed_hash(purpose, value)
    }

    fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        let sub = self.derive(purpose);
        match <HmacSha256 as Mac>::new_from_slice(&sub) {
            Ok(mut mac) => {
                mac.update(value.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Err(_) => String::new(),
        }
    }
}

/// Reads the key file beside an SQLite database, creating it (mode 0600) on first start.
pub fn load_or_create_master_key(path: &Path) -> Result<(MasterKey, bool), AuthError> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AuthError::MasterKey(format!("cannot read {}: {e}", path.display())))?;
        let key = MasterKey::from_base64(&text).ok_or_else(|| {
            AuthError::MasterKey(format!(
                "{} does not hold a base64 32-byte key",
                path.display()
            ))
        })?;
        return Ok((key, false));
    }
    let key = MasterKey::generate();
    write_owner_only(path, key.to_base64().as_bytes())
        .map_err(|e| AuthError::MasterKey(format!("cannot create {}: {e}", path.display())))?;
    Ok((key, true))
}

fn write_owner_only(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_round_trips_and_is_randomised() {
        let k = MasterKey::generate();
        let a = k.encrypt("sk-secret").unwrap();
        let b = k.encrypt("sk-secret").unwrap();
        assert_ne!(a, b);
        assert!(!a.contains("sk-secret"));
        assert_eq!(k.decrypt(&a).unwrap(), "sk-secret");
        assert!(MasterKey::generate().decrypt(&a).is_err());
        assert!(k.decrypt("garbage").is_err());
    }

    #[test]
    fn client_key_hash_is_keyed() {
        let k1 = MasterKey::generate();
        let k2 = MasterKey::generate();
        assert_eq!(k1.hash_client_key("tg-x"), k1.hash_client_key("tg-x"));
        assert_ne!(k1.hash_client_key("tg-x"), k2.hash_client_key("tg-x"));
        assert_eq!(k1.hash_client_key("tg-x").len(), 64);
        // Each purpose has its own subkey.
        assert_ne!(k1.hash_token("tg-x"), k1.hash_client_key("tg-x"));
        assert_eq!(k1.hash_token("r"), k1.hash_token("r"));
    }

    #[test]
    fn key_file_is_created_owner_only_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (k1, created) = load_or_create_master_key(&path).unwrap();
        assert!(created);
        let (k2, created) = load_or_create_master_key(&path).unwrap();
        assert!(!created);
        assert_eq!(k1.to_base64(), k2.to_base64());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(MasterKey::from_base64("c2hvcnQ=").is_none());
    }
}
