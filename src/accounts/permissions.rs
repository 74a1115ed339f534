//! Permissions and roles: what each management permission allows, the built-in roles as named
//! permission sets, and the set a user's role grants.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One thing a management user may do. Where a permission has an `_own` variant, the variant
/// allows the same on the client keys the user owns (and their logs and usage) only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Read providers (no secrets in them).
    #[serde(rename = "providers:read")]
    ProvidersRead,
    /// Create, change and delete providers.
    #[serde(rename = "providers:write")]
    ProvidersWrite,
    /// Read provider credentials: masked secret, state, health, trends.
    #[serde(rename = "provider_keys:read")]
    ProviderKeysRead,
    /// Add, change and delete provider credentials.
    #[serde(rename = "provider_keys:write")]
    ProviderKeysWrite,
    /// Run a credential's health check now.
    #[serde(rename = "provider_keys:check")]
    ProviderKeysCheck,
    /// Read every client key and its usage.
    #[serde(rename = "client_keys:read")]
    ClientKeysRead,
    /// Create, change (limits included), rotate and delete any client key.
    #[serde(rename = "client_keys:write")]
    ClientKeysWrite,
    /// Read the client keys the user owns.
    #[serde(rename = "client_keys:read_own")]
    ClientKeysReadOwn,
    /// Create client keys (owned by the user), and change (not their limits), rotate and
    /// delete them.
    #[serde(rename = "client_keys:write_own")]
    ClientKeysWriteOwn,
    /// Read every request log row.
    #[serde(rename = "logs:read")]
    LogsRead,
    /// Read the log rows of the user's own client keys.
    #[serde(rename = "logs:read_own")]
    LogsReadOwn,
    /// Read usage statistics of everything.
    #[serde(rename = "stats:read")]
    StatsRead,
    /// Read the usage statistics of the user's own client keys.
    #[serde(rename = "stats:read_own")]
    StatsReadOwn,
    /// Read model prices.
    #[serde(rename = "prices:read")]
    PricesRead,
    /// Create, replace and delete model prices.
    #[serde(rename = "prices:write")]
    PricesWrite,
    /// Create, change, disable and delete users; reset their passwords.
    #[serde(rename = "users:manage")]
    UsersManage,
    /// Create, change and delete custom roles.
    #[serde(rename = "roles:manage")]
    RolesManage,
    /// Read the audit trail.
    #[serde(rename = "audit:read")]
    AuditRead,
    /// Create, change and delete model routes (unified API).
    #[serde(rename = "routes:write")]
    RoutesWrite,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::ProvidersRead,
        Permission::ProvidersWrite,
        Permission::ProviderKeysRead,
        Permission::ProviderKeysWrite,
        Permission::ProviderKeysCheck,
        Permission::ClientKeysRead,
        Permission::ClientKeysWrite,
        Permission::ClientKeysReadOwn,
        Permission::ClientKeysWriteOwn,
        Permission::LogsRead,
        Permission::LogsReadOwn,
        Permission::StatsRead,
        Permission::StatsReadOwn,
        Permission::PricesRead,
        Permission::PricesWrite,
        Permission::UsersManage,
        Permission::RolesManage,
        Permission::AuditRead,
        Permission::RoutesWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ProvidersRead => "providers:read",
            Permission::ProvidersWrite => "providers:write",
            Permission::ProviderKeysRead => "provider_keys:read",
            Permission::ProviderKeysWrite => "provider_keys:write",
            Permission::ProviderKeysCheck => "provider_keys:check",
            Permission::ClientKeysRead => "client_keys:read",
            Permission::ClientKeysWrite => "client_keys:write",
            Permission::ClientKeysReadOwn => "client_keys:read_own",
            Permission::ClientKeysWriteOwn => "client_keys:write_own",
            Permission::LogsRead => "logs:read",
            Permission::LogsReadOwn => "logs:read_own",
            Permission::StatsRead => "stats:read",
            Permission::StatsReadOwn => "stats:read_own",
            Permission::PricesRead => "prices:read",
            Permission::PricesWrite => "prices:write",
            Permission::UsersManage => "users:manage",
            Permission::RolesManage => "roles:manage",
            Permission::AuditRead => "audit:read",
            Permission::RoutesWrite => "routes:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// What the permission allows, for people.
    pub fn description(self) -> &'static str {
        match self {
            Permission::ProvidersRead => "Read providers",
            Permission::ProvidersWrite => "Create, change and delete providers",
            Permission::ProviderKeysRead => {
                "Read provider credentials (masked), their state, health and trends"
            }
            Permission::ProviderKeysWrite => "Add, change and delete provider credentials",
            Permission::ProviderKeysCheck => "Run a provider credential's health check now",
            Permission::ClientKeysRead => "Read every client key and its usage",
            Permission::ClientKeysWrite => {
                "Create, change (limits included), rotate and delete any client key"
            }
            Permission::ClientKeysReadOwn => "Read one's own client keys",
            Permission::ClientKeysWriteOwn => {
                "Create client keys, and change (not limits), rotate and delete one's own"
            }
            Permission::LogsRead => "Read every request log row",
            Permission::LogsReadOwn => "Read the log rows of one's own client keys",
            Permission::StatsRead => "Read usage statistics of everything",
            Permission::StatsReadOwn => "Read the usage statistics of one's own client keys",
            Permission::PricesRead => "Read model prices",
            Permission::PricesWrite => "Create, replace and delete model prices",
            Permission::UsersManage => {
                "Create, change, disable and delete users; reset their passwords"
            }
            Permission::RolesManage => "Create, change and delete custom roles",
            Permission::AuditRead => "Read the audit trail",
            Permission::RoutesWrite => "Create, change and delete model routes",
        }
    }
}

/// A set of permissions.
pub type Permissions = BTreeSet<Permission>;

/// The roles every installation has; their permission sets are fixed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinRole {
    /// Everything.
    Admin,
    /// Their own client keys, with those keys' logs and usage; reads providers and prices.
    Member,
    /// Reads everything except users and roles, changes nothing, sees no secret (auditors,
    /// finance).
    Viewer,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 3] =
        [BuiltinRole::Admin, BuiltinRole::Member, BuiltinRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinRole::Admin => "admin",
            BuiltinRole::Member => "member",
            BuiltinRole::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn description(self) -> &'static str {
        match self {
            BuiltinRole::Admin => "Everything",
            BuiltinRole::Member => {
                "Own client keys with their logs and usage; reads providers and prices"
            }
            BuiltinRole::Viewer => {
                "Reads everything but users and roles; changes nothing; sees no secret"
            }
        }
    }

    pub fn permissions(self) -> Permissions {
        use Permission as P;
        match self {
            BuiltinRole::Admin => Permission::ALL.into_iter().collect(),
            BuiltinRole::Member => [
                P::ProvidersRead,
                P::ClientKeysReadOwn,
                P::ClientKeysWriteOwn,
                P::LogsReadOwn,
                P::StatsReadOwn,
                P::PricesRead,
            ]
            .into_iter()
            .collect(),
            BuiltinRole::Viewer => [
                P::ProvidersRead,
                P::ProviderKeysRead,
                P::ClientKeysRead,
                P::LogsRead,
                P::StatsRead,
                P::PricesRead,
                P::AuditRead,
            ]
            .into_iter()
            .collect(),
        }
    }
}

/// Parses a stored permission list (a JSON array of names); unknown names are skipped, so a
/// permission removed in a later version does not lock a role out of the others.
pub fn parse_stored(json: &str) -> Permissions {
    serde_json::from_str::<Vec<String>>(json)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| Permission::parse(s))
        .collect()
}

/// A permission set as stored: a JSON array of names, in a fixed order.
pub fn to_stored(permissions: &Permissions) -> String {
    let names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::String(p.as_str().into())
            );
        }
        let distinct: BTreeSet<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(distinct.len(), Permission::ALL.len());
        assert_eq!(Permission::parse("providers:delete"), None);
    }

    #[test]
    fn built_in_roles() {
        assert_eq!(
            BuiltinRole::Admin.permissions().len(),
            Permission::ALL.len()
        );
        let viewer = BuiltinRole::Viewer.permissions();
        // Read-only: no write, check, manage or own-only permission.
        for p in &viewer {
            let name = p.as_str();
            assert!(
                name.ends_with(":read"),
                "viewer has {name}, which is not a read permission"
            );
        }
        assert!(!viewer.contains(&Permission::UsersManage));
        let member = BuiltinRole::Member.permissions();
        assert!(member.contains(&Permission::ClientKeysWriteOwn));
        assert!(!member.contains(&Permission::ClientKeysWrite));
        assert!(!member.contains(&Permission::ProviderKeysRead));
        assert_eq!(BuiltinRole::parse("viewer"), Some(BuiltinRole::Viewer));
        assert_eq!(BuiltinRole::parse("root"), None);
    }

    #[test]
    fn stored_lists_skip_unknown_names() {
        let set = parse_stored(r#"["logs:read","no:such","stats:read"]"#);
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            [Permission::LogsRead, Permission::StatsRead]
        );
        assert!(parse_stored("not json").is_empty());
        let set: Permissions = [Permission::StatsRead, Permission::LogsRead].into();
        assert_eq!(to_stored(&set), r#"["logs:read","stats:read"]"#);
    }
}
