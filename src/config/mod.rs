//! Typed configuration: layering (defaults < file < env < CLI), validation, and redacted secrets.

mod secret;

pub use secret::Secret;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The documented defaults; the same file users read.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub proxy: ProxyConfig,
    pub admin: AdminConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub security: SecurityConfig,
    pub health: HealthConfig,
    pub limits: LimitsConfig,
    pub ledger: LedgerConfig,
    pub retention: RetentionConfig,
    pub oauth: OAuthConfig,
    pub models: ModelsConfig,
    pub server: ServerConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub otel: OtelConfig,
    /// Model redirects of the unified API (`[[redirect]] from = "claude"
    /// to = "anthropic/claude-…"`): read-only model routes.
    #[serde(default)]
    pub redirect: Vec<RedirectConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    /// How often every provider's model list is fetched again; 0: only on demand.
    pub refresh_interval_secs: u64,
    /// A model-list fetch that takes longer fails.
    pub fetch_timeout_ms: u64,
}

/// One `[[redirect]]`: a bare model name standing for one or more `provider/model` targets.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectConfig {
    pub from: String,
    pub to: RedirectTargets,
    /// `first_available` (the default), `round_robin`, `random` or `weighted`.
    #[serde(default)]
    pub strategy: Option<String>,
}

/// `to = "provider/model"` or `to = ["provider/model", …]` (weights 1), or
/// `to = [{ target = "provider/model", weight = 3 }, …]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RedirectTargets {
    One(String),
    Many(Vec<RedirectTarget>),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RedirectTarget {
    Name(String),
    Weighted { target: String, weight: u32 },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    pub threads: usize,
    pub max_body_bytes: u64,
    /// Request bytes all requests may hold buffered at once; past it new bodies wait briefly,
    /// then get 503.
    pub max_buffered_bytes: u64,
    pub max_usage_buffer_bytes: u64,
    pub upstream_idle_timeout_secs: u64,
    /// No new attempt on another credential starts after this long.
    pub failover_deadline_secs: u64,
    /// When the client leaves mid-answer, the upstream is read on (to get the provider's own
    /// usage) for at most this many bytes and seconds.
    pub drain_max_bytes: u64,
    pub drain_timeout_secs: u64,
    /// Open connections at once; past it new ones get 503 and are closed.
    pub max_connections: usize,
    /// Open connections at once from one client address (0: no per-address cap).
    pub max_connections_per_ip: usize,
    /// A request's header must arrive whole within this many seconds.
    pub header_timeout_secs: u64,
    /// An idle keep-alive connection is closed after this many seconds.
    pub idle_timeout_secs: u64,
    /// A request body that stalls this long gets 408.
    pub body_timeout_secs: u64,
}

/// A listening port's budget of connections and time (`proxy.*` and `admin.*` keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at once; past it new ones get 503 and are closed.
    pub max_connections: usize,
    /// Open connections at once from one client address (0: no per-address cap).
    pub max_connections_per_ip: usize,
    /// A request's header must arrive whole within this many seconds of the connection
    /// opening (or of the first byte after an idle keep-alive).
    pub header_timeout_secs: u64,
    /// An idle keep-alive connection is closed after this many seconds.
    pub idle_timeout_secs: u64,
    /// A request body that stalls this long gets 408.
    pub body_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    pub listen: SocketAddr,
    #[serde(default)]
    pub bootstrap_password: Option<Secret<String>>,
    pub token_ttl_secs: u64,
    /// Lifetime of a refresh token; each use rotates it and starts a new lifetime.
    pub refresh_ttl_secs: u64,
    /// Failed logins for one username, within `lockout_secs`, that lock it.
    pub lockout_attempts: u32,
    /// The failure window and the lock's duration.
    pub lockout_secs: u64,
    /// Lifetime of a key-pair login challenge.
    pub challenge_ttl_secs: u64,
    /// Open connections at once; past it new ones get 503 and are closed.
    pub max_connections: usize,
    /// Open connections at once from one client address (0: no per-address cap).
    pub max_connections_per_ip: usize,
    /// A request's header must arrive whole within this many seconds; a keep-alive connection
    /// idle this long is closed.
    pub header_timeout_secs: u64,
    /// A connection that transfers nothing for this long (a stalled body) is closed.
    pub body_timeout_secs: u64,
    /// Live (unused, unexpired) challenges per username; a new one replaces the oldest.
    pub challenges_per_username: u64,
    /// Live challenges in all; past it, challenges are refused with 429.
    pub challenges_max: u64,
    /// Login and challenge attempts per client address per minute (a burst of that many).
    pub login_per_address_per_minute: u32,
    /// Login and challenge attempts per username per minute.
    pub login_per_username_per_minute: u32,
    /// Password checks (argon2, 19 MiB each) that run at once; each keeps one buffer.
    pub password_check_slots: u32,
    /// How long a login waits for a free check slot before it gets 429.
    pub password_check_wait_ms: u64,
    /// Always mark the console's refresh cookie `Secure` (it is also marked when a proxy
    /// sends `X-Forwarded-Proto: https`).
    #[serde(default)]
    pub secure_cookie: bool,
    /// The built web console (`web/dist`), served at `/`. Relative paths are taken from the
    /// working directory.
    #[serde(default = "default_console_dir")]
    pub console_dir: std::path::PathBuf,
}

fn default_console_dir() -> std::path::PathBuf {
    std::path::PathBuf::from("web/dist")
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: Secret<String>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    #[serde(default)]
    pub url: Option<Secret<String>>,
    pub key_prefix: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    #[serde(default)]
    pub master_key: Option<Secret<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    pub check_interval_secs: u64,
    pub check_timeout_ms: u64,
    pub failure_threshold: u32,
    pub circuit_open_secs: u64,
    pub cooldown_max_secs: u64,
    /// Cool-down of a key whose account is out of quota, when the provider gives no time.
    pub quota_cooldown_secs: u64,
    pub sync_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub timezone: String,
    pub on_redis_failure: RedisFailure,
    pub default_max_tokens: u64,
    pub settle_flush_ms: u64,
    /// With Redis: how long a running request's lease (its concurrency slot and reserved
    /// spend) outlives its instance's last renewal; renewed every third of it.
    pub lease_ttl_secs: u64,
}

/// What the limits do when Redis is configured but unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedisFailure {
    /// Fall back to in-process counters.
    FailOpen,
    /// Refuse with 503.
    FailClosed,
}

impl LimitsConfig {
    pub fn tz(&self) -> Option<chrono_tz::Tz> {
        self.timezone.parse().ok()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    pub queue_capacity: usize,
    pub batch_size: usize,
    /// How long the writer waits for a batch to fill before writing a smaller one (ms; 0: write
    /// whatever is queued at once). Fewer, larger transactions cost the database far less.
    #[serde(default = "default_ledger_flush_ms")]
    pub flush_ms: u64,
    /// Where records that do not fit the queue are appended until the writer replays them;
    /// empty: `ledger.spill` beside the SQLite file, or in the working directory.
    #[serde(default)]
    pub spill_path: String,
}

fn default_ledger_flush_ms() -> u64 {
    50
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Request logs older than this many days are deleted; 0 keeps them forever.
    pub request_log_days: u32,
    /// Most rows one delete statement removes.
    pub batch_size: u64,
    /// Time between two sweeps.
    pub interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// How long an authorization may wait for its callback; then it is refused and removed.
    pub authorization_ttl_secs: u64,
    /// Refresh a provider token this long before it expires.
    pub refresh_margin_secs: u64,
    /// How often each instance checks for due refreshes and reads what others changed
    /// (tokens, revocations, issuers).
    pub sync_interval_ms: u64,
    /// Longest pause between two refresh attempts after network or 5xx failures.
    pub refresh_backoff_max_secs: u64,
    /// Timeout of one call to a token or JWKS endpoint.
    pub http_timeout_secs: u64,
    /// How long a refresh lock (Redis) or lease (database) is held at most.
    pub lock_ttl_secs: u64,
    /// Lifetime of an access token issued at `POST /oauth/token`.
    pub access_token_ttl_secs: u64,
    /// How long fetched JWKS keys are used before being fetched again.
    pub jwks_cache_secs: u64,
    /// Least time between two fetches of one issuer's JWKS for an unknown `kid`.
    pub jwks_refetch_min_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub grace_period_secs: u64,
    pub config_poll_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
    /// Level of the one line per proxied request, or `off`.
    pub request_level: RequestLevel,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (`text` is accepted too).
    #[serde(alias = "text")]
    Pretty,
    Json,
}

/// `log.request_level`: the level of the per-request line, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RequestLevel {
    Off,
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `GET /metrics`.
    pub enabled: bool,
    /// Own address for `/metrics`; unset: served on `admin.listen`.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// When set, scrapes must send `Authorization: Bearer <token>`.
    #[serde(default)]
    pub bearer_token: Option<Secret<String>>,
    /// Add a `client_key` label (the key's name) to the per-request metrics.
    pub client_key_labels: bool,
    /// Distinct model names kept as label values; later ones are counted as `other`.
    pub max_models: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OtelConfig {
    /// OTLP/HTTP traces endpoint, e.g. `http://collector:4318/v1/traces`; unset: no export.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// `service.name` of the exported spans.
    pub service_name: String,
}

/// Values given on the command line; they win over every other layer.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct CliOverrides {
    pub proxy_listen: Option<String>,
    pub admin_listen: Option<String>,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} not found")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Parse(String),
    #[error("invalid configuration: `{key}` {message}")]
    Invalid { key: &'static str, message: String },
}

/// The database backends Tollgate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl Config {
    /// Builds the configuration from every layer and validates it.
    pub fn load(file: Option<&Path>, cli: &CliOverrides) -> Result<Self, ConfigError> {
        Self::load_from(file, cli, Env::prefixed("TOLLGATE__").split("__"))
    }

    fn load_from(file: Option<&Path>, cli: &CliOverrides, env: Env) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_path_buf()));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(env);
        for (key, value) in [
            ("proxy.listen", &cli.proxy_listen),
            ("admin.listen", &cli.admin_listen),
            ("database.url", &cli.database_url),
            ("redis.url", &cli.redis_url),
        ] {
            if let Some(value) = value {
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(one_line(&e)))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.to_string(),
            })
        };
        if self.proxy.listen == self.admin.listen {
            return invalid("admin.listen", "must differ from proxy.listen");
        }
        if self.proxy.max_body_bytes == 0 {
            return invalid("proxy.max_body_bytes", "must be greater than 0");
        }
        if self.proxy.threads > 1024 {
            return invalid("proxy.threads", "must be at most 1024");
        }
        if self.proxy.max_buffered_bytes < self.proxy.max_body_bytes {
            return invalid(
                "proxy.max_buffered_bytes",
                "must be at least proxy.max_body_bytes",
            );
        }
        if !(1..=3_600).contains(&self.proxy.failover_deadline_secs) {
            return invalid("proxy.failover_deadline_secs", "must be between 1 and 3600");
        }
        if self.proxy.drain_timeout_secs > 600 {
            return invalid("proxy.drain_timeout_secs", "must be at most 600");
        }
        for (prefix, c) in [
            ("proxy", &self.proxy.connections()),
            ("admin", &self.admin.connections()),
        ] {
            c.validate(prefix)?;
        }
        if self.admin.token_ttl_secs < 60 {
            return invalid("admin.token_ttl_secs", "must be at least 60");
        }
        if !(1..=315_360_000).contains(&self.admin.refresh_ttl_secs) {
            return invalid(
                "admin.refresh_ttl_secs",
                "must be between 1 and 315360000 (10 years)",
            );
        }
        if !(1..=1000).contains(&self.admin.lockout_attempts) {
            return invalid("admin.lockout_attempts", "must be between 1 and 1000");
        }
        if !(1..=86_400).contains(&self.admin.lockout_secs) {
            return invalid("admin.lockout_secs", "must be between 1 and 86400");
        }
        if !(1..=3_600).contains(&self.admin.challenge_ttl_secs) {
            return invalid("admin.challenge_ttl_secs", "must be between 1 and 3600");
        }
        if !(1..=100).contains(&self.admin.challenges_per_username) {
            return invalid("admin.challenges_per_username", "must be between 1 and 100");
        }
        if !(1..=1_000_000).contains(&self.admin.challenges_max) {
            return invalid("admin.challenges_max", "must be between 1 and 1000000");
        }
        if !(1..=100_000).contains(&self.admin.login_per_address_per_minute) {
            return invalid(
                "admin.login_per_address_per_minute",
                "must be between 1 and 100000",
            );
        }
        if !(1..=100_000).contains(&self.admin.login_per_username_per_minute) {
            return invalid(
                "admin.login_per_username_per_minute",
                "must be between 1 and 100000",
            );
        }
        if !(1..=64).contains(&self.admin.password_check_slots) {
            return invalid("admin.password_check_slots", "must be between 1 and 64");
        }
        if self.admin.password_check_wait_ms > 60_000 {
            return invalid("admin.password_check_wait_ms", "must be at most 60000");
        }
        if let Some(pw) = &self.admin.bootstrap_password {
            if pw.expose().chars().count() < 8 {
                return invalid(
                    "admin.bootstrap_password",
                    "must have at least 8 characters",
                );
            }
        }
        self.database_kind()?;
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be greater than 0");
        }
        if let Some(url) = &self.redis.url {
            let u = url.expose();
            if !(u.starts_with("redis://") || u.starts_with("rediss://")) {
                return invalid("redis.url", "must start with redis:// or rediss://");
            }
        }
        if self.health.failure_threshold == 0 {
            return invalid("health.failure_threshold", "must be at least 1");
        }
        if self.health.check_timeout_ms == 0 {
            return invalid("health.check_timeout_ms", "must be greater than 0");
        }
        if self.health.sync_interval_ms < 50 {
            return invalid("health.sync_interval_ms", "must be at least 50");
        }
        if self.limits.tz().is_none() {
            return invalid(
                "limits.timezone",
                "is not an IANA time zone name (e.g. UTC, Europe/Berlin)",
            );
        }
        if self.limits.default_max_tokens == 0 {
            return invalid("limits.default_max_tokens", "must be greater than 0");
        }
        if self.limits.settle_flush_ms == 0 {
            return invalid("limits.settle_flush_ms", "must be greater than 0");
        }
        if !(3..=3_600).contains(&self.limits.lease_ttl_secs) {
            return invalid("limits.lease_ttl_secs", "must be between 3 and 3600");
        }
        if self.ledger.queue_capacity == 0 {
            return invalid("ledger.queue_capacity", "must be greater than 0");
        }
        // One row binds 21 parameters; SQLite allows 32766 per statement.
        if !(1..=1000).contains(&self.ledger.batch_size) {
            return invalid("ledger.batch_size", "must be between 1 and 1000");
        }
        if self.ledger.flush_ms > 10_000 {
            return invalid("ledger.flush_ms", "must be at most 10000");
        }
        if self.retention.request_log_days > 36_500 {
            return invalid(
                "retention.request_log_days",
                "must be at most 36500 (0 keeps request logs forever)",
            );
        }
        if !(1..=100_000).contains(&self.retention.batch_size) {
            return invalid("retention.batch_size", "must be between 1 and 100000");
        }
        if !(1..=604_800).contains(&self.retention.interval_secs) {
            return invalid(
                "retention.interval_secs",
                "must be between 1 and 604800 (a week)",
            );
        }
        let o = &self.oauth;
        if !(1..=86_400).contains(&o.authorization_ttl_secs) {
            return invalid(
                "oauth.authorization_ttl_secs",
                "must be between 1 and 86400",
            );
        }
        if o.refresh_margin_secs > 86_400 {
            return invalid("oauth.refresh_margin_secs", "must be at most 86400");
        }
        if !(50..=3_600_000).contains(&o.sync_interval_ms) {
            return invalid("oauth.sync_interval_ms", "must be between 50 and 3600000");
        }
        if !(1..=86_400).contains(&o.refresh_backoff_max_secs) {
            return invalid(
                "oauth.refresh_backoff_max_secs",
                "must be between 1 and 86400",
            );
        }
        if !(1..=300).contains(&o.http_timeout_secs) {
            return invalid("oauth.http_timeout_secs", "must be between 1 and 300");
        }
        if o.lock_ttl_secs <= o.http_timeout_secs || o.lock_ttl_secs > 3_600 {
            return invalid(
                "oauth.lock_ttl_secs",
                "must be greater than oauth.http_timeout_secs and at most 3600",
            );
        }
        if !(1..=604_800).contains(&o.access_token_ttl_secs) {
            return invalid(
                "oauth.access_token_ttl_secs",
                "must be between 1 and 604800",
            );
        }
        if !(1..=604_800).contains(&o.jwks_cache_secs) {
            return invalid("oauth.jwks_cache_secs", "must be between 1 and 604800");
        }
        if o.jwks_refetch_min_secs > 86_400 {
            return invalid("oauth.jwks_refetch_min_secs", "must be at most 86400");
        }
        if self.models.refresh_interval_secs > 604_800 {
            return invalid(
                "models.refresh_interval_secs",
                "must be at most 604800 (a week; 0 refreshes only on demand)",
            );
        }
        if !(1..=300_000).contains(&self.models.fetch_timeout_ms) {
            return invalid("models.fetch_timeout_ms", "must be between 1 and 300000");
        }
        if self.server.grace_period_secs > 300 {
            return invalid("server.grace_period_secs", "must be at most 300");
        }
        if self.server.config_poll_ms < 100 {
            return invalid("server.config_poll_ms", "must be at least 100");
        }
        if self.security.master_key.is_none() && self.database_kind()? == DatabaseKind::Postgres {
            return invalid(
                "security.master_key",
                "must be set when the database is Postgres (every instance must share it)",
            );
        }
        if let Some(key) = &self.security.master_key {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD.decode(key.expose().trim());
            if decoded.map_or(true, |k| k.len() != 32) {
                return invalid("security.master_key", "must be 32 bytes encoded as base64");
            }
        }
        if self
            .metrics
            .listen
            .is_some_and(|a| a == self.proxy.listen || a == self.admin.listen)
        {
            return invalid(
                "metrics.listen",
                "must differ from proxy.listen and admin.listen (leave it unset to serve /metrics on admin.listen)",
            );
        }
        if self
            .metrics
            .bearer_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return invalid("metrics.bearer_token", "must have at least 16 characters");
        }
        if !(1..=100_000).contains(&self.metrics.max_models) {
            return invalid("metrics.max_models", "must be between 1 and 100000");
        }
        if let Some(endpoint) = &self.otel.endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return invalid("otel.endpoint", "must start with http:// or https://");
            }
        }
        if self.otel.service_name.trim().is_empty() {
            return invalid("otel.service_name", "must not be empty");
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError::Invalid {
                key: "log.level",
                message: format!("is not a valid filter: {e}"),
            })
            .map(|_| ())
    }

    pub fn database_kind(&self) -> Result<DatabaseKind, ConfigError> {
        let url = self.database.url.expose();
        if url.starts_with("sqlite:") {
            Ok(DatabaseKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseKind::Postgres)
        } else {
            Err(ConfigError::Invalid {
                key: "database.url",
                message: "must start with sqlite:// or postgres://".to_string(),
            })
        }
    }

    /// The SQLite database file, when the database is SQLite.
    /// The ledger's spill file (`ledger.spill_path`, or `ledger.spill` beside the SQLite file,
    /// or in the working directory).
    pub fn ledger_spill_path(&self) -> PathBuf {
        if !self.ledger.spill_path.is_empty() {
            return PathBuf::from(&self.ledger.spill_path);
        }
        self.sqlite_path()
            .and_then(|p| p.parent().map(|d| d.join("ledger.spill")))
            .filter(|p| p.parent().is_some_and(|d| !d.as_os_str().is_empty()))
            .unwrap_or_else(|| PathBuf::from("ledger.spill"))
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let url = self.database.url.expose();
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(path))
    }
}

impl ProxyConfig {
    pub fn connections(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            header_timeout_secs: self.header_timeout_secs,
            idle_timeout_secs: self.idle_timeout_secs,
            body_timeout_secs: self.body_timeout_secs,
        }
    }
}

impl AdminConfig {
    /// On :9090 an idle keep-alive connection is closed when the next header is due.
    pub fn connections(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            header_timeout_secs: self.header_timeout_secs,
            idle_timeout_secs: self.header_timeout_secs,
            body_timeout_secs: self.body_timeout_secs,
        }
    }
}

impl ConnectionLimits {
    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| {
            Err(ConfigError::Invalid {
                key: full_key(prefix, key),
                message: message.to_string(),
            })
        };
        if self.max_connections == 0 {
            return invalid("max_connections", "must be at least 1");
        }
        if !(1..=3_600).contains(&self.header_timeout_secs) {
            return invalid("header_timeout_secs", "must be between 1 and 3600");
        }
        if !(1..=86_400).contains(&self.idle_timeout_secs) {
            return invalid("idle_timeout_secs", "must be between 1 and 86400");
        }
        if !(1..=3_600).contains(&self.body_timeout_secs) {
            return invalid("body_timeout_secs", "must be between 1 and 3600");
        }
        Ok(())
    }
}

/// The full key for an error message (`proxy.max_connections`).
fn full_key(prefix: &str, key: &str) -> &'static str {
    const KEYS: [&str; 10] = [
        "proxy.max_connections",
        "proxy.header_timeout_secs",
        "proxy.idle_timeout_secs",
        "proxy.body_timeout_secs",
        "proxy.max_connections_per_ip",
        "admin.max_connections",
        "admin.header_timeout_secs",
        "admin.idle_timeout_secs",
        "admin.body_timeout_secs",
        "admin.max_connections_per_ip",
    ];
    KEYS.iter()
        .find(|k| k.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) == Some(key))
        .copied()
        .unwrap_or("connections")
}

/// `\`proxy.listen\` invalid socket address syntax (from TOLLGATE__ environment variable(s))`.
fn one_line(e: &figment::Error) -> String {
    let parts: Vec<String> = e
        .clone()
        .into_iter()
        .map(|err| {
            let key = err.path.join(".").to_lowercase();
            let source = err
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if key.is_empty() {
                format!("{}{source}", err.kind)
            } else {
                format!("`{key}` {}{source}", err.kind)
            }
        })
        .collect();
    parts.join("; ").replace('\n', " ")
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::result_large_err
)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_validate() {
        let c =
            Config::load_from(None, &CliOverrides::default(), Env::prefixed("TGNONE__")).unwrap();
        assert_eq!(c.proxy.listen.port(), 8080);
        assert_eq!(c.admin.listen.port(), 9090);
        assert_eq!(c.proxy.max_body_bytes, 32 * 1024 * 1024);
        assert_eq!(c.database_kind().unwrap(), DatabaseKind::Sqlite);
        assert!(c.redis.url.is_none());
        assert!(c.server.grace_period_secs <= 30);
        assert_eq!(c.admin.refresh_ttl_secs, 30 * 24 * 3600);
        assert_eq!((c.admin.lockout_attempts, c.admin.lockout_secs), (5, 300));
        assert_eq!(c.admin.challenge_ttl_secs, 60);
        assert_eq!(
            (
                c.admin.login_per_address_per_minute,
                c.admin.login_per_username_per_minute,
                c.admin.password_check_slots,
                c.admin.password_check_wait_ms,
                c.admin.challenges_per_username,
                c.admin.challenges_max,
            ),
            (30, 10, 2, 1000, 5, 10_000)
        );
        assert_eq!(c.limits.lease_ttl_secs, 30);
        assert_eq!(
            (
                c.retention.request_log_days,
                c.retention.batch_size,
                c.retention.interval_secs
            ),
            (90, 1000, 3600)
        );
    }

    #[test]
    fn retention_settings_are_validated() {
        figment::Jail::expect_with(|jail| {
            for (key, bad) in [
                ("REQUEST_LOG_DAYS", "36501"),
                ("REQUEST_LOG_DAYS", "-1"),
                ("BATCH_SIZE", "0"),
                ("INTERVAL_SECS", "0"),
            ] {
                jail.set_env(format!("TOLLGATE__RETENTION__{key}"), bad);
                let err = Config::load(None, &CliOverrides::default())
                    .unwrap_err()
                    .to_string();
                assert!(
                    err.contains(&format!("retention.{}", key.to_lowercase())),
                    "{err}"
                );
                jail.clear_env();
            }
            jail.set_env("TOLLGATE__RETENTION__REQUEST_LOG_DAYS", "0");
            let c = Config::load(None, &CliOverrides::default()).unwrap();
            assert_eq!(c.retention.request_log_days, 0);
            Ok(())
        });
    }

    #[test]
    fn login_settings_are_validated() {
        figment::Jail::expect_with(|jail| {
            for (key, bad) in [
                ("LOCKOUT_ATTEMPTS", "0"),
                ("LOCKOUT_SECS", "0"),
                ("CHALLENGE_TTL_SECS", "7200"),
                ("REFRESH_TTL_SECS", "0"),
                ("CHALLENGES_PER_USERNAME", "0"),
                ("CHALLENGES_MAX", "0"),
                ("LOGIN_PER_ADDRESS_PER_MINUTE", "0"),
                ("LOGIN_PER_USERNAME_PER_MINUTE", "0"),
                ("PASSWORD_CHECK_SLOTS", "0"),
                ("PASSWORD_CHECK_SLOTS", "65"),
                ("PASSWORD_CHECK_WAIT_MS", "60001"),
            ] {
                jail.set_env(format!("TOLLGATE__ADMIN__{key}"), bad);
                let err = Config::load(None, &CliOverrides::default())
                    .unwrap_err()
                    .to_string();
                assert!(
                    err.contains(&format!("admin.{}", key.to_lowercase())),
                    "{err}"
                );
                jail.clear_env();
            }
            Ok(())
        });
    }

    #[test]
    fn layers_apply_in_order_and_errors_name_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "[proxy]\nlisten = \"127.0.0.1:1000\"\n[admin]\nlisten = \"127.0.0.1:2000\"\n",
            )?;
            jail.set_env("TOLLGATE__ADMIN__LISTEN", "127.0.0.1:3000");
            jail.set_env(
                "TOLLGATE__SECURITY__MASTER_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            );
            let cli = CliOverrides {
                database_url: Some("postgres://u@h/db".into()),
                ..Default::default()
            };
            let c = Config::load(Some(Path::new("t.toml")), &cli).unwrap();
            assert_eq!(c.proxy.listen.port(), 1000);
            assert_eq!(c.admin.listen.port(), 3000);
            assert_eq!(c.database_kind().unwrap(), DatabaseKind::Postgres);

            jail.set_env("TOLLGATE__SECURITY__MASTER_KEY", "");
            let err = Config::load(None, &cli).unwrap_err().to_string();
            assert!(err.contains("security.master_key"), "{err}");
            jail.set_env(
                "TOLLGATE__SECURITY__MASTER_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            );

            jail.set_env("TOLLGATE__PROXY__LISTEN", "not-an-address");
            let err = Config::load(None, &CliOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("proxy.listen"), "{err}");
            assert!(!err.contains('\n'));

            jail.set_env("TOLLGATE__PROXY__LISTEN", "127.0.0.1:1");
            jail.set_env("TOLLGATE__DATABASE__URL", "mysql://x");
            let err = Config::load(None, &CliOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("database.url"), "{err}");

            jail.set_env("TOLLGATE__DATABASE__URL", "sqlite://x.db");
            jail.set_env("TOLLGATE__PROXY__NO_SUCH_KEY", "1");
            let err = Config::load(None, &CliOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("no_such_key"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn observability_settings_default_off_and_are_validated() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, &CliOverrides::default()).unwrap();
            assert!(c.metrics.enabled && c.metrics.listen.is_none());
            assert!(c.metrics.bearer_token.is_none() && !c.metrics.client_key_labels);
            assert!(
                c.otel.endpoint.is_none(),
                "OTLP export must be off by default"
            );
            assert_eq!(c.log.format, LogFormat::Pretty);
            assert_eq!(c.log.request_level, RequestLevel::Info);
            for (key, value, named) in [
                ("METRICS__LISTEN", "0.0.0.0:9090", "metrics.listen"),
                ("METRICS__BEARER_TOKEN", "short", "metrics.bearer_token"),
                ("METRICS__MAX_MODELS", "0", "metrics.max_models"),
                ("OTEL__ENDPOINT", "collector:4318", "otel.endpoint"),
                ("OTEL__SERVICE_NAME", "\" \"", "otel.service_name"),
                ("LOG__REQUEST_LEVEL", "loud", "log.request_level"),
                ("LOG__FORMAT", "xml", "log.format"),
            ] {
                jail.set_env(format!("TOLLGATE__{key}"), value);
                let err = Config::load(None, &CliOverrides::default())
                    .unwrap_err()
                    .to_string();
                assert!(err.contains(named), "{key}: {err}");
                jail.clear_env();
            }
            jail.set_env("TOLLGATE__LOG__FORMAT", "text");
            jail.set_env("TOLLGATE__LOG__REQUEST_LEVEL", "off");
            let c = Config::load(None, &CliOverrides::default()).unwrap();
            assert_eq!(c.log.format, LogFormat::Pretty);
            assert_eq!(c.log.request_level, RequestLevel::Off);
            Ok(())
        });
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let err = Config::load(
            Some(Path::new("/nonexistent/t.toml")),
            &CliOverrides::default(),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }

    #[test]
    fn sqlite_path_is_extracted() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TOLLGATE__DATABASE__URL", "sqlite:///tmp/x/tg.db?mode=rwc");
            let c = Config::load(None, &CliOverrides::default()).unwrap();
            assert_eq!(c.sqlite_path().unwrap(), PathBuf::from("/tmp/x/tg.db"));
            Ok(())
        });
    }
}
