//! Time to first byte in the usage rollups: a count of requests that reported one, their sum,
//! maximum and a histogram with the latency histogram's bounds, so the dashboard can chart TTFB
//! percentiles over time from the rollups. Hours rolled up before this migration have none.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageRollups {
    Table,
}

/// The latency histogram's bounds (ms), reused for TTFB.
const BOUNDS_MS: [i64; 15] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000,
];

fn columns() -> Vec<String> {
    let mut cols: Vec<String> = ["ttfb_count", "ttfb_sum_ms", "ttfb_max_ms"]
        .iter()
        .map(|s| String::from(*s))
        .collect();
    cols.extend(BOUNDS_MS.iter().map(|b| format!("ttfb_le_{b}")));
    cols.push("ttfb_gt_60000".to_string());
    cols
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for name in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(UsageRollups::Table)
                        .add_column(
                            ColumnDef::new(Alias::new(name))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(UsageRollups::Table)
                        .drop_column(Alias::new(name))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
