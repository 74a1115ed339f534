//! Queries on users; the last enabled admin is protected here, inside the write's transaction.

use super::{Store, StoreError};
use entity::{refresh_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

pub const ROLE_ADMIN: &str = "admin";

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub enabled: bool,
    pub must_change_password: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub role: Option<String>,
    pub enabled: Option<bool>,
    pub must_change_password: Option<bool>,
    /// Refuse access tokens issued before this instant and revoke every refresh token of the
    /// user (except the family named in `keep_family`).
    pub revoke_sessions_before: Option<chrono::DateTime<chrono::Utc>>,
    pub keep_family: Option<String>,
}

const LAST_ADMIN: &str = "the last enabled admin cannot be removed";

fn is_enabled_admin(u: &user::Model) -> bool {
    u.enabled && u.role == ROLE_ADMIN
}

async fn other_enabled_admins<C: ConnectionTrait>(conn: &C, id: i64) -> Result<u64, StoreError> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(ROLE_ADMIN))
        .filter(user::Column::Enabled.eq(true))
        .filter(user::Column::Id.ne(id))
        .count(conn)
        .await?)
}

/// Starts a write on the user's row as the transaction's first statement, so the transaction
/// holds the write lock before it reads. On SQLite a transaction that reads first and writes
/// later fails at once ("database is locked", not retried) when another writer commits in
/// between; one whose first statement writes waits for the lock instead. On Postgres it locks
/// the row, which the checks that follow want too.
async fn lock_user<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), StoreError> {
    let res = user::Entity::update_many()
        .col_expr(
            user::Column::UpdatedAt,
            Expr::col(user::Column::UpdatedAt).into(),
        )
        .filter(user::Column::Id.eq(id))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Revokes the user's live refresh tokens, but not those of `keep_family`.
pub(super) async fn revoke_user_refresh_tokens<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    keep_family: Option<&str>,
) -> Result<(), StoreError> {
    let mut q = refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null());
    if let Some(family) = keep_family {
        q = q.filter(refresh_token::Column::FamilyId.ne(family));
    }
    q.exec(conn).await?;
    Ok(())
}

impl Store {
    pub async fn user_count(&self) -> Result<u64, StoreError> {
        Ok(user::Entity::find().count(&self.db).await?)
    }

    pub async fn create_user(&self, u: NewUser) -> Result<user::Model, StoreError> {
        let now = chrono::Utc::now();
        user::ActiveModel {
            username: Set(u.username),
            password_hash: Set(u.password_hash),
            role: Set(u.role),
            enabled: Set(u.enabled),
            sessions_valid_after: Set(None),
            must_change_password: Set(u.must_change_password),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "a user with that username"))
    }

    pub async fn list_users(&self) -> Result<Vec<user::Model>, StoreError> {
        Ok(user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?)
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

    pub async fn get_user(&self, id: i64) -> Result<user::Model, StoreError> {
        self.find_user(id).await?.ok_or(StoreError::NotFound)
    }

    /// Applies a patch; refuses (409) to leave no enabled admin.
    pub async fn update_user(&self, id: i64, patch: UserPatch) -> Result<user::Model, StoreError> {
        let txn = self.db.begin().await?;
        lock_user(&txn, id).await?;
        let current = user::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let was_admin = is_enabled_admin(&current);
        let mut m: user::ActiveModel = current.into();
        if let Some(v) = patch.username {
            m.username = Set(v);
        }
        if let Some(v) = patch.password_hash {
            m.password_hash = Set(v);
        }
        if let Some(v) = patch.role {
            m.role = Set(v);
        }
        if let Some(v) = patch.enabled {
            m.enabled = Set(v);
        }
        if let Some(v) = patch.must_change_password {
            m.must_change_password = Set(v);
        }
        if let Some(at) = patch.revoke_sessions_before {
            m.sessions_valid_after = Set(Some(at));
        }
        m.updated_at = Set(chrono::Utc::now());
        let updated = m
            .update(&txn)
            .await
            .map_err(|e| StoreError::from_write(e, "a user with that username"))?;
        if was_admin && !is_enabled_admin(&updated) && other_enabled_admins(&txn, id).await? == 0 {
            return Err(StoreError::Conflict(LAST_ADMIN.into()));
        }
        if patch.revoke_sessions_before.is_some() {
            revoke_user_refresh_tokens(&txn, id, patch.keep_family.as_deref()).await?;
        }
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes a user (their refresh tokens and public keys go with them; their client keys
    /// stay, without an owner); refuses (409) to delete the last enabled admin.
    pub async fn delete_user(&self, id: i64) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        lock_user(&txn, id).await?;
        let current = user::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        if is_enabled_admin(&current) && other_enabled_admins(&txn, id).await? == 0 {
            return Err(StoreError::Conflict(LAST_ADMIN.into()));
        }
        refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
        entity::user_public_key::Entity::delete_many()
            .filter(entity::user_public_key::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
        entity::client_key::Entity::update_many()
            .col_expr(
                entity::client_key::Column::OwnerId,
                Expr::value(Option::<i64>::None),
            )
            .filter(entity::client_key::Column::OwnerId.eq(id))
            .exec(&txn)
            .await?;
        user::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::DatabaseKind;

    async fn store() -> Store {
        let s = Store::connect("sqlite::memory:", DatabaseKind::Sqlite, None, 1)
            .await
            .unwrap();
        s.migrate().await.unwrap();
        s
    }

    fn new_user(name: &str, role: &str) -> NewUser {
        NewUser {
            username: name.into(),
            password_hash: "x".into(),
            role: role.into(),
            enabled: true,
            must_change_password: false,
        }
    }

    #[tokio::test]
    async fn the_last_enabled_admin_cannot_be_removed() {
        let s = store().await;
        let a = s.create_user(new_user("a", "admin")).await.unwrap();
        let b = s.create_user(new_user("b", "admin")).await.unwrap();
        let m = s.create_user(new_user("m", "member")).await.unwrap();
        let demote = UserPatch {
            role: Some("member".into()),
            ..Default::default()
        };
        let disable = UserPatch {
            enabled: Some(false),
            ..Default::default()
        };
        // Two admins: one may go.
        s.update_user(b.id, disable.clone()).await.unwrap();
        // Now `a` is the last enabled admin: not demoted, disabled or deleted.
        for patch in [demote.clone(), disable.clone()] {
            let err = s.update_user(a.id, patch).await.unwrap_err();
            assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        }
        assert!(matches!(
            s.delete_user(a.id).await.unwrap_err(),
            StoreError::Conflict(_)
        ));
        let a_now = s.get_user(a.id).await.unwrap();
        assert!(a_now.enabled && a_now.role == ROLE_ADMIN);
        // Members and disabled admins come and go freely.
        s.update_user(m.id, disable).await.unwrap();
        s.delete_user(m.id).await.unwrap();
        s.delete_user(b.id).await.unwrap();
        assert_eq!(s.user_count().await.unwrap(), 1);
    }

    /// Concurrent changes to users on a file database (several connections) all succeed:
    /// none fails with "database is locked".
    #[tokio::test]
    async fn concurrent_user_writes_wait_for_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let url = format!("sqlite://{}", path.display());
        let s = Store::connect(&url, DatabaseKind::Sqlite, Some(&path), 8)
            .await
            .unwrap();
        s.migrate().await.unwrap();
        let a = s.create_user(new_user("a", "admin")).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..24 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                if i % 4 == 3 {
                    let m = s.create_user(new_user(&format!("m{i}"), "member")).await?;
                    s.delete_user(m.id).await
                } else {
                    let patch = UserPatch {
                        username: Some("a".into()),
                        ..Default::default()
                    };
                    s.update_user(a.id, patch).await.map(|_| ())
                }
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(s.user_count().await.unwrap(), 1);
    }
}
