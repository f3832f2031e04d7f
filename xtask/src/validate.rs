//! Checks, before any generator runs, everything progenitor would otherwise panic or `todo!()` on,
//! and reports every problem at once, each naming its operation.

use crate::openapi::operations;
use crate::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;

/// Validates a normalized (3.0, overlaid, hoisted) document for generation.
pub fn validate(doc: &Value) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    if let Some(version) = doc.pointer("/info/version").and_then(Value::as_str) {
        // progenitor sends it with `HeaderValue::from_static`, which panics on anything else.
        if version.is_empty() || !version.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            problems.push(format!(
                "info.version {version:?}: must be visible ASCII (it becomes a header value)"
            ));
        }
    } else {
        problems.push("info.version: missing".into());
    }
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for op in operations(doc) {
        let label = op.label();
        match op.op.get("operationId").and_then(Value::as_str) {
            None => problems.push(format!(
                "{label}: no operationId (progenitor needs one for every operation)"
            )),
            Some(id) => {
                if let Some(previous) = ids.insert(id.to_string(), label.clone()) {
                    problems.push(format!(
                        "{label}: operationId {id:?} is also used by {previous}"
                    ));
                }
            }
        }
        if let Some(content) = op
            .op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
            && content.len() > 1
        {
            let types: Vec<_> = content.keys().cloned().collect();
            problems.push(format!(
                "{label}: several request media types {types:?}; progenitor supports one"
            ));
        }
        if op.section == "paths" {
            check_responses(&label, op.op, &mut problems);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(
            "spec",
            format!("cannot generate:\n  - {}", problems.join("\n  - ")),
        ))
    }
}

/// The body schema of a response, as comparable JSON (`None` when it has no body).
fn body_schema(response: &Value) -> Option<&Value> {
    let content = response.get("content")?.as_object()?;
    content
        .values()
        .next()
        .map(|m| m.get("schema").unwrap_or(&Value::Null))
}

fn check_responses(label: &str, op: &Value, problems: &mut Vec<String>) {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        problems.push(format!("{label}: no responses"));
        return;
    };
    let mut success: Vec<(&String, Option<&Value>)> = Vec::new();
    let mut errors: Vec<(&String, Option<&Value>)> = Vec::new();
    for (status, response) in responses {
        if response
            .get("content")
            .and_then(Value::as_object)
            .is_some_and(|c| c.len() > 1)
        {
            problems.push(format!(
                "{label}: response {status} has several media types; progenitor supports one"
            ));
        }
        let entry = (status, body_schema(response));
        if status.starts_with('2') {
            success.push(entry);
        } else if status.starts_with('4') || status.starts_with('5') || status == "default" {
            errors.push(entry);
        }
    }
    for (kind, list) in [("success", &success), ("error", &errors)] {
        if let Some((first_status, first)) = list.first() {
            for (status, schema) in list.iter().skip(1) {
                if schema != first {
                    problems.push(format!(
                        "{label}: {kind} responses {first_status} and {status} have different bodies; \
                         progenitor needs one {kind} type per operation (it would panic) — fix it in an overlay"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(paths: Value) -> Value {
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1.0.0"}, "paths": paths})
    }

    #[test]
    fn names_the_operation_for_each_problem() {
        let d = doc(json!({
            "/a": {"get": {"responses": {"200": {"description": ""}}}},
            "/b": {"post": {"operationId": "make-b",
                "requestBody": {"content": {"application/json": {}, "application/xml": {}}},
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    "201": {"content": {"application/json": {"schema": {"type": "array"}}}},
                    "204": {"description": "none"}
                }}}
        }));
        let err = validate(&d).unwrap_err().to_string();
        assert!(
            err.contains("operation GET /a (paths): no operationId"),
            "{err}"
        );
        assert!(
            err.contains("operation make-b (POST /b): several request media types"),
            "{err}"
        );
        assert!(
            err.contains(
                "operation make-b (POST /b): success responses 200 and 201 have different bodies"
            ),
            "{err}"
        );
        assert!(err.contains("success responses 200 and 204"), "{err}");
    }

    #[test]
    fn rejects_non_ascii_version_and_duplicate_ids() {
        let mut d = doc(json!({
            "/a": {"get": {"operationId": "x", "responses": {}}, "put": {"operationId": "x", "responses": {}}}
        }));
        d["info"]["version"] = json!("0.0.1 édition");
        let err = validate(&d).unwrap_err().to_string();
        assert!(err.contains("must be visible ASCII"), "{err}");
        assert!(
            err.contains("operationId \"x\" is also used by operation x (GET /a)"),
            "{err}"
        );
    }
}
