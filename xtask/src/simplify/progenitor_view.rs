//! The document as the client generator (progenitor) gets it.
//!
//! progenitor sorts a range (`4XX`) with the first code of its class (`400`), so a specific code
//! after it (`404`) becomes an unreachable match arm — a compiler warning in the generated client.
//! A specific code whose body equals its class range's body decodes identically through the range,
//! so this view leaves such codes out. The server generator keeps every code (one variant each).
//!
//! progenitor also reads only four request media types, each with one exact schema
//! ([`client_bodies`]): `text/plain` becomes `{type: string}`, and a body of any other non-JSON,
//! non-form type becomes `application/octet-stream` with a binary schema, the media type it must be
//! sent with kept in [`SEND_AS`] (the client generator puts it back into the request).

use crate::degrade::prune::CLIENT_OMITS;
use crate::openapi::{BodyKind, METHODS, body_kind, effective_parameters, operations};
use serde_json::{Value, json};

/// Media-type extension naming the `Content-Type` a raw body is sent with (read by
/// `codegen::client`).
pub const SEND_AS: &str = "x-xtask-send-as";

/// The boundary the generated client's multipart bodies are sent with: a raw multipart body must
/// be built with it (the client cannot take a boundary per call).
pub const MULTIPART_BOUNDARY: &str = "xtask-raw-multipart-boundary";

/// Request bodies in the forms progenitor reads (see the module docs), without the parameters
/// `degrade::prune` marked as clashing in the client (see `without_client_omits`).
pub fn client_bodies(doc: &Value) -> Value {
    let mut out = without_client_omits(doc);
    let targets: Vec<String> = operations(doc)
        .iter()
        .filter(|op| op.section == "paths")
        .map(|op| super::refs::pointer_of(op.section, op.path, op.method))
        .collect();
    for pointer in targets {
        let Some(Value::Object(content)) = out
            .pointer_mut(&pointer)
            .and_then(|op| op.pointer_mut("/requestBody/content"))
        else {
            continue;
        };
        let Some((media_type, media)) = content.iter().next() else {
            continue;
        };
        let description = media.pointer("/schema/description").cloned();
        let (key, mut schema, send_as) = match body_kind(media_type) {
            BodyKind::Json | BodyKind::Form => continue,
            BodyKind::Text => (media_type.clone(), json!({"type": "string"}), None),
            BodyKind::Multipart => (
                "application/octet-stream".to_string(),
                json!({"type": "string", "format": "binary"}),
                Some(format!("{media_type}; boundary={MULTIPART_BOUNDARY}")),
            ),
            BodyKind::Bytes => (
                "application/octet-stream".to_string(),
                json!({"type": "string", "format": "binary"}),
                Some(media_type.clone()),
            ),
        };
        if let Some(description) = description {
            schema["description"] = description;
        }
        let mut new_media = json!({"schema": schema});
        if let Some(send_as) = send_as {
            new_media[SEND_AS] = Value::String(send_as);
        }
        content.clear();
        content.insert(key, new_media);
    }
    out
}

/// Operations with parameters marked [`CLIENT_OMITS`] get their effective parameters, minus those,
/// at operation level (their path item's shared parameters are copied to each of its operations).
fn without_client_omits(doc: &Value) -> Value {
    let mut out = doc.clone();
    let marked: Vec<String> = operations(doc)
        .iter()
        .filter(|op| op.section == "paths" && op.op.get(CLIENT_OMITS).is_some())
        .map(|op| op.path.to_string())
        .collect();
    for path in marked {
        let Some(item) = doc.get("paths").and_then(|p| p.get(&path)) else {
            continue;
        };
        let mut new_item = item.clone();
        if let Value::Object(map) = &mut new_item {
            map.shift_remove("parameters");
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let omits = op.get(CLIENT_OMITS).cloned().unwrap_or(Value::Null);
            let params: Vec<Value> = effective_parameters(doc, &path, op)
                .unwrap_or_default()
                .into_iter()
                .filter(|p| {
                    let key = json!([p.get("name"), p.get("in")]);
                    !omits.as_array().is_some_and(|o| o.contains(&key))
                })
                .cloned()
                .collect();
            new_item[method]["parameters"] = Value::Array(params);
        }
        out["paths"][&path] = new_item;
    }
    out
}

/// `doc` without the specific status codes a same-bodied range of their class covers, with its
/// request bodies as progenitor reads them ([`client_bodies`]).
pub fn view(doc: &Value) -> Value {
    let mut out = client_bodies(doc);
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
