//! An authorization under way: its single-use `state` (hashed) and PKCE verifier (encrypted).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_authorizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider_key_id: i64,
    #[sea_orm(unique)]
    pub state_hash: String,
    pub verifier_ciphertext: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
