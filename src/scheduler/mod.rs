//! Chooses which provider credential of a client key's pool serves a request.

use crate::snapshot::{ClientKeyEntry, ProviderKeyEntry, Snapshot};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Round-robin over the pool's usable keys: present, enabled, and of the client key's provider.
pub fn pick(snapshot: &Snapshot, client: &ClientKeyEntry) -> Option<Arc<ProviderKeyEntry>> {
    let usable: Vec<&Arc<ProviderKeyEntry>> = client
        .pool
        .iter()
        .filter_map(|id| snapshot.provider_key(*id))
        .filter(|k| k.enabled && k.provider_id == client.provider_id)
        .collect();
    if usable.is_empty() {
        return None;
    }
    let n = client.cursor.fetch_add(1, Ordering::Relaxed);
    usable
        .get((n % usable.len() as u64) as usize)
        .map(|k| Arc::clone(k))
}
