//! Limits: per-client-key rate, concurrency, daily quotas, budget, expiry, allowed models;
//! per-provider-key request and token caps.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    Rpm,
    MaxConcurrent,
    Rpd,
    Tpd,
    CostPerDayNanos,
    BudgetNanos,
    ExpiresAt,
    AllowedModels,
}

#[derive(DeriveIden)]
enum ProviderKeys {
    Table,
    Rpm,
    Tpm,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE takes one change at a time.
        let client_cols = [
            ColumnDef::new(ClientKeys::Rpm).integer().null().to_owned(),
            ColumnDef::new(ClientKeys::MaxConcurrent)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(ClientKeys::Rpd)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(ClientKeys::Tpd)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(ClientKeys::CostPerDayNanos)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(ClientKeys::BudgetNanos)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(ClientKeys::ExpiresAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(ClientKeys::AllowedModels)
                .text()
                .null()
                .to_owned(),
        ];
        for col in client_cols {
            manager
                .alter_table(
                    Table::alter()
                        .table(ClientKeys::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        let key_cols = [
            ColumnDef::new(ProviderKeys::Rpm)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(ProviderKeys::Tpm)
                .big_integer()
                .null()
                .to_owned(),
        ];
        for col in key_cols {
            manager
                .alter_table(
                    Table::alter()
                        .table(ProviderKeys::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            ClientKeys::Rpm,
            ClientKeys::MaxConcurrent,
            ClientKeys::Rpd,
            ClientKeys::Tpd,
            ClientKeys::CostPerDayNanos,
            ClientKeys::BudgetNanos,
            ClientKeys::ExpiresAt,
            ClientKeys::AllowedModels,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ClientKeys::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        for col in [ProviderKeys::Rpm, ProviderKeys::Tpm] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ProviderKeys::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
