//! The `tollgate` binary: parse CLI → load config → init telemetry → run.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tollgate::config::{CliOverrides, Config, LogFormat};

#[derive(Parser)]
#[command(name = "tollgate", version, about = "Self-hosted AI API gateway")]
struct Cli {
    /// TOML file layered over config/default.toml (and under TOLLGATE__* variables and flags).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// proxy.listen
    #[arg(long, global = true)]
    proxy_listen: Option<String>,
    /// admin.listen
    #[arg(long, global = true)]
    admin_listen: Option<String>,
    /// database.url
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// redis.url
    #[arg(long, global = true)]
    redis_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy (:8080) and the management API (:9090). The default.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Validate the configuration and exit.
    CheckConfig,
    /// The terminal client: sign in to a Tollgate with an Ed25519 key (`tui keygen` makes one).
    Tui(tollgate_tui::TuiArgs),
}

fn init_telemetry(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::new(&config.log.level);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "tollgate: {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Tui(args)) = cli.command {
        // A client of some Tollgate's API: it needs none of this instance's configuration.
        return tollgate_tui::main(args);
    }
    let overrides = CliOverrides {
        proxy_listen: cli.proxy_listen,
        admin_listen: cli.admin_listen,
        database_url: cli.database_url,
        redis_url: cli.redis_url,
    };
    let config = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    // Model redirects are read with the routing rules (the config module stays a leaf).
    if let Err(e) = tollgate::routing::redirects_from_config(&config.redirect) {
        return fail(format!("invalid configuration: {e}"));
    }
    init_telemetry(&config);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => tollgate::server::run(config),
        Command::CheckConfig | Command::Tui(_) => Ok(()),
        Command::Migrate => tollgate::server::process_runtime().and_then(|rt| {
            rt.block_on(async {
                let store = tollgate::server::connect_store(&config).await?;
                tracing::info!("migrations applied");
                store.close().await;
                Ok(())
            })
        }),
    };
    match result {
        Ok(()) => {
            // Pingora's threads may still be in their grace sleep; everything is flushed.
            std::process::exit(0)
        }
        Err(e) => fail(format!("{e:#}")),
    }
}
