//! What the signed-in user may do: the `permissions` that `/api/auth/me` lists, or, from a
//! server that predates them, what the user's role allows. Only used to hide actions; the
//! server decides.

use crate::api::Me;
use std::collections::BTreeSet;

const MEMBER: &[&str] = &[
    "providers:read",
    "client_keys:read_own",
    "client_keys:write_own",
    "logs:read_own",
    "stats:read_own",
    "prices:read",
];

const VIEWER: &[&str] = &[
    "providers:read",
    "provider_keys:read",
    "client_keys:read",
    "logs:read",
    "stats:read",
    "prices:read",
    "audit:read",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    /// `None`: every permission (an admin on a server without the permissions model).
    granted: Option<BTreeSet<String>>,
}

impl Permissions {
    pub fn of(me: &Me) -> Self {
        if let Some(list) = &me.permissions {
            return Self {
                granted: Some(list.iter().cloned().collect()),
            };
        }
        let set = |names: &[&str]| Self {
            granted: Some(names.iter().map(|s| s.to_string()).collect()),
        };
        match me.role.as_str() {
            "admin" => Self { granted: None },
            "member" => set(MEMBER),
            "viewer" => set(VIEWER),
            // An unknown role without a list: assume nothing; the server still decides.
            _ => set(&[]),
        }
    }

    /// Everything: used before `/me` answers.
    pub fn all() -> Self {
        Self { granted: None }
    }

    pub fn has(&self, permission: &str) -> bool {
        self.granted.as_ref().is_none_or(|g| g.contains(permission))
    }

    pub fn check_credentials(&self) -> bool {
        self.has("provider_keys:check")
    }

    pub fn write_credentials(&self) -> bool {
        self.has("provider_keys:write")
    }

    pub fn write_client_keys(&self) -> bool {
        self.has("client_keys:write") || self.has("client_keys:write_own")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn me(role: &str, permissions: Option<&[&str]>) -> Me {
        Me {
            id: 1,
            username: "u".into(),
            role: role.into(),
            permissions: permissions.map(|p| p.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn listed_permissions_win_over_the_role() {
        let p = Permissions::of(&me("admin", Some(&["logs:read"])));
        assert!(p.has("logs:read"));
        assert!(!p.write_credentials());
        let custom = Permissions::of(&me("ops", Some(&["provider_keys:check"])));
        assert!(custom.check_credentials());
        assert!(!custom.write_client_keys());
    }

    #[test]
    fn without_a_list_the_role_decides() {
        let admin = Permissions::of(&me("admin", None));
        assert!(admin.write_credentials() && admin.check_credentials());
        let member = Permissions::of(&me("member", None));
        assert!(member.write_client_keys());
        assert!(!member.write_credentials() && !member.check_credentials());
        assert!(!member.has("audit:read"));
        let viewer = Permissions::of(&me("viewer", None));
        assert!(viewer.has("audit:read"));
        assert!(!viewer.write_client_keys());
        let unknown = Permissions::of(&me("mystery", None));
        assert!(!unknown.has("logs:read"));
    }
}
