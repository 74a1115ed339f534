//! `/api/auth/public-keys`: the caller's own Ed25519 keys for key-pair login.

use super::caller::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::auth::fingerprint;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePublicKey {
    /// 1 to 64 characters. Optional when `public_key` is an OpenSSH line with a comment: the
    /// comment is the name then.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: Option<String>,
    /// The Ed25519 public key: standard base64 of its 32 bytes, or an OpenSSH public-key line
    /// as in `id_ed25519.pub` (`ssh-ed25519 AAAA… comment`).
    #[schema(
        pattern = r"^\s*([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=|ssh-ed25519\s+AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}(\s.*)?)\s*$",
        example = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHEVpHx0eBe1by922S7bm3lkZgTdgl5TaNMOo3dYOtQd ops@laptop"
    )]
    pub public_key: String,
}

/// The caller's registered public keys.
#[utoipa::path(
    get, path = "/api/auth/public-keys", tag = "auth",
    responses(
        (status = 200, description = "The caller's keys", body = Vec<PublicKeyView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<PublicKeyView>>, ApiError> {
    let rows = state.accounts.list_public_keys(caller.id()).await?;
    Ok(Json(rows.into_iter().map(PublicKeyView::from).collect()))
}

/// Registers an Ed25519 public key for key-pair login, given as base64 or as an OpenSSH line.
#[utoipa::path(
    post, path = "/api/auth/public-keys", tag = "auth",
    request_body = CreatePublicKey,
    responses(
        (status = 201, description = "Registered", body = PublicKeyView),
        (status = 400, description = "Invalid name or key, or no name for a key without a comment", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 409, description = "Key already registered", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreatePublicKey>,
) -> Result<(StatusCode, Json<PublicKeyView>), ApiError> {
    let created = state
        .accounts
        .add_public_key(caller.id(), req.name.as_deref(), &req.public_key)
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Removes one of the caller's keys. Another user's key answers 404, like a missing one.
#[utoipa::path(
    delete, path = "/api/auth/public-keys/{id}", tag = "auth",
    params(("id" = i64, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such key of the caller's", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.accounts.delete_public_key(caller.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
