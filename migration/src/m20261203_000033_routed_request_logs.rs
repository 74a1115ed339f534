//! What the ledger keeps of routing: the model the request was finally sent to, the model
//! route that chose it, and whether the request and answer were translated between formats.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestLogs {
    Table,
    ResolvedModel,
    Route,
    Translated,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE takes one change at a time.
        for col in [
            ColumnDef::new(RequestLogs::ResolvedModel)
                .string_len(256)
                .null()
                .to_owned(),
            ColumnDef::new(RequestLogs::Route)
                .string_len(128)
                .null()
                .to_owned(),
            ColumnDef::new(RequestLogs::Translated)
                .boolean()
                .not_null()
                .default(false)
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
        for col in [
            RequestLogs::ResolvedModel,
            RequestLogs::Route,
            RequestLogs::Translated,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RequestLogs::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
