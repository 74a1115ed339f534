//! SeaORM entities for every Tollgate table; no logic lives here.

pub mod client_key;
pub mod client_key_provider_key;
pub mod model_price;
pub mod provider;
pub mod provider_key;
pub mod request_log;
pub mod user;
