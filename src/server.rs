//! The one place that knows every service and wires them together: storage, catalog, ledger,
//! the Axum control plane and the Pingora data plane, start-up checks and graceful shutdown.

use crate::accounts::Accounts;
use crate::admin;
use crate::auth::{self, JwtKeys, MasterKey};
use crate::cluster::Cluster;
use crate::config::{Config, DatabaseKind};
use crate::health::{HealthPolicy, HealthRegistry, HealthSync, Prober};
use crate::limits::{Limits, Seed};
use crate::metrics::{Metrics, Sources as MetricSources};
use crate::net;
use crate::oauth::OAuth;
use crate::providers;
use crate::proxy::Gateway;
use crate::scheduler::Scheduler;
use crate::snapshot::Catalog;
use crate::state::AppState;
use crate::store::{NewUser, ROLE_ADMIN, Store, StoreError};
use crate::usage::{Ledger, LedgerWriter, Retention};
use anyhow::{Context, anyhow};
use pingora::server::configuration::ServerConf;
use rand::Rng;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::watch;

/// The runtime that owns the database pool, the ledger writer, the catalog poller and the
/// admin server; it lives as long as the process (Pingora's runtimes come and go with it).
pub fn process_runtime() -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tollgate-main")
        .enable_all()
        .build()
        .context("cannot start the runtime")
}

/// Connects to the database (creating an SQLite file) without migrating it.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let kind = config.database_kind()?;
    Store::connect(
        config.database.url.expose(),
        kind,
        config.sqlite_path().as_deref(),
        config.database.max_connections,
    )
    .await
    .context("cannot open the database (database.url)")
}

/// Connects to the database and applies every pending migration. With Postgres, instances
/// that start together race to migrate; the loser's statements fail, so it tries again (by
/// then the winner has applied them).
pub async fn connect_store(config: &Config) -> anyhow::Result<Store> {
    let store = open_store(config).await?;
    let mut tries = 0;
    loop {
        match store.migrate().await {
            Ok(()) => return Ok(store),
            Err(e) if tries < 3 && store.kind() == DatabaseKind::Postgres => {
                tries += 1;
                tracing::warn!(
                    "database migration failed ({e}); another instance may be migrating, trying again in 2s"
                );
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(e).context("database migration failed"),
        }
    }
}

/// The master key: `security.master_key`, or with SQLite the key file beside the database
/// (created on first use).
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(text) = &config.security.master_key {
        return MasterKey::from_base64(text.expose())
            .ok_or_else(|| anyhow!("security.master_key must be 32 bytes encoded as base64"));
    }
    match config.database_kind()? {
        DatabaseKind::Postgres => Err(anyhow!("security.master_key must be set with Postgres")),
        DatabaseKind::Sqlite => {
            let dir = config
                .sqlite_path()
                .and_then(|p| p.parent().map(|d| d.to_path_buf()))
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or_else(|| std::path::PathBuf::from("."));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join("master.key");
            let (key, created) = auth::load_or_create_master_key(&path)?;
            if created {
                tracing::warn!(
                    "generated a new master key in {} (owner-only); back it up: provider secrets cannot be decrypted without it",
                    path.display()
                );
            }
            Ok(key)
        }
    }
}

/// Creates the first admin when there is no user at all.
async fn bootstrap_admin(store: &Store, config: &Config) -> anyhow::Result<()> {
    if store.user_count().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &config.admin.bootstrap_password {
        Some(p) => (p.expose().clone(), false),
        None => {
            let p: String = rand::thread_rng()
                .sample_iter(&rand::distributions::Alphanumeric)
                .take(24)
                .map(char::from)
                .collect();
            (p, true)
        }
    };
    let hash =
        tokio::task::spawn_blocking(move || auth::hash_password(&password).map(|h| (h, password)))
            .await??;
    let created = store
        .create_user(NewUser {
            username: "admin".into(),
            password_hash: hash.0,
            role: ROLE_ADMIN.into(),
            enabled: true,
            // The console asks for a new password at the first sign-in.
            must_change_password: true,
        })
        .await;
    match created {
        Ok(_) => {}
        // Another instance starting at the same time created it first.
        Err(StoreError::Conflict(_)) => {
            tracing::info!("the first admin user was created by another instance");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    if generated {
        tracing::warn!(
            "created the first admin user `admin` with the generated password {} (shown once; set admin.bootstrap_password to choose it)",
            hash.1
        );
    } else {
        tracing::info!("created the first admin user `admin` with admin.bootstrap_password");
    }
    Ok(())
}

/// Fails fast, naming the address, when a listen port is taken (Pingora would retry for 30 s
/// and then panic in its own thread).
fn check_bind(key: &str, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    std::net::TcpListener::bind(addr)
        .map(drop)
        .map_err(|e| anyhow!("cannot listen on {addr} ({key}): {e}"))
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return "none";
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

async fn drain(in_flight: &AtomicUsize, grace: Duration) {
    let deadline = Instant::now() + grace;
    while in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left = in_flight.load(Ordering::SeqCst);
    if left > 0 {
        tracing::warn!(left, "grace period over with requests still in flight");
    }
}

/// Runs Tollgate until SIGTERM/SIGINT, then shuts down gracefully.
pub fn run(config: Config) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let rt = process_runtime()?;
    check_bind("proxy.listen", config.proxy.listen)?;
    net::raise_fd_limit(
        (config.proxy.max_connections + config.admin.max_connections) as u64 * 2 + 1024,
    );
    let admin_listener = rt
        .block_on(tokio::net::TcpListener::bind(config.admin.listen))
        .map_err(|e| {
            anyhow!(
                "cannot listen on {} (admin.listen): {e}",
                config.admin.listen
            )
        })?;

    let metrics_listener = match config.metrics.listen.filter(|_| config.metrics.enabled) {
        Some(addr) => Some(
            rt.block_on(tokio::net::TcpListener::bind(addr))
                .map_err(|e| anyhow!("cannot listen on {addr} (metrics.listen): {e}"))?,
        ),
        None => None,
    };

    let (state, writer) = rt.block_on(build_state(config.clone()))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ledger_stop_tx, ledger_stop_rx) = watch::channel(false);
    let writer_task = rt.spawn(writer.run(ledger_stop_rx.clone()));
    rt.spawn(state.catalog.clone().poll(
        Duration::from_millis(config.server.config_poll_ms),
        stop_rx.clone(),
    ));
    if config.health.check_interval_secs > 0 {
        rt.spawn(state.prober.clone().run(
            state.catalog.clone(),
            Duration::from_secs(config.health.check_interval_secs),
            stop_rx.clone(),
        ));
    }
    rt.spawn(state.oauth.clone().run(stop_rx.clone()));
    rt.spawn(
        state.models.clone().run(
            (config.models.refresh_interval_secs > 0)
                .then(|| Duration::from_secs(config.models.refresh_interval_secs)),
            stop_rx.clone(),
        ),
    );
    rt.spawn(
        HealthSync::new(state.health.clone(), state.cluster.clone()).run(
            Duration::from_millis(config.health.sync_interval_ms),
            stop_rx.clone(),
        ),
    );
    if config.retention.request_log_days > 0 {
        let retention = Retention::new(
            state.store.clone(),
            config.retention.request_log_days,
            config.retention.batch_size,
            Duration::from_secs(config.retention.interval_secs),
        );
        rt.spawn(retention.run(stop_rx.clone()));
    }
    rt.spawn(trim_memory(TRIM_INTERVAL, stop_rx.clone()));
    let flusher_task = state.limits.redis().map(|redis_limits| {
        let every = Duration::from_millis(config.limits.settle_flush_ms);
        // Stops with the ledger, after the drain, so requests finishing then still settle.
        let stop = ledger_stop_rx.clone();
        rt.spawn(async move { redis_limits.run_flusher(every, stop).await })
    });
    // Each port has its own connection budget, so a flood on one cannot silence the other; the
    // admin server runs here, the proxy on a runtime of its own.
    let admin_task = rt.spawn(net::serve_admin(
        admin_listener,
        admin::router(state.clone()),
        net::ConnBudget::new(
            config.admin.max_connections,
            config.admin.max_connections_per_ip,
        ),
        net::PortSettings {
            limits: config.admin.connections(),
            render: Arc::new(|_, code, message, _| admin::error_json(code, message)),
        },
        stop_rx.clone(),
        Duration::from_secs(config.server.grace_period_secs),
    ));

    if let Some(listener) = metrics_listener {
        let app = admin::metrics::router(state.clone());
        let mut stop = stop_rx.clone();
        rt.spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("metrics server failed: {e}");
            }
        });
    }

    let threads = match config.proxy.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let proxy_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("tollgate-proxy")
        .enable_all()
        .build()
        .context("cannot start the proxy runtime")?;
    let proxy_listener = proxy_rt
        .block_on(tokio::net::TcpListener::bind(config.proxy.listen))
        .map_err(|e| {
            anyhow!(
                "cannot listen on {} (proxy.listen): {e}",
                config.proxy.listen
            )
        })?;
    let app = Arc::new(pingora::proxy::http_proxy(
        &Arc::new(ServerConf::default()),
        Gateway::new(state.clone()),
    ));
    proxy_rt.spawn(net::serve_proxy(
        proxy_listener,
        app,
        net::ConnBudget::new(
            config.proxy.max_connections,
            config.proxy.max_connections_per_ip,
        ),
        net::PortSettings {
            limits: config.proxy.connections(),
            render: Arc::new(|status, code, message, path| {
                let format = providers::guess_format(path.unwrap_or("/"), false);
                providers::error_body(format, status, code, message)
            }),
        },
        stop_rx,
    ));
    tracing::info!(
        proxy = %config.proxy.listen,
        admin = %config.admin.listen,
        database = ?config.database_kind().ok(),
        "tollgate is running"
    );

    rt.block_on(async {
        let which = wait_for_signal().await;
        tracing::info!(
            "{which} received: draining (at most {}s)",
            config.server.grace_period_secs
        );
        tokio::spawn(async {
            let again = wait_for_signal().await;
            tracing::warn!("{again} received again: exiting now");
            std::process::exit(1);
        });
        let _ = stop_tx.send(true);
        drain(
            &state.in_flight,
            Duration::from_secs(config.server.grace_period_secs),
        )
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(5), admin_task).await;
        let _ = ledger_stop_tx.send(true);
        if let Some(task) = flusher_task {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        if tokio::time::timeout(Duration::from_secs(30), writer_task)
            .await
            .is_err()
        {
            tracing::error!("ledger writer did not finish flushing in 30s");
        }
        tracing::info!(dropped = state.ledger.dropped(), "shutdown complete");
    });
    proxy_rt.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

async fn build_state(config: Arc<Config>) -> anyhow::Result<(Arc<AppState>, LedgerWriter)> {
    let master = master_key(&config)?;
    let store = connect_store(&config).await?;
    bootstrap_admin(&store, &config).await?;
    let cluster = match &config.redis.url {
        Some(url) => Cluster::connect(url.expose(), &config.redis.key_prefix).await?,
        None => Cluster::in_process(&config.redis.key_prefix),
    };
    let health = Arc::new(HealthRegistry::new(HealthPolicy {
        failure_threshold: config.health.failure_threshold,
        circuit_open: Duration::from_secs(config.health.circuit_open_secs),
        cooldown_max: Duration::from_secs(config.health.cooldown_max_secs),
        quota_cooldown: Duration::from_secs(config.health.quota_cooldown_secs),
    }));
    // A new token makes a "credential rejected" mark obsolete (other marks stay).
    let renewed_health = health.clone();
    let renewed = move |key_id| {
        if renewed_health.view(key_id).status.state == crate::health::State::Invalid {
            renewed_health.reset(key_id);
        }
    };
    let oauth = Arc::new(
        OAuth::new(
            store.clone(),
            master.clone(),
            cluster.clone(),
            &config.oauth,
            Arc::new(renewed),
        )
        .map_err(|e| anyhow!("cannot start OAuth: {e}"))?,
    );
    oauth
        .sync()
        .await
        .map_err(|e| anyhow!("cannot load OAuth tokens: {e}"))?;
    let redirects = crate::routing::redirects_from_config(&config.redirect)
        .map_err(|e| anyhow!("invalid configuration: {e}"))?;
    let catalog = Catalog::load(store.clone(), master.clone(), oauth.cells(), redirects)
        .await
        .context("cannot load the configuration snapshot")?;
    let (ledger, writer) = Ledger::with_spill(
        store.clone(),
        config.ledger.queue_capacity,
        config.ledger.batch_size,
        Arc::new(crate::usage::spill::Spill::new(config.ledger_spill_path())),
    );
    let writer = writer.with_linger(Duration::from_millis(config.ledger.flush_ms));
    let prober = Arc::new(Prober::new(
        health.clone(),
        Duration::from_millis(config.health.check_timeout_ms),
    ));
    let jwt = JwtKeys::new(&master, config.admin.token_ttl_secs);
    let accounts = Arc::new(Accounts::new(
        store.clone(),
        master.clone(),
        jwt.clone(),
        &config.admin,
    ));
    let limits = Arc::new(Limits::new(
        &cluster,
        config.limits.tz().unwrap_or(chrono_tz::UTC),
        config.limits.on_redis_failure,
        Duration::from_secs(config.limits.lease_ttl_secs),
    ));
    seed_limits(&store, &limits).await?;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let metrics = Arc::new(Metrics::new(
        &config.metrics,
        config.log.request_level,
        MetricSources {
            catalog: catalog.clone(),
            health: health.clone(),
            ledger: ledger.clone(),
            accounts: accounts.clone(),
            store: store.clone(),
            cluster: cluster.clone(),
            in_flight: in_flight.clone(),
        },
    ));
    let models = Arc::new(crate::models::ModelLists::new(
        store.clone(),
        catalog.clone(),
        Duration::from_millis(config.models.fetch_timeout_ms),
    ));
    let state = Arc::new(AppState {
        models,
        jwt,
        accounts,
        config,
        store,
        master,
        catalog,
        ledger,
        cluster,
        scheduler: Scheduler::new(health.clone(), limits.caps.clone()),
        limits,
        oauth,
        health,
        prober,
        estimator: Arc::default(),
        metrics,
        in_flight,
    });
    Ok((state, writer))
}

/// Loads what each client key has spent before this start (lifetime, and so far today) into
/// the limit counters.
async fn seed_limits(store: &Store, limits: &Limits) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let day = limits.day_of(now);
    let totals = store
        .client_key_totals(limits.day_start(now))
        .await
        .context("cannot read spend from the ledger")?;
    for t in totals {
        limits
            .seed(
                t.client_key_id,
                &Seed {
                    lifetime_spend: t.lifetime_cost_nanos,
                    day: day.clone(),
                    day_requests: t.day_requests.max(0) as u64,
                    day_tokens: t.day_tokens.max(0) as u64,
                    day_cost: t.day_cost_nanos,
                },
            )
            .await;
    }
    Ok(())
}

/// How often freed memory is handed back to the system.
const TRIM_INTERVAL: Duration = Duration::from_secs(10);

/// Hands the allocator's free pages back every `every`: after a burst, freed request buffers
/// would otherwise stay in the per-thread arenas and the resident size would stay at its peak.
/// The walk locks one arena at a time; it runs on a blocking thread.
async fn trim_memory(every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let _ = tokio::task::spawn_blocking(tollgate_alloc_tune::trim).await;
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}
