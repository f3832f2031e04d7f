//! Schema compositions and directional properties.
//!
//! * `allOf` with several parts (or with one inline part, or a `$ref` part plus `properties`, the
//!   3.1 form of extending a schema) is merged into one object schema: properties in part order,
//!   `required` united, the schema's own keys last. The types generator then makes one struct with
//!   every field. A part that is a `oneOf`/`anyOf`, or two parts that give one property different
//!   types, is an error naming the schema. A lone `allOf: [$ref]` with annotations (`nullable`,
//!   `description`) stays: the generators read it as the referenced type.
//! * `readOnly` / `writeOnly` properties leave `required` (requests omit the first, responses the
//!   second, and one struct serves both); their description says which.
//! * `oneOf` with a `discriminator` over `$ref`s: recorded as [`TAGGED`] (value → schema pairs), so
//!   a component schema becomes a Rust enum with a variant per schema and a catch-all
//!   ([`crate::codegen::tagged`]); the description lists the variants and the selecting property.
//!   Inline ones stay raw JSON.

use super::append_note;
use crate::codegen::tagged::{TAGGED, selection};
use crate::degrade::Report;
use crate::{Error, Result};
use serde_json::{Map, Value, json};

/// Keys that only annotate a schema (safe to differ between two definitions of one property).
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "example",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "externalDocs",
    "default",
    "xml",
];

/// Runs the three rewrites on every schema of the document.
pub fn simplify(doc: &mut Value, report: &mut Report) -> Result<()> {
    let components: Map<String, Value> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for_each_schema(doc, &mut |at, schema| {
        let original = schema.clone();
        if let Err(e) = rewrite(schema, &components, at, &mut Vec::new()) {
            // The whole schema becomes "any JSON" rather than a guess; the rest generates.
            let (item, reason) = match e {
                Error::Invalid { location, reason } => (location, reason),
                other => (at.to_string(), other.to_string()),
            };
            report.add(item, reason, "any JSON (`serde_json::Value`)");
            let mut raw = Map::new();
            if let Some(description) = original.get("description") {
                raw.insert("description".into(), description.clone());
            }
            *schema = Value::Object(raw);
        }
    });
    Ok(())
}

/// Calls `f` on every top-level schema (component schemas, parameter/media-type schemas) with a
/// name for errors; `rewrite` descends into nested schemas itself.
fn for_each_schema(doc: &mut Value, f: &mut dyn FnMut(&str, &mut Value)) {
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, schema) in schemas.iter_mut() {
            f(&format!("schema {name}"), schema);
        }
    }
    for op in crate::openapi::operations(doc)
        .iter()
        .map(|op| {
            (
                super::refs::pointer_of(op.section, op.path, op.method),
                op.label(),
            )
        })
        .collect::<Vec<_>>()
    {
        let (pointer, label) = op;
        let Some(op) = doc.pointer_mut(&pointer) else {
            continue;
        };
        if let Some(Value::Array(params)) = op.get_mut("parameters") {
            for p in params.iter_mut() {
                if let Some(schema) = p.get_mut("schema") {
                    f(&label, schema);
                }
            }
        }
        if let Some(Value::Object(content)) = op.pointer_mut("/requestBody/content") {
            for media in content.values_mut() {
                if let Some(schema) = media.get_mut("schema") {
                    f(&format!("{label}: request body"), schema);
                }
            }
        }
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for (status, response) in responses.iter_mut() {
                if let Some(Value::Object(content)) = response.get_mut("content") {
                    for media in content.values_mut() {
                        if let Some(schema) = media.get_mut("schema") {
                            f(&format!("{label}: response {status}"), schema);
                        }
                    }
                }
            }
        }
    }
}

/// Rewrites `schema` and everything nested in it; `stack` holds the `$ref`s being merged.
fn rewrite(
    schema: &mut Value,
    components: &Map<String, Value>,
    at: &str,
    stack: &mut Vec<String>,
) -> Result<()> {
    let Some(map) = schema.as_object_mut() else {
        return Ok(());
    };
    // Children first, so merged parts are already simple.
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            rewrite(prop, components, &format!("{at}.{name}"), stack)?;
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            rewrite(child, components, &format!("{at}[{key}]"), stack)?;
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(parts)) = map.get_mut(key) {
            for part in parts.iter_mut() {
                rewrite(part, components, at, stack)?;
            }
        }
    }
    if needs_merge(map) {
        merge_all_of(map, components, at, stack)?;
    }
    directional(map);
    note_discriminator(map);
    Ok(())
}

fn needs_merge(map: &Map<String, Value>) -> bool {
    match map.get("allOf") {
        Some(Value::Array(parts)) => {
            parts.len() > 1
                || parts.iter().any(|p| p.get("$ref").is_none())
                || map.contains_key("properties")
                || map.contains_key("required")
        }
        _ => false,
    }
}

fn merge_all_of(
    map: &mut Map<String, Value>,
    components: &Map<String, Value>,
    at: &str,
    stack: &mut Vec<String>,
) -> Result<()> {
    let Some(Value::Array(parts)) = map.shift_remove("allOf") else {
        return Ok(());
    };
    let own = std::mem::take(map);
    let mut merged = Map::new();
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut sources: Vec<Map<String, Value>> = Vec::new();
    for part in parts {
        sources.push(resolve_part(part, components, at, stack)?);
    }
    sources.push(own.clone());
    for source in sources {
        if let Some(kind) = ["oneOf", "anyOf"]
            .into_iter()
            .find(|k| source.contains_key(*k))
        {
            return Err(Error::invalid(
                at,
                format!(
                    "allOf part is a {kind}; only object parts can be merged — rewrite it in an overlay"
                ),
            ));
        }
        if let Some(t) = source.get("type").and_then(Value::as_str)
            && t != "object"
        {
            return Err(Error::invalid(
                at,
                format!(
                    "allOf part of type {t:?}; only object parts can be merged — rewrite it in an overlay"
                ),
            ));
        }
        for (name, prop) in source
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match properties.get(name) {
                Some(existing) if strip_annotations(existing) != strip_annotations(prop) => {
                    return Err(Error::invalid(
                        format!("{at}.{name}"),
                        "allOf parts give this property different schemas; they cannot be merged — pick one in an overlay",
                    ));
                }
                Some(_) => {}
                None => {
                    properties.insert(name.clone(), prop.clone());
                }
            }
        }
        for r in source
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
        for (key, value) in &source {
            if matches!(
                key.as_str(),
                "properties" | "required" | "discriminator" | "allOf"
            ) {
                continue;
            }
            // The schema's own keys win over its parts'; the first part's otherwise.
            if own.contains_key(key) {
                merged.insert(key.clone(), own[key].clone());
            } else {
                merged.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    merged.insert("type".into(), json!("object"));
    if !properties.is_empty() {
        merged.insert("properties".into(), Value::Object(properties));
    }
    if !required.is_empty() {
        merged.insert("required".into(), Value::Array(required));
    }
    // A closed part would make the merged object reject its siblings' fields.
    if merged.get("additionalProperties") == Some(&Value::Bool(false)) {
        merged.shift_remove("additionalProperties");
    }
    *map = merged;
    Ok(())
}

/// A part as a plain object schema: a `$ref` is replaced by its (recursively merged) target.
fn resolve_part(
    part: Value,
    components: &Map<String, Value>,
    at: &str,
    stack: &mut Vec<String>,
) -> Result<Map<String, Value>> {
    let Some(reference) = part.get("$ref").and_then(Value::as_str) else {
        return Ok(part.as_object().cloned().unwrap_or_default());
    };
    let name = reference
        .strip_prefix("#/components/schemas/")
        .ok_or_else(|| {
            Error::invalid(
                at,
                format!("allOf part $ref {reference:?} is not a component schema"),
            )
        })?
        .to_string();
    if stack.contains(&name) {
        return Err(Error::invalid(
            at,
            format!("allOf through {name} is recursive"),
        ));
    }
    let mut target = components.get(&name).cloned().ok_or_else(|| {
        Error::invalid(
            at,
            format!("allOf part $ref {reference:?} does not resolve"),
        )
    })?;
    stack.push(name.clone());
    let result = rewrite(&mut target, components, &format!("schema {name}"), stack);
    stack.pop();
    result?;
    Ok(target.as_object().cloned().unwrap_or_default())
}

fn strip_annotations(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !ANNOTATIONS.contains(&k.as_str()) && !k.starts_with("x-"))
                .map(|(k, v)| (k.clone(), strip_annotations(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `readOnly` / `writeOnly` properties leave `required`, with a note.
fn directional(map: &mut Map<String, Value>) {
    let mut optional = Vec::new();
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            let Some(prop) = prop.as_object_mut() else {
                continue;
            };
            let note = if prop.get("readOnly") == Some(&Value::Bool(true)) {
                "Read-only: sent by the server, never in requests."
            } else if prop.get("writeOnly") == Some(&Value::Bool(true)) {
                "Write-only: sent in requests, never in responses."
            } else {
                continue;
            };
            let noted = prop
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| d.contains(note));
            if !noted {
                append_note(prop, "description", note);
            }
            optional.push(Value::String(name.clone()));
        }
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| !optional.contains(r));
        if required.is_empty() {
            map.shift_remove("required");
        }
    }
}

/// `oneOf` + `discriminator`: the description names the variants and the selecting property.
fn note_discriminator(map: &mut Map<String, Value>) {
    let Some(Value::Object(discriminator)) = map.shift_remove("discriminator") else {
        return;
    };
    let Some(Value::Array(variants)) = map.get("oneOf").or_else(|| map.get("anyOf")).cloned()
    else {
        return;
    };
    let all_refs = variants.iter().all(|v| v.get("$ref").is_some());
    let tagged = selection(&Value::Object(discriminator.clone()), &variants).filter(|_| all_refs);
    let property = discriminator
        .get("propertyName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mapping: Vec<(String, String)> = discriminator
        .get("mapping")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(value, target)| Some((value.clone(), short(target.as_str()?))))
        .collect();
    let names: Vec<String> = variants
        .iter()
        .filter_map(|v| v.get("$ref").and_then(Value::as_str))
        .map(|r| format!("`{}`", short(r)))
        .collect();
    let mut note = format!(
        "One of {}, selected by the `{property}` property",
        names.join(", ")
    );
    if !mapping.is_empty() {
        let pairs: Vec<String> = mapping
            .iter()
            .map(|(value, target)| format!("`{value}` → `{target}`"))
            .collect();
        note.push_str(&format!(" ({})", pairs.join(", ")));
    }
    match tagged {
        Some(tagged) => {
            note.push('.');
            map.insert(TAGGED.into(), tagged);
        }
        None => note.push_str("; kept as raw JSON."),
    }
    append_note(map, "description", &note);
}

fn short(reference: &str) -> String {
    reference
        .rsplit('/')
        .next()
        .unwrap_or(reference)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(schemas: Value) -> Value {
        json!({"openapi": "3.0.3", "paths": {}, "components": {"schemas": schemas}})
    }

    #[test]
    fn merges_all_of_parts_and_relaxes_directional_fields() {
        let mut d = doc(json!({
            "Base": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string", "readOnly": true}}},
            "Pet": {"description": "A pet.", "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"},
                 "secret": {"type": "string", "writeOnly": true}}}
            ]}
        }));
        simplify(&mut d, &mut Report::default()).unwrap();
        let pet = &d["components"]["schemas"]["Pet"];
        assert_eq!(pet["type"], "object");
        assert_eq!(pet["description"], "A pet.");
        let props: Vec<&String> = pet["properties"].as_object().unwrap().keys().collect();
        assert_eq!(props, ["id", "name", "secret"]);
        assert_eq!(pet["required"], json!(["name"]));
        assert!(
            pet["properties"]["secret"]["description"]
                .as_str()
                .unwrap()
                .starts_with("Write-only")
        );
    }

    #[test]
    fn conflicting_parts_name_the_schema_and_property() {
        let mut d = doc(json!({"Thing": {"allOf": [
            {"properties": {"id": {"type": "string"}}},
            {"properties": {"id": {"type": "integer"}}}
        ]}}));
        let mut report = Report::default();
        simplify(&mut d, &mut report).unwrap();
        let err = report.lines().join("\n");
        assert!(err.contains("schema Thing.id"), "{err}");
        assert!(
            err.contains("allOf parts give this property different schemas")
                && err.contains("→ any JSON"),
            "{err}"
        );
        assert_eq!(d["components"]["schemas"]["Thing"], json!({}));
    }

    #[test]
    fn discriminator_becomes_a_tagged_union() {
        let mut d = doc(json!({"Pet": {"oneOf": [
            {"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat"}}}}));
        simplify(&mut d, &mut Report::default()).unwrap();
        let pet = &d["components"]["schemas"]["Pet"];
        assert!(pet.get("discriminator").is_none());
        assert_eq!(
            pet["description"],
            "One of `Cat`, `Dog`, selected by the `kind` property (`cat` → `Cat`)."
        );
        // The mapping first, then the OpenAPI default (value = schema name).
        assert_eq!(
            pet[TAGGED],
            json!({"property": "kind", "variants": [["cat", "Cat"], ["Dog", "Dog"]]})
        );
    }
}
