//! `/api/logs`: one row per proxied request, filtered and paged.

use super::caller::{Caller, Scope};
use super::error::{ApiError, ApiPath, ApiQuery, ErrorBody};
use super::fields::Paging;
use crate::accounts::Permission;
use crate::pricing::format_nanos;
use crate::state::AppState;
use crate::store::LogFilter;
use crate::usage::AttemptRecord;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct LogView {
    pub id: i64,
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub client_key_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub provider_key_id: Option<i64>,
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    pub status: i32,
    pub error_kind: Option<String>,
    pub latency_ms: i64,
    pub ttfb_ms: Option<i64>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cache_write_tokens: i64,
    pub cache_read_tokens: i64,
    /// Decimal string; null when the model has no price (`priced` is then false).
    pub cost: Option<String>,
    pub priced: bool,
    pub stream: bool,
    pub partial: bool,
    /// Where the token figures came from: `provider` (its own usage report) or `estimated`
    /// (the answer ended before the provider reported; counted with a tokenizer). Null when
    /// the answer carried no usage.
    #[schema(value_type = Option<String>, example = "provider")]
    pub usage_source: Option<String>,
    /// The model the answer named (priced in preference to `model`).
    pub response_model: Option<String>,
    /// The model the request was finally sent to (after a `provider/` prefix or a model
    /// route), when it differs from `model`.
    pub resolved_model: Option<String>,
    /// The model route that chose the targets, if one did.
    pub route: Option<String>,
    /// The request and answer were translated between API formats (unified API).
    pub translated: bool,
    /// Every key tried, in order: `provider_key_id`, `provider_id`, `model` (as asked of that
    /// provider), `translated`, `status`, `error_kind`, `latency_ms`.
    pub attempts: Vec<AttemptRecord>,
}

impl From<entity::request_log::Model> for LogView {
    fn from(m: entity::request_log::Model) -> Self {
        Self {
            id: m.id,
            request_id: m.request_id,
            created_at: m.created_at,
            client_key_id: m.client_key_id,
            provider_id: m.provider_id,
            provider_key_id: m.provider_key_id,
            method: m.method,
            path: m.path,
            model: m.model,
            status: m.status,
            error_kind: m.error_kind,
            latency_ms: m.latency_ms,
            ttfb_ms: m.ttfb_ms,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            cache_write_tokens: m.cache_write_tokens,
            cache_read_tokens: m.cache_read_tokens,
            cost: m.cost_nanos.map(format_nanos),
            priced: m.cost_nanos.is_some(),
            stream: m.stream,
            partial: m.partial,
            usage_source: m.usage_source,
            response_model: m.response_model,
            resolved_model: m.resolved_model,
            route: m.route,
            translated: m.translated,
            attempts: m
                .attempts
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or_default(),
        }
    }
}

/// Filters (all optional, combined with AND) and paging: either keyset (`before` and/or
/// `limit`: newest first, continue with `before = next`) or numbered pages (`page`,
/// `per_page`, with a `total`). Keyset pages stay fast however many rows there are.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    pub client_key_id: Option<i64>,
    pub provider_id: Option<i64>,
    /// The provider credential that served the request (its last attempt).
    pub provider_key_id: Option<i64>,
    pub model: Option<String>,
    /// Exact status.
    pub status: Option<i32>,
    /// Status class: 2 for 2xx, 4 for 4xx, 5 for 5xx, …
    #[param(minimum = 1, maximum = 5)]
    pub status_class: Option<i32>,
    /// Only streams cut short (true) or only complete answers (false).
    pub partial: Option<bool>,
    /// Error kind, e.g. `upstream_timeout`, `client_gone`.
    pub error_kind: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Keyset cursor: rows with a smaller id (older), from a previous answer's `next`.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Keyset page size: 1 to 500; 50 when left out.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// Numbered pages from 1; 1 when left out.
    #[param(minimum = 1, maximum = 1_000_000_000)]
    pub page: Option<u64>,
    /// 1 to 500; 50 when left out.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogList {
    pub items: Vec<LogView>,
    /// Pass as `before` for the next (older) page; null when this page is the last.
    pub next: Option<i64>,
    /// Numbered pages only: rows matching the filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u64>,
}

/// The client keys a caller with `Scope::Own` covers: those they own. None for `Scope::All`.
pub(super) async fn owned_keys(
    state: &AppState,
    caller: &Caller,
    scope: Scope,
) -> Result<Option<Vec<i64>>, ApiError> {
    if scope == Scope::All {
        return Ok(None);
    }
    let keys = state.store.list_client_keys(Some(caller.id())).await?;
    Ok(Some(keys.into_iter().map(|k| k.key.id).collect()))
}

/// Request log rows, newest first; a member sees those of their own client keys only.
#[utoipa::path(
    get, path = "/api/logs", tag = "logs",
    params(LogQuery),
    responses(
        (status = 200, description = "A page of rows", body = LogList),
        (status = 400, description = "Malformed or out-of-range filter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<LogList>, ApiError> {
    let scope = caller.scope(Permission::LogsRead, Permission::LogsReadOwn)?;
    if let Some(c) = q.status_class {
        if !(1..=5).contains(&c) {
            return Err(ApiError::invalid("status_class", "must be between 1 and 5"));
        }
    }
    let keyset = q.before.is_some() || q.limit.is_some();
    if keyset && (q.page.is_some() || q.per_page.is_some()) {
        return Err(ApiError::invalid(
            "before",
            "and `limit` (keyset) cannot be combined with `page` and `per_page`",
        ));
    }
    let filter = LogFilter {
        client_key_id: q.client_key_id,
        provider_id: q.provider_id,
        provider_key_id: q.provider_key_id,
        model: q.model,
        status: q.status,
        status_class: q.status_class,
        partial: q.partial,
        error_kind: q.error_kind,
        from: q.from,
        to: q.to,
        owner_key_ids: owned_keys(&state, &caller, scope).await?,
    };
    let next_of = |items: &[entity::request_log::Model], size: u64| {
        (items.len() as u64 == size)
            .then(|| items.last().map(|r| r.id))
            .flatten()
    };
    if keyset {
        let limit = Paging::new(None, q.limit)?.per_page;
        if q.before.is_some_and(|b| b < 1) {
            return Err(ApiError::invalid("before", "must be at least 1"));
        }
        let items = state
            .store
            .list_logs_before(&filter, q.before, limit)
            .await?;
        return Ok(Json(LogList {
            next: next_of(&items, limit),
            items: items.into_iter().map(LogView::from).collect(),
            total: None,
            page: None,
            per_page: None,
        }));
    }
    let paging = Paging::new(q.page, q.per_page)?;
    let result = state
        .store
        .list_logs(&filter, paging.offset(), paging.per_page)
        .await?;
    Ok(Json(LogList {
        next: next_of(&result.items, paging.per_page),
        items: result.items.into_iter().map(LogView::from).collect(),
        total: Some(result.total),
        page: Some(paging.page),
        per_page: Some(paging.per_page),
    }))
}

/// One request log row. A row of another member's key answers 404.
#[utoipa::path(
    get, path = "/api/logs/{id}", tag = "logs",
    params(("id" = i64, Path, description = "The row's id")),
    responses(
        (status = 200, description = "The row", body = LogView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such row visible to the caller", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LogView>, ApiError> {
    let scope = caller.scope(Permission::LogsRead, Permission::LogsReadOwn)?;
    let row = state.store.get_log(id).await?;
    if let Some(ids) = owned_keys(&state, &caller, scope).await? {
        if !row.client_key_id.is_some_and(|k| ids.contains(&k)) {
            return Err(ApiError::NotFound);
        }
    }
    Ok(Json(row.into()))
}
