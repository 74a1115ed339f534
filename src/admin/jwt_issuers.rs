//! `/api/jwt-issuers`: trusted external JWT issuers whose tokens act as client keys on the
//! proxy (admin only).

use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use super::fields::double_option;
use crate::accounts::Permission;
use crate::oauth::jwt::{ALLOWED_ALGORITHMS, family, parse_algorithm, static_key};
use crate::state::AppState;
use crate::store::NewJwtIssuer;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct JwtIssuerView {
    pub id: i64,
    pub name: String,
    /// The exact `iss` a token must carry.
    pub issuer: String,
    /// The `aud` a token must carry (one of its audiences).
    pub audience: String,
    pub jwks_url: Option<String>,
    /// A static public key (PEM), instead of a JWKS URL.
    pub public_key_pem: Option<String>,
    pub algorithms: Vec<String>,
    /// The claim whose value selects the client key.
    pub client_key_claim: String,
    /// Claim value → client key id.
    pub client_keys: BTreeMap<String, i64>,
    /// Leeway for `exp` and `nbf`, in seconds.
    pub clock_skew_secs: i64,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::jwt_issuer::Model> for JwtIssuerView {
    fn from(m: entity::jwt_issuer::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            issuer: m.issuer,
            audience: m.audience,
            jwks_url: m.jwks_url,
            public_key_pem: m.public_key_pem,
            algorithms: serde_json::from_str(&m.algorithms).unwrap_or_default(),
            client_key_claim: m.client_key_claim,
            client_keys: serde_json::from_str(&m.client_keys).unwrap_or_default(),
            clock_skew_secs: m.clock_skew_secs,
            enabled: m.enabled,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Body of POST (name, issuer, audience, algorithms and one of jwks_url / public_key_pem
/// required) and PATCH (every field optional; null clears jwks_url or public_key_pem).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtIssuerInput {
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 1024)]
    pub issuer: Option<String>,
    #[schema(min_length = 1, max_length = 1024)]
    pub audience: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2048)]
    pub jwks_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 16384)]
    pub public_key_pem: Option<Option<String>>,
    /// Asymmetric algorithms only, all of one key family: RS256, RS384, RS512, PS256, PS384,
    /// PS512, ES256, ES384, EdDSA.
    #[schema(min_items = 1, max_items = 9)]
    pub algorithms: Option<Vec<String>>,
    /// `sub` when left out.
    #[schema(min_length = 1, max_length = 128)]
    pub client_key_claim: Option<String>,
    pub client_keys: Option<BTreeMap<String, i64>>,
    /// 0 to 3600; 60 when left out.
    #[schema(minimum = 0, maximum = 3600)]
    pub clock_skew_secs: Option<i64>,
    pub enabled: Option<bool>,
}

fn text(field: &str, v: &str, max: usize) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            field,
            format!("must have 1 to {max} printable characters"),
        ));
    }
    Ok(v.to_string())
}

/// Checks a complete issuer; `current` supplies what a PATCH leaves out.
async fn build(
    state: &AppState,
    req: JwtIssuerInput,
    current: Option<entity::jwt_issuer::Model>,
) -> Result<NewJwtIssuer, ApiError> {
    let cur = current.map(JwtIssuerView::from);
    let pick = |v: Option<String>, old: Option<String>, field: &str| {
        v.or(old)
            .ok_or_else(|| ApiError::invalid(field, "is required"))
    };
    let name = text(
        "name",
        &pick(req.name, cur.as_ref().map(|c| c.name.clone()), "name")?,
        128,
    )?;
    let issuer = text(
        "issuer",
        &pick(req.issuer, cur.as_ref().map(|c| c.issuer.clone()), "issuer")?,
        1024,
    )?;
    let audience = text(
        "audience",
        &pick(
            req.audience,
            cur.as_ref().map(|c| c.audience.clone()),
            "audience",
        )?,
        1024,
    )?;
    let jwks_url = match req.jwks_url {
        Some(v) => v,
        None => cur.as_ref().and_then(|c| c.jwks_url.clone()),
    };
    let public_key_pem = match req.public_key_pem {
        Some(v) => v,
        None => cur.as_ref().and_then(|c| c.public_key_pem.clone()),
    };
    let algorithms = req
        .algorithms
        .or(cur.as_ref().map(|c| c.algorithms.clone()))
        .ok_or_else(|| ApiError::invalid("algorithms", "is required"))?;
    let parsed: Vec<_> = algorithms
        .iter()
        .map(|a| {
            parse_algorithm(a).ok_or_else(|| {
                ApiError::invalid(
                    "algorithms",
                    format!(
                        "may only name asymmetric algorithms ({}); `{a}` is not one",
                        ALLOWED_ALGORITHMS.join(", ")
                    ),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let Some(first) = parsed.first().copied() else {
        return Err(ApiError::invalid("algorithms", "must name at least one"));
    };
    if parsed.iter().any(|a| family(*a) != family(first)) {
        return Err(ApiError::invalid(
            "algorithms",
            "must all use one key family (RSA, EC or EdDSA)",
        ));
    }
    match (&jwks_url, &public_key_pem) {
        (Some(url), None) => {
            let u =
                url::Url::parse(url).map_err(|_| ApiError::invalid("jwks_url", "is not a URL"))?;
            if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() || url.len() > 2048
            {
                return Err(ApiError::invalid(
                    "jwks_url",
                    "must be an http or https URL",
                ));
            }
        }
        (None, Some(pem)) => {
            if pem.len() > 16384 || static_key(pem, first).is_none() {
                return Err(ApiError::invalid(
                    "public_key_pem",
                    "must be a PEM public key of the algorithms' family",
                ));
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "jwks_url",
                "exactly one of jwks_url and public_key_pem must be set",
            ));
        }
    }
    let claim = text(
        "client_key_claim",
        &req.client_key_claim
            .or(cur.as_ref().map(|c| c.client_key_claim.clone()))
            .unwrap_or_else(|| "sub".into()),
        128,
    )?;
    let client_keys = req
        .client_keys
        .or(cur.as_ref().map(|c| c.client_keys.clone()))
        .unwrap_or_default();
    if client_keys.len() > 1000 {
        return Err(ApiError::invalid(
            "client_keys",
            "must map at most 1000 values",
        ));
    }
    for (value, id) in &client_keys {
        if value.is_empty() || value.len() > 512 {
            return Err(ApiError::invalid(
                "client_keys",
                "values must have 1 to 512 characters",
            ));
        }
        if state.store.get_client_key(*id).await.is_err() {
            return Err(ApiError::invalid(
                "client_keys",
                format!("`{value}` names client key {id}, which does not exist"),
            ));
        }
    }
    let skew = req
        .clock_skew_secs
        .or(cur.as_ref().map(|c| c.clock_skew_secs))
        .unwrap_or(60);
    if !(0..=3600).contains(&skew) {
        return Err(ApiError::invalid(
            "clock_skew_secs",
            "must be between 0 and 3600",
        ));
    }
    Ok(NewJwtIssuer {
        name,
        issuer,
        audience,
        jwks_url,
        public_key_pem,
        algorithms: serde_json::to_string(&algorithms).map_err(|_| ApiError::Internal)?,
        client_key_claim: claim,
        client_keys: serde_json::to_string(&client_keys).map_err(|_| ApiError::Internal)?,
        clock_skew_secs: skew,
        enabled: req
            .enabled
            .or(cur.as_ref().map(|c| c.enabled))
            .unwrap_or(true),
    })
}

/// This instance uses the change at once; the others at their next sync.
async fn reload(state: &AppState) {
    if let Err(e) = state.oauth.inbound.jwt.sync().await {
        tracing::error!("JWT issuer reload failed: {e}");
    }
}

/// Trusted JWT issuers (admin only).
#[utoipa::path(
    get, path = "/api/jwt-issuers", tag = "jwt-issuers",
    responses(
        (status = 200, description = "The issuers", body = Vec<JwtIssuerView>),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission (client_keys:read to read, client_keys:write to change)", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<JwtIssuerView>>, ApiError> {
    caller.require(Permission::ClientKeysRead)?;
    let rows = state.store.list_jwt_issuers().await?;
    Ok(Json(rows.into_iter().map(JwtIssuerView::from).collect()))
}

/// One issuer (admin only).
#[utoipa::path(
    get, path = "/api/jwt-issuers/{id}", tag = "jwt-issuers",
    params(("id" = i64, Path, description = "The issuer's id")),
    responses(
        (status = 200, description = "The issuer", body = JwtIssuerView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission (client_keys:read to read, client_keys:write to change)", body = ErrorBody),
        (status = 404, description = "No such issuer", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<JwtIssuerView>, ApiError> {
    caller.require(Permission::ClientKeysRead)?;
    Ok(Json(state.store.get_jwt_issuer(id).await?.into()))
}

/// Trusts a new issuer (admin only).
#[utoipa::path(
    post, path = "/api/jwt-issuers", tag = "jwt-issuers",
    request_body = JwtIssuerInput,
    responses(
        (status = 201, description = "Created", body = JwtIssuerView),
        (status = 400, description = "Invalid or missing field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission (client_keys:read to read, client_keys:write to change)", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<JwtIssuerInput>,
) -> Result<(StatusCode, Json<JwtIssuerView>), ApiError> {
    caller.require(Permission::ClientKeysWrite)?;
    let new = build(&state, req, None).await?;
    let created = state.store.create_jwt_issuer(new).await?;
    reload(&state).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Changes an issuer (admin only).
#[utoipa::path(
    patch, path = "/api/jwt-issuers/{id}", tag = "jwt-issuers",
    params(("id" = i64, Path, description = "The issuer's id")),
    request_body = JwtIssuerInput,
    responses(
        (status = 200, description = "Updated", body = JwtIssuerView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission (client_keys:read to read, client_keys:write to change)", body = ErrorBody),
        (status = 404, description = "No such issuer", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<JwtIssuerInput>,
) -> Result<Json<JwtIssuerView>, ApiError> {
    caller.require(Permission::ClientKeysWrite)?;
    let current = state.store.get_jwt_issuer(id).await?;
    let new = build(&state, req, Some(current)).await?;
    let updated = state.store.replace_jwt_issuer(id, new).await?;
    reload(&state).await;
    Ok(Json(updated.into()))
}

/// Stops trusting an issuer (admin only).
#[utoipa::path(
    delete, path = "/api/jwt-issuers/{id}", tag = "jwt-issuers",
    params(("id" = i64, Path, description = "The issuer's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 403, description = "Missing permission (client_keys:read to read, client_keys:write to change)", body = ErrorBody),
        (status = 404, description = "No such issuer", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ClientKeysWrite)?;
    state.store.delete_jwt_issuer(id).await?;
    reload(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
