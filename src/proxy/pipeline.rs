//! One request through the gateway: route, authenticate, read the body, pick a credential,
//! forward, and fill in the ledger record. Each step calls the service that owns it.

use super::RequestCtx;
use super::budget::BodyHold;
use super::error::ProxyError;
use super::forward::{Attempt, Delivery, Exchange, Forwarder};
use super::request;
use crate::health::Signal;
use crate::limits;
use crate::oauth::Resolution;
use crate::providers::{self, ApiFormat, VerdictClass};
use crate::snapshot::{ClientKeyEntry, ProviderEntry, Snapshot};
use crate::state::AppState;
use crate::usage::estimate::EstimateInput;
use crate::usage::{self, AttemptRecord, UsageSource};
use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use std::time::{Duration, Instant};

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
    let body = read_body(session, state.config.proxy.max_body_bytes, &mut ctx.body).await?;
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
        body.clone(),
        estimate.tokens,
    )
    .await;
    let result = match result {
        Ok(delivery) => {
            record_delivery(state, ctx, &snapshot, endpoint, &body, delivery).await;
            Ok(())
        }
        Err(e) => Err(e),
    };
    // Charged either way: an estimate stands in for usage the provider never reported.
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

/// Pause before a transient retry, times the number of credentials tried.
const RETRY_BACKOFF: Duration = Duration::from_millis(20);

/// Credentials in the order the strategy gives, by the retry rule: a request is sent again only
/// when the upstream provably did not act on it (no connection, an incomplete write, or an
/// explicit refusal). Refusals about one credential (invalid, out of quota, rate limited) cost
/// no retry; transient failures (5xx, overload, connection failures) use the client key's
/// `max_retries`. After the whole request was sent, a timeout or reset ends the request unless
/// the provider opted in with `retry_after_send`.
async fn forward_with_failover(
    state: &AppState,
    forwarder: &Forwarder,
    session: &mut Session,
    ctx: &mut RequestCtx,
    target: &Target<'_>,
    body: Bytes,
    est_tokens: u64,
) -> Result<Delivery, ProxyError> {
    let Target {
        snapshot,
        client,
        provider,
        endpoint,
        strip_injected_usage,
    } = *target;
    let deadline = ctx.started + Duration::from_secs(state.config.proxy.failover_deadline_secs);
    let mut transient_left = client.max_retries;
    let mut tried: Vec<i64> = Vec::new();
    let mut last: Option<ProxyError> = None;
    let mut soonest: Option<Duration> = None;
    let extra = client_rate_headers(client);
    while tried.is_empty() || Instant::now() < deadline {
        let Some(pick) = state.scheduler.pick(snapshot, client, &tried, est_tokens) else {
            break;
        };
        tried.push(pick.key.id);
        ctx.record.provider_key_id = Some(pick.key.id);
        let shared = snapshot.is_shared(pick.key.id);
        let _busy = pick.health.begin();
        let mut refreshed = false;
        let outcome = loop {
            if pick.key.oauth.is_some() {
                state.oauth.provider.ensure_fresh(pick.key.id).await;
            }
            let credential = pick.key.credential();
            let header = request::upstream_header(
                session.req_header(),
                provider,
                credential.expose(),
                body.len(),
            )
            .map_err(|_| ProxyError::BadBody)?;
            let started = Instant::now();
            let attempt = forwarder
                .attempt(
                    session,
                    Exchange {
                        provider,
                        header,
                        body: body.clone(),
                        endpoint,
                        strip_injected_usage,
                        request_id: &ctx.record.request_id,
                        extra_headers: &extra,
                    },
                )
                .await;
            // An OAuth credential the provider calls invalid gets one refresh and one resend,
            // before anything reached the client and before its health is marked.
            if let Attempt::Refused { verdict, .. } = &attempt {
                if verdict.class == VerdictClass::CredentialInvalid
                    && pick.key.oauth.is_some()
                    && !refreshed
                {
                    refreshed = true;
                    ctx.record
                        .attempts
                        .push(attempt_record(pick.key.id, &attempt, started));
                    if state
                        .oauth
                        .provider
                        .refresh_now(pick.key.id, credential.expose())
                        .await
                        .is_ok()
                    {
                        continue;
                    }
                    break (attempt, started, true);
                }
            }
            break (attempt, started, false);
        };
        let (attempt, started, recorded) = outcome;
        let signal = match &attempt {
            Attempt::Delivered(d) => delivery_signal(d, client.id, shared),
            Attempt::Refused { verdict, ttfb, .. } => {
                Signal::from_verdict(verdict, *ttfb, Some(client.id), shared)
            }
            Attempt::Failed(e) => Some(Signal::Failure {
                by: (!e.is_connection_failure()).then_some(client.id),
                shared,
            }),
        };
        match signal {
            Some(s) => pick.health.record(s, &state.health.policy),
            None => pick.health.release_trial(),
        }
        if !recorded {
            ctx.record
                .attempts
                .push(attempt_record(pick.key.id, &attempt, started));
        }
        match attempt {
            Attempt::Delivered(d) => return Ok(*d),
            Attempt::Refused {
                status, verdict, ..
            } => {
                if let Some(r) = verdict.retry_after {
                    soonest = Some(soonest.map_or(r, |s| s.min(r)));
                }
                last = Some(match verdict.class {
                    VerdictClass::Overloaded => ProxyError::UpstreamOverloaded {
                        retry_after: verdict.retry_after,
                    },
                    VerdictClass::ServerError => ProxyError::UpstreamFailed { status },
                    _ => ProxyError::NoCredential { retry_after: None },
                });
                if !verdict.class.is_definitive_credential_refusal() {
                    if transient_left == 0 {
                        break;
                    }
                    transient_left -= 1;
                    tokio::time::sleep(RETRY_BACKOFF * tried.len() as u32).await;
                }
            }
            Attempt::Failed(e) => {
                last = Some(ProxyError::Send(e));
                let resend = e.before_send() || provider.retry_after_send;
                if !resend || transient_left == 0 {
                    break;
                }
                transient_left -= 1;
                tokio::time::sleep(RETRY_BACKOFF * tried.len() as u32).await;
            }
        }
    }
    Err(match last {
        None | Some(ProxyError::NoCredential { .. }) => ProxyError::NoCredential {
            retry_after: soonest,
        },
        Some(e) => e,
    })
}

/// The client key's own rate-limit figures, for its responses (the provider account's are
/// never shown).
fn client_rate_headers(client: &ClientKeyEntry) -> Vec<(&'static str, String)> {
    match client.limits.rpm {
        Some(rpm) => vec![("x-ratelimit-limit-requests", rpm.to_string())],
        None => Vec::new(),
    }
}

/// What a delivered answer says about the key.
fn delivery_signal(d: &Delivery, client_key: i64, shared: bool) -> Option<Signal> {
    match (d.class, d.error_kind) {
        (VerdictClass::CallerFault, _) => None,
        (_, Some("upstream_cut" | "upstream_stalled")) => Some(Signal::Failure {
            by: Some(client_key),
            shared,
        }),
        _ => Some(Signal::Success { ttfb: d.ttfb }),
    }
}

fn attempt_record(provider_key_id: i64, attempt: &Attempt, started: Instant) -> AttemptRecord {
    let (status, error_kind, code) = match attempt {
        Attempt::Delivered(d) => (
            Some(d.status),
            match d.class {
                VerdictClass::CallerFault => Some("caller_fault".to_string()),
                _ => d.error_kind.map(str::to_string),
            },
            d.code.clone(),
        ),
        Attempt::Refused {
            status, verdict, ..
        } => (
            Some(*status),
            Some(verdict.class.as_str().to_string()),
            verdict.code.clone(),
        ),
        Attempt::Failed(e) => (None, Some(e.kind().to_string()), None),
    };
    AttemptRecord {
        provider_key_id,
        status,
        error_kind,
        code,
        latency_ms: started.elapsed().as_millis() as u64,
    }
}

/// Copies a delivered answer into the ledger record and prices it: the provider's own usage
/// when it reported it, else (an answer cut before the report) tokens counted from what was
/// seen, marked `estimated`. Priced by the model the answer named, else the one asked for.
async fn record_delivery(
    state: &AppState,
    ctx: &mut RequestCtx,
    snapshot: &Snapshot,
    endpoint: providers::Endpoint,
    body: &[u8],
    d: Delivery,
) {
    let rec = &mut ctx.record;
    rec.status = d.status;
    rec.ttfb_ms = Some(i64::try_from(d.ttfb.as_millis()).unwrap_or(i64::MAX));
    rec.partial = d.partial;
    rec.error_kind = match d.class {
        VerdictClass::CallerFault => Some("caller_fault".to_string()),
        _ => d.error_kind.map(str::to_string),
    };
    rec.response_model = d.model.clone();
    let success = d.status < 300;
    let usage = match (d.usage.usage, d.usage.complete) {
        (Some(u), true) => Some((u, UsageSource::Provider)),
        (reported, _)
            if success && endpoint.has_usage() && (!d.text.is_empty() || d.body_bytes > 0) =>
        {
            let u = state
                .estimator
                .estimate(EstimateInput {
                    model: d.model.as_deref().or(rec.model.as_deref()),
                    request_body: body,
                    reported,
                    text: &d.text,
                    body_bytes: if d.text.is_empty() { d.body_bytes } else { 0 },
                })
                .await;
            Some((u, UsageSource::Estimated))
        }
        (Some(u), false) => Some((u, UsageSource::Provider)),
        (None, _) => None,
    };
    let Some((u, source)) = usage else {
        return;
    };
    let rec = &mut ctx.record;
    rec.usage_source = Some(source);
    rec.prompt_tokens = u.prompt_tokens;
    rec.completion_tokens = u.completion_tokens;
    rec.cache_write_tokens = u.cache_write_tokens;
    rec.cache_read_tokens = u.cache_read_tokens;
    rec.provider_format_includes_cache = u.prompt_includes_cache;
    let price = rec
        .response_model
        .as_deref()
        .and_then(|m| snapshot.price_at(m, rec.created_at))
        .or_else(|| {
            rec.model
                .as_deref()
                .and_then(|m| snapshot.price_at(m, rec.created_at))
        });
    rec.cost_nanos = price.map(|p| usage::cost_nanos(&u, p));
}

/// `POST /oauth/token` and `/oauth/revoke`: answered by the OAuth service (RFC 6749 errors).
async fn oauth_endpoint(
    state: &AppState,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
) -> Result<(), ProxyError> {
    let body = read_body(session, state.config.proxy.max_body_bytes, &mut ctx.body).await?;
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

/// Reads the whole body within the proxy's buffered-bytes budget (the hold stays with the
/// request until it ends). A body larger than `limit` is 413; one that stalls past the body
/// timeout is 408.
async fn read_body(
    session: &mut Session,
    limit: u64,
    hold: &mut BodyHold,
) -> Result<Bytes, ProxyError> {
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
    if let Some(n) = declared {
        if let Err(e) = hold.grow(n).await {
            // Read the body away (not kept) so the client gets the answer, not a reset.
            let _ = session.drain_request_body().await;
            return Err(e);
        }
    }
    let mut buf = BytesMut::with_capacity(declared.map_or(0, |n| n as usize));
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                let len = (buf.len() + chunk.len()) as u64;
                if len > limit {
                    session.set_keepalive(None);
                    return Err(ProxyError::BodyTooLarge { limit });
                }
                if len > hold.bytes() {
                    hold.grow(len - hold.bytes()).await?;
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(e) if matches!(e.etype(), pingora::ErrorType::ReadTimedout) => {
                session.set_keepalive(None);
                return Err(ProxyError::BodyTimeout);
            }
            Err(_) => {
                session.set_keepalive(None);
                return Err(ProxyError::BadBody);
            }
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
