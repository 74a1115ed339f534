//! Loads the bundled price list (config/prices.toml) once, on first start.

use sea_orm_migration::prelude::*;
use serde::Deserialize;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BUNDLED: &str = include_str!("../../config/prices.toml");

#[derive(Deserialize)]
struct PriceFile {
    price: Vec<Price>,
}

#[derive(Deserialize)]
struct Price {
    model: String,
    input: String,
    output: String,
    #[serde(default)]
    cache_write: Option<String>,
    #[serde(default)]
    cache_read: Option<String>,
}

#[derive(DeriveIden)]
enum ModelPrices {
    Table,
    Model,
    InputNanosPerMtok,
    OutputNanosPerMtok,
    CacheWriteNanosPerMtok,
    CacheReadNanosPerMtok,
    Currency,
    EffectiveFrom,
    CreatedAt,
}

/// "2.5" → 2 500 000 000 nano-units; at most nine decimal places.
fn nanos(text: &str) -> Result<i64, DbErr> {
    let bad = || DbErr::Migration(format!("config/prices.toml: `{text}` is not a price"));
    let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if frac.len() > 9 || whole.is_empty() {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(1_000_000_000)
        .and_then(|w| w.checked_add(frac))
        .filter(|v| *v >= 0)
        .ok_or_else(bad)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let file: PriceFile = toml::from_str(BUNDLED)
            .map_err(|e| DbErr::Migration(format!("config/prices.toml: {e}")))?;
        // Effective since long ago, so every request is priced, and replaceable from the API.
        let since = chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).unwrap_or_default();
        let now = chrono::Utc::now();
        let mut insert = Query::insert();
        insert.into_table(ModelPrices::Table).columns([
            ModelPrices::Model,
            ModelPrices::InputNanosPerMtok,
            ModelPrices::OutputNanosPerMtok,
            ModelPrices::CacheWriteNanosPerMtok,
            ModelPrices::CacheReadNanosPerMtok,
            ModelPrices::Currency,
            ModelPrices::EffectiveFrom,
            ModelPrices::CreatedAt,
        ]);
        for p in &file.price {
            insert
                .values([
                    p.model.clone().into(),
                    nanos(&p.input)?.into(),
                    nanos(&p.output)?.into(),
                    nanos(p.cache_write.as_deref().unwrap_or("0"))?.into(),
                    nanos(p.cache_read.as_deref().unwrap_or("0"))?.into(),
                    "USD".into(),
                    since.into(),
                    now.into(),
                ])
                .map_err(|e| DbErr::Migration(e.to_string()))?;
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Prices may have been edited since; nothing is removed.
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_file_parses_and_prices_convert_exactly() {
        let file: PriceFile = toml::from_str(BUNDLED).unwrap();
        assert!(file.price.len() >= 15);
        for p in &file.price {
            nanos(&p.input).unwrap();
            nanos(&p.output).unwrap();
        }
        assert_eq!(nanos("2.5").unwrap(), 2_500_000_000);
        assert_eq!(nanos("0.075").unwrap(), 75_000_000);
        assert_eq!(nanos("15").unwrap(), 15_000_000_000);
        assert!(nanos("0.0000000001").is_err());
        assert!(nanos("abc").is_err());
    }
}
