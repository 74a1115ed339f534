//! `/api/provider-keys`: provider credentials; secrets are write-only and shown masked.

use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiQuery};
use super::refresh_catalog;
use crate::auth::mask_secret;
use crate::state::AppState;
use crate::store::{NewProviderKey, ProviderKeyPatch};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Serialize)]
pub struct ProviderKeyView {
    pub id: i64,
    pub provider_id: i64,
    pub name: String,
    pub secret_preview: String,
    pub enabled: bool,
    pub weight: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::provider_key::Model> for ProviderKeyView {
    fn from(m: entity::provider_key::Model) -> Self {
        Self {
            id: m.id,
            provider_id: m.provider_id,
            name: m.name,
            secret_preview: m.secret_preview,
            enabled: m.enabled,
            weight: m.weight,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProviderKey {
    pub provider_id: i64,
    pub name: String,
    pub secret: String,
    pub enabled: Option<bool>,
    pub weight: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProviderKey {
    pub name: Option<String>,
    pub secret: Option<String>,
    pub enabled: Option<bool>,
    pub weight: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub provider_id: Option<i64>,
}

fn check_secret(state: &AppState, secret: &str) -> Result<(String, String), ApiError> {
    let secret = secret.trim();
    if secret.is_empty() || secret.len() > 4096 || secret.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "secret",
            "must be 1 to 4096 printable characters",
        ));
    }
    let ciphertext = state
        .master
        .encrypt(secret)
        .map_err(|_| ApiError::Internal)?;
    Ok((ciphertext, mask_secret(secret)))
}

fn check_weight(w: i32) -> Result<i32, ApiError> {
    if !(0..=1000).contains(&w) {
        return Err(ApiError::invalid("weight", "must be between 0 and 1000"));
    }
    Ok(w)
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 128 {
        return Err(ApiError::invalid("name", "must have 1 to 128 characters"));
    }
    Ok(name.to_string())
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ProviderKeyView>>, ApiError> {
    caller.require_admin()?;
    let rows = state.store.list_provider_keys(q.provider_id).await?;
    Ok(Json(rows.into_iter().map(ProviderKeyView::from).collect()))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ProviderKeyView>, ApiError> {
    caller.require_admin()?;
    Ok(Json(state.store.get_provider_key(id).await?.into()))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateProviderKey>,
) -> Result<(StatusCode, Json<ProviderKeyView>), ApiError> {
    caller.require_admin()?;
    state
        .store
        .get_provider(req.provider_id)
        .await
        .map_err(|_| ApiError::invalid("provider_id", "does not name a provider"))?;
    let (secret_ciphertext, secret_preview) = check_secret(&state, &req.secret)?;
    let created = state
        .store
        .create_provider_key(NewProviderKey {
            provider_id: req.provider_id,
            name: check_name(&req.name)?,
            secret_ciphertext,
            secret_preview,
            enabled: req.enabled.unwrap_or(true),
            weight: check_weight(req.weight.unwrap_or(1))?,
        })
        .await?;
    refresh_catalog(&state).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateProviderKey>,
) -> Result<Json<ProviderKeyView>, ApiError> {
    caller.require_admin()?;
    let patch = ProviderKeyPatch {
        name: req.name.as_deref().map(check_name).transpose()?,
        secret: req
            .secret
            .as_deref()
            .map(|s| check_secret(&state, s))
            .transpose()?,
        enabled: req.enabled,
        weight: req.weight.map(check_weight).transpose()?,
    };
    let updated = state.store.update_provider_key(id, patch).await?;
    refresh_catalog(&state).await;
    Ok(Json(updated.into()))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    state.store.delete_provider_key(id).await?;
    refresh_catalog(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
