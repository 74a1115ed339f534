//! `/api/auth/public-keys`: the caller's own Ed25519 keys for key-pair login.

use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath};
use crate::auth::fingerprint;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Serialize)]
pub struct PublicKeyView {
    pub id: i64,
    pub name: String,
    /// Standard base64 of the 32-byte key (public, so shown).
    pub public_key: String,
    /// First 16 hex digits of the key's SHA-256.
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<entity::user_public_key::Model> for PublicKeyView {
    fn from(m: entity::user_public_key::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            fingerprint: fingerprint(&m.public_key),
            public_key: m.public_key,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePublicKey {
    pub name: String,
    pub public_key: String,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<PublicKeyView>>, ApiError> {
    let rows = state.accounts.list_public_keys(caller.id()).await?;
    Ok(Json(rows.into_iter().map(PublicKeyView::from).collect()))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreatePublicKey>,
) -> Result<(StatusCode, Json<PublicKeyView>), ApiError> {
    let created = state
        .accounts
        .add_public_key(caller.id(), &req.name, &req.public_key)
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Another user's key answers 404, like a missing one.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.accounts.delete_public_key(caller.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
