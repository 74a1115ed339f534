//! Sessions on the management API — password and key-pair login, refresh, logout, password
//! change, `me`.

use super::audit::AuditNote;
use super::caller::{Caller, PeerAddress};
use super::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use super::roles::permission_list_schema;
use super::users::UserView;
use crate::accounts::{AccountError, Session};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// A session's token pair: send `access_token` as `Authorization: Bearer`; exchange the
/// refresh token at `/api/auth/refresh` for a new pair before it runs out. The refresh token is
/// in `refresh_token`, or, when the login asked for `refresh_cookie`, only in an `HttpOnly`
/// cookie (`tollgate_refresh`, `Path=/api/auth`, `SameSite=Strict`).
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Absent when the refresh token went into the cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The user still has a password someone else chose (the first admin's bootstrap password,
    /// or an admin's reset): the console asks for a new one before anything else.
    pub must_change_password: bool,
}

/// Name of the cookie that carries the refresh token for the web console.
pub const REFRESH_COOKIE: &str = "tollgate_refresh";
/// A cookie scripts may read, holding nothing but `1`: it tells the console that a refresh
/// cookie was set, so a first visit does not ask the server for a session it does not have.
pub const SESSION_HINT_COOKIE: &str = "tollgate_session";

/// Where a session's refresh token goes.
#[derive(Debug, Clone, Copy)]
enum Delivery {
    /// In the JSON body (API clients, terminal clients).
    Body,
    /// Only in the `HttpOnly` cookie (the web console): scripts never see it.
    Cookie { secure: bool, max_age: u64 },
}

impl Delivery {
    fn cookie(state: &AppState, headers: &HeaderMap) -> Self {
        Delivery::Cookie {
            secure: cookie_secure(state, headers),
            max_age: state.config.admin.refresh_ttl_secs,
        }
    }
}

/// `Secure` when configured, or when a TLS-terminating proxy says the request came over HTTPS.
fn cookie_secure(state: &AppState, headers: &HeaderMap) -> bool {
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    state.config.admin.secure_cookie || forwarded_https
}

fn cookie_header(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{REFRESH_COOKIE}={value}; Path=/api/auth; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    // Tokens are base64url, so the header is always valid ASCII.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The refresh token in the request's cookie, if any.
fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == REFRESH_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

fn hint_header(max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = if max_age > 0 { "1" } else { "" };
    let text = format!(
        "{SESSION_HINT_COOKIE}={value}; Path=/; Max-Age={max_age}; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` headers of a session: the refresh cookie and its hint.
fn session_cookies(
    value: &str,
    max_age: u64,
    secure: bool,
) -> AppendHeaders<[(header::HeaderName, HeaderValue); 2]> {
    // Appended: both are `Set-Cookie`, and a plain header array would keep only the last.
    AppendHeaders([
        (header::SET_COOKIE, cookie_header(value, max_age, secure)),
        (header::SET_COOKIE, hint_header(max_age, secure)),
    ])
}

impl TokenResponse {
    /// The answer for a new session; also tells the audit trail whose session it is.
    fn of(session: Session, note: &AuditNote, delivery: Delivery) -> Response {
        note.actor(Some(session.user_id), Some(&session.username));
        let mut body = Self {
            access_token: session.tokens.access_token,
            token_type: "Bearer",
            expires_in: session.tokens.expires_in,
            refresh_token: None,
            must_change_password: session.must_change_password,
        };
        match delivery {
            Delivery::Body => {
                body.refresh_token = Some(session.tokens.refresh_token);
                Json(body).into_response()
            }
            Delivery::Cookie { secure, max_age } => {
                let cookies = session_cookies(&session.tokens.refresh_token, max_age, secure);
                (cookies, Json(body)).into_response()
            }
        }
    }
}

/// A JSON body that may be left out: None for an empty body.
fn optional_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return Err(ApiError::BadRequest(
            "expected `Content-Type: application/json`".into(),
        ));
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| ApiError::BadRequest(format!("Failed to deserialize the JSON body: {e}")))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Put the refresh token only in an `HttpOnly` cookie instead of the body (the web
    /// console does).
    pub refresh_cookie: Option<bool>,
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
        (status = 200, description = "Logged in", body = TokenResponse,
         headers(("set-cookie" = String, description = "The refresh cookie, with `refresh_cookie: true`"))),
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
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    note.actor(None, Some(&req.username));
    let delivery = if req.refresh_cookie == Some(true) {
        Delivery::cookie(&state, &headers)
    } else {
        Delivery::Body
    };
    match state
        .accounts
        .login(address, &req.username, &req.password)
        .await
    {
        Ok(session) => Ok(TokenResponse::of(session, &note, delivery)),
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
    /// Left out (or the whole body left out): the `tollgate_refresh` cookie is used, and the
    /// new refresh token goes back into it.
    pub refresh_token: Option<String>,
}

/// The refresh token of a refresh or logout: from the body, else from the cookie.
fn presented_refresh(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(String, Delivery), ApiError> {
    let req: Option<RefreshRequest> = optional_json(headers, body)?;
    match req.and_then(|r| r.refresh_token) {
        Some(token) => Ok((token, Delivery::Body)),
        None => refresh_cookie(headers)
            .map(|t| (t, Delivery::cookie(state, headers)))
            .ok_or(ApiError::Unauthorized),
    }
}

/// Exchanges a refresh token (from the body, else the cookie) for a new pair; the old refresh
/// token stops working, and presenting it again ends that login.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth", security(),
    request_body(content = Option<RefreshRequest>, description = "Optional: without it the `tollgate_refresh` cookie is used"),
    responses(
        (status = 200, description = "A new token pair (the refresh token in the cookie when it came from the cookie)", body = TokenResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No, or an unknown, expired, revoked or reused refresh token", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<Arc<AppState>>,
    note: AuditNote,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (token, delivery) = presented_refresh(&state, &headers, &body)?;
    match state.accounts.refresh(&token).await {
        Ok(session) => Ok(TokenResponse::of(session, &note, delivery)),
        Err(e) => {
            if let AccountError::TokenReused { user_id } = e {
                note.actor(Some(user_id), None);
                note.detail("reuse_detected", true);
            }
            Err(e.into())
        }
    }
}

/// Ends the login the refresh token (from the body, else the cookie) belongs to, and clears
/// the cookie.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth", security(),
    request_body(content = Option<RefreshRequest>, description = "Optional: without it the `tollgate_refresh` cookie is used"),
    responses(
        (status = 204, description = "Logged out"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No, or an unknown, refresh token", body = ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<Arc<AppState>>,
    note: AuditNote,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (token, _) = presented_refresh(&state, &headers, &body)?;
    let user = state.accounts.logout(&token).await?;
    note.actor(Some(user.id), Some(&user.username));
    let clear = session_cookies("", 0, cookie_secure(&state, &headers));
    Ok((StatusCode::NO_CONTENT, clear).into_response())
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
    /// The caller's own refresh token: that login survives (rotated), the others end. Left
    /// out, the `tollgate_refresh` cookie's login survives (and the cookie is renewed).
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
    headers: HeaderMap,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<Response, ApiError> {
    note.resource_id(caller.id());
    let (keep, delivery) = match req.refresh_token {
        Some(t) => (Some(t), Delivery::Body),
        None => match refresh_cookie(&headers) {
            Some(t) => (Some(t), Delivery::cookie(&state, &headers)),
            None => (None, Delivery::Body),
        },
    };
    let session = state
        .accounts
        .change_password(
            caller.id(),
            &req.current_password,
            &req.new_password,
            keep.as_deref(),
        )
        .await?;
    Ok(TokenResponse::of(session, &note, delivery))
}

/// The caller's account and what their role allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    /// Every permission the caller's role grants now.
    #[schema(schema_with = permission_list_schema)]
    pub permissions: Vec<String>,
}

/// The caller's own account, with the permissions the console shows its pages by.
#[utoipa::path(
    get, path = "/api/auth/me", tag = "auth",
    responses(
        (status = 200, description = "The caller", body = MeView),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
pub async fn me(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<MeView>, ApiError> {
    Ok(Json(MeView {
        user: state.accounts.me(caller.id()).await?.into(),
        permissions: caller
            .permissions
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
    }))
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
) -> Result<Response, ApiError> {
    note.actor(None, Some(&req.username));
    let (session, key_id) = state
        .accounts
        .challenge_login(address, &req.username, &req.nonce, &req.signature)
        .await?;
    note.detail("public_key_id", key_id);
    Ok(TokenResponse::of(session, &note, Delivery::Body))
}
