//! Queries on users.

use super::{Store, StoreError};
use entity::user;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

impl Store {
    pub async fn user_count(&self) -> Result<u64, StoreError> {
        Ok(user::Entity::find().count(&self.db).await?)
    }

    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<user::Model, StoreError> {
        let now = chrono::Utc::now();
        user::ActiveModel {
            username: Set(username.to_string()),
            password_hash: Set(password_hash.to_string()),
            role: Set(role.to_string()),
            enabled: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "user"))
    }

    pub async fn find_user_by_name(
        &self,
        username: &str,
    ) -> Result<Option<user::Model>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?)
    }

    pub async fn find_user(&self, id: i64) -> Result<Option<user::Model>, StoreError> {
        Ok(user::Entity::find_by_id(id).one(&self.db).await?)
    }
}
