//! Model prices per million tokens, in nano-units of the currency (exact integers).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "model_prices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub model: String,
    pub input_nanos_per_mtok: i64,
    pub output_nanos_per_mtok: i64,
    pub cache_write_nanos_per_mtok: i64,
    pub cache_read_nanos_per_mtok: i64,
    pub currency: String,
    pub effective_from: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
