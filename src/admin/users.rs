//! `/api/users`: management accounts (`users:manage`); passwords are write-only.

use super::caller::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use super::schemas::role_schema;
use crate::accounts::Permission;
use crate::accounts::{NewUserInput, UserChanges};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    #[schema(schema_with = role_schema)]
    pub role: String,
    pub enabled: bool,
    /// The console asks this user for a new password at sign-in.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::user::Model> for UserView {
    fn from(m: entity::user::Model) -> Self {
        Self {
            id: m.id,
            username: m.username,
            role: m.role,
            enabled: m.enabled,
            must_change_password: m.must_change_password,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 3 to 64 characters from a-z, A-Z, 0-9, `_`, `.` and `-`.
    #[schema(min_length = 3, max_length = 64, pattern = r"^[A-Za-z0-9_.-]+$")]
    pub username: String,
    /// 12 to 1024 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
    /// `member` when left out. The caller must hold every permission of the role.
    #[schema(schema_with = role_schema)]
    pub role: Option<String>,
    pub enabled: Option<bool>,
    /// Ask for a new password at the first sign-in; false when left out.
    pub must_change_password: Option<bool>,
}

/// Every field optional. A new password or `enabled: false` ends the user's sessions.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(min_length = 3, max_length = 64, pattern = r"^[A-Za-z0-9_.-]+$")]
    pub username: Option<String>,
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
    #[schema(schema_with = role_schema)]
    pub role: Option<String>,
    pub enabled: Option<bool>,
    /// Set with a password reset so the user must choose their own at the next sign-in.
    pub must_change_password: Option<bool>,
}

/// Every management account (`users:manage`).
#[utoipa::path(
    get, path = "/api/users", tag = "users",
    responses(
        (status = 200, description = "All users", body = Vec<UserView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission, or the user or role has permissions the caller lacks", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<UserView>>, ApiError> {
    caller.require(Permission::UsersManage)?;
    let rows = state.accounts.list_users().await?;
    Ok(Json(rows.into_iter().map(UserView::from).collect()))
}

/// One account (`users:manage`).
#[utoipa::path(
    get, path = "/api/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission, or the user or role has permissions the caller lacks", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Permission::UsersManage)?;
    Ok(Json(state.accounts.get_user(id).await?.into()))
}

/// Creates an account (`users:manage`).
#[utoipa::path(
    post, path = "/api/users", tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission, or the user or role has permissions the caller lacks", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    caller.require(Permission::UsersManage)?;
    let created = state
        .accounts
        .create_user(
            &caller.permissions,
            NewUserInput {
                username: req.username,
                password: req.password,
                role: req.role,
                enabled: req.enabled,
                must_change_password: req.must_change_password,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Changes an account (`users:manage`). Nobody changes their own role or disables themselves, and nobody manages a user (or grants a role) with permissions they lack themselves.
#[utoipa::path(
    patch, path = "/api/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "The user's id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Updated", body = UserView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission, or the user or role has permissions the caller lacks", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Username taken, or a change to the caller's own role or state", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Permission::UsersManage)?;
    let updated = state
        .accounts
        .update_user(
            &caller.permissions,
            caller.id(),
            id,
            UserChanges {
                username: req.username,
                password: req.password,
                role: req.role,
                enabled: req.enabled,
                must_change_password: req.must_change_password,
            },
        )
        .await?;
    Ok(Json(updated.into()))
}

/// Deletes an account (`users:manage`); not the caller's own, nor the last admin.
#[utoipa::path(
    delete, path = "/api/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission, or the user or role has permissions the caller lacks", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The caller's own account, or the last admin", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::UsersManage)?;
    state
        .accounts
        .delete_user(&caller.permissions, caller.id(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
