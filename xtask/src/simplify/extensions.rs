//! Removes `x-…` extensions the pipeline does not read (`x-tagGroups`, `x-codeSamples`,
//! `x-displayName`, `x-logo`, …): the generators then see the same input whatever tool built the
//! bundle, and no extension meant for another tool (e.g. typify's `x-rust-type`) changes the code.

use super::walk;
use crate::codegen::also_accepts::ALSO_ACCEPTS;
use crate::codegen::tagged::TAGGED;
use crate::openapi::REMOVED_HEADERS;
use serde_json::Value;

/// Extensions the pipeline itself reads or writes.
pub const KEPT: &[&str] = &[
    "x-webhooks",
    "x-component-name",
    REMOVED_HEADERS,
    TAGGED,
    ALSO_ACCEPTS,
];

/// Removes every other `x-…` key of every OpenAPI object.
pub fn strip(doc: &mut Value) {
    walk::objects(doc, &mut |map| {
        map.retain(|key, _| !key.starts_with("x-") || KEPT.contains(&key.as_str()));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_foreign_extensions_only() {
        let mut doc = json!({
            "x-tagGroups": [{"name": "g", "tags": ["t"]}],
            "tags": [{"name": "t", "x-displayName": "T"}],
            "x-webhooks": {"a": {"post": {"x-codeSamples": [], "operationId": "a"}}},
            "components": {"schemas": {"S": {"properties": {"x-kept-name": {"type": "string", "x-go-name": "K"}}}}}
        });
        strip(&mut doc);
        assert_eq!(
            doc,
            json!({
                "tags": [{"name": "t"}],
                "x-webhooks": {"a": {"post": {"operationId": "a"}}},
                "components": {"schemas": {"S": {"properties": {"x-kept-name": {"type": "string"}}}}}
            })
        );
    }
}
