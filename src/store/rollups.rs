//! Usage rollups: the ledger writer's batch (request-log rows and rollup upserts in one
//! transaction) and the aggregate reads behind the stats API, which never touch request_logs.

use super::{Store, StoreError};
use entity::{client_key, provider, request_log, usage_rollup};
use sea_orm::sea_query::{
    Alias, Expr, Func, IntoIden, OnConflict, Order, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryResult, TransactionTrait};

/// Upper bounds (ms) of the latency histogram's buckets; one more bucket counts what is slower.
pub const LATENCY_BOUNDS_MS: [i64; 15] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000,
];
/// Buckets in the latency histogram (the bounds plus "slower than the last bound").
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// Summed columns, then the maxima, then the histograms, in the order of `UsageTotals::sums`.
const SUMMED: [&str; 12] = [
    "requests",
    "errors",
    "unpriced_requests",
    "prompt_tokens",
    "completion_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "total_tokens",
    "cost_nanos",
    "latency_sum_ms",
    "ttfb_count",
    "ttfb_sum_ms",
];
const MAX_COLUMN: &str = "latency_max_ms";
const TTFB_MAX_COLUMN: &str = "ttfb_max_ms";
const MAX_COLUMNS: [&str; 2] = [MAX_COLUMN, TTFB_MAX_COLUMN];
const HISTOGRAM: [&str; LATENCY_BUCKETS] = [
    "latency_le_1",
    "latency_le_2",
    "latency_le_5",
    "latency_le_10",
    "latency_le_20",
    "latency_le_50",
    "latency_le_100",
    "latency_le_200",
    "latency_le_500",
    "latency_le_1000",
    "latency_le_2000",
    "latency_le_5000",
    "latency_le_10000",
    "latency_le_30000",
    "latency_le_60000",
    "latency_gt_60000",
];
const TTFB_HISTOGRAM: [&str; LATENCY_BUCKETS] = [
    "ttfb_le_1",
    "ttfb_le_2",
    "ttfb_le_5",
    "ttfb_le_10",
    "ttfb_le_20",
    "ttfb_le_50",
    "ttfb_le_100",
    "ttfb_le_200",
    "ttfb_le_500",
    "ttfb_le_1000",
    "ttfb_le_2000",
    "ttfb_le_5000",
    "ttfb_le_10000",
    "ttfb_le_30000",
    "ttfb_le_60000",
    "ttfb_gt_60000",
];
const KEY_COLUMNS: [&str; 5] = [
    "bucket_start",
    "client_key_id",
    "provider_key_id",
    "provider_id",
    "model",
];
/// Rows per upsert statement: 51 values a row stays under SQLite's 32766 bound parameters.
const UPSERT_CHUNK: usize = 500;

/// Totals over any set of requests: one rollup row, or a sum of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageTotals {
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
    /// Requests per latency bucket: `[i]` counts latencies in (bound[i-1], bound[i]] ms, the
    /// last one everything above the last bound.
    pub latency_histogram: [i64; LATENCY_BUCKETS],
    /// Requests that reported a time to first byte (streams and answers alike), the sum and
    /// the maximum of those times, and their histogram (the latency bounds).
    pub ttfb_count: i64,
    pub ttfb_sum_ms: i64,
    pub ttfb_max_ms: i64,
    pub ttfb_histogram: [i64; LATENCY_BUCKETS],
}

impl UsageTotals {
    fn sums(&self) -> [i64; 12] {
        [
            self.requests,
            self.errors,
            self.unpriced_requests,
            self.prompt_tokens,
            self.completion_tokens,
            self.cache_write_tokens,
            self.cache_read_tokens,
            self.total_tokens,
            self.cost_nanos,
            self.latency_sum_ms,
            self.ttfb_count,
            self.ttfb_sum_ms,
        ]
    }

    fn maxima(&self) -> [i64; 2] {
        [self.latency_max_ms, self.ttfb_max_ms]
    }

    fn histograms(&self) -> impl Iterator<Item = i64> + '_ {
        self.latency_histogram
            .iter()
            .chain(self.ttfb_histogram.iter())
            .copied()
    }

    /// Adds another set of totals to this one.
    pub fn merge(&mut self, other: &UsageTotals) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.unpriced_requests += other.unpriced_requests;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.total_tokens += other.total_tokens;
        self.cost_nanos += other.cost_nanos;
        self.latency_sum_ms += other.latency_sum_ms;
        self.latency_max_ms = self.latency_max_ms.max(other.latency_max_ms);
        for (a, b) in self
            .latency_histogram
            .iter_mut()
            .zip(other.latency_histogram)
        {
            *a += b;
        }
        self.ttfb_count += other.ttfb_count;
        self.ttfb_sum_ms += other.ttfb_sum_ms;
        self.ttfb_max_ms = self.ttfb_max_ms.max(other.ttfb_max_ms);
        for (a, b) in self.ttfb_histogram.iter_mut().zip(other.ttfb_histogram) {
            *a += b;
        }
    }

    /// Reads the aggregate columns of a result row (named as the rollup columns).
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        let get = |name: &str| row.try_get::<i64>("", name);
        let mut histogram = [0; LATENCY_BUCKETS];
        for (slot, name) in histogram.iter_mut().zip(HISTOGRAM) {
            *slot = get(name)?;
        }
        let mut ttfb_histogram = [0; LATENCY_BUCKETS];
        for (slot, name) in ttfb_histogram.iter_mut().zip(TTFB_HISTOGRAM) {
            *slot = get(name)?;
        }
        Ok(Self {
            requests: get("requests")?,
            errors: get("errors")?,
            unpriced_requests: get("unpriced_requests")?,
            prompt_tokens: get("prompt_tokens")?,
            completion_tokens: get("completion_tokens")?,
            cache_write_tokens: get("cache_write_tokens")?,
            cache_read_tokens: get("cache_read_tokens")?,
            total_tokens: get("total_tokens")?,
            cost_nanos: get("cost_nanos")?,
            latency_sum_ms: get("latency_sum_ms")?,
            latency_max_ms: get(MAX_COLUMN)?,
            latency_histogram: histogram,
            ttfb_count: get("ttfb_count")?,
            ttfb_sum_ms: get("ttfb_sum_ms")?,
            ttfb_max_ms: get(TTFB_MAX_COLUMN)?,
            ttfb_histogram,
        })
    }
}

/// Which rollup row a request adds to. Missing ids are 0 and a missing model is "" (NULLs
/// never conflict, so they cannot be upsert keys).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    /// Start of the hour, seconds since the Unix epoch (UTC).
    pub bucket_start: i64,
    pub client_key_id: i64,
    pub provider_key_id: i64,
    pub provider_id: i64,
    pub model: String,
}

/// Which rollups a read covers: hour buckets in [from, to) and optional filters.
#[derive(Debug, Clone, Default)]
pub struct RollupFilter {
    /// Inclusive, seconds since the epoch (compared with hour starts).
    pub from: i64,
    /// Exclusive.
    pub to: i64,
    pub client_key_id: Option<i64>,
    pub provider_key_id: Option<i64>,
    pub model: Option<String>,
    /// Restricts to client keys owned by this user.
    pub owner_key_ids: Option<Vec<i64>>,
}

/// What a top list ranks by (descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBy {
    Requests,
    Tokens,
    Cost,
}

impl RankBy {
    fn column(self) -> &'static str {
        match self {
            RankBy::Requests => "requests",
            RankBy::Tokens => "total_tokens",
            RankBy::Cost => "cost_nanos",
        }
    }
}

/// One client key's or provider's totals in a top list; `name` is None once the record is
/// deleted.
#[derive(Debug, Clone)]
pub struct NamedUsage {
    pub id: i64,
    pub name: Option<String>,
    pub totals: UsageTotals,
}

fn col(name: &str) -> Expr {
    Expr::col((usage_rollup::Entity.into_iden(), Alias::new(name)))
}

/// `CAST(COALESCE(SUM(col), 0) AS BIGINT)`: Postgres sums BIGINT into NUMERIC.
fn sum_of(name: &str) -> SimpleExpr {
    Func::cast_as(
        Func::coalesce([Func::sum(col(name)).into(), Expr::val(0).into()]),
        Alias::new("BIGINT"),
    )
    .into()
}

impl RollupFilter {
    /// SELECT of every aggregate over the filtered rollups; the caller adds grouping.
    fn select(&self) -> SelectStatement {
        let mut q = Query::select();
        q.from(usage_rollup::Entity);
        for name in SUMMED
            .iter()
            .chain(HISTOGRAM.iter())
            .chain(TTFB_HISTOGRAM.iter())
        {
            q.expr_as(sum_of(name), Alias::new(*name));
        }
        for name in MAX_COLUMNS {
            q.expr_as(
                Func::cast_as(
                    Func::coalesce([Func::max(col(name)).into(), Expr::val(0).into()]),
                    Alias::new("BIGINT"),
                ),
                Alias::new(name),
            );
        }
        q.and_where(col("bucket_start").gte(self.from))
            .and_where(col("bucket_start").lt(self.to));
        if let Some(v) = self.client_key_id {
            q.and_where(col("client_key_id").eq(v));
        }
        if let Some(v) = self.provider_key_id {
            q.and_where(col("provider_key_id").eq(v));
        }
        if let Some(v) = &self.model {
            q.and_where(col("model").eq(v.clone()));
        }
        if let Some(ids) = &self.owner_key_ids {
            q.and_where(col("client_key_id").is_in(ids.clone()));
        }
        q
    }
}

/// Request-log rows for one batch insert: the columns, then each row's values in that order.
#[derive(Debug, Default)]
pub struct LedgerRows {
    columns: &'static [request_log::Column],
    values: Vec<sea_orm::Value>,
}

impl LedgerRows {
    /// Rows of `columns` (the `id` column excluded: the database assigns it).
    pub fn new(columns: &'static [request_log::Column], capacity: usize) -> Self {
        Self {
            columns,
            values: Vec::with_capacity(columns.len() * capacity),
        }
    }

    /// Adds one row; `values` must follow the columns' order (checked in debug builds).
    pub fn push(&mut self, values: impl IntoIterator<Item = sea_orm::Value>) {
        let before = self.values.len();
        self.values.extend(values);
        debug_assert_eq!(self.values.len() - before, self.columns.len());
    }

    pub fn len(&self) -> usize {
        self.values
            .len()
            .checked_div(self.columns.len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `INSERT INTO "request_logs" (…) VALUES (…), …` with the backend's placeholders.
    fn insert_sql(&self, backend: sea_orm::DatabaseBackend) -> String {
        use sea_orm::IdenStatic;
        use std::fmt::Write;
        let width = self.columns.len();
        let mut sql = String::with_capacity(64 + width * 24 + self.values.len() * 6);
        sql.push_str("INSERT INTO \"request_logs\" (");
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('"');
            sql.push_str(c.as_str());
            sql.push('"');
        }
        sql.push_str(") VALUES ");
        let mut n = 0usize;
        for row in 0..self.len() {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for col in 0..width {
                if col > 0 {
                    sql.push(',');
                }
                n += 1;
                match backend {
                    sea_orm::DatabaseBackend::Postgres => {
                        let _ = write!(sql, "${n}");
                    }
                    _ => sql.push('?'),
                }
            }
            sql.push(')');
        }
        sql
    }
}

impl Store {
    /// Writes a ledger batch: the request-log rows and the rollup increments they make, in one
    /// transaction. Each rollup row is one portable upsert (`ON CONFLICT … DO UPDATE SET
    /// col = col + excluded.col`), so concurrent writers (other instances) add up correctly.
    pub async fn write_ledger_batch(
        &self,
        rows: LedgerRows,
        rollups: &[(RollupKey, UsageTotals)],
    ) -> Result<(), StoreError> {
        if rows.is_empty() && rollups.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin().await?;
        let backend = txn.get_database_backend();
        if !rows.is_empty() {
            // One hand-built multi-row INSERT: the same text for every full batch, so the
            // driver reuses its prepared statement, and no query builder runs per value.
            let sql = rows.insert_sql(backend);
            txn.execute(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                rows.values,
            ))
            .await?;
        }
        for chunk in rollups.chunks(UPSERT_CHUNK) {
            let stmt = upsert_statement(chunk)?;
            txn.execute(backend.build(&stmt)).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Totals over the filtered rollups.
    pub async fn rollup_totals(&self, filter: &RollupFilter) -> Result<UsageTotals, StoreError> {
        let stmt = self.db.get_database_backend().build(&filter.select());
        match self.db.query_one(stmt).await? {
            Some(row) => Ok(UsageTotals::from_row(&row)?),
            None => Ok(UsageTotals::default()),
        }
    }

    /// Totals per hour bucket (hours without requests are absent), oldest first.
    pub async fn rollup_by_hour(
        &self,
        filter: &RollupFilter,
    ) -> Result<Vec<(i64, UsageTotals)>, StoreError> {
        let mut q = filter.select();
        q.column((usage_rollup::Entity, usage_rollup::Column::BucketStart))
            .group_by_col((usage_rollup::Entity, usage_rollup::Column::BucketStart))
            .order_by(
                (usage_rollup::Entity, usage_rollup::Column::BucketStart),
                Order::Asc,
            );
        let rows = self
            .db
            .query_all(self.db.get_database_backend().build(&q))
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64>("", "bucket_start")?,
                    UsageTotals::from_row(r)?,
                ))
            })
            .collect()
    }

    /// The models with the most usage (requests without a model left out).
    pub async fn rollup_top_models(
        &self,
        filter: &RollupFilter,
        by: RankBy,
        limit: u64,
    ) -> Result<Vec<(String, UsageTotals)>, StoreError> {
        let mut q = filter.select();
        q.column((usage_rollup::Entity, usage_rollup::Column::Model))
            .and_where(col("model").ne(""))
            .group_by_col((usage_rollup::Entity, usage_rollup::Column::Model))
            .order_by_expr(sum_of(by.column()), Order::Desc)
            .order_by(
                (usage_rollup::Entity, usage_rollup::Column::Model),
                Order::Asc,
            )
            .limit(limit);
        let rows = self
            .db
            .query_all(self.db.get_database_backend().build(&q))
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String>("", "model")?, UsageTotals::from_row(r)?)))
            .collect()
    }

    /// The providers with the most usage (requests without a provider left out), with their
    /// names (None once deleted).
    pub async fn rollup_top_providers(
        &self,
        filter: &RollupFilter,
        by: RankBy,
        limit: u64,
    ) -> Result<Vec<NamedUsage>, StoreError> {
        self.rollup_top_named(
            filter,
            by,
            limit,
            usage_rollup::Column::ProviderId,
            (
                provider::Entity,
                provider::Column::Id,
                provider::Column::Name,
            ),
        )
        .await
    }

    /// The client keys with the most usage (requests without a client key left out), with
    /// their names (None once deleted).
    pub async fn rollup_top_client_keys(
        &self,
        filter: &RollupFilter,
        by: RankBy,
        limit: u64,
    ) -> Result<Vec<NamedUsage>, StoreError> {
        self.rollup_top_named(
            filter,
            by,
            limit,
            usage_rollup::Column::ClientKeyId,
            (
                client_key::Entity,
                client_key::Column::Id,
                client_key::Column::Name,
            ),
        )
        .await
    }

    /// A top list grouped by one of the rollup's id columns (0, "none", left out), with the
    /// name of the record it refers to.
    async fn rollup_top_named<E: EntityTrait>(
        &self,
        filter: &RollupFilter,
        by: RankBy,
        limit: u64,
        group: usage_rollup::Column,
        (entity, id, name): (E, E::Column, E::Column),
    ) -> Result<Vec<NamedUsage>, StoreError> {
        use sea_orm::IdenStatic;
        let mut q = filter.select();
        q.expr_as(
            Expr::col((usage_rollup::Entity, group)),
            Alias::new("group_id"),
        )
        .expr_as(Func::max(Expr::col((entity, name))), Alias::new("name"))
        .left_join(
            entity,
            Expr::col((entity, id)).equals((usage_rollup::Entity, group)),
        )
        .and_where(col(group.as_str()).ne(0))
        .group_by_col((usage_rollup::Entity, group))
        .order_by_expr(sum_of(by.column()), Order::Desc)
        .order_by((usage_rollup::Entity, group), Order::Asc)
        .limit(limit);
        let rows = self
            .db
            .query_all(self.db.get_database_backend().build(&q))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(NamedUsage {
                    id: r.try_get("", "group_id")?,
                    name: r.try_get("", "name")?,
                    totals: UsageTotals::from_row(r)?,
                })
            })
            .collect()
    }
}

/// `INSERT … VALUES … ON CONFLICT (keys) DO UPDATE SET` adding every sum, keeping the larger
/// maximum. Keys within one statement must be distinct (Postgres refuses to update a row
/// twice), which the ledger's per-batch aggregation guarantees.
fn upsert_statement(
    rows: &[(RollupKey, UsageTotals)],
) -> Result<sea_orm::sea_query::InsertStatement, StoreError> {
    let table = usage_rollup::Entity.into_iden();
    let excluded = |name: &str| Expr::col((Alias::new("excluded"), Alias::new(name)));
    let mut columns: Vec<&str> = KEY_COLUMNS.to_vec();
    columns.extend(SUMMED);
    columns.extend(MAX_COLUMNS);
    columns.extend(HISTOGRAM);
    columns.extend(TTFB_HISTOGRAM);

    let mut insert = Query::insert();
    insert
        .into_table(table.clone())
        .columns(columns.iter().map(|c| Alias::new(*c)));
    for (key, totals) in rows {
        let mut values: Vec<SimpleExpr> = vec![
            key.bucket_start.into(),
            key.client_key_id.into(),
            key.provider_key_id.into(),
            key.provider_id.into(),
            key.model.clone().into(),
        ];
        values.extend(totals.sums().map(SimpleExpr::from));
        values.extend(totals.maxima().map(SimpleExpr::from));
        values.extend(totals.histograms().map(SimpleExpr::from));
        insert
            .values(values)
            .map_err(|e| StoreError::Setup(format!("rollup upsert: {e}")))?;
    }
    let mut on_conflict = OnConflict::columns(KEY_COLUMNS.iter().map(|c| Alias::new(*c)));
    for name in SUMMED
        .iter()
        .chain(HISTOGRAM.iter())
        .chain(TTFB_HISTOGRAM.iter())
    {
        on_conflict.value(Alias::new(*name), col(name).add(excluded(name)));
    }
    for name in MAX_COLUMNS {
        on_conflict.value(
            Alias::new(name),
            Expr::case(excluded(name).gt(col(name)), excluded(name)).finally(col(name)),
        );
    }
    insert.on_conflict(on_conflict);
    Ok(insert)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    #[test]
    fn the_column_lists_match_the_entity() {
        use sea_orm::{IdenStatic, Iterable};
        let entity: Vec<String> = usage_rollup::Column::iter()
            .map(|c| c.as_str().to_string())
            .collect();
        let mut ours: Vec<&str> = KEY_COLUMNS.to_vec();
        ours.extend(&SUMMED[..10]);
        ours.push(MAX_COLUMN);
        ours.extend(HISTOGRAM);
        ours.extend(&SUMMED[10..]);
        ours.push(TTFB_MAX_COLUMN);
        ours.extend(TTFB_HISTOGRAM);
        assert_eq!(
            entity,
            ours.iter().map(|c| c.to_string()).collect::<Vec<_>>()
        );
        for (bound, name) in LATENCY_BOUNDS_MS.iter().zip(HISTOGRAM) {
            assert_eq!(name, format!("latency_le_{bound}"));
        }
        for (bound, name) in LATENCY_BOUNDS_MS.iter().zip(TTFB_HISTOGRAM) {
            assert_eq!(name, format!("ttfb_le_{bound}"));
        }
    }

    #[test]
    fn the_upsert_adds_on_both_backends() {
        let key = RollupKey {
            bucket_start: 3600,
            client_key_id: 1,
            provider_key_id: 0,
            provider_id: 2,
            model: String::new(),
        };
        let stmt = upsert_statement(&[(key, UsageTotals::default())]).unwrap();
        for sql in [
            stmt.to_string(SqliteQueryBuilder),
            stmt.to_string(PostgresQueryBuilder),
        ] {
            assert!(sql.contains(r#"ON CONFLICT ("bucket_start", "client_key_id", "provider_key_id", "provider_id", "model") DO UPDATE SET"#), "{sql}");
            assert!(
                sql.contains(r#""requests" = "usage_rollups"."requests" + "excluded"."requests""#),
                "{sql}"
            );
        }
    }
}
