//! Usage rollups: per hour (UTC), client key, provider key, provider and model — request,
//! error, token, cost and latency-histogram totals that the stats API reads instead of
//! request_logs. Existing request_logs are rolled up once, here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageRollups {
    Table,
    BucketStart,
    ClientKeyId,
    ProviderKeyId,
    ProviderId,
    Model,
}

/// Latency histogram bucket upper bounds in ms; a last column counts what is slower.
const LATENCY_BOUNDS_MS: [i64; 15] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000,
];

/// Every summed column, in order (the histogram last).
fn metric_columns() -> Vec<String> {
    let mut cols: Vec<String> = [
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
        "latency_max_ms",
    ]
    .iter()
    .map(|s| String::from(*s))
    .collect();
    cols.extend(LATENCY_BOUNDS_MS.iter().map(|b| format!("latency_le_{b}")));
    cols.push("latency_gt_60000".to_string());
    cols
}

/// The SELECT that rolls up existing request_logs, in the column order of `metric_columns`.
fn backfill_sql(backend: DbBackend) -> String {
    let hour = match backend {
        DbBackend::Postgres => {
            "CAST(FLOOR(EXTRACT(EPOCH FROM l.created_at) / 3600) * 3600 AS BIGINT)".to_string()
        }
        _ => "(CAST(strftime('%s', l.created_at) AS INTEGER) / 3600) * 3600".to_string(),
    };
    let sum = |expr: &str| format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)");
    let mut selects = vec![
        "COUNT(*)".to_string(),
        sum("CASE WHEN l.status >= 400 OR l.error_kind IS NOT NULL THEN 1 ELSE 0 END"),
        sum("CASE WHEN l.cost_nanos IS NULL AND l.model IS NOT NULL \
             AND l.prompt_tokens + l.completion_tokens > 0 THEN 1 ELSE 0 END"),
        sum("l.prompt_tokens"),
        sum("l.completion_tokens"),
        sum("l.cache_write_tokens"),
        sum("l.cache_read_tokens"),
        // Anthropic reports cached input apart from the prompt; the others include it.
        sum(
            "l.prompt_tokens + l.completion_tokens + CASE WHEN p.api_format = 'anthropic' \
             THEN l.cache_write_tokens + l.cache_read_tokens ELSE 0 END",
        ),
        sum("l.cost_nanos"),
        sum("l.latency_ms"),
        "CAST(COALESCE(MAX(l.latency_ms), 0) AS BIGINT)".to_string(),
    ];
    let mut lower: Option<i64> = None;
    for bound in LATENCY_BOUNDS_MS {
        let cond = match lower {
            None => format!("l.latency_ms <= {bound}"),
            Some(lo) => format!("l.latency_ms > {lo} AND l.latency_ms <= {bound}"),
        };
        selects.push(sum(&format!("CASE WHEN {cond} THEN 1 ELSE 0 END")));
        lower = Some(bound);
    }
    selects.push(sum("CASE WHEN l.latency_ms > 60000 THEN 1 ELSE 0 END"));
    format!(
        "INSERT INTO usage_rollups (bucket_start, client_key_id, provider_key_id, provider_id, \
         model, {cols}) \
         SELECT {hour}, COALESCE(l.client_key_id, 0), COALESCE(l.provider_key_id, 0), \
         COALESCE(l.provider_id, 0), COALESCE(l.model, ''), {selects} \
         FROM request_logs l LEFT JOIN providers p ON p.id = l.provider_id \
         GROUP BY 1, 2, 3, 4, 5",
        cols = metric_columns().join(", "),
        selects = selects.join(", "),
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Missing ids are 0 and a missing model is "": NULLs would never conflict, so an
        // upsert would add a row per batch instead of adding to the existing one.
        let key = |col: UsageRollups| ColumnDef::new(col).big_integer().not_null().to_owned();
        let mut table = Table::create();
        table
            .table(UsageRollups::Table)
            .col(key(UsageRollups::BucketStart))
            .col(key(UsageRollups::ClientKeyId))
            .col(key(UsageRollups::ProviderKeyId))
            .col(key(UsageRollups::ProviderId))
            .col(ColumnDef::new(UsageRollups::Model).string().not_null())
            .primary_key(
                Index::create()
                    .col(UsageRollups::BucketStart)
                    .col(UsageRollups::ClientKeyId)
                    .col(UsageRollups::ProviderKeyId)
                    .col(UsageRollups::ProviderId)
                    .col(UsageRollups::Model),
            );
        for name in metric_columns() {
            table.col(
                ColumnDef::new(Alias::new(name))
                    .big_integer()
                    .not_null()
                    .default(0),
            );
        }
        manager.create_table(table.to_owned()).await?;

        for (name, col) in [
            ("ix_usage_rollups_client_key", UsageRollups::ClientKeyId),
            ("ix_usage_rollups_provider_key", UsageRollups::ProviderKeyId),
            ("ix_usage_rollups_model", UsageRollups::Model),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(UsageRollups::Table)
                        .col(col)
                        .col(UsageRollups::BucketStart)
                        .to_owned(),
                )
                .await?;
        }

        let db = manager.get_connection();
        db.execute_unprepared(&backfill_sql(db.get_database_backend()))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UsageRollups::Table).to_owned())
            .await
    }
}
