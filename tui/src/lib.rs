//! Tollgate's terminal client (`tollgate tui`): signs in to the management API with an Ed25519
//! key by challenge-response and shows the overview, credentials, client keys, the live log and
//! the audit trail; `tollgate tui keygen` makes the key pair.

pub mod api;
pub mod app;
pub mod keys;
pub mod perms;
pub mod run;
pub mod theme;
pub mod ui;

use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// `tollgate tui …`: the arguments, flattened into the main binary's `tui` subcommand.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    next_help_heading = "Terminal client"
)]
pub struct TuiArgs {
    #[command(subcommand)]
    pub command: Option<TuiCommand>,
    /// Base URL of the management API (the console's address).
    #[arg(long, env = "TOLLGATE_URL", default_value = "http://127.0.0.1:9090")]
    pub url: String,
    /// The user to sign in as; the key must be registered for this user.
    #[arg(long, env = "TOLLGATE_USER")]
    pub user: Option<String>,
    /// OpenSSH Ed25519 private key [default: ~/.config/tollgate/id_ed25519, else ~/.ssh/id_ed25519].
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Read the key's passphrase from this environment variable instead of asking.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TuiCommand {
    /// Write a new Ed25519 key pair in OpenSSH format and print the public key to register.
    Keygen(KeygenArgs),
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Key")]
pub struct KeygenArgs {
    /// Private key path (the public key goes to PATH.pub) [default: ~/.config/tollgate/id_ed25519].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Comment at the end of the public key; the API uses it as the key's name.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Encrypt the private key with the passphrase in this environment variable.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "tollgate tui: {message}");
    ExitCode::FAILURE
}

/// Runs `tollgate tui …`.
pub fn main(args: TuiArgs) -> ExitCode {
    match args.command {
        Some(TuiCommand::Keygen(k)) => keygen(k),
        None => interactive(args),
    }
}

fn default_comment() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "tollgate".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        user
    } else {
        format!("{user}@{host}")
    }
}

fn keygen(args: KeygenArgs) -> ExitCode {
    let Some(path) = args.out.or_else(keys::default_keygen_path) else {
        return fail("no --out given and HOME is not set");
    };
    let passphrase = match &args.passphrase_env {
        Some(var) => match std::env::var(var) {
            Ok(p) if !p.is_empty() => Some(p),
            _ => return fail(format!("the environment variable {var} is not set")),
        },
        None => None,
    };
    let comment = args.comment.unwrap_or_else(default_comment);
    match keys::generate(&path, &comment, passphrase.as_deref(), args.force) {
        Ok(line) => {
            let _ = writeln!(std::io::stdout(), "{line}");
            let _ = writeln!(
                std::io::stderr(),
                "Private key: {} (mode 0600)\nPublic key:  {}\nRegister the public key for your user: the console's account page, or\n  POST /api/auth/public-keys {{\"public_key\": \"<the line above>\"}}",
                path.display(),
                keys::pub_path(&path).display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn find_key(given: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return Ok(path);
    }
    let candidates = keys::default_paths();
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .ok_or_else(|| {
            let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            format!(
                "no key found (looked for {}); make one with `tollgate tui keygen` or pass --key",
                if tried.is_empty() {
                    "nothing: HOME is not set".into()
                } else {
                    tried.join(" and ")
                }
            )
        })
}

fn interactive(args: TuiArgs) -> ExitCode {
    let Some(user) = args.user.filter(|u| !u.trim().is_empty()) else {
        return fail("--user is required (or set TOLLGATE_USER)");
    };
    let path = match find_key(args.key) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let passphrase = match args.passphrase_env {
        Some(var) => keys::Passphrase::Env(var),
        None => keys::Passphrase::Prompt,
    };
    // Before the screen switches to the TUI, so a passphrase prompt reads like one.
    let key = match keys::load(&path, &passphrase) {
        Ok(k) => k,
        Err(e) => return fail(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start: {e}")),
    };
    let client = match api::Client::new(&args.url) {
        Ok(c) => Arc::new(c),
        Err(e) => return fail(e),
    };
    let label = format!("{} ({})", path.display(), key.fingerprint());
    let app = app::App::new(client.base_url(), &user, &label);
    let theme = theme::Theme::detect();
    let outcome = runtime.block_on(run::run(client, Arc::new(key), user, app, theme));
    match outcome {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(Ok(()))) => {
            let _ = writeln!(std::io::stderr(), "Signed out.");
            ExitCode::SUCCESS
        }
        Ok(Some(Err(e))) => {
            let _ = writeln!(std::io::stderr(), "Sign-out failed: {e}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("terminal: {e}")),
    }
}
