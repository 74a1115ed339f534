//! Indexes for the request log's keyset pages: each filter column with the id, so "newest
//! first where column = x and id < cursor" is one index range read, however many rows there are.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestLogs {
    Table,
    Id,
    ClientKeyId,
    ProviderKeyId,
    ProviderId,
    Model,
    Status,
}

fn indexes() -> [(&'static str, RequestLogs); 5] {
    [
        ("ix_request_logs_client_key_id", RequestLogs::ClientKeyId),
        (
            "ix_request_logs_provider_key_id",
            RequestLogs::ProviderKeyId,
        ),
        ("ix_request_logs_provider_id", RequestLogs::ProviderId),
        ("ix_request_logs_model_id", RequestLogs::Model),
        ("ix_request_logs_status_id", RequestLogs::Status),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, col) in indexes() {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RequestLogs::Table)
                        .col(col)
                        .col(RequestLogs::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in indexes() {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(RequestLogs::Table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
