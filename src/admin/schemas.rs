//! Schemas of the few fields whose values are a closed set (formats, auth schemes, strategies,
//! roles, permissions), shared by the handlers' annotations and the OpenAPI document.

use crate::accounts::Permission;
use crate::providers::{ApiFormat, CredentialPlacement};
use crate::scheduler::Strategy;
use crate::snapshot::auth_scheme_name;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

pub fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// A role name: `admin`, `member`, `viewer` or a custom role's.
pub fn role_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(2))
        .max_length(Some(32))
        .pattern(Some("^[a-z0-9_-]+$"))
        .examples(["member"])
        .description(Some(
            "A role name: admin, member, viewer or a custom role (see /api/roles)",
        ))
        .build()
}

pub fn permission_schema() -> Object {
    string_enum(Permission::ALL.map(Permission::as_str))
}

pub fn api_format_schema() -> Object {
    string_enum(ApiFormat::ALL.map(ApiFormat::as_str))
}

pub fn auth_scheme_schema() -> Object {
    string_enum(CredentialPlacement::ALL.map(auth_scheme_name))
}

pub fn strategy_schema() -> Object {
    string_enum(Strategy::ALL.map(Strategy::as_str))
}
