//! Single-use login challenges for key-pair login, kept in the database so any instance can
//! verify the answer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_challenges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// As asked for; a challenge is issued whether or not the user exists.
    pub username: String,
    /// Standard base64 of 32 random bytes.
    #[sea_orm(unique)]
    pub nonce: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
