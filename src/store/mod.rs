//! The only place that talks SQL: connection, migrations and every query, on SQLite or Postgres.

mod audit;
mod catalog;
mod keys;
mod logs;
mod oauth;
mod prices;
mod providers;
mod roles;
mod rollups;
mod routes;
mod sessions;
mod users;

pub use audit::{AuditFilter, AuditPage, NewAuditEntry};
pub use catalog::CatalogRows;
pub use keys::{
    ClientKeyLimits, ClientKeyLimitsPatch, ClientKeyPatch, ClientKeyWithPool, NewClientKey,
    NewProviderKey, ProviderKeyPatch,
};
pub use logs::{ClientKeyTotals, LogFilter, LogPage};
pub use oauth::{NewJwtIssuer, ProviderOAuthRow, Revocations, TokenPairRow};
pub use prices::{NewPrice, UnpricedModel};
pub use providers::{NewProvider, ProviderPatch};
pub use roles::{NewRole, RolePatch};
pub use rollups::{
    LATENCY_BOUNDS_MS, LATENCY_BUCKETS, LedgerRows, NamedUsage, RankBy, RollupFilter, RollupKey,
    UsageTotals,
};
pub use routes::{ModelRoutePatch, NewModelRoute};
pub use sessions::NewRefreshToken;
pub use users::{NewUser, ROLE_ADMIN, UserPatch};

use crate::config::DatabaseKind;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlErr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid reference: {0}")]
    InvalidReference(String),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("database setup: {0}")]
    Setup(String),
}

impl StoreError {
    /// A unique constraint refused a write.
    pub fn is_conflict(&self) -> bool {
        match self {
            StoreError::Conflict(_) => true,
            StoreError::Db(e) => matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
            _ => false,
        }
    }

    /// Maps constraint violations to the errors a caller can act on.
    fn from_write(err: DbErr, what: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                StoreError::Conflict(format!("{what} already exists"))
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                StoreError::InvalidReference(format!("{what} refers to a missing record"))
            }
            _ => StoreError::Db(err),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    kind: DatabaseKind,
    /// Statements that failed since start (for metrics).
    errors: Arc<AtomicU64>,
}

impl Store {
    /// Connects; an SQLite file (and its folder) is created when missing and put in WAL mode.
    pub async fn connect(
        url: &str,
        kind: DatabaseKind,
        sqlite_path: Option<&Path>,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let mut url = url.to_string();
        if kind == DatabaseKind::Sqlite {
            if let Some(parent) = sqlite_path.and_then(Path::parent) {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        StoreError::Setup(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
            }
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            // Every pooled connection, not only the first: WAL, and commits that wait for the
            // WAL write but not for an fsync (durable across a process crash; the last
            // transactions may be lost on power loss).
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            });
        let mut db = Database::connect(options).await?;
        let errors = Arc::new(AtomicU64::new(0));
        let counted = errors.clone();
        db.set_metric_callback(move |info| {
            if info.failed {
                counted.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(Self { db, kind, errors })
    }

    /// Statements that failed since the connection was opened.
    pub fn error_count(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Every migration the binary knows, with whether it is applied (oldest first).
    pub async fn migration_status(&self) -> Result<Vec<(String, bool)>, StoreError> {
        let pending: std::collections::HashSet<String> = Migrator::get_pending_migrations(&self.db)
            .await?
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        Ok(Migrator::migrations()
            .iter()
            .map(|m| {
                let name = m.name().to_string();
                let applied = !pending.contains(&name);
                (name, applied)
            })
            .collect())
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
    }
}
