//! The audit trail of the management API: one middleware records every write (who, what,
//! which resource, when, from which address, which fields — never secret values), and
//! `GET /api/audit` reads it back.

use super::error::ApiError;
use crate::state::AppState;
use crate::store::NewAuditEntry;
use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Request bodies larger than this are refused (the JSON extractor's own limit is 2 MiB).
const MAX_BODY: usize = 2 * 1024 * 1024;
/// Created objects are read back for their `id` only when their body is at most this large.
const MAX_CREATED_BODY: u64 = 1024 * 1024;
/// String values longer than this are recorded by name only.
const MAX_VALUE_CHARS: usize = 200;

#[derive(Debug, Default)]
struct Note {
    user_id: Option<i64>,
    username: Option<String>,
    resource_id: Option<String>,
    details: Map<String, Value>,
    /// Recorded under this action even though the request failed (a lockout starting).
    record_as: Option<String>,
}

/// What handlers and the `Caller` extractor know that the middleware cannot see: who acted
/// (once authenticated, or who tried to log in) and anything worth adding to the details.
/// Outside an audited request it is inert.
#[derive(Debug, Clone, Default)]
pub struct AuditNote(Arc<Mutex<Note>>);

impl AuditNote {
    fn with<R>(&self, f: impl FnOnce(&mut Note) -> R) -> R {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Who acted: a user id when known, and the username (as typed, for a failed login).
    pub fn actor(&self, user_id: Option<i64>, username: Option<&str>) {
        self.with(|n| {
            if user_id.is_some() {
                n.user_id = user_id;
            }
            if let Some(name) = username {
                n.username = Some(name.to_string());
            }
        });
    }

    pub fn resource_id(&self, id: impl ToString) {
        let id = id.to_string();
        self.with(|n| n.resource_id = Some(id));
    }

    /// Records a failed request anyway, as `action` (failures of callers nobody knows are
    /// otherwise not recorded).
    pub fn record_as(&self, action: &str) {
        self.with(|n| n.record_as = Some(action.to_string()));
    }

    pub fn detail(&self, key: &str, value: impl Into<Value>) {
        let value = value.into();
        self.with(|n| {
            n.details.insert(key.to_string(), value);
        });
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuditNote {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<AuditNote>()
            .cloned()
            .unwrap_or_default())
    }
}

/// `(action, resource)` for a write: the verb of the method on the route's first segment,
/// with the few routes whose meaning is not their method named explicitly.
fn classify(method: &Method, route: &str) -> (String, String) {
    let route = route.strip_prefix("/api").unwrap_or(route);
    let explicit = match (method.as_str(), route) {
        ("POST", "/auth/login") => Some(("login", "sessions")),
        ("POST", "/auth/challenge") => Some(("keypair_login", "sessions")),
        ("POST", "/auth/refresh") => Some(("refresh", "sessions")),
        ("POST", "/auth/logout") => Some(("logout", "sessions")),
        ("POST", "/auth/logout-all") => Some(("logout_all", "sessions")),
        ("POST", "/auth/password") => Some(("password_change", "users")),
        _ => None,
    };
    if let Some((action, resource)) = explicit {
        return (action.into(), resource.into());
    }
    let segments: Vec<&str> = route
        .split('/')
        .filter(|s| !s.is_empty() && *s != "auth")
        .collect();
    let resource = segments.first().copied().unwrap_or("api").to_string();
    let verb = match *method {
        Method::POST => "create",
        Method::PATCH | Method::PUT => "update",
        Method::DELETE => "delete",
        _ => "call",
    };
    // `/things/{id}/do-something` is the action `do_something`.
    let action = match segments.last() {
        Some(last) if segments.len() > 1 && !last.starts_with('{') => last.replace('-', "_"),
        _ => verb.to_string(),
    };
    (action, resource)
}

/// True for a field whose value must never be recorded.
fn is_secret_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "secret", "token", "signature", "nonce"]
        .iter()
        .any(|w| n.contains(w))
        || n == "key"
        || n.ends_with("_key")
}

/// The fields a JSON body sets, by name, with the values of short non-secret scalars.
fn describe_body(body: &[u8], details: &mut Map<String, Value>) {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let mut names: Vec<&String> = fields.keys().collect();
    names.sort();
    let mut values = Map::new();
    for (name, value) in &fields {
        if is_secret_field(name) {
            continue;
        }
        let keep = match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => true,
            Value::String(s) => s.chars().count() <= MAX_VALUE_CHARS,
            Value::Array(items) => items.len() <= 100 && items.iter().all(Value::is_number),
            Value::Object(_) => false,
        };
        if keep {
            values.insert(name.clone(), value.clone());
        }
    }
    details.insert(
        "fields".into(),
        Value::Array(
            names
                .into_iter()
                .map(|n| Value::String(n.clone()))
                .collect(),
        ),
    );
    if !values.is_empty() {
        details.insert("values".into(), Value::Object(values));
    }
}

/// The `id` of a created object, read from the response (which is passed on unchanged).
async fn created_id(response: Response) -> (Response, Option<String>) {
    let small = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_CREATED_BODY);
    if response.status() != StatusCode::CREATED || !small {
        return (response, None);
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_CREATED_BODY as usize).await {
        Ok(bytes) => {
            let id = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .map(|id| match id {
                    Value::String(s) => s,
                    other => other.to_string(),
                });
            (Response::from_parts(parts, Body::from(bytes)), id)
        }
        Err(_) => (ApiError::Internal.into_response(), None),
    }
}

/// Middleware on every `/api` route: reads are passed through, writes are recorded after they
/// ran, whatever their outcome (a failed write is recorded as `<action>_failed`) — except the
/// failures of callers nobody knows (wrong passwords, floods of unauthenticated requests), which
/// would let anyone fill the table: failed logins are counted by the accounts service instead,
/// and the one failure that starts a lockout is recorded (as `lockout`).
pub async fn record(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(route) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        return next.run(req).await;
    };
    let method = req.method().clone();
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let (mut parts, body) = req.into_parts();
    let path_id = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .ok()
        .and_then(|params| {
            params
                .iter()
                .find(|(k, _)| *k == "id")
                .map(|(_, v)| v.to_string())
        });
    let mut details = Map::new();
    let note = AuditNote::default();
    let (response, created) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            describe_body(&bytes, &mut details);
            parts.extensions.insert(note.clone());
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            created_id(response).await
        }
        Err(_) => (
            ApiError::BadRequest("request body too large".into()).into_response(),
            None,
        ),
    };
    let note = note.with(std::mem::take);
    details.extend(note.details);
    let status = response.status();
    details.insert("status".into(), Value::from(status.as_u16()));
    let (action, resource) = classify(&method, &route);
    let failed = status.is_client_error() || status.is_server_error();
    if failed && note.user_id.is_none() && note.record_as.is_none() {
        return response;
    }
    let entry = NewAuditEntry {
        user_id: note.user_id,
        username: note.username,
        action: match note.record_as {
            Some(action) => action,
            None if failed => format!("{action}_failed"),
            None => action,
        },
        resource,
        resource_id: note.resource_id.or(created).or(path_id),
        address,
        details: Some(Value::Object(details).to_string()),
    };
    if let Err(e) = state.store.insert_audit(entry).await {
        tracing::error!("cannot record an audit entry: {e}");
    }
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_actions_and_resources() {
        let c = |m: Method, r: &str| classify(&m, r);
        assert_eq!(
            c(Method::POST, "/api/providers"),
            ("create".into(), "providers".into())
        );
        assert_eq!(
            c(Method::PATCH, "/api/client-keys/{id}"),
            ("update".into(), "client-keys".into())
        );
        assert_eq!(
            c(Method::DELETE, "/api/users/{id}"),
            ("delete".into(), "users".into())
        );
        assert_eq!(
            c(Method::POST, "/api/provider-keys/{id}/health-check"),
            ("health_check".into(), "provider-keys".into())
        );
        assert_eq!(
            c(Method::POST, "/api/auth/public-keys"),
            ("create".into(), "public-keys".into())
        );
        assert_eq!(
            c(Method::DELETE, "/api/auth/public-keys/{id}"),
            ("delete".into(), "public-keys".into())
        );
        assert_eq!(
            c(Method::POST, "/api/auth/login"),
            ("login".into(), "sessions".into())
        );
        assert_eq!(
            c(Method::POST, "/api/auth/challenge"),
            ("keypair_login".into(), "sessions".into())
        );
        assert_eq!(
            c(Method::POST, "/api/auth/password"),
            ("password_change".into(), "users".into())
        );
    }

    #[test]
    fn bodies_are_described_without_secret_values() {
        let mut d = Map::new();
        let body = serde_json::json!({
            "name": "k", "secret": "sk-very-secret", "password": "pw-0123456789",
            "new_password": "x", "current_password": "y", "public_key": "AAAA", "key": "tg-x",
            "refresh_token": "r", "signature": "s", "nonce": "n", "provider_key_ids": [1, 2],
            "weight": 3, "nested": {"secret": "deep"}
        });
        describe_body(body.to_string().as_bytes(), &mut d);
        let text = Value::Object(d.clone()).to_string();
        for secret in [
            "sk-very-secret",
            "pw-0123456789",
            "AAAA",
            "tg-x",
            "deep",
            "\"r\"",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(d["fields"].as_array().unwrap().len(), 13);
        assert_eq!(d["values"]["name"], "k");
        assert_eq!(d["values"]["provider_key_ids"], serde_json::json!([1, 2]));
        assert_eq!(d["values"]["weight"], 3);

        let mut d = Map::new();
        describe_body(b"not json", &mut d);
        assert!(d.is_empty());
    }
}
