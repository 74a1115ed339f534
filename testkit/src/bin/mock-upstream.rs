//! `mock-upstream`: runs the mock AI provider upstream standalone.
//!
//! `mock-upstream --listen 127.0.0.1:PORT [--fast] [--chunks N] [--event-delay-ms MS]`

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tollgate_testkit::{MockOptions, MockUpstream};

#[derive(Parser, Debug)]
#[command(
    name = "mock-upstream",
    about = "Mock OpenAI / Anthropic / Gemini upstream"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// No delay between streamed events.
    #[arg(long)]
    fast: bool,
    /// Delay between streamed events, milliseconds (ignored with --fast).
    #[arg(long, default_value_t = 5)]
    event_delay_ms: u64,
    /// Content deltas per completion.
    #[arg(long, default_value_t = 5)]
    chunks: usize,
    /// Keep every request in memory (off by default: the standalone mock has no reader).
    #[arg(long)]
    record: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let opts = MockOptions {
        event_delay: if args.fast {
            Duration::ZERO
        } else {
            Duration::from_millis(args.event_delay_ms)
        },
        gate_streams: false,
        completion_chunks: args.chunks,
    };
    let mock = MockUpstream::bind(args.listen, opts)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    mock.set_recording(args.record);
    writeln!(
        std::io::stdout(),
        "mock-upstream listening on {}",
        mock.base_url()
    )?;
    tokio::select! {
        () = mock.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
