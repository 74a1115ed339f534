//! One request through the gateway: route, authenticate, read the body, pick a credential,
//! forward, and fill in the ledger record. Each step calls the service that owns it.

use super::RequestCtx;
use super::budget::BodyHold;
use super::error::ProxyError;
use super::forward::{Attempt, Delivery, Exchange, Forwarder};
use super::plan::{self, Leg};
use super::request;
use crate::health::Signal;
use crate::limits;
use crate::oauth::Resolution;
use crate::providers::{self, ApiFormat, VerdictClass};
use crate::snapshot::{ClientKeyEntry, Snapshot};
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
    let balance = path == BALANCE_PATH;
    if !balance
        && !ApiFormat::ALL
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
    let home = snapshot
        .provider(client.provider_id)
        .cloned()
        .ok_or(ProxyError::ProviderUnavailable)?;
    // A key of one provider speaks that provider's API (native passthrough); a key reaching
    // several speaks the API its path names.
    let unified = client.provider_ids.len() > 1;
    if !unified {
        *format = home.format;
    }
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
    if balance {
        return answer_json(session, ctx, 200, token_balance(state, &client).await).await;
    }
    let front = *format;
    let endpoint = providers::classify(front, &path).ok_or(ProxyError::NotFound)?;

    // What is asked.
    let body = read_body(session, state.config.proxy.max_body_bytes, &mut ctx.body).await?;
    let facts = providers::inspect_request(front, endpoint, &path, &body);
    ctx.record.model = facts.model.clone();
    ctx.record.stream = facts.stream;
    if unified && endpoint == providers::Endpoint::Models {
        return model_list(session, ctx, &snapshot, &client, front, &path).await;
    }
    let plan = plan::plan(
        &snapshot,
        &client,
        &plan::Asked {
            header: session.req_header(),
            path: &path,
            front,
            endpoint,
            body: &body,
            model: facts.model.as_deref(),
        },
    )?;
    ctx.record.route = plan.route.clone();

    // Reserve the estimate against the key's limits; settle to real usage afterwards (a
    // reservation dropped early gives everything back).
    let price = plan
        .legs
        .first()
        .and_then(|l| l.model.as_deref())
        .and_then(|m| snapshot.price_at(m, ctx.record.created_at))
        .or_else(|| {
            facts
                .model
                .as_deref()
                .and_then(|m| snapshot.price_at(m, ctx.record.created_at))
        });
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
    let deadline = ctx.started + Duration::from_secs(state.config.proxy.failover_deadline_secs);
    let mut result = Err(ProxyError::ProviderUnavailable);
    for (i, leg) in plan.legs.iter().enumerate() {
        if i > 0 && Instant::now() >= deadline {
            break;
        }
        ctx.record.provider_id = Some(leg.provider.id);
        ctx.record.resolved_model = leg
            .model
            .clone()
            .filter(|m| Some(m) != facts.model.as_ref());
        ctx.record.translated = leg.translation.is_some();
        let target = Target {
            snapshot: &snapshot,
            client: &client,
            leg,
        };
        result =
            forward_with_failover(state, forwarder, session, ctx, &target, estimate.tokens).await;
        match &result {
            Err(e) if next_target_may_follow(e) => continue,
            _ => break,
        }
    }
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

/// The path of the client key's balance.
const BALANCE_PATH: &str = "/v1/token/balance";

/// Whether a leg's failure lets the request go on to the route's next target: nothing reached
/// the client and the upstream provably did not process the request (no usable credential,
/// an explicit refusal, no connection).
fn next_target_may_follow(e: &ProxyError) -> bool {
    match e {
        ProxyError::NoCredential { .. }
        | ProxyError::ProviderUnavailable
        | ProxyError::UpstreamFailed { .. }
        | ProxyError::UpstreamOverloaded { .. } => true,
        ProxyError::Send(e) => e.before_send(),
        _ => false,
    }
}

/// `GET /v1/models` (and `/v1/models/{id}`) for a key reaching several providers: every
/// `provider/model` of their cached lists and the routes it reaches, in the client's format.
async fn model_list(
    session: &mut Session,
    ctx: &mut RequestCtx,
    snapshot: &Snapshot,
    client: &ClientKeyEntry,
    front: ApiFormat,
    path: &str,
) -> Result<(), ProxyError> {
    let models = plan::reachable_models(snapshot, client);
    let one = path.strip_prefix("/v1/models/").filter(|id| !id.is_empty());
    let body = match one {
        None => providers::render_model_list(front, &models),
        Some(id) => match models.iter().find(|(m, _)| m == id) {
            Some((m, owner)) => providers::render_model(front, m, owner),
            None => {
                return Err(ProxyError::UnknownModel {
                    model: id.to_string(),
                    reachable: "GET /v1/models lists every model this key reaches.".into(),
                });
            }
        },
    };
    answer_json(session, ctx, 200, body).await
}

/// The client key's budget, spend and daily usage against each limit.
async fn token_balance(state: &AppState, client: &ClientKeyEntry) -> Vec<u8> {
    use crate::pricing::format_nanos;
    let u = state.limits.usage(client.id).await;
    let l = &client.limits;
    let remaining = |limit: Option<u64>, used: u64| limit.map(|l| l.saturating_sub(used));
    let money = |n: Option<i64>| n.map(format_nanos);
    let lifetime = u.lifetime_spend_nanos;
    let day_cost = u.day_cost_nanos;
    let now = chrono::Utc::now();
    let body = serde_json::json!({
        "object": "token_balance",
        "key": {"id": client.id, "name": client.name},
        "budget": money(l.budget),
        "spend": format_nanos(lifetime),
        "remaining": money(l.budget.map(|b| (b - lifetime).max(0))),
        "day": u.day,
        "daily": {
            "requests": {"used": u.day_requests, "limit": l.rpd, "remaining": remaining(l.rpd, u.day_requests)},
            "tokens": {"used": u.day_tokens, "limit": l.tpd, "remaining": remaining(l.tpd, u.day_tokens)},
            "cost": {
                "used": format_nanos(day_cost),
                "limit": money(l.cost_per_day),
                "remaining": money(l.cost_per_day.map(|c| (c - day_cost).max(0))),
            },
        },
        "minute": {"requests": {"used": u.minute_requests, "limit": l.rpm}},
        "concurrent": {"in_flight": u.in_flight, "limit": l.max_concurrent},
        "expires_at": client.expires_at,
        "expired": client.expires_at.is_some_and(|t| t <= now),
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A JSON answer of the gateway's own.
async fn answer_json(
    session: &mut Session,
    ctx: &mut RequestCtx,
    status: u16,
    body: Vec<u8>,
) -> Result<(), ProxyError> {
    ctx.record.status = status;
    let mut out = ResponseHeader::build(status, Some(3)).map_err(|_| ProxyError::Internal)?;
    out.insert_header(http::header::CONTENT_TYPE, "application/json")
        .map_err(|_| ProxyError::Internal)?;
    out.insert_header(http::header::CONTENT_LENGTH, body.len().to_string())
        .map_err(|_| ProxyError::Internal)?;
    out.insert_header("x-request-id", ctx.record.request_id.as_str())
        .map_err(|_| ProxyError::Internal)?;
    if session
        .write_response_header(Box::new(out), false)
        .await
        .is_ok()
    {
        let _ = session
            .write_response_body(Some(Bytes::from(body)), true)
            .await;
    }
    Ok(())
}

/// Where a request goes, once it is admitted: one leg of its plan.
struct Target<'a> {
    snapshot: &'a Snapshot,
    client: &'a ClientKeyEntry,
    leg: &'a Leg,
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
    est_tokens: u64,
) -> Result<Delivery, ProxyError> {
    let Target {
        snapshot,
        client,
        leg,
    } = *target;
    let provider = &*leg.provider;
    let deadline = ctx.started + Duration::from_secs(state.config.proxy.failover_deadline_secs);
    let mut transient_left = client.max_retries;
    let mut tried: Vec<i64> = Vec::new();
    let mut last: Option<ProxyError> = None;
    let mut soonest: Option<Duration> = None;
    let extra = client_rate_headers(client);
    while tried.is_empty() || Instant::now() < deadline {
        let Some(pick) = state
            .scheduler
            .pick(snapshot, client, provider.id, &tried, est_tokens)
        else {
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
            let header = match leg.translation {
                Some(_) => request::translated_header(
                    session.req_header(),
                    provider,
                    &leg.target,
                    credential.expose(),
                    leg.body.len(),
                ),
                None => request::upstream_header(
                    session.req_header(),
                    provider,
                    &leg.target,
                    credential.expose(),
                    leg.body.len(),
                ),
            }
            .map_err(|_| ProxyError::BadBody)?;
            let started = Instant::now();
            let attempt = forwarder
                .attempt(
                    session,
                    Exchange {
                        provider,
                        header,
                        body: leg.body.clone(),
                        endpoint: leg.endpoint,
                        strip_injected_usage: leg.strip_injected_usage,
                        request_id: &ctx.record.request_id,
                        extra_headers: &extra,
                        translation: leg.translation.as_ref(),
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
                        .push(attempt_record(leg, pick.key.id, &attempt, started));
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
                .push(attempt_record(leg, pick.key.id, &attempt, started));
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

fn attempt_record(
    leg: &Leg,
    provider_key_id: i64,
    attempt: &Attempt,
    started: Instant,
) -> AttemptRecord {
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
        provider_id: Some(leg.provider.id),
        model: leg.model.clone(),
        translated: leg.translation.is_some(),
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
                    model: d
                        .model
                        .as_deref()
                        .or(rec.resolved_model.as_deref())
                        .or(rec.model.as_deref()),
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
            rec.resolved_model
                .as_deref()
                .and_then(|m| snapshot.price_at(m, rec.created_at))
        })
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
