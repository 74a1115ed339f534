//! `/api/model-prices`: prices per million tokens as decimals, with an effective-from time.

use super::caller::{Caller, Scope};
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use super::fields::Amount;
use super::logs::owned_keys;
use super::refresh_catalog;
use crate::accounts::Permission;
use crate::pricing::format_nanos;
use crate::state::AppState;
use crate::store::{NewPrice, UnpricedModel};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Prices per million tokens, as decimal strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceView {
    pub id: i64,
    pub model: String,
    pub input_per_mtok: String,
    pub output_per_mtok: String,
    pub cache_write_per_mtok: String,
    pub cache_read_per_mtok: String,
    pub currency: String,
    pub effective_from: DateTime<Utc>,
}

impl From<entity::model_price::Model> for PriceView {
    fn from(m: entity::model_price::Model) -> Self {
        Self {
            id: m.id,
            model: m.model,
            input_per_mtok: format_nanos(m.input_nanos_per_mtok),
            output_per_mtok: format_nanos(m.output_nanos_per_mtok),
            cache_write_per_mtok: format_nanos(m.cache_write_nanos_per_mtok),
            cache_read_per_mtok: format_nanos(m.cache_read_nanos_per_mtok),
            currency: m.currency,
            effective_from: m.effective_from,
        }
    }
}

/// A price per million tokens; cache prices are 0 when left out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePrice {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub model: String,
    pub input_per_mtok: Amount,
    pub output_per_mtok: Amount,
    pub cache_write_per_mtok: Option<Amount>,
    pub cache_read_per_mtok: Option<Amount>,
    /// Three-letter code; `USD` when left out.
    #[schema(pattern = r"^\s*[A-Za-z]{3}\s*$")]
    pub currency: Option<String>,
    /// Applies to requests from this time on; now when left out.
    pub effective_from: Option<DateTime<Utc>>,
}

/// Every price, by model and effective time (any signed-in user).
#[utoipa::path(
    get, path = "/api/model-prices", tag = "model-prices",
    responses(
        (status = 200, description = "All prices", body = Vec<PriceView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<PriceView>>, ApiError> {
    caller.require(Permission::PricesRead)?;
    let rows = state.store.list_prices().await?;
    Ok(Json(rows.into_iter().map(PriceView::from).collect()))
}

impl CreatePrice {
    fn validate(self) -> Result<NewPrice, ApiError> {
        let model = self.model.trim().to_string();
        if model.is_empty() || model.len() > 200 {
            return Err(ApiError::invalid("model", "must have 1 to 200 characters"));
        }
        let currency = self
            .currency
            .unwrap_or_else(|| "USD".into())
            .trim()
            .to_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ApiError::invalid("currency", "must be a three-letter code"));
        }
        let optional = |a: Option<Amount>, field| {
            a.map(|a| a.nanos(field))
                .transpose()
                .map(|v| v.unwrap_or(0))
        };
        Ok(NewPrice {
            model,
            input_nanos_per_mtok: self.input_per_mtok.nanos("input_per_mtok")?,
            output_nanos_per_mtok: self.output_per_mtok.nanos("output_per_mtok")?,
            cache_write_nanos_per_mtok: optional(
                self.cache_write_per_mtok,
                "cache_write_per_mtok",
            )?,
            cache_read_nanos_per_mtok: optional(self.cache_read_per_mtok, "cache_read_per_mtok")?,
            currency,
            effective_from: self.effective_from.unwrap_or_else(Utc::now),
        })
    }
}

/// Adds a price (admin only).
#[utoipa::path(
    post, path = "/api/model-prices", tag = "model-prices",
    request_body = CreatePrice,
    responses(
        (status = 201, description = "Created", body = PriceView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 409, description = "A price for that model and time exists", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreatePrice>,
) -> Result<(StatusCode, Json<PriceView>), ApiError> {
    caller.require(Permission::PricesWrite)?;
    let created = state.store.create_price(req.validate()?).await?;
    refresh_catalog(&state).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One price (any signed-in user).
#[utoipa::path(
    get, path = "/api/model-prices/{id}", tag = "model-prices",
    params(("id" = i64, Path, description = "The price's id")),
    responses(
        (status = 200, description = "The price", body = PriceView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such price", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PriceView>, ApiError> {
    caller.require(Permission::PricesRead)?;
    Ok(Json(state.store.get_price(id).await?.into()))
}

/// Replaces a price (admin only). Requests already recorded keep the cost they had.
#[utoipa::path(
    put, path = "/api/model-prices/{id}", tag = "model-prices",
    params(("id" = i64, Path, description = "The price's id")),
    request_body = CreatePrice,
    responses(
        (status = 200, description = "Replaced", body = PriceView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such price", body = ErrorBody),
        (status = 409, description = "A price for that model and time exists", body = ErrorBody),
    )
)]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CreatePrice>,
) -> Result<Json<PriceView>, ApiError> {
    caller.require(Permission::PricesWrite)?;
    let updated = state.store.update_price(id, req.validate()?).await?;
    refresh_catalog(&state).await;
    Ok(Json(updated.into()))
}

/// Models requested with token usage and no price (none now either); a member sees only
/// their own keys' requests.
#[utoipa::path(
    get, path = "/api/model-prices/unpriced", tag = "model-prices",
    responses(
        (status = 200, description = "Unpriced models", body = Vec<UnpricedModel>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn unpriced(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<UnpricedModel>>, ApiError> {
    caller.require(Permission::PricesRead)?;
    // Whose requests count: everyone's for a caller who may see all usage or logs.
    let scope = if caller.has(Permission::StatsRead) || caller.has(Permission::LogsRead) {
        Scope::All
    } else {
        Scope::Own
    };
    let scope = owned_keys(&state, &caller, scope).await?;
    let snapshot = state.catalog.snapshot();
    let now = Utc::now();
    let models = state.store.unpriced_models(scope).await?;
    Ok(Json(
        models
            .into_iter()
            .filter(|m| snapshot.price_at(&m.model, now).is_none())
            .collect(),
    ))
}

/// Deletes a price (admin only).
#[utoipa::path(
    delete, path = "/api/model-prices/{id}", tag = "model-prices",
    params(("id" = i64, Path, description = "The price's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such price", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::PricesWrite)?;
    state.store.delete_price(id).await?;
    refresh_catalog(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
