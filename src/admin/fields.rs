//! Input field types shared by the handlers: decimal amounts, and "absent" versus "null".

use super::error::ApiError;
use crate::pricing::parse_nanos;
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

/// Highest `page` of a paged list: large enough for any table, small enough that the row
/// offset it makes always fits the database's integer.
pub const MAX_PAGE: u64 = 1_000_000_000;
pub const MAX_PER_PAGE: u64 = 500;

/// A list's page: `page` from 1 (default 1), `per_page` 1 to 500 (default 50).
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl Paging {
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Result<Self, ApiError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(ApiError::invalid(
                "page",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::invalid(
                "per_page",
                format!("must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Self { page, per_page })
    }

    /// Rows before this page (at most `(MAX_PAGE - 1) * MAX_PER_PAGE`).
    pub fn offset(self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        let p = Paging::new(None, None).unwrap();
        assert_eq!((p.page, p.per_page, p.offset()), (1, 50, 0));
        let p = Paging::new(Some(MAX_PAGE), Some(MAX_PER_PAGE)).unwrap();
        assert!(i64::try_from(p.offset()).is_ok());
        for (page, per_page) in [
            (0, 50),
            (MAX_PAGE + 1, 50),
            (u64::MAX, 500),
            (1, 0),
            (1, 501),
        ] {
            assert!(Paging::new(Some(page), Some(per_page)).is_err());
        }
    }
}
