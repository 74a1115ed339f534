//! Asynchronous DNS with a small TTL cache, so no lookup ever blocks a proxy thread.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Resolver {
    cache: Mutex<HashMap<(String, u16), (SocketAddr, Instant)>>,
}

impl Resolver {
    pub async fn resolve(&self, host: &str, port: u16) -> Option<SocketAddr> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some(SocketAddr::new(ip, port));
        }
        let key = (host.to_string(), port);
        if let Ok(cache) = self.cache.lock() {
            if let Some((addr, at)) = cache.get(&key) {
                if at.elapsed() < TTL {
                    return Some(*addr);
                }
            }
        }
        let addr = tokio::net::lookup_host((host, port)).await.ok()?.next()?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (addr, Instant::now()));
        }
        Some(addr)
    }
}
