//! OAuth2 on the management API: a provider's OAuth client configuration (write-only secret),
//! connecting an OAuth provider key (authorize URL, the provider's callback page), the OAuth
//! status shown with provider keys, and client-credentials clients of a client key.

use super::audit::AuditNote;
use super::auth::Caller;
use super::client_keys::{load_visible, load_writable};
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use super::fields::double_option;
use crate::accounts::Permission;
use crate::oauth::{ConnectError, OAuthError, TokenStatus};
use crate::state::AppState;
use crate::store::{NewAuditEntry, ProviderOAuthRow};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::NotOAuthKey => {
                ApiError::BadRequest("this provider key is not of kind oauth2".into())
            }
            OAuthError::NotConfigured => ApiError::BadRequest(
                "the key's provider has no OAuth configuration (PATCH /api/providers/{id} with `oauth`)"
                    .into(),
            ),
            OAuthError::Misconfigured(m) => ApiError::BadRequest(m),
            OAuthError::Store(e) => e.into(),
            OAuthError::Internal(m) => {
                tracing::error!("oauth: {m}");
                ApiError::Internal
            }
        }
    }
}

// --- provider configuration ---

/// A provider's OAuth2 client (authorization code + PKCE S256).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfigInput {
    /// The provider's authorization endpoint (http or https).
    #[schema(max_length = 2048)]
    pub authorize_url: String,
    /// The provider's token endpoint (http or https).
    #[schema(max_length = 2048)]
    pub token_url: String,
    #[schema(min_length = 1, max_length = 512)]
    pub client_id: String,
    /// Write-only. Left out: the stored one is kept; null: removed (a public client).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, write_only, max_length = 4096)]
    pub client_secret: Option<Option<String>>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub scopes: Vec<String>,
    /// Extra parameters of the authorize URL (e.g. `access_type=offline`).
    #[serde(default)]
    pub extra_params: BTreeMap<String, String>,
    /// Where the provider sends the browser back: this API's `/api/oauth/callback` as the
    /// browser reaches it.
    #[schema(max_length = 2048)]
    pub redirect_uri: String,
    /// How the client authenticates at the token endpoint: `basic` (default) or `post`.
    pub client_auth: Option<String>,
}

/// A provider's OAuth configuration as shown: the secret never is.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthConfigView {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    pub has_client_secret: bool,
    pub scopes: Vec<String>,
    pub extra_params: BTreeMap<String, String>,
    pub redirect_uri: String,
    pub client_auth: String,
}

impl From<entity::provider_oauth_config::Model> for OAuthConfigView {
    fn from(m: entity::provider_oauth_config::Model) -> Self {
        Self {
            authorize_url: m.authorize_url,
            token_url: m.token_url,
            client_id: m.client_id,
            has_client_secret: m.client_secret_ciphertext.is_some(),
            scopes: serde_json::from_str(&m.scopes).unwrap_or_default(),
            extra_params: serde_json::from_str(&m.extra_params).unwrap_or_default(),
            redirect_uri: m.redirect_uri,
            client_auth: m.client_auth,
        }
    }
}

fn check_url(field: &str, v: &str) -> Result<String, ApiError> {
    let url = url::Url::parse(v.trim()).map_err(|_| ApiError::invalid(field, "is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || v.len() > 2048 {
        return Err(ApiError::invalid(field, "must be an http or https URL"));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::invalid(
            field,
            "must not contain credentials or a fragment",
        ));
    }
    Ok(v.trim().to_string())
}

/// Applies `"oauth"` of `PATCH /api/providers/{id}`: set/replace, or `null` to remove.
pub(super) async fn apply_provider_oauth(
    state: &AppState,
    provider_id: i64,
    input: Option<OAuthConfigInput>,
) -> Result<(), ApiError> {
    let Some(input) = input else {
        state.store.delete_provider_oauth(provider_id).await?;
        return Ok(());
    };
    let client_id = input.client_id.trim();
    if client_id.is_empty() || client_id.len() > 512 || client_id.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "oauth.client_id",
            "must have 1 to 512 printable characters",
        ));
    }
    if input.scopes.len() > 50
        || input
            .scopes
            .iter()
            .any(|s| s.is_empty() || s.len() > 256 || s.contains(char::is_whitespace))
    {
        return Err(ApiError::invalid(
            "oauth.scopes",
            "must be at most 50 scopes without spaces",
        ));
    }
    const RESERVED: [&str; 7] = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ];
    if input.extra_params.len() > 20
        || input
            .extra_params
            .keys()
            .any(|k| k.is_empty() || RESERVED.contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            "oauth.extra_params",
            "must be at most 20 parameters, none of those the flow sets itself",
        ));
    }
    let client_auth = match input.client_auth.as_deref().unwrap_or("basic") {
        a @ ("basic" | "post") => a.to_string(),
        _ => {
            return Err(ApiError::invalid(
                "oauth.client_auth",
                "must be basic or post",
            ));
        }
    };
    let client_secret_ciphertext = match input.client_secret {
        None => None,
        Some(None) => Some(None),
        Some(Some(s)) => {
            let s = s.trim();
            if s.is_empty() || s.len() > 4096 || s.chars().any(char::is_control) {
                return Err(ApiError::invalid(
                    "oauth.client_secret",
                    "must be 1 to 4096 printable characters (or null for none)",
                ));
            }
            Some(Some(
                state.master.encrypt(s).map_err(|_| ApiError::Internal)?,
            ))
        }
    };
    state
        .store
        .put_provider_oauth(
            provider_id,
            ProviderOAuthRow {
                authorize_url: check_url("oauth.authorize_url", &input.authorize_url)?,
                token_url: check_url("oauth.token_url", &input.token_url)?,
                client_id: client_id.to_string(),
                client_secret_ciphertext,
                scopes: serde_json::to_string(&input.scopes).map_err(|_| ApiError::Internal)?,
                extra_params: serde_json::to_string(&input.extra_params)
                    .map_err(|_| ApiError::Internal)?,
                redirect_uri: check_url("oauth.redirect_uri", &input.redirect_uri)?,
                client_auth,
            },
        )
        .await?;
    Ok(())
}

// --- provider key status and connecting ---

/// The state of an OAuth provider key's tokens (never the tokens).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthStatusView {
    /// `pending` (never connected), `connected` or `invalid`.
    pub status: String,
    pub connected: bool,
    /// When the current access token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// The provider refused the refresh token: connect the key again.
    pub needs_reconnect: bool,
    pub reason: Option<String>,
}

/// The OAuth status of a key of kind `oauth2`, from memory.
pub(super) fn status_view(state: &AppState, provider_key_id: i64) -> OAuthStatusView {
    match state.oauth.provider.status(provider_key_id) {
        Some(s) => OAuthStatusView {
            status: s.status.as_str().to_string(),
            connected: s.status == TokenStatus::Connected,
            expires_at: s.expires_at,
            needs_reconnect: s.status == TokenStatus::Invalid,
            reason: s.reason.clone(),
        },
        None => OAuthStatusView {
            status: TokenStatus::Pending.as_str().to_string(),
            connected: false,
            expires_at: None,
            needs_reconnect: false,
            reason: None,
        },
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeResponse {
    /// Send the admin's browser here; the provider comes back to `/api/oauth/callback`.
    pub authorize_url: String,
    /// The link (its `state`) is refused after this.
    pub expires_at: DateTime<Utc>,
}

/// Starts connecting an OAuth2 provider key: an authorize URL with a PKCE S256 challenge and
/// a single-use `state` (admin only).
#[utoipa::path(
    post, path = "/api/provider-keys/{id}/oauth/authorize", tag = "provider-keys",
    params(("id" = i64, Path, description = "The provider key's id")),
    responses(
        (status = 200, description = "Where to send the browser", body = AuthorizeResponse),
        (status = 400, description = "Not an OAuth2 key, or its provider has no OAuth configuration", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission (provider_keys:write)", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
pub async fn authorize(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AuthorizeResponse>, ApiError> {
    caller.require(Permission::ProviderKeysWrite)?;
    let a = state
        .oauth
        .provider
        .authorize(id, Some(caller.id()))
        .await?;
    Ok(Json(AuthorizeResponse {
        authorize_url: a.authorize_url,
        expires_at: a.expires_at,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the provider when the user or the provider refused.
    pub error: Option<String>,
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{m}</p><p>You can close this window and return to the Tollgate console.</p></body></html>\n",
        t = esc(title),
        m = esc(message)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Where the provider sends the admin's browser back. No token needed: the single-use `state`
/// is the proof. Answers an HTML page that says what happened.
#[utoipa::path(
    get, path = "/api/oauth/callback", tag = "provider-keys", security(),
    params(CallbackQuery),
    responses(
        (status = 200, description = "Connected", content_type = "text/html", body = String),
        (status = 400, description = "Unknown, used or expired state, refused authorization, or failed exchange", content_type = "text/html", body = String),
        (status = 500, description = "Internal error", content_type = "text/html", body = String),
    )
)]
pub async fn callback(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> Response {
    let Some(st) = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 512)
    else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not connected",
            "The provider's answer has no state.",
        );
    };
    let result = state
        .oauth
        .provider
        .complete(st, q.code.as_deref(), q.error.as_deref())
        .await;
    let (action, resource_id, detail) = match &result {
        Ok(id) => ("oauth_connect", Some(id.to_string()), None),
        Err(e) => ("oauth_connect_failed", None, Some(e.to_string())),
    };
    let details = serde_json::json!({ "error": detail }).to_string();
    if let Err(e) = state
        .store
        .insert_audit(NewAuditEntry {
            user_id: None,
            username: None,
            action: action.into(),
            resource: "provider-keys".into(),
            resource_id,
            address: None,
            details: Some(details),
        })
        .await
    {
        tracing::error!("cannot record an audit entry: {e}");
    }
    match result {
        Ok(id) => {
            super::refresh_catalog(&state).await;
            page(
                StatusCode::OK,
                "Connected",
                &format!("Provider key {id} is connected; Tollgate keeps its token fresh."),
            )
        }
        Err(ConnectError::Internal) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Not connected",
            &ConnectError::Internal.to_string(),
        ),
        Err(e) => page(StatusCode::BAD_REQUEST, "Not connected", &e.to_string()),
    }
}

// --- client-credentials clients of a client key ---

#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthClientView {
    pub id: i64,
    pub client_key_id: i64,
    pub client_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<entity::oauth_client::Model> for OAuthClientView {
    fn from(m: entity::oauth_client::Model) -> Self {
        Self {
            id: m.id,
            client_key_id: m.client_key_id,
            client_id: m.client_id,
            name: m.name,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOAuthClient {
    #[serde(flatten)]
    pub view: OAuthClientView,
    /// Shown this once; stored only as a keyed hash.
    pub client_secret: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOAuthClient {
    /// 1 to 128 characters; "oauth client" when left out.
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    pub name: Option<String>,
}

/// Creates an OAuth2 client-credentials client for the key: `POST /oauth/token` on the proxy
/// port exchanges its `client_id` and `client_secret` (shown once) for access tokens that act
/// as this client key. Another member's key answers 404.
#[utoipa::path(
    post, path = "/api/client-keys/{id}/oauth-clients", tag = "client-keys",
    params(("id" = i64, Path, description = "The client key's id")),
    request_body = CreateOAuthClient,
    responses(
        (status = 201, description = "Created; `client_secret` is shown this once", body = CreatedOAuthClient),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such key visible to the caller", body = ErrorBody),
    )
)]
pub async fn create_client(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    note: AuditNote,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CreateOAuthClient>,
) -> Result<(StatusCode, Json<CreatedOAuthClient>), ApiError> {
    load_writable(&state, &caller, id).await?;
    let name = req.name.as_deref().unwrap_or("oauth client").trim();
    if name.is_empty() || name.len() > 128 {
        return Err(ApiError::invalid("name", "must have 1 to 128 characters"));
    }
    let created = state
        .oauth
        .inbound
        .create_client(id, name.to_string())
        .await?;
    note.detail("client_id", created.client.client_id.clone());
    Ok((
        StatusCode::CREATED,
        Json(CreatedOAuthClient {
            view: created.client.into(),
            client_secret: created.client_secret,
        }),
    ))
}

/// The key's OAuth clients (secrets never shown). Another member's key answers 404.
#[utoipa::path(
    get, path = "/api/client-keys/{id}/oauth-clients", tag = "client-keys",
    params(("id" = i64, Path, description = "The client key's id")),
    responses(
        (status = 200, description = "The clients", body = Vec<OAuthClientView>),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such key visible to the caller", body = ErrorBody),
    )
)]
pub async fn list_clients(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<OAuthClientView>>, ApiError> {
    load_visible(&state, &caller, id).await?;
    let rows = state.store.list_oauth_clients(id).await?;
    Ok(Json(rows.into_iter().map(OAuthClientView::from).collect()))
}

/// Deletes an OAuth client; every token issued to it stops working. Another member's key
/// answers 404.
#[utoipa::path(
    delete, path = "/api/client-keys/{id}/oauth-clients/{client}", tag = "client-keys",
    params(
        ("id" = i64, Path, description = "The client key's id"),
        ("client" = i64, Path, description = "The OAuth client's id (not its client_id)"),
    ),
    responses(
        (status = 204, description = "Deleted; its tokens are revoked"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such key or client visible to the caller", body = ErrorBody),
    )
)]
pub async fn delete_client(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((id, client)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    load_writable(&state, &caller, id).await?;
    state.oauth.inbound.revoke_client(id, client).await?;
    Ok(StatusCode::NO_CONTENT)
}
