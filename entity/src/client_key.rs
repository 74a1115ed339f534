//! Tollgate-issued client keys: stored only as a keyed hash; they reach the providers of
//! `client_key_providers`, the first of which is `provider_id`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// hex HMAC-SHA256 of the key under a key derived from the master key.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// The first characters of the key, for recognising it in lists.
    pub key_prefix: String,
    pub provider_id: i64,
    pub owner_id: Option<i64>,
    pub strategy: String,
    pub max_retries: i32,
    /// Requests per minute (sliding window); NULL = unlimited (likewise below).
    pub rpm: Option<i32>,
    pub max_concurrent: Option<i32>,
    /// Requests, tokens and cost (nano-units) per day, in the configured time zone.
    pub rpd: Option<i64>,
    pub tpd: Option<i64>,
    pub cost_per_day_nanos: Option<i64>,
    /// Lifetime spend cap, nano-units.
    pub budget_nanos: Option<i64>,
    pub expires_at: Option<DateTimeUtc>,
    /// JSON array of glob patterns; NULL = every model.
    pub allowed_models: Option<String>,
    pub enabled: bool,
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
