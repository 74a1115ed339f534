//! Ed25519 key-pair login: public keys as standard base64 or OpenSSH lines, signatures over the
//! raw nonce bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};

/// A public key as registered: its canonical form and, from an OpenSSH line, the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyText {
    /// Standard base64 of the 32-byte key.
    pub key: String,
    /// The OpenSSH line's comment (`ssh-ed25519 AAAA… comment`), trimmed; none when empty.
    pub comment: Option<String>,
}

const SSH_ED25519: &[u8] = b"ssh-ed25519";

/// Parses and checks a public key given as base64 of its 32 bytes, or as an OpenSSH public-key
/// line (`ssh-ed25519 AAAA… [comment]`, as in `id_ed25519.pub`); returns it in canonical form.
/// Keys that are not valid curve points, or are of small order, are refused, and so are
/// OpenSSH lines of another algorithm or whose blob disagrees with its type.
pub fn parse_public_key(text: &str) -> Option<PublicKeyText> {
    let text = text.trim();
    let (bytes, comment) = match text.strip_prefix("ssh-ed25519") {
        Some(rest) if rest.starts_with(char::is_whitespace) => {
            let rest = rest.trim_start();
            let (blob, comment) = rest
                .split_once(char::is_whitespace)
                .map_or((rest, ""), |(b, c)| (b, c.trim()));
            let key = openssh_blob_key(&STANDARD.decode(blob).ok()?)?;
            (key, Some(comment).filter(|c| !c.is_empty()))
        }
        _ => {
            let raw = STANDARD.decode(text).ok()?;
            (raw.try_into().ok()?, None)
        }
    };
    let key = VerifyingKey::from_bytes(&bytes).ok()?;
    if key.is_weak() {
        return None;
    }
    Some(PublicKeyText {
        key: STANDARD.encode(key.as_bytes()),
        comment: comment.map(str::to_string),
    })
}

/// The key in an OpenSSH Ed25519 public-key blob: `string "ssh-ed25519"`, `string key[32]`
/// (RFC 4253 strings: a big-endian u32 length, then the bytes), and nothing after.
fn openssh_blob_key(blob: &[u8]) -> Option<[u8; 32]> {
    fn string(input: &[u8]) -> Option<(&[u8], &[u8])> {
        let (len, rest) = input.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        (rest.len() >= len).then(|| rest.split_at(len))
    }
    let (kind, rest) = string(blob)?;
    let (key, rest) = string(rest)?;
    if kind != SSH_ED25519 || !rest.is_empty() {
        return None;
    }
    key.try_into().ok()
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
        assert_eq!(
            parse_public_key(&public),
            Some(PublicKeyText {
                key: public.clone(),
                comment: None
            })
        );
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

    /// `ssh-ed25519 BLOB` for these 32 bytes, with the blob's parts as given.
    fn openssh_line(kind: &[u8], key: &[u8], trailer: &[u8]) -> String {
        let mut blob = Vec::new();
        for part in [kind, key] {
            blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
            blob.extend_from_slice(part);
        }
        blob.extend_from_slice(trailer);
        format!("ssh-ed25519 {}", STANDARD.encode(blob))
    }

    #[test]
    fn openssh_lines_are_read_with_their_comment() {
        let signer = SigningKey::from_bytes(&[7u8; 32]);
        let raw = signer.verifying_key().to_bytes();
        let public = STANDARD.encode(raw);
        let line = openssh_line(SSH_ED25519, &raw, b"");
        // What `ssh-keygen -y` prints for this key, byte for byte.
        assert!(line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
        let parsed = parse_public_key(&format!("  {line}  ops@laptop (work)\n")).unwrap();
        assert_eq!(parsed.key, public);
        assert_eq!(parsed.comment.as_deref(), Some("ops@laptop (work)"));
        let bare = parse_public_key(&line).unwrap();
        assert_eq!(bare.key, public);
        assert_eq!(bare.comment, None);
        assert_eq!(
            parse_public_key(&format!("{line}\t")).unwrap().comment,
            None
        );
        // Another type inside, extra bytes, a short key, bad base64, another algorithm's line.
        assert!(parse_public_key(&openssh_line(b"ssh-rsa", &raw, b"")).is_none());
        assert!(parse_public_key(&openssh_line(SSH_ED25519, &raw, b"x")).is_none());
        assert!(parse_public_key(&openssh_line(SSH_ED25519, &raw[..31], b"")).is_none());
        assert!(parse_public_key("ssh-ed25519 not-base64! c").is_none());
        assert!(parse_public_key("ssh-ed25519").is_none());
        assert!(parse_public_key(&format!("ssh-ed25519{public}")).is_none());
        let rsa_line = line.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(parse_public_key(&rsa_line).is_none());
        // A length that runs past the blob.
        let mut blob = (11u32).to_be_bytes().to_vec();
        blob.extend_from_slice(SSH_ED25519);
        blob.extend_from_slice(&(64u32).to_be_bytes());
        blob.extend_from_slice(&raw);
        assert!(parse_public_key(&format!("ssh-ed25519 {}", STANDARD.encode(blob))).is_none());
        // Small-order keys are refused in this form too.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(parse_public_key(&openssh_line(SSH_ED25519, &identity, b"")).is_none());
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
