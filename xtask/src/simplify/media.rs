//! One media type per body. A body published under several media types (`application/json`
//! and `application/xml`, …) or as `application/json; charset=utf-8` keeps only its JSON entry,
//! renamed `application/json` (what progenitor recognises), and the operation's description says
//! what was published. A request body without a JSON media type keeps one other, by preference
//! form, `text/plain`, multipart, `application/octet-stream`, then the first published (its
//! kind, [`crate::openapi::BodyKind`], decides what client and server make of it; each is
//! reported in the [`Report`]). A response without JSON loses its body (noted in its
//! description), so the call still generates.

use super::append_note;
use super::refs::pointer_of;
use crate::Result;
use crate::degrade::Report;
use crate::openapi::{BodyKind, body_kind, essence, is_json, operations};
use serde_json::{Map, Value};

/// Keeps the JSON media type of every request and response body (one other for a request body
/// without JSON, reported).
pub fn keep_json(doc: &mut Value, report: &mut Report) -> Result<()> {
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
            // A media type without a schema takes any value of its type.
            for media in content.values_mut() {
                if let Value::Object(media) = media {
                    media
                        .entry("schema")
                        .or_insert_with(|| Value::Object(Map::new()));
                }
            }
            match pick(content) {
                Pick::Unchanged => {}
                Pick::Json(published) => notes.push(format!(
                    "Request body published as {}; generated for `application/json`.",
                    list(&published)
                )),
                Pick::NoJson(published) => {
                    let chosen = keep_preferred(content, &published);
                    if published.len() > 1 {
                        notes.push(format!(
                            "Request body published as {}; generated for `{chosen}`.",
                            list(&published)
                        ));
                    }
                    let (construct, fallback) = request_fallback(&chosen);
                    report.add(&label, construct, fallback);
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
                let picked = pick(content);
                let schemaless = content
                    .get("application/json")
                    .is_some_and(|m| m.get("schema").is_none());
                if schemaless {
                    // Examples only: nothing to type, so the response has no decoded body.
                    response.shift_remove("content");
                    append_note(
                        response,
                        "description",
                        "Published with a JSON body without a schema, which is not decoded.",
                    );
                    continue;
                }
                match picked {
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

/// Keeps the preferred non-JSON request media type (under its essence) and returns it.
fn keep_preferred(content: &mut Map<String, Value>, published: &[String]) -> String {
    let rank = |m: &String| match body_kind(m) {
        BodyKind::Form => 0,
        BodyKind::Text => 1,
        BodyKind::Multipart => 2,
        BodyKind::Bytes if essence(m) == "application/octet-stream" => 3,
        BodyKind::Bytes | BodyKind::Json => 4,
    };
    let mut ordered: Vec<&String> = published.iter().collect();
    ordered.sort_by_key(|m| rank(m));
    let Some(chosen) = ordered.first().map(|m| m.to_string()) else {
        return String::new();
    };
    let media = content.shift_remove(&chosen).unwrap_or(Value::Null);
    content.clear();
    let key = essence(&chosen);
    content.insert(key.clone(), media);
    strip_encoding(content);
    key
}

/// The report's construct and fallback for a request body of `media_type` (not JSON).
fn request_fallback(media_type: &str) -> (String, String) {
    let construct = format!("`{media_type}` request body");
    let fallback = match body_kind(media_type) {
        BodyKind::Text => "`String`, sent and accepted as `text/plain`".to_string(),
        BodyKind::Form => {
            "the typed struct, form-encoded by the client and decoded by the server".to_string()
        }
        BodyKind::Multipart => "the raw body with its `multipart/form-data` content type (boundary included; parts not typed)".to_string(),
        BodyKind::Bytes | BodyKind::Json => {
            format!("raw bytes, sent and accepted as `{media_type}`")
        }
    };
    (construct, fallback)
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
        keep_json(&mut doc, &mut Report::default()).unwrap();
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
    fn a_request_body_without_json_keeps_one_other_and_reports_it() {
        let mut doc = json!({"paths": {"/a": {"put": {"operationId": "upload",
            "requestBody": {"content": {"application/octet-stream": {},
                "Multipart/Form-Data; boundary=x": {"encoding": {"a": {}}}}}, "responses": {}}}}});
        let mut report = Report::default();
        keep_json(&mut doc, &mut report).unwrap();
        let op = &doc["paths"]["/a"]["put"];
        assert_eq!(
            op["requestBody"]["content"],
            json!({"multipart/form-data": {"schema": {}}})
        );
        assert!(
            op["description"]
                .as_str()
                .unwrap()
                .contains("generated for `multipart/form-data`")
        );
        let lines = report.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("degraded: operation upload (PUT /a): `multipart/form-data` request body → the raw body"), "{lines:?}");
    }
}
