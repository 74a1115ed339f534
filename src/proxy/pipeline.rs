//! One request through the gateway: route, authenticate, read the body, pick a credential,
//! forward, and fill in the ledger record. Each step calls the service that owns it.

use super::RequestCtx;
use super::error::ProxyError;
use super::forward::{Exchange, Forwarder, Outcome};
use super::request;
use crate::health::Signal;
use crate::limits;
use crate::oauth::Resolution;
use crate::providers::{self, ApiFormat};
use crate::snapshot::{ClientKeyEntry, ProviderEntry, Snapshot};
use crate::state::AppState;
use crate::usage::{self, AttemptRecord};
use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use std::time::Instant;

pub async fn handle(
    state: &AppState,
    forwarder: &Forwarder,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> pingora::Result<bool> {
    let req = session.req_header();
    ctx.record.method = req.method.to_string();
    ctx.record.path = req.uri.path().to_string();
    let guessed = providers::guess_format(
        req.uri.path(),
        req.headers.contains_key("anthropic-version"),
    );
    let mut format = guessed;
    match run(state, forwarder, session, ctx, &mut format).await {
        Ok(()) => Ok(true),
        Err(err) => {
            ctx.record.status = err.status();
            ctx.record.error_kind = Some(err.kind().to_string());
            respond_error(session, &ctx.record.request_id, format, &err).await;
            Ok(true)
        }
    }
}

async fn run(
    state: &AppState,
    forwarder: &Forwarder,
    session: &mut Session,
    ctx: &mut RequestCtx,
    format: &mut ApiFormat,
) -> Result<(), ProxyError> {
    let snapshot = state.catalog.snapshot();
    let path = session.req_header().uri.path().to_string();
    if path == "/oauth/token" || path == "/oauth/revoke" {
        return oauth_endpoint(state, session, ctx, &path).await;
    }
    if !ApiFormat::ALL
        .iter()
        .any(|f| providers::classify(*f, &path).is_some())
    {
        return Err(ProxyError::NotFound);
    }

    // Who is calling.
    let presented = request::client_key(session.req_header()).ok_or(ProxyError::MissingKey)?;
    let client = match state.oauth.inbound.resolve(&presented).await {
        Resolution::NotOAuth => {
            snapshot.client_key_by_hash(&state.master.hash_client_key(&presented))
        }
        Resolution::ClientKey(id) => snapshot.client_key_by_id(id),
        Resolution::Refused => None,
    }
    .cloned()
    .ok_or(ProxyError::InvalidKey)?;
    ctx.record.client_key_id = Some(client.id);
    ctx.record.provider_id = Some(client.provider_id);
    let provider = snapshot
        .provider(client.provider_id)
        .cloned()
        .ok_or(ProxyError::ProviderUnavailable)?;
    *format = provider.format;
    if !client.enabled {
        return Err(ProxyError::KeyDisabled);
    }
    if client.misconfigured.is_some() {
        return Err(ProxyError::KeyMisconfigured);
    }
    if client
        .expires_at
        .is_some_and(|t| t <= ctx.record.created_at)
    {
        return Err(ProxyError::KeyExpired);
    }
    let endpoint = providers::classify(provider.format, &path).ok_or(ProxyError::NotFound)?;

    // What is asked.
    let body = read_body(session, state.config.proxy.max_body_bytes).await?;
    let facts = providers::inspect_request(provider.format, endpoint, &path, &body);
    ctx.record.model = facts.model.clone();
    ctx.record.stream = facts.stream;
    if let Some(patterns) = &client.allowed_models {
        let allowed = match &facts.model {
            Some(m) => limits::glob::allowed(patterns, m),
            // Listing models and the like name no model.
            None => !endpoint.has_usage(),
        };
        if !allowed {
            return Err(ProxyError::ModelNotAllowed {
                model: facts.model.clone(),
            });
        }
    }
    let injected = providers::inject_stream_usage(provider.format, endpoint, &body);
    let strip_injected_usage = injected.is_some();
    let body = injected.map(Bytes::from).unwrap_or(body);

    if !provider.enabled {
        return Err(ProxyError::ProviderUnavailable);
    }

    // Reserve the estimate against the key's limits; settle to real usage afterwards (a
    // reservation dropped early gives everything back).
    let price = facts
        .model
        .as_deref()
        .and_then(|m| snapshot.price_at(m, ctx.record.created_at));
    let estimate = if !endpoint.has_usage() {
        // Listing models and counting tokens use none.
        limits::Estimate::default()
    } else {
        limits::estimate(
            body.len(),
            facts.max_tokens,
            state.config.limits.default_max_tokens,
            price,
        )
    };
    let reservation = state
        .limits
        .reserve(client.id, &client.limits, estimate)
        .await?;
    let target = Target {
        snapshot: &snapshot,
        client: &client,
        provider: &provider,
        endpoint,
        strip_injected_usage,
    };
    let result = forward_with_failover(
        state,
        forwarder,
        session,
        ctx,
        &target,
        body,
        estimate.tokens,
    )
    .await;
    let (tokens, cost) = (
        ctx.record.total_tokens(),
        ctx.record.cost_nanos.unwrap_or(0),
    );
    reservation.settle(tokens, cost);
    result
}

/// Where a request goes, once it is admitted.
struct Target<'a> {
    snapshot: &'a Snapshot,
    client: &'a ClientKeyEntry,
    provider: &'a ProviderEntry,
    endpoint: providers::Endpoint,
    strip_injected_usage: bool,
}

/// Keys in the order the strategy gives, until one answers or the retries run out.
async fn forward_with_failover(
    state: &AppState,
    forwarder: &Forwarder,
    session: &mut Session,
    ctx: &mut RequestCtx,
    target: &Target<'_>,
    body: Bytes,
    est_tokens: u64,
) -> Result<(), ProxyError> {
    let Target {
        snapshot,
        client,
        provider,
        endpoint,
        strip_injected_usage,
    } = *target;
    let max_attempts = 1 + client.max_retries as usize;
    let mut tried: Vec<i64> = Vec::new();
    let mut last_error = None;
    while let Some(pick) = state.scheduler.pick(snapshot, client, &tried, est_tokens) {
        tried.push(pick.key.id);
        ctx.record.provider_key_id = Some(pick.key.id);
        let final_attempt =
            tried.len() >= max_attempts || !state.scheduler.has_candidate(snapshot, client, &tried);
        if pick.key.oauth.is_some() {
            state.oauth.provider.ensure_fresh(pick.key.id).await;
        }
        let header =
            request::upstream_header(session.req_header(), provider, &pick.key, body.len())
                .map_err(|_| ProxyError::BadBody)?;
        let _busy = pick.health.begin();
        let started = Instant::now();
        let mut outcome = Outcome::default();
        let result = forwarder
            .forward(
                session,
                Exchange {
                    provider,
                    header,
                    body: body.clone(),
                    format: provider.format,
                    endpoint,
                    strip_injected_usage,
                    final_attempt,
                    request_id: &ctx.record.request_id,
                },
                &mut outcome,
            )
            .await;
        match health_signal(&result, &outcome) {
            Some(signal) => pick.health.record(signal, &state.health.policy),
            None => pick.health.release_trial(),
        }
        ctx.record.attempts.push(AttemptRecord {
            provider_key_id: pick.key.id,
            status: outcome.status,
            error_kind: result
                .as_ref()
                .err()
                .map(|e| e.kind())
                .or(outcome.error_kind)
                .map(str::to_string),
            latency_ms: started.elapsed().as_millis() as u64,
        });
        match result {
            Err(e) if e.is_retryable() && !final_attempt => {
                tracing::debug!(request_id = %ctx.record.request_id, key = pick.key.id, "retrying on another key: {e}");
                last_error = Some(e);
                tokio::time::sleep(RETRY_BACKOFF * tried.len() as u32).await;
            }
            other => {
                record_outcome(ctx, snapshot, &outcome);
                return other;
            }
        }
    }
    Err(last_error.unwrap_or(ProxyError::NoCredential))
}

/// Pause before trying the next key, times the number of keys tried.
const RETRY_BACKOFF: std::time::Duration = std::time::Duration::from_millis(20);

/// What an attempt says about the key's health.
fn health_signal(result: &Result<(), ProxyError>, outcome: &Outcome) -> Option<Signal> {
    match result {
        Err(ProxyError::UpstreamAuth { status }) => Some(Signal::Rejected { status: *status }),
        Err(ProxyError::UpstreamStatus {
            status: 429,
            retry_after,
        }) => Some(Signal::RateLimited {
            retry_after: *retry_after,
        }),
        Err(ProxyError::UpstreamStatus { .. } | ProxyError::Send(_)) => Some(Signal::Failure),
        Err(_) => None,
        Ok(()) => match outcome.status {
            Some(429) => Some(Signal::RateLimited {
                retry_after: outcome.retry_after,
            }),
            Some(s) if s >= 500 => Some(Signal::Failure),
            Some(_)
                if matches!(
                    outcome.error_kind,
                    Some("upstream_cut" | "upstream_stalled")
                ) =>
            {
                Some(Signal::Failure)
            }
            Some(_) => outcome.ttfb.map(|ttfb| Signal::Success { ttfb }),
            None => None,
        },
    }
}

/// Copies what the exchange produced into the ledger record, pricing the usage.
fn record_outcome(ctx: &mut RequestCtx, snapshot: &Snapshot, outcome: &Outcome) {
    let rec = &mut ctx.record;
    if let Some(status) = outcome.status {
        rec.status = status;
    }
    rec.ttfb_ms = outcome
        .ttfb
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    rec.partial = outcome.partial;
    rec.error_kind = outcome.error_kind.map(str::to_string);
    if let Some(u) = outcome.usage.usage {
        rec.prompt_tokens = u.prompt_tokens;
        rec.completion_tokens = u.completion_tokens;
        rec.cache_write_tokens = u.cache_write_tokens;
        rec.cache_read_tokens = u.cache_read_tokens;
        rec.provider_format_includes_cache = u.prompt_includes_cache;
        rec.cost_nanos = rec
            .model
            .as_deref()
            .and_then(|m| snapshot.price_at(m, rec.created_at))
            .map(|p| usage::cost_nanos(&u, p));
    }
}

/// `POST /oauth/token` and `/oauth/revoke`: answered by the OAuth service (RFC 6749 errors).
async fn oauth_endpoint(
    state: &AppState,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
) -> Result<(), ProxyError> {
    let body = read_body(session, state.config.proxy.max_body_bytes).await?;
    let req = session.req_header();
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let reply = state
        .oauth
        .inbound
        .endpoint(
            path,
            req.method.as_str(),
            header("authorization"),
            header("content-type"),
            &body,
        )
        .await;
    ctx.record.status = reply.status;
    let mut out = ResponseHeader::build(reply.status, Some(reply.headers.len() + 2))
        .map_err(|_| ProxyError::Internal)?;
    for (name, value) in &reply.headers {
        out.insert_header(*name, value.as_str())
            .map_err(|_| ProxyError::Internal)?;
    }
    out.insert_header(http::header::CONTENT_LENGTH, reply.body.len().to_string())
        .map_err(|_| ProxyError::Internal)?;
    out.insert_header("x-request-id", ctx.record.request_id.as_str())
        .map_err(|_| ProxyError::Internal)?;
    if session
        .write_response_header(Box::new(out), false)
        .await
        .is_ok()
    {
        let _ = session
            .write_response_body(Some(Bytes::from(reply.body)), true)
            .await;
    }
    Ok(())
}

async fn read_body(session: &mut Session, limit: u64) -> Result<Bytes, ProxyError> {
    let declared = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        session.set_keepalive(None);
        return Err(ProxyError::BodyTooLarge { limit });
    }
    let mut buf = BytesMut::with_capacity(declared.map_or(0, |n| n as usize));
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if (buf.len() + chunk.len()) as u64 > limit {
                    session.set_keepalive(None);
                    return Err(ProxyError::BodyTooLarge { limit });
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(_) => return Err(ProxyError::BadBody),
        }
    }
}

async fn respond_error(
    session: &mut Session,
    request_id: &str,
    format: ApiFormat,
    err: &ProxyError,
) {
    let body = err.body(format);
    let Ok(mut header) = ResponseHeader::build(err.status(), Some(4)) else {
        return;
    };
    let _ = header.insert_header(http::header::CONTENT_TYPE, "application/json");
    let _ = header.insert_header(http::header::CONTENT_LENGTH, body.len().to_string());
    let _ = header.insert_header("x-request-id", request_id);
    if let Some(secs) = err.retry_after_secs() {
        let _ = header.insert_header(http::header::RETRY_AFTER, secs.to_string());
    }
    if session
        .write_response_header(Box::new(header), false)
        .await
        .is_ok()
    {
        let _ = session.write_response_body(Some(body), true).await;
    }
}
