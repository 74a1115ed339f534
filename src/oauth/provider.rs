//! Provider credentials of kind OAuth2: the authorization-code + PKCE flow (single-use `state`
//! with a lifetime), the token exchange, and refresh — ahead of expiry in the background, on
//! demand when a request finds the token expired or rejected — with exactly one refresh per
//! key at a time across every instance, and the new pair stored before anyone uses it.

use super::OAuthError;
use super::client::{self, Failure, Issued};
use super::live::{LiveToken, TokenCells, TokenState, TokenStatus};
use super::lock::RefreshLock;
use crate::auth::MasterKey;
use crate::config::{OAuthConfig, Secret};
use crate::store::{Store, TokenPairRow};
use chrono::{DateTime, Utc};
use entity::provider_key_token;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RefreshToken};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keyed-hash purpose of authorization states (the database holds only the hash).
const STATE_PURPOSE: &str = "oauth-states/v1";
/// The reason shown when the provider refused the refresh token.
pub const RECONNECT: &str = "reconnect needed";
/// How often a request waiting for another's refresh looks for its result.
const WAIT_STEP: Duration = Duration::from_millis(25);

/// What the admin's browser is sent to.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub authorize_url: String,
    pub expires_at: DateTime<Utc>,
}

/// Why a callback did not connect the key; every variant is safe to show.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("This authorization link is unknown or was already used.")]
    UnknownState,
    #[error("This authorization link has expired; start again from the console.")]
    Expired,
    #[error("The provider did not authorize the connection ({0}).")]
    Denied(String),
    #[error("The provider key or its provider's OAuth configuration is gone.")]
    Gone,
    #[error("The code could not be exchanged for tokens: {0}.")]
    Exchange(String),
    #[error("Internal error; see the server log.")]
    Internal,
}

/// Why a refresh did not produce a new token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    #[error("the credential is not connected")]
    NotConnected,
    #[error("credential invalid: {0}")]
    Invalid(String),
    #[error("refresh failed, will retry: {0}")]
    Transient(String),
    #[error("refresh is backing off after failures")]
    BackingOff,
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    next: Instant,
}

/// Called with a key's id whenever it has a new working token (here or from another
/// instance): the server clears a "credential rejected" health mark with it.
pub type Renewed = Arc<dyn Fn(i64) + Send + Sync>;

pub struct ProviderTokens {
    store: Store,
    master: MasterKey,
    cells: Arc<TokenCells>,
    http: reqwest::Client,
    lock: RefreshLock,
    cfg: OAuthConfig,
    /// This instance, in lock owner names.
    instance: String,
    local: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    backoff: Mutex<HashMap<i64, Backoff>>,
    renewed: Renewed,
}

impl ProviderTokens {
    pub fn new(
        store: Store,
        master: MasterKey,
        cells: Arc<TokenCells>,
        lock: RefreshLock,
        cfg: OAuthConfig,
        renewed: Renewed,
    ) -> Result<Self, OAuthError> {
        Ok(Self {
            http: client::http_client(Duration::from_secs(cfg.http_timeout_secs))?,
            store,
            master,
            cells,
            lock,
            cfg,
            instance: uuid::Uuid::new_v4().to_string(),
            local: Mutex::default(),
            backoff: Mutex::default(),
            renewed,
        })
    }

    pub fn cells(&self) -> &Arc<TokenCells> {
        &self.cells
    }

    /// The key's current state (for the API), if it is an OAuth key this instance knows.
    pub fn status(&self, provider_key_id: i64) -> Option<Arc<TokenState>> {
        self.cells.get(provider_key_id).map(|c| c.current())
    }

    // --- authorization ---

    /// Starts an authorization: a PKCE S256 challenge and a fresh `state`, remembered (hashed
    /// and encrypted) for `authorization_ttl_secs`.
    pub async fn authorize(
        &self,
        provider_key_id: i64,
        user_id: Option<i64>,
    ) -> Result<Authorization, OAuthError> {
        let key = self.store.get_provider_key(provider_key_id).await?;
        if key.kind != "oauth2" {
            return Err(OAuthError::NotOAuthKey);
        }
        let cfg = self
            .store
            .get_provider_oauth(key.provider_id)
            .await?
            .ok_or(OAuthError::NotConfigured)?;
        let pc = client::build(&cfg, &self.master)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = pc
            .client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(pc.scopes.clone())
            .set_pkce_challenge(challenge);
        for (k, v) in &pc.extra_params {
            request = request.add_extra_param(k.clone(), v.clone());
        }
        let (url, state) = request.url();
        let expires_at = Utc::now() + secs(self.cfg.authorization_ttl_secs);
        let verifier_ct = self
            .master
            .encrypt(verifier.secret())
            .map_err(|_| OAuthError::Internal("cannot encrypt the verifier".into()))?;
        self.store
            .create_authorization(
                provider_key_id,
                self.master.hash_for(STATE_PURPOSE, state.secret()),
                verifier_ct,
                user_id,
                expires_at,
            )
            .await?;
        Ok(Authorization {
            authorize_url: url.to_string(),
            expires_at,
        })
    }

    /// The provider's redirect: the state must be known, unused and young enough; the code is
    /// exchanged with the verifier and the tokens stored. Returns the provider key's id.
    /// `denied` carries the provider's `error` parameter when it refused.
    pub async fn complete(
        &self,
        state: &str,
        code: Option<&str>,
        denied: Option<&str>,
    ) -> Result<i64, ConnectError> {
        let internal = |e: &dyn std::fmt::Display| {
            tracing::error!("OAuth callback failed: {e}");
            ConnectError::Internal
        };
        let row = self
            .store
            .take_authorization(&self.master.hash_for(STATE_PURPOSE, state))
            .await
            .map_err(|e| internal(&e))?
            .ok_or(ConnectError::UnknownState)?;
        if row.expires_at <= Utc::now() {
            return Err(ConnectError::Expired);
        }
        if let Some(err) = denied {
            let word: String = err
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            return Err(ConnectError::Denied(word));
        }
        let code = code.ok_or(ConnectError::Denied("no code".into()))?;
        let key = self
            .store
            .get_provider_key(row.provider_key_id)
            .await
            .map_err(|_| ConnectError::Gone)?;
        let cfg = self
            .store
            .get_provider_oauth(key.provider_id)
            .await
            .map_err(|e| internal(&e))?
            .ok_or(ConnectError::Gone)?;
        let pc = client::build(&cfg, &self.master).map_err(|e| internal(&e))?;
        let verifier = self
            .master
            .decrypt(&row.verifier_ciphertext)
            .map_err(|_| internal(&"verifier cannot be decrypted"))?;
        let resp = pc
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                let why = match client::classify(&e) {
                    Failure::Rejected(w) | Failure::Transient(w) => w,
                };
                tracing::warn!(
                    provider_key = key.id,
                    "authorization code exchange failed: {why}"
                );
                ConnectError::Exchange(why)
            })?;
        let issued = client::issued(&resp);
        // Connecting replaces whatever was there, whatever its generation.
        for _ in 0..5 {
            let current = self
                .store
                .get_key_token(key.id)
                .await
                .map_err(|e| internal(&e))?
                .ok_or(ConnectError::Gone)?;
            let pair = self.pair(&issued).map_err(|e| internal(&e))?;
            if let Some(row) = self
                .store
                .store_token_pair(key.id, current.generation, pair, true)
                .await
                .map_err(|e| internal(&e))?
            {
                self.adopt(&row);
                self.clear_backoff(key.id);
                (self.renewed)(key.id);
                tracing::info!(provider_key = key.id, "OAuth credential connected");
                return Ok(key.id);
            }
        }
        Err(internal(&"the token row kept changing"))
    }

    /// Removes authorizations whose callback never came.
    pub async fn remove_orphans(&self) -> u64 {
        match self.store.delete_expired_authorizations(Utc::now()).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(removed = n, "removed abandoned OAuth authorizations");
                }
                n
            }
            Err(e) => {
                tracing::warn!("cannot remove abandoned authorizations: {e}");
                0
            }
        }
    }

    // --- tokens ---

    fn pair(&self, issued: &Issued) -> Result<TokenPairRow, OAuthError> {
        let enc = |s: &str| {
            self.master
                .encrypt(s)
                .map_err(|_| OAuthError::Internal("cannot encrypt a token".into()))
        };
        Ok(TokenPairRow {
            access_token_ciphertext: enc(&issued.access_token)?,
            refresh_token_ciphertext: issued.refresh_token.as_deref().map(enc).transpose()?,
            expires_at: issued
                .expires_in
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .map(|d| Utc::now() + d),
        })
    }

    /// Puts a database row into its key's cell.
    fn adopt(&self, row: &provider_key_token::Model) {
        let access =
            row.access_token_ciphertext
                .as_deref()
                .and_then(|ct| match self.master.decrypt(ct) {
                    Ok(t) => Some(Secret::new(t)),
                    Err(_) => {
                        tracing::error!(
                            provider_key = row.provider_key_id,
                            "access token cannot be decrypted with the configured master key"
                        );
                        None
                    }
                });
        self.cells.cell(row.provider_key_id).adopt(TokenState {
            access,
            expires_at: row.expires_at,
            generation: row.generation,
            status: TokenStatus::parse(&row.status),
            reason: row.reason.clone(),
        });
    }

    /// Reads every key's token row and takes what changed (other instances' refreshes,
    /// connections, invalidations).
    pub async fn sync(&self) -> Result<(), OAuthError> {
        for row in self.store.list_key_tokens().await? {
            let cell = self.cells.cell(row.provider_key_id);
            if cell.current().generation < row.generation {
                self.adopt(&row);
                if cell.usable() {
                    (self.renewed)(row.provider_key_id);
                }
            }
        }
        Ok(())
    }

    /// Before a request uses the key: an expired token is refreshed first (the request waits
    /// for the one refresh under way, here or on another instance). Failures leave the current
    /// token in place; the provider's answer then decides.
    pub async fn ensure_fresh(&self, provider_key_id: i64) {
        let Some(cell) = self.cells.get(provider_key_id) else {
            return;
        };
        let state = cell.current();
        if state.status != TokenStatus::Connected || !state.is_stale(Utc::now()) {
            return;
        }
        let wait = Duration::from_secs(self.cfg.lock_ttl_secs);
        match tokio::time::timeout(wait, self.refresh(provider_key_id, state.generation)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(provider_key = provider_key_id, "{e}"),
            Err(_) => tracing::warn!(provider_key = provider_key_id, "refresh wait timed out"),
        }
    }

    /// Called once when the provider rejected `rejected` (a credential-invalid verdict): if
    /// that is still the current token, refresh now; if another request already did, the new
    /// token is ready. Ok means: retry with [`LiveToken::access_token`].
    pub async fn refresh_now(
        &self,
        provider_key_id: i64,
        rejected: &str,
    ) -> Result<(), RefreshError> {
        let cell = self
            .cells
            .get(provider_key_id)
            .ok_or(RefreshError::NotConnected)?;
        let state = cell.current();
        if state
            .access
            .as_ref()
            .is_some_and(|a| a.expose() != rejected)
        {
            return Ok(());
        }
        if state.status != TokenStatus::Connected {
            return Err(RefreshError::NotConnected);
        }
        self.refresh(provider_key_id, state.generation).await
    }

    fn local_lock(&self, provider_key_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(provider_key_id).or_default().clone()
    }

    fn in_backoff(&self, provider_key_id: i64) -> bool {
        let map = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&provider_key_id)
            .is_some_and(|b| Instant::now() < b.next)
    }

    fn bump_backoff(&self, provider_key_id: i64) -> Duration {
        let mut map = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(provider_key_id).or_insert(Backoff {
            failures: 0,
            next: Instant::now(),
        });
        entry.failures += 1;
        let wait = Duration::from_secs(2u64.saturating_pow(entry.failures.min(20) - 1))
            .min(Duration::from_secs(self.cfg.refresh_backoff_max_secs));
        entry.next = Instant::now() + wait;
        wait
    }

    fn clear_backoff(&self, provider_key_id: i64) {
        self.backoff
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&provider_key_id);
    }

    /// Refreshes the key unless its generation already moved past `seen`. One caller per
    /// instance gets past the local mutex; one instance at a time holds the shared lock;
    /// everyone else waits for the row's generation to move and takes the result.
    pub async fn refresh(&self, provider_key_id: i64, seen: i64) -> Result<(), RefreshError> {
        let local = self.local_lock(provider_key_id);
        let _one_here = local.lock().await;
        let cell = self.cells.cell(provider_key_id);
        if cell.current().generation > seen {
            return Ok(());
        }
        if self.in_backoff(provider_key_id) {
            return Err(RefreshError::BackingOff);
        }
        let owner = format!("{}:{}", self.instance, uuid::Uuid::new_v4());
        let deadline = Instant::now() + Duration::from_secs(self.cfg.lock_ttl_secs);
        loop {
            if self.lock.try_acquire(provider_key_id, &owner).await {
                let result = self.refresh_locked(provider_key_id, seen).await;
                self.lock.release(provider_key_id, &owner).await;
                if let Err(RefreshError::Transient(why)) = &result {
                    let wait = self.bump_backoff(provider_key_id);
                    tracing::warn!(
                        provider_key = provider_key_id,
                        retry_in_ms = wait.as_millis() as u64,
                        "OAuth refresh failed; keeping the current token: {why}"
                    );
                }
                return result;
            }
            tokio::time::sleep(WAIT_STEP).await;
            match self.store.get_key_token(provider_key_id).await {
                Ok(Some(row)) if row.generation > seen => {
                    self.adopt(&row);
                    return match TokenStatus::parse(&row.status) {
                        TokenStatus::Connected => Ok(()),
                        _ => Err(RefreshError::Invalid(
                            row.reason.unwrap_or_else(|| RECONNECT.to_string()),
                        )),
                    };
                }
                Ok(Some(_)) => {}
                Ok(None) => return Err(RefreshError::NotConnected),
                Err(e) => return Err(RefreshError::Transient(format!("database: {e}"))),
            }
            if Instant::now() > deadline {
                return Err(RefreshError::Transient(
                    "another instance held the refresh lock too long".into(),
                ));
            }
        }
    }

    /// Holding the lock: read the row (the only place the refresh token comes from), call the
    /// token endpoint, store the new pair with compare-and-set, then publish it in memory.
    async fn refresh_locked(&self, provider_key_id: i64, seen: i64) -> Result<(), RefreshError> {
        let db = |e: &dyn std::fmt::Display| RefreshError::Transient(format!("database: {e}"));
        let row = self
            .store
            .get_key_token(provider_key_id)
            .await
            .map_err(|e| db(&e))?
            .ok_or(RefreshError::NotConnected)?;
        if row.generation > seen {
            // Someone finished between our look and our lock.
            self.adopt(&row);
            return Ok(());
        }
        if TokenStatus::parse(&row.status) != TokenStatus::Connected {
            self.adopt(&row);
            return Err(RefreshError::NotConnected);
        }
        let refresh_token = match row.refresh_token_ciphertext.as_deref() {
            Some(ct) => self
                .master
                .decrypt(ct)
                .map_err(|_| RefreshError::Transient("refresh token cannot be decrypted".into()))?,
            None => {
                return self
                    .invalidate(
                        &row,
                        format!("{RECONNECT}: the provider gave no refresh token"),
                    )
                    .await;
            }
        };
        let key = self
            .store
            .get_provider_key(provider_key_id)
            .await
            .map_err(|e| db(&e))?;
        let cfg = self
            .store
            .get_provider_oauth(key.provider_id)
            .await
            .map_err(|e| db(&e))?
            .ok_or_else(|| {
                RefreshError::Transient("the provider has no OAuth configuration".into())
            })?;
        let pc = client::build(&cfg, &self.master)
            .map_err(|e| RefreshError::Transient(e.to_string()))?;
        let rt = RefreshToken::new(refresh_token);
        let result = pc
            .client
            .exchange_refresh_token(&rt)
            .request_async(&self.http)
            .await;
        match result {
            Ok(resp) => {
                let pair = self
                    .pair(&client::issued(&resp))
                    .map_err(|e| RefreshError::Transient(e.to_string()))?;
                // Stored before anything uses it: a crash after this line leaves the new pair
                // in the database; a crash before it leaves the old one, never a spent one.
                let stored = self
                    .store
                    .store_token_pair(provider_key_id, row.generation, pair, false)
                    .await
                    .map_err(|e| db(&e))?;
                match stored {
                    Some(new_row) => self.adopt(&new_row),
                    None => {
                        tracing::warn!(
                            provider_key = provider_key_id,
                            "token row changed during the refresh; keeping the newer one"
                        );
                        if let Ok(Some(latest)) = self.store.get_key_token(provider_key_id).await {
                            self.adopt(&latest);
                        }
                    }
                }
                self.clear_backoff(provider_key_id);
                (self.renewed)(provider_key_id);
                tracing::info!(provider_key = provider_key_id, "OAuth token refreshed");
                Ok(())
            }
            Err(e) => match client::classify(&e) {
                Failure::Rejected(why) => {
                    // A newer pair may have been stored meanwhile (a lock that outlived its
                    // holder): then this refresh token was simply spent, and all is well.
                    if let Ok(Some(latest)) = self.store.get_key_token(provider_key_id).await {
                        if latest.generation > row.generation {
                            self.adopt(&latest);
                            return Ok(());
                        }
                    }
                    self.invalidate(&row, format!("{RECONNECT}: {why}")).await
                }
                Failure::Transient(why) => Err(RefreshError::Transient(why)),
            },
        }
    }

    async fn invalidate(
        &self,
        row: &provider_key_token::Model,
        reason: String,
    ) -> Result<(), RefreshError> {
        tracing::warn!(
            provider_key = row.provider_key_id,
            "OAuth credential invalid: {reason}"
        );
        match self
            .store
            .mark_token_invalid(row.provider_key_id, row.generation, &reason)
            .await
        {
            Ok(Some(new_row)) => self.adopt(&new_row),
            Ok(None) => {
                if let Ok(Some(latest)) = self.store.get_key_token(row.provider_key_id).await {
                    self.adopt(&latest);
                }
            }
            Err(e) => tracing::error!("cannot record the invalid credential: {e}"),
        }
        Err(RefreshError::Invalid(reason))
    }

    /// One round of the background task: take others' changes, then refresh every connected
    /// token that is due (`refresh_margin_secs` ahead) and not already being refreshed here.
    pub async fn tick(self: &Arc<Self>) {
        if let Err(e) = self.sync().await {
            tracing::warn!("OAuth token sync failed: {e}");
        }
        let now = Utc::now();
        let margin = secs(self.cfg.refresh_margin_secs);
        for (id, cell) in self.cells.all() {
            let state = cell.current();
            if !state.is_due(now, margin) || self.in_backoff(id) {
                continue;
            }
            if self.local_lock(id).try_lock().is_err() {
                continue;
            }
            let me = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(e) = me.refresh(id, state.generation).await {
                    tracing::debug!(provider_key = id, "background refresh: {e}");
                }
            });
        }
    }

    /// The cell of a key (for tests and the proxy).
    pub fn cell(&self, provider_key_id: i64) -> Arc<LiveToken> {
        self.cells.cell(provider_key_id)
    }
}

fn secs(s: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
}
