//! The pool of provider keys a client key may draw on.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_key_provider_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_key_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_key_id: i64,
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
        belongs_to = "super::provider_key::Entity",
        from = "Column::ProviderKeyId",
        to = "super::provider_key::Column::Id",
        on_delete = "Cascade"
    )]
    ProviderKey,
}

impl ActiveModelBehavior for ActiveModel {}
