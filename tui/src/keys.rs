//! Ed25519 key pairs in OpenSSH format: `keygen`, loading (passphrase-protected too), and
//! signing a sign-in challenge's raw nonce bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use ssh_key::{Algorithm, LineEnding, PrivateKey};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Format(String),
    #[error("{path} is protected by a passphrase, and {why}")]
    Passphrase { path: PathBuf, why: String },
}

/// Where the passphrase of an encrypted key comes from.
#[derive(Debug, Clone)]
pub enum Passphrase {
    /// Asked on the terminal (`/dev/tty`), before the TUI starts.
    Prompt,
    /// Read from this environment variable (scripts and tests).
    Env(String),
    /// Given by the caller.
    Value(String),
}

/// A loaded key: signs challenges; knows its public half.
pub struct KeyPair {
    signing: SigningKey,
    comment: String,
}

impl KeyPair {
    /// Standard base64 of the 32-byte public key (the form the API lists).
    pub fn public_base64(&self) -> String {
        STANDARD.encode(self.signing.verifying_key().as_bytes())
    }

    /// `ssh-ed25519 AAAA… comment`, as in a `.pub` file.
    pub fn public_line(&self) -> String {
        public_line(self.signing.verifying_key().as_bytes(), &self.comment)
    }

    /// The API's fingerprint of the key: the first 16 hex digits of SHA-256 over its 32 bytes.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.signing.verifying_key().as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Standard base64 of the signature over `message` (the challenge's decoded bytes).
    pub fn sign_base64(&self, message: &[u8]) -> String {
        STANDARD.encode(self.signing.sign(message).to_bytes())
    }

    pub fn from_signing_key(signing: SigningKey, comment: &str) -> Self {
        Self {
            signing,
            comment: comment.to_string(),
        }
    }
}

/// The OpenSSH public-key line of a raw Ed25519 key.
pub fn public_line(key: &[u8; 32], comment: &str) -> String {
    let mut blob = Vec::with_capacity(51);
    for part in [b"ssh-ed25519".as_slice(), key.as_slice()] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(part);
    }
    let line = format!("ssh-ed25519 {}", STANDARD.encode(blob));
    if comment.trim().is_empty() {
        line
    } else {
        format!("{line} {}", comment.trim())
    }
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> KeyError {
    KeyError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes a new key pair: the private key in OpenSSH format at `path` (mode 0600, optionally
/// encrypted with `passphrase`) and the public line at `path.pub`. Refuses to overwrite unless
/// `force`. Returns the public line.
pub fn generate(
    path: &Path,
    comment: &str,
    passphrase: Option<&str>,
    force: bool,
) -> Result<String, KeyError> {
    let mut rng = rand_core::OsRng;
    let mut private = PrivateKey::random(&mut rng, Algorithm::Ed25519)
        .map_err(|e| KeyError::Format(format!("cannot generate a key: {e}")))?;
    private.set_comment(comment);
    let public = private
        .public_key()
        .to_openssh()
        .map_err(|e| KeyError::Format(e.to_string()))?;
    if let Some(passphrase) = passphrase {
        private = private
            .encrypt(&mut rng, passphrase)
            .map_err(|e| KeyError::Format(format!("cannot encrypt the key: {e}")))?;
    }
    let text = private
        .to_openssh(LineEnding::LF)
        .map_err(|e| KeyError::Format(e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    write_file(path, text.as_bytes(), 0o600, force)?;
    let pub_path = pub_path(path);
    write_file(&pub_path, format!("{public}\n").as_bytes(), 0o644, force)?;
    Ok(public)
}

/// `PATH.pub`.
pub fn pub_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| file_error(dir, e))
}

fn write_file(path: &Path, bytes: &[u8], mode: u32, force: bool) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            file_error(path, "already exists (use --force to replace it)")
        } else {
            file_error(path, e)
        }
    })?;
    #[cfg(unix)]
    {
        // `mode` applies only to new files; a replaced one gets it here.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| file_error(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(bytes).map_err(|e| file_error(path, e))
}

/// Reads an OpenSSH Ed25519 private key, decrypting it with the passphrase when it has one.
pub fn load(path: &Path, passphrase: &Passphrase) -> Result<KeyPair, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
    let key = PrivateKey::from_openssh(text.trim()).map_err(|e| {
        file_error(
            path,
            format!("not an OpenSSH private key ({e}); make one with `tollgate tui keygen`"),
        )
    })?;
    let key = if key.is_encrypted() {
        let secret = read_passphrase(path, passphrase)?;
        key.decrypt(secret.as_bytes())
            .map_err(|_| KeyError::Passphrase {
                path: path.to_path_buf(),
                why: "the passphrase is wrong".to_string(),
            })?
    } else {
        key
    };
    from_private(path, &key)
}

fn read_passphrase(path: &Path, source: &Passphrase) -> Result<String, KeyError> {
    match source {
        Passphrase::Value(value) => Ok(value.clone()),
        Passphrase::Env(var) => std::env::var(var).map_err(|_| KeyError::Passphrase {
            path: path.to_path_buf(),
            why: format!("the environment variable {var} is not set"),
        }),
        Passphrase::Prompt => {
            rpassword::prompt_password(format!("Passphrase for {}: ", path.display())).map_err(
                |e| KeyError::Passphrase {
                    path: path.to_path_buf(),
                    why: format!("it could not be read from the terminal ({e})"),
                },
            )
        }
    }
}

fn from_private(path: &Path, key: &PrivateKey) -> Result<KeyPair, KeyError> {
    let Some(pair) = key.key_data().ed25519() else {
        return Err(file_error(
            path,
            format!(
                "is an {} key; Tollgate signs in with Ed25519 keys only",
                key.algorithm()
            ),
        ));
    };
    Ok(KeyPair {
        signing: SigningKey::from_bytes(&pair.private.to_bytes()),
        comment: key.comment().to_string(),
    })
}

/// Where a key is looked for when `--key` is not given: Tollgate's own, then OpenSSH's.
pub fn default_paths() -> Vec<PathBuf> {
    let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    let home = PathBuf::from(home);
    vec![
        home.join(".config/tollgate/id_ed25519"),
        home.join(".ssh/id_ed25519"),
    ]
}

/// The path `keygen` writes to when `--out` is not given.
pub fn default_keygen_path() -> Option<PathBuf> {
    default_paths().into_iter().next()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use ed25519_dalek::Verifier;

    #[test]
    fn keygen_writes_a_private_key_only_its_owner_reads_and_a_matching_public_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/id_ed25519");
        let line = generate(&path, "ops@host", None, false).unwrap();
        assert!(line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
        assert!(line.ends_with(" ops@host"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(dir.path().join("sub"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        assert_eq!(
            std::fs::read_to_string(pub_path(&path)).unwrap().trim(),
            line
        );
        let pair = load(&path, &Passphrase::Prompt).unwrap();
        assert_eq!(pair.public_line(), line);
        assert_eq!(pair.fingerprint().len(), 16);
        // The signature is over the raw bytes and verifies with the public half.
        let sig = STANDARD.decode(pair.sign_base64(b"nonce")).unwrap();
        let sig = ed25519_dalek::Signature::from_bytes(&sig.try_into().unwrap());
        assert!(pair.signing.verifying_key().verify(b"nonce", &sig).is_ok());
        // No silent overwrite.
        let again = generate(&path, "x", None, false).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
        let replaced = generate(&path, "x", None, true).unwrap();
        assert_ne!(replaced, line);
    }

    #[test]
    fn passphrase_protected_keys_need_the_right_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_ed25519");
        let line = generate(&path, "enc", Some("correct horse"), false).unwrap();
        let pair = load(&path, &Passphrase::Value("correct horse".into())).unwrap();
        assert_eq!(pair.public_line(), line);
        let err = load(&path, &Passphrase::Value("wrong".into()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("passphrase is wrong"), "{err}");
        let err = load(&path, &Passphrase::Env("TOLLGATE_TUI_UNSET_VAR".into()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("TOLLGATE_TUI_UNSET_VAR is not set"), "{err}");
    }

    #[test]
    fn non_keys_and_other_algorithms_are_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk");
        std::fs::write(&path, "hello").unwrap();
        let err = load(&path, &Passphrase::Prompt).err().unwrap().to_string();
        assert!(err.contains("not an OpenSSH private key"), "{err}");
        let missing = load(&dir.path().join("none"), &Passphrase::Prompt)
            .err()
            .unwrap()
            .to_string();
        assert!(missing.contains("none"), "{missing}");
    }

    #[test]
    fn public_line_matches_the_openssh_encoding() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let ours = public_line(key.verifying_key().as_bytes(), "c");
        let theirs = ssh_key::PublicKey::from(ssh_key::public::Ed25519PublicKey(
            *key.verifying_key().as_bytes(),
        ))
        .to_openssh()
        .unwrap();
        assert_eq!(ours, format!("{theirs} c"));
    }
}
