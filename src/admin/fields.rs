//! Input field types shared by the handlers: decimal amounts, and "absent" versus "null".

use super::error::ApiError;
use crate::usage::parse_nanos;
use serde::{Deserialize, Deserializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

/// A decimal given as a JSON string ("2.50") or number (2.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Amount {
    Text(String),
    Number(serde_json::Number),
}

/// In the OpenAPI document: a decimal string or a non-negative number.
impl utoipa::PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[0-9]+(\.[0-9]{1,9})?$"))
                    .examples(["2.50"]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(0.0)),
            )
            .description(Some(
                "A non-negative decimal with at most 9 decimal places, as a string or a number",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Amount {}

impl Amount {
    pub fn nanos(&self, field: &str) -> Result<i64, ApiError> {
        let text = match self {
            Amount::Text(s) => s.clone(),
            Amount::Number(n) => n.to_string(),
        };
        parse_nanos(&text).ok_or_else(|| {
            ApiError::invalid(
                field,
                "must be a non-negative decimal with at most 9 decimal places",
            )
        })
    }
}

/// For PATCH: a field left out is `None`, an explicit `null` is `Some(None)` (clear it).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Applies a validation to a PATCH field, keeping "absent" and "null" apart.
pub fn map_patch<T, U>(
    v: Option<Option<T>>,
    f: impl FnOnce(T) -> Result<U, ApiError>,
) -> Result<Option<Option<U>>, ApiError> {
    Ok(match v {
        Some(Some(x)) => Some(Some(f(x)?)),
        Some(None) => Some(None),
        None => None,
    })
}
