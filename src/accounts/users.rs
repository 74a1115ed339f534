//! User management and public keys: validation, and the rules that keep an admin in charge
//! (no demoting, disabling or deleting yourself; the last enabled admin stays).

use super::permissions::Permissions;
use super::roles::within;
use super::rules::{check_password, check_username, cutoff_now};
use super::{AccountError, Accounts};
use crate::auth;
use crate::store::{NewUser, UserPatch};
use entity::{user, user_public_key};

/// No `Debug`: it holds a password.
#[derive(Clone)]
pub struct NewUserInput {
    pub username: String,
    pub password: String,
    pub role: Option<String>,
    pub enabled: Option<bool>,
    pub must_change_password: Option<bool>,
}

/// No `Debug`: it may hold a password.
#[derive(Clone, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub password: Option<String>,
    pub role: Option<String>,
    pub enabled: Option<bool>,
    pub must_change_password: Option<bool>,
}

fn check_key_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(AccountError::invalid(
            "name",
            "must have 1 to 64 characters",
        ));
    }
    Ok(name.to_string())
}

impl Accounts {
    pub async fn list_users(&self) -> Result<Vec<user::Model>, AccountError> {
        Ok(self.store.list_users().await?)
    }

    pub async fn get_user(&self, id: i64) -> Result<user::Model, AccountError> {
        Ok(self.store.get_user(id).await?)
    }

    /// The caller may grant the role only when they hold every permission it grants.
    async fn grantable_role(
        &self,
        caller: &Permissions,
        role: &str,
    ) -> Result<String, AccountError> {
        let role = self.check_role(role).await?;
        within(caller, &self.permissions_of(&role).await?)?;
        Ok(role)
    }

    /// The caller may manage a user only when they hold every permission the user has.
    async fn manageable(&self, caller: &Permissions, id: i64) -> Result<(), AccountError> {
        let target = self.store.get_user(id).await?;
        within(caller, &self.permissions_of(&target.role).await?).map_err(|_| {
            AccountError::Forbidden("that user has permissions you do not have".into())
        })
    }

    pub async fn create_user(
        &self,
        caller: &Permissions,
        input: NewUserInput,
    ) -> Result<user::Model, AccountError> {
        let username = check_username(&input.username)?;
        check_password("password", &input.password)?;
        let role = self
            .grantable_role(caller, input.role.as_deref().unwrap_or("member"))
            .await?;
        let password_hash = self.hash_password(input.password).await?;
        Ok(self
            .store
            .create_user(NewUser {
                username,
                password_hash,
                role,
                enabled: input.enabled.unwrap_or(true),
                must_change_password: input.must_change_password.unwrap_or(false),
            })
            .await?)
    }

    /// Changes a user. A new password or disabling ends the user's sessions at once.
    pub async fn update_user(
        &self,
        caller: &Permissions,
        caller_id: i64,
        id: i64,
        changes: UserChanges,
    ) -> Result<user::Model, AccountError> {
        let username = changes
            .username
            .as_deref()
            .map(check_username)
            .transpose()?;
        if let Some(p) = &changes.password {
            check_password("password", p)?;
        }
        if id == caller_id {
            let current = self.store.get_user(id).await?;
            if changes.role.as_deref().is_some_and(|r| r != current.role) {
                return Err(AccountError::Conflict(
                    "you cannot change your own role".into(),
                ));
            }
            if changes.enabled == Some(false) {
                return Err(AccountError::Conflict(
                    "you cannot disable your own account".into(),
                ));
            }
        }
        self.manageable(caller, id).await?;
        let role = match changes.role.as_deref() {
            Some(r) => Some(self.grantable_role(caller, r).await?),
            None => None,
        };
        let password_hash = match changes.password {
            Some(p) => Some(self.hash_password(p).await?),
            None => None,
        };
        let revoke = password_hash.is_some() || changes.enabled == Some(false);
        Ok(self
            .store
            .update_user(
                id,
                UserPatch {
                    username,
                    password_hash,
                    role,
                    enabled: changes.enabled,
                    must_change_password: changes.must_change_password,
                    revoke_sessions_before: revoke.then(cutoff_now),
                    keep_family: None,
                },
            )
            .await?)
    }

    /// Sets a user's password from the command line (no caller, no permission check): the
    /// user must change it at the next sign-in, and every session of theirs ends.
    pub async fn reset_password(
        &self,
        username: &str,
        password: String,
    ) -> Result<(), AccountError> {
        check_password("password", &password)?;
        let user = self
            .store
            .find_user_by_name(username)
            .await?
            .ok_or(AccountError::NotFound)?;
        let password_hash = self.hash_password(password).await?;
        self.store
            .update_user(
                user.id,
                UserPatch {
                    password_hash: Some(password_hash),
                    must_change_password: Some(true),
                    revoke_sessions_before: Some(cutoff_now()),
                    ..Default::default()
                },
            )
            .await?;
        Ok(())
    }

    pub async fn delete_user(
        &self,
        caller: &Permissions,
        caller_id: i64,
        id: i64,
    ) -> Result<(), AccountError> {
        if id == caller_id {
            return Err(AccountError::Conflict(
                "you cannot delete your own account".into(),
            ));
        }
        self.manageable(caller, id).await?;
        Ok(self.store.delete_user(id).await?)
    }

    pub async fn list_public_keys(
        &self,
        user_id: i64,
    ) -> Result<Vec<user_public_key::Model>, AccountError> {
        Ok(self.store.list_public_keys(user_id).await?)
    }

    /// Registers a key given as base64 or as an OpenSSH line. Without a `name`, the OpenSSH
    /// line's comment names the key.
    pub async fn add_public_key(
        &self,
        user_id: i64,
        name: Option<&str>,
        public_key: &str,
    ) -> Result<user_public_key::Model, AccountError> {
        let parsed = auth::parse_public_key(public_key).ok_or_else(|| {
            AccountError::invalid(
                "public_key",
                "must be the base64 of a 32-byte Ed25519 public key, or an OpenSSH \
                 `ssh-ed25519 AAAA…` line",
            )
        })?;
        let name = match name.or(parsed.comment.as_deref()) {
            Some(name) => check_key_name(name)?,
            None => {
                return Err(AccountError::invalid(
                    "name",
                    "is required when the key has no comment",
                ));
            }
        };
        Ok(self
            .store
            .create_public_key(user_id, &name, &parsed.key)
            .await?)
    }

    pub async fn delete_public_key(&self, user_id: i64, id: i64) -> Result<(), AccountError> {
        Ok(self.store.delete_public_key(user_id, id).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(check_username("alice").is_ok());
        assert!(check_username("a.b-c_9").is_ok());
        assert!(check_username("ab").is_err());
        assert!(check_username(&"a".repeat(65)).is_err());
        assert!(check_username("al ice").is_err());
        assert!(check_username("alice@x").is_err());
        assert!(check_username("élise").is_err());
        assert!(check_password("password", "twelve-chars").is_ok());
        assert!(check_password("password", "eleven-char").is_err());
    }
}
