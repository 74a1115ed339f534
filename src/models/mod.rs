//! Each provider's model list: fetched from the provider's own models endpoint with one of its
//! credentials (every page), stored (`provider_models`) and put in the snapshot, so that bare
//! model names find their providers and `GET /v1/models` lists what a key reaches. On a
//! schedule and on demand.

use crate::providers::{self, ApiFormat};
use crate::snapshot::{Catalog, ProviderEntry, Snapshot};
use crate::store::Store;
use crate::upstream::{self, UpstreamClient};
use pingora::http::RequestHeader;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Most pages read of one provider's list.
const MAX_PAGES: usize = 50;
/// Largest page body read.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("no such provider")]
    UnknownProvider,
    #[error("the provider has no usable credential")]
    NoCredential,
    #[error("{0}")]
    Upstream(String),
    #[error("the model list could not be stored: {0}")]
    Store(#[from] crate::store::StoreError),
}

pub struct ModelLists {
    client: UpstreamClient,
    store: Store,
    catalog: Arc<Catalog>,
    timeout: Duration,
}

impl ModelLists {
    pub fn new(store: Store, catalog: Arc<Catalog>, timeout: Duration) -> Self {
        Self {
            client: UpstreamClient::new(Duration::from_secs(30)),
            store,
            catalog,
            timeout,
        }
    }

    /// Fetches the provider's list now, stores it (a failure is stored as the last error, the
    /// last list kept) and refreshes the snapshot. Returns the model ids.
    pub async fn refresh(&self, provider_id: i64) -> Result<Vec<String>, FetchError> {
        let snapshot = self.catalog.snapshot();
        let provider = snapshot
            .provider(provider_id)
            .cloned()
            .ok_or(FetchError::UnknownProvider)?;
        let outcome =
            match tokio::time::timeout(self.timeout, self.fetch(&snapshot, &provider)).await {
                Ok(r) => r,
                Err(_) => Err(FetchError::Upstream(
                    "the provider did not answer in time".into(),
                )),
            };
        let stored = match &outcome {
            Ok(ids) => Ok(serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())),
            Err(e) => Err(e.to_string()),
        };
        self.store.save_provider_models(provider_id, stored).await?;
        if let Err(e) = self.catalog.refresh().await {
            tracing::error!("configuration snapshot refresh failed: {e}");
        }
        outcome
    }

    async fn fetch(
        &self,
        snapshot: &Snapshot,
        provider: &ProviderEntry,
    ) -> Result<Vec<String>, FetchError> {
        let key = snapshot
            .provider_keys()
            .filter(|k| k.provider_id == provider.id && k.usable() && k.weight > 0)
            .min_by_key(|k| k.id)
            .cloned()
            .ok_or(FetchError::NoCredential)?;
        let peer = self
            .client
            .peer(provider)
            .await
            .map_err(|e| FetchError::Upstream(e.kind().to_string()))?;
        let mut ids: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut path = format!("{}{}", provider.upstream.path_prefix, provider.models_path);
            if let Some(q) = providers::model_list_query(provider.format, cursor.as_deref()) {
                path.push(if path.contains('?') { '&' } else { '?' });
                path.push_str(&q);
            }
            let mut header = RequestHeader::build("GET", path.as_bytes(), Some(4))
                .map_err(|_| FetchError::Upstream("bad models path".into()))?;
            let bad = |_| FetchError::Upstream("bad request header".into());
            header
                .insert_header(http::header::HOST, provider.upstream.host_header.as_str())
                .map_err(bad)?;
            if provider.format == ApiFormat::Anthropic {
                header
                    .insert_header("anthropic-version", "2023-06-01")
                    .map_err(bad)?;
            }
            upstream::set_credential(&mut header, provider.auth, key.credential().expose())
                .map_err(bad)?;
            let mut session = self
                .client
                .send(&peer, &header, &bytes::Bytes::new())
                .await
                .map_err(|e| FetchError::Upstream(e.kind().to_string()))?
                .session;
            let status = session
                .response_header()
                .map(|h| h.status.as_u16())
                .ok_or_else(|| FetchError::Upstream("bad_response".into()))?;
            let (body, _) = upstream::read_bounded(&mut session, MAX_PAGE_BYTES).await;
            if !(200..300).contains(&status) {
                return Err(FetchError::Upstream(format!(
                    "the models endpoint answered {status}"
                )));
            }
            let page = providers::parse_model_list(provider.format, &body).ok_or_else(|| {
                FetchError::Upstream("the models endpoint's answer is not a model list".into())
            })?;
            ids.extend(page.ids);
            match page.next {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                _ => break,
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Refreshes every enabled provider's list at start and then every `every`.
    pub async fn run(
        self: Arc<Self>,
        every: Option<Duration>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let snapshot = self.catalog.snapshot();
            let mut ids: Vec<i64> = snapshot
                .provider_keys()
                .filter(|k| k.usable())
                .map(|k| k.provider_id)
                .filter(|id| snapshot.provider(*id).is_some_and(|p| p.enabled))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                if let Err(e) = self.refresh(id).await {
                    tracing::info!(provider = id, "model list not refreshed: {e}");
                }
                if *shutdown.borrow() {
                    return;
                }
            }
            let Some(every) = every else { return };
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
