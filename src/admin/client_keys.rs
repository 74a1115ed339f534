//! `/api/client-keys`: Tollgate-issued keys; the key is shown once, at creation.

use super::caller::{Caller, Scope};
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use super::fields::{Amount, double_option, map_patch};
use super::refresh_catalog;
use super::schemas::strategy_schema;
use crate::accounts::Permission;
use crate::auth::{client_key_prefix, generate_client_key};
use crate::limits;
use crate::pricing::format_nanos;
use crate::scheduler::Strategy;
use crate::state::AppState;
use crate::store::{
    ClientKeyLimits, ClientKeyLimitsPatch, ClientKeyPatch, ClientKeyWithPool, NewClientKey,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientKeyView {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    /// The first of `provider_ids`.
    pub provider_id: i64,
    /// The providers the key reaches, in order (at least one).
    pub provider_ids: Vec<i64>,
    pub provider_key_ids: Vec<i64>,
    pub owner_id: Option<i64>,
    #[schema(schema_with = strategy_schema)]
    pub strategy: String,
    pub max_retries: i32,
    pub enabled: bool,
    /// Requests per minute (sliding window); null = unlimited, likewise below.
    pub rpm: Option<i32>,
    pub max_concurrent: Option<i32>,
    pub rpd: Option<i64>,
    pub tpd: Option<i64>,
    /// Decimal strings in the price currency.
    pub cost_per_day: Option<String>,
    pub budget: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub allowed_models: Option<Vec<String>>,
    /// Current usage against the limits (detail view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageOut {
    /// Requests admitted in the last 60 seconds.
    pub minute_requests: u64,
    pub in_flight: u64,
    /// The day the daily counters are for (limits.timezone).
    pub day: String,
    pub day_requests: u64,
    pub day_tokens: u64,
    pub day_cost: String,
    pub lifetime_spend: String,
    pub expired: bool,
}

impl From<ClientKeyWithPool> for ClientKeyView {
    fn from(k: ClientKeyWithPool) -> Self {
        Self {
            id: k.key.id,
            name: k.key.name,
            key_prefix: k.key.key_prefix,
            provider_id: k.key.provider_id,
            provider_ids: k.provider_ids,
            provider_key_ids: k.provider_key_ids,
            owner_id: k.key.owner_id,
            strategy: k.key.strategy,
            max_retries: k.key.max_retries,
            enabled: k.key.enabled,
            rpm: k.key.rpm,
            max_concurrent: k.key.max_concurrent,
            rpd: k.key.rpd,
            tpd: k.key.tpd,
            cost_per_day: k.key.cost_per_day_nanos.map(format_nanos),
            budget: k.key.budget_nanos.map(format_nanos),
            expires_at: k.key.expires_at,
            allowed_models: k
                .key
                .allowed_models
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok()),
            usage: None,
            created_at: k.key.created_at,
            updated_at: k.key.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClientKey {
    #[serde(flatten)]
    pub view: ClientKeyView,
    /// The only time the key is shown.
    pub key: String,
}

/// Body of POST (name, provider_id or provider_ids, and provider_key_ids required) and PATCH (every field
/// optional; a limit set to null is removed). The OpenAPI document shows the POST form as
/// [`CreateClientKey`].
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientKeyInput {
    /// 1 to 128 characters.
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    pub name: Option<String>,
    /// The provider the key is bound to: the same as `provider_ids: [provider_id]`. On PATCH
    /// it may only repeat the key's first provider.
    pub provider_id: Option<i64>,
    /// The providers the key reaches, in order (1 to 20, no repeats). Requests whose model
    /// names no provider (`provider/model`) or route go to the first that serves the model.
    #[schema(min_items = 1, max_items = 20)]
    pub provider_ids: Option<Vec<i64>>,
    /// Keys of those providers to pool.
    pub provider_key_ids: Option<Vec<i64>>,
    /// `round_robin` when left out.
    #[schema(schema_with = strategy_schema)]
    pub strategy: Option<String>,
    /// 0 to 10; 2 when left out.
    #[schema(minimum = 0, maximum = 10)]
    pub max_retries: Option<i32>,
    pub enabled: Option<bool>,
    /// Each limit: greater than 0, or null for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub rpm: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub max_concurrent: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub rpd: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub tpd: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Amount>)]
    pub cost_per_day: Option<Option<Amount>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Amount>)]
    pub budget: Option<Option<Amount>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// 1 to 100 model name patterns, or null for all: `*` matches any run of characters, `?`
    /// one character; 1 to 200 characters each, no blanks, no `**`, `[`, `]`, `{`, `}` or `\`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<String>>, min_items = 1, max_items = 100)]
    pub allowed_models: Option<Option<Vec<String>>>,
}

/// The POST form of [`ClientKeyInput`] in the OpenAPI document: the same fields, with `name`,
/// `provider_key_ids` required and not null, and `provider_id` or `provider_ids` given.
pub struct CreateClientKey;

impl utoipa::PartialSchema for CreateClientKey {
    fn schema() -> RefOr<Schema> {
        let mut schema = ClientKeyInput::schema();
        if let RefOr::T(Schema::Object(o)) = &mut schema {
            o.properties.insert("name".into(), String::schema());
            o.properties
                .insert("provider_key_ids".into(), Vec::<i64>::schema());
            for field in ["name", "provider_key_ids"] {
                if !o.required.iter().any(|r| r == field) {
                    o.required.push(field.into());
                }
            }
            o.description = Some("A new client key (the body of `POST /api/client-keys`).".into());
        }
        schema
    }
}

impl utoipa::ToSchema for CreateClientKey {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        ClientKeyInput::schemas(schemas);
    }
}

/// Limits are checked by the same rules the proxy applies when it loads them (a value that
/// passes here is never refused there); a value out of range is a 422 naming the field.
fn unenforceable(bad: limits::BadSetting) -> ApiError {
    ApiError::unprocessable(bad.field, bad.why)
}

fn positive<T: Into<i64> + Copy>(field: &'static str) -> impl Fn(T) -> Result<T, ApiError> {
    move |v| limits::check_count(field, v).map_err(unenforceable)
}

fn amount(field: &'static str) -> impl Fn(Amount) -> Result<i64, ApiError> {
    move |a| {
        let nanos = a
            .nanos(field)
            .map_err(|_| ApiError::unprocessable(field, AMOUNT_RULE))?;
        limits::check_amount(field, nanos).map_err(unenforceable)
    }
}

const AMOUNT_RULE: &str = "must be a non-negative decimal with at most 9 decimal places";

fn check_models(patterns: Vec<String>) -> Result<String, ApiError> {
    limits::glob::check_patterns(&patterns)
        .map_err(|why| ApiError::unprocessable("allowed_models", why))?;
    serde_json::to_string(&patterns).map_err(|_| ApiError::Internal)
}

impl ClientKeyInput {
    /// Limits are the administrators' to set: a member may not lift (or set) them.
    fn touches_limits(&self) -> bool {
        self.rpm.is_some()
            || self.max_concurrent.is_some()
            || self.rpd.is_some()
            || self.tpd.is_some()
            || self.cost_per_day.is_some()
            || self.budget.is_some()
            || self.expires_at.is_some()
            || self.allowed_models.is_some()
    }

    fn limits_patch(&self) -> Result<ClientKeyLimitsPatch, ApiError> {
        Ok(ClientKeyLimitsPatch {
            rpm: map_patch(self.rpm, positive("rpm"))?,
            max_concurrent: map_patch(self.max_concurrent, positive("max_concurrent"))?,
            rpd: map_patch(self.rpd, positive("rpd"))?,
            tpd: map_patch(self.tpd, positive("tpd"))?,
            cost_per_day_nanos: map_patch(self.cost_per_day.clone(), amount("cost_per_day"))?,
            budget_nanos: map_patch(self.budget.clone(), amount("budget"))?,
            expires_at: self.expires_at,
            allowed_models: map_patch(self.allowed_models.clone(), check_models)?,
        })
    }

    fn limits(&self) -> Result<ClientKeyLimits, ApiError> {
        let p = self.limits_patch()?;
        Ok(ClientKeyLimits {
            rpm: p.rpm.flatten(),
            max_concurrent: p.max_concurrent.flatten(),
            rpd: p.rpd.flatten(),
            tpd: p.tpd.flatten(),
            cost_per_day_nanos: p.cost_per_day_nanos.flatten(),
            budget_nanos: p.budget_nanos.flatten(),
            expires_at: p.expires_at.flatten(),
            allowed_models: p.allowed_models.flatten(),
        })
    }
}

fn required<T>(v: Option<T>, field: &str) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::invalid(field, "is required"))
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 128 {
        return Err(ApiError::invalid("name", "must have 1 to 128 characters"));
    }
    Ok(name.to_string())
}

fn check_strategy(s: &str) -> Result<String, ApiError> {
    Strategy::parse(s)
        .map(|k| k.as_str().to_string())
        .ok_or_else(|| {
            let names: Vec<&str> = Strategy::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::invalid("strategy", format!("must be one of {}", names.join(", ")))
        })
}

fn check_retries(n: i32) -> Result<i32, ApiError> {
    if !(0..=10).contains(&n) {
        return Err(ApiError::invalid("max_retries", "must be between 0 and 10"));
    }
    Ok(n)
}

/// Every pooled key must exist and belong to one of the client key's providers.
async fn check_pool(
    state: &AppState,
    provider_ids: &[i64],
    ids: &[i64],
) -> Result<Vec<i64>, ApiError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let keys = state.store.list_provider_keys(None).await?;
    if let Some(bad) = ids.iter().find(|id| {
        !keys
            .iter()
            .any(|k| k.id == **id && provider_ids.contains(&k.provider_id))
    }) {
        return Err(ApiError::invalid(
            "provider_key_ids",
            format!("contains {bad}, which is not a key of the client key's providers"),
        ));
    }
    Ok(ids)
}

/// Most providers one client key reaches.
const MAX_PROVIDERS: usize = 20;

/// The key's provider set from `provider_ids` or `provider_id` (a one-element set): 1 to
/// [`MAX_PROVIDERS`] providers that exist, none twice; `provider_id`, when both are given, must
/// be the first of the set.
async fn provider_set(
    state: &AppState,
    provider_id: Option<i64>,
    provider_ids: Option<&[i64]>,
) -> Result<Option<Vec<i64>>, ApiError> {
    let ids = match (provider_id, provider_ids) {
        (None, None) => return Ok(None),
        (Some(id), None) => vec![id],
        (first, Some(ids)) => {
            if ids.is_empty() || ids.len() > MAX_PROVIDERS {
                return Err(ApiError::invalid(
                    "provider_ids",
                    format!("must list 1 to {MAX_PROVIDERS} providers"),
                ));
            }
            if first.is_some_and(|f| ids.first() != Some(&f)) {
                return Err(ApiError::invalid(
                    "provider_id",
                    "must be the first of provider_ids when both are given",
                ));
            }
            ids.to_vec()
        }
    };
    let field = if provider_ids.is_some() {
        "provider_ids"
    } else {
        "provider_id"
    };
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(ApiError::invalid(
                field,
                format!("lists provider {id} twice"),
            ));
        }
        if state.store.get_provider(*id).await.is_err() {
            return Err(ApiError::invalid(
                field,
                format!("{id} does not name a provider"),
            ));
        }
    }
    Ok(Some(ids))
}

/// The key if the scope covers it: another user's key is 404 to a caller who may only see
/// their own, and 403 to one who may see it but only change their own.
pub(super) async fn load_in_scope(
    state: &AppState,
    caller: &Caller,
    id: i64,
    scope: Scope,
) -> Result<ClientKeyWithPool, ApiError> {
    let key = state.store.get_client_key(id).await?;
    if scope == Scope::Own && key.key.owner_id != Some(caller.id()) {
        return Err(if caller.has(Permission::ClientKeysRead) {
            ApiError::MissingPermission(Permission::ClientKeysWrite.as_str())
        } else {
            ApiError::NotFound
        });
    }
    Ok(key)
}

/// A key the caller may read.
pub(super) async fn load_visible(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<ClientKeyWithPool, ApiError> {
    let scope = caller.scope(Permission::ClientKeysRead, Permission::ClientKeysReadOwn)?;
    load_in_scope(state, caller, id, scope).await
}

/// A key the caller may change.
pub(super) async fn load_writable(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(ClientKeyWithPool, Scope), ApiError> {
    let scope = caller.scope(Permission::ClientKeysWrite, Permission::ClientKeysWriteOwn)?;
    Ok((load_in_scope(state, caller, id, scope).await?, scope))
}

/// Client keys: all of them for an admin, a member's own otherwise.
#[utoipa::path(
    get, path = "/api/client-keys", tag = "client-keys",
    responses(
        (status = 200, description = "The keys", body = Vec<ClientKeyView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<ClientKeyView>>, ApiError> {
    let scope = caller.scope(Permission::ClientKeysRead, Permission::ClientKeysReadOwn)?;
    let owner = (scope == Scope::Own).then(|| caller.id());
    let rows = state.store.list_client_keys(owner).await?;
    Ok(Json(rows.into_iter().map(ClientKeyView::from).collect()))
}

/// One client key with its current usage. Another member's key answers 404.
#[utoipa::path(
    get, path = "/api/client-keys/{id}", tag = "client-keys",
    params(("id" = i64, Path, description = "The client key's id")),
    responses(
        (status = 200, description = "The key and its usage", body = ClientKeyView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such key visible to the caller", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ClientKeyView>, ApiError> {
    let key = load_visible(&state, &caller, id).await?;
    let expired = key.key.expires_at.is_some_and(|t| t <= Utc::now());
    let mut view = ClientKeyView::from(key);
    let u = state.limits.usage(id).await;
    view.usage = Some(UsageOut {
        minute_requests: u.minute_requests,
        in_flight: u.in_flight,
        day: u.day,
        day_requests: u.day_requests,
        day_tokens: u.day_tokens,
        day_cost: format_nanos(u.day_cost_nanos),
        lifetime_spend: format_nanos(u.lifetime_spend_nanos),
        expired,
    });
    Ok(Json(view))
}

/// Issues a client key owned by the caller; the key itself is in this answer only.
#[utoipa::path(
    post, path = "/api/client-keys", tag = "client-keys",
    request_body = CreateClientKey,
    responses(
        (status = 201, description = "Created; `key` is shown this once", body = CreatedClientKey),
        (status = 400, description = "Invalid or missing field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 422, description = "A limit or `allowed_models` out of range; `error.field` names it", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<ClientKeyInput>,
) -> Result<(StatusCode, Json<CreatedClientKey>), ApiError> {
    let scope = caller.scope(Permission::ClientKeysWrite, Permission::ClientKeysWriteOwn)?;
    let name = required(req.name.as_deref(), "name")?;
    let provider_ids = required(
        provider_set(&state, req.provider_id, req.provider_ids.as_deref()).await?,
        "provider_id",
    )?;
    let pool = required(req.provider_key_ids.as_deref(), "provider_key_ids")?;
    let provider_key_ids = check_pool(&state, &provider_ids, pool).await?;
    if scope == Scope::Own && req.touches_limits() {
        return Err(ApiError::MissingPermission(
            Permission::ClientKeysWrite.as_str(),
        ));
    }
    let limits = req.limits()?;
    let key = generate_client_key();
    let created = state
        .store
        .create_client_key(NewClientKey {
            name: check_name(name)?,
            key_hash: state.master.hash_client_key(&key),
            key_prefix: client_key_prefix(&key),
            provider_ids,
            owner_id: Some(caller.id()),
            strategy: check_strategy(req.strategy.as_deref().unwrap_or("round_robin"))?,
            max_retries: check_retries(req.max_retries.unwrap_or(2))?,
            enabled: req.enabled.unwrap_or(true),
            provider_key_ids,
            limits,
        })
        .await?;
    refresh_catalog(&state).await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedClientKey {
            view: created.into(),
            key,
        }),
    ))
}

/// Changes a client key; a limit set to null is removed. Another member's key answers 404.
#[utoipa::path(
    patch, path = "/api/client-keys/{id}", tag = "client-keys",
    params(("id" = i64, Path, description = "The client key's id")),
    request_body = ClientKeyInput,
    responses(
        (status = 200, description = "Updated", body = ClientKeyView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such key visible to the caller", body = ErrorBody),
        (status = 422, description = "A limit or `allowed_models` out of range; `error.field` names it", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ClientKeyInput>,
) -> Result<Json<ClientKeyView>, ApiError> {
    let (current, scope) = load_writable(&state, &caller, id).await?;
    if scope == Scope::Own && req.touches_limits() {
        return Err(ApiError::MissingPermission(
            Permission::ClientKeysWrite.as_str(),
        ));
    }
    if req.provider_ids.is_none()
        && req
            .provider_id
            .is_some_and(|p| p != current.key.provider_id)
    {
        return Err(ApiError::invalid(
            "provider_id",
            "cannot change alone; send provider_ids to change the key's providers",
        ));
    }
    let provider_ids = match req.provider_ids.as_deref() {
        Some(ids) => provider_set(&state, req.provider_id, Some(ids)).await?,
        None => None,
    };
    let reach = provider_ids.as_deref().unwrap_or(&current.provider_ids);
    let provider_key_ids = match (&req.provider_key_ids, &provider_ids) {
        (Some(ids), _) => Some(check_pool(&state, reach, ids).await?),
        // A smaller provider set drops the pooled keys of the providers left out.
        (None, Some(set)) => {
            let keys = state.store.list_provider_keys(None).await?;
            Some(
                current
                    .provider_key_ids
                    .iter()
                    .copied()
                    .filter(|id| {
                        keys.iter()
                            .any(|k| k.id == *id && set.contains(&k.provider_id))
                    })
                    .collect(),
            )
        }
        (None, None) => None,
    };
    let patch = ClientKeyPatch {
        name: req.name.as_deref().map(check_name).transpose()?,
        strategy: req.strategy.as_deref().map(check_strategy).transpose()?,
        max_retries: req.max_retries.map(check_retries).transpose()?,
        enabled: req.enabled,
        provider_ids,
        provider_key_ids,
        limits: req.limits_patch()?,
    };
    let updated = state.store.update_client_key(id, patch).await?;
    refresh_catalog(&state).await;
    Ok(Json(updated.into()))
}

/// Issues a new secret for the key; the old one stops working at once.
#[utoipa::path(
    post, path = "/api/client-keys/{id}/rotate", tag = "client-keys",
    params(("id" = i64, Path, description = "The client key's id")),
    responses(
        (status = 200, description = "Rotated; the new `key` is shown this once", body = CreatedClientKey),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such key visible to the caller", body = ErrorBody),
    )
)]
pub async fn rotate(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CreatedClientKey>, ApiError> {
    load_writable(&state, &caller, id).await?;
    let key = generate_client_key();
    state
        .store
        .rotate_client_key(
            id,
            state.master.hash_client_key(&key),
            client_key_prefix(&key),
        )
        .await?;
    refresh_catalog(&state).await;
    Ok(Json(CreatedClientKey {
        view: state.store.get_client_key(id).await?.into(),
        key,
    }))
}

/// Deletes a client key. Another member's key answers 404.
#[utoipa::path(
    delete, path = "/api/client-keys/{id}", tag = "client-keys",
    params(("id" = i64, Path, description = "The client key's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such key visible to the caller", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    load_writable(&state, &caller, id).await?;
    state.store.delete_client_key(id).await?;
    refresh_catalog(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
