//! One JSON media type per body. A body published under several media types (`application/json`
//! and `application/xml`, …) or as `application/json; charset=utf-8` keeps only its JSON entry,
//! renamed `application/json` (what progenitor recognises), and the operation's description says
//! what was published. A request body without a JSON media type is an error naming the operation;
//! a response without one loses its body (noted in its description), so the call still generates.

use super::append_note;
use super::refs::pointer_of;
use crate::openapi::{is_json, operations};
use crate::{Error, Result};
use serde_json::{Map, Value};

/// Keeps the JSON media type of every request and response body.
pub fn keep_json(doc: &mut Value) -> Result<()> {
    let targets: Vec<(String, String)> = operations(doc)
        .iter()
        .map(|op| (pointer_of(op.section, op.path, op.method), op.label()))
        .collect();
    for (pointer, label) in targets {
        let Some(Value::Object(op)) = doc.pointer_mut(&pointer) else {
            continue;
        };
        let mut notes = Vec::new();
        if let Some(Value::Object(body)) = op.get_mut("requestBody")
            && let Some(Value::Object(content)) = body.get_mut("content")
        {
            match pick(content) {
                Pick::Unchanged => {}
                Pick::Json(published) => notes.push(format!(
                    "Request body published as {}; generated for `application/json`.",
                    list(&published)
                )),
                Pick::NoJson(published) => {
                    return Err(Error::invalid(
                        label,
                        format!(
                            "request body media types {}: none is JSON, and only JSON bodies are generated; \
                             add a JSON media type in an overlay",
                            list(&published)
                        ),
                    ));
                }
            }
        }
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for (status, response) in responses.iter_mut() {
                let Some(response) = response.as_object_mut() else {
                    continue;
                };
                let Some(Value::Object(content)) = response.get_mut("content") else {
                    continue;
                };
                match pick(content) {
                    Pick::Unchanged => {}
                    Pick::Json(published) => notes.push(format!(
                        "Response {status} published as {}; generated for `application/json`.",
                        list(&published)
                    )),
                    Pick::NoJson(published) => {
                        response.shift_remove("content");
                        append_note(
                            response,
                            "description",
                            &format!(
                                "Published with a {} body, which is not decoded (only JSON is).",
                                list(&published)
                            ),
                        );
                    }
                }
            }
        }
        if !notes.is_empty() {
            append_note(op, "description", &notes.join(" "));
        }
    }
    Ok(())
}

enum Pick {
    /// Already exactly one `application/json`.
    Unchanged,
    /// Reduced to `application/json`; the media types as published.
    Json(Vec<String>),
    /// No JSON media type among these.
    NoJson(Vec<String>),
}

fn pick(content: &mut Map<String, Value>) -> Pick {
    let published: Vec<String> = content.keys().cloned().collect();
    if published.is_empty() || published == ["application/json"] {
        strip_encoding(content);
        return Pick::Unchanged;
    }
    let chosen = published
        .iter()
        .find(|m| is_json(m) && !m.contains('+'))
        .or_else(|| published.iter().find(|m| is_json(m)))
        .cloned();
    match chosen.and_then(|m| content.shift_remove(&m)) {
        Some(media) => {
            content.clear();
            content.insert("application/json".into(), media);
            strip_encoding(content);
            Pick::Json(published)
        }
        None => Pick::NoJson(published),
    }
}

/// `encoding` applies to form and multipart bodies only (progenitor asserts it is empty).
fn strip_encoding(content: &mut Map<String, Value>) {
    for media in content.values_mut() {
        if let Some(media) = media.as_object_mut() {
            media.shift_remove("encoding");
        }
    }
}

fn list(media_types: &[String]) -> String {
    media_types
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_json_entry_and_says_so() {
        let mut doc = json!({"paths": {"/a": {"post": {"operationId": "a",
        "requestBody": {"content": {"application/xml": {"schema": {"type": "string"}},
                                    "application/json; charset=utf-8": {"schema": {"type": "integer"}}}},
        "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "integer"}}}},
            "500": {"description": "e", "content": {"text/plain": {"schema": {"type": "string"}}}}
        }}}}});
        keep_json(&mut doc).unwrap();
        let op = &doc["paths"]["/a"]["post"];
        assert_eq!(
            op["requestBody"]["content"],
            json!({"application/json": {"schema": {"type": "integer"}}})
        );
        assert_eq!(
            op["description"],
            "Request body published as `application/xml`, `application/json; charset=utf-8`; generated for `application/json`."
        );
        assert!(op["responses"]["500"].get("content").is_none());
        assert!(
            op["responses"]["500"]["description"]
                .as_str()
                .unwrap()
                .contains("`text/plain`")
        );
    }

    #[test]
    fn a_request_body_without_json_names_the_operation() {
        let mut doc = json!({"paths": {"/a": {"put": {"operationId": "upload",
            "requestBody": {"content": {"application/octet-stream": {}}}, "responses": {}}}}});
        let err = keep_json(&mut doc).unwrap_err().to_string();
        assert!(err.contains("operation upload (PUT /a)"), "{err}");
        assert!(
            err.contains("request body media types `application/octet-stream`"),
            "{err}"
        );
    }
}
