//! The live token of each OAuth provider key, in memory: what the proxy sends upstream, swapped
//! atomically by the refresher and read lock-free on every request.

use crate::config::Secret;
use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A token is treated as expired this long before the provider's stated expiry, so that a
/// request sent just before the deadline does not reach the provider after it.
pub const EXPIRY_SLACK: chrono::Duration = chrono::Duration::seconds(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Created, never authorized.
    Pending,
    Connected,
    /// The provider refused the refresh token (or there is none): reconnect needed.
    Invalid,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Pending => "pending",
            TokenStatus::Connected => "connected",
            TokenStatus::Invalid => "invalid",
        }
    }

    pub fn parse(s: &str) -> TokenStatus {
        match s {
            "connected" => TokenStatus::Connected,
            "invalid" => TokenStatus::Invalid,
            _ => TokenStatus::Pending,
        }
    }
}

/// One generation of a key's token state.
#[derive(Debug, Clone)]
pub struct TokenState {
    pub access: Option<Secret<String>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The database row's generation this state was read from; only ever grows.
    pub generation: i64,
    pub status: TokenStatus,
    pub reason: Option<String>,
}

impl TokenState {
    fn pending() -> Self {
        Self {
            access: None,
            expires_at: None,
            generation: -1,
            status: TokenStatus::Pending,
            reason: None,
        }
    }

    /// Expired, or about to (within [`EXPIRY_SLACK`]).
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now + EXPIRY_SLACK >= at)
    }

    /// Due for a refresh `margin` ahead of expiry.
    pub fn is_due(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        self.status == TokenStatus::Connected
            && self
                .expires_at
                .is_some_and(|at| now + margin.max(EXPIRY_SLACK) >= at)
    }
}

/// The token cell of one provider key.
#[derive(Debug)]
pub struct LiveToken {
    state: ArcSwap<TokenState>,
}

impl LiveToken {
    fn new() -> Self {
        Self {
            state: ArcSwap::from_pointee(TokenState::pending()),
        }
    }

    pub fn current(&self) -> Arc<TokenState> {
        self.state.load_full()
    }

    /// Connected with an access token: the scheduler may pick the key.
    pub fn usable(&self) -> bool {
        let s = self.state.load();
        s.status == TokenStatus::Connected && s.access.is_some()
    }

    /// The access token to send (empty when there is none).
    pub fn access_token(&self) -> Secret<String> {
        self.state
            .load()
            .access
            .clone()
            .unwrap_or_else(|| Secret::new(String::new()))
    }

    /// Replaces the state unless it is older than the one held.
    pub(crate) fn adopt(&self, next: TokenState) {
        self.state.rcu(|cur| {
            if next.generation >= cur.generation {
                Arc::new(next.clone())
            } else {
                Arc::clone(cur)
            }
        });
    }
}

/// Every OAuth provider key's cell, by provider key id; the snapshot hands them to its entries,
/// the refresher fills them.
#[derive(Debug, Default)]
pub struct TokenCells {
    map: RwLock<HashMap<i64, Arc<LiveToken>>>,
}

impl TokenCells {
    pub fn cell(&self, provider_key_id: i64) -> Arc<LiveToken> {
        if let Ok(map) = self.map.read() {
            if let Some(c) = map.get(&provider_key_id) {
                return c.clone();
            }
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.entry(provider_key_id)
            .or_insert_with(|| Arc::new(LiveToken::new()))
            .clone()
    }

    pub fn get(&self, provider_key_id: i64) -> Option<Arc<LiveToken>> {
        self.map.read().ok()?.get(&provider_key_id).cloned()
    }

    pub fn all(&self) -> Vec<(i64, Arc<LiveToken>)> {
        self.map
            .read()
            .map(|m| m.iter().map(|(k, v)| (*k, v.clone())).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn state(generation: i64, token: &str, expires_in: i64) -> TokenState {
        TokenState {
            access: Some(Secret::new(token.to_string())),
            expires_at: Some(Utc::now() + chrono::Duration::seconds(expires_in)),
            generation,
            status: TokenStatus::Connected,
            reason: None,
        }
    }

    #[test]
    fn an_older_generation_never_replaces_a_newer_one() {
        let cells = TokenCells::default();
        let cell = cells.cell(7);
        assert!(!cell.usable());
        assert_eq!(cell.access_token().expose(), "");
        cell.adopt(state(2, "new", 60));
        cell.adopt(state(1, "old", 60));
        assert_eq!(cell.access_token().expose(), "new");
        assert!(cell.usable());
        assert!(Arc::ptr_eq(&cells.cell(7), &cell));
    }

    #[test]
    fn staleness_and_due_time() {
        let now = Utc::now();
        let s = state(1, "t", 30);
        assert!(!s.is_stale(now));
        assert!(s.is_stale(now + chrono::Duration::seconds(30)));
        assert!(!s.is_due(now, chrono::Duration::seconds(10)));
        assert!(s.is_due(now, chrono::Duration::seconds(31)));
        let mut invalid = s.clone();
        invalid.status = TokenStatus::Invalid;
        assert!(!invalid.is_due(now, chrono::Duration::seconds(31)));
    }
}
