//! Walkers over an OpenAPI 3.0 document held as a `serde_json::Value`: its operations, an
//! operation's effective parameters, and local `$ref` resolution. The pipeline stages and the
//! generators read the document through these, so each rule (which sections hold operations,
//! how path-level parameters combine with the operation's) lives in one place.
//!
//! Also here: [`record_removed_headers`], the regen step that keeps, for the server generator,
//! the header parameters an overlay removed (it is a parameter walk over two documents), and
//! [`is_json`], which media types count as JSON.

use crate::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;

/// Operation extension holding the header parameters overlays removed (resolved parameter objects).
pub const REMOVED_HEADERS: &str = "x-overlay-removed-headers";

/// The methods an OpenAPI path item can hold, in the order they are visited.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of the document, wherever it lives.
#[derive(Debug, Clone)]
pub struct OperationRef<'a> {
    /// `paths` or `x-webhooks`.
    pub section: &'static str,
    /// Path (or webhook name).
    pub path: &'a str,
    /// HTTP method, lower case.
    pub method: &'static str,
    /// The operation object.
    pub op: &'a Value,
}

impl OperationRef<'_> {
    /// `operation create-game (POST /web/…)` — the way errors name an operation.
    pub fn label(&self) -> String {
        match self.op.get("operationId").and_then(Value::as_str) {
            Some(id) => format!(
                "operation {id} ({} {})",
                self.method.to_uppercase(),
                self.path
            ),
            None => format!(
                "operation {} {} ({})",
                self.method.to_uppercase(),
                self.path,
                self.section
            ),
        }
    }

    /// The `operationId`, if any.
    pub fn id(&self) -> Option<&str> {
        self.op.get("operationId").and_then(Value::as_str)
    }
}

/// `application/json`, `application/json; charset=utf-8`, `application/problem+json`, …
pub fn is_json(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// How a request body travels, by its media type. The server and the client generator both
/// read it from here, so they agree on what is sent and accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// JSON (`application/json`, `…+json`): the model type.
    Json,
    /// `text/plain`: a `String`.
    Text,
    /// `application/x-www-form-urlencoded`: the model type, form-encoded.
    Form,
    /// `multipart/form-data`: the raw body with its content type (boundary included).
    Multipart,
    /// `application/octet-stream` and every other media type: the raw bytes, sent and accepted
    /// with exactly that content type.
    Bytes,
}

/// The media type without parameters, lower case (`Text/Plain; charset=utf-8` → `text/plain`).
pub fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// What a request body of `media_type` becomes.
pub fn body_kind(media_type: &str) -> BodyKind {
    match essence(media_type).as_str() {
        m if is_json(m) => BodyKind::Json,
        "text/plain" => BodyKind::Text,
        "application/x-www-form-urlencoded" => BodyKind::Form,
        "multipart/form-data" => BodyKind::Multipart,
        _ => BodyKind::Bytes,
    }
}

/// Every operation under `paths` and `x-webhooks`, in document order (a path's methods together,
/// in [`METHODS`] order).
pub fn operations(doc: &Value) -> Vec<OperationRef<'_>> {
    let mut out = Vec::new();
    for section in ["paths", "x-webhooks"] {
        let Some(items) = doc.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (path, item) in items {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    out.push(OperationRef {
                        section,
                        path,
                        method,
                        op,
                    });
                }
            }
        }
    }
    out
}

/// The operations under `paths` only (what a client calls and a server serves).
pub fn path_operations(doc: &Value) -> impl Iterator<Item = OperationRef<'_>> {
    operations(doc)
        .into_iter()
        .filter(|op| op.section == "paths")
}

/// Follows a local reference (`#/components/…`); anything else, or a dangling reference, is
/// returned as is. For readers that tolerate a broken document (diff, reports).
pub fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

/// A parameter object, its `$ref` (`#/components/parameters/…`) followed; a dangling or foreign
/// reference is an error naming `location`.
pub fn resolve_parameter<'a>(
    doc: &'a Value,
    param: &'a Value,
    location: &str,
) -> Result<&'a Value> {
    let Some(reference) = param.get("$ref").and_then(Value::as_str) else {
        return Ok(param);
    };
    reference
        .strip_prefix("#/components/parameters/")
        .and_then(|name| doc.pointer("/components/parameters")?.get(name))
        .ok_or_else(|| Error::invalid(location, format!("unresolved parameter $ref {reference:?}")))
}

/// The schema a `#/components/schemas/{name}` reference names.
pub fn component_schema<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    doc.pointer("/components/schemas")?.get(name)
}

/// Path-item and operation parameters, `$ref`s resolved, the operation's overriding the path's
/// (same `name` and `in`), as OpenAPI specifies.
pub fn effective_parameters<'a>(
    doc: &'a Value,
    path: &str,
    op: &'a Value,
) -> Result<Vec<&'a Value>> {
    let mut out: Vec<&Value> = Vec::new();
    let path_level = doc
        .get("paths")
        .and_then(|p| p.get(path))
        .and_then(|item| item.get("parameters"))
        .and_then(Value::as_array);
    let op_level = op.get("parameters").and_then(Value::as_array);
    for param in path_level.into_iter().chain(op_level).flatten() {
        let param = resolve_parameter(doc, param, path)?;
        out.retain(|p| parameter_key(p) != parameter_key(param));
        out.push(param);
    }
    Ok(out)
}

/// `(name, in)`: what identifies a parameter within an operation.
fn parameter_key(p: &Value) -> (Option<&str>, Option<&str>) {
    (
        p.get("name").and_then(Value::as_str),
        p.get("in").and_then(Value::as_str),
    )
}

fn is_header(p: &Value) -> bool {
    p.get("in").and_then(Value::as_str) == Some("header")
}

/// Records, on each operation of `after`, the header parameters it had in `before` but has no
/// more, under [`REMOVED_HEADERS`].
///
/// The overlay `spec/overlays/10-backpack-x-host-id.yaml` removes `X-HOST-ID` from every
/// operation, because the client sends it from its configuration; a server must still require
/// it. Only the server generator reads the extension (progenitor ignores `x-` keys).
pub fn record_removed_headers(before: &Value, after: &mut Value) -> Result<()> {
    let current: BTreeMap<(String, &'static str), Vec<String>> = path_operations(after)
        .map(|op| {
            let names = effective_parameters(after, op.path, op.op)
                .map(|params| {
                    params
                        .iter()
                        .filter(|p| is_header(p))
                        .filter_map(|p| p.get("name").and_then(Value::as_str))
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default();
            ((op.path.to_string(), op.method), names)
        })
        .collect();
    let mut removed: Vec<(String, &'static str, Vec<Value>)> = Vec::new();
    for op in path_operations(before) {
        // An operation an overlay removed altogether needs nothing recorded.
        let Some(now) = current.get(&(op.path.to_string(), op.method)) else {
            continue;
        };
        let gone: Vec<Value> = effective_parameters(before, op.path, op.op)?
            .into_iter()
            .filter(|p| is_header(p))
            .filter(|p| {
                p.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !now.contains(&n.to_ascii_lowercase()))
            })
            .cloned()
            .collect();
        if !gone.is_empty() {
            removed.push((op.path.to_string(), op.method, gone));
        }
    }
    for (path, method, gone) in removed {
        if let Some(Value::Object(op)) = after
            .get_mut("paths")
            .and_then(|p| p.get_mut(&path))
            .and_then(|item| item.get_mut(method))
        {
            op.insert(REMOVED_HEADERS.into(), Value::Array(gone));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_cover_both_sections_in_order() {
        let doc = json!({
            "paths": {"/a": {"post": {"operationId": "p"}, "get": {"operationId": "g"},
                             "parameters": []}},
            "x-webhooks": {"hook": {"post": {"operationId": "w"}}}
        });
        let ops = operations(&doc);
        let seen: Vec<(&str, &str, Option<&str>)> = ops
            .iter()
            .map(|op| (op.section, op.method, op.id()))
            .collect();
        assert_eq!(
            seen,
            [
                ("paths", "get", Some("g")),
                ("paths", "post", Some("p")),
                ("x-webhooks", "post", Some("w"))
            ]
        );
        assert_eq!(path_operations(&doc).count(), 2);
        assert_eq!(operations(&doc)[0].label(), "operation g (GET /a)");
    }

    #[test]
    fn operation_parameters_override_path_parameters_and_refs_resolve() {
        let doc = json!({
            "paths": {"/a/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"$ref": "#/components/parameters/Limit"}
                ],
                "get": {"parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
                    {"name": "id", "in": "query", "schema": {"type": "string"}}
                ]}
            }},
            "components": {"parameters": {"Limit": {"name": "limit", "in": "query"}}}
        });
        let op = &doc["paths"]["/a/{id}"]["get"];
        let params = effective_parameters(&doc, "/a/{id}", op).unwrap();
        let keys: Vec<(Option<&str>, Option<&str>)> =
            params.iter().map(|p| parameter_key(p)).collect();
        assert_eq!(
            keys,
            [
                (Some("limit"), Some("query")),
                (Some("id"), Some("path")),
                (Some("id"), Some("query"))
            ]
        );
        assert_eq!(params[1]["schema"]["type"], "integer");
        let dangling = json!({"$ref": "#/components/parameters/Nope"});
        assert!(resolve_parameter(&doc, &dangling, "here").is_err());
        assert_eq!(resolve(&doc, &dangling), &dangling);
        let limit = json!({"$ref": "#/components/parameters/Limit"});
        assert_eq!(resolve(&doc, &limit)["name"], "limit");
    }

    #[test]
    fn removed_headers_are_recorded_for_the_server_only() {
        let before = json!({"paths": {"/a": {"get": {"operationId": "a", "parameters": [
            {"$ref": "#/components/parameters/Host"}, {"name": "q", "in": "query", "schema": {"type": "string"}}
        ]}, "post": {"operationId": "b"}}}, "components": {"parameters": {"Host":
            {"name": "X-HOST-ID", "in": "header", "required": true, "schema": {"type": "string", "format": "uuid"}}}}});
        let mut after = json!({"paths": {"/a": {"get": {"operationId": "a", "parameters": [
            {"name": "q", "in": "query", "schema": {"type": "string"}}
        ]}, "post": {"operationId": "b"}}}});
        record_removed_headers(&before, &mut after).unwrap();
        assert_eq!(
            after["paths"]["/a"]["get"][REMOVED_HEADERS],
            json!([{"name": "X-HOST-ID", "in": "header", "required": true, "schema": {"type": "string", "format": "uuid"}}])
        );
        assert!(after["paths"]["/a"]["post"].get(REMOVED_HEADERS).is_none());
    }
}
