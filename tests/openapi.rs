//! The OpenAPI document served by the real server: valid OpenAPI 3.x, every route of
//! src/admin/mod.rs documented with each of its methods (and nothing that does not exist),
//! request and response schemas present, every `$ref` resolvable, and the bearer requirement
//! on every route but the public ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Tollgate;
use common::routes::routes_in_source;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Operations that need no bearer token.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/api/health"),
    ("GET", "/api/openapi.json"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/auth/challenge"),
    ("POST", "/api/auth/challenge"),
    ("GET", "/api/oauth/callback"),
];

/// Resolves a local `$ref` (`#/a/b`) as a JSON pointer.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Every `$ref` string anywhere in `v`, with where it was found.
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push((at.to_string(), r.to_string()));
                    }
                } else {
                    refs(child, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A media type's schema, following a `$ref` to a response or request-body component.
fn has_json_schema(doc: &Value, holder: &Value) -> bool {
    let holder = match holder.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, r).unwrap_or(&Value::Null),
        None => holder,
    };
    // JSON everywhere, except the OAuth callback's page for the admin's browser.
    holder["content"]["application/json"]["schema"].is_object()
        || holder["content"]["text/html"]["schema"].is_object()
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let tg = Tollgate::start().await;
    // Served without a token.
    let r = tg
        .http
        .get(format!("{}/api/openapi.json", tg.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = r.json().await.unwrap();

    // OpenAPI 3.x, and it reads back as a typed OpenAPI document.
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi version {version:?}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let typed: Result<utoipa::openapi::OpenApi, _> = serde_json::from_value(doc.clone());
    assert!(typed.is_ok(), "not an OpenAPI document: {:?}", typed.err());

    // Documented operations versus registered routes, both ways.
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = BTreeSet::new();
    for (path, item) in paths {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let registered = routes_in_source();
    assert!(
        registered.len() >= 40,
        "parsed too few routes: {registered:?}"
    );
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /api/openapi.json (annotate the handler with #[utoipa::path] \
         and list it in src/admin/openapi.rs): {undocumented:?}"
    );
    assert!(stale.is_empty(), "documented but not routed: {stale:?}");

    // Each operation: a unique id, its path parameters declared, a JSON request body where it
    // takes one, a response with a schema, and a schema on every answer that has a body.
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    let public: BTreeSet<(String, String)> = PUBLIC
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let mut unsecured = BTreeSet::new();
    for (method, path) in &documented {
        let op = &paths[path][method.to_lowercase()];
        let name = format!("{method} {path}");
        match op["operationId"].as_str() {
            Some(id) if ids.insert(id.to_string()) => {}
            other => problems.push(format!(
                "{name}: missing or duplicate operationId {other:?}"
            )),
        }
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        if declared != in_path {
            problems.push(format!(
                "{name}: path parameters {declared:?}, path has {in_path:?}"
            ));
        }
        if let Some(body) = op.get("requestBody") {
            if !has_json_schema(&doc, body) {
                problems.push(format!("{name}: request body without a JSON schema"));
            }
        } else if matches!(method.as_str(), "PUT" | "PATCH") {
            problems.push(format!("{name}: no request body"));
        }
        let Some(responses) = op["responses"].as_object() else {
            problems.push(format!("{name}: no responses"));
            continue;
        };
        if !responses.values().any(|r| has_json_schema(&doc, r)) {
            problems.push(format!("{name}: no response has a schema"));
        }
        for (status, response) in responses {
            if status != "204" && !has_json_schema(&doc, response) {
                problems.push(format!("{name}: response {status} has no schema"));
            }
        }
        if !responses.keys().any(|s| s.starts_with('2')) {
            problems.push(format!("{name}: no success response"));
        }
        if op["security"].as_array().is_some_and(|s| s.is_empty()) {
            unsecured.insert((method.clone(), path.clone()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The bearer scheme is required everywhere but on the public operations.
    assert_eq!(doc["security"], serde_json::json!([{"bearer": []}]));
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(unsecured, public, "operations that need no token");

    // Every `$ref` resolves.
    let mut all = Vec::new();
    refs(&doc, "", &mut all);
    assert!(all.len() > 50, "too few $refs: {}", all.len());
    let dangling: Vec<_> = all
        .iter()
        .filter(|(_, r)| resolve(&doc, r).is_none())
        .collect();
    assert!(dangling.is_empty(), "unresolved $refs: {dangling:?}");

    // The error shape every route answers with is the documented one.
    let (status, body) = tg.api("GET", "/api/users/999999", None).await;
    assert_eq!(status, 404);
    let error = resolve(&doc, "#/components/schemas/ErrorDetail").unwrap();
    let fields: BTreeSet<&str> = body["error"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let schema_fields: BTreeSet<&str> = error["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Optional members (`field`, with `invalid_value`) may be left out.
    let required: BTreeSet<&str> = error["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        fields.is_subset(&schema_fields),
        "{fields:?} {schema_fields:?}"
    );
    assert!(required.is_subset(&fields), "{required:?} {fields:?}");
    assert_eq!(required, ["code", "message"].into_iter().collect());

    // Found by schemathesis: a page far past the end overflowed the row offset (a panic).
    for list in ["/api/logs", "/api/audit"] {
        for page in [
            "9223372036854775808",
            "18446744073709551615",
            "1000000001",
            "0",
        ] {
            let (status, body) = tg.api("GET", &format!("{list}?page={page}"), None).await;
            assert_eq!(status, 400, "{list}?page={page}: {body}");
        }
        let (status, _) = tg
            .api("GET", &format!("{list}?page=1000000000"), None)
            .await;
        assert_eq!(status, 200);
    }
}
