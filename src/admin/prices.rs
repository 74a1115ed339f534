//! `/api/model-prices`: prices per million tokens as decimals, with an effective-from time.

use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath};
use super::fields::Amount;
use super::refresh_catalog;
use crate::state::AppState;
use crate::store::{NewPrice, UnpricedModel};
use crate::usage::format_nanos;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Serialize)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePrice {
    pub model: String,
    pub input_per_mtok: Amount,
    pub output_per_mtok: Amount,
    pub cache_write_per_mtok: Option<Amount>,
    pub cache_read_per_mtok: Option<Amount>,
    pub currency: Option<String>,
    pub effective_from: Option<DateTime<Utc>>,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
) -> Result<Json<Vec<PriceView>>, ApiError> {
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

pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreatePrice>,
) -> Result<(StatusCode, Json<PriceView>), ApiError> {
    caller.require_admin()?;
    let created = state.store.create_price(req.validate()?).await?;
    refresh_catalog(&state).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PriceView>, ApiError> {
    Ok(Json(state.store.get_price(id).await?.into()))
}

/// Replaces a price. Requests already recorded keep the cost they had.
pub async fn replace(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CreatePrice>,
) -> Result<Json<PriceView>, ApiError> {
    caller.require_admin()?;
    let updated = state.store.update_price(id, req.validate()?).await?;
    refresh_catalog(&state).await;
    Ok(Json(updated.into()))
}

/// Models requested with token usage but no price in force at the time.
/// Models requested with token usage and no price (none now either); a member sees only
/// their own keys' requests.
pub async fn unpriced(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<UnpricedModel>>, ApiError> {
    let scope = if caller.is_admin() {
        None
    } else {
        let keys = state.store.list_client_keys(Some(caller.id())).await?;
        Some(keys.into_iter().map(|k| k.key.id).collect())
    };
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

pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    state.store.delete_price(id).await?;
    refresh_catalog(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
