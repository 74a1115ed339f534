//! `/api/provider-keys`: provider credentials; secrets are write-only and shown masked.

use super::caller::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use super::fields::{double_option, map_patch};
use super::oauth::{OAuthStatusView, status_view};
use super::refresh_catalog;
use crate::accounts::Permission;
use crate::auth::mask_secret;
use crate::health::CheckResult;
use crate::state::AppState;
use crate::store::{NewProviderKey, ProviderKeyPatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderKeyView {
    pub id: i64,
    pub provider_id: i64,
    pub name: String,
    pub secret_preview: String,
    pub enabled: bool,
    pub weight: i32,
    /// Requests and tokens per minute this key may take (null = no cap).
    pub rpm: Option<i32>,
    pub tpm: Option<i64>,
    /// `api_key` or `oauth2`.
    pub kind: String,
    /// Tokens of an `oauth2` key: connected, expiry, reconnect needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthStatusView>,
    pub health: KeyHealthView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A key's health as the API shows it: `disabled` when switched off, else the live state.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyHealthView {
    /// `healthy`, `cooling_down`, `circuit_open`, `invalid` or `disabled`.
    pub state: String,
    pub reason: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub next_retry_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<f64>,
    pub error_rate: f64,
    pub in_flight: u32,
    pub consecutive_failures: u32,
    pub last_check: Option<CheckResult>,
}

fn from_ms(ms: u64) -> Option<DateTime<Utc>> {
    (ms > 0)
        .then(|| DateTime::from_timestamp_millis(ms as i64))
        .flatten()
}

impl KeyHealthView {
    fn of(state: &AppState, key_id: i64, enabled: bool) -> Self {
        let v = state.health.view(key_id);
        let name = if enabled {
            serde_json::to_value(v.status.state)
                .ok()
                .and_then(|s| s.as_str().map(str::to_string))
                .unwrap_or_default()
        } else {
            "disabled".to_string()
        };
        Self {
            state: name,
            reason: if enabled {
                v.status.reason
            } else {
                Some("disabled by an administrator".into())
            },
            since: from_ms(v.status.since_ms),
            next_retry_at: v.status.retry_at_ms.and_then(from_ms),
            latency_ms: v.latency_ms,
            error_rate: v.error_rate,
            in_flight: v.in_flight,
            consecutive_failures: v.consecutive_failures,
            last_check: v.last_check,
        }
    }
}

impl ProviderKeyView {
    fn of(state: &AppState, m: entity::provider_key::Model) -> Self {
        Self {
            health: KeyHealthView::of(state, m.id, m.enabled),
            oauth: (m.kind == "oauth2").then(|| status_view(state, m.id)),
            kind: m.kind,
            id: m.id,
            provider_id: m.provider_id,
            name: m.name,
            secret_preview: m.secret_preview,
            enabled: m.enabled,
            weight: m.weight,
            rpm: m.rpm,
            tpm: m.tpm,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthCheckResponse {
    #[serde(flatten)]
    pub result: CheckResult,
    pub health: KeyHealthView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProviderKey {
    pub provider_id: i64,
    /// 1 to 128 characters.
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    pub name: String,
    /// The provider credential; write-only (shown masked afterwards). Required for
    /// `api_key`, absent for `oauth2` (connect it with `/oauth/authorize`).
    #[schema(
        write_only,
        min_length = 1,
        max_length = 4096,
        pattern = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
    )]
    pub secret: Option<String>,
    /// `api_key` (default) or `oauth2`.
    #[schema(pattern = "^(api_key|oauth2)$")]
    pub kind: Option<String>,
    pub enabled: Option<bool>,
    /// 0 to 1000; 1 when left out.
    #[schema(minimum = 0, maximum = 1000)]
    pub weight: Option<i32>,
    /// Greater than 0; no cap when left out.
    #[schema(minimum = 1)]
    pub rpm: Option<i32>,
    /// Greater than 0; no cap when left out.
    #[schema(minimum = 1)]
    pub tpm: Option<i64>,
}

/// Every field optional; a cap set to null is removed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProviderKey {
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(
        write_only,
        min_length = 1,
        max_length = 4096,
        pattern = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
    )]
    pub secret: Option<String>,
    pub enabled: Option<bool>,
    #[schema(minimum = 0, maximum = 1000)]
    pub weight: Option<i32>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub rpm: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub tpm: Option<Option<i64>>,
}

fn check_cap<T: PartialOrd + Default>(field: &'static str) -> impl Fn(T) -> Result<T, ApiError> {
    move |v| {
        if v > T::default() {
            Ok(v)
        } else {
            Err(ApiError::invalid(
                field,
                "must be greater than 0 (or null for no cap)",
            ))
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only the keys of this provider.
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

/// Provider keys, secrets masked (admin only).
#[utoipa::path(
    get, path = "/api/provider-keys", tag = "provider-keys",
    params(ListQuery),
    responses(
        (status = 200, description = "The keys", body = Vec<ProviderKeyView>),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ProviderKeyView>>, ApiError> {
    caller.require(Permission::ProviderKeysRead)?;
    let rows = state.store.list_provider_keys(q.provider_id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| ProviderKeyView::of(&state, m))
            .collect(),
    ))
}

/// One provider key with its live health (admin only).
#[utoipa::path(
    get, path = "/api/provider-keys/{id}", tag = "provider-keys",
    params(("id" = i64, Path, description = "The provider key's id")),
    responses(
        (status = 200, description = "The key", body = ProviderKeyView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderKeyView>, ApiError> {
    caller.require(Permission::ProviderKeysRead)?;
    Ok(Json(ProviderKeyView::of(
        &state,
        state.store.get_provider_key(id).await?,
    )))
}

/// Adds a credential to a provider (admin only).
#[utoipa::path(
    post, path = "/api/provider-keys", tag = "provider-keys",
    request_body = CreateProviderKey,
    responses(
        (status = 201, description = "Created", body = ProviderKeyView),
        (status = 400, description = "Invalid field or unknown provider", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateProviderKey>,
) -> Result<(StatusCode, Json<ProviderKeyView>), ApiError> {
    caller.require(Permission::ProviderKeysWrite)?;
    state
        .store
        .get_provider(req.provider_id)
        .await
        .map_err(|_| ApiError::invalid("provider_id", "does not name a provider"))?;
    let kind = req.kind.as_deref().unwrap_or("api_key");
    let (secret_ciphertext, secret_preview) = match (kind, req.secret.as_deref()) {
        ("api_key", Some(secret)) => check_secret(&state, secret)?,
        ("api_key", None) => return Err(ApiError::invalid("secret", "is required")),
        ("oauth2", None) => (
            state.master.encrypt("").map_err(|_| ApiError::Internal)?,
            String::new(),
        ),
        ("oauth2", Some(_)) => {
            return Err(ApiError::invalid(
                "secret",
                "must be left out for an oauth2 key (connect it instead)",
            ));
        }
        _ => return Err(ApiError::invalid("kind", "must be api_key or oauth2")),
    };
    let created = state
        .store
        .create_provider_key(NewProviderKey {
            provider_id: req.provider_id,
            name: check_name(&req.name)?,
            secret_ciphertext,
            secret_preview,
            enabled: req.enabled.unwrap_or(true),
            weight: check_weight(req.weight.unwrap_or(1))?,
            rpm: req.rpm.map(check_cap("rpm")).transpose()?,
            tpm: req.tpm.map(check_cap("tpm")).transpose()?,
            kind: kind.to_string(),
        })
        .await?;
    refresh_catalog(&state).await;
    Ok((
        StatusCode::CREATED,
        Json(ProviderKeyView::of(&state, created)),
    ))
}

/// Changes a provider key (admin only); a new secret or re-enabling resets its health.
#[utoipa::path(
    patch, path = "/api/provider-keys/{id}", tag = "provider-keys",
    params(("id" = i64, Path, description = "The provider key's id")),
    request_body = UpdateProviderKey,
    responses(
        (status = 200, description = "Updated", body = ProviderKeyView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateProviderKey>,
) -> Result<Json<ProviderKeyView>, ApiError> {
    caller.require(Permission::ProviderKeysWrite)?;
    let resets_health = req.secret.is_some() || req.enabled == Some(true);
    if req.secret.is_some() && state.store.get_provider_key(id).await?.kind == "oauth2" {
        return Err(ApiError::invalid(
            "secret",
            "cannot be set on an oauth2 key (connect it instead)",
        ));
    }
    let patch = ProviderKeyPatch {
        name: req.name.as_deref().map(check_name).transpose()?,
        secret: req
            .secret
            .as_deref()
            .map(|s| check_secret(&state, s))
            .transpose()?,
        enabled: req.enabled,
        weight: req.weight.map(check_weight).transpose()?,
        rpm: map_patch(req.rpm, check_cap("rpm"))?,
        tpm: map_patch(req.tpm, check_cap("tpm"))?,
    };
    let updated = state.store.update_provider_key(id, patch).await?;
    if resets_health {
        // A new secret or a re-enabled key starts with a clean slate.
        state.health.reset(id);
    }
    refresh_catalog(&state).await;
    Ok(Json(ProviderKeyView::of(&state, updated)))
}

/// Runs one active health check on the key now (admin only).
#[utoipa::path(
    post, path = "/api/provider-keys/{id}/health-check", tag = "provider-keys",
    params(("id" = i64, Path, description = "The provider key's id")),
    responses(
        (status = 200, description = "The check's result and the key's health after it", body = HealthCheckResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
        (status = 503, description = "The key is not in the configuration snapshot yet", body = ErrorBody),
    )
)]
pub async fn health_check(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<HealthCheckResponse>, ApiError> {
    caller.require(Permission::ProviderKeysCheck)?;
    state.store.get_provider_key(id).await?;
    let snapshot = state.catalog.snapshot();
    let key = snapshot.provider_key(id).ok_or(ApiError::Unavailable)?;
    let provider = snapshot
        .provider(key.provider_id)
        .ok_or(ApiError::NotFound)?;
    let result = state.prober.check(provider, key).await;
    Ok(Json(HealthCheckResponse {
        result,
        health: KeyHealthView::of(&state, id, key.enabled),
    }))
}

/// Deletes a provider key and takes it out of every pool (admin only).
#[utoipa::path(
    delete, path = "/api/provider-keys/{id}", tag = "provider-keys",
    params(("id" = i64, Path, description = "The provider key's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ProviderKeysWrite)?;
    state.store.delete_provider_key(id).await?;
    refresh_catalog(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
