//! OAuth2 and JWTs: provider credentials obtained with authorization code + PKCE and kept
//! fresh (single-flight across instances), and the inbound authentication modes of the proxy
//! beside client keys — client-credentials access tokens and external JWTs.

pub mod client;
pub mod inbound;
pub mod jwt;
pub mod live;
mod lock;
pub mod provider;

pub use inbound::{EndpointReply, Inbound, Resolution};
pub use jwt::JwtIssuers;
pub use live::{LiveToken, TokenCells, TokenState, TokenStatus};
pub use provider::{Authorization, ConnectError, ProviderTokens, RefreshError, Renewed};

use crate::auth::MasterKey;
use crate::cluster::Cluster;
use crate::config::OAuthConfig;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("not an OAuth2 provider key")]
    NotOAuthKey,
    #[error("the provider has no OAuth configuration")]
    NotConfigured,
    #[error("{0}")]
    Misconfigured(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

/// The OAuth services both ports use.
pub struct OAuth {
    pub provider: Arc<ProviderTokens>,
    pub inbound: Arc<Inbound>,
    cfg: OAuthConfig,
}

impl OAuth {
    pub fn new(
        store: Store,
        master: MasterKey,
        cluster: Cluster,
        cfg: &OAuthConfig,
        renewed: Renewed,
    ) -> Result<Self, OAuthError> {
        let lock = lock::RefreshLock::new(
            cluster,
            store.clone(),
            Duration::from_secs(cfg.lock_ttl_secs),
        );
        let provider = ProviderTokens::new(
            store.clone(),
            master.clone(),
            Arc::new(TokenCells::default()),
            lock,
            cfg.clone(),
            renewed,
        )?;
        let jwt = JwtIssuers::new(
            store.clone(),
            client::http_client(Duration::from_secs(cfg.http_timeout_secs))?,
            Duration::from_secs(cfg.jwks_cache_secs),
            Duration::from_secs(cfg.jwks_refetch_min_secs),
        );
        let inbound = Inbound::new(store, master, cfg.access_token_ttl_secs, Arc::new(jwt));
        Ok(Self {
            provider: Arc::new(provider),
            inbound: Arc::new(inbound),
            cfg: cfg.clone(),
        })
    }

    pub fn cells(&self) -> Arc<TokenCells> {
        self.provider.cells().clone()
    }

    /// Reads tokens, revocations and issuers; at start-up and on every tick.
    pub async fn sync(&self) -> Result<(), OAuthError> {
        self.provider.sync().await?;
        self.inbound.sync().await?;
        self.inbound.jwt.sync().await
    }

    /// The background task: due refreshes, others' changes, abandoned authorizations.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_millis(self.cfg.sync_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            self.provider.tick().await;
            if let Err(e) = self.inbound.sync().await {
                tracing::warn!("inbound revocation sync failed: {e}");
            }
            if let Err(e) = self.inbound.jwt.sync().await {
                tracing::warn!("JWT issuer sync failed: {e}");
            }
            self.provider.remove_orphans().await;
        }
    }
}
