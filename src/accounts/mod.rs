//! Management accounts: who may use port 9090 and how they prove it — users and roles,
//! password and key-pair login, access and refresh tokens, lockout, and public keys.

mod guard;
pub mod permissions;
mod roles;
mod rules;
mod sessions;
mod users;

pub use guard::LoginCounters;
pub use permissions::{BuiltinRole, Permission, Permissions};
pub use roles::RoleInfo;
pub use sessions::{Session, TokenPair};
pub use users::{NewUserInput, UserChanges};

use crate::auth::{JwtKeys, LoginLockout, MasterKey, Passwords};
use crate::config::AdminConfig;
use crate::store::{Store, StoreError};
use guard::LoginGuard;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong username, password, signature or challenge; the same answer whatever the reason.
    #[error("invalid username or password")]
    BadLogin,
    /// Like `BadLogin` to the caller; kept apart so the audit trail can tell.
    #[error("invalid username or password")]
    LockedOut,
    /// Like `BadLogin` to the caller: this failure locked the username (audited once).
    #[error("invalid username or password")]
    LockoutStarted,
    /// Too many attempts from this address or for this username, every password check slot
    /// busy, or too many live challenges: try again after `retry_after`.
    #[error("too many attempts")]
    TooManyAttempts { retry_after: Duration },
    /// A missing, forged, expired or revoked token.
    #[error("invalid or expired token")]
    Unauthorized,
    /// A rotated refresh token was presented again: its whole family is now revoked.
    #[error("invalid or expired token")]
    TokenReused { user_id: i64 },
    #[error("`{field}` {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Allowed in general, but not this: e.g. granting a permission the caller lacks.
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("store: {0}")]
    Store(StoreError),
    #[error("internal error")]
    Internal,
}

impl AccountError {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AccountError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AccountError::NotFound,
            StoreError::Conflict(m) => AccountError::Conflict(m),
            other => AccountError::Store(other),
        }
    }
}

/// The accounts service: owns the lockout state, the login protections and the token settings.
pub struct Accounts {
    store: Store,
    master: MasterKey,
    jwt: JwtKeys,
    lockout: LoginLockout,
    guard: LoginGuard,
    passwords: Passwords,
    refresh_ttl: chrono::Duration,
    challenge_ttl: chrono::Duration,
    challenges_per_user: u64,
    challenges_max: u64,
}

impl Accounts {
    pub fn new(store: Store, master: MasterKey, jwt: JwtKeys, config: &AdminConfig) -> Self {
        let secs = |s: u64| {
            i64::try_from(s)
                .ok()
                .and_then(chrono::Duration::try_seconds)
                .unwrap_or(chrono::Duration::MAX)
        };
        Self {
            store,
            master,
            jwt,
            lockout: LoginLockout::new(
                config.lockout_attempts,
                Duration::from_secs(config.lockout_secs),
            ),
            guard: LoginGuard::new(
                config.login_per_address_per_minute,
                config.login_per_username_per_minute,
            ),
            passwords: Passwords::new(
                config.password_check_slots as usize,
                Duration::from_millis(config.password_check_wait_ms),
            ),
            refresh_ttl: secs(config.refresh_ttl_secs),
            challenge_ttl: secs(config.challenge_ttl_secs),
            challenges_per_user: config.challenges_per_username,
            challenges_max: config.challenges_max,
        }
    }

    /// Failed and refused login attempts since start (for metrics).
    pub fn login_counters(&self) -> LoginCounters {
        self.guard.counters()
    }

    pub fn access_ttl_secs(&self) -> u64 {
        self.jwt.ttl_secs
    }
}
