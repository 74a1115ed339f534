//! OAuth2 provider credentials: a provider's OAuth client configuration, the kind of each
//! provider key, pending authorizations (state + PKCE verifier) and the token pair of each
//! OAuth provider key with its refresh lease.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ProviderKeys {
    Table,
    Id,
    Kind,
}

#[derive(DeriveIden)]
enum ProviderOauthConfigs {
    Table,
    ProviderId,
    AuthorizeUrl,
    TokenUrl,
    ClientId,
    ClientSecretCiphertext,
    Scopes,
    ExtraParams,
    RedirectUri,
    ClientAuth,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OauthAuthorizations {
    Table,
    Id,
    ProviderKeyId,
    StateHash,
    VerifierCiphertext,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ProviderKeyTokens {
    Table,
    ProviderKeyId,
    AccessTokenCiphertext,
    RefreshTokenCiphertext,
    ExpiresAt,
    Generation,
    Status,
    Reason,
    LeaseOwner,
    LeaseUntil,
    ConnectedAt,
    RefreshedAt,
    UpdatedAt,
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ProviderKeys::Table)
                    .add_column(
                        ColumnDef::new(ProviderKeys::Kind)
                            .string()
                            .not_null()
                            .default("api_key"),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProviderOauthConfigs::Table)
                    .col(
                        ColumnDef::new(ProviderOauthConfigs::ProviderId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(ProviderOauthConfigs::AuthorizeUrl))
                    .col(text(ProviderOauthConfigs::TokenUrl))
                    .col(text(ProviderOauthConfigs::ClientId))
                    .col(text_null(ProviderOauthConfigs::ClientSecretCiphertext))
                    .col(text(ProviderOauthConfigs::Scopes))
                    .col(text(ProviderOauthConfigs::ExtraParams))
                    .col(text(ProviderOauthConfigs::RedirectUri))
                    .col(text(ProviderOauthConfigs::ClientAuth))
                    .col(at(ProviderOauthConfigs::CreatedAt))
                    .col(at(ProviderOauthConfigs::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ProviderOauthConfigs::Table,
                                ProviderOauthConfigs::ProviderId,
                            )
                            .to(Providers::Table, Providers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthAuthorizations::Table)
                    .col(
                        ColumnDef::new(OauthAuthorizations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OauthAuthorizations::ProviderKeyId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthAuthorizations::StateHash)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(OauthAuthorizations::VerifierCiphertext))
                    .col(
                        ColumnDef::new(OauthAuthorizations::CreatedBy)
                            .big_integer()
                            .null(),
                    )
                    .col(at(OauthAuthorizations::CreatedAt))
                    .col(at(OauthAuthorizations::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                OauthAuthorizations::Table,
                                OauthAuthorizations::ProviderKeyId,
                            )
                            .to(ProviderKeys::Table, ProviderKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_authorizations_expires_at")
                    .table(OauthAuthorizations::Table)
                    .col(OauthAuthorizations::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProviderKeyTokens::Table)
                    .col(
                        ColumnDef::new(ProviderKeyTokens::ProviderKeyId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text_null(ProviderKeyTokens::AccessTokenCiphertext))
                    .col(text_null(ProviderKeyTokens::RefreshTokenCiphertext))
                    .col(at_null(ProviderKeyTokens::ExpiresAt))
                    .col(
                        ColumnDef::new(ProviderKeyTokens::Generation)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(ProviderKeyTokens::Status)
                            .string()
                            .not_null()
                            .default("pending"),
                    )
                    .col(text_null(ProviderKeyTokens::Reason))
                    .col(text_null(ProviderKeyTokens::LeaseOwner))
                    .col(at_null(ProviderKeyTokens::LeaseUntil))
                    .col(at_null(ProviderKeyTokens::ConnectedAt))
                    .col(at_null(ProviderKeyTokens::RefreshedAt))
                    .col(at(ProviderKeyTokens::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProviderKeyTokens::Table, ProviderKeyTokens::ProviderKeyId)
                            .to(ProviderKeys::Table, ProviderKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProviderKeyTokens::Table.into_iden(),
            OauthAuthorizations::Table.into_iden(),
            ProviderOauthConfigs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ProviderKeys::Table)
                    .drop_column(ProviderKeys::Kind)
                    .to_owned(),
            )
            .await
    }
}
