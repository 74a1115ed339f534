//! Usage rollups: totals per hour (UTC), client key, provider key, provider and model, kept by
//! the ledger writer. Missing ids are stored as 0 and a missing model as "".

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_rollups")]
pub struct Model {
    /// Start of the hour, seconds since the Unix epoch (UTC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket_start: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_key_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_key_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub model: String,
    pub requests: i64,
    /// Status >= 400 or an error kind set.
    pub errors: i64,
    /// Requests with token usage for a model that had no price.
    pub unpriced_requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cache_write_tokens: i64,
    pub cache_read_tokens: i64,
    pub total_tokens: i64,
    /// Sum of priced costs, nano-units.
    pub cost_nanos: i64,
    pub latency_sum_ms: i64,
    pub latency_max_ms: i64,
    /// Latency histogram: requests with latency in (previous bound, bound] ms.
    pub latency_le_1: i64,
    pub latency_le_2: i64,
    pub latency_le_5: i64,
    pub latency_le_10: i64,
    pub latency_le_20: i64,
    pub latency_le_50: i64,
    pub latency_le_100: i64,
    pub latency_le_200: i64,
    pub latency_le_500: i64,
    pub latency_le_1000: i64,
    pub latency_le_2000: i64,
    pub latency_le_5000: i64,
    pub latency_le_10000: i64,
    pub latency_le_30000: i64,
    pub latency_le_60000: i64,
    pub latency_gt_60000: i64,
    /// Requests that reported a time to first byte, its sum and maximum (ms), and its
    /// histogram with the latency histogram's bounds.
    pub ttfb_count: i64,
    pub ttfb_sum_ms: i64,
    pub ttfb_max_ms: i64,
    pub ttfb_le_1: i64,
    pub ttfb_le_2: i64,
    pub ttfb_le_5: i64,
    pub ttfb_le_10: i64,
    pub ttfb_le_20: i64,
    pub ttfb_le_50: i64,
    pub ttfb_le_100: i64,
    pub ttfb_le_200: i64,
    pub ttfb_le_500: i64,
    pub ttfb_le_1000: i64,
    pub ttfb_le_2000: i64,
    pub ttfb_le_5000: i64,
    pub ttfb_le_10000: i64,
    pub ttfb_le_30000: i64,
    pub ttfb_le_60000: i64,
    pub ttfb_gt_60000: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
