//! Usage accounting: cost from token counts and prices, the ledger that records every request,
//! the hourly rollups it keeps, the stats read from them, and request-log retention.

pub mod estimate;
mod ledger;
mod retention;
pub mod rollup;
pub mod spill;
pub mod stats;

pub use ledger::{AttemptRecord, Ledger, LedgerWriter, LogRecord, UsageSource};
pub use retention::Retention;

pub use crate::pricing::{cost_nanos, format_nanos, parse_nanos};
