//! The command line's one-shot commands (`config check`, `migrate status`, `admin
//! reset-password`, `keys create`): each opens what it needs, does one thing, and returns what
//! `main` prints.

use crate::accounts::{AccountError, Accounts};
use crate::auth::{JwtKeys, client_key_prefix, generate_client_key};
use crate::config::Config;
use crate::server;
use crate::store::{ClientKeyLimits, NewClientKey, Store};
use anyhow::{Context, anyhow, bail};
use rand::Rng;

/// The effective configuration as TOML, secrets shown as `[redacted]`.
pub fn effective_config(config: &Config) -> anyhow::Result<String> {
    toml::to_string(config).context("cannot print the configuration")
}

/// Each migration the binary knows and whether the database has it, without applying any.
pub async fn migration_status(config: &Config) -> anyhow::Result<Vec<(String, bool)>> {
    let store = server::open_store(config).await?;
    let status = store.migration_status().await;
    store.close().await;
    Ok(status?)
}

/// A random password of 24 letters and digits.
pub fn generate_password() -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

/// Sets `username`'s password; the user must change it at the next sign-in and every session
/// of theirs ends.
pub async fn reset_password(
    config: &Config,
    username: &str,
    password: String,
) -> anyhow::Result<()> {
    let store = server::connect_store(config).await?;
    let master = server::master_key(config)?;
    let jwt = JwtKeys::new(&master, config.admin.token_ttl_secs);
    let accounts = Accounts::new(store.clone(), master, jwt, &config.admin);
    let result = accounts.reset_password(username, password).await;
    store.close().await;
    match result {
        Ok(()) => Ok(()),
        Err(AccountError::NotFound) => Err(anyhow!("no user named `{username}`")),
        Err(e) => Err(anyhow!("{e}")),
    }
}

/// What `keys create` made.
pub struct CreatedKey {
    pub id: i64,
    pub key: String,
    pub provider: String,
    pub pool: Vec<i64>,
}

/// Issues a client key for `provider` (its id or name) over `pool` (every key of the provider
/// when empty). Instances pick it up with their next configuration poll.
pub async fn create_client_key(
    config: &Config,
    name: &str,
    provider: &str,
    pool: &[i64],
) -> anyhow::Result<CreatedKey> {
    let name = name.trim();
    if name.is_empty() || name.len() > 128 {
        bail!("--name must have 1 to 128 characters");
    }
    let store = server::connect_store(config).await?;
    let result = create_in(&store, config, name, provider, pool).await;
    store.close().await;
    result
}

async fn create_in(
    store: &Store,
    config: &Config,
    name: &str,
    provider: &str,
    pool: &[i64],
) -> anyhow::Result<CreatedKey> {
    let master = server::master_key(config)?;
    let providers = store.list_providers().await?;
    let found = providers
        .iter()
        .find(|p| provider.parse::<i64>().is_ok_and(|id| id == p.id) || p.name == provider)
        .ok_or_else(|| {
            anyhow!("--provider `{provider}` names no provider (give its id or name)")
        })?;
    let keys = store.list_provider_keys(Some(found.id)).await?;
    let mut ids: Vec<i64> = if pool.is_empty() {
        keys.iter().map(|k| k.id).collect()
    } else {
        pool.to_vec()
    };
    ids.sort_unstable();
    ids.dedup();
    if let Some(bad) = ids.iter().find(|id| !keys.iter().any(|k| k.id == **id)) {
        bail!(
            "--pool contains {bad}, which is not a key of provider `{}`",
            found.name
        );
    }
    let key = generate_client_key();
    let created = store
        .create_client_key(NewClientKey {
            name: name.to_string(),
            key_hash: master.hash_client_key(&key),
            key_prefix: client_key_prefix(&key),
            provider_ids: vec![found.id],
            owner_id: None,
            strategy: "round_robin".into(),
            max_retries: 2,
            enabled: true,
            provider_key_ids: ids.clone(),
            limits: ClientKeyLimits::default(),
        })
        .await?;
    Ok(CreatedKey {
        id: created.key.id,
        key,
        provider: found.name.clone(),
        pool: ids,
    })
}
