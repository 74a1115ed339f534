//! Roles: the built-in ones and custom ones an admin defines, what a role grants, and the rule
//! that nobody grants (or manages a user holding) a permission they do not have themselves.

use super::permissions::{BuiltinRole, Permission, Permissions, parse_stored, to_stored};
use super::{AccountError, Accounts};
use crate::store::{NewRole, RolePatch};
use chrono::{DateTime, Utc};

/// A role as the API shows it.
#[derive(Debug, Clone)]
pub struct RoleInfo {
    /// None for a built-in role.
    pub id: Option<i64>,
    pub name: String,
    pub description: Option<String>,
    pub builtin: bool,
    pub permissions: Permissions,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<BuiltinRole> for RoleInfo {
    fn from(r: BuiltinRole) -> Self {
        Self {
            id: None,
            name: r.as_str().to_string(),
            description: Some(r.description().to_string()),
            builtin: true,
            permissions: r.permissions(),
            created_at: None,
            updated_at: None,
        }
    }
}

impl From<entity::role::Model> for RoleInfo {
    fn from(m: entity::role::Model) -> Self {
        Self {
            id: Some(m.id),
            permissions: parse_stored(&m.permissions),
            name: m.name,
            description: m.description,
            builtin: false,
            created_at: Some(m.created_at),
            updated_at: Some(m.updated_at),
        }
    }
}

fn check_role_name(name: &str) -> Result<String, AccountError> {
    let ok = (2..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
    if !ok {
        return Err(AccountError::invalid(
            "name",
            "must have 2 to 32 characters from a-z, 0-9, `_` and `-`",
        ));
    }
    if BuiltinRole::parse(name).is_some() {
        return Err(AccountError::Conflict(format!(
            "`{name}` is a built-in role"
        )));
    }
    Ok(name.to_string())
}

fn check_description(d: Option<String>) -> Result<Option<String>, AccountError> {
    match d.map(|d| d.trim().to_string()) {
        Some(d) if d.chars().count() > 200 => Err(AccountError::invalid(
            "description",
            "must have at most 200 characters",
        )),
        Some(d) if d.is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn check_permissions(names: &[String]) -> Result<Permissions, AccountError> {
    names
        .iter()
        .map(|n| {
            Permission::parse(n).ok_or_else(|| {
                AccountError::invalid("permissions", format!("contains unknown `{n}`"))
            })
        })
        .collect()
}

/// Refuses when `wanted` holds a permission `holder` lacks.
pub(super) fn within(holder: &Permissions, wanted: &Permissions) -> Result<(), AccountError> {
    match wanted.difference(holder).next() {
        Some(p) => Err(AccountError::Forbidden(format!(
            "you do not have `{}` yourself",
            p.as_str()
        ))),
        None => Ok(()),
    }
}

impl Accounts {
    /// What a role grants: a built-in role's fixed set, a custom role's stored set, nothing
    /// for a name that is neither.
    pub async fn permissions_of(&self, role: &str) -> Result<Permissions, AccountError> {
        if let Some(b) = BuiltinRole::parse(role) {
            return Ok(b.permissions());
        }
        Ok(self
            .store
            .find_role_by_name(role)
            .await?
            .map(|r| parse_stored(&r.permissions))
            .unwrap_or_default())
    }

    /// The role's name if it exists, as stored.
    pub(super) async fn check_role(&self, role: &str) -> Result<String, AccountError> {
        if BuiltinRole::parse(role).is_some() || self.store.find_role_by_name(role).await?.is_some()
        {
            return Ok(role.to_string());
        }
        Err(AccountError::invalid(
            "role",
            "must name a role (admin, member, viewer or a custom role)",
        ))
    }

    /// Built-in roles first, then the custom ones by name.
    pub async fn list_roles(&self) -> Result<Vec<RoleInfo>, AccountError> {
        let mut out: Vec<RoleInfo> = BuiltinRole::ALL.into_iter().map(RoleInfo::from).collect();
        out.extend(
            self.store
                .list_roles()
                .await?
                .into_iter()
                .map(RoleInfo::from),
        );
        Ok(out)
    }

    pub async fn get_role(&self, id: i64) -> Result<RoleInfo, AccountError> {
        Ok(self.store.get_role(id).await?.into())
    }

    /// Creates a custom role; the caller must hold every permission it grants.
    pub async fn create_role(
        &self,
        caller: &Permissions,
        name: &str,
        description: Option<String>,
        permissions: &[String],
    ) -> Result<RoleInfo, AccountError> {
        let name = check_role_name(name)?;
        let description = check_description(description)?;
        let permissions = check_permissions(permissions)?;
        within(caller, &permissions)?;
        Ok(self
            .store
            .create_role(NewRole {
                name,
                description,
                permissions: to_stored(&permissions),
            })
            .await?
            .into())
    }

    /// Changes a custom role's description or permissions (its name is fixed). The caller must
    /// hold every permission it grants before and after.
    pub async fn update_role(
        &self,
        caller: &Permissions,
        id: i64,
        description: Option<Option<String>>,
        permissions: Option<&[String]>,
    ) -> Result<RoleInfo, AccountError> {
        let current = RoleInfo::from(self.store.get_role(id).await?);
        within(caller, &current.permissions)?;
        let permissions = permissions.map(check_permissions).transpose()?;
        if let Some(p) = &permissions {
            within(caller, p)?;
        }
        let description = match description {
            Some(d) => Some(check_description(d)?),
            None => None,
        };
        Ok(self
            .store
            .update_role(
                id,
                RolePatch {
                    description,
                    permissions: permissions.as_ref().map(to_stored),
                },
            )
            .await?
            .into())
    }

    /// Deletes a custom role nobody holds.
    pub async fn delete_role(&self, caller: &Permissions, id: i64) -> Result<(), AccountError> {
        let current = RoleInfo::from(self.store.get_role(id).await?);
        within(caller, &current.permissions)?;
        Ok(self.store.delete_role(id).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_and_permission_lists_are_checked() {
        assert!(check_role_name("finance").is_ok());
        assert!(check_role_name("ops_2-x").is_ok());
        assert!(check_role_name("a").is_err());
        assert!(check_role_name("Finance").is_err());
        assert!(matches!(
            check_role_name("viewer"),
            Err(AccountError::Conflict(_))
        ));
        assert!(check_permissions(&["logs:read".into()]).is_ok());
        assert!(check_permissions(&["logs:write".into()]).is_err());
    }

    #[test]
    fn nobody_grants_what_they_lack() {
        let member = BuiltinRole::Member.permissions();
        let admin = BuiltinRole::Admin.permissions();
        assert!(within(&admin, &member).is_ok());
        assert!(within(&member, &member).is_ok());
        let err = within(&member, &admin).unwrap_err();
        assert!(matches!(err, AccountError::Forbidden(_)), "{err}");
    }
}
