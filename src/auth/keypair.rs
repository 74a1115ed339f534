//! Ed25519 key-pair login: public keys as standard base64, signatures over the raw nonce bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};

/// Parses and checks a public key given as base64 of its 32 bytes; returns it in canonical
/// form. Keys that are not valid curve points, or are of small order, are refused.
pub fn parse_public_key(text: &str) -> Option<String> {
    let raw = STANDARD.decode(text.trim()).ok()?;
    let bytes: [u8; 32] = raw.try_into().ok()?;
    let key = VerifyingKey::from_bytes(&bytes).ok()?;
    if key.is_weak() {
        return None;
    }
    Some(STANDARD.encode(key.as_bytes()))
}

/// A short, stable name for a public key: the first 16 hex digits of its SHA-256.
pub fn fingerprint(public_key_b64: &str) -> String {
    use sha2::{Digest, Sha256};
    let raw = STANDARD.decode(public_key_b64).unwrap_or_default();
    let digest = Sha256::digest(&raw);
    hex::encode(&digest[..8])
}

/// True when `signature_b64` is a valid (strict) Ed25519 signature of `message` by the key.
pub fn verify_signature(public_key_b64: &str, message: &[u8], signature_b64: &str) -> bool {
    let Some(key) = STANDARD
        .decode(public_key_b64)
        .ok()
        .and_then(|raw| <[u8; 32]>::try_from(raw).ok())
        .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
    else {
        return false;
    };
    let Some(signature) = STANDARD
        .decode(signature_b64.trim())
        .ok()
        .and_then(|raw| <[u8; 64]>::try_from(raw).ok())
        .map(|bytes| Signature::from_bytes(&bytes))
    else {
        return false;
    };
    key.verify_strict(message, &signature).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn signatures_verify_only_for_their_key_and_message() {
        let signer = SigningKey::from_bytes(&[7u8; 32]);
        let public = STANDARD.encode(signer.verifying_key().as_bytes());
        assert_eq!(parse_public_key(&public).as_deref(), Some(public.as_str()));
        let sig = STANDARD.encode(signer.sign(b"nonce").to_bytes());
        assert!(verify_signature(&public, b"nonce", &sig));
        assert!(!verify_signature(&public, b"other", &sig));
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let other_public = STANDARD.encode(other.verifying_key().as_bytes());
        assert!(!verify_signature(&other_public, b"nonce", &sig));
        assert!(!verify_signature(&public, b"nonce", "not base64"));
        assert!(!verify_signature(
            &public,
            b"nonce",
            &STANDARD.encode([0u8; 64])
        ));
        assert_eq!(fingerprint(&public).len(), 16);
    }

    #[test]
    fn bad_public_keys_are_refused() {
        assert!(parse_public_key("c2hvcnQ=").is_none());
        assert!(parse_public_key("not base64!").is_none());
        // The identity point has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(parse_public_key(&STANDARD.encode(identity)).is_none());
    }
}
