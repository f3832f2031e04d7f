//! Visiting the OpenAPI objects of a document (not example data, not the names in name maps).

use serde_json::{Map, Value};

/// Keys whose (object) value maps names to objects: the names are data, the values are objects.
const NAME_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "paths",
    "x-webhooks",
    "webhooks",
    "schemas",
    "responses",
    "parameters",
    "headers",
    "content",
    "examples",
    "links",
    "callbacks",
    "securitySchemes",
    "requestBodies",
    "variables",
    "encoding",
    "mapping",
    "scopes",
    "$defs",
    "definitions",
];

/// Keys whose value is data (examples, defaults, enum values) or names (security requirements).
const DATA: &[&str] = &[
    "example", "default", "enum", "const", "value", "security", "required",
];

/// Calls `f` on every OpenAPI object (operation, schema, response, …) in `node`, parents first.
pub fn objects(node: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match node {
        Value::Array(items) => items.iter_mut().for_each(|v| objects(v, f)),
        Value::Object(map) => {
            f(map);
            for (key, child) in map.iter_mut() {
                if DATA.contains(&key.as_str()) {
                    continue;
                }
                match child {
                    Value::Object(names) if NAME_MAPS.contains(&key.as_str()) => {
                        names.values_mut().for_each(|v| objects(v, f));
                    }
                    other => objects(other, f),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn skips_names_and_data() {
        let mut doc = json!({
            "x-a": 1,
            "properties": {"x-name": {"x-b": 2, "example": {"x-c": 3}}},
            "responses": {"default": {"x-d": 4}}
        });
        let mut seen = Vec::new();
        objects(&mut doc, &mut |m| {
            seen.extend(m.keys().filter(|k| k.starts_with("x-")).cloned())
        });
        assert_eq!(seen, ["x-a", "x-b", "x-d"]);
    }
}
