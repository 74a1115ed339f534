//! Sessions: password and key-pair login, the token pair they give, refresh-token rotation
//! with reuse detection, logout, password change, and checking an access token on each request.

use super::guard::Count;
use super::rules::{MAX_PASSWORD_CHARS, cutoff_now};
use super::{AccountError, Accounts};
use crate::auth::{self, Claims};
use crate::store::{NewRefreshToken, UserPatch};
use base64::Engine;
use chrono::{DateTime, Utc};
use entity::{refresh_token, user};
use std::net::IpAddr;
use std::time::Duration;

/// What a successful login, refresh or password change hands out (no `Debug`: it holds secrets).
#[derive(Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// A token pair and whom it is for.
#[derive(Clone)]
pub struct Session {
    pub user_id: i64,
    pub username: String,
    /// The user still has a password an admin chose (or the bootstrap one).
    pub must_change_password: bool,
    pub tokens: TokenPair,
}

/// Now plus `d`, saturating instead of overflowing.
fn from_now(d: chrono::Duration) -> DateTime<Utc> {
    Utc::now()
        .checked_add_signed(d)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// What a caller is told to wait when every password check slot stayed busy.
const BUSY_RETRY: Duration = Duration::from_secs(1);

impl Accounts {
    /// Checks a password on the bounded pool; too long a password fails without any work.
    async fn check_password(
        &self,
        password: &str,
        stored: Option<String>,
    ) -> Result<bool, AccountError> {
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Ok(false);
        }
        self.passwords
            .verify(password.to_string(), stored)
            .await
            .map_err(|auth::Busy| {
                self.guard.count(Count::Busy);
                AccountError::TooManyAttempts {
                    retry_after: BUSY_RETRY,
                }
            })
    }

    pub(super) async fn hash_password(&self, password: String) -> Result<String, AccountError> {
        self.passwords
            .hash(password)
            .await
            .map_err(|_| AccountError::Internal)
    }

    /// One attempt at an unauthenticated endpoint for `username` from `address`.
    fn admit(&self, address: Option<IpAddr>, username: &str) -> Result<(), AccountError> {
        self.guard
            .admit(address, username)
            .map_err(|retry_after| AccountError::TooManyAttempts { retry_after })
    }

    /// A failed login: counted, and towards the username's lockout.
    fn login_failed(&self, username: &str, error: AccountError) -> AccountError {
        self.guard.count(Count::Failed);
        if matches!(error, AccountError::BadLogin) && self.lockout.record_failure(username) {
            self.guard.count(Count::Lockout);
            tracing::warn!("login locked for a username after repeated failures (this instance)");
            return AccountError::LockoutStarted;
        }
        error
    }

    /// Checks a bearer token: signature, expiry, and against the database — the user exists, is
    /// enabled, and has not cut off sessions since the token was issued. The returned claims
    /// carry the user's current name and role, not those in the token.
    pub async fn authenticate(&self, token: &str) -> Result<Claims, AccountError> {
        let mut claims = self
            .jwt
            .verify(token)
            .map_err(|_| AccountError::Unauthorized)?;
        let user = self
            .store
            .find_user(claims.uid)
            .await?
            .filter(|u| u.enabled)
            .ok_or(AccountError::Unauthorized)?;
        if user
            .sessions_valid_after
            .is_some_and(|after| claims.issued_ms() <= after.timestamp_millis())
        {
            return Err(AccountError::Unauthorized);
        }
        claims.role = user.role;
        claims.name = user.username;
        Ok(claims)
    }

    pub async fn me(&self, user_id: i64) -> Result<user::Model, AccountError> {
        Ok(self.store.get_user(user_id).await?)
    }

    /// Password login from `address` (the TCP peer, when known). Failures, lockouts and unknown
    /// or disabled users all look the same; too many attempts (per address, per username) or
    /// no free password check slot are a `TooManyAttempts`, before any password is checked.
    pub async fn login(
        &self,
        address: Option<IpAddr>,
        username: &str,
        password: &str,
    ) -> Result<Session, AccountError> {
        self.admit(address, username)?;
        if username.len() > super::rules::MAX_USERNAME {
            // No such user can exist; nothing to lock either.
            self.guard.count(Count::Failed);
            return Err(AccountError::BadLogin);
        }
        let locked = self.lockout.is_locked(username);
        let user = self.store.find_user_by_name(username).await?;
        let stored = user
            .as_ref()
            .filter(|u| u.enabled)
            .map(|u| u.password_hash.clone());
        // The password is checked even while locked, so the answer takes as long.
        let ok = self.check_password(password, stored).await?;
        if locked {
            return Err(self.login_failed(username, AccountError::LockedOut));
        }
        let user = match (ok, user) {
            (true, Some(u)) => u,
            _ => return Err(self.login_failed(username, AccountError::BadLogin)),
        };
        self.lockout.record_success(username);
        self.start_session(&user).await
    }

    /// Exchanges a refresh token for a new pair. The old token stops working; presenting it
    /// again revokes every token of that login.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, AccountError> {
        let row = self.live_refresh_token(refresh_token).await?;
        let user = self
            .store
            .find_user(row.user_id)
            .await?
            .filter(|u| u.enabled)
            .ok_or(AccountError::Unauthorized)?;
        self.rotate(&user, &row).await
    }

    /// Revokes the login the refresh token belongs to. Returns whose it was.
    pub async fn logout(&self, refresh_token: &str) -> Result<user::Model, AccountError> {
        let hash = self.master.hash_token(refresh_token);
        let row = self
            .store
            .find_refresh_token(&hash)
            .await?
            .ok_or(AccountError::Unauthorized)?;
        self.store.revoke_refresh_family(&row.family_id).await?;
        self.store
            .find_user(row.user_id)
            .await?
            .ok_or(AccountError::Unauthorized)
    }

    /// Ends every session of the user: refresh tokens revoked, access tokens refused.
    pub async fn logout_all(&self, user_id: i64) -> Result<(), AccountError> {
        self.store
            .update_user(
                user_id,
                UserPatch {
                    revoke_sessions_before: Some(cutoff_now()),
                    ..Default::default()
                },
            )
            .await?;
        Ok(())
    }

    /// Changes the caller's password and ends their other sessions. The login of
    /// `refresh_token`, when given, survives (rotated); the caller gets a fresh pair.
    pub async fn change_password(
        &self,
        user_id: i64,
        current_password: &str,
        new_password: &str,
        refresh_token: Option<&str>,
    ) -> Result<Session, AccountError> {
        let user = self.store.get_user(user_id).await?;
        let locked = self.lockout.is_locked(&user.username);
        let ok = self
            .check_password(current_password, Some(user.password_hash.clone()))
            .await?;
        if locked || !ok {
            if !locked {
                self.lockout.record_failure(&user.username);
            }
            return Err(AccountError::invalid("current_password", "is not correct"));
        }
        super::rules::check_password("new_password", new_password)?;
        if new_password == current_password {
            return Err(AccountError::invalid(
                "new_password",
                "must differ from the current password",
            ));
        }
        let keep = match refresh_token {
            Some(token) => {
                let row = self.live_refresh_token(token).await.map_err(|_| {
                    AccountError::invalid("refresh_token", "is not a live session of yours")
                })?;
                if row.user_id != user.id {
                    return Err(AccountError::invalid(
                        "refresh_token",
                        "is not a live session of yours",
                    ));
                }
                Some(row)
            }
            None => None,
        };
        let password_hash = self.hash_password(new_password.to_string()).await?;
        let user = self
            .store
            .update_user(
                user.id,
                UserPatch {
                    password_hash: Some(password_hash),
                    must_change_password: Some(false),
                    revoke_sessions_before: Some(cutoff_now()),
                    keep_family: keep.as_ref().map(|r| r.family_id.clone()),
                    ..Default::default()
                },
            )
            .await?;
        match keep {
            Some(row) => self.rotate(&user, &row).await,
            None => self.start_session(&user).await,
        }
    }

    /// Issues a single-use challenge for key-pair login. Issued for any well-formed username,
    /// so it does not tell whether the user exists. Bounded: attempts per address and username,
    /// a few live challenges per username (a new one replaces the oldest), and a total.
    pub async fn challenge(
        &self,
        address: Option<IpAddr>,
        username: &str,
    ) -> Result<(String, DateTime<Utc>), AccountError> {
        if username.is_empty() || username.len() > super::rules::MAX_USERNAME {
            return Err(AccountError::invalid(
                "username",
                "must have 1 to 64 characters",
            ));
        }
        self.admit(address, username)?;
        let nonce = auth::generate_nonce();
        let expires_at = from_now(self.challenge_ttl);
        let created = self
            .store
            .create_challenge(
                username,
                &nonce,
                expires_at,
                self.challenges_per_user,
                self.challenges_max,
            )
            .await?;
        if !created {
            self.guard.count(Count::ChallengeRefused);
            tracing::warn!(
                "key-pair login challenge refused: admin.challenges_max live challenges already"
            );
            return Err(AccountError::TooManyAttempts {
                retry_after: self
                    .challenge_ttl
                    .to_std()
                    .unwrap_or(Duration::from_secs(60)),
            });
        }
        Ok((nonce, expires_at))
    }

    /// Key-pair login: the challenge must be unused, unexpired and issued for this username,
    /// and the signature over its raw bytes must verify with one of the user's public keys.
    /// Returns the session and the id of the key that signed.
    pub async fn challenge_login(
        &self,
        address: Option<IpAddr>,
        username: &str,
        nonce: &str,
        signature: &str,
    ) -> Result<(Session, i64), AccountError> {
        self.admit(address, username)?;
        let Some((user, key_id)) = self.signed_in(username, nonce, signature).await? else {
            self.guard.count(Count::Failed);
            return Err(AccountError::BadLogin);
        };
        self.store.touch_public_key(key_id).await?;
        Ok((self.start_session(&user).await?, key_id))
    }

    /// The user and the key that signed the challenge, when the answer is right.
    async fn signed_in(
        &self,
        username: &str,
        nonce: &str,
        signature: &str,
    ) -> Result<Option<(user::Model, i64)>, AccountError> {
        if !self.store.consume_challenge(username, nonce).await? {
            return Ok(None);
        }
        let Ok(message) = base64::engine::general_purpose::STANDARD.decode(nonce) else {
            return Ok(None);
        };
        let Some(user) = self
            .store
            .find_user_by_name(username)
            .await?
            .filter(|u| u.enabled)
        else {
            return Ok(None);
        };
        let keys = self.store.list_public_keys(user.id).await?;
        Ok(keys
            .iter()
            .find(|k| auth::verify_signature(&k.public_key, &message, signature))
            .map(|k| (user.clone(), k.id)))
    }

    /// A refresh token that may be used now; a rotated one presented again revokes its family.
    async fn live_refresh_token(&self, token: &str) -> Result<refresh_token::Model, AccountError> {
        let hash = self.master.hash_token(token);
        let row = self
            .store
            .find_refresh_token(&hash)
            .await?
            .ok_or(AccountError::Unauthorized)?;
        if row.revoked_at.is_some() {
            return Err(AccountError::Unauthorized);
        }
        if row.rotated_at.is_some() {
            self.reuse_detected(&row).await?;
            return Err(AccountError::TokenReused {
                user_id: row.user_id,
            });
        }
        if row.expires_at <= Utc::now() {
            return Err(AccountError::Unauthorized);
        }
        Ok(row)
    }

    async fn reuse_detected(&self, row: &refresh_token::Model) -> Result<(), AccountError> {
        tracing::warn!(
            user_id = row.user_id,
            "a rotated refresh token was presented again; revoking that login's tokens"
        );
        self.store.revoke_refresh_family(&row.family_id).await?;
        Ok(())
    }

    async fn start_session(&self, user: &user::Model) -> Result<Session, AccountError> {
        let (refresh_token, next) = self.new_refresh_token(user, uuid::Uuid::new_v4().to_string());
        self.store.insert_refresh_token(next).await?;
        self.session(user, refresh_token)
    }

    async fn rotate(
        &self,
        user: &user::Model,
        old: &refresh_token::Model,
    ) -> Result<Session, AccountError> {
        let (refresh_token, next) = self.new_refresh_token(user, old.family_id.clone());
        if !self.store.rotate_refresh_token(old.id, next).await? {
            // Someone else used it first: the same as a reuse.
            self.reuse_detected(old).await?;
            return Err(AccountError::TokenReused { user_id: user.id });
        }
        self.session(user, refresh_token)
    }

    fn new_refresh_token(
        &self,
        user: &user::Model,
        family_id: String,
    ) -> (String, NewRefreshToken) {
        let token = auth::generate_token();
        let row = NewRefreshToken {
            user_id: user.id,
            family_id,
            token_hash: self.master.hash_token(&token),
            expires_at: from_now(self.refresh_ttl),
        };
        (token, row)
    }

    fn session(&self, user: &user::Model, refresh_token: String) -> Result<Session, AccountError> {
        // Always after the user's cut-off, so a token issued right after one is accepted.
        let iat = user
            .sessions_valid_after
            .map_or(0, |t| t.timestamp_millis() + 1)
            .max(Utc::now().timestamp_millis());
        let access_token = self
            .jwt
            .issue_at(user.id, &user.username, &user.role, iat)
            .map_err(|_| AccountError::Internal)?;
        Ok(Session {
            user_id: user.id,
            username: user.username.clone(),
            must_change_password: user.must_change_password,
            tokens: TokenPair {
                access_token,
                expires_in: self.jwt.ttl_secs,
                refresh_token,
            },
        })
    }
}
