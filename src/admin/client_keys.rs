//! `/api/client-keys`: Tollgate-issued keys; the key is shown once, at creation.

use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath};
use super::refresh_catalog;
use crate::auth::{client_key_prefix, generate_client_key};
use crate::scheduler::Strategy;
use crate::state::AppState;
use crate::store::{ClientKeyPatch, ClientKeyWithPool, NewClientKey};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Serialize)]
pub struct ClientKeyView {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    pub provider_id: i64,
    pub provider_key_ids: Vec<i64>,
    pub owner_id: Option<i64>,
    pub strategy: String,
    pub max_retries: i32,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientKeyWithPool> for ClientKeyView {
    fn from(k: ClientKeyWithPool) -> Self {
        Self {
            id: k.key.id,
            name: k.key.name,
            key_prefix: k.key.key_prefix,
            provider_id: k.key.provider_id,
            provider_key_ids: k.provider_key_ids,
            owner_id: k.key.owner_id,
            strategy: k.key.strategy,
            max_retries: k.key.max_retries,
            enabled: k.key.enabled,
            created_at: k.key.created_at,
            updated_at: k.key.updated_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CreatedClientKey {
    #[serde(flatten)]
    pub view: ClientKeyView,
    /// The only time the key is shown.
    pub key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClientKey {
    pub name: String,
    pub provider_id: i64,
    pub provider_key_ids: Vec<i64>,
    pub strategy: Option<String>,
    pub max_retries: Option<i32>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientKey {
    pub name: Option<String>,
    pub provider_key_ids: Option<Vec<i64>>,
    pub strategy: Option<String>,
    pub max_retries: Option<i32>,
    pub enabled: Option<bool>,
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 128 {
        return Err(ApiError::invalid("name", "must have 1 to 128 characters"));
    }
    Ok(name.to_string())
}

fn check_strategy(s: &str) -> Result<String, ApiError> {
    Strategy::parse(s)
        .map(|k| k.as_str().to_string())
        .ok_or_else(|| {
            let names: Vec<&str> = Strategy::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::invalid("strategy", format!("must be one of {}", names.join(", ")))
        })
}

fn check_retries(n: i32) -> Result<i32, ApiError> {
    if !(0..=10).contains(&n) {
        return Err(ApiError::invalid("max_retries", "must be between 0 and 10"));
    }
    Ok(n)
}

/// Every pooled key must exist and belong to the client key's provider.
async fn check_pool(state: &AppState, provider_id: i64, ids: &[i64]) -> Result<Vec<i64>, ApiError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let keys = state.store.list_provider_keys(Some(provider_id)).await?;
    if let Some(bad) = ids.iter().find(|id| !keys.iter().any(|k| k.id == **id)) {
        return Err(ApiError::invalid(
            "provider_key_ids",
            format!("contains {bad}, which is not a key of provider {provider_id}"),
        ));
    }
    Ok(ids)
}

async fn load_visible(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<ClientKeyWithPool, ApiError> {
    let key = state.store.get_client_key(id).await?;
    if !caller.is_admin() && key.key.owner_id != Some(caller.id()) {
        return Err(ApiError::NotFound);
    }
    Ok(key)
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<ClientKeyView>>, ApiError> {
    let owner = (!caller.is_admin()).then(|| caller.id());
    let rows = state.store.list_client_keys(owner).await?;
    Ok(Json(rows.into_iter().map(ClientKeyView::from).collect()))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ClientKeyView>, ApiError> {
    Ok(Json(load_visible(&state, &caller, id).await?.into()))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateClientKey>,
) -> Result<(StatusCode, Json<CreatedClientKey>), ApiError> {
    state
        .store
        .get_provider(req.provider_id)
        .await
        .map_err(|_| ApiError::invalid("provider_id", "does not name a provider"))?;
    let provider_key_ids = check_pool(&state, req.provider_id, &req.provider_key_ids).await?;
    let key = generate_client_key();
    let created = state
        .store
        .create_client_key(NewClientKey {
            name: check_name(&req.name)?,
            key_hash: state.master.hash_client_key(&key),
            key_prefix: client_key_prefix(&key),
            provider_id: req.provider_id,
            owner_id: Some(caller.id()),
            strategy: check_strategy(req.strategy.as_deref().unwrap_or("round_robin"))?,
            max_retries: check_retries(req.max_retries.unwrap_or(2))?,
            enabled: req.enabled.unwrap_or(true),
            provider_key_ids,
        })
        .await?;
    refresh_catalog(&state).await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedClientKey {
            view: created.into(),
            key,
        }),
    ))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateClientKey>,
) -> Result<Json<ClientKeyView>, ApiError> {
    let current = load_visible(&state, &caller, id).await?;
    let provider_key_ids = match &req.provider_key_ids {
        Some(ids) => Some(check_pool(&state, current.key.provider_id, ids).await?),
        None => None,
    };
    let patch = ClientKeyPatch {
        name: req.name.as_deref().map(check_name).transpose()?,
        strategy: req.strategy.as_deref().map(check_strategy).transpose()?,
        max_retries: req.max_retries.map(check_retries).transpose()?,
        enabled: req.enabled,
        provider_key_ids,
    };
    let updated = state.store.update_client_key(id, patch).await?;
    refresh_catalog(&state).await;
    Ok(Json(updated.into()))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    load_visible(&state, &caller, id).await?;
    state.store.delete_client_key(id).await?;
    refresh_catalog(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
