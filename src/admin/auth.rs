//! Login and the bearer-token extractor every protected route uses.

use super::error::{ApiError, ApiJson};
use crate::auth::{self, Claims, Role};
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The authenticated caller of a management route.
#[derive(Debug, Clone)]
pub struct Caller(pub Claims);

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.0.role == Role::Admin
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn id(&self) -> i64 {
        self.0.uid
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        state
            .jwt
            .verify(token.trim())
            .map(Caller)
            .map_err(|_| ApiError::Unauthorized)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let user = state.store.find_user_by_name(&req.username).await?;
    let stored = user
        .as_ref()
        .filter(|u| u.enabled)
        .map(|u| u.password_hash.clone());
    let password = req.password;
    let ok =
        tokio::task::spawn_blocking(move || auth::verify_password(&password, stored.as_deref()))
            .await
            .map_err(|_| ApiError::Internal)?;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => return Err(ApiError::BadLogin),
    };
    let role = Role::parse(&user.role).ok_or(ApiError::Internal)?;
    let access_token = state
        .jwt
        .issue(user.id, &user.username, role)
        .map_err(|_| ApiError::Internal)?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_secs,
    }))
}
