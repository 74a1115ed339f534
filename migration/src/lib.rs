//! Tollgate's schema migrations: append-only, portable across SQLite and Postgres.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_init;
mod m20261122_000002_seed_providers;
mod m20261122_000003_key_pools;
mod m20261122_000004_limits;
mod m20261122_000005_accounts_audit;
mod m20261122_000006_bundled_prices;
mod m20261122_000007_rollups;
mod m20261203_000008_proxy_correctness;
mod m20261203_000010_roles;
mod m20261203_000011_log_indexes;
mod m20261203_000012_ttfb_rollups;
mod m20261203_000020_oauth_providers;
mod m20261203_000021_oauth_inbound;
mod m20261203_000030_client_key_providers;
mod m20261203_000031_model_routes;
mod m20261203_000032_provider_models;
mod m20261203_000033_routed_request_logs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_init::Migration),
            Box::new(m20261122_000002_seed_providers::Migration),
            Box::new(m20261122_000003_key_pools::Migration),
            Box::new(m20261122_000004_limits::Migration),
            Box::new(m20261122_000005_accounts_audit::Migration),
            Box::new(m20261122_000006_bundled_prices::Migration),
            Box::new(m20261122_000007_rollups::Migration),
            Box::new(m20261203_000008_proxy_correctness::Migration),
            Box::new(m20261203_000010_roles::Migration),
            Box::new(m20261203_000011_log_indexes::Migration),
            Box::new(m20261203_000012_ttfb_rollups::Migration),
            Box::new(m20261203_000020_oauth_providers::Migration),
            Box::new(m20261203_000021_oauth_inbound::Migration),
            Box::new(m20261203_000030_client_key_providers::Migration),
            Box::new(m20261203_000031_model_routes::Migration),
            Box::new(m20261203_000032_provider_models::Migration),
            Box::new(m20261203_000033_routed_request_logs::Migration),
        ]
    }
}
