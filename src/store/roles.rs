//! Queries on custom roles; a role still held by a user is not deleted (checked in the
//! delete's transaction).

use super::{Store, StoreError};
use entity::{role, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: String,
    pub description: Option<String>,
    /// JSON array of permission names.
    pub permissions: String,
}

#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub description: Option<Option<String>>,
    pub permissions: Option<String>,
}

impl Store {
    pub async fn list_roles(&self) -> Result<Vec<role::Model>, StoreError> {
        Ok(role::Entity::find()
            .order_by_asc(role::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn find_role_by_name(&self, name: &str) -> Result<Option<role::Model>, StoreError> {
        Ok(role::Entity::find()
            .filter(role::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn get_role(&self, id: i64) -> Result<role::Model, StoreError> {
        role::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn create_role(&self, r: NewRole) -> Result<role::Model, StoreError> {
        let now = chrono::Utc::now();
        role::ActiveModel {
            name: Set(r.name),
            description: Set(r.description),
            permissions: Set(r.permissions),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "a role with that name"))
    }

    pub async fn update_role(&self, id: i64, patch: RolePatch) -> Result<role::Model, StoreError> {
        let mut m: role::ActiveModel = self.get_role(id).await?.into();
        if let Some(v) = patch.description {
            m.description = Set(v);
        }
        if let Some(v) = patch.permissions {
            m.permissions = Set(v);
        }
        m.updated_at = Set(chrono::Utc::now());
        Ok(m.update(&self.db).await?)
    }

    /// How many users hold the role.
    pub async fn role_holders(&self, name: &str) -> Result<u64, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Role.eq(name))
            .count(&self.db)
            .await?)
    }

    /// Deletes a role nobody holds; 409 otherwise.
    pub async fn delete_role(&self, id: i64) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        let current = role::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let holders = user::Entity::find()
            .filter(user::Column::Role.eq(current.name.as_str()))
            .count(&txn)
            .await?;
        if holders > 0 {
            return Err(StoreError::Conflict(format!(
                "{holders} user(s) hold this role; give them another role first"
            )));
        }
        role::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }
}
