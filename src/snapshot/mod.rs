//! The in-memory catalog the proxy reads on every request (client keys, providers, pools, prices),
//! rebuilt from the database when it changes; the hot path never waits on SQL.

use crate::auth::MasterKey;
use crate::config::Secret;
use crate::oauth::{LiveToken, TokenCells};
pub use crate::pricing::PriceEntry;
use crate::pricing::alias_base;
use crate::providers::{ApiFormat, CredentialPlacement};
use crate::routing::{self, Directory, ModelRoute, RouteSpec, RouteStrategy};
use crate::store::{Store, StoreError};
use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::sync::{Mutex, watch};

#[derive(Debug)]
pub struct ClientKeyEntry {
    pub id: i64,
    pub name: String,
    /// The first of `provider_ids`.
    pub provider_id: i64,
    /// The providers the key reaches, in the key's order (at least one).
    pub provider_ids: Vec<i64>,
    pub pool: Vec<i64>,
    pub strategy: String,
    pub enabled: bool,
    /// How many other keys a failed request may be retried on.
    pub max_retries: u32,
    pub limits: crate::limits::KeyLimits,
    pub expires_at: Option<DateTime<Utc>>,
    /// Glob patterns; `None` allows every model.
    pub allowed_models: Option<Vec<String>>,
    /// Why the key is refused: a stored limit or model list that cannot be enforced (it would
    /// otherwise read as "unlimited"). Logged when the snapshot is built.
    pub misconfigured: Option<String>,
    /// Round-robin position; carried over when the snapshot is rebuilt.
    pub cursor: Arc<AtomicU64>,
    /// Smooth weighted round-robin credit per provider key; carried over likewise.
    pub swrr: Arc<std::sync::Mutex<HashMap<i64, i64>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path prefix of the base URL ("" or "/api"); the client's path is appended to it.
    pub path_prefix: String,
    /// Value of the Host header sent upstream.
    pub host_header: String,
}

impl Upstream {
    /// Parses a provider base URL: http or https, a host, an optional port and path prefix,
    /// no query, fragment or credentials.
    pub fn parse(base_url: &str) -> Result<Self, String> {
        let url = url::Url::parse(base_url).map_err(|e| format!("is not a URL: {e}"))?;
        let tls = match url.scheme() {
            "https" => true,
            "http" => false,
            other => return Err(format!("scheme `{other}` is not http or https")),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if url.query().is_some() || url.fragment().is_some() {
            return Err("must not have a query or fragment".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        let port = url.port_or_known_default().ok_or("has no port")?;
        let default_port = if tls { 443 } else { 80 };
        let host_header = match (url.port(), host.contains(':')) {
            (Some(p), true) if p != default_port => format!("[{host}]:{p}"),
            (Some(p), false) if p != default_port => format!("{host}:{p}"),
            (_, true) => format!("[{host}]"),
            _ => host.clone(),
        };
        Ok(Self {
            tls,
            host,
            port,
            path_prefix: url.path().trim_end_matches('/').to_string(),
            host_header,
        })
    }
}

#[derive(Debug)]
pub struct ProviderEntry {
    pub id: i64,
    pub name: String,
    pub format: ApiFormat,
    pub upstream: Upstream,
    pub auth: CredentialPlacement,
    pub enabled: bool,
    pub connect_timeout: Duration,
    pub first_byte_timeout: Duration,
    /// Path of the cheap call the active health check makes.
    pub health_check_path: String,
    /// Resend after a timeout or reset once the body was sent (the provider may bill twice).
    pub retry_after_send: bool,
    /// Extra request headers forwarded beyond the API format's allowlist (lower-case).
    pub forward_headers: Vec<String>,
    /// Translated requests drop the parameters this provider cannot honour (else: 400).
    pub drop_unsupported_params: bool,
    /// The upstream path in place of the client's (`{path}`, `{model}`; see
    /// [`ProviderEntry::upstream_path`]).
    pub path_template: Option<String>,
    /// Path of the model list (under the base URL's path), with no query.
    pub models_path: String,
}

impl ProviderEntry {
    /// The path (and query) sent upstream for a client path, without the query the caller
    /// sent: the base URL's path prefix, then the client's path or the provider's template
    /// with `{path}` (the client's path after its `/v1` or `/v1beta` segment) and `{model}`.
    pub fn upstream_path(&self, client_path: &str, model: Option<&str>) -> String {
        let prefix = &self.upstream.path_prefix;
        match &self.path_template {
            None => format!("{prefix}{client_path}"),
            Some(t) => {
                let rest = ["/v1beta", "/v1"]
                    .iter()
                    .find_map(|v| {
                        client_path
                            .strip_prefix(v)
                            .filter(|r| r.is_empty() || r.starts_with('/'))
                    })
                    .unwrap_or(client_path);
                let path = t
                    .replace("{path}", rest)
                    .replace("{model}", model.unwrap_or(""));
                format!("{prefix}{path}")
            }
        }
    }
}

#[derive(Debug)]
pub struct ProviderKeyEntry {
    pub id: i64,
    pub provider_id: i64,
    pub secret: Secret<String>,
    pub enabled: bool,
    pub weight: i32,
    pub rpm: Option<i32>,
    pub tpm: Option<i64>,
    /// The live token cell of an OAuth2 key (`None` for a static API key).
    pub oauth: Option<Arc<LiveToken>>,
}

impl ProviderKeyEntry {
    /// What goes upstream: the static secret, or an OAuth key's current access token.
    pub fn credential(&self) -> Secret<String> {
        match &self.oauth {
            Some(live) => live.access_token(),
            None => self.secret.clone(),
        }
    }

    /// Enabled, and for an OAuth key connected with a token (not pending or invalid).
    pub fn usable(&self) -> bool {
        self.enabled && self.oauth.as_ref().is_none_or(|live| live.usable())
    }
}

#[derive(Debug, Default)]
pub struct Snapshot {
    client_keys: HashMap<String, Arc<ClientKeyEntry>>,
    /// The same entries by id (OAuth access tokens and JWTs name the key by id).
    client_keys_by_id: HashMap<i64, Arc<ClientKeyEntry>>,
    providers: HashMap<i64, Arc<ProviderEntry>>,
    provider_keys: HashMap<i64, Arc<ProviderKeyEntry>>,
    providers_by_name: HashMap<String, i64>,
    /// Model routes by name (the config file's redirects win over the database's).
    routes: HashMap<String, Arc<ModelRoute>>,
    /// Each provider's cached model list.
    provider_models: HashMap<i64, BTreeSet<String>>,
    /// Per model, sorted by `effective_from` ascending.
    prices: HashMap<String, Vec<PriceEntry>>,
    /// Provider keys in the pools of more than one client key.
    shared_keys: std::collections::HashSet<i64>,
}

impl Snapshot {
    pub fn client_key_by_hash(&self, hash: &str) -> Option<&Arc<ClientKeyEntry>> {
        self.client_keys.get(hash)
    }

    pub fn client_key_by_id(&self, id: i64) -> Option<&Arc<ClientKeyEntry>> {
        self.client_keys_by_id.get(&id)
    }

    pub fn provider(&self, id: i64) -> Option<&Arc<ProviderEntry>> {
        self.providers.get(&id)
    }

    pub fn provider_by_name(&self, name: &str) -> Option<&Arc<ProviderEntry>> {
        self.providers_by_name
            .get(name)
            .and_then(|id| self.providers.get(id))
    }

    /// Every model route, by name.
    pub fn routes(&self) -> impl Iterator<Item = &Arc<ModelRoute>> {
        self.routes.values()
    }

    /// The provider's cached model list (empty when never fetched).
    pub fn provider_models(&self, provider_id: i64) -> impl Iterator<Item = &str> {
        self.provider_models
            .get(&provider_id)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    pub fn provider_key(&self, id: i64) -> Option<&Arc<ProviderKeyEntry>> {
        self.provider_keys.get(&id)
    }

    pub fn client_keys(&self) -> impl Iterator<Item = &Arc<ClientKeyEntry>> {
        self.client_keys_by_id.values()
    }

    pub fn provider_keys(&self) -> impl Iterator<Item = &Arc<ProviderKeyEntry>> {
        self.provider_keys.values()
    }

    /// Whether the provider key serves more than one client key.
    pub fn is_shared(&self, provider_key_id: i64) -> bool {
        self.shared_keys.contains(&provider_key_id)
    }

    /// The price in force for `model` at `at`. A name the provider aliases falls back to the
    /// model it stands for: a snapshot date (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`,
    /// `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`), `-latest`
    /// (`claude-3-5-haiku-latest`), a preview or experimental tag
    /// (`gemini-2.5-flash-preview-05-20` → `gemini-2.5-flash`) and a three-digit version
    /// (`gemini-1.5-pro-002`). Other suffixes name other models (`o3-pro` is not `o3`).
    pub fn price_at(&self, model: &str, at: DateTime<Utc>) -> Option<&PriceEntry> {
        let find = |name: &str| {
            self.prices
                .get(name)
                .and_then(|list| list.iter().rev().find(|p| p.effective_from <= at))
        };
        let mut name = model;
        loop {
            if let Some(p) = find(name) {
                return Some(p);
            }
            name = alias_base(name)?;
        }
    }

    fn build(
        rows: crate::store::CatalogRows,
        master: &MasterKey,
        previous: &Snapshot,
        tokens: &TokenCells,
        redirects: &[RouteSpec],
    ) -> Snapshot {
        let mut providers = HashMap::new();
        for p in rows.providers {
            let Some(format) = ApiFormat::parse(&p.api_format) else {
                tracing::warn!(
                    provider = p.id,
                    "provider has an unknown api_format; skipped"
                );
                continue;
            };
            let upstream = match Upstream::parse(&p.base_url) {
                Ok(u) => u,
                Err(e) => {
                    tracing::warn!(provider = p.id, "provider base_url {e}; skipped");
                    continue;
                }
            };
            let auth = parse_auth_scheme(&p.auth_scheme)
                .unwrap_or_else(|| format.default_credential_placement());
            providers.insert(
                p.id,
                Arc::new(ProviderEntry {
                    id: p.id,
                    name: p.name,
                    format,
                    upstream,
                    auth,
                    enabled: p.enabled,
                    connect_timeout: Duration::from_millis(p.connect_timeout_ms.max(1) as u64),
                    first_byte_timeout: Duration::from_millis(
                        p.first_byte_timeout_ms.max(1) as u64
                    ),
                    health_check_path: p
                        .health_check_path
                        .unwrap_or_else(|| default_health_check_path(format).to_string()),
                    retry_after_send: p.retry_after_send,
                    forward_headers: p
                        .forward_headers
                        .as_deref()
                        .and_then(|j| serde_json::from_str::<Vec<String>>(j).ok())
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|h| crate::providers::headers::may_configure(h))
                        .collect(),
                    drop_unsupported_params: p.drop_unsupported_params,
                    path_template: p.path_template,
                    models_path: p
                        .models_path
                        .unwrap_or_else(|| default_models_path(format).to_string()),
                }),
            );
        }
        let providers_by_name = providers.values().map(|p| (p.name.clone(), p.id)).collect();
        let mut reach: HashMap<i64, Vec<(i32, i64)>> = HashMap::new();
        for row in &rows.reach {
            reach
                .entry(row.client_key_id)
                .or_default()
                .push((row.position, row.provider_id));
        }
        let routes = build_routes(&rows.routes, redirects, previous);
        let provider_models = rows
            .provider_models
            .iter()
            .filter_map(|m| {
                let list = serde_json::from_str::<Vec<String>>(m.models.as_deref()?).ok()?;
                Some((m.provider_id, list.into_iter().collect()))
            })
            .collect();
        let mut provider_keys = HashMap::new();
        for k in rows.provider_keys {
            match master.decrypt(&k.secret_ciphertext) {
                Ok(secret) => {
                    provider_keys.insert(
                        k.id,
                        Arc::new(ProviderKeyEntry {
                            id: k.id,
                            provider_id: k.provider_id,
                            secret: Secret::new(secret),
                            enabled: k.enabled,
                            weight: k.weight,
                            rpm: k.rpm,
                            tpm: k.tpm,
                            oauth: (k.kind == "oauth2").then(|| tokens.cell(k.id)),
                        }),
                    );
                }
                Err(_) => tracing::error!(
                    provider_key = k.id,
                    "provider key cannot be decrypted with the configured master key; skipped"
                ),
            }
        }
        let mut pools: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut users: HashMap<i64, u32> = HashMap::new();
        for row in &rows.pools {
            *users.entry(row.provider_key_id).or_default() += 1;
        }
        let shared_keys = users
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(id, _)| id)
            .collect();
        for row in rows.pools {
            pools
                .entry(row.client_key_id)
                .or_default()
                .push(row.provider_key_id);
        }
        let previous_state: HashMap<i64, &Arc<ClientKeyEntry>> =
            previous.client_keys.values().map(|c| (c.id, c)).collect();
        let mut client_keys = HashMap::new();
        for c in rows.client_keys {
            let mut pool = pools.remove(&c.id).unwrap_or_default();
            pool.sort_unstable();
            let old = previous_state.get(&c.id);
            let cursor = old.map_or_else(|| Arc::new(AtomicU64::new(0)), |o| o.cursor.clone());
            let swrr = old.map_or_else(Default::default, |o| o.swrr.clone());
            let (limits, allowed_models, misconfigured) = check_client_key(&c);
            let provider_ids = match reach.remove(&c.id) {
                Some(mut set) => {
                    set.sort_unstable();
                    set.into_iter().map(|(_, p)| p).collect()
                }
                None => vec![c.provider_id],
            };
            client_keys.insert(
                c.key_hash,
                Arc::new(ClientKeyEntry {
                    id: c.id,
                    name: c.name,
                    provider_id: provider_ids.first().copied().unwrap_or(c.provider_id),
                    provider_ids,
                    pool,
                    strategy: c.strategy,
                    enabled: c.enabled,
                    max_retries: u32::try_from(c.max_retries).unwrap_or(0),
                    limits,
                    expires_at: c.expires_at,
                    allowed_models,
                    misconfigured,
                    cursor,
                    swrr,
                }),
            );
        }
        let mut prices: HashMap<String, Vec<PriceEntry>> = HashMap::new();
        for p in rows.prices {
            prices.entry(p.model).or_default().push(PriceEntry {
                effective_from: p.effective_from,
                input_nanos_per_mtok: p.input_nanos_per_mtok,
                output_nanos_per_mtok: p.output_nanos_per_mtok,
                cache_write_nanos_per_mtok: p.cache_write_nanos_per_mtok,
                cache_read_nanos_per_mtok: p.cache_read_nanos_per_mtok,
                currency: p.currency,
            });
        }
        for list in prices.values_mut() {
            list.sort_by_key(|p| p.effective_from);
        }
        let client_keys_by_id = client_keys.values().map(|c| (c.id, c.clone())).collect();
        Snapshot {
            client_keys,
            client_keys_by_id,
            providers,
            provider_keys,
            providers_by_name,
            routes,
            provider_models,
            prices,
            shared_keys,
        }
    }
}

impl Directory for Snapshot {
    fn provider_id(&self, name: &str) -> Option<i64> {
        self.providers_by_name.get(name).copied()
    }

    fn route(&self, name: &str) -> Option<&ModelRoute> {
        self.routes.get(name).map(|r| &**r)
    }

    fn lists_model(&self, provider_id: i64, model: &str) -> bool {
        self.provider_models
            .get(&provider_id)
            .is_some_and(|l| l.contains(model))
    }
}

/// The routes in force: the database's, then the config file's redirects (which win on a name
/// both have). A stored route that cannot be read is skipped with an error log. Round-robin
/// positions carry over from the previous snapshot.
fn build_routes(
    stored: &[entity::model_route::Model],
    redirects: &[RouteSpec],
    previous: &Snapshot,
) -> HashMap<String, Arc<ModelRoute>> {
    let mut specs: Vec<(RouteSpec, bool)> = Vec::new();
    for r in stored {
        let strategy = RouteStrategy::parse(&r.strategy);
        match (strategy, routing::targets_from_json(&r.targets)) {
            (Some(strategy), Ok(targets)) => specs.push((
                RouteSpec {
                    name: r.name.clone(),
                    strategy,
                    targets,
                },
                false,
            )),
            (_, Err(why)) => {
                tracing::error!(route = %r.name, "model route skipped: its targets {why}")
            }
            (None, _) => tracing::error!(
                route = %r.name,
                "model route skipped: unknown strategy `{}`",
                r.strategy
            ),
        }
    }
    for spec in redirects {
        if stored.iter().any(|r| r.name == spec.name) {
            tracing::warn!(
                route = %spec.name,
                "a model route in the database has the name of a config redirect; the redirect wins"
            );
        }
        specs.push((spec.clone(), true));
    }
    specs
        .into_iter()
        .map(|(spec, from_config)| {
            let cursor = previous
                .routes
                .get(&spec.name)
                .map_or_else(Default::default, |r| r.cursor.clone());
            (
                spec.name.clone(),
                Arc::new(ModelRoute {
                    name: spec.name,
                    strategy: spec.strategy,
                    targets: spec.targets,
                    from_config,
                    cursor,
                }),
            )
        })
        .collect()
}

/// A client key's limits and model list as the proxy enforces them. A stored value that cannot
/// be enforced (a negative limit, malformed `allowed_models`) refuses the key — fail closed —
/// with an error log naming the key and the field.
fn check_client_key(
    c: &entity::client_key::Model,
) -> (
    crate::limits::KeyLimits,
    Option<Vec<String>>,
    Option<String>,
) {
    let stored = crate::limits::StoredLimits {
        rpm: c.rpm,
        max_concurrent: c.max_concurrent,
        rpd: c.rpd,
        tpd: c.tpd,
        cost_per_day: c.cost_per_day_nanos,
        budget: c.budget_nanos,
    };
    let checked = stored.check().and_then(|limits| {
        crate::limits::parse_allowed_models(c.allowed_models.as_deref()).map(|m| (limits, m))
    });
    match checked {
        Ok((limits, models)) => (limits, models, None),
        Err(bad) => {
            tracing::error!(
                client_key = c.id,
                name = %c.name,
                field = bad.field,
                "client key refused: its stored `{}` {}; correct it through the API",
                bad.field,
                bad.why
            );
            (
                crate::limits::KeyLimits::default(),
                Some(Vec::new()),
                Some(bad.to_string()),
            )
        }
    }
}

/// The health check a provider gets unless it names its own: the model list, which costs
/// nothing and needs a valid credential.
pub fn default_health_check_path(format: ApiFormat) -> &'static str {
    default_models_path(format)
}

/// Where a provider of the format lists its models (under its base URL's path).
pub fn default_models_path(format: ApiFormat) -> &'static str {
    match format {
        ApiFormat::OpenAi | ApiFormat::Anthropic => "/v1/models",
        ApiFormat::Gemini => "/v1beta/models",
    }
}

/// `bearer`, `x-api-key`, `x-goog-api-key`, `api-key`.
pub fn parse_auth_scheme(s: &str) -> Option<CredentialPlacement> {
    match s {
        "bearer" => Some(CredentialPlacement::Bearer),
        "x-api-key" => Some(CredentialPlacement::XApiKey),
        "x-goog-api-key" => Some(CredentialPlacement::XGoogApiKey),
        "api-key" => Some(CredentialPlacement::ApiKey),
        _ => None,
    }
}

pub fn auth_scheme_name(p: CredentialPlacement) -> &'static str {
    match p {
        CredentialPlacement::Bearer => "bearer",
        CredentialPlacement::XApiKey => "x-api-key",
        CredentialPlacement::XGoogApiKey => "x-goog-api-key",
        CredentialPlacement::ApiKey => "api-key",
    }
}

/// Holds the current snapshot and rebuilds it on change.
pub struct Catalog {
    current: ArcSwap<Snapshot>,
    store: Store,
    master: MasterKey,
    tokens: Arc<TokenCells>,
    /// The config file's `[[redirect]]`s (read-only routes).
    redirects: Vec<RouteSpec>,
    fingerprint: Mutex<String>,
}

impl Catalog {
    pub async fn load(
        store: Store,
        master: MasterKey,
        tokens: Arc<TokenCells>,
        redirects: Vec<RouteSpec>,
    ) -> Result<Arc<Self>, StoreError> {
        let catalog = Arc::new(Self {
            current: ArcSwap::from_pointee(Snapshot::default()),
            store,
            master,
            tokens,
            redirects,
            fingerprint: Mutex::new(String::new()),
        });
        catalog.refresh().await?;
        Ok(catalog)
    }

    /// The snapshot in force; lock-free.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Rebuilds from the database now (called after every write through this instance's API).
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let mut fp = self.fingerprint.lock().await;
        let new_fp = self.store.fingerprint().await?;
        let rows = self.store.load_catalog().await?;
        let previous = self.current.load();
        let snapshot =
            Snapshot::build(rows, &self.master, &previous, &self.tokens, &self.redirects);
        self.current.store(Arc::new(snapshot));
        *fp = new_fp;
        Ok(())
    }

    async fn refresh_if_changed(&self) -> Result<bool, StoreError> {
        let latest = self.store.fingerprint().await?;
        if *self.fingerprint.lock().await == latest {
            return Ok(false);
        }
        self.refresh().await?;
        Ok(true)
    }

    /// Picks up changes made by other instances.
    pub async fn poll(self: Arc<Self>, every: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match self.refresh_if_changed().await {
                        Ok(true) => tracing::debug!("configuration snapshot reloaded"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!("configuration poll failed: {e}"),
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_parse_into_upstreams() {
        let u = Upstream::parse("https://api.openai.com").unwrap();
        assert_eq!(
            (
                u.tls,
                u.port,
                u.path_prefix.as_str(),
                u.host_header.as_str()
            ),
            (true, 443, "", "api.openai.com")
        );
        let u = Upstream::parse("http://127.0.0.1:8000/api/").unwrap();
        assert_eq!(
            (
                u.tls,
                u.port,
                u.path_prefix.as_str(),
                u.host_header.as_str()
            ),
            (false, 8000, "/api", "127.0.0.1:8000")
        );
        let u = Upstream::parse("http://[::1]:9000").unwrap();
        assert_eq!(
            (u.host.as_str(), u.host_header.as_str()),
            ("::1", "[::1]:9000")
        );
        assert!(Upstream::parse("ftp://x").is_err());
        assert!(Upstream::parse("https://u:p@x").is_err());
        assert!(Upstream::parse("https://x/?a=1").is_err());
        assert!(Upstream::parse("not a url").is_err());
    }

    #[test]
    fn price_in_force_is_the_latest_before_the_time() {
        let t0 = Utc::now();
        let entry = |secs: i64, input: i64| PriceEntry {
            effective_from: t0 + chrono::Duration::seconds(secs),
            input_nanos_per_mtok: input,
            output_nanos_per_mtok: 0,
            cache_write_nanos_per_mtok: 0,
            cache_read_nanos_per_mtok: 0,
            currency: "USD".into(),
        };
        let mut snap = Snapshot::default();
        snap.prices.insert(
            "m".into(),
            vec![entry(-100, 1), entry(-10, 2), entry(100, 3)],
        );
        assert_eq!(snap.price_at("m", t0).unwrap().input_nanos_per_mtok, 2);
        assert_eq!(
            snap.price_at("m", t0 - chrono::Duration::seconds(50))
                .unwrap()
                .input_nanos_per_mtok,
            1
        );
        assert!(
            snap.price_at("m", t0 - chrono::Duration::seconds(500))
                .is_none()
        );
        assert!(snap.price_at("other", t0).is_none());
        assert_eq!(
            snap.price_at("m-2024-08-06", t0)
                .unwrap()
                .input_nanos_per_mtok,
            2
        );
        assert_eq!(
            snap.price_at("m-20250929", t0)
                .unwrap()
                .input_nanos_per_mtok,
            2
        );
        snap.prices.insert("m-mini".into(), vec![entry(-100, 9)]);
        assert_eq!(
            snap.price_at("m-mini-2024-07-18", t0)
                .unwrap()
                .input_nanos_per_mtok,
            9
        );
        assert!(
            snap.price_at("m-pro", t0).is_none(),
            "another model, not a snapshot"
        );
        assert!(snap.price_at("m-2024", t0).is_none());
        assert!(snap.price_at("mx", t0).is_none());
        // Provider aliases.
        for alias in [
            "m-latest",
            "m-preview-05-20",
            "m-preview",
            "m-exp-1206",
            "m-002",
            "m-preview-2025-05-20",
        ] {
            assert_eq!(
                snap.price_at(alias, t0).map(|p| p.input_nanos_per_mtok),
                Some(2),
                "{alias}"
            );
        }
        for other in ["m-pro", "m-12", "m-previewx", "-latest", "m-0002"] {
            assert!(snap.price_at(other, t0).is_none(), "{other}");
        }
    }
}
