//! Sessions on the management API — password and key-pair login, refresh, logout, password
//! change, `me` — and the bearer-token extractor every protected route uses.

use super::audit::AuditNote;
use super::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use super::users::UserView;
use crate::accounts::{AccountError, Session};
use crate::auth::{Claims, Role};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

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

/// A session's token pair: send `access_token` as `Authorization: Bearer`; exchange
/// `refresh_token` at `/api/auth/refresh` for a new pair before it runs out.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The client's address (the TCP peer), which login attempts are counted against.
pub struct PeerAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Password login. A wrong password, an unknown or disabled user and a locked-out username all
/// get the same 401. Attempts are limited per client address and per username
/// (`admin.login_per_*_per_minute`), and password checks run a few at a time
/// (`admin.password_check_slots`): past either, 429 with `Retry-After`. Failed logins are
/// counted, not audited one by one; the failure that locks a username is audited as `lockout`.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth", security(),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Invalid username or password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this username, or every password check busy", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn login(
    State(state): State<Arc<AppState>>,
    note: AuditNote,
    PeerAddress(address): PeerAddress,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    note.actor(None, Some(&req.username));
    match state
        .accounts
        .login(address, &req.username, &req.password)
        .await
    {
        Ok(session) => Ok(TokenResponse::of(session, &note)),
        Err(e) => {
            if matches!(e, AccountError::LockoutStarted) {
                note.record_as("lockout");
            }
            Err(e.into())
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchanges a refresh token for a new pair; the old refresh token stops working, and
/// presenting it again ends that login.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth", security(),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = ErrorBody),
    )
)]
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

/// Ends the login the refresh token belongs to.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth", security(),
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Unknown refresh token", body = ErrorBody),
    )
)]
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
#[utoipa::path(
    post, path = "/api/auth/logout-all", tag = "auth",
    responses(
        (status = 204, description = "Every session ended"),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
pub async fn logout_all(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    state.accounts.logout_all(caller.id()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 12 to 1024 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub new_password: String,
    /// The caller's own refresh token: that login survives (rotated), the others end.
    pub refresh_token: Option<String>,
}

/// Changes the caller's password and ends their other sessions; answers with a fresh pair.
#[utoipa::path(
    post, path = "/api/auth/password", tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Password changed", body = TokenResponse),
        (status = 400, description = "Wrong current password, weak new password, or a refresh token that is not the caller's", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
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

/// The caller's own account.
#[utoipa::path(
    get, path = "/api/auth/me", tag = "auth",
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
pub async fn me(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.accounts.me(caller.id()).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChallengeQuery {
    #[param(min_length = 1, max_length = 64)]
    pub username: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeView {
    /// Standard base64 of 32 random bytes; sign the decoded bytes.
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
}

/// A single-use nonce for key-pair login, issued for any well-formed username. Counted against
/// the same per-address and per-username attempts as logins; a username keeps at most
/// `admin.challenges_per_username` live challenges (a new one replaces the oldest) and all
/// together at most `admin.challenges_max`.
#[utoipa::path(
    get, path = "/api/auth/challenge", tag = "auth", security(),
    params(ChallengeQuery),
    responses(
        (status = 200, description = "A fresh challenge", body = ChallengeView),
        (status = 400, description = "Missing or malformed username", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this username, or too many live challenges", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn challenge(
    State(state): State<Arc<AppState>>,
    PeerAddress(address): PeerAddress,
    ApiQuery(q): ApiQuery<ChallengeQuery>,
) -> Result<Json<ChallengeView>, ApiError> {
    let (nonce, expires_at) = state.accounts.challenge(address, &q.username).await?;
    Ok(Json(ChallengeView { nonce, expires_at }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeAnswer {
    pub username: String,
    pub nonce: String,
    /// Standard base64 of the 64-byte Ed25519 signature over the decoded nonce.
    pub signature: String,
}

/// Key-pair login: the nonce from `GET /api/auth/challenge` signed with one of the user's
/// registered Ed25519 keys.
#[utoipa::path(
    post, path = "/api/auth/challenge", tag = "auth", security(),
    request_body = ChallengeAnswer,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Unknown, used or expired nonce, or a bad signature", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this username", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn challenge_login(
    State(state): State<Arc<AppState>>,
    note: AuditNote,
    PeerAddress(address): PeerAddress,
    ApiJson(req): ApiJson<ChallengeAnswer>,
) -> Result<Json<TokenResponse>, ApiError> {
    note.actor(None, Some(&req.username));
    let (session, key_id) = state
        .accounts
        .challenge_login(address, &req.username, &req.nonce, &req.signature)
        .await?;
    note.detail("public_key_id", key_id);
    Ok(TokenResponse::of(session, &note))
}
