//! `tollgate-bench`: throughput, latency and peak RSS of Tollgate vs a bare Pingora
//! pass-through vs the mock upstream called directly. See `tollgate_testkit::bench`.
#![allow(clippy::print_stdout)]

use std::io::Write as _;

use anyhow::bail;
use clap::Parser as _;
use tollgate_testkit::bench::{BenchArgs, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = BenchArgs::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Children are killed by their guards when `run` returns or is dropped (Ctrl-C).
    tokio::select! {
        result = run(&args, &mut out) => result.map(|_| ()),
        _ = tokio::signal::ctrl_c() => {
            let _ = writeln!(std::io::stdout(), "interrupted");
            bail!("interrupted")
        }
    }
}
