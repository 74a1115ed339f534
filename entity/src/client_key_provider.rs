//! The providers a client key reaches, in the key's order (`position`); the first is also the
//! key's `provider_id`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_key_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_key_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_id: i64,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::client_key::Entity",
        from = "Column::ClientKeyId",
        to = "super::client_key::Column::Id",
        on_delete = "Cascade"
    )]
    ClientKey,
    #[sea_orm(
        belongs_to = "super::provider::Entity",
        from = "Column::ProviderId",
        to = "super::provider::Column::Id",
        on_delete = "Cascade"
    )]
    Provider,
}

impl ActiveModelBehavior for ActiveModel {}
