//! `/api/roles` (built-in and custom roles; custom ones are changed with `roles:manage`) and
//! `/api/permissions` (what each permission allows).

use super::caller::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use super::fields::double_option;
use super::schemas::permission_schema;
use crate::accounts::{Permission, RoleInfo};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    /// Null for a built-in role.
    pub id: Option<i64>,
    pub name: String,
    pub description: Option<String>,
    /// Built-in roles (admin, member, viewer) cannot be changed or deleted.
    pub builtin: bool,
    #[schema(schema_with = permission_list_schema)]
    pub permissions: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub(super) fn permission_list_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(permission_schema())
        .build()
}

impl From<RoleInfo> for RoleView {
    fn from(r: RoleInfo) -> Self {
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            builtin: r.builtin,
            permissions: r
                .permissions
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    /// 2 to 32 characters from a-z, 0-9, `_` and `-`; not a built-in role's name. Fixed
    /// once created.
    #[schema(min_length = 2, max_length = 32, pattern = r"^[a-z0-9_-]+$")]
    pub name: String,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// The caller must hold every permission listed.
    #[schema(schema_with = permission_list_schema)]
    pub permissions: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    /// Null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub description: Option<Option<String>>,
    /// Replaces the list; applies to the role's users on their next request.
    #[schema(schema_with = permission_list_schema)]
    pub permissions: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionView {
    #[schema(schema_with = permission_schema)]
    pub name: String,
    pub description: String,
}

/// Reading roles: for those who manage roles or assign them to users.
fn require_role_reader(caller: &Caller) -> Result<(), ApiError> {
    if caller.has(Permission::UsersManage) {
        return Ok(());
    }
    caller.require(Permission::RolesManage)
}

/// Every role: the built-in ones first, then the custom ones by name (`roles:manage` or
/// `users:manage`).
#[utoipa::path(
    get, path = "/api/roles", tag = "roles",
    responses(
        (status = 200, description = "All roles", body = Vec<RoleView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<RoleView>>, ApiError> {
    require_role_reader(&caller)?;
    let roles = state.accounts.list_roles().await?;
    Ok(Json(roles.into_iter().map(RoleView::from).collect()))
}

/// One custom role (`roles:manage` or `users:manage`).
#[utoipa::path(
    get, path = "/api/roles/{id}", tag = "roles",
    params(("id" = i64, Path, description = "The custom role's id")),
    responses(
        (status = 200, description = "The role", body = RoleView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission", body = ErrorBody),
        (status = 404, description = "No such custom role", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RoleView>, ApiError> {
    require_role_reader(&caller)?;
    Ok(Json(state.accounts.get_role(id).await?.into()))
}

/// Defines a custom role (`roles:manage`).
#[utoipa::path(
    post, path = "/api/roles", tag = "roles",
    request_body = CreateRole,
    responses(
        (status = 201, description = "Created", body = RoleView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission, or the role grants one the caller lacks", body = ErrorBody),
        (status = 409, description = "Name taken or built-in", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateRole>,
) -> Result<(StatusCode, Json<RoleView>), ApiError> {
    caller.require(Permission::RolesManage)?;
    let role = state
        .accounts
        .create_role(
            &caller.permissions,
            &req.name,
            req.description,
            &req.permissions,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

/// Changes a custom role's description or permissions (`roles:manage`).
#[utoipa::path(
    patch, path = "/api/roles/{id}", tag = "roles",
    params(("id" = i64, Path, description = "The custom role's id")),
    request_body = UpdateRole,
    responses(
        (status = 200, description = "Updated", body = RoleView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission, or the role grants one the caller lacks", body = ErrorBody),
        (status = 404, description = "No such custom role", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateRole>,
) -> Result<Json<RoleView>, ApiError> {
    caller.require(Permission::RolesManage)?;
    let role = state
        .accounts
        .update_role(
            &caller.permissions,
            id,
            req.description,
            req.permissions.as_deref(),
        )
        .await?;
    Ok(Json(role.into()))
}

/// Deletes a custom role that no user holds (`roles:manage`).
#[utoipa::path(
    delete, path = "/api/roles/{id}", tag = "roles",
    params(("id" = i64, Path, description = "The custom role's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission, or the role grants one the caller lacks", body = ErrorBody),
        (status = 404, description = "No such custom role", body = ErrorBody),
        (status = 409, description = "A user holds the role", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::RolesManage)?;
    state.accounts.delete_role(&caller.permissions, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every permission a role can grant, with what it allows (any signed-in user).
#[utoipa::path(
    get, path = "/api/permissions", tag = "roles",
    responses(
        (status = 200, description = "All permissions", body = Vec<PermissionView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
pub async fn permissions(_caller: Caller) -> Json<Vec<PermissionView>> {
    Json(
        Permission::ALL
            .iter()
            .map(|p| PermissionView {
                name: p.as_str().to_string(),
                description: p.description().to_string(),
            })
            .collect(),
    )
}
