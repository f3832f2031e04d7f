//! Inlines `$ref`s to `components.responses` and `components.requestBodies` (Redocly bundles share
//! error responses that way), so every later pass sees each operation's bodies in place.

use crate::openapi::operations;
use crate::{Error, Result};
use serde_json::Value;

/// Replaces each response and request body `$ref` by (a copy of) its target.
pub fn inline_bodies(doc: &mut Value) -> Result<()> {
    let mut edits: Vec<(String, Value)> = Vec::new();
    for op in operations(doc) {
        let label = op.label();
        let base = pointer_of(op.section, op.path, op.method);
        if let Some(reference) = op.op.pointer("/requestBody/$ref").and_then(Value::as_str) {
            let target = resolve(doc, reference, "#/components/requestBodies/", &label)?;
            edits.push((format!("{base}/requestBody"), target));
        }
        for (status, response) in op
            .op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
                let target = resolve(doc, reference, "#/components/responses/", &label)?;
                edits.push((format!("{base}/responses/{}", escape(status)), target));
            }
        }
    }
    for (pointer, target) in edits {
        if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = target;
        }
    }
    Ok(())
}

fn resolve(doc: &Value, reference: &str, prefix: &str, label: &str) -> Result<Value> {
    let mut seen = 0;
    let mut current = reference.to_string();
    loop {
        let found = current
            .strip_prefix('#')
            .filter(|_| current.starts_with(prefix))
            .and_then(|p| doc.pointer(p))
            .ok_or_else(|| {
                Error::invalid(
                    label,
                    format!("$ref {current:?} does not resolve to a {prefix}… entry"),
                )
            })?;
        match found.get("$ref").and_then(Value::as_str) {
            Some(next) if seen < 16 => {
                current = next.to_string();
                seen += 1;
            }
            Some(_) => return Err(Error::invalid(label, "$ref chain too long")),
            None => return Ok(found.clone()),
        }
    }
}

/// JSON Pointer of an operation.
pub(crate) fn pointer_of(section: &str, path: &str, method: &str) -> String {
    format!("/{}/{}/{method}", escape(section), escape(path))
}

/// RFC 6901 escaping of one pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inlines_shared_responses_and_bodies() {
        let mut doc = json!({
            "paths": {"/a": {"post": {"operationId": "a",
                "requestBody": {"$ref": "#/components/requestBodies/B"},
                "responses": {"404": {"$ref": "#/components/responses/NotFound"}}}}},
            "components": {
                "requestBodies": {"B": {"content": {"application/json": {}}}},
                "responses": {"NotFound": {"description": "nf"}}
            }
        });
        inline_bodies(&mut doc).unwrap();
        let op = &doc["paths"]["/a"]["post"];
        assert_eq!(
            op["requestBody"],
            json!({"content": {"application/json": {}}})
        );
        assert_eq!(op["responses"]["404"], json!({"description": "nf"}));
        doc["paths"]["/a"]["post"]["responses"]["404"] =
            json!({"$ref": "#/components/responses/Gone"});
        let err = inline_bodies(&mut doc).unwrap_err().to_string();
        assert!(err.contains("operation a (POST /a)"), "{err}");
        assert!(err.contains("#/components/responses/Gone"), "{err}");
    }
}
