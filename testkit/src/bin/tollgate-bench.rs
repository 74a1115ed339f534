//! `tollgate-bench`: throughput, latency and peak RSS of Tollgate vs a bare Pingora
//! pass-through vs the mock upstream called directly. See `tollgate_testkit::bench`.
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use tollgate_testkit::bench::{BenchArgs, run};

#[tokio::main]
async fn main() -> ExitCode {
    let args = BenchArgs::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Children are killed by their guards when `run` returns or is dropped (Ctrl-C).
    let result = tokio::select! {
        result = run(&args, &mut out) => result.map(|_| ()),
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    drop(out);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "tollgate-bench: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
