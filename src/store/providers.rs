//! Queries on providers.

use super::{Store, StoreError};
use entity::provider;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};

#[derive(Debug, Clone)]
pub struct NewProvider {
    pub name: String,
    pub api_format: String,
    pub base_url: String,
    pub auth_scheme: String,
    pub enabled: bool,
    pub connect_timeout_ms: i64,
    pub first_byte_timeout_ms: i64,
    pub health_check_path: Option<String>,
    pub retry_after_send: bool,
    /// JSON array of header names, or NULL.
    pub forward_headers: Option<String>,
    pub drop_unsupported_params: bool,
    pub path_template: Option<String>,
    pub models_path: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ProviderPatch {
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub auth_scheme: Option<String>,
    pub enabled: Option<bool>,
    pub connect_timeout_ms: Option<i64>,
    pub first_byte_timeout_ms: Option<i64>,
    /// `Some(None)` goes back to the format's default.
    pub health_check_path: Option<Option<String>>,
    pub retry_after_send: Option<bool>,
    /// `Some(None)` clears the list.
    pub forward_headers: Option<Option<String>>,
    pub drop_unsupported_params: Option<bool>,
    /// `Some(None)`: the client's path as is.
    pub path_template: Option<Option<String>>,
    /// `Some(None)`: the format's own.
    pub models_path: Option<Option<String>>,
}

impl Store {
    pub async fn list_providers(&self) -> Result<Vec<provider::Model>, StoreError> {
        Ok(provider::Entity::find()
            .order_by_asc(provider::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn get_provider(&self, id: i64) -> Result<provider::Model, StoreError> {
        provider::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn create_provider(&self, p: NewProvider) -> Result<provider::Model, StoreError> {
        let now = chrono::Utc::now();
        provider::ActiveModel {
            name: Set(p.name),
            api_format: Set(p.api_format),
            base_url: Set(p.base_url),
            auth_scheme: Set(p.auth_scheme),
            enabled: Set(p.enabled),
            connect_timeout_ms: Set(p.connect_timeout_ms),
            first_byte_timeout_ms: Set(p.first_byte_timeout_ms),
            health_check_path: Set(p.health_check_path),
            retry_after_send: Set(p.retry_after_send),
            forward_headers: Set(p.forward_headers),
            drop_unsupported_params: Set(p.drop_unsupported_params),
            path_template: Set(p.path_template),
            models_path: Set(p.models_path),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "a provider with that name"))
    }

    pub async fn update_provider(
        &self,
        id: i64,
        patch: ProviderPatch,
    ) -> Result<provider::Model, StoreError> {
        let current = self.get_provider(id).await?;
        let mut m: provider::ActiveModel = current.into();
        if let Some(v) = patch.name {
            m.name = Set(v);
        }
        if let Some(v) = patch.base_url {
            m.base_url = Set(v);
        }
        if let Some(v) = patch.auth_scheme {
            m.auth_scheme = Set(v);
        }
        if let Some(v) = patch.enabled {
            m.enabled = Set(v);
        }
        if let Some(v) = patch.connect_timeout_ms {
            m.connect_timeout_ms = Set(v);
        }
        if let Some(v) = patch.first_byte_timeout_ms {
            m.first_byte_timeout_ms = Set(v);
        }
        if let Some(v) = patch.health_check_path {
            m.health_check_path = Set(v);
        }
        if let Some(v) = patch.retry_after_send {
            m.retry_after_send = Set(v);
        }
        if let Some(v) = patch.forward_headers {
            m.forward_headers = Set(v);
        }
        if let Some(v) = patch.drop_unsupported_params {
            m.drop_unsupported_params = Set(v);
        }
        if let Some(v) = patch.path_template {
            m.path_template = Set(v);
        }
        if let Some(v) = patch.models_path {
            m.models_path = Set(v);
        }
        m.updated_at = Set(chrono::Utc::now());
        m.update(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, "a provider with that name"))
    }

    pub async fn delete_provider(&self, id: i64) -> Result<(), StoreError> {
        let res = provider::Entity::delete_by_id(id).exec(&self.db).await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
