//! AppState: the shared handles both ports use. No logic lives here.

use crate::accounts::Accounts;
use crate::auth::{JwtKeys, MasterKey};
use crate::cluster::Cluster;
use crate::config::Config;
use crate::health::{HealthRegistry, Prober};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::oauth::OAuth;
use crate::scheduler::Scheduler;
use crate::snapshot::Catalog;
use crate::store::Store;
use crate::usage::Ledger;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub master: MasterKey,
    pub jwt: JwtKeys,
    /// Users, logins and sessions of the management API.
    pub accounts: Arc<Accounts>,
    pub catalog: Arc<Catalog>,
    pub ledger: Ledger,
    /// Redis, when instances share state.
    pub cluster: Cluster,
    pub health: Arc<HealthRegistry>,
    pub scheduler: Scheduler,
    pub prober: Arc<Prober>,
    pub limits: Arc<Limits>,
    /// Token counts for answers whose provider usage never arrived.
    pub estimator: Arc<crate::usage::estimate::Estimator>,
    /// Each provider's model list (fetched, cached).
    pub models: Arc<crate::models::ModelLists>,
    /// OAuth provider tokens, the client-credentials issuer and JWT issuers.
    pub oauth: Arc<OAuth>,
    /// Prometheus metrics; the proxy reports each finished request to it.
    pub metrics: Arc<Metrics>,
    /// Proxied requests in flight (shutdown waits for them).
    pub in_flight: Arc<AtomicUsize>,
}
