//! The initial schema: users, providers, provider keys, client keys and their pools, prices, request logs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
    Name,
    ApiFormat,
    BaseUrl,
    AuthScheme,
    Enabled,
    ConnectTimeoutMs,
    FirstByteTimeoutMs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProviderKeys {
    Table,
    Id,
    ProviderId,
    Name,
    SecretCiphertext,
    SecretPreview,
    Enabled,
    Weight,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    Id,
    Name,
    KeyHash,
    KeyPrefix,
    ProviderId,
    OwnerId,
    Strategy,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClientKeyProviderKeys {
    Table,
    ClientKeyId,
    ProviderKeyId,
}

#[derive(DeriveIden)]
enum ModelPrices {
    Table,
    Id,
    Model,
    InputNanosPerMtok,
    OutputNanosPerMtok,
    CacheWriteNanosPerMtok,
    CacheReadNanosPerMtok,
    Currency,
    EffectiveFrom,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RequestLogs {
    Table,
    Id,
    RequestId,
    CreatedAt,
    ClientKeyId,
    ProviderId,
    ProviderKeyId,
    Method,
    Path,
    Model,
    Status,
    ErrorKind,
    LatencyMs,
    TtfbMs,
    PromptTokens,
    CompletionTokens,
    CacheWriteTokens,
    CacheReadTokens,
    CostNanos,
    Stream,
    Partial,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn timestamp<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn big<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}

fn flag<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(id(Users::Id))
                    .col(text(Users::Username).unique_key())
                    .col(text(Users::PasswordHash))
                    .col(text(Users::Role))
                    .col(flag(Users::Enabled))
                    .col(timestamp(Users::CreatedAt))
                    .col(timestamp(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Providers::Table)
                    .col(id(Providers::Id))
                    .col(text(Providers::Name).unique_key())
                    .col(text(Providers::ApiFormat))
                    .col(text(Providers::BaseUrl))
                    .col(text(Providers::AuthScheme))
                    .col(flag(Providers::Enabled))
                    .col(big(Providers::ConnectTimeoutMs))
                    .col(big(Providers::FirstByteTimeoutMs))
                    .col(timestamp(Providers::CreatedAt))
                    .col(timestamp(Providers::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProviderKeys::Table)
                    .col(id(ProviderKeys::Id))
                    .col(big(ProviderKeys::ProviderId))
                    .col(text(ProviderKeys::Name))
                    .col(
                        ColumnDef::new(ProviderKeys::SecretCiphertext)
                            .text()
                            .not_null(),
                    )
                    .col(text(ProviderKeys::SecretPreview))
                    .col(flag(ProviderKeys::Enabled))
                    .col(ColumnDef::new(ProviderKeys::Weight).integer().not_null())
                    .col(timestamp(ProviderKeys::CreatedAt))
                    .col(timestamp(ProviderKeys::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProviderKeys::Table, ProviderKeys::ProviderId)
                            .to(Providers::Table, Providers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClientKeys::Table)
                    .col(id(ClientKeys::Id))
                    .col(text(ClientKeys::Name))
                    .col(text(ClientKeys::KeyHash).unique_key())
                    .col(text(ClientKeys::KeyPrefix))
                    .col(big(ClientKeys::ProviderId))
                    .col(ColumnDef::new(ClientKeys::OwnerId).big_integer().null())
                    .col(text(ClientKeys::Strategy))
                    .col(flag(ClientKeys::Enabled))
                    .col(timestamp(ClientKeys::CreatedAt))
                    .col(timestamp(ClientKeys::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientKeys::Table, ClientKeys::ProviderId)
                            .to(Providers::Table, Providers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientKeys::Table, ClientKeys::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClientKeyProviderKeys::Table)
                    .col(big(ClientKeyProviderKeys::ClientKeyId))
                    .col(big(ClientKeyProviderKeys::ProviderKeyId))
                    .primary_key(
                        Index::create()
                            .col(ClientKeyProviderKeys::ClientKeyId)
                            .col(ClientKeyProviderKeys::ProviderKeyId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ClientKeyProviderKeys::Table,
                                ClientKeyProviderKeys::ClientKeyId,
                            )
                            .to(ClientKeys::Table, ClientKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ClientKeyProviderKeys::Table,
                                ClientKeyProviderKeys::ProviderKeyId,
                            )
                            .to(ProviderKeys::Table, ProviderKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ModelPrices::Table)
                    .col(id(ModelPrices::Id))
                    .col(text(ModelPrices::Model))
                    .col(big(ModelPrices::InputNanosPerMtok))
                    .col(big(ModelPrices::OutputNanosPerMtok))
                    .col(big(ModelPrices::CacheWriteNanosPerMtok))
                    .col(big(ModelPrices::CacheReadNanosPerMtok))
                    .col(text(ModelPrices::Currency))
                    .col(timestamp(ModelPrices::EffectiveFrom))
                    .col(timestamp(ModelPrices::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_model_prices_model_effective")
                    .table(ModelPrices::Table)
                    .col(ModelPrices::Model)
                    .col(ModelPrices::EffectiveFrom)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RequestLogs::Table)
                    .col(id(RequestLogs::Id))
                    .col(text(RequestLogs::RequestId).unique_key())
                    .col(timestamp(RequestLogs::CreatedAt))
                    .col(
                        ColumnDef::new(RequestLogs::ClientKeyId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(RequestLogs::ProviderId).big_integer().null())
                    .col(
                        ColumnDef::new(RequestLogs::ProviderKeyId)
                            .big_integer()
                            .null(),
                    )
                    .col(text(RequestLogs::Method))
                    .col(ColumnDef::new(RequestLogs::Path).text().not_null())
                    .col(ColumnDef::new(RequestLogs::Model).string().null())
                    .col(ColumnDef::new(RequestLogs::Status).integer().not_null())
                    .col(ColumnDef::new(RequestLogs::ErrorKind).string().null())
                    .col(big(RequestLogs::LatencyMs))
                    .col(ColumnDef::new(RequestLogs::TtfbMs).big_integer().null())
                    .col(big(RequestLogs::PromptTokens))
                    .col(big(RequestLogs::CompletionTokens))
                    .col(big(RequestLogs::CacheWriteTokens))
                    .col(big(RequestLogs::CacheReadTokens))
                    .col(ColumnDef::new(RequestLogs::CostNanos).big_integer().null())
                    .col(flag(RequestLogs::Stream))
                    .col(flag(RequestLogs::Partial))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_request_logs_created_at", vec![RequestLogs::CreatedAt]),
            (
                "ix_request_logs_client_key",
                vec![RequestLogs::ClientKeyId, RequestLogs::CreatedAt],
            ),
            (
                "ix_request_logs_provider_key",
                vec![RequestLogs::ProviderKeyId, RequestLogs::CreatedAt],
            ),
            (
                "ix_request_logs_model",
                vec![RequestLogs::Model, RequestLogs::CreatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(RequestLogs::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RequestLogs::Table.into_iden(),
            ModelPrices::Table.into_iden(),
            ClientKeyProviderKeys::Table.into_iden(),
            ClientKeys::Table.into_iden(),
            ProviderKeys::Table.into_iden(),
            Providers::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
