//! Chooses which provider credential of a client key's pool serves a request: round-robin,
//! smooth weighted round-robin, or health-best; only keys that are enabled and healthy (or due
//! a retry) are candidates. Reads in-memory state only.

use crate::health::{HealthRegistry, KeyHealth, now_ms};
use crate::limits::ProviderCaps;
use crate::snapshot::{ClientKeyEntry, ProviderKeyEntry, Snapshot};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    RoundRobin,
    Weighted,
    HealthBest,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [
        Strategy::RoundRobin,
        Strategy::Weighted,
        Strategy::HealthBest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::RoundRobin => "round_robin",
            Strategy::Weighted => "weighted",
            Strategy::HealthBest => "health_best",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A chosen key and its health handle.
pub struct Pick {
    pub key: Arc<ProviderKeyEntry>,
    pub health: Arc<KeyHealth>,
}

pub struct Scheduler {
    health: Arc<HealthRegistry>,
    caps: Arc<ProviderCaps>,
}

impl Scheduler {
    pub fn new(health: Arc<HealthRegistry>, caps: Arc<ProviderCaps>) -> Self {
        Self { health, caps }
    }

    fn candidates(
        &self,
        snapshot: &Snapshot,
        client: &ClientKeyEntry,
        provider_id: i64,
        exclude: &[i64],
        now: u64,
    ) -> Vec<(Arc<ProviderKeyEntry>, Arc<KeyHealth>)> {
        client
            .pool
            .iter()
            .filter(|id| !exclude.contains(id))
            .filter_map(|id| snapshot.provider_key(*id))
            .filter(|k| k.usable() && k.provider_id == provider_id && k.weight > 0)
            .filter(|k| self.caps.has_room(k.id, k.rpm, k.tpm, now))
            .map(|k| (k.clone(), self.health.get(k.id)))
            .filter(|(_, h)| h.is_available(now))
            .collect()
    }

    /// Chooses one of the client key's pooled keys of `provider_id`; `tokens` is the request's
    /// estimate, counted against the key's token cap.
    pub fn pick(
        &self,
        snapshot: &Snapshot,
        client: &ClientKeyEntry,
        provider_id: i64,
        exclude: &[i64],
        tokens: u64,
    ) -> Option<Pick> {
        let now = now_ms();
        let mut candidates = self.candidates(snapshot, client, provider_id, exclude, now);
        let strategy = Strategy::parse(&client.strategy).unwrap_or(Strategy::RoundRobin);
        while !candidates.is_empty() {
            let idx = match strategy {
                Strategy::RoundRobin => round_robin(
                    candidates.len(),
                    client.cursor.fetch_add(1, Ordering::Relaxed),
                ),
                Strategy::Weighted => {
                    let weights: Vec<(i64, i64)> = candidates
                        .iter()
                        .map(|(k, _)| (k.id, i64::from(k.weight)))
                        .collect();
                    let mut state = client.swrr.lock().unwrap_or_else(|e| e.into_inner());
                    smooth_weighted(&weights, &mut state)
                }
                Strategy::HealthBest => {
                    let scores: Vec<u64> = candidates.iter().map(|(_, h)| h.score()).collect();
                    best(&scores, client.cursor.fetch_add(1, Ordering::Relaxed))
                }
            };
            let (key, health) = candidates.swap_remove(idx);
            // Claims the half-open trial slot of a key whose circuit is due a retry, and a slot
            // under the key's request and token caps.
            if self.caps.try_take(key.id, key.rpm, key.tpm, tokens, now) && health.try_admit(now) {
                return Some(Pick { key, health });
            }
        }
        None
    }
}

/// The `cursor`-th candidate in turn.
pub fn round_robin(n: usize, cursor: u64) -> usize {
    (cursor % n as u64) as usize
}

/// Smooth weighted round-robin (as in nginx): every candidate gains its weight, the richest is
/// chosen and pays the total. Any N consecutive picks, N a multiple of the total weight, give
/// each key exactly its share; every prefix is within one pick of it, any other window within
/// two. `state` keeps each key's running credit between calls.
pub fn smooth_weighted(weights: &[(i64, i64)], state: &mut HashMap<i64, i64>) -> usize {
    let total: i64 = weights.iter().map(|(_, w)| *w).sum();
    let mut best_idx = 0;
    let mut best_credit = i64::MIN;
    for (i, (id, w)) in weights.iter().enumerate() {
        let credit = state.entry(*id).or_insert(0);
        *credit += w;
        if *credit > best_credit {
            best_credit = *credit;
            best_idx = i;
        }
    }
    if let Some(credit) = weights.get(best_idx).and_then(|(id, _)| state.get_mut(id)) {
        *credit -= total;
    }
    best_idx
}

/// The lowest score; equal scores take turns through `cursor`.
pub fn best(scores: &[u64], cursor: u64) -> usize {
    let min = scores.iter().copied().min().unwrap_or(0);
    let tied: Vec<usize> = scores
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == min)
        .map(|(i, _)| i)
        .collect();
    tied.get(round_robin(tied.len().max(1), cursor))
        .copied()
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const DRAWS: usize = 10_000;

    #[test]
    fn round_robin_is_even_and_in_order() {
        let mut counts = [0usize; 3];
        for c in 0..DRAWS as u64 {
            let i = round_robin(3, c);
            assert_eq!(i, (c % 3) as usize);
            counts[i] += 1;
        }
        assert!(
            counts.iter().all(|c| c.abs_diff(DRAWS / 3) <= 1),
            "{counts:?}"
        );
    }

    #[test]
    fn smooth_weighted_tracks_weights_within_one_pick() {
        for weights in [
            vec![5i64, 1, 1],
            vec![1, 2, 7],
            vec![3, 3, 3, 1],
            vec![100, 1],
            vec![7, 5, 3, 1],
        ] {
            let keyed: Vec<(i64, i64)> = weights
                .iter()
                .enumerate()
                .map(|(i, w)| (i as i64, *w))
                .collect();
            let total: i64 = weights.iter().sum();
            let mut state = HashMap::new();
            let picks: Vec<usize> = (0..DRAWS)
                .map(|_| smooth_weighted(&keyed, &mut state))
                .collect();
            let deviation = |window: &[usize]| -> f64 {
                let mut counts = vec![0f64; weights.len()];
                for &p in window {
                    counts[p] += 1.0;
                }
                let len = window.len() as f64;
                weights
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (counts[i] - len * *w as f64 / total as f64).abs())
                    .fold(0.0, f64::max)
            };
            // Any window of N = k × (total weight) selections, starting anywhere: within one pick
            // (in fact exact).
            for k in 1..=3usize {
                let n = k * total as usize;
                for start in 0..DRAWS - n {
                    let d = deviation(&picks[start..start + n]);
                    assert!(
                        d <= 1.0,
                        "weights {weights:?}: window {start}+{n} off by {d}"
                    );
                }
            }
            // Every prefix: within one pick.
            for n in 1..=DRAWS {
                assert!(
                    deviation(&picks[..n]) < 1.0 + 1e-9,
                    "weights {weights:?}: prefix {n}"
                );
            }
            // Any window of any length: within two picks.
            for start in 0..total as usize * 2 {
                for len in 1..500 {
                    assert!(
                        deviation(&picks[start..start + len]) < 2.0,
                        "weights {weights:?}: {start}+{len}"
                    );
                }
            }
        }
    }

    #[test]
    fn best_always_takes_the_lowest_score_and_rotates_ties() {
        let mut counts = [0usize; 4];
        for c in 0..DRAWS as u64 {
            counts[best(&[300, 100, 200, 100], c)] += 1;
        }
        assert_eq!(counts[0] + counts[2], 0);
        assert!(counts[1].abs_diff(counts[3]) <= 1, "{counts:?}");
        let mut counts = [0usize; 3];
        for c in 0..DRAWS as u64 {
            counts[best(&[7, 7, 7], c)] += 1;
        }
        assert!(
            counts.iter().all(|c| c.abs_diff(DRAWS / 3) <= 1),
            "{counts:?}"
        );
    }
}
