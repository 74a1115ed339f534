//! The ledger: one row per request that reached the proxy, failures included.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_logs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub request_id: String,
    pub created_at: DateTimeUtc,
    pub client_key_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub provider_key_id: Option<i64>,
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    pub status: i32,
    pub error_kind: Option<String>,
    pub latency_ms: i64,
    pub ttfb_ms: Option<i64>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cache_write_tokens: i64,
    pub cache_read_tokens: i64,
    /// Cost in nano-units of the price's currency; NULL when the model has no price.
    pub cost_nanos: Option<i64>,
    pub stream: bool,
    pub partial: bool,
    /// JSON array of every attempt (key, status, error, latency); NULL when none reached a key.
    pub attempts: Option<String>,
    /// Where the token figures came from: `provider` (its own usage report) or `estimated`
    /// (the stream ended before the provider reported; tokens counted with a tokenizer).
    /// NULL when the answer carried no usage.
    pub usage_source: Option<String>,
    /// The model the answer named (priced in preference to the requested one).
    pub response_model: Option<String>,
    /// The model the request was finally sent to (after `provider/` prefixes and model routes);
    /// NULL when it is the one asked for.
    pub resolved_model: Option<String>,
    /// The model route that chose the targets, if one did.
    pub route: Option<String>,
    /// The request and answer were translated between API formats.
    pub translated: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
