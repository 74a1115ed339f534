//! Queries on model routes and on each provider's cached model list.

use super::{Store, StoreError};
use entity::{model_route, provider_model};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};

/// A model route as stored: `targets` is the JSON array of `{"target", "weight"}`.
#[derive(Debug, Clone)]
pub struct NewModelRoute {
    pub name: String,
    pub strategy: String,
    pub targets: String,
}

#[derive(Debug, Clone, Default)]
pub struct ModelRoutePatch {
    pub name: Option<String>,
    pub strategy: Option<String>,
    pub targets: Option<String>,
}

impl Store {
    pub async fn list_model_routes(&self) -> Result<Vec<model_route::Model>, StoreError> {
        Ok(model_route::Entity::find()
            .order_by_asc(model_route::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn get_model_route(&self, id: i64) -> Result<model_route::Model, StoreError> {
        model_route::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn create_model_route(
        &self,
        r: NewModelRoute,
    ) -> Result<model_route::Model, StoreError> {
        let now = chrono::Utc::now();
        model_route::ActiveModel {
            name: Set(r.name),
            strategy: Set(r.strategy),
            targets: Set(r.targets),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "a model route with that name"))
    }

    pub async fn update_model_route(
        &self,
        id: i64,
        patch: ModelRoutePatch,
    ) -> Result<model_route::Model, StoreError> {
        let mut m: model_route::ActiveModel = self.get_model_route(id).await?.into();
        if let Some(v) = patch.name {
            m.name = Set(v);
        }
        if let Some(v) = patch.strategy {
            m.strategy = Set(v);
        }
        if let Some(v) = patch.targets {
            m.targets = Set(v);
        }
        m.updated_at = Set(chrono::Utc::now());
        m.update(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, "a model route with that name"))
    }

    pub async fn delete_model_route(&self, id: i64) -> Result<(), StoreError> {
        let res = model_route::Entity::delete_by_id(id).exec(&self.db).await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The provider's cached model list, if one was ever fetched or tried.
    pub async fn get_provider_models(
        &self,
        provider_id: i64,
    ) -> Result<Option<provider_model::Model>, StoreError> {
        Ok(provider_model::Entity::find_by_id(provider_id)
            .one(&self.db)
            .await?)
    }

    /// Stores a fetched model list (a JSON array), or a failed try (`Err(why)`: the last list
    /// is kept).
    pub async fn save_provider_models(
        &self,
        provider_id: i64,
        outcome: Result<String, String>,
    ) -> Result<(), StoreError> {
        use provider_model::Column as C;
        let now = chrono::Utc::now();
        let (row, columns) = match outcome {
            Ok(models) => (
                provider_model::ActiveModel {
                    provider_id: Set(provider_id),
                    models: Set(Some(models)),
                    fetched_at: Set(Some(now)),
                    checked_at: Set(now),
                    last_error: Set(None),
                },
                vec![C::Models, C::FetchedAt, C::CheckedAt, C::LastError],
            ),
            Err(why) => (
                provider_model::ActiveModel {
                    provider_id: Set(provider_id),
                    models: Set(None),
                    fetched_at: Set(None),
                    checked_at: Set(now),
                    last_error: Set(Some(why)),
                },
                vec![C::CheckedAt, C::LastError],
            ),
        };
        provider_model::Entity::insert(row)
            .on_conflict(
                OnConflict::column(C::ProviderId)
                    .update_columns(columns)
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, "the model list of a provider"))?;
        Ok(())
    }
}
