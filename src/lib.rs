//! Tollgate: a self-hosted AI API gateway (Pingora data plane, Axum control plane).

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod health;
pub mod limits;
pub mod metrics;
pub mod models;
pub mod net;
pub mod oauth;
pub mod pricing;
pub mod providers;
pub mod proxy;
pub mod routing;
pub mod scheduler;
pub mod server;
pub mod snapshot;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod upstream;
pub mod usage;
