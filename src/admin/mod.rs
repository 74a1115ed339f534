//! The control plane on :9090: the management API under `/api`, JWT-protected.

mod audit;
mod audit_log;
mod auth;
mod caller;
mod client_keys;
mod console;
mod error;
mod fields;
mod jwt_issuers;
mod logs;
pub mod metrics;
mod model_routes;
mod oauth;
mod openapi;
mod prices;
mod provider_keys;
mod providers;
mod public_keys;
mod roles;
mod schemas;
mod stats;
mod users;

pub use error::{ApiError, error_json};

use crate::cluster::RedisStatus;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::document))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/auth/password", post(auth::change_password))
        .route("/auth/me", get(auth::me))
        .route(
            "/auth/challenge",
            get(auth::challenge).post(auth::challenge_login),
        )
        .route(
            "/auth/public-keys",
            get(public_keys::list).post(public_keys::create),
        )
        .route("/auth/public-keys/{id}", delete(public_keys::delete))
        .route("/users", get(users::list).post(users::create))
        .route("/roles", get(roles::list).post(roles::create))
        .route(
            "/roles/{id}",
            get(roles::get).patch(roles::update).delete(roles::delete),
        )
        .route("/permissions", get(roles::permissions))
        .route(
            "/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route("/providers", get(providers::list).post(providers::create))
        .route(
            "/providers/{id}",
            get(providers::get)
                .patch(providers::update)
                .delete(providers::delete),
        )
        .route("/providers/{id}/models", get(model_routes::provider_models))
        .route(
            "/providers/{id}/models/refresh",
            post(model_routes::refresh_provider_models),
        )
        .route(
            "/model-routes",
            get(model_routes::list).post(model_routes::create),
        )
        .route(
            "/model-routes/{id}",
            get(model_routes::get)
                .patch(model_routes::update)
                .delete(model_routes::delete),
        )
        .route(
            "/provider-keys",
            get(provider_keys::list).post(provider_keys::create),
        )
        .route(
            "/provider-keys/{id}",
            get(provider_keys::get)
                .patch(provider_keys::update)
                .delete(provider_keys::delete),
        )
        .route(
            "/provider-keys/{id}/health-check",
            post(provider_keys::health_check),
        )
        .route(
            "/provider-keys/{id}/oauth/authorize",
            post(oauth::authorize),
        )
        .route("/oauth/callback", get(oauth::callback))
        .route(
            "/provider-keys/{id}/trends",
            get(stats::provider_key_trends),
        )
        .route(
            "/client-keys",
            get(client_keys::list).post(client_keys::create),
        )
        .route(
            "/client-keys/{id}",
            get(client_keys::get)
                .patch(client_keys::update)
                .delete(client_keys::delete),
        )
        .route("/client-keys/{id}/rotate", post(client_keys::rotate))
        .route("/client-keys/{id}/trends", get(stats::client_key_trends))
        .route(
            "/client-keys/{id}/oauth-clients",
            get(oauth::list_clients).post(oauth::create_client),
        )
        .route(
            "/client-keys/{id}/oauth-clients/{client}",
            delete(oauth::delete_client),
        )
        .route(
            "/jwt-issuers",
            get(jwt_issuers::list).post(jwt_issuers::create),
        )
        .route(
            "/jwt-issuers/{id}",
            get(jwt_issuers::get)
                .patch(jwt_issuers::update)
                .delete(jwt_issuers::delete),
        )
        .route("/model-prices", get(prices::list).post(prices::create))
        .route("/model-prices/unpriced", get(prices::unpriced))
        .route(
            "/model-prices/{id}",
            get(prices::get).put(prices::replace).delete(prices::delete),
        )
        .route("/logs", get(logs::list))
        .route("/logs/{id}", get(logs::get))
        .route("/stats/overview", get(stats::overview))
        .route("/stats/trends", get(stats::trends))
        .route("/stats/top-models", get(stats::top_models))
        .route("/stats/top-keys", get(stats::top_keys))
        .route("/stats/top-providers", get(stats::top_providers))
        .route("/audit", get(audit_log::list))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        // Last, so it wraps every route above: each write is audited in this one place.
        .route_layer(middleware::from_fn_with_state(state.clone(), audit::record));
    let mut app = Router::new().nest("/api", api);
    if state.config.metrics.enabled && state.config.metrics.listen.is_none() {
        app = app.merge(metrics::routes());
    }
    app.fallback(console::serve)
        .layer(axum::Extension(Arc::new(console::ConsoleFiles::default())))
        .with_state(state)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    pub status: Overall,
    pub database: DatabaseStatus,
    pub redis: RedisStatus,
}

/// `degraded`: Redis is unreachable; `unavailable`: the database is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Overall {
    Ok,
    Degraded,
    Unavailable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseStatus {
    Ok,
    Unreachable,
}

/// Liveness and dependencies: 503 when the database is unreachable (the instance cannot
/// record or reconfigure); a Redis outage is reported but the instance keeps serving.
#[utoipa::path(
    get, path = "/api/health", tag = "health", security(),
    responses(
        (status = 200, description = "Serving", body = HealthView),
        (status = 503, description = "The database is unreachable", body = HealthView),
    )
)]
async fn health(State(state): State<Arc<AppState>>) -> (StatusCode, Json<HealthView>) {
    let database = match state.store.ping().await {
        Ok(()) => DatabaseStatus::Ok,
        Err(e) => {
            tracing::warn!("health check: database unreachable: {e}");
            DatabaseStatus::Unreachable
        }
    };
    let redis = state.cluster.status().await;
    let (status, word) = match (database, redis) {
        (DatabaseStatus::Ok, RedisStatus::Unreachable) => (StatusCode::OK, Overall::Degraded),
        (DatabaseStatus::Ok, _) => (StatusCode::OK, Overall::Ok),
        _ => (StatusCode::SERVICE_UNAVAILABLE, Overall::Unavailable),
    };
    (
        status,
        Json(HealthView {
            status: word,
            database,
            redis,
        }),
    )
}

/// After a write through this instance, the proxy sees it at once.
async fn refresh_catalog(state: &AppState) {
    if let Err(e) = state.catalog.refresh().await {
        tracing::error!("configuration snapshot refresh failed: {e}");
    }
}
