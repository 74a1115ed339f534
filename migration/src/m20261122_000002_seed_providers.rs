//! Seeds the three native providers with their real HTTPS base URLs (once; admins may edit or delete them).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
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

const SEEDS: [(&str, &str, &str, &str); 3] = [
    ("openai", "openai", "https://api.openai.com", "bearer"),
    (
        "anthropic",
        "anthropic",
        "https://api.anthropic.com",
        "x-api-key",
    ),
    (
        "gemini",
        "gemini",
        "https://generativelanguage.googleapis.com",
        "x-goog-api-key",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let now = chrono::Utc::now();
        let mut insert = Query::insert();
        insert.into_table(Providers::Table).columns([
            Providers::Name,
            Providers::ApiFormat,
            Providers::BaseUrl,
            Providers::AuthScheme,
            Providers::Enabled,
            Providers::ConnectTimeoutMs,
            Providers::FirstByteTimeoutMs,
            Providers::CreatedAt,
            Providers::UpdatedAt,
        ]);
        for (name, format, base_url, auth) in SEEDS {
            insert
                .values([
                    name.into(),
                    format.into(),
                    base_url.into(),
                    auth.into(),
                    true.into(),
                    5_000i64.into(),
                    120_000i64.into(),
                    now.into(),
                    now.into(),
                ])
                .map_err(|e| DbErr::Migration(e.to_string()))?;
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let names: Vec<&str> = SEEDS.iter().map(|s| s.0).collect();
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Providers::Table)
                    .and_where(Expr::col(Providers::Name).is_in(names))
                    .to_owned(),
            )
            .await
    }
}
