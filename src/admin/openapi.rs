//! The OpenAPI 3.1 document of the management API, generated from the handlers' annotations and
//! the request and response types, and served at `GET /api/openapi.json`.

use super::{
    audit_log, auth, client_keys, jwt_issuers, logs, model_routes, oauth, prices, provider_keys,
    providers, public_keys, roles, stats, users,
};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tollgate management API",
        description = "The control plane on :9090. Send `Authorization: Bearer <access_token>` \
            from `POST /api/auth/login` on every route that has a security requirement. \
            Errors are `{\"error\":{\"code\",\"message\"}}`."
    ),
    paths(
        super::health,
        stats::overview,
        stats::trends,
        stats::client_key_trends,
        stats::provider_key_trends,
        stats::top_models,
        stats::top_keys,
        stats::top_providers,
        document,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::logout_all,
        auth::change_password,
        auth::me,
        auth::challenge,
        auth::challenge_login,
        public_keys::list,
        public_keys::create,
        public_keys::delete,
        users::list,
        users::create,
        users::get,
        users::update,
        users::delete,
        roles::list,
        roles::create,
        roles::get,
        roles::update,
        roles::delete,
        roles::permissions,
        providers::list,
        providers::create,
        providers::get,
        providers::update,
        providers::delete,
        model_routes::provider_models,
        model_routes::refresh_provider_models,
        model_routes::list,
        model_routes::get,
        model_routes::create,
        model_routes::update,
        model_routes::delete,
        provider_keys::list,
        provider_keys::create,
        provider_keys::get,
        provider_keys::update,
        provider_keys::delete,
        provider_keys::health_check,
        oauth::authorize,
        oauth::callback,
        client_keys::list,
        client_keys::create,
        client_keys::get,
        client_keys::update,
        client_keys::rotate,
        client_keys::delete,
        oauth::create_client,
        oauth::list_clients,
        oauth::delete_client,
        jwt_issuers::list,
        jwt_issuers::create,
        jwt_issuers::get,
        jwt_issuers::update,
        jwt_issuers::delete,
        prices::list,
        prices::create,
        prices::unpriced,
        prices::get,
        prices::replace,
        prices::delete,
        logs::list,
        logs::get,
        audit_log::list,
    ),
    modifiers(&BearerAuth, &OperationIds),
    security(("bearer" = [])),
    tags(
        (name = "health", description = "Liveness"),
        (name = "meta", description = "This document"),
        (name = "auth", description = "Sessions, key-pair login and the caller's public keys"),
        (name = "users", description = "Management accounts (`users:manage`)"),
        (name = "roles", description = "Roles and permissions"),
        (name = "providers", description = "Upstream providers"),
        (name = "model-routes", description = "Model routes of the unified API"),
        (name = "provider-keys", description = "Provider credentials"),
        (name = "client-keys", description = "Tollgate-issued keys and their OAuth2 clients"),
        (name = "jwt-issuers", description = "Trusted external JWT issuers"),
        (name = "model-prices", description = "Prices per million tokens"),
        (name = "logs", description = "One row per proxied request"),
        (name = "audit", description = "Who changed what (`audit:read`)"),
    )
)]
pub struct ApiDoc;

/// The `bearer` scheme every protected operation names.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The `access_token` of a login"))
                    .build(),
            ),
        );
    }
}

/// Operation ids unique across the document: `<tag>_<handler>`, e.g. `users_list`.
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let tag = op.tags.as_ref().and_then(|t| t.first()).cloned();
                if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut()) {
                    *id = format!("{}_{id}", tag.replace('-', "_"));
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "meta", security(),
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
