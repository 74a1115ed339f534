//! The token pair of an OAuth2 provider key (both encrypted), its state, and the refresh lease.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_key_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_key_id: i64,
    pub access_token_ciphertext: Option<String>,
    pub refresh_token_ciphertext: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    /// Bumped by every change of the pair or the state; writers compare it (compare-and-set).
    pub generation: i64,
    /// `pending`, `connected` or `invalid`.
    pub status: String,
    pub reason: Option<String>,
    /// The instance refreshing now, and until when (database lease without Redis).
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub connected_at: Option<DateTimeUtc>,
    pub refreshed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
