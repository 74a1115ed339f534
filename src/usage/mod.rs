//! Usage accounting: cost from token counts and prices, the ledger that records every request,
//! the hourly rollups it keeps, the stats read from them, and request-log retention.

pub mod estimate;
mod ledger;
mod retention;
pub mod rollup;
pub mod stats;

pub use ledger::{AttemptRecord, Ledger, LedgerWriter, LogRecord, UsageSource};
pub use retention::Retention;

use crate::providers::Usage;
use crate::snapshot::PriceEntry;

/// Cost in nano-units of the price's currency, exact to the nano (rounded half up):
/// Σ tokens × price-per-million / 1,000,000, with input tokens already counted as cache reads
/// billed at the cache-read price only.
pub fn cost_nanos(usage: &Usage, price: &PriceEntry) -> i64 {
    let parts: [(u64, i64); 4] = [
        (usage.uncached_prompt_tokens(), price.input_nanos_per_mtok),
        (usage.completion_tokens, price.output_nanos_per_mtok),
        (usage.cache_write_tokens, price.cache_write_nanos_per_mtok),
        (usage.cache_read_tokens, price.cache_read_nanos_per_mtok),
    ];
    let total: i128 = parts
        .iter()
        .map(|(tokens, per_m)| i128::from(*tokens) * i128::from(*per_m))
        .sum();
    let rounded = (total + 500_000) / 1_000_000;
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// Formats nano-units as a decimal string with nine places trimmed ("0.00125").
pub fn format_nanos(nanos: i64) -> String {
    rust_decimal::Decimal::new(nanos, 9).normalize().to_string()
}

/// Parses a decimal amount ("2.50") into nano-units; more than nine decimal places is refused.
pub fn parse_nanos(text: &str) -> Option<i64> {
    let d: rust_decimal::Decimal = text.trim().parse().ok()?;
    if d.is_sign_negative() || d.scale() > 9 {
        return None;
    }
    let scaled = d.checked_mul(rust_decimal::Decimal::new(1_000_000_000, 0))?;
    if !scaled.fract().is_zero() {
        return None;
    }
    i64::try_from(scaled).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn price(i: &str, o: &str, cw: &str, cr: &str) -> PriceEntry {
        PriceEntry {
            effective_from: chrono::Utc::now(),
            input_nanos_per_mtok: parse_nanos(i).unwrap(),
            output_nanos_per_mtok: parse_nanos(o).unwrap(),
            cache_write_nanos_per_mtok: parse_nanos(cw).unwrap(),
            cache_read_nanos_per_mtok: parse_nanos(cr).unwrap(),
            currency: "USD".into(),
        }
    }

    #[test]
    fn openai_style_cached_tokens_are_billed_once() {
        // 1000 prompt of which 400 cached, 500 completion at $2.50 / $10 / - / $1.25 per Mtok
        let u = Usage {
            prompt_tokens: 1000,
            completion_tokens: 500,
            cache_write_tokens: 0,
            cache_read_tokens: 400,
            prompt_includes_cache: true,
        };
        // 600*2.5 + 500*10 + 400*1.25 = 1500 + 5000 + 500 = 7000 per M = $0.007
        assert_eq!(cost_nanos(&u, &price("2.50", "10", "0", "1.25")), 7_000_000);
        assert_eq!(format_nanos(7_000_000), "0.007");
    }

    #[test]
    fn anthropic_style_cache_fields_are_separate() {
        let u = Usage {
            prompt_tokens: 100,
            completion_tokens: 50,
            cache_write_tokens: 11,
            cache_read_tokens: 13,
            prompt_includes_cache: false,
        };
        // 100*3 + 50*15 + 11*3.75 + 13*0.30 = 300 + 750 + 41.25 + 3.9 = 1095.15 per M
        assert_eq!(cost_nanos(&u, &price("3", "15", "3.75", "0.30")), 1_095_150);
    }

    #[test]
    fn rounding_is_half_up_to_the_nano() {
        let u = Usage {
            prompt_tokens: 1,
            prompt_includes_cache: false,
            ..Default::default()
        };
        assert_eq!(cost_nanos(&u, &price("0.0005", "0", "0", "0")), 1); // 0.5 nano -> 1
        assert_eq!(cost_nanos(&u, &price("0.0004", "0", "0", "0")), 0);
    }

    #[test]
    fn decimal_parsing_is_strict() {
        assert_eq!(parse_nanos("2.5"), Some(2_500_000_000));
        assert_eq!(parse_nanos("0.000000001"), Some(1));
        assert_eq!(parse_nanos("0.0000000001"), None);
        assert_eq!(parse_nanos("-1"), None);
        assert_eq!(parse_nanos("abc"), None);
    }
}
