//! `/api/providers`: upstream providers as data.

use super::caller::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use super::fields::{double_option, map_patch};
use super::oauth::{OAuthConfigInput, OAuthConfigView, apply_provider_oauth};
use super::refresh_catalog;
use super::schemas::{api_format_schema, auth_scheme_schema};
use crate::accounts::Permission;
use crate::providers::ApiFormat;
use crate::snapshot::{Upstream, auth_scheme_name, default_health_check_path, parse_auth_scheme};
use crate::state::AppState;
use crate::store::{NewProvider, ProviderPatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderView {
    pub id: i64,
    pub name: String,
    #[schema(schema_with = api_format_schema)]
    pub api_format: String,
    pub base_url: String,
    #[schema(schema_with = auth_scheme_schema)]
    pub auth_scheme: String,
    pub enabled: bool,
    pub connect_timeout_ms: i64,
    pub first_byte_timeout_ms: i64,
    /// The active health check's path (the format's default when not set).
    pub health_check_path: String,
    /// Whether a request whose body was fully sent is sent again (to another credential) when
    /// the upstream times out or resets before answering. Off by default: the provider may
    /// have processed, and will bill, the first one.
    pub retry_after_send: bool,
    /// Request headers forwarded to this provider beyond its API format's allowlist.
    pub forward_headers: Vec<String>,
    /// Unified API: parameters a translated request asks for that this provider cannot honour
    /// are dropped instead of refused with a 400.
    pub drop_unsupported_params: bool,
    /// The upstream path in place of the client's: `{path}` is the client's path after its
    /// version segment (`/chat/completions`), `{model}` the model asked for; may end in a query
    /// (Azure OpenAI: `/openai/deployments/{model}{path}?api-version=2024-10-21`). Null: the
    /// client's path under the base URL.
    pub path_template: Option<String>,
    /// Where the provider lists its models (under the base URL); the format's own when null.
    pub models_path: Option<String>,
    /// The OAuth2 client configuration, when OAuth2 keys of this provider can be connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthConfigView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::provider::Model> for ProviderView {
    fn from(m: entity::provider::Model) -> Self {
        let health_check_path = m.health_check_path.unwrap_or_else(|| {
            ApiFormat::parse(&m.api_format)
                .map(default_health_check_path)
                .unwrap_or("/")
                .to_string()
        });
        Self {
            id: m.id,
            name: m.name,
            api_format: m.api_format,
            base_url: m.base_url,
            auth_scheme: m.auth_scheme,
            enabled: m.enabled,
            connect_timeout_ms: m.connect_timeout_ms,
            first_byte_timeout_ms: m.first_byte_timeout_ms,
            health_check_path,
            retry_after_send: m.retry_after_send,
            forward_headers: m
                .forward_headers
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default(),
            drop_unsupported_params: m.drop_unsupported_params,
            path_template: m.path_template,
            models_path: m.models_path,
            oauth: None,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProvider {
    /// 1 to 64 characters, unique.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: String,
    #[schema(schema_with = api_format_schema)]
    pub api_format: String,
    /// `http://` or `https://` URL of the provider's API.
    #[schema(pattern = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,4})?(/[A-Za-z0-9._~/-]*)?$")]
    pub base_url: String,
    /// The format's own when left out.
    #[schema(schema_with = auth_scheme_schema)]
    pub auth_scheme: Option<String>,
    pub enabled: Option<bool>,
    /// 1 to 600000; 5000 when left out.
    #[schema(minimum = 1, maximum = 600_000)]
    pub connect_timeout_ms: Option<i64>,
    /// 1 to 600000; 120000 when left out.
    #[schema(minimum = 1, maximum = 600_000)]
    pub first_byte_timeout_ms: Option<i64>,
    /// A path starting with `/`; the format's default when left out.
    #[schema(max_length = 512, pattern = r"^/[^\s]*$")]
    pub health_check_path: Option<String>,
    /// false when left out.
    pub retry_after_send: Option<bool>,
    /// Lower-case header names (at most 32); credentials, the caller's address and identity
    /// headers are refused.
    #[schema(max_items = 32)]
    pub forward_headers: Option<Vec<String>>,
    /// false when left out.
    pub drop_unsupported_params: Option<bool>,
    /// See [`ProviderView::path_template`]; starts with `/`, at most 512 characters.
    #[schema(max_length = 512, pattern = r"^/[^\s]*$")]
    pub path_template: Option<String>,
    /// A path starting with `/`; the format's own when left out.
    #[schema(max_length = 512, pattern = r"^/[^\s]*$")]
    pub models_path: Option<String>,
}

/// Every field optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProvider {
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(pattern = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,4})?(/[A-Za-z0-9._~/-]*)?$")]
    pub base_url: Option<String>,
    #[schema(schema_with = auth_scheme_schema)]
    pub auth_scheme: Option<String>,
    pub enabled: Option<bool>,
    #[schema(minimum = 1, maximum = 600_000)]
    pub connect_timeout_ms: Option<i64>,
    #[schema(minimum = 1, maximum = 600_000)]
    pub first_byte_timeout_ms: Option<i64>,
    /// A path, or null for the format's default.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 512, pattern = r"^/[^\s]*$")]
    pub health_check_path: Option<Option<String>>,
    pub retry_after_send: Option<bool>,
    /// The list, or null for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<String>>, max_items = 32)]
    pub forward_headers: Option<Option<Vec<String>>>,
    pub drop_unsupported_params: Option<bool>,
    /// The template, or null for the client's path as is.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 512, pattern = r"^/[^\s]*$")]
    pub path_template: Option<Option<String>>,
    /// A path, or null for the format's own.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 512, pattern = r"^/[^\s]*$")]
    pub models_path: Option<Option<String>>,
    /// The OAuth2 client for keys of kind `oauth2`; null removes it. Its `client_secret` is
    /// write-only.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<OAuthConfigInput>)]
    pub oauth: Option<Option<OAuthConfigInput>>,
}

/// The provider's view with its OAuth configuration.
async fn with_oauth(
    state: &AppState,
    m: entity::provider::Model,
) -> Result<ProviderView, ApiError> {
    let oauth = state.store.get_provider_oauth(m.id).await?;
    let mut view = ProviderView::from(m);
    view.oauth = oauth.map(OAuthConfigView::from);
    Ok(view)
}

fn check_path(path: &str) -> Result<String, ApiError> {
    if !path.starts_with('/')
        || path.len() > 512
        || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ApiError::invalid(
            "health_check_path",
            "must be a path starting with /",
        ));
    }
    Ok(path.to_string())
}

/// The list as stored (a JSON array), each name checked.
fn check_forward_headers(names: Vec<String>) -> Result<String, ApiError> {
    if names.len() > 32 {
        return Err(ApiError::invalid(
            "forward_headers",
            "must have at most 32 names",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let name = name.trim().to_ascii_lowercase();
        if !crate::providers::headers::may_configure(&name) {
            return Err(ApiError::invalid(
                "forward_headers",
                format!(
                    "`{name}` cannot be forwarded (credentials, the caller's address or identity, \
                     hop-by-hop and account headers are never forwarded)"
                ),
            ));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    serde_json::to_string(&out).map_err(|_| ApiError::Internal)
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(ApiError::invalid("name", "must have 1 to 64 characters"));
    }
    // Clients address a provider's models as `name/model`.
    if name.contains('/') {
        return Err(ApiError::invalid("name", "must not contain `/`"));
    }
    Ok(name.to_string())
}

/// A path template: a path starting with `/`, no blanks, at most 512 characters; the only
/// placeholders are `{path}` and `{model}`.
fn check_template(t: &str) -> Result<String, ApiError> {
    let rest = t.replace("{path}", "").replace("{model}", "");
    if !t.starts_with('/') || t.len() > 512 || t.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid(
            "path_template",
            "must start with `/`, have at most 512 characters and no blanks",
        ));
    }
    if rest.contains('{') || rest.contains('}') {
        return Err(ApiError::invalid(
            "path_template",
            "the only placeholders are {path} and {model}",
        ));
    }
    Ok(t.to_string())
}

fn check_base_url(url: &str) -> Result<String, ApiError> {
    Upstream::parse(url).map_err(|e| ApiError::invalid("base_url", e))?;
    Ok(url.trim_end_matches('/').to_string())
}

fn check_auth_scheme(s: &str) -> Result<String, ApiError> {
    parse_auth_scheme(s)
        .map(|p| auth_scheme_name(p).to_string())
        .ok_or_else(|| {
            ApiError::invalid(
                "auth_scheme",
                "must be bearer, x-api-key, x-goog-api-key or api-key",
            )
        })
}

fn check_timeout(field: &str, ms: i64) -> Result<i64, ApiError> {
    if !(1..=600_000).contains(&ms) {
        return Err(ApiError::invalid(
            field,
            "must be between 1 and 600000 milliseconds",
        ));
    }
    Ok(ms)
}

/// Every provider (any signed-in user).
#[utoipa::path(
    get, path = "/api/providers", tag = "providers",
    responses(
        (status = 200, description = "All providers", body = Vec<ProviderView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<ProviderView>>, ApiError> {
    caller.require(Permission::ProvidersRead)?;
    let rows = state.store.list_providers().await?;
    let mut configs: std::collections::HashMap<i64, _> = state
        .store
        .list_provider_oauth()
        .await?
        .into_iter()
        .map(|c| (c.provider_id, c))
        .collect();
    Ok(Json(
        rows.into_iter()
            .map(|m| {
                let oauth = configs.remove(&m.id).map(OAuthConfigView::from);
                ProviderView {
                    oauth,
                    ..ProviderView::from(m)
                }
            })
            .collect(),
    ))
}

/// One provider (any signed-in user).
#[utoipa::path(
    get, path = "/api/providers/{id}", tag = "providers",
    params(("id" = i64, Path, description = "The provider's id")),
    responses(
        (status = 200, description = "The provider", body = ProviderView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderView>, ApiError> {
    caller.require(Permission::ProvidersRead)?;
    let m = state.store.get_provider(id).await?;
    Ok(Json(with_oauth(&state, m).await?))
}

/// Adds a provider (admin only).
#[utoipa::path(
    post, path = "/api/providers", tag = "providers",
    request_body = CreateProvider,
    responses(
        (status = 201, description = "Created", body = ProviderView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateProvider>,
) -> Result<(StatusCode, Json<ProviderView>), ApiError> {
    caller.require(Permission::ProvidersWrite)?;
    let format = ApiFormat::parse(&req.api_format)
        .ok_or_else(|| ApiError::invalid("api_format", "must be openai, anthropic or gemini"))?;
    let auth_scheme = match req.auth_scheme {
        Some(s) => check_auth_scheme(&s)?,
        None => auth_scheme_name(format.default_credential_placement()).to_string(),
    };
    let created = state
        .store
        .create_provider(NewProvider {
            name: check_name(&req.name)?,
            api_format: format.as_str().to_string(),
            base_url: check_base_url(&req.base_url)?,
            auth_scheme,
            enabled: req.enabled.unwrap_or(true),
            connect_timeout_ms: check_timeout(
                "connect_timeout_ms",
                req.connect_timeout_ms.unwrap_or(5_000),
            )?,
            first_byte_timeout_ms: check_timeout(
                "first_byte_timeout_ms",
                req.first_byte_timeout_ms.unwrap_or(120_000),
            )?,
            health_check_path: req
                .health_check_path
                .as_deref()
                .map(check_path)
                .transpose()?,
            retry_after_send: req.retry_after_send.unwrap_or(false),
            forward_headers: req.forward_headers.map(check_forward_headers).transpose()?,
            drop_unsupported_params: req.drop_unsupported_params.unwrap_or(false),
            path_template: req
                .path_template
                .as_deref()
                .map(check_template)
                .transpose()?,
            models_path: req.models_path.as_deref().map(check_path).transpose()?,
        })
        .await?;
    refresh_catalog(&state).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Changes a provider (admin only).
#[utoipa::path(
    patch, path = "/api/providers/{id}", tag = "providers",
    params(("id" = i64, Path, description = "The provider's id")),
    request_body = UpdateProvider,
    responses(
        (status = 200, description = "Updated", body = ProviderView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateProvider>,
) -> Result<Json<ProviderView>, ApiError> {
    caller.require(Permission::ProvidersWrite)?;
    let patch = ProviderPatch {
        name: req.name.as_deref().map(check_name).transpose()?,
        base_url: req.base_url.as_deref().map(check_base_url).transpose()?,
        auth_scheme: req
            .auth_scheme
            .as_deref()
            .map(check_auth_scheme)
            .transpose()?,
        enabled: req.enabled,
        connect_timeout_ms: req
            .connect_timeout_ms
            .map(|v| check_timeout("connect_timeout_ms", v))
            .transpose()?,
        first_byte_timeout_ms: req
            .first_byte_timeout_ms
            .map(|v| check_timeout("first_byte_timeout_ms", v))
            .transpose()?,
        health_check_path: map_patch(req.health_check_path, |p| check_path(&p))?,
        retry_after_send: req.retry_after_send,
        forward_headers: map_patch(req.forward_headers, check_forward_headers)?,
        drop_unsupported_params: req.drop_unsupported_params,
        path_template: map_patch(req.path_template, |p| check_template(&p))?,
        models_path: map_patch(req.models_path, |p| check_path(&p))?,
    };
    let updated = state.store.update_provider(id, patch).await?;
    if let Some(oauth) = req.oauth {
        apply_provider_oauth(&state, id, oauth).await?;
    }
    refresh_catalog(&state).await;
    Ok(Json(with_oauth(&state, updated).await?))
}

/// Deletes a provider with its keys and client keys (admin only).
#[utoipa::path(
    delete, path = "/api/providers/{id}", tag = "providers",
    params(("id" = i64, Path, description = "The provider's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ProvidersWrite)?;
    state.store.delete_provider(id).await?;
    refresh_catalog(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
