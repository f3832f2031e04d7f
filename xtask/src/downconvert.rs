//! OpenAPI 3.1 → 3.0 down-conversion, so `openapiv3`/progenitor (3.0 only) can read the webhooks bundle.
//!
//! Handles what Xsolla's 3.1 bundle uses: top-level `webhooks` (→ `x-webhooks`), `type: [T, "null"]`
//! (→ `nullable`), `type: [A, B]` (→ `oneOf`), `const` (→ one-value `enum`), schema `examples` arrays
//! (→ `example`), numeric `exclusiveMinimum`/`exclusiveMaximum`, `$ref` with siblings (→ `allOf`),
//! and `oneOf`/`anyOf` with a `{type: 'null'}` member (→ `nullable`).
//! A 3.0 document passes through unchanged, so both renderings of one API generate the same code.

use serde_json::{Map, Value, json};

/// Returns the 3.0 form of `doc` (a 3.0 document is returned as is).
pub fn to_openapi_30(mut doc: Value) -> Value {
    let is_31 = doc
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("3.1."));
    if !is_31 {
        return doc;
    }
    if let Some(top) = doc.as_object_mut() {
        top.insert("openapi".into(), Value::String("3.0.3".into()));
        top.shift_remove("jsonSchemaDialect");
        top.shift_remove("$schema");
        if let Some(webhooks) = top.shift_remove("webhooks") {
            top.insert("x-webhooks".into(), webhooks);
        }
        // 3.1 lets `paths` be absent; 3.0 requires it.
        top.entry("paths").or_insert_with(|| json!({}));
        if let Some(Value::Object(info)) = top.get_mut("info") {
            info.shift_remove("summary");
        }
    }
    walk(&mut doc, false);
    doc
}

/// Walks every node; `in_name_map` is true for maps whose keys are names (e.g. `properties`), whose
/// entries are schemas but which are not themselves schemas.
fn walk(node: &mut Value, in_name_map: bool) {
    match node {
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, false)),
        Value::Object(map) => {
            if !in_name_map {
                convert_schema_keywords(map);
            }
            for (key, child) in map.iter_mut() {
                let names =
                    !in_name_map && matches!(key.as_str(), "properties" | "patternProperties");
                walk(child, names);
            }
        }
        _ => {}
    }
}

fn convert_schema_keywords(map: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = map.get("type").cloned() {
        let mut nullable = false;
        let mut rest: Vec<Value> = Vec::new();
        for t in types {
            if t.as_str() == Some("null") {
                nullable = true;
            } else {
                rest.push(t);
            }
        }
        map.shift_remove("type");
        match rest.len() {
            0 => {}
            1 => {
                map.insert("type".into(), rest.remove(0));
            }
            _ => {
                let variants = rest.into_iter().map(|t| json!({ "type": t })).collect();
                map.insert("oneOf".into(), Value::Array(variants));
            }
        }
        if nullable {
            map.insert("nullable".into(), Value::Bool(true));
        }
    }
    // 3.1 spells "nullable X" as `oneOf`/`anyOf` with a `{type: 'null'}` member.
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(parts)) = map.get(key) else {
            continue;
        };
        let is_null = |p: &Value| p.get("type").and_then(Value::as_str) == Some("null");
        if !parts.iter().any(is_null) {
            continue;
        }
        let mut rest: Vec<Value> = parts.iter().filter(|p| !is_null(p)).cloned().collect();
        map.shift_remove(key);
        map.insert("nullable".into(), Value::Bool(true));
        match rest.len() {
            0 => {}
            1 => match rest.remove(0) {
                reference @ Value::Object(_) if reference.get("$ref").is_some() => {
                    map.insert("allOf".into(), json!([reference]));
                }
                Value::Object(inline) => {
                    for (k, v) in inline {
                        map.entry(k).or_insert(v);
                    }
                }
                _ => {}
            },
            _ => {
                map.insert(key.into(), Value::Array(rest));
            }
        }
    }
    if let Some(value) = map.shift_remove("const") {
        map.insert("enum".into(), json!([value]));
    }
    if let Some(Value::Array(mut examples)) = map.get("examples").cloned() {
        map.shift_remove("examples");
        if !examples.is_empty() && !map.contains_key("example") {
            map.insert("example".into(), examples.remove(0));
        }
    }
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(bound) = map.get(exclusive).filter(|v| v.is_number()).cloned() {
            map.insert(inclusive.into(), bound);
            map.insert(exclusive.into(), Value::Bool(true));
        }
    }
    for dropped in [
        "contentMediaType",
        "contentEncoding",
        "$schema",
        "$id",
        "$comment",
    ] {
        map.shift_remove(dropped);
    }
    // A 3.0 `$ref` ignores its siblings; keep the meaningful ones through `allOf`.
    if map.contains_key("$ref") {
        let meaningful: Vec<String> = map
            .keys()
            .filter(|k| !matches!(k.as_str(), "$ref" | "description" | "summary"))
            .cloned()
            .collect();
        if !meaningful.is_empty()
            && let Some(reference) = map.shift_remove("$ref")
        {
            map.insert("allOf".into(), json!([{ "$ref": reference }]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_31_constructs() {
        let doc = json!({
            "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "webhooks": {"a": {"post": {"operationId": "a"}}},
            "components": {"schemas": {"S": {"type": "object", "properties": {
                "n": {"type": ["string", "null"]},
                "either": {"type": ["integer", "string"]},
                "kind": {"const": "payment"},
                "const": {"type": "string", "examples": ["x", "y"]},
                "maybe": {"oneOf": [{"$ref": "#/components/schemas/T"}, {"type": "null"}]}
            }}}}
        });
        let out = to_openapi_30(doc);
        assert_eq!(out["openapi"], "3.0.3");
        assert!(out.get("webhooks").is_none());
        assert_eq!(out["x-webhooks"]["a"]["post"]["operationId"], "a");
        assert_eq!(out["paths"], json!({}));
        let props = &out["components"]["schemas"]["S"]["properties"];
        assert_eq!(props["n"], json!({"type": "string", "nullable": true}));
        assert_eq!(
            props["either"],
            json!({"oneOf": [{"type": "integer"}, {"type": "string"}]})
        );
        assert_eq!(props["kind"], json!({"enum": ["payment"]}));
        // A property *named* `const` is a schema, not the `const` keyword.
        assert_eq!(props["const"], json!({"type": "string", "example": "x"}));
        assert_eq!(
            props["maybe"],
            json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/T"}]})
        );
    }

    #[test]
    fn leaves_30_documents_alone() {
        let doc = json!({"openapi": "3.0.3", "info": {}, "x": {"const": 1}});
        assert_eq!(to_openapi_30(doc.clone()), doc);
    }
}
