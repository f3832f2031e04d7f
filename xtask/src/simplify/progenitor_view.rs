//! The document as the client generator (progenitor) gets it.
//!
//! progenitor sorts a range (`4XX`) with the first code of its class (`400`), so a specific code
//! after it (`404`) becomes an unreachable match arm — a compiler warning in the generated client.
//! A specific code whose body equals its class range's body decodes identically through the range,
//! so this view leaves such codes out. The server generator keeps every code (one variant each).

use crate::openapi::operations;
use serde_json::Value;

/// `doc` without the specific status codes a same-bodied range of their class covers.
pub fn view(doc: &Value) -> Value {
    let mut out = doc.clone();
    let targets: Vec<String> = operations(doc)
        .iter()
        .map(|op| super::refs::pointer_of(op.section, op.path, op.method))
        .collect();
    for pointer in targets {
        let Some(Value::Object(responses)) = out
            .pointer_mut(&pointer)
            .and_then(|op| op.get_mut("responses"))
        else {
            continue;
        };
        let ranges: Vec<(char, Option<Value>)> = responses
            .iter()
            .filter(|(status, _)| status.len() == 3 && status[1..].eq_ignore_ascii_case("XX"))
            .filter_map(|(status, r)| Some((status.chars().next()?, content(r))))
            .collect();
        responses.retain(|status, response| {
            let specific = status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit());
            !(specific
                && ranges
                    .iter()
                    .any(|(class, body)| status.starts_with(*class) && *body == content(response)))
        });
    }
    out
}

fn content(response: &Value) -> Option<Value> {
    response
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.values().next())
        .map(|m| m.get("schema").cloned().unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_covered_by_a_same_bodied_range_are_left_out() {
        let err = json!({"application/json": {"schema": {"$ref": "#/components/schemas/E"}}});
        let doc = json!({"paths": {"/a": {"get": {"operationId": "a", "responses": {
            "200": {"description": "ok"},
            "400": {"description": "bad", "content": err},
            "404": {"description": "nf", "content": err},
            "409": {"description": "other body", "content": {"application/json": {"schema": {"type": "string"}}}},
            "4XX": {"description": "any", "content": err}
        }}}}});
        let keys: Vec<String> = view(&doc)["paths"]["/a"]["get"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["200", "409", "4XX"]);
    }
}
