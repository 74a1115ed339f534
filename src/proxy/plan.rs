//! Where an admitted request goes: the model name resolved under the client key
//! (`routing::resolve`) into legs — one provider and model each, in the order they are tried —
//! with the body, upstream path and response translation each leg needs.

use super::error::ProxyError;
use super::request;
use crate::limits;
use crate::providers::{self, ApiFormat, Endpoint, ResponseSpec, TranslateError, TranslateOptions};
use crate::routing::{self, Unresolved, Via};
use crate::snapshot::{ClientKeyEntry, ProviderEntry, Snapshot};
use bytes::Bytes;
use pingora::http::RequestHeader;
use std::sync::Arc;

/// One place the request may go.
pub struct Leg {
    pub provider: Arc<ProviderEntry>,
    /// The model asked of the provider (`None`: the request names none).
    pub model: Option<String>,
    /// The body the provider gets.
    pub body: Bytes,
    /// The upstream path and query.
    pub target: String,
    /// The back end's endpoint (what its answer is read as).
    pub endpoint: Endpoint,
    /// Set when the provider speaks another format than the client: the answer is translated.
    pub translation: Option<ResponseSpec>,
    /// Usage was asked for on the client's behalf; hide it from the client.
    pub strip_injected_usage: bool,
}

/// The legs of a request, and the route that chose them.
pub struct Plan {
    pub legs: Vec<Leg>,
    pub route: Option<String>,
}

/// What planning needs of the request.
pub struct Asked<'a> {
    pub header: &'a RequestHeader,
    pub path: &'a str,
    /// The format the client speaks.
    pub front: ApiFormat,
    pub endpoint: Endpoint,
    /// The body as received.
    pub body: &'a Bytes,
    pub model: Option<&'a str>,
}

/// Resolves the request's model under the key and builds one leg per target: the provider
/// prefix, a model route, the providers listing the model, or the key's only provider
/// (`routing::resolve`). Targets the key's `allowed_models` exclude, disabled providers and
/// requests that cannot be translated for a target are left out; when nothing is left the
/// first reason is the answer.
pub fn plan(
    snapshot: &Snapshot,
    client: &ClientKeyEntry,
    asked: &Asked<'_>,
) -> Result<Plan, ProxyError> {
    let Some(model) = asked.model else {
        return plan_without_model(snapshot, client, asked);
    };
    let resolution = routing::resolve(model, &client.provider_ids, snapshot).map_err(|why| {
        ProxyError::UnknownModel {
            model: model.to_string(),
            reachable: reachable_text(snapshot, client, why),
        }
    })?;
    let route = match &resolution.via {
        Via::Route(name) => Some(name.clone()),
        _ => None,
    };
    let mut legs = Vec::new();
    let mut first_refusal: Option<ProxyError> = None;
    for t in &resolution.targets {
        let Some(provider) = snapshot.provider(t.provider_id) else {
            continue;
        };
        let leg = if !target_allowed(client, model, &provider.name, &t.model) {
            Err(ProxyError::ModelNotAllowed {
                model: Some(model.to_string()),
            })
        } else if !provider.enabled {
            Err(ProxyError::ProviderUnavailable)
        } else {
            leg(provider, &t.model, model, asked)
        };
        match leg {
            Ok(l) => legs.push(l),
            Err(e) => {
                first_refusal.get_or_insert(e);
            }
        }
    }
    if legs.is_empty() {
        return Err(first_refusal.unwrap_or(ProxyError::ProviderUnavailable));
    }
    Ok(Plan { legs, route })
}

/// A request that names no model (a model list, a count without a model): the key's first
/// provider of the client's format, passed through.
fn plan_without_model(
    snapshot: &Snapshot,
    client: &ClientKeyEntry,
    asked: &Asked<'_>,
) -> Result<Plan, ProxyError> {
    if client.allowed_models.is_some() && asked.endpoint.has_usage() {
        return Err(ProxyError::ModelNotAllowed { model: None });
    }
    let provider = client
        .provider_ids
        .iter()
        .filter_map(|id| snapshot.provider(*id))
        .find(|p| p.format == asked.front)
        .ok_or(ProxyError::NotFound)?;
    if !provider.enabled {
        return Err(ProxyError::ProviderUnavailable);
    }
    Ok(Plan {
        legs: vec![same_format_leg(
            provider,
            asked,
            None,
            asked.body.clone(),
            asked.path,
        )],
        route: None,
    })
}

/// Whether the key's model list lets it reach `model` at `provider`: the name asked for, the
/// provider's own model name, or `provider/model` matches one of its patterns.
fn target_allowed(client: &ClientKeyEntry, asked: &str, provider: &str, model: &str) -> bool {
    match &client.allowed_models {
        None => true,
        Some(patterns) => {
            limits::glob::allowed(patterns, asked)
                || limits::glob::allowed(patterns, model)
                || limits::glob::allowed(patterns, &format!("{provider}/{model}"))
        }
    }
}

/// The leg for one target.
fn leg(
    provider: &Arc<ProviderEntry>,
    model: &str,
    asked_model: &str,
    asked: &Asked<'_>,
) -> Result<Leg, ProxyError> {
    if provider.format == asked.front {
        if model == asked_model {
            return Ok(same_format_leg(
                provider,
                asked,
                Some(model),
                asked.body.clone(),
                asked.path,
            ));
        }
        return match asked.front {
            ApiFormat::Gemini => {
                let path =
                    providers::gemini_path_with_model(asked.path, model).ok_or_else(|| {
                        ProxyError::Translate(TranslateError::InvalidRequest {
                            param: Some("model".into()),
                            message: format!("`{model}` cannot be named in a Gemini path"),
                        })
                    })?;
                Ok(same_format_leg(
                    provider,
                    asked,
                    Some(model),
                    asked.body.clone(),
                    &path,
                ))
            }
            ApiFormat::OpenAi | ApiFormat::Anthropic => {
                let body =
                    providers::rename_model(asked.body, model).map_err(ProxyError::Translate)?;
                Ok(same_format_leg(
                    provider,
                    asked,
                    Some(model),
                    Bytes::from(body),
                    asked.path,
                ))
            }
        };
    }
    let translatable = matches!(
        (asked.front, asked.endpoint),
        (ApiFormat::OpenAi, Endpoint::ChatCompletions) | (ApiFormat::Anthropic, Endpoint::Messages)
    );
    if !translatable {
        return Err(ProxyError::Translate(TranslateError::UnsupportedPair {
            front: asked.front,
            back: provider.format,
        }));
    }
    let opts = TranslateOptions {
        drop_unsupported_params: provider.drop_unsupported_params,
        ..TranslateOptions::default()
    };
    let t = providers::translate_request(asked.front, provider.format, asked.body, model, &opts)
        .map_err(ProxyError::Translate)?;
    let (path, query) = match t.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (t.path.as_str(), None),
    };
    let mut target = provider.upstream_path(path, Some(model));
    if let Some(q) = query {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(q);
    }
    let endpoint = match provider.format {
        ApiFormat::OpenAi => Endpoint::ChatCompletions,
        ApiFormat::Anthropic => Endpoint::Messages,
        ApiFormat::Gemini if t.stream => Endpoint::StreamGenerateContent,
        ApiFormat::Gemini => Endpoint::GenerateContent,
    };
    if !t.dropped.is_empty() {
        tracing::debug!(provider = %provider.name, dropped = ?t.dropped, "parameters dropped in translation");
    }
    Ok(Leg {
        provider: provider.clone(),
        model: Some(model.to_string()),
        body: Bytes::from(t.body),
        target,
        endpoint,
        translation: Some(t.response),
        strip_injected_usage: false,
    })
}

/// A leg in the client's own format: usage asked for on a stream that would carry none (and
/// hidden again), the caller's path and query under the provider's.
fn same_format_leg(
    provider: &Arc<ProviderEntry>,
    asked: &Asked<'_>,
    model: Option<&str>,
    body: Bytes,
    path: &str,
) -> Leg {
    let injected = providers::inject_stream_usage(provider.format, asked.endpoint, &body);
    let strip_injected_usage = injected.is_some();
    Leg {
        provider: provider.clone(),
        model: model.map(str::to_string),
        body: injected.map(Bytes::from).unwrap_or(body),
        target: request::upstream_target(asked.header, provider, path, model),
        endpoint: asked.endpoint,
        translation: None,
        strip_injected_usage,
    }
}

/// What a key reaches, for the message of an unknown model.
fn reachable_text(snapshot: &Snapshot, client: &ClientKeyEntry, why: Unresolved) -> String {
    let names: Vec<&str> = client
        .provider_ids
        .iter()
        .filter_map(|id| snapshot.provider(*id))
        .map(|p| p.name.as_str())
        .collect();
    let routes: Vec<&str> = reachable_routes(snapshot, client);
    let mut text = match why {
        Unresolved::RouteUnreachable => {
            "None of the route's targets is a provider this key reaches. ".to_string()
        }
        Unresolved::UnknownModel => String::new(),
    };
    text.push_str(&format!(
        "Name a model as `provider/model` with one of this key's providers: {}",
        names.join(", ")
    ));
    if routes.is_empty() {
        text.push('.');
    } else {
        text.push_str(&format!("; or use a model route: {}.", routes.join(", ")));
    }
    text.push_str(" GET /v1/models lists every model this key reaches.");
    text
}

/// The routes with at least one target the key reaches, by name.
pub fn reachable_routes<'s>(snapshot: &'s Snapshot, client: &ClientKeyEntry) -> Vec<&'s str> {
    let mut routes: Vec<&str> = snapshot
        .routes()
        .filter(|r| {
            r.targets.iter().any(|t| {
                snapshot
                    .provider_by_name(&t.provider)
                    .is_some_and(|p| client.provider_ids.contains(&p.id))
            })
        })
        .map(|r| r.name.as_str())
        .collect();
    routes.sort_unstable();
    routes
}

/// Every model the key reaches, as (`provider/model` or route name, owner), in the key's
/// provider order then by name, routes last; the key's `allowed_models` apply.
pub fn reachable_models(snapshot: &Snapshot, client: &ClientKeyEntry) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in client
        .provider_ids
        .iter()
        .filter_map(|id| snapshot.provider(*id))
    {
        for m in snapshot.provider_models(p.id) {
            let id = format!("{}/{m}", p.name);
            if target_allowed(client, &id, &p.name, m) {
                out.push((id, p.name.clone()));
            }
        }
    }
    for r in reachable_routes(snapshot, client) {
        let allowed = client
            .allowed_models
            .as_ref()
            .is_none_or(|patterns| limits::glob::allowed(patterns, r));
        if allowed {
            out.push((r.to_string(), "tollgate".to_string()));
        }
    }
    out
}
