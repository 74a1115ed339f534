//! Prices and cost arithmetic: a model's price entry, cost from token counts in exact
//! nano-units, decimal amounts in and out, and which priced model an alias stands for. A leaf:
//! it depends on nothing of the crate but the providers' `Usage`.

use crate::providers::Usage;
use chrono::{DateTime, Utc};

/// One price of a model, in force from `effective_from`; per million tokens, in nano-units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    pub effective_from: DateTime<Utc>,
    pub input_nanos_per_mtok: i64,
    pub output_nanos_per_mtok: i64,
    pub cache_write_nanos_per_mtok: i64,
    pub cache_read_nanos_per_mtok: i64,
    pub currency: String,
}

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

/// The model an alias stands for, one step at a time: without a snapshot date, `-latest`, a
/// `-preview…` / `-exp…` tag or a three-digit version. `None` when the name is no alias.
pub fn alias_base(model: &str) -> Option<&str> {
    if let Some(base) = without_date(model) {
        return Some(base);
    }
    if let Some(base) = model.strip_suffix("-latest") {
        return Some(base).filter(|b| !b.is_empty());
    }
    for tag in ["-preview", "-exp"] {
        if let Some(at) = model.find(tag) {
            let rest = &model[at + tag.len()..];
            if (rest.is_empty() || rest.starts_with('-')) && at > 0 {
                return Some(&model[..at]);
            }
        }
    }
    let (base, tail) = model.rsplit_once('-')?;
    (tail.len() == 3 && tail.bytes().all(|b| b.is_ascii_digit()) && !base.is_empty())
        .then_some(base)
}

/// The name without a trailing snapshot date: `-YYYY-MM-DD` or `-YYYYMMDD`.
fn without_date(model: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if model.len() > 11 {
        let (base, tail) = model.split_at(model.len() - 11);
        let parts: Vec<&str> = tail.split('-').collect();
        if let ["", y, m, d] = parts.as_slice() {
            if y.len() == 4 && m.len() == 2 && d.len() == 2 && digits(y) && digits(m) && digits(d) {
                return Some(base);
            }
        }
    }
    let (base, tail) = model.rsplit_once('-')?;
    (tail.len() == 8 && digits(tail)).then_some(base)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::providers::Usage;

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
