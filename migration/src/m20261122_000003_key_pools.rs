//! Key pools: per-provider health-check path, per-client-key retry count, attempts per request.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    HealthCheckPath,
}

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    MaxRetries,
}

#[derive(DeriveIden)]
enum RequestLogs {
    Table,
    Attempts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE takes one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Providers::Table)
                    .add_column(ColumnDef::new(Providers::HealthCheckPath).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ClientKeys::Table)
                    .add_column(
                        ColumnDef::new(ClientKeys::MaxRetries)
                            .integer()
                            .not_null()
                            .default(2),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RequestLogs::Table)
                    .add_column(ColumnDef::new(RequestLogs::Attempts).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, col) in [
            (
                Providers::Table.into_iden(),
                Providers::HealthCheckPath.into_iden(),
            ),
            (
                ClientKeys::Table.into_iden(),
                ClientKeys::MaxRetries.into_iden(),
            ),
            (
                RequestLogs::Table.into_iden(),
                RequestLogs::Attempts.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
