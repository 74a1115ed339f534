//! Everything the proxy's in-memory snapshot is built from, and a cheap fingerprint of it.

use super::{Store, StoreError};
use entity::{
    client_key, client_key_provider, client_key_provider_key as pool, model_price, model_route,
    provider, provider_key, provider_model,
};
use sea_orm::{ConnectionTrait, EntityTrait, Statement};

#[derive(Debug, Clone, Default)]
pub struct CatalogRows {
    pub providers: Vec<provider::Model>,
    pub provider_keys: Vec<provider_key::Model>,
    pub client_keys: Vec<client_key::Model>,
    pub pools: Vec<pool::Model>,
    pub prices: Vec<model_price::Model>,
    /// Each client key's providers (any order; `position` orders them).
    pub reach: Vec<client_key_provider::Model>,
    pub routes: Vec<model_route::Model>,
    pub provider_models: Vec<provider_model::Model>,
}

const FINGERPRINT_SQL: &str = "SELECT \
    (SELECT COUNT(*) FROM providers) AS a, (SELECT CAST(MAX(updated_at) AS TEXT) FROM providers) AS b, \
    (SELECT COUNT(*) FROM provider_keys) AS c, (SELECT CAST(MAX(updated_at) AS TEXT) FROM provider_keys) AS d, \
    (SELECT COUNT(*) FROM client_keys) AS e, (SELECT CAST(MAX(updated_at) AS TEXT) FROM client_keys) AS f, \
    (SELECT COUNT(*) FROM client_key_provider_keys) AS g, \
    (SELECT COUNT(*) FROM model_prices) AS h, (SELECT MAX(id) FROM model_prices) AS i, \
    (SELECT CAST(COALESCE(SUM(input_nanos_per_mtok + output_nanos_per_mtok + cache_write_nanos_per_mtok \
        + cache_read_nanos_per_mtok + LENGTH(model)), 0) AS BIGINT) FROM model_prices) AS j, \
    (SELECT CAST(MAX(effective_from) AS TEXT) FROM model_prices) AS k, \
    (SELECT COUNT(*) FROM client_key_providers) AS l, \
    (SELECT COUNT(*) FROM model_routes) AS m, (SELECT CAST(MAX(updated_at) AS TEXT) FROM model_routes) AS n, \
    (SELECT COUNT(*) FROM provider_models) AS o, (SELECT CAST(MAX(checked_at) AS TEXT) FROM provider_models) AS p";

impl Store {
    pub async fn load_catalog(&self) -> Result<CatalogRows, StoreError> {
        Ok(CatalogRows {
            providers: provider::Entity::find().all(&self.db).await?,
            provider_keys: provider_key::Entity::find().all(&self.db).await?,
            client_keys: client_key::Entity::find().all(&self.db).await?,
            pools: pool::Entity::find().all(&self.db).await?,
            prices: model_price::Entity::find().all(&self.db).await?,
            reach: client_key_provider::Entity::find().all(&self.db).await?,
            routes: model_route::Entity::find().all(&self.db).await?,
            provider_models: provider_model::Entity::find().all(&self.db).await?,
        })
    }

    /// Changes whenever a row the snapshot depends on is added, changed or deleted.
    pub async fn fingerprint(&self) -> Result<String, StoreError> {
        let stmt = Statement::from_string(self.db.get_database_backend(), FINGERPRINT_SQL);
        let row = self
            .db
            .query_one(stmt)
            .await?
            .ok_or_else(|| StoreError::Setup("fingerprint query returned no row".into()))?;
        let mut out = String::new();
        for col in ["a", "c", "e", "g", "h", "i", "j", "l", "m", "o"] {
            let v: Option<i64> = row.try_get("", col)?;
            out.push_str(&format!("{}|", v.unwrap_or(-1)));
        }
        for col in ["b", "d", "f", "k", "n", "p"] {
            let v: Option<String> = row.try_get("", col)?;
            out.push_str(&v.unwrap_or_default());
            out.push('|');
        }
        Ok(out)
    }
}
