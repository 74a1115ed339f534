//! External JWT issuers: tokens signed by a trusted identity provider select a client key by
//! one claim. Keys come from the issuer's JWKS (fetched with reqwest, cached, fetched again for
//! an unknown `kid`) or a static public key. Only asymmetric algorithms the issuer allows are
//! accepted, the key's family must match the token's `alg` (no HS256 with a public key, no
//! `none`), and `iss`, `aud`, `exp` and `nbf` are required and checked with the issuer's skew.

use super::OAuthError;
use crate::store::Store;
use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Algorithms an issuer may allow: asymmetric only.
pub const ALLOWED_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Parses an asymmetric algorithm name; HMAC and unknown names are refused.
pub fn parse_algorithm(name: &str) -> Option<Algorithm> {
    if !ALLOWED_ALGORITHMS.contains(&name) {
        return None;
    }
    Algorithm::from_str(name).ok()
}

/// Three dot-separated base64url segments whose header names an `alg`.
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .is_some_and(|v| v.get("alg").is_some())
}

struct KeyEntry {
    key: DecodingKey,
    /// The JWK's own `alg`, when it names one.
    alg: Option<Algorithm>,
}

#[derive(Default)]
struct FetchState {
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

struct Issuer {
    row: entity::jwt_issuer::Model,
    algorithms: Vec<Algorithm>,
    client_keys: HashMap<String, i64>,
    static_key: Option<DecodingKey>,
    keys: ArcSwap<HashMap<String, Arc<KeyEntry>>>,
    fetch: tokio::sync::Mutex<FetchState>,
}

pub struct JwtIssuers {
    store: Store,
    http: reqwest::Client,
    cache_for: Duration,
    refetch_min: Duration,
    issuers: ArcSwap<Vec<Arc<Issuer>>>,
}

/// The key family an algorithm needs.
pub fn family(alg: Algorithm) -> AlgorithmFamily {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => AlgorithmFamily::Hmac,
        Algorithm::ES256 | Algorithm::ES384 => AlgorithmFamily::Ec,
        Algorithm::EdDSA => AlgorithmFamily::Ed,
        _ => AlgorithmFamily::Rsa,
    }
}

/// A static public key in PEM for the given algorithm family.
pub fn static_key(pem: &str, alg: Algorithm) -> Option<DecodingKey> {
    match family(alg) {
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem.as_bytes()).ok(),
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem.as_bytes()).ok(),
        AlgorithmFamily::Ed => DecodingKey::from_ed_pem(pem.as_bytes()).ok(),
        _ => None,
    }
}

impl Issuer {
    fn from_row(row: entity::jwt_issuer::Model) -> Self {
        let algorithms: Vec<Algorithm> = serde_json::from_str::<Vec<String>>(&row.algorithms)
            .unwrap_or_default()
            .iter()
            .filter_map(|a| parse_algorithm(a))
            .collect();
        let client_keys = serde_json::from_str(&row.client_keys).unwrap_or_default();
        let static_key = row
            .public_key_pem
            .as_deref()
            .and_then(|pem| algorithms.first().and_then(|a| static_key(pem, *a)));
        Self {
            row,
            algorithms,
            client_keys,
            static_key,
            keys: ArcSwap::from_pointee(HashMap::new()),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        }
    }
}

impl JwtIssuers {
    pub fn new(
        store: Store,
        http: reqwest::Client,
        cache_for: Duration,
        refetch_min: Duration,
    ) -> Self {
        Self {
            store,
            http,
            cache_for,
            refetch_min,
            issuers: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// Reads the issuers; unchanged ones keep their cached keys.
    pub async fn sync(&self) -> Result<(), OAuthError> {
        let rows = self.store.list_jwt_issuers().await?;
        let old = self.issuers.load();
        let next: Vec<Arc<Issuer>> = rows
            .into_iter()
            .map(|row| {
                old.iter()
                    .find(|i| i.row == row)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Issuer::from_row(row)))
            })
            .collect();
        self.issuers.store(Arc::new(next));
        Ok(())
    }

    /// The client key a token selects, or `None` when it must be refused.
    pub async fn verify(&self, token: &str) -> Option<i64> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        // Which issuer: read (not trusted) from the token; everything is verified below.
        let unverified = jsonwebtoken::dangerous::insecure_decode::<Value>(token).ok()?;
        let iss = unverified.claims.get("iss")?.as_str()?;
        let issuers = self.issuers.load();
        let issuer = issuers
            .iter()
            .find(|i| i.row.enabled && i.row.issuer == iss)?;
        if !issuer.algorithms.contains(&header.alg) {
            return None;
        }
        let entry;
        let key = match &issuer.static_key {
            Some(k) => k,
            None => {
                entry = self.jwks_key(issuer, header.kid.as_deref()).await?;
                if entry.alg.is_some_and(|a| a != header.alg) {
                    return None;
                }
                &entry.key
            }
        };
        if key.family() != family(header.alg) {
            return None;
        }
        let mut v = Validation::new(header.alg);
        v.algorithms = vec![header.alg];
        v.leeway = u64::try_from(issuer.row.clock_skew_secs).unwrap_or(0);
        v.validate_nbf = true;
        v.validate_exp = true;
        v.set_issuer(&[issuer.row.issuer.as_str()]);
        v.set_audience(&[issuer.row.audience.as_str()]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Value>(token, key, &v).ok()?;
        let value = match data.claims.get(&issuer.row.client_key_claim)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        issuer.client_keys.get(&value).copied()
    }

    /// The key for `kid` (or the only key, when the token names none), fetching the JWKS
    /// when the cache is old or does not know the kid.
    async fn jwks_key(&self, issuer: &Issuer, kid: Option<&str>) -> Option<Arc<KeyEntry>> {
        let lookup = |map: &HashMap<String, Arc<KeyEntry>>| match kid {
            Some(k) => map.get(k).cloned(),
            None if map.len() == 1 => map.values().next().cloned(),
            None => None,
        };
        {
            let fresh = issuer
                .fetch
                .try_lock()
                .ok()
                .map(|f| f.fetched_at.is_some_and(|t| t.elapsed() < self.cache_for));
            if fresh != Some(false) {
                if let Some(found) = lookup(&issuer.keys.load()) {
                    return Some(found);
                }
            }
        }
        let url = issuer.row.jwks_url.as_deref()?;
        let mut fetch = issuer.fetch.lock().await;
        let stale = fetch
            .fetched_at
            .is_none_or(|t| t.elapsed() >= self.cache_for);
        if let Some(found) = lookup(&issuer.keys.load()) {
            if !stale {
                return Some(found);
            }
        }
        // At most one fetch per `refetch_min`, whatever the reason (an unreachable JWKS URL
        // is not hammered; the keys held keep working meanwhile).
        let may_fetch = fetch
            .attempted_at
            .is_none_or(|t| t.elapsed() >= self.refetch_min);
        if may_fetch {
            fetch.attempted_at = Some(Instant::now());
            match self.fetch_jwks(url).await {
                Ok(keys) => {
                    issuer.keys.store(Arc::new(keys));
                    fetch.fetched_at = Some(Instant::now());
                }
                Err(e) => tracing::warn!(issuer = issuer.row.id, "JWKS fetch failed: {e}"),
            }
        }
        lookup(&issuer.keys.load())
    }

    async fn fetch_jwks(&self, url: &str) -> Result<HashMap<String, Arc<KeyEntry>>, String> {
        let resp = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        let set: JwkSet = resp.json().await.map_err(|e| e.to_string())?;
        let mut out = HashMap::new();
        for jwk in &set.keys {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            if key.family() == AlgorithmFamily::Hmac {
                // A symmetric key in a JWKS is never trusted.
                continue;
            }
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| Algorithm::from_str(&a.to_string()).ok());
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            out.insert(kid, Arc::new(KeyEntry { key, alg }));
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn only_asymmetric_algorithms_are_accepted() {
        for good in ["RS256", "ES256", "EdDSA", "PS512"] {
            assert!(parse_algorithm(good).is_some(), "{good}");
        }
        for bad in ["HS256", "HS384", "HS512", "none", "None", "", "rs256"] {
            assert!(parse_algorithm(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn jwt_shape_is_recognised() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let t = format!("{}.{}.sig", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert!(looks_like_jwt(&t));
        assert!(!looks_like_jwt("tg-abcdef"));
        assert!(!looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt(&format!(
            "{}.x.y.z",
            b64(r#"{"alg":"RS256"}"#)
        )));
    }
}
