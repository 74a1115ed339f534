//! Accounts and audit: users' session cut-off, refresh tokens, Ed25519 public keys and login
//! challenges, and the audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    SessionsValidAfter,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum UserPublicKeys {
    Table,
    Id,
    UserId,
    Name,
    PublicKey,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuthChallenges {
    Table,
    Id,
    Username,
    Nonce,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AuditLogs {
    Table,
    Id,
    CreatedAt,
    UserId,
    Username,
    Action,
    Resource,
    ResourceId,
    Address,
    Details,
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
    ColumnDef::new(col).string().not_null().to_owned()
}

fn user_fk<T: IntoTableRef, C: IntoIden>(table: T, col: C) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(at_null(Users::SessionsValidAfter))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(id(RefreshTokens::Id))
                    .col(
                        ColumnDef::new(RefreshTokens::UserId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(RefreshTokens::FamilyId))
                    .col(text(RefreshTokens::TokenHash).unique_key())
                    .col(at(RefreshTokens::CreatedAt))
                    .col(at(RefreshTokens::ExpiresAt))
                    .col(at_null(RefreshTokens::RotatedAt))
                    .col(at_null(RefreshTokens::RevokedAt))
                    .foreign_key(&mut user_fk(RefreshTokens::Table, RefreshTokens::UserId))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_refresh_tokens_user", RefreshTokens::UserId),
            ("ix_refresh_tokens_family", RefreshTokens::FamilyId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RefreshTokens::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(UserPublicKeys::Table)
                    .col(id(UserPublicKeys::Id))
                    .col(
                        ColumnDef::new(UserPublicKeys::UserId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(UserPublicKeys::Name))
                    .col(text(UserPublicKeys::PublicKey).unique_key())
                    .col(at(UserPublicKeys::CreatedAt))
                    .col(at_null(UserPublicKeys::LastUsedAt))
                    .foreign_key(&mut user_fk(UserPublicKeys::Table, UserPublicKeys::UserId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuthChallenges::Table)
                    .col(id(AuthChallenges::Id))
                    .col(text(AuthChallenges::Username))
                    .col(text(AuthChallenges::Nonce).unique_key())
                    .col(at(AuthChallenges::CreatedAt))
                    .col(at(AuthChallenges::ExpiresAt))
                    .col(at_null(AuthChallenges::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_auth_challenges_expires_at")
                    .table(AuthChallenges::Table)
                    .col(AuthChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        // No foreign key to users: the trail outlives the accounts it names.
        manager
            .create_table(
                Table::create()
                    .table(AuditLogs::Table)
                    .col(id(AuditLogs::Id))
                    .col(at(AuditLogs::CreatedAt))
                    .col(ColumnDef::new(AuditLogs::UserId).big_integer().null())
                    .col(ColumnDef::new(AuditLogs::Username).string().null())
                    .col(text(AuditLogs::Action))
                    .col(text(AuditLogs::Resource))
                    .col(ColumnDef::new(AuditLogs::ResourceId).string().null())
                    .col(ColumnDef::new(AuditLogs::Address).string().null())
                    .col(ColumnDef::new(AuditLogs::Details).text().null())
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_audit_logs_created_at", vec![AuditLogs::CreatedAt]),
            (
                "ix_audit_logs_user",
                vec![AuditLogs::UserId, AuditLogs::CreatedAt],
            ),
            (
                "ix_audit_logs_resource",
                vec![AuditLogs::Resource, AuditLogs::CreatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditLogs::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLogs::Table.into_iden(),
            AuthChallenges::Table.into_iden(),
            UserPublicKeys::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::SessionsValidAfter)
                    .to_owned(),
            )
            .await
    }
}
