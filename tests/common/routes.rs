//! The management API's routes as registered in src/admin/mod.rs, read from its source, so a
//! test can fail when a route is added without its permission row or its OpenAPI entry.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

/// Every (method, route) registered in src/admin/mod.rs, read from its source.
pub fn routes_in_source() -> BTreeSet<(String, String)> {
    let src = include_str!("../../src/admin/mod.rs");
    let mut out = BTreeSet::new();
    let mut rest = src;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The expression runs to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let expr = &rest[..end];
        let path = expr.split('"').nth(1).unwrap();
        let handlers = &expr[expr.find(',').unwrap()..];
        for method in ["get", "post", "patch", "put", "delete"] {
            let found = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                i == 0
                    || !handlers[..i]
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if found {
                out.insert((method.to_uppercase(), format!("/api{path}")));
            }
        }
    }
    out
}
