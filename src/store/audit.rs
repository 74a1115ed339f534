//! Queries on the audit trail: one insert per write, filtered pages for the API.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub action: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub address: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user_id: Option<i64>,
    pub resource: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct AuditPage {
    pub items: Vec<audit_log::Model>,
    pub total: u64,
}

impl AuditFilter {
    fn apply(&self, mut q: Select<audit_log::Entity>) -> Select<audit_log::Entity> {
        use audit_log::Column as C;
        if let Some(v) = self.user_id {
            q = q.filter(C::UserId.eq(v));
        }
        if let Some(v) = &self.resource {
            q = q.filter(C::Resource.eq(v.clone()));
        }
        if let Some(v) = &self.action {
            q = q.filter(C::Action.eq(v.clone()));
        }
        if let Some(v) = self.from {
            q = q.filter(C::CreatedAt.gte(v));
        }
        if let Some(v) = self.to {
            q = q.filter(C::CreatedAt.lt(v));
        }
        q
    }
}

impl Store {
    pub async fn insert_audit(&self, e: NewAuditEntry) -> Result<(), StoreError> {
        audit_log::ActiveModel {
            created_at: Set(Utc::now()),
            user_id: Set(e.user_id),
            username: Set(e.username),
            action: Set(e.action),
            resource: Set(e.resource),
            resource_id: Set(e.resource_id),
            address: Set(e.address),
            details: Set(e.details),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        offset: u64,
        limit: u64,
    ) -> Result<AuditPage, StoreError> {
        let total = filter
            .apply(audit_log::Entity::find())
            .count(&self.db)
            .await?;
        let items = filter
            .apply(audit_log::Entity::find())
            .order_by_desc(audit_log::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(AuditPage { items, total })
    }
}
