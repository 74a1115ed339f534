//! SeaORM entities for every Tollgate table; no logic lives here.

pub mod audit_log;
pub mod auth_challenge;
pub mod client_key;
pub mod client_key_provider;
pub mod client_key_provider_key;
pub mod jwt_issuer;
pub mod model_price;
pub mod model_route;
pub mod oauth_access_token;
pub mod oauth_authorization;
pub mod oauth_client;
pub mod provider;
pub mod provider_key;
pub mod provider_key_token;
pub mod provider_model;
pub mod provider_oauth_config;
pub mod refresh_token;
pub mod request_log;
pub mod role;
pub mod usage_rollup;
pub mod user;
pub mod user_public_key;
