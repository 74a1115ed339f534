//! The `tollgate` binary: parse CLI → load config → init telemetry → run the command.

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use tollgate::config::{CliOverrides, Config};

/// Printed under `--help`; the full list is in docs/configuration.md.
const ENVIRONMENT: &str = "\
Configuration layers, later wins: config/default.toml (built in) < --config FILE <
TOLLGATE__SECTION__KEY environment variables (e.g. TOLLGATE__PROXY__LISTEN,
TOLLGATE__DATABASE__URL, TOLLGATE__SECURITY__MASTER_KEY, TOLLGATE__LOG__FORMAT=json) < the
flags above. Every key and its variable: docs/configuration.md.";

#[derive(Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Self-hosted AI API gateway: proxy on proxy.listen (:8080), management API, console and /metrics on admin.listen (:9090)",
    after_help = ENVIRONMENT
)]
struct Cli {
    /// TOML file layered over config/default.toml (and under TOLLGATE__* variables and flags).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Sets proxy.listen.
    #[arg(long, global = true, value_name = "ADDR")]
    proxy_listen: Option<String>,
    /// Sets admin.listen.
    #[arg(long, global = true, value_name = "ADDR")]
    admin_listen: Option<String>,
    /// Sets database.url.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Sets redis.url.
    #[arg(long, global = true, value_name = "URL")]
    redis_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy and the management API until SIGTERM/SIGINT (the default).
    Serve,
    /// Apply pending database migrations (`up`, the default) or list them (`status`).
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Validate the configuration and print it.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The same as `config check`.
    #[command(hide = true)]
    CheckConfig,
    /// The terminal client: sign in to a Tollgate with an Ed25519 key (`tui keygen` makes one).
    Tui(tollgate_tui::TuiArgs),
    /// Manage management-API users.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage client keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the version.
    Version,
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply every pending migration, then exit.
    Up,
    /// List every migration with `applied` or `pending`; applies nothing.
    Status,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate every layer and print the effective configuration as TOML, secrets as
    /// `[redacted]`. Connects to nothing; exit status 1 on an invalid value.
    Check,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Give a user a new password (printed once, or read from stdin). The user must change it
    /// at the next sign-in; their sessions end.
    ResetPassword {
        /// The username.
        user: String,
        /// Read the new password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Issue a client key and print it (shown this once; only its hash is stored).
    Create {
        /// The key's name.
        #[arg(long)]
        name: String,
        /// The provider the key reaches: its id or name.
        #[arg(long)]
        provider: String,
        /// Provider-key ids of the pool, comma-separated; default: every key of the provider.
        #[arg(long, value_delimiter = ',', value_name = "ID,...")]
        pool: Vec<i64>,
    },
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "tollgate: {message}");
    ExitCode::FAILURE
}

fn print(text: impl std::fmt::Display) -> anyhow::Result<()> {
    writeln!(std::io::stdout(), "{text}")?;
    Ok(())
}

/// Runs a one-shot command on a runtime of its own.
fn once<F: std::future::Future<Output = anyhow::Result<()>>>(
    work: impl FnOnce() -> F,
) -> anyhow::Result<()> {
    tollgate::server::process_runtime()?.block_on(work())
}

/// Blocks of this size or more are mapped on their own (glibc's default, pinned).
const MMAP_THRESHOLD: usize = 128 * 1024;

fn main() -> ExitCode {
    // Large blocks (argon2's 19 MiB, big bodies) go back to the system when freed; see
    // tollgate-alloc-tune for why glibc would otherwise keep them.
    tollgate_alloc_tune::fix_mmap_threshold(MMAP_THRESHOLD);
    let cli = Cli::parse();
    if let Some(Command::Tui(args)) = cli.command {
        // A client of some Tollgate's API: it needs none of this instance's configuration.
        return tollgate_tui::main(args);
    }
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Version = command {
        let _ = print(format!("tollgate {}", env!("CARGO_PKG_VERSION")));
        return ExitCode::SUCCESS;
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
    let serving = matches!(command, Command::Serve);
    let telemetry = tollgate::telemetry::init(&config, serving);
    let result = match command {
        Command::Serve => tollgate::server::run(config),
        Command::Version | Command::Tui(_) => Ok(()),
        Command::Config(ConfigCommand::Check) | Command::CheckConfig => {
            tollgate::cli::effective_config(&config).and_then(print)
        }
        Command::Migrate { action } => match action.unwrap_or(MigrateAction::Up) {
            MigrateAction::Up => once(|| async {
                let store = tollgate::server::connect_store(&config).await?;
                tracing::info!("migrations applied");
                store.close().await;
                Ok(())
            }),
            MigrateAction::Status => once(|| async {
                for (name, applied) in tollgate::cli::migration_status(&config).await? {
                    print(format!(
                        "{} {name}",
                        if applied { "applied" } else { "pending" }
                    ))?;
                }
                Ok(())
            }),
        },
        Command::Admin(AdminCommand::ResetPassword {
            user,
            password_stdin,
        }) => once(|| async {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (tollgate::cli::generate_password(), true)
            };
            tollgate::cli::reset_password(&config, &user, password.clone()).await?;
            if generated {
                print(format!("new password for {user} (shown once): {password}"))?;
            } else {
                print(format!("password of {user} changed"))?;
            }
            Ok(())
        }),
        Command::Keys(KeysCommand::Create {
            name,
            provider,
            pool,
        }) => once(|| async {
            let k = tollgate::cli::create_client_key(&config, &name, &provider, &pool).await?;
            let pool: Vec<String> = k.pool.iter().map(i64::to_string).collect();
            print(format!(
                "client key {} created for provider {} over provider keys [{}]; the key (shown once):\n{}",
                k.id,
                k.provider,
                pool.join(","),
                k.key
            ))
        }),
    };
    drop(telemetry);
    match result {
        Ok(()) => {
            // Pingora's threads may still be in their grace sleep; everything is flushed.
            std::process::exit(0)
        }
        Err(e) => fail(format!("{e:#}")),
    }
}
