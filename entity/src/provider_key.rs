//! Provider credentials (backend API keys), stored encrypted with a masked preview.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider_id: i64,
    pub name: String,
    /// base64(nonce || AES-256-GCM ciphertext); never returned by the API.
    pub secret_ciphertext: String,
    pub secret_preview: String,
    pub enabled: bool,
    pub weight: i32,
    /// Requests and tokens per minute this key may take; a key at its cap is skipped.
    pub rpm: Option<i32>,
    pub tpm: Option<i64>,
    /// `api_key` (a static secret) or `oauth2` (tokens from an authorization, refreshed).
    pub kind: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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

impl Related<super::provider::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Provider.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
