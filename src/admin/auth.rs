//! Sessions on the management API — password and key-pair login, refresh, logout, password
//! change, `me` — and the bearer-token extractor every protected route uses.

use super::audit::AuditNote;
use super::error::{ApiError, ApiJson, ApiQuery};
use super::users::UserView;
use crate::accounts::{AccountError, Session};
use crate::auth::{Claims, Role};
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The authenticated caller of a management route. The token is checked against the
/// database on every request: the claims hold the user's current name and role.
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
        let claims = state.accounts.authenticate(token.trim()).await?;
        if let Some(note) = parts.extensions.get::<AuditNote>() {
            note.actor(Some(claims.uid), Some(&claims.name));
        }
        Ok(Caller(claims))
    }
}

#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
}

impl TokenResponse {
    /// Also tells the audit trail whose session it is.
    fn of(session: Session, note: &AuditNote) -> Json<Self> {
        note.actor(Some(session.user_id), Some(&session.username));
        Json(Self {
            access_token: session.tokens.access_token,
            token_type: "Bearer",
            expires_in: session.tokens.expires_in,
            refresh_token: session.tokens.refresh_token,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    note: AuditNote,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    note.actor(None, Some(&req.username));
    match state.accounts.login(&req.username, &req.password).await {
        Ok(session) => Ok(TokenResponse::of(session, &note)),
        Err(e) => {
            if matches!(e, AccountError::LockedOut) {
                note.detail("locked_out", true);
            }
            Err(e.into())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

pub async fn refresh(
    State(state): State<Arc<AppState>>,
    note: AuditNote,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    match state.accounts.refresh(&req.refresh_token).await {
        Ok(session) => Ok(TokenResponse::of(session, &note)),
        Err(e) => {
            if let AccountError::TokenReused { user_id } = e {
                note.actor(Some(user_id), None);
                note.detail("reuse_detected", true);
            }
            Err(e.into())
        }
    }
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    note: AuditNote,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let user = state.accounts.logout(&req.refresh_token).await?;
    note.actor(Some(user.id), Some(&user.username));
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller, this one included.
pub async fn logout_all(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    state.accounts.logout_all(caller.id()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    /// The caller's own refresh token: that login survives (rotated), the others end.
    pub refresh_token: Option<String>,
}

pub async fn change_password(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    note: AuditNote,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<Json<TokenResponse>, ApiError> {
    note.resource_id(caller.id());
    let session = state
        .accounts
        .change_password(
            caller.id(),
            &req.current_password,
            &req.new_password,
            req.refresh_token.as_deref(),
        )
        .await?;
    Ok(TokenResponse::of(session, &note))
}

pub async fn me(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.accounts.me(caller.id()).await?.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeQuery {
    pub username: String,
}

#[derive(Debug, Serialize)]
pub struct ChallengeView {
    /// Standard base64 of 32 random bytes; sign the decoded bytes.
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn challenge(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ChallengeQuery>,
) -> Result<Json<ChallengeView>, ApiError> {
    let (nonce, expires_at) = state.accounts.challenge(&q.username).await?;
    Ok(Json(ChallengeView { nonce, expires_at }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeAnswer {
    pub username: String,
    pub nonce: String,
    /// Standard base64 of the 64-byte Ed25519 signature over the decoded nonce.
    pub signature: String,
}

pub async fn challenge_login(
    State(state): State<Arc<AppState>>,
    note: AuditNote,
    ApiJson(req): ApiJson<ChallengeAnswer>,
) -> Result<Json<TokenResponse>, ApiError> {
    note.actor(None, Some(&req.username));
    let (session, key_id) = state
        .accounts
        .challenge_login(&req.username, &req.nonce, &req.signature)
        .await?;
    note.detail("public_key_id", key_id);
    Ok(TokenResponse::of(session, &note))
}
