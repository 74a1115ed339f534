//! Inbound OAuth2 and JWT authentication: client-credentials clients of a client key (secret
//! stored as a keyed hash), the access tokens issued to them (hashed), and trusted JWT issuers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    ClientKeyId,
    ClientId,
    SecretHash,
    Name,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum OauthAccessTokens {
    Table,
    Id,
    OauthClientId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum JwtIssuers {
    Table,
    Id,
    Name,
    Issuer,
    Audience,
    JwksUrl,
    PublicKeyPem,
    Algorithms,
    ClientKeyClaim,
    ClientKeys,
    ClockSkewSecs,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthClients::Table)
                    .col(id(OauthClients::Id))
                    .col(
                        ColumnDef::new(OauthClients::ClientKeyId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthClients::ClientId)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(OauthClients::SecretHash))
                    .col(text(OauthClients::Name))
                    .col(at(OauthClients::CreatedAt))
                    .col(at_null(OauthClients::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OauthClients::Table, OauthClients::ClientKeyId)
                            .to(ClientKeys::Table, ClientKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthAccessTokens::Table)
                    .col(id(OauthAccessTokens::Id))
                    .col(
                        ColumnDef::new(OauthAccessTokens::OauthClientId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthAccessTokens::TokenHash)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(at(OauthAccessTokens::CreatedAt))
                    .col(at(OauthAccessTokens::ExpiresAt))
                    .col(at_null(OauthAccessTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OauthAccessTokens::Table, OauthAccessTokens::OauthClientId)
                            .to(OauthClients::Table, OauthClients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_access_tokens_expires_at")
                    .table(OauthAccessTokens::Table)
                    .col(OauthAccessTokens::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JwtIssuers::Table)
                    .col(id(JwtIssuers::Id))
                    .col(
                        ColumnDef::new(JwtIssuers::Name)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(JwtIssuers::Issuer))
                    .col(text(JwtIssuers::Audience))
                    .col(ColumnDef::new(JwtIssuers::JwksUrl).text().null())
                    .col(ColumnDef::new(JwtIssuers::PublicKeyPem).text().null())
                    .col(text(JwtIssuers::Algorithms))
                    .col(text(JwtIssuers::ClientKeyClaim))
                    .col(text(JwtIssuers::ClientKeys))
                    .col(
                        ColumnDef::new(JwtIssuers::ClockSkewSecs)
                            .big_integer()
                            .not_null()
                            .default(60),
                    )
                    .col(ColumnDef::new(JwtIssuers::Enabled).boolean().not_null())
                    .col(at(JwtIssuers::CreatedAt))
                    .col(at(JwtIssuers::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            JwtIssuers::Table.into_iden(),
            OauthAccessTokens::Table.into_iden(),
            OauthClients::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
