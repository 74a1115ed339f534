//! Proxy correctness: per-provider retry and header settings; where a request's usage came
//! from and which model the answer named.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    RetryAfterSend,
    ForwardHeaders,
}

#[derive(DeriveIden)]
enum RequestLogs {
    Table,
    UsageSource,
    ResponseModel,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE takes one change at a time.
        for col in [
            ColumnDef::new(Providers::RetryAfterSend)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Providers::ForwardHeaders)
                .text()
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
        for col in [
            ColumnDef::new(RequestLogs::UsageSource)
                .string_len(16)
                .null()
                .to_owned(),
            ColumnDef::new(RequestLogs::ResponseModel)
                .string_len(256)
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RequestLogs::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [RequestLogs::UsageSource, RequestLogs::ResponseModel] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RequestLogs::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        for col in [Providers::RetryAfterSend, Providers::ForwardHeaders] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Providers::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
