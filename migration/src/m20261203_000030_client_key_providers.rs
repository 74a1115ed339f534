//! A client key reaches a set of providers: `client_key_providers` (in the key's order),
//! filled from each key's `provider_id`, which stays as the first of the set.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeyProviders {
    Table,
    ClientKeyId,
    ProviderId,
    Position,
}

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClientKeyProviders::Table)
                    .col(
                        ColumnDef::new(ClientKeyProviders::ClientKeyId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ClientKeyProviders::ProviderId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ClientKeyProviders::Position)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .primary_key(
                        Index::create()
                            .col(ClientKeyProviders::ClientKeyId)
                            .col(ClientKeyProviders::ProviderId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientKeyProviders::Table, ClientKeyProviders::ClientKeyId)
                            .to(ClientKeys::Table, ClientKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientKeyProviders::Table, ClientKeyProviders::ProviderId)
                            .to(Providers::Table, Providers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO client_key_providers (client_key_id, provider_id, position) \
                 SELECT id, provider_id, 0 FROM client_keys",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClientKeyProviders::Table).to_owned())
            .await
    }
}
