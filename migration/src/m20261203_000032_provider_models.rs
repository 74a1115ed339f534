//! Each provider's cached model list (`provider_models`), and the provider fields of the
//! unified API: drop parameters the provider cannot honour instead of refusing the request, an
//! upstream path template (deployment URLs, APIs without `/v1`), and the model-list path.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProviderModels {
    Table,
    ProviderId,
    Models,
    FetchedAt,
    CheckedAt,
    LastError,
}

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
    DropUnsupportedParams,
    PathTemplate,
    ModelsPath,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProviderModels::Table)
                    .col(
                        ColumnDef::new(ProviderModels::ProviderId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ProviderModels::Models).text().null())
                    .col(
                        ColumnDef::new(ProviderModels::FetchedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ProviderModels::CheckedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProviderModels::LastError).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProviderModels::Table, ProviderModels::ProviderId)
                            .to(Providers::Table, Providers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite's ALTER TABLE takes one change at a time.
        for col in [
            ColumnDef::new(Providers::DropUnsupportedParams)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Providers::PathTemplate)
                .string_len(512)
                .null()
                .to_owned(),
            ColumnDef::new(Providers::ModelsPath)
                .string_len(512)
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Providers::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            Providers::DropUnsupportedParams,
            Providers::PathTemplate,
            Providers::ModelsPath,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Providers::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ProviderModels::Table).to_owned())
            .await
    }
}
