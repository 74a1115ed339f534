//! Queries on model prices.

use super::{Store, StoreError};
use entity::model_price;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};

#[derive(Debug, Clone, sea_orm::FromQueryResult, serde::Serialize, utoipa::ToSchema)]
pub struct UnpricedModel {
    pub model: String,
    pub requests: i64,
    pub last_seen: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone)]
pub struct NewPrice {
    pub model: String,
    pub input_nanos_per_mtok: i64,
    pub output_nanos_per_mtok: i64,
    pub cache_write_nanos_per_mtok: i64,
    pub cache_read_nanos_per_mtok: i64,
    pub currency: String,
    pub effective_from: chrono::DateTime<chrono::Utc>,
}

impl Store {
    pub async fn list_prices(&self) -> Result<Vec<model_price::Model>, StoreError> {
        Ok(model_price::Entity::find()
            .order_by_asc(model_price::Column::Model)
            .order_by_asc(model_price::Column::EffectiveFrom)
            .all(&self.db)
            .await?)
    }

    pub async fn create_price(&self, p: NewPrice) -> Result<model_price::Model, StoreError> {
        model_price::ActiveModel {
            model: Set(p.model),
            input_nanos_per_mtok: Set(p.input_nanos_per_mtok),
            output_nanos_per_mtok: Set(p.output_nanos_per_mtok),
            cache_write_nanos_per_mtok: Set(p.cache_write_nanos_per_mtok),
            cache_read_nanos_per_mtok: Set(p.cache_read_nanos_per_mtok),
            currency: Set(p.currency),
            effective_from: Set(p.effective_from),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "a price for that model and time"))
    }

    pub async fn get_price(&self, id: i64) -> Result<model_price::Model, StoreError> {
        model_price::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn update_price(
        &self,
        id: i64,
        p: NewPrice,
    ) -> Result<model_price::Model, StoreError> {
        let mut m: model_price::ActiveModel = self.get_price(id).await?.into();
        m.model = Set(p.model);
        m.input_nanos_per_mtok = Set(p.input_nanos_per_mtok);
        m.output_nanos_per_mtok = Set(p.output_nanos_per_mtok);
        m.cache_write_nanos_per_mtok = Set(p.cache_write_nanos_per_mtok);
        m.cache_read_nanos_per_mtok = Set(p.cache_read_nanos_per_mtok);
        m.currency = Set(p.currency);
        m.effective_from = Set(p.effective_from);
        m.update(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, "a price for that model and time"))
    }

    /// Models that were used with token usage but had no price at the time.
    pub async fn unpriced_models(
        &self,
        client_key_ids: Option<Vec<i64>>,
    ) -> Result<Vec<UnpricedModel>, StoreError> {
        use entity::request_log::Column as C;
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        let mut q = entity::request_log::Entity::find();
        if let Some(ids) = client_key_ids {
            q = q.filter(C::ClientKeyId.is_in(ids));
        }
        Ok(q.select_only()
            .column(C::Model)
            .column_as(Expr::col(C::Id).count(), "requests")
            .column_as(Expr::col(C::CreatedAt).max(), "last_seen")
            .filter(C::CostNanos.is_null())
            .filter(C::Model.is_not_null())
            .filter(
                Expr::expr(Expr::col(C::PromptTokens).add(Expr::col(C::CompletionTokens))).gt(0),
            )
            .group_by(C::Model)
            .into_model::<UnpricedModel>()
            .all(&self.db)
            .await?)
    }

    pub async fn delete_price(&self, id: i64) -> Result<(), StoreError> {
        let res = model_price::Entity::delete_by_id(id).exec(&self.db).await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
