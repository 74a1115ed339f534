//! Model routes: a bare model name standing for ordered `provider/model` targets with weights
//! and a strategy (the targets as a JSON array).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ModelRoutes {
    Table,
    Id,
    Name,
    Strategy,
    Targets,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ModelRoutes::Table)
                    .col(
                        ColumnDef::new(ModelRoutes::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ModelRoutes::Name)
                            .string_len(128)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(ModelRoutes::Strategy)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ModelRoutes::Targets).text().not_null())
                    .col(
                        ColumnDef::new(ModelRoutes::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ModelRoutes::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ModelRoutes::Table).to_owned())
            .await
    }
}
