//! `/api/audit`: who changed what, filtered and paged.

use super::caller::Caller;
use super::error::{ApiError, ApiQuery, ErrorBody};
use super::fields::Paging;
use crate::accounts::Permission;
use crate::state::AppState;
use crate::store::AuditFilter;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub action: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub address: Option<String>,
    /// The fields the request set (`fields`), short non-secret values (`values`), the answer's
    /// `status`, and anything the handler added.
    #[schema(value_type = Option<Object>)]
    pub details: Value,
}

impl From<entity::audit_log::Model> for AuditView {
    fn from(m: entity::audit_log::Model) -> Self {
        Self {
            id: m.id,
            created_at: m.created_at,
            user_id: m.user_id,
            username: m.username,
            action: m.action,
            resource: m.resource,
            resource_id: m.resource_id,
            address: m.address,
            details: m
                .details
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(Value::Null),
        }
    }
}

/// Filters (all optional, combined with AND) and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub user_id: Option<i64>,
    pub resource: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// From 1; 1 when left out.
    #[param(minimum = 1, maximum = 1_000_000_000)]
    pub page: Option<u64>,
    /// 1 to 500; 50 when left out.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// The audit trail, newest first (admin only).
#[utoipa::path(
    get, path = "/api/audit", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditList),
        (status = 400, description = "Malformed or out-of-range filter", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    caller.require(Permission::AuditRead)?;
    let paging = Paging::new(q.page, q.per_page)?;
    let filter = AuditFilter {
        user_id: q.user_id,
        resource: q.resource,
        action: q.action,
        from: q.from,
        to: q.to,
    };
    let result = state
        .store
        .list_audit(&filter, paging.offset(), paging.per_page)
        .await?;
    Ok(Json(AuditList {
        items: result.items.into_iter().map(AuditView::from).collect(),
        total: result.total,
        page: paging.page,
        per_page: paging.per_page,
    }))
}
