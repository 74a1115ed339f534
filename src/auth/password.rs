//! Password hashing with argon2id, on a bounded pool: at most `slots` hashes or checks run at
//! once, each on a memory block buffer (19 MiB with the default parameters). While checks keep
//! coming a finished check's buffer is kept for the next; the last one running frees it, so an
//! idle process holds none (the binary pins glibc's mmap threshold, so a freed buffer goes back
//! to the system rather than to a per-thread arena — unbounded, that once grew the process by
//! gigabytes under a flood of logins).

use super::AuthError;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// A stored hash asking for more memory than this (256 MiB) is refused rather than honoured:
/// Tollgate only ever writes the default (19 MiB).
const MAX_BLOCKS: usize = 256 * 1024;

/// Every password check and hash in the process goes through here.
pub struct Passwords {
    slots: Arc<Semaphore>,
    size: usize,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    wait: Duration,
}

/// All slots stayed busy for the whole wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl Passwords {
    /// `slots` checks at once (at least 1); a check waits at most `wait` for a free slot.
    pub fn new(slots: usize, wait: Duration) -> Self {
        let slots = slots.max(1);
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            size: slots,
            buffers: Arc::new(Mutex::new(Vec::with_capacity(slots))),
            wait,
        }
    }

    /// Runs `work` on a pooled buffer in a blocking thread. The slot is released only when the
    /// work ends, even if the caller stopped waiting, so no more than `slots` buffers ever exist.
    async fn run<R: Send + 'static>(
        &self,
        wait: Option<Duration>,
        work: impl FnOnce(&mut Vec<Block>) -> R + Send + 'static,
    ) -> Result<R, Busy> {
        let permit = match wait {
            Some(wait) => tokio::time::timeout(wait, self.slots.clone().acquire_owned())
                .await
                .map_err(|_| Busy)?,
            None => self.slots.clone().acquire_owned().await,
        }
        .map_err(|_| Busy)?;
        let (buffers, size, slots) = (self.buffers.clone(), self.size, self.slots.clone());
        tokio::task::spawn_blocking(move || {
            let mut buffer = lock(&buffers).pop().unwrap_or_default();
            let result = work(&mut buffer);
            // What the last check left behind is not kept around in memory.
            buffer.fill(Block::new());
            let mut pool = lock(&buffers);
            // Kept only while other checks hold a slot (this one still holds its own permit).
            let busy = slots.available_permits() + 1 < size;
            if busy && pool.len() < size {
                pool.push(buffer);
            } else if !busy {
                pool.clear();
            }
            drop(pool);
            drop(permit);
            result
        })
        .await
        .map_err(|_| Busy)
    }

    /// Checks `password` against the stored PHC string; `None` (no such user) spends the same
    /// work. `Err(Busy)` when no slot freed up within the configured wait.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Busy> {
        self.run(Some(self.wait), move |buffer| {
            verify_with(buffer, &password, stored.as_deref())
        })
        .await
    }

    /// Hashes a new password (waits for a slot as long as it takes).
    pub async fn hash(&self, password: String) -> Result<String, AuthError> {
        self.run(None, move |buffer| hash_with(buffer, &password))
            .await
            .map_err(|_| AuthError::Crypto)?
    }

    /// Buffers kept for reuse now (at most the number of slots).
    pub fn pooled_buffers(&self) -> usize {
        lock(&self.buffers).len()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The first `blocks` blocks of `buffer`, growing it when a hash needs more.
fn blocks(buffer: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if buffer.len() < blocks {
        buffer.resize(blocks, Block::new());
    }
    &mut buffer[..blocks]
}

/// Hashes with the default parameters (argon2id, m = 19 MiB, t = 2, p = 1) into a PHC string.
fn hash_with(buffer: &mut Vec<Block>, password: &str) -> Result<String, AuthError> {
    let params = Params::default();
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|_| AuthError::Crypto)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            blocks(buffer, params.block_count()),
        )
        .map_err(|_| AuthError::Crypto)?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| AuthError::Crypto)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| AuthError::Crypto)?),
    };
    Ok(phc.to_string())
}

/// The check itself: the stored hash's own algorithm, version, parameters and salt, and a
/// constant-time comparison of the outputs.
fn verify_with(buffer: &mut Vec<Block>, password: &str, stored: Option<&str>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0mD2eQK+Wb7rjMgVc4iEe1ia3f3cTvuYqnaPnp4TiGQ";
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (DUMMY, false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.block_count() > MAX_BLOCKS {
        tracing::error!(
            m_cost = params.m_cost(),
            "a stored password hash asks for more argon2 memory than allowed; refused"
        );
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password.as_bytes(),
        salt_bytes,
        &mut out,
        blocks(buffer, params.block_count()),
    );
    let Ok(actual) = hashed
        .map_err(|_| ())
        .and_then(|()| Output::new(&out).map_err(|_| ()))
    else {
        return false;
    };
    // `Output`'s equality is constant-time.
    actual == expected && real
}

/// Hashes on a buffer of its own (start-up only; everything else uses [`Passwords`]).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    hash_with(&mut Vec::new(), password)
}

/// Verifies on a buffer of its own (start-up and tests; everything else uses [`Passwords`]).
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    verify_with(&mut Vec::new(), password, stored)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn verifies_only_the_right_password() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse", Some(&h)));
        assert!(!verify_password("wrong", Some(&h)));
        assert!(!verify_password("correct horse", None));
        assert!(!verify_password("correct horse", Some("not a hash")));
    }

    #[test]
    fn agrees_with_the_argon2_crate_both_ways() {
        // Ours verifies theirs (other parameters too), theirs verifies ours.
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 3, 2, None).unwrap(),
        )
        .hash_password(b"pw-theirs", &salt)
        .unwrap()
        .to_string();
        assert!(verify_password("pw-theirs", Some(&theirs)));
        assert!(!verify_password("pw-other", Some(&theirs)));
        let ours = hash_password("pw-ours").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"pw-ours", &parsed)
                .is_ok()
        );
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::default())
            .hash_password(b"old", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password("old", Some(&argon2i)));
    }

    #[test]
    fn a_reused_buffer_gives_the_same_answers() {
        let a = hash_password("first password").unwrap();
        let b = hash_password("second password").unwrap();
        let mut buffer = Vec::new();
        for _ in 0..2 {
            assert!(verify_with(&mut buffer, "first password", Some(&a)));
            assert!(!verify_with(&mut buffer, "first password", Some(&b)));
            assert!(verify_with(&mut buffer, "second password", Some(&b)));
        }
        assert_eq!(buffer.len(), Params::default().block_count());
    }

    #[tokio::test]
    async fn the_pool_bounds_concurrent_checks_and_frees_its_buffers_when_idle() {
        let pool = Arc::new(Passwords::new(2, Duration::from_millis(0)));
        let h = pool.hash("pooled password".into()).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (pool, h) = (pool.clone(), h.clone());
            tasks.push(tokio::spawn(async move {
                pool.verify("pooled password".into(), Some(h)).await
            }));
        }
        let mut busy = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(ok) => assert!(ok),
                Err(Busy) => busy += 1,
            }
        }
        // With no wait, at most two ran at once and the others were turned away.
        assert!(busy >= 1, "{busy}");
        // Nothing runs any more: no 19 MiB buffer is kept.
        assert_eq!(pool.pooled_buffers(), 0);
        let patient = Passwords::new(1, Duration::from_secs(60));
        assert_eq!(
            patient.verify("pooled password".into(), Some(h)).await,
            Ok(true)
        );
    }
}
