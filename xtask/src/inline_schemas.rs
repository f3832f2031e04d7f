//! Gives every inline object or enum schema a stable component name and moves it to
//! `components.schemas`, so each shape becomes one named Rust type that progenitor reuses from
//! `backpack-types` (progenitor can only replace *named* component schemas).
//!
//! Names derive from where the schema sits — `{OperationId}Request`, `{OperationId}Response`,
//! `{Parent}{Property}`, `{Parent}{Property}Item` — so they change only when the spec's own names
//! change. An overlay can choose a nicer name by setting `x-component-name` on the inline schema.

use crate::openapi::METHODS;
use crate::{Error, Result};
use heck::ToUpperCamelCase;
use serde_json::{Map, Value, json};

/// Hoists inline schemas in operations (paths and `x-webhooks`) and in component schemas.
pub fn hoist(doc: &mut Value) -> Result<()> {
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    for section in ["paths", "x-webhooks"] {
        let Some(Value::Object(items)) = doc.get_mut(section) else {
            continue;
        };
        for (path, item) in items.iter_mut() {
            for method in METHODS {
                let Some(op) = item.get_mut(method) else {
                    continue;
                };
                // regen gives every operation an id first (`degrade::prune`); `diff` reads
                // documents as published, so a missing one is named after its place.
                let op_name = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{method} {path}"), str::to_string)
                    .to_upper_camel_case();
                hoist_operation(op, &op_name, &mut hoisted);
            }
        }
    }
    // Component schemas: nested inline objects/enums, repeated until nothing new appears.
    let existing: Vec<(String, Value)> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut queue: Vec<(String, Value)> = existing
        .into_iter()
        .chain(hoisted.iter().cloned())
        .collect();
    let mut processed: Vec<(String, Value)> = Vec::new();
    let mut new_entries: Vec<(String, Value)> = hoisted;
    while let Some((name, mut schema)) = queue.pop() {
        let mut found = Vec::new();
        hoist_nested(&mut schema, &name, &mut found);
        for (n, s) in &found {
            queue.push((n.clone(), s.clone()));
            new_entries.push((n.clone(), s.clone()));
        }
        processed.push((name, schema));
    }
    // Write back: originals keep their order, new names are appended sorted (stable output).
    let components = doc
        .as_object_mut()
        .ok_or_else(|| Error::invalid("document", "not a mapping"))?
        .entry("components")
        .or_insert_with(|| json!({}));
    let schemas = components
        .as_object_mut()
        .ok_or_else(|| Error::invalid("components", "not a mapping"))?
        .entry("schemas")
        .or_insert_with(|| json!({}));
    let Value::Object(schemas) = schemas else {
        return Err(Error::invalid("components.schemas", "not a mapping"));
    };
    let original_names: Vec<String> = schemas.keys().cloned().collect();
    let mut added: Vec<(String, Value)> = Vec::new();
    for (name, _) in &new_entries {
        if original_names.contains(name) {
            return Err(Error::invalid(
                format!("schema {name}"),
                "an inline schema's derived name is already a component name; set `x-component-name` on it in an overlay",
            ));
        }
    }
    for (name, schema) in processed {
        if original_names.contains(&name) {
            schemas.insert(name, schema);
        } else if !added.iter().any(|(n, _)| *n == name) {
            added.push((name, schema));
        }
    }
    added.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, schema) in added {
        schemas.insert(name, schema);
    }
    Ok(())
}

fn hoist_operation(op: &mut Value, op_name: &str, out: &mut Vec<(String, Value)>) {
    if let Some(Value::Array(params)) = op.get_mut("parameters") {
        for p in params.iter_mut() {
            let pname = p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("param")
                .to_upper_camel_case();
            if let Some(schema) = p.get_mut("schema") {
                hoist_if_inline(schema, &format!("{op_name}{pname}"), out, true);
            }
        }
    }
    if let Some(Value::Object(content)) = op.pointer_mut("/requestBody/content") {
        for (_, media) in content.iter_mut() {
            if let Some(schema) = media.get_mut("schema") {
                hoist_if_inline(schema, &format!("{op_name}Request"), out, false);
            }
        }
    }
    if let Some(Value::Object(responses)) = op.get_mut("responses") {
        for (status, response) in responses.iter_mut() {
            let suffix = if status.starts_with('2') {
                "Response"
            } else {
                "Error"
            };
            if let Some(Value::Object(content)) = response.get_mut("content") {
                for (_, media) in content.iter_mut() {
                    if let Some(schema) = media.get_mut("schema") {
                        hoist_if_inline(schema, &format!("{op_name}{suffix}"), out, false);
                    }
                }
            }
        }
    }
}

/// Does this schema need a named type of its own?
fn needs_name(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    if map.contains_key("$ref") {
        return false;
    }
    let is_object =
        map.get("type").and_then(Value::as_str) == Some("object") || map.contains_key("properties");
    let has_props = map
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let multi_enum = map
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|e| e.len() > 1);
    // A remaining `allOf` is one `$ref` with annotations (simplify merged the rest): not a new type.
    (is_object && has_props) || multi_enum
}

/// Replaces an inline schema (or an array's inline item schema) with a `$ref` to a new component.
fn hoist_if_inline(
    schema: &mut Value,
    name: &str,
    out: &mut Vec<(String, Value)>,
    allow_enum: bool,
) {
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        if let Some(items) = schema.get_mut("items") {
            hoist_if_inline(items, &format!("{name}Item"), out, allow_enum);
        }
        return;
    }
    let is_enum = schema.get("enum").is_some();
    if !needs_name(schema)
        || (is_enum && !allow_enum && !schema.get("type").is_some_and(|t| t == "string"))
    {
        return;
    }
    let chosen = schema
        .get("x-component-name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| name.to_string());
    let mut body = std::mem::replace(
        schema,
        json!({ "$ref": format!("#/components/schemas/{chosen}") }),
    );
    if let Some(map) = body.as_object_mut() {
        map.shift_remove("x-component-name");
    }
    // Identical inline schemas under one name (e.g. 200 and 201) are one type.
    if !out.iter().any(|(n, s)| *n == chosen && *s == body) {
        out.push((chosen, body));
    }
}

fn hoist_nested(schema: &mut Value, parent: &str, out: &mut Vec<(String, Value)>) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (prop, child) in props.iter_mut() {
            let name = format!("{parent}{}", prop.to_upper_camel_case());
            hoist_if_inline(child, &name, out, true);
            hoist_nested_combinators(child, &name, out);
        }
    }
    if let Some(items) = map.get_mut("items") {
        hoist_if_inline(items, &format!("{parent}Item"), out, true);
    }
    if let Some(extra) = map
        .get_mut("additionalProperties")
        .filter(|v| v.is_object())
    {
        hoist_if_inline(extra, &format!("{parent}Value"), out, true);
    }
    hoist_nested_combinators_map(map, parent, out);
}

fn hoist_nested_combinators(schema: &mut Value, name: &str, out: &mut Vec<(String, Value)>) {
    if let Some(map) = schema.as_object_mut() {
        hoist_nested_combinators_map(map, name, out);
    }
}

fn hoist_nested_combinators_map(
    map: &mut Map<String, Value>,
    parent: &str,
    out: &mut Vec<(String, Value)>,
) {
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(parts)) = map.get_mut(key) {
            for (i, part) in parts.iter_mut().enumerate() {
                if needs_name(part) {
                    hoist_if_inline(part, &format!("{parent}Variant{i}"), out, true);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hoists_request_items_and_nested_objects() {
        let mut doc = json!({
            "paths": {"/x": {"post": {"operationId": "create-things",
                "requestBody": {"content": {"application/json": {"schema": {"type": "array", "items": {
                    "type": "object", "properties": {"a": {"type": "string"}}}}}}},
                "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
            }}},
            "components": {"schemas": {"Thing": {"type": "object", "properties": {
                "inner": {"type": "object", "properties": {"b": {"type": "integer"}}},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "fixed": {"type": "string", "enum": ["only"]}
            }}}}
        });
        hoist(&mut doc).unwrap();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            doc["paths"]["/x"]["post"]["requestBody"]["content"]["application/json"]["schema"]["items"]
                ["$ref"],
            "#/components/schemas/CreateThingsRequestItem"
        );
        assert!(schemas["CreateThingsRequestItem"]["properties"]["a"].is_object());
        assert_eq!(
            schemas["Thing"]["properties"]["inner"]["$ref"],
            "#/components/schemas/ThingInner"
        );
        assert_eq!(
            schemas["Thing"]["properties"]["kind"]["$ref"],
            "#/components/schemas/ThingKind"
        );
        // A one-value enum (a `const`) stays inline.
        assert_eq!(
            schemas["Thing"]["properties"]["fixed"]["enum"],
            json!(["only"])
        );
        let names: Vec<_> = schemas.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            names,
            [
                "Thing",
                "CreateThingsRequestItem",
                "ThingInner",
                "ThingKind"
            ]
        );
    }
}
