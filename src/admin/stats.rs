//! `/api/stats/*` and the per-key trends: totals, series and top lists read from the hourly
//! usage rollups (never from request_logs). Members see only their own client keys' usage.

use super::caller::{Caller, Scope};
use super::error::{ApiError, ApiPath, ApiQuery, ErrorBody};
use super::logs::owned_keys;
use crate::accounts::Permission;
use crate::pricing::format_nanos;
use crate::state::AppState;
use crate::store::{NamedUsage, RankBy, RollupFilter, UsageTotals};
use crate::usage::rollup::{percentile_ms, ttfb_percentile_ms};
use crate::usage::stats::{self, Granularity, Series, Window};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct TokensView {
    pub prompt: i64,
    pub completion: i64,
    pub cache_write: i64,
    pub cache_read: i64,
    /// Every token used: prompt, completion, and cached tokens where the provider reports
    /// them apart from the prompt (Anthropic).
    pub total: i64,
}

/// Totals over a set of requests; part of every stats answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsView {
    pub requests: i64,
    /// Requests answered with status >= 400 or that failed (timeout, cut stream, …).
    pub errors: i64,
    /// errors / requests; 0 without requests.
    pub error_rate: f64,
    pub tokens: TokensView,
    /// Decimal string, sum of priced requests' cost in the prices' currency.
    pub cost: String,
    /// Requests with token usage for a model that had no price (not included in `cost`).
    pub unpriced_requests: i64,
    /// Null without requests, likewise below.
    pub latency_avg_ms: Option<i64>,
    /// Upper bound: the upper edge of the histogram bucket holding the percentile, capped at
    /// `latency_max_ms`.
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
    pub latency_max_ms: Option<i64>,
    /// Time to first byte over the requests that reported one (hours rolled up by this
    /// version on); null without any. Percentiles are upper bounds like the latency's.
    pub ttfb_avg_ms: Option<i64>,
    pub ttfb_p50_ms: Option<i64>,
    pub ttfb_p95_ms: Option<i64>,
}

impl From<&UsageTotals> for TotalsView {
    fn from(t: &UsageTotals) -> Self {
        let any = t.requests > 0;
        Self {
            requests: t.requests,
            errors: t.errors,
            error_rate: if any {
                t.errors as f64 / t.requests as f64
            } else {
                0.0
            },
            tokens: TokensView {
                prompt: t.prompt_tokens,
                completion: t.completion_tokens,
                cache_write: t.cache_write_tokens,
                cache_read: t.cache_read_tokens,
                total: t.total_tokens,
            },
            cost: format_nanos(t.cost_nanos),
            unpriced_requests: t.unpriced_requests,
            latency_avg_ms: any.then(|| (t.latency_sum_ms + t.requests / 2) / t.requests),
            latency_p50_ms: percentile_ms(t, 0.50),
            latency_p95_ms: percentile_ms(t, 0.95),
            latency_max_ms: any.then_some(t.latency_max_ms),
            ttfb_avg_ms: (t.ttfb_count > 0)
                .then(|| (t.ttfb_sum_ms + t.ttfb_count / 2) / t.ttfb_count),
            ttfb_p50_ms: ttfb_percentile_ms(t, 0.50),
            ttfb_p95_ms: ttfb_percentile_ms(t, 0.95),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverviewView {
    /// The window actually covered: whole hours, `from` rounded down, `to` rounded up.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(flatten)]
    pub totals: TotalsView,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GranularityParam {
    Hour,
    Day,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendQuery {
    #[param(inline)]
    pub granularity: Option<GranularityParam>,
    pub days: Option<u32>,
    pub client_key_id: Option<i64>,
    pub provider_key_id: Option<i64>,
    pub model: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KeyTrendQuery {
    #[param(inline)]
    pub granularity: Option<GranularityParam>,
    pub days: Option<u32>,
    pub model: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPoint {
    /// Start of the hour or day (UTC).
    pub start: DateTime<Utc>,
    /// The local date of a daily point, in `limits.timezone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    #[serde(flatten)]
    pub totals: TotalsView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendView {
    pub granularity: &'static str,
    pub timezone: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every hour or day of the range, oldest first, zeros where nothing happened.
    pub points: Vec<TrendPoint>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankParam {
    Requests,
    Tokens,
    Cost,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TopQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<u64>,
    #[param(inline)]
    pub by: Option<RankParam>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopModel {
    pub model: String,
    #[serde(flatten)]
    pub totals: TotalsView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopKey {
    pub client_key_id: i64,
    /// Null once the key is deleted.
    pub name: Option<String>,
    #[serde(flatten)]
    pub totals: TotalsView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopProvider {
    pub provider_id: i64,
    /// Null once the provider is deleted.
    pub name: Option<String>,
    #[serde(flatten)]
    pub totals: TotalsView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopList<T> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: &'static str,
    pub items: Vec<T>,
}

/// Everyone's usage with `stats:read`, the caller's own keys' with `stats:read_own`.
pub(super) fn stats_scope(caller: &Caller) -> Result<Scope, ApiError> {
    caller.scope(Permission::StatsRead, Permission::StatsReadOwn)
}

fn window(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<Window, ApiError> {
    let w = Window::around(from, to, Utc::now());
    if w.from >= w.to {
        return Err(ApiError::invalid("from", "must be before `to`"));
    }
    Ok(w)
}

#[utoipa::path(
    get, path = "/api/stats/overview", tag = "stats",
    params(OverviewQuery),
    responses(
        (status = 200, description = "OK", body = OverviewView),
        (status = 400, description = "Malformed or out-of-range parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn overview(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OverviewQuery>,
) -> Result<Json<OverviewView>, ApiError> {
    let w = window(q.from, q.to)?;
    let filter = RollupFilter {
        owner_key_ids: owned_keys(&state, &caller, stats_scope(&caller)?).await?,
        ..Default::default()
    };
    let totals = state.store.rollup_totals(&w.apply(filter)).await?;
    Ok(Json(OverviewView {
        from: w.from,
        to: w.to,
        totals: TotalsView::from(&totals),
    }))
}

async fn trend(
    state: &AppState,
    filter: RollupFilter,
    granularity: Option<GranularityParam>,
    days: Option<u32>,
) -> Result<Json<TrendView>, ApiError> {
    let days = days.unwrap_or(7);
    let (granularity, count, word) = match granularity.unwrap_or(GranularityParam::Day) {
        GranularityParam::Hour if !(1..=31).contains(&days) => {
            return Err(ApiError::invalid(
                "days",
                "must be between 1 and 31 with hourly granularity",
            ));
        }
        GranularityParam::Day if !(1..=366).contains(&days) => {
            return Err(ApiError::invalid("days", "must be between 1 and 366"));
        }
        GranularityParam::Hour => (Granularity::Hour, days * 24, "hour"),
        GranularityParam::Day => (Granularity::Day, days, "day"),
    };
    let tz = state.config.limits.tz().unwrap_or(chrono_tz::UTC);
    let Series { window, points } =
        stats::series(&state.store, filter, granularity, count, tz, Utc::now()).await?;
    Ok(Json(TrendView {
        granularity: word,
        timezone: tz.name().to_string(),
        from: window.from,
        to: window.to,
        points: points
            .iter()
            .map(|p| TrendPoint {
                start: p.start,
                day: p.day.clone(),
                totals: TotalsView::from(&p.totals),
            })
            .collect(),
    }))
}

#[utoipa::path(
    get, path = "/api/stats/trends", tag = "stats",
    params(TrendQuery),
    responses(
        (status = 200, description = "OK", body = TrendView),
        (status = 400, description = "Malformed or out-of-range parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn trends(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TrendQuery>,
) -> Result<Json<TrendView>, ApiError> {
    if q.provider_key_id.is_some() {
        caller.require(Permission::ProviderKeysRead)?;
    }
    let filter = RollupFilter {
        client_key_id: q.client_key_id,
        provider_key_id: q.provider_key_id,
        model: q.model,
        owner_key_ids: owned_keys(&state, &caller, stats_scope(&caller)?).await?,
        ..Default::default()
    };
    trend(&state, filter, q.granularity, q.days).await
}

#[utoipa::path(
    get, path = "/api/client-keys/{id}/trends", tag = "stats",
    params(("id" = i64, Path, description = "The key's id"), KeyTrendQuery),
    responses(
        (status = 200, description = "OK", body = TrendView),
        (status = 400, description = "Malformed or out-of-range parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such client key (or not yours)", body = ErrorBody),
    )
)]
pub async fn client_key_trends(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<KeyTrendQuery>,
) -> Result<Json<TrendView>, ApiError> {
    let scope = stats_scope(&caller)?;
    let key = state.store.get_client_key(id).await?;
    if scope == Scope::Own && key.key.owner_id != Some(caller.id()) {
        return Err(ApiError::NotFound);
    }
    let filter = RollupFilter {
        client_key_id: Some(id),
        model: q.model,
        ..Default::default()
    };
    trend(&state, filter, q.granularity, q.days).await
}

#[utoipa::path(
    get, path = "/api/provider-keys/{id}/trends", tag = "stats",
    params(("id" = i64, Path, description = "The key's id"), KeyTrendQuery),
    responses(
        (status = 200, description = "OK", body = TrendView),
        (status = 400, description = "Malformed or out-of-range parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such provider key", body = ErrorBody),
    )
)]
pub async fn provider_key_trends(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<KeyTrendQuery>,
) -> Result<Json<TrendView>, ApiError> {
    caller.require(Permission::ProviderKeysRead)?;
    state.store.get_provider_key(id).await?;
    let filter = RollupFilter {
        provider_key_id: Some(id),
        model: q.model,
        ..Default::default()
    };
    trend(&state, filter, q.granularity, q.days).await
}

fn ranking(q: &TopQuery) -> Result<(Window, RankBy, &'static str, u64), ApiError> {
    let w = window(q.from, q.to)?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let (by, word) = match q.by.unwrap_or(RankParam::Requests) {
        RankParam::Requests => (RankBy::Requests, "requests"),
        RankParam::Tokens => (RankBy::Tokens, "tokens"),
        RankParam::Cost => (RankBy::Cost, "cost"),
    };
    Ok((w, by, word, limit))
}

#[utoipa::path(
    get, path = "/api/stats/top-models", tag = "stats",
    params(TopQuery),
    responses(
        (status = 200, description = "OK", body = TopList<TopModel>),
        (status = 400, description = "Malformed or out-of-range parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn top_models(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TopQuery>,
) -> Result<Json<TopList<TopModel>>, ApiError> {
    let (w, by, word, limit) = ranking(&q)?;
    let filter = RollupFilter {
        owner_key_ids: owned_keys(&state, &caller, stats_scope(&caller)?).await?,
        ..Default::default()
    };
    let rows = state
        .store
        .rollup_top_models(&w.apply(filter), by, limit)
        .await?;
    Ok(Json(TopList {
        from: w.from,
        to: w.to,
        by: word,
        items: rows
            .iter()
            .map(|(model, t)| TopModel {
                model: model.clone(),
                totals: TotalsView::from(t),
            })
            .collect(),
    }))
}

#[utoipa::path(
    get, path = "/api/stats/top-keys", tag = "stats",
    params(TopQuery),
    responses(
        (status = 200, description = "OK", body = TopList<TopKey>),
        (status = 400, description = "Malformed or out-of-range parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn top_keys(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TopQuery>,
) -> Result<Json<TopList<TopKey>>, ApiError> {
    named_top(&state, &caller, &q, |row| TopKey {
        client_key_id: row.id,
        name: row.name,
        totals: TotalsView::from(&row.totals),
    })
    .await
}

#[utoipa::path(
    get, path = "/api/stats/top-providers", tag = "stats",
    params(TopQuery),
    responses(
        (status = 200, description = "OK", body = TopList<TopProvider>),
        (status = 400, description = "Malformed or out-of-range parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn top_providers(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TopQuery>,
) -> Result<Json<TopList<TopProvider>>, ApiError> {
    named_top(&state, &caller, &q, |row| TopProvider {
        provider_id: row.id,
        name: row.name,
        totals: TotalsView::from(&row.totals),
    })
    .await
}

/// Which top list of named records to read.
trait NamedTop {
    const PROVIDERS: bool;
}

impl NamedTop for TopKey {
    const PROVIDERS: bool = false;
}

impl NamedTop for TopProvider {
    const PROVIDERS: bool = true;
}

/// A top list of client keys or providers in the caller's scope, each row made into `T`.
async fn named_top<T: NamedTop>(
    state: &AppState,
    caller: &Caller,
    q: &TopQuery,
    item: impl Fn(NamedUsage) -> T,
) -> Result<Json<TopList<T>>, ApiError> {
    let (w, by, word, limit) = ranking(q)?;
    let filter = w.apply(RollupFilter {
        owner_key_ids: owned_keys(state, caller, stats_scope(caller)?).await?,
        ..Default::default()
    });
    let rows = if T::PROVIDERS {
        state.store.rollup_top_providers(&filter, by, limit).await?
    } else {
        state
            .store
            .rollup_top_client_keys(&filter, by, limit)
            .await?
    };
    Ok(Json(TopList {
        from: w.from,
        to: w.to,
        by: word,
        items: rows.into_iter().map(item).collect(),
    }))
}
