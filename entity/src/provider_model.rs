//! Each provider's model list as last fetched from its models endpoint.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_models")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_id: i64,
    /// JSON array of model ids; NULL until a fetch succeeded.
    pub models: Option<String>,
    /// When the list was last fetched successfully.
    pub fetched_at: Option<DateTimeUtc>,
    /// When a fetch was last tried.
    pub checked_at: DateTimeUtc,
    /// Why the last try failed; NULL after a success.
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::provider::Entity",
        from = "Column::ProviderId",
        to = "super::provider::Column::Id",
        on_delete = "Cascade"
    )]
    Provider,
}

impl ActiveModelBehavior for ActiveModel {}
