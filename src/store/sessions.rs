//! Queries on login state: refresh tokens (rotation, families, revocation), key-pair login
//! challenges and users' public keys.

use super::users::revoke_user_refresh_tokens;
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use entity::{auth_challenge, refresh_token, user_public_key};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub user_id: i64,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

impl NewRefreshToken {
    fn into_active(self, now: DateTime<Utc>) -> refresh_token::ActiveModel {
        refresh_token::ActiveModel {
            user_id: Set(self.user_id),
            family_id: Set(self.family_id),
            token_hash: Set(self.token_hash),
            created_at: Set(now),
            expires_at: Set(self.expires_at),
            rotated_at: Set(None),
            revoked_at: Set(None),
            ..Default::default()
        }
    }
}

impl Store {
    /// Stores a new login's first token, and drops the user's expired ones (a rotated token
    /// is kept until it expires, so its reuse is still recognised).
    pub async fn insert_refresh_token(&self, t: NewRefreshToken) -> Result<(), StoreError> {
        let now = Utc::now();
        refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::UserId.eq(t.user_id))
            .filter(refresh_token::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        t.into_active(now)
            .insert(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, "refresh token"))?;
        Ok(())
    }

    pub async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<refresh_token::Model>, StoreError> {
        Ok(refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await?)
    }

    /// Marks `old_id` rotated and stores its successor, atomically. `false` when the old
    /// token was already rotated or revoked (by a concurrent use): nothing is stored.
    pub async fn rotate_refresh_token(
        &self,
        old_id: i64,
        next: NewRefreshToken,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let res = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(old_id))
            .filter(refresh_token::Column::RotatedAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if res.rows_affected != 1 {
            return Ok(false);
        }
        next.into_active(now)
            .insert(&txn)
            .await
            .map_err(|e| StoreError::from_write(e, "refresh token"))?;
        txn.commit().await?;
        Ok(true)
    }

    /// Revokes every token of one login (logout, or a rotated token presented again).
    pub async fn revoke_refresh_family(&self, family_id: &str) -> Result<(), StoreError> {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(refresh_token::Column::FamilyId.eq(family_id))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Revokes all the user's refresh tokens (but `keep_family`'s).
    pub async fn revoke_user_refresh_tokens(
        &self,
        user_id: i64,
        keep_family: Option<&str>,
    ) -> Result<(), StoreError> {
        revoke_user_refresh_tokens(&self.db, user_id, keep_family).await
    }

    /// Stores a challenge, within bounds: expired and used ones are deleted first; past `max`
    /// live challenges in all, nothing is stored (`false`); a username with `per_user` live
    /// ones loses its oldest. Concurrent calls may each pass the count, so the bounds hold to
    /// within the number of concurrent callers.
    pub async fn create_challenge(
        &self,
        username: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        per_user: u64,
        max: u64,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        auth_challenge::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(auth_challenge::Column::ExpiresAt.lte(now))
                    .add(auth_challenge::Column::UsedAt.is_not_null()),
            )
            .exec(&txn)
            .await?;
        if auth_challenge::Entity::find().count(&txn).await? >= max {
            txn.commit().await?;
            return Ok(false);
        }
        let mine: Vec<i64> = auth_challenge::Entity::find()
            .select_only()
            .column(auth_challenge::Column::Id)
            .filter(auth_challenge::Column::Username.eq(username))
            .order_by_asc(auth_challenge::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        let surplus = (mine.len() as u64 + 1).saturating_sub(per_user.max(1)) as usize;
        if surplus > 0 {
            auth_challenge::Entity::delete_many()
                .filter(auth_challenge::Column::Id.is_in(mine[..surplus].iter().copied()))
                .exec(&txn)
                .await?;
        }
        auth_challenge::ActiveModel {
            username: Set(username.to_string()),
            nonce: Set(nonce.to_string()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| StoreError::from_write(e, "challenge"))?;
        txn.commit().await?;
        Ok(true)
    }

    /// Uses up a challenge: `true` only the first time, for the username it was issued to,
    /// before it expires. A used challenge is deleted.
    pub async fn consume_challenge(&self, username: &str, nonce: &str) -> Result<bool, StoreError> {
        let now = Utc::now();
        let res = auth_challenge::Entity::delete_many()
            .filter(auth_challenge::Column::Nonce.eq(nonce))
            .filter(auth_challenge::Column::Username.eq(username))
            .filter(auth_challenge::Column::UsedAt.is_null())
            .filter(auth_challenge::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    pub async fn list_public_keys(
        &self,
        user_id: i64,
    ) -> Result<Vec<user_public_key::Model>, StoreError> {
        Ok(user_public_key::Entity::find()
            .filter(user_public_key::Column::UserId.eq(user_id))
            .order_by_asc(user_public_key::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn create_public_key(
        &self,
        user_id: i64,
        name: &str,
        public_key: &str,
    ) -> Result<user_public_key::Model, StoreError> {
        user_public_key::ActiveModel {
            user_id: Set(user_id),
            name: Set(name.to_string()),
            public_key: Set(public_key.to_string()),
            created_at: Set(Utc::now()),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "that public key"))
    }

    /// Deletes one of the user's keys; another user's key is `NotFound`.
    pub async fn delete_public_key(&self, user_id: i64, id: i64) -> Result<(), StoreError> {
        let res = user_public_key::Entity::delete_many()
            .filter(user_public_key::Column::Id.eq(id))
            .filter(user_public_key::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn touch_public_key(&self, id: i64) -> Result<(), StoreError> {
        user_public_key::Entity::update_many()
            .col_expr(user_public_key::Column::LastUsedAt, Expr::value(Utc::now()))
            .filter(user_public_key::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
