//! The drift watch's schemas (`generated/backpack-types/src/drift_schemas.rs`, feature `drift`): for each prepared document,
//! the response schemas of every operation by status and media type, the request-body schema of
//! every webhook by `notification_type`, and the component schemas they reference — reduced to
//! the keywords a JSON-type check reads (`type`, `nullable`, `enum`, `properties`, `required`,
//! `additionalProperties`, `items`, `oneOf`/`anyOf`/`allOf`, `$ref` as `ref: Name`).
//!
//! Emitted as pretty JSON in raw string constants, so a spec change shows as a readable diff; the
//! drift crate parses them once, at run time nothing is fetched.

use crate::codegen::names::ref_name;
use crate::openapi::{operations, path_operations};
use crate::{Error, Result};
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::str::FromStr;

/// Where regen writes the schemas.
pub const PATH: &str = "generated/backpack-types/src/drift_schemas.rs";

/// The reduced form of one prepared document (`family`: `backpack` or `store`, the webhook family
/// its `x-webhooks` belong to).
pub fn document(doc: &Value, family: &str) -> Result<Value> {
    let mut ops = Vec::new();
    for op in path_operations(doc) {
        let label = op.label();
        let id = op
            .id()
            .ok_or_else(|| Error::invalid(&label, "drift: an operation needs an operationId"))?;
        let mut responses = Map::new();
        for (status, response) in op
            .op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let mut media = Map::new();
            for (media_type, body) in response
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let schema = body.get("schema").map(reduce).unwrap_or(Value::Null);
                media.insert(media_type.to_ascii_lowercase(), schema);
            }
            responses.insert(status.clone(), Value::Object(media));
        }
        ops.push(json!({
            "id": id,
            "method": op.method.to_ascii_uppercase(),
            "path": op.path,
            "responses": responses,
        }));
    }
    let mut webhooks = Map::new();
    // The watch finds a webhook's schema by its `notification_type`; an entry without a body or
    // without a one-value `notification_type` cannot be told apart on the wire, so it is not
    // watched (the types generator lists such entries as not dispatchable).
    for op in operations(doc)
        .into_iter()
        .filter(|o| o.section == "x-webhooks")
    {
        let Some(schema) = op
            .op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
            .and_then(|c| c.values().next())
            .and_then(|m| m.get("schema"))
        else {
            continue;
        };
        let target = match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(ref_name)
        {
            Some(name) => doc.pointer("/components/schemas").and_then(|s| s.get(name)),
            None => Some(schema),
        };
        let Some(kind) = target
            .and_then(|s| s.pointer("/properties/notification_type/enum/0"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        webhooks.insert(kind.to_string(), reduce(schema));
    }
    let mut schemas = Map::new();
    for (name, schema) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        schemas.insert(name.clone(), reduce(schema));
    }
    Ok(json!({
        "family": family,
        "operations": ops,
        "webhooks": webhooks,
        "schemas": schemas,
    }))
}

/// Keeps only what a JSON-type check reads.
fn reduce(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else {
        return Value::Object(Map::new());
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let name = ref_name(reference).unwrap_or(reference);
        return json!({ "ref": name });
    }
    let mut out = Map::new();
    for (key, value) in map {
        let kept = match key.as_str() {
            "type" | "nullable" | "enum" | "required" => value.clone(),
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), reduce(v)))
                    .collect(),
            ),
            "additionalProperties" | "items" => match value {
                Value::Bool(_) => value.clone(),
                other => reduce(other),
            },
            "oneOf" | "anyOf" | "allOf" => {
                Value::Array(value.as_array().into_iter().flatten().map(reduce).collect())
            }
            _ => continue,
        };
        out.insert(key.clone(), kept);
    }
    super::also_accepts::widen_type(&mut out, schema);
    Value::Object(out)
}

/// Identifies the reduced documents (what a drift report was checked against).
pub fn spec_id(backpack: &Value, webhooks: &Value) -> Result<String> {
    let api = pretty(&document(backpack, "backpack")?)?;
    let store = pretty(&document(webhooks, "store")?)?;
    Ok(id_of(&api, &store))
}

fn id_of(api: &str, store: &str) -> String {
    let digest = Sha256::digest(format!("{api}\n{store}").as_bytes());
    hex::encode(&digest[..8])
}

/// The generated module: `API` and `WEBHOOKS` (the reduced documents) and `SPEC_ID`.
pub fn generate(backpack: &Value, webhooks: &Value) -> Result<TokenStream> {
    let api = pretty(&document(backpack, "backpack")?)?;
    let store = pretty(&document(webhooks, "store")?)?;
    let spec_id = id_of(&api, &store);
    let api = raw_literal(&api)?;
    let store = raw_literal(&store)?;
    Ok(quote! {
        //! The schemas the drift watch (`backpack-drift`) checks against, from the prepared `spec/`
        //! documents (feature `drift`).

        /// `spec/backpack.yaml`: Backpack API responses and the Backpack webhooks (family `backpack`).
        pub const API: &str = #api;
        /// `spec/webhooks.yaml`: the payments/store webhooks (family `store`).
        pub const WEBHOOKS: &str = #store;
        /// Identifies these schemas in a report (a hash of both documents above).
        pub const SPEC_ID: &str = #spec_id;
    })
}

fn pretty(value: &Value) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Generate {
        what: "drift schemas".into(),
        reason: e.to_string(),
    })
}

/// A raw string literal holding `text` (enough `#`s that no `"#…` inside ends it).
fn raw_literal(text: &str) -> Result<TokenStream> {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    TokenStream::from_str(&format!("r{hashes}\"{text}\"{hashes}")).map_err(|e| Error::Generate {
        what: "drift schemas".into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_to_the_checked_keywords() {
        let doc = json!({
            "paths": {"/a": {"get": {"operationId": "a", "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}},
                "204": {"description": "none"}
            }}}},
            "x-webhooks": {"w": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/W"}}}}}}},
            "components": {"schemas": {
                "A": {"type": "object", "description": "d", "example": {"x": 1}, "required": ["x"],
                      "properties": {"x": {"type": "string", "enum": ["p", "q"], "format": "uuid"}}},
                "W": {"type": "object", "properties": {"notification_type": {"type": "string", "enum": ["w"]}}}
            }}
        });
        let out = document(&doc, "store").unwrap();
        assert_eq!(
            out["operations"][0]["responses"],
            json!({"200": {"application/json": {"ref": "A"}}, "204": {}})
        );
        assert_eq!(out["webhooks"], json!({"w": {"ref": "W"}}));
        assert_eq!(
            out["schemas"]["A"],
            json!({"type": "object", "required": ["x"], "properties": {"x": {"type": "string", "enum": ["p", "q"]}}})
        );
        let literal = raw_literal("a \"# b").unwrap().to_string();
        assert!(literal.starts_with("r##\""), "{literal}");
    }
}
