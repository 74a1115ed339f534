//! `/api/model-routes`: model routes of the unified API (a bare model name standing for ordered
//! `provider/model` targets with weights and a strategy), and the config file's read-only
//! `[[redirect]]`s beside them.

use super::caller::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use super::refresh_catalog;
use crate::accounts::Permission;
use crate::routing::{self, RouteStrategy, StoredTarget};
use crate::state::AppState;
use crate::store::{ModelRoutePatch, NewModelRoute};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

fn strategy_schema() -> utoipa::openapi::Object {
    super::schemas::string_enum(RouteStrategy::ALL.map(RouteStrategy::as_str))
}

/// One target: a provider (by name) and the model to ask it for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteTargetView {
    /// `provider/model`: the provider's name, a slash, the model (which may hold slashes of
    /// its own).
    #[schema(example = "anthropic/claude-haiku-4-5", pattern = r"^[^/\s]+/\S+$")]
    pub target: String,
    /// 1 to 1000; the share of first picks under `weighted`. 1 when left out.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 1000)]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelRouteView {
    /// Null for a redirect of the config file.
    pub id: Option<i64>,
    pub name: String,
    #[schema(schema_with = strategy_schema)]
    pub strategy: String,
    pub targets: Vec<RouteTargetView>,
    /// Loaded from the config file (`[[redirect]]`): read-only here.
    pub from_config: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<entity::model_route::Model> for ModelRouteView {
    fn from(m: entity::model_route::Model) -> Self {
        let targets = serde_json::from_str::<Vec<StoredTarget>>(&m.targets)
            .unwrap_or_default()
            .into_iter()
            .map(|t| RouteTargetView {
                target: t.target,
                weight: t.weight,
            })
            .collect();
        Self {
            id: Some(m.id),
            name: m.name,
            strategy: m.strategy,
            targets,
            from_config: false,
            created_at: Some(m.created_at),
            updated_at: Some(m.updated_at),
        }
    }
}

/// Body of POST (`name` and `targets` required) and PATCH (every field optional).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRouteInput {
    /// 1 to 128 characters, no blanks; the model name clients ask for.
    #[schema(min_length = 1, max_length = 128, pattern = r"^\S+$")]
    pub name: Option<String>,
    /// How the first target is chosen (the others follow in order when it fails):
    /// `first_available` when left out.
    #[schema(schema_with = strategy_schema)]
    pub strategy: Option<String>,
    /// 1 to 20 targets, none twice.
    #[schema(min_items = 1, max_items = 20)]
    pub targets: Option<Vec<RouteTargetView>>,
}

fn check_name(name: &str) -> Result<String, ApiError> {
    routing::check_route_name(name).map_err(|why| ApiError::invalid("name", why))?;
    Ok(name.to_string())
}

fn check_strategy(s: &str) -> Result<String, ApiError> {
    RouteStrategy::parse(s)
        .map(|k| k.as_str().to_string())
        .ok_or_else(|| {
            ApiError::invalid(
                "strategy",
                "must be one of first_available, round_robin, random, weighted",
            )
        })
}

fn check_targets(targets: &[RouteTargetView]) -> Result<String, ApiError> {
    let stored: Vec<StoredTarget> = targets
        .iter()
        .map(|t| StoredTarget {
            target: t.target.clone(),
            weight: t.weight,
        })
        .collect();
    let parsed = routing::targets_from(&stored).map_err(|why| ApiError::invalid("targets", why))?;
    Ok(routing::targets_to_json(&parsed))
}

/// A name the config file's redirects hold cannot be stored too.
fn check_not_redirect(state: &AppState, name: &str) -> Result<(), ApiError> {
    if state.config.redirect.iter().any(|r| r.from == name) {
        return Err(ApiError::invalid(
            "name",
            "is a redirect of the config file ([[redirect]]), which wins; choose another name",
        ));
    }
    Ok(())
}

/// The config file's redirects, as routes.
fn redirects(state: &AppState) -> Vec<ModelRouteView> {
    routing::redirects_from_config(&state.config.redirect)
        .unwrap_or_default()
        .into_iter()
        .map(|r| ModelRouteView {
            id: None,
            name: r.name,
            strategy: r.strategy.as_str().to_string(),
            targets: r
                .targets
                .iter()
                .map(|t| {
                    let s = t.stored();
                    RouteTargetView {
                        target: s.target,
                        weight: s.weight,
                    }
                })
                .collect(),
            from_config: true,
            created_at: None,
            updated_at: None,
        })
        .collect()
}

/// Every model route: the stored ones, then the config file's redirects.
#[utoipa::path(
    get, path = "/api/model-routes", tag = "model-routes",
    responses(
        (status = 200, description = "The routes", body = Vec<ModelRouteView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<ModelRouteView>>, ApiError> {
    caller.require(Permission::ProvidersRead)?;
    let mut out: Vec<ModelRouteView> = state
        .store
        .list_model_routes()
        .await?
        .into_iter()
        .map(ModelRouteView::from)
        .collect();
    out.extend(redirects(&state));
    Ok(Json(out))
}

/// One stored model route.
#[utoipa::path(
    get, path = "/api/model-routes/{id}", tag = "model-routes",
    params(("id" = i64, Path, description = "The route's id")),
    responses(
        (status = 200, description = "The route", body = ModelRouteView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such route", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ModelRouteView>, ApiError> {
    caller.require(Permission::ProvidersRead)?;
    Ok(Json(state.store.get_model_route(id).await?.into()))
}

/// Adds a model route; the proxy uses it from the next request.
#[utoipa::path(
    post, path = "/api/model-routes", tag = "model-routes",
    request_body = ModelRouteInput,
    responses(
        (status = 201, description = "Created", body = ModelRouteView),
        (status = 400, description = "Invalid or missing field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<ModelRouteInput>,
) -> Result<(StatusCode, Json<ModelRouteView>), ApiError> {
    caller.require(Permission::RoutesWrite)?;
    let name = check_name(
        req.name
            .as_deref()
            .ok_or_else(|| ApiError::invalid("name", "is required"))?,
    )?;
    check_not_redirect(&state, &name)?;
    let targets = check_targets(
        req.targets
            .as_deref()
            .ok_or_else(|| ApiError::invalid("targets", "is required"))?,
    )?;
    let created = state
        .store
        .create_model_route(NewModelRoute {
            name,
            strategy: check_strategy(req.strategy.as_deref().unwrap_or("first_available"))?,
            targets,
        })
        .await?;
    refresh_catalog(&state).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Changes a model route.
#[utoipa::path(
    patch, path = "/api/model-routes/{id}", tag = "model-routes",
    params(("id" = i64, Path, description = "The route's id")),
    request_body = ModelRouteInput,
    responses(
        (status = 200, description = "Updated", body = ModelRouteView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such route", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ModelRouteInput>,
) -> Result<Json<ModelRouteView>, ApiError> {
    caller.require(Permission::RoutesWrite)?;
    let name = req.name.as_deref().map(check_name).transpose()?;
    if let Some(n) = &name {
        check_not_redirect(&state, n)?;
    }
    let patch = ModelRoutePatch {
        name,
        strategy: req.strategy.as_deref().map(check_strategy).transpose()?,
        targets: req.targets.as_deref().map(check_targets).transpose()?,
    };
    let updated = state.store.update_model_route(id, patch).await?;
    refresh_catalog(&state).await;
    Ok(Json(updated.into()))
}

/// Deletes a model route.
#[utoipa::path(
    delete, path = "/api/model-routes/{id}", tag = "model-routes",
    params(("id" = i64, Path, description = "The route's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such route", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::RoutesWrite)?;
    state.store.delete_model_route(id).await?;
    refresh_catalog(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A provider's cached model list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderModelsView {
    pub provider_id: i64,
    /// The model ids as the provider names them (empty until a fetch succeeded).
    pub models: Vec<String>,
    /// When the list was last fetched successfully.
    pub fetched_at: Option<DateTime<Utc>>,
    /// When a fetch was last tried.
    pub checked_at: Option<DateTime<Utc>>,
    /// Why the last try failed; null after a success.
    pub last_error: Option<String>,
}

async fn models_view(state: &AppState, id: i64) -> Result<ProviderModelsView, ApiError> {
    state.store.get_provider(id).await?;
    let row = state.store.get_provider_models(id).await?;
    Ok(match row {
        None => ProviderModelsView {
            provider_id: id,
            models: Vec::new(),
            fetched_at: None,
            checked_at: None,
            last_error: None,
        },
        Some(r) => ProviderModelsView {
            provider_id: id,
            models: r
                .models
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default(),
            fetched_at: r.fetched_at,
            checked_at: Some(r.checked_at),
            last_error: r.last_error,
        },
    })
}

/// The provider's model list as last fetched.
#[utoipa::path(
    get, path = "/api/providers/{id}/models", tag = "providers",
    params(("id" = i64, Path, description = "The provider's id")),
    responses(
        (status = 200, description = "The cached list", body = ProviderModelsView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    )
)]
pub async fn provider_models(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderModelsView>, ApiError> {
    caller.require(Permission::ProvidersRead)?;
    Ok(Json(models_view(&state, id).await?))
}

/// Fetches the provider's model list now (with one of its credentials) and caches it. A
/// failed fetch keeps the last list and is shown in `last_error`.
#[utoipa::path(
    post, path = "/api/providers/{id}/models/refresh", tag = "providers",
    params(("id" = i64, Path, description = "The provider's id")),
    responses(
        (status = 200, description = "Fetched (or failed: see `last_error`)", body = ProviderModelsView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    )
)]
pub async fn refresh_provider_models(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderModelsView>, ApiError> {
    caller.require(Permission::ProvidersWrite)?;
    state.store.get_provider(id).await?;
    if let Err(e) = state.models.refresh(id).await {
        tracing::info!(provider = id, "model list refresh failed: {e}");
    }
    Ok(Json(models_view(&state, id).await?))
}
