//! Queries on provider keys, client keys and the pools that join them.

use super::{Store, StoreError};
use entity::{
    client_key, client_key_provider as reach, client_key_provider_key as pool, provider_key,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct NewProviderKey {
    pub provider_id: i64,
    pub name: String,
    pub secret_ciphertext: String,
    pub secret_preview: String,
    pub enabled: bool,
    pub weight: i32,
    pub rpm: Option<i32>,
    pub tpm: Option<i64>,
    /// `api_key` or `oauth2` (which also gets its pending token row).
    pub kind: String,
}

#[derive(Debug, Clone, Default)]
pub struct ProviderKeyPatch {
    pub name: Option<String>,
    pub secret: Option<(String, String)>,
    pub enabled: Option<bool>,
    pub weight: Option<i32>,
    pub rpm: Option<Option<i32>>,
    pub tpm: Option<Option<i64>>,
}

/// A client key's limits as stored; `None` is unlimited.
#[derive(Debug, Clone, Default)]
pub struct ClientKeyLimits {
    pub rpm: Option<i32>,
    pub max_concurrent: Option<i32>,
    pub rpd: Option<i64>,
    pub tpd: Option<i64>,
    pub cost_per_day_nanos: Option<i64>,
    pub budget_nanos: Option<i64>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// JSON array of glob patterns.
    pub allowed_models: Option<String>,
}

/// Changes to a client key's limits: `Some(None)` clears one.
#[derive(Debug, Clone, Default)]
pub struct ClientKeyLimitsPatch {
    pub rpm: Option<Option<i32>>,
    pub max_concurrent: Option<Option<i32>>,
    pub rpd: Option<Option<i64>>,
    pub tpd: Option<Option<i64>>,
    pub cost_per_day_nanos: Option<Option<i64>>,
    pub budget_nanos: Option<Option<i64>>,
    pub expires_at: Option<Option<chrono::DateTime<chrono::Utc>>>,
    pub allowed_models: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct NewClientKey {
    pub name: String,
    pub key_hash: String,
    pub key_prefix: String,
    /// The providers the key reaches, in order (at least one; the first is its `provider_id`).
    pub provider_ids: Vec<i64>,
    pub owner_id: Option<i64>,
    pub strategy: String,
    pub max_retries: i32,
    pub enabled: bool,
    pub provider_key_ids: Vec<i64>,
    pub limits: ClientKeyLimits,
}

#[derive(Debug, Clone, Default)]
pub struct ClientKeyPatch {
    pub name: Option<String>,
    pub strategy: Option<String>,
    pub max_retries: Option<i32>,
    pub enabled: Option<bool>,
    /// A new provider set (at least one; the first becomes the key's `provider_id`).
    pub provider_ids: Option<Vec<i64>>,
    pub provider_key_ids: Option<Vec<i64>>,
    pub limits: ClientKeyLimitsPatch,
}

#[derive(Debug, Clone)]
pub struct ClientKeyWithPool {
    pub key: client_key::Model,
    /// The providers the key reaches, in order (the first is `key.provider_id`).
    pub provider_ids: Vec<i64>,
    pub provider_key_ids: Vec<i64>,
}

impl Store {
    pub async fn list_provider_keys(
        &self,
        provider_id: Option<i64>,
    ) -> Result<Vec<provider_key::Model>, StoreError> {
        let mut q = provider_key::Entity::find().order_by_asc(provider_key::Column::Id);
        if let Some(pid) = provider_id {
            q = q.filter(provider_key::Column::ProviderId.eq(pid));
        }
        Ok(q.all(&self.db).await?)
    }

    pub async fn get_provider_key(&self, id: i64) -> Result<provider_key::Model, StoreError> {
        provider_key::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn create_provider_key(
        &self,
        k: NewProviderKey,
    ) -> Result<provider_key::Model, StoreError> {
        let now = chrono::Utc::now();
        let txn = self.db.begin().await?;
        let oauth = k.kind == "oauth2";
        let created = provider_key::ActiveModel {
            provider_id: Set(k.provider_id),
            kind: Set(k.kind),
            name: Set(k.name),
            secret_ciphertext: Set(k.secret_ciphertext),
            secret_preview: Set(k.secret_preview),
            enabled: Set(k.enabled),
            weight: Set(k.weight),
            rpm: Set(k.rpm),
            tpm: Set(k.tpm),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| StoreError::from_write(e, "provider key"))?;
        if oauth {
            super::oauth::insert_pending_token(&txn, created.id).await?;
        }
        txn.commit().await?;
        Ok(created)
    }

    pub async fn update_provider_key(
        &self,
        id: i64,
        patch: ProviderKeyPatch,
    ) -> Result<provider_key::Model, StoreError> {
        let mut m: provider_key::ActiveModel = self.get_provider_key(id).await?.into();
        if let Some(v) = patch.name {
            m.name = Set(v);
        }
        if let Some((ciphertext, preview)) = patch.secret {
            m.secret_ciphertext = Set(ciphertext);
            m.secret_preview = Set(preview);
        }
        if let Some(v) = patch.enabled {
            m.enabled = Set(v);
        }
        if let Some(v) = patch.weight {
            m.weight = Set(v);
        }
        if let Some(v) = patch.rpm {
            m.rpm = Set(v);
        }
        if let Some(v) = patch.tpm {
            m.tpm = Set(v);
        }
        m.updated_at = Set(chrono::Utc::now());
        m.update(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, "provider key"))
    }

    pub async fn delete_provider_key(&self, id: i64) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        pool::Entity::delete_many()
            .filter(pool::Column::ProviderKeyId.eq(id))
            .exec(&txn)
            .await?;
        let res = provider_key::Entity::delete_by_id(id).exec(&txn).await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        touch_client_keys(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn list_client_keys(
        &self,
        owner_id: Option<i64>,
    ) -> Result<Vec<ClientKeyWithPool>, StoreError> {
        let mut q = client_key::Entity::find().order_by_asc(client_key::Column::Id);
        if let Some(owner) = owner_id {
            q = q.filter(client_key::Column::OwnerId.eq(owner));
        }
        let keys = q.all(&self.db).await?;
        let mut pools: HashMap<i64, Vec<i64>> = HashMap::new();
        for row in pool::Entity::find()
            .order_by_asc(pool::Column::ProviderKeyId)
            .all(&self.db)
            .await?
        {
            pools
                .entry(row.client_key_id)
                .or_default()
                .push(row.provider_key_id);
        }
        let mut reaches = provider_sets(&self.db, None).await?;
        Ok(keys
            .into_iter()
            .map(|key| ClientKeyWithPool {
                provider_ids: reaches
                    .remove(&key.id)
                    .unwrap_or_else(|| vec![key.provider_id]),
                provider_key_ids: pools.remove(&key.id).unwrap_or_default(),
                key,
            })
            .collect())
    }

    pub async fn get_client_key(&self, id: i64) -> Result<ClientKeyWithPool, StoreError> {
        let key = client_key::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        let provider_key_ids = pool::Entity::find()
            .filter(pool::Column::ClientKeyId.eq(id))
            .order_by_asc(pool::Column::ProviderKeyId)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.provider_key_id)
            .collect();
        let provider_ids = provider_sets(&self.db, Some(id))
            .await?
            .remove(&id)
            .unwrap_or_else(|| vec![key.provider_id]);
        Ok(ClientKeyWithPool {
            key,
            provider_ids,
            provider_key_ids,
        })
    }

    pub async fn create_client_key(
        &self,
        k: NewClientKey,
    ) -> Result<ClientKeyWithPool, StoreError> {
        let now = chrono::Utc::now();
        let Some(&primary) = k.provider_ids.first() else {
            return Err(StoreError::InvalidReference(
                "a client key needs a provider".into(),
            ));
        };
        let txn = self.db.begin().await?;
        let key = client_key::ActiveModel {
            name: Set(k.name),
            key_hash: Set(k.key_hash),
            key_prefix: Set(k.key_prefix),
            provider_id: Set(primary),
            owner_id: Set(k.owner_id),
            strategy: Set(k.strategy),
            max_retries: Set(k.max_retries),
            enabled: Set(k.enabled),
            rpm: Set(k.limits.rpm),
            max_concurrent: Set(k.limits.max_concurrent),
            rpd: Set(k.limits.rpd),
            tpd: Set(k.limits.tpd),
            cost_per_day_nanos: Set(k.limits.cost_per_day_nanos),
            budget_nanos: Set(k.limits.budget_nanos),
            expires_at: Set(k.limits.expires_at),
            allowed_models: Set(k.limits.allowed_models),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| StoreError::from_write(e, "client key"))?;
        set_reach(&txn, key.id, &k.provider_ids).await?;
        set_pool(&txn, key.id, &k.provider_key_ids).await?;
        txn.commit().await?;
        self.get_client_key(key.id).await
    }

    pub async fn update_client_key(
        &self,
        id: i64,
        patch: ClientKeyPatch,
    ) -> Result<ClientKeyWithPool, StoreError> {
        // Read before the transaction: on SQLite a transaction that reads and then writes fails
        // (SQLITE_BUSY_SNAPSHOT, not retried) when another writer commits in between; one whose
        // first statement writes waits for the lock instead.
        let current = client_key::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        let txn = self.db.begin().await?;
        let mut m: client_key::ActiveModel = current.into();
        if let Some(v) = patch.name {
            m.name = Set(v);
        }
        if let Some(v) = patch.strategy {
            m.strategy = Set(v);
        }
        if let Some(v) = patch.max_retries {
            m.max_retries = Set(v);
        }
        let l = patch.limits;
        if let Some(v) = l.rpm {
            m.rpm = Set(v);
        }
        if let Some(v) = l.max_concurrent {
            m.max_concurrent = Set(v);
        }
        if let Some(v) = l.rpd {
            m.rpd = Set(v);
        }
        if let Some(v) = l.tpd {
            m.tpd = Set(v);
        }
        if let Some(v) = l.cost_per_day_nanos {
            m.cost_per_day_nanos = Set(v);
        }
        if let Some(v) = l.budget_nanos {
            m.budget_nanos = Set(v);
        }
        if let Some(v) = l.expires_at {
            m.expires_at = Set(v);
        }
        if let Some(v) = l.allowed_models {
            m.allowed_models = Set(v);
        }
        if let Some(v) = patch.enabled {
            m.enabled = Set(v);
        }
        if let Some(&primary) = patch.provider_ids.as_ref().and_then(|ids| ids.first()) {
            m.provider_id = Set(primary);
        }
        m.updated_at = Set(chrono::Utc::now());
        m.update(&txn)
            .await
            .map_err(|e| StoreError::from_write(e, "client key"))?;
        if let Some(ids) = patch.provider_ids.filter(|ids| !ids.is_empty()) {
            reach::Entity::delete_many()
                .filter(reach::Column::ClientKeyId.eq(id))
                .exec(&txn)
                .await?;
            set_reach(&txn, id, &ids).await?;
        }
        if let Some(ids) = patch.provider_key_ids {
            pool::Entity::delete_many()
                .filter(pool::Column::ClientKeyId.eq(id))
                .exec(&txn)
                .await?;
            set_pool(&txn, id, &ids).await?;
        }
        txn.commit().await?;
        self.get_client_key(id).await
    }

    /// Replaces a client key's secret (its hash and shown prefix).
    pub async fn rotate_client_key(
        &self,
        id: i64,
        key_hash: String,
        key_prefix: String,
    ) -> Result<(), StoreError> {
        let res = client_key::Entity::update_many()
            .col_expr(
                client_key::Column::KeyHash,
                sea_orm::sea_query::Expr::value(key_hash),
            )
            .col_expr(
                client_key::Column::KeyPrefix,
                sea_orm::sea_query::Expr::value(key_prefix),
            )
            .col_expr(
                client_key::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(chrono::Utc::now()),
            )
            .filter(client_key::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn delete_client_key(&self, id: i64) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        pool::Entity::delete_many()
            .filter(pool::Column::ClientKeyId.eq(id))
            .exec(&txn)
            .await?;
        reach::Entity::delete_many()
            .filter(reach::Column::ClientKeyId.eq(id))
            .exec(&txn)
            .await?;
        let res = client_key::Entity::delete_by_id(id).exec(&txn).await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        txn.commit().await?;
        Ok(())
    }
}

/// The provider set of every client key (or of one), in each key's order.
async fn provider_sets<C: sea_orm::ConnectionTrait>(
    conn: &C,
    client_key_id: Option<i64>,
) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    let mut q = reach::Entity::find()
        .order_by_asc(reach::Column::ClientKeyId)
        .order_by_asc(reach::Column::Position);
    if let Some(id) = client_key_id {
        q = q.filter(reach::Column::ClientKeyId.eq(id));
    }
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in q.all(conn).await? {
        out.entry(row.client_key_id)
            .or_default()
            .push(row.provider_id);
    }
    Ok(out)
}

async fn set_reach<C: sea_orm::ConnectionTrait>(
    conn: &C,
    client_key_id: i64,
    provider_ids: &[i64],
) -> Result<(), StoreError> {
    let rows = provider_ids
        .iter()
        .enumerate()
        .map(|(position, provider_id)| reach::ActiveModel {
            client_key_id: Set(client_key_id),
            provider_id: Set(*provider_id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        });
    reach::Entity::insert_many(rows)
        .exec(conn)
        .await
        .map_err(|e| StoreError::from_write(e, "provider of the client key"))?;
    Ok(())
}

async fn set_pool<C: sea_orm::ConnectionTrait>(
    conn: &C,
    client_key_id: i64,
    provider_key_ids: &[i64],
) -> Result<(), StoreError> {
    if provider_key_ids.is_empty() {
        return Ok(());
    }
    let rows = provider_key_ids.iter().map(|pk| pool::ActiveModel {
        client_key_id: Set(client_key_id),
        provider_key_id: Set(*pk),
    });
    pool::Entity::insert_many(rows)
        .exec(conn)
        .await
        .map_err(|e| StoreError::from_write(e, "provider key in the pool"))?;
    Ok(())
}

/// A pool changed without a client key row changing: bump every client key's `updated_at`
/// so other instances notice (see `Store::fingerprint`).
async fn touch_client_keys<C: sea_orm::ConnectionTrait>(conn: &C) -> Result<(), StoreError> {
    client_key::Entity::update_many()
        .col_expr(
            client_key::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .exec(conn)
        .await?;
    Ok(())
}
