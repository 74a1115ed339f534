//! Rollups from ledger batches: each batch is summed in memory per (hour, client key, provider
//! key, provider, model) before one upsert; and percentiles read back from the histogram.

use super::LogRecord;
use crate::store::{LATENCY_BOUNDS_MS, LATENCY_BUCKETS, RollupKey, UsageTotals};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

const HOUR: i64 = 3600;

/// Start of the UTC hour `at` falls in, seconds since the epoch.
pub fn hour_start(at: DateTime<Utc>) -> i64 {
    let t = at.timestamp();
    t - t.rem_euclid(HOUR)
}

/// The first hour start at or after `t` (seconds since the epoch).
pub fn hour_ceil(t: i64) -> i64 {
    let r = t.rem_euclid(HOUR);
    if r == 0 { t } else { t - r + HOUR }
}

/// The histogram bucket of a latency.
fn latency_bucket(ms: i64) -> usize {
    LATENCY_BOUNDS_MS
        .iter()
        .position(|bound| ms <= *bound)
        .unwrap_or(LATENCY_BUCKETS - 1)
}

fn key_of(r: &LogRecord) -> RollupKey {
    RollupKey {
        bucket_start: hour_start(r.created_at),
        client_key_id: r.client_key_id.unwrap_or(0),
        provider_key_id: r.provider_key_id.unwrap_or(0),
        provider_id: r.provider_id.unwrap_or(0),
        model: r.model.clone().unwrap_or_default(),
    }
}

/// What one request adds to its rollup row.
fn add(t: &mut UsageTotals, r: &LogRecord) {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    t.requests += 1;
    if r.status >= 400 || r.error_kind.is_some() {
        t.errors += 1;
    }
    // As `GET /api/model-prices/unpriced` counts them: usage for a named model, no price.
    if r.cost_nanos.is_none() && r.model.is_some() && r.prompt_tokens + r.completion_tokens > 0 {
        t.unpriced_requests += 1;
    }
    t.prompt_tokens += n(r.prompt_tokens);
    t.completion_tokens += n(r.completion_tokens);
    t.cache_write_tokens += n(r.cache_write_tokens);
    t.cache_read_tokens += n(r.cache_read_tokens);
    t.total_tokens += n(r.total_tokens());
    t.cost_nanos += r.cost_nanos.unwrap_or(0);
    let latency = r.latency_ms.max(0);
    t.latency_sum_ms += latency;
    t.latency_max_ms = t.latency_max_ms.max(latency);
    t.latency_histogram[latency_bucket(latency)] += 1;
    if let Some(ttfb) = r.ttfb_ms {
        let ttfb = ttfb.max(0);
        t.ttfb_count += 1;
        t.ttfb_sum_ms += ttfb;
        t.ttfb_max_ms = t.ttfb_max_ms.max(ttfb);
        t.ttfb_histogram[latency_bucket(ttfb)] += 1;
    }
}

/// One rollup increment per distinct key in the batch.
pub fn aggregate(records: &[LogRecord]) -> Vec<(RollupKey, UsageTotals)> {
    let mut rows: HashMap<RollupKey, UsageTotals> = HashMap::new();
    for r in records {
        add(rows.entry(key_of(r)).or_default(), r);
    }
    let mut rows: Vec<_> = rows.into_iter().collect();
    // A stable order: concurrent writers then lock rows in the same order.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// The latency at percentile `p` (0 < p <= 1) from the histogram, as an upper bound: the upper
/// edge of the bucket where the cumulative count first reaches `ceil(p × requests)`, capped
/// at the slowest request seen (which is also the answer in the open last bucket). None
/// without requests.
pub fn percentile_ms(t: &UsageTotals, p: f64) -> Option<i64> {
    histogram_percentile(&t.latency_histogram, t.latency_max_ms, p)
}

/// Likewise for the time to first byte, over the requests that reported one.
pub fn ttfb_percentile_ms(t: &UsageTotals, p: f64) -> Option<i64> {
    histogram_percentile(&t.ttfb_histogram, t.ttfb_max_ms, p)
}

fn histogram_percentile(histogram: &[i64; LATENCY_BUCKETS], max: i64, p: f64) -> Option<i64> {
    let total: i64 = histogram.iter().sum();
    if total <= 0 {
        return None;
    }
    let rank = ((p * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    for (i, count) in histogram.iter().enumerate() {
        seen += count;
        if seen >= rank {
            let edge = LATENCY_BOUNDS_MS.get(i).copied().unwrap_or(i64::MAX);
            return Some(edge.min(max));
        }
    }
    Some(max)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rec(at: DateTime<Utc>, key: Option<i64>, model: Option<&str>, latency: i64) -> LogRecord {
        LogRecord {
            created_at: at,
            client_key_id: key,
            model: model.map(str::to_string),
            status: 200,
            latency_ms: latency,
            ..Default::default()
        }
    }

    #[test]
    fn hours_floor_and_ceil() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 10, 59, 59).unwrap();
        let h = Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(hour_start(at), h);
        assert_eq!(hour_ceil(h), h);
        assert_eq!(hour_ceil(h + 1), h + 3600);
    }

    #[test]
    fn a_batch_is_summed_per_hour_key_and_model() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 5, 0).unwrap();
        let t1 = Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap();
        let mut failed = rec(t0, Some(1), Some("m"), 3);
        failed.status = 502;
        let mut cut = rec(t0, Some(1), Some("m"), 70_000);
        cut.error_kind = Some("upstream_cut".into());
        cut.prompt_tokens = 10;
        cut.completion_tokens = 5;
        let mut priced = rec(t0, Some(1), Some("m"), 1);
        priced.ttfb_ms = Some(40);
        cut.ttfb_ms = Some(700);
        priced.prompt_tokens = 100;
        priced.cache_read_tokens = 7;
        priced.cost_nanos = Some(42);
        let rows = aggregate(&[
            priced,
            failed,
            cut,
            rec(t1, Some(1), Some("m"), 1),
            rec(t0, None, None, 1),
        ]);
        assert_eq!(rows.len(), 3);
        let (k, t) = &rows[1];
        assert_eq!((k.client_key_id, k.model.as_str()), (1, "m"));
        assert_eq!((t.requests, t.errors, t.unpriced_requests), (3, 2, 1));
        assert_eq!((t.prompt_tokens, t.cache_read_tokens), (110, 7));
        assert_eq!(t.total_tokens, 110 + 7 + 5);
        assert_eq!(t.cost_nanos, 42);
        assert_eq!((t.latency_sum_ms, t.latency_max_ms), (70_004, 70_000));
        assert_eq!(t.latency_histogram[0], 1); // <= 1 ms
        assert_eq!(t.latency_histogram[2], 1); // (2, 5] ms
        assert_eq!(t.latency_histogram[LATENCY_BUCKETS - 1], 1);
        // Only the requests that reported a first byte count for TTFB.
        assert_eq!((t.ttfb_count, t.ttfb_sum_ms, t.ttfb_max_ms), (2, 740, 700));
        assert_eq!(t.ttfb_histogram[5], 1); // (20, 50] ms
        assert_eq!(t.ttfb_histogram[9], 1); // (500, 1000] ms
        assert_eq!(ttfb_percentile_ms(t, 0.5), Some(50));
        assert_eq!(ttfb_percentile_ms(t, 0.95), Some(700));
        // No key and no model: stored as 0 and "".
        let (k, _) = &rows[0];
        assert_eq!((k.client_key_id, k.model.as_str()), (0, ""));
        assert_eq!(rows[2].0.bucket_start, rows[1].0.bucket_start + 3600);
    }

    #[test]
    fn percentiles_are_bucket_upper_bounds() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        // 90 fast (3 ms -> bucket (2, 5]), 10 slow (150 ms -> bucket (100, 200]).
        let mut records: Vec<_> = (0..90).map(|_| rec(t0, Some(1), None, 3)).collect();
        records.extend((0..10).map(|_| rec(t0, Some(1), None, 150)));
        let (_, t) = aggregate(&records).remove(0);
        assert_eq!(percentile_ms(&t, 0.5), Some(5));
        assert_eq!(percentile_ms(&t, 0.9), Some(5));
        assert_eq!(percentile_ms(&t, 0.95), Some(150)); // 200, capped at the max seen
        assert_eq!(percentile_ms(&UsageTotals::default(), 0.5), None);
        let (_, slow) = aggregate(&[rec(t0, None, None, 90_000)]).remove(0);
        assert_eq!(percentile_ms(&slow, 0.5), Some(90_000));
    }
}
