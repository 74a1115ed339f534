//! An OAuth2 client-credentials client of a client key; the secret is kept as a keyed hash.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_key_id: i64,
    #[sea_orm(unique)]
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    pub created_at: DateTimeUtc,
    /// Set when deleted: its tokens stop working on every instance.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
