//! Operation-level fallbacks: what would stop a generator for the whole document is fixed or left
//! out for that one operation, and reported.
//!
//! * a missing `operationId` is derived from the method and path (or webhook name); ids that are
//!   duplicates, or that become the same Rust name, get a numeric suffix; non-ASCII ids are
//!   spelled in ASCII;
//! * a non-ASCII `info.version` (progenitor sends it as a header value) is spelled in ASCII;
//! * an operation whose success (or error) responses have different bodies (progenitor would
//!   panic), that the server generator cannot serve, or that progenitor fails on alone, is left out
//!   of client, server and mocks. Its models are still generated.

use super::Report;
use crate::codegen::names::{ascii_name, type_name};
use crate::openapi::{METHODS, operations};
use crate::simplify::refs::pointer_of;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the fallback of a left-out operation is, in the report.
pub const LEFT_OUT: &str = "left out of client, server and mocks (its schemas are still generated)";

/// Fixes or leaves out, before validation, what progenitor would panic on.
pub fn before_validate(doc: &mut Value, report: &mut Report) {
    fix_info_version(doc, report);
    fix_operation_ids(doc, report);
    for (path, method, label, why) in conflicting_responses(doc) {
        leave_out(doc, &path, method, &label, &why, report);
    }
}

/// After inline schemas are named: component schemas whose Rust names would clash are renamed,
/// and operations the server generator cannot serve are left out.
pub fn after_hoist(doc: &mut Value, report: &mut Report) {
    rename_clashing_schemas(doc, report);
    client_parameter_clashes(doc, report);
    let survey = crate::codegen::server::survey(doc);
    for (path, method, label, why) in survey.unservable {
        leave_out(doc, &path, method, &label, &why, report);
    }
    for (label, wire, field) in survey.renamed {
        report.add(
            label,
            format!("parameter {wire:?} would take a name the server input already uses"),
            format!("server input field `{field}` (wire name unchanged)"),
        );
    }
}

/// Operation extension listing `[name, in]` of the parameters the client view leaves out (read by
/// `simplify::progenitor_view`).
pub const CLIENT_OMITS: &str = "x-xtask-client-omits";

/// progenitor names a parameter after its snake-cased name, so `userId` next to `user_id` (or a
/// path `id` next to a query `id`) gives two builder methods of one name. The later one is left
/// out of the client when optional (the server still takes it); when required, the operation is
/// left out.
fn client_parameter_clashes(doc: &mut Value, report: &mut Report) {
    use heck::ToSnakeCase;
    let mut omits: Vec<(String, Vec<Value>)> = Vec::new();
    let mut out: Vec<(String, &'static str, String, String)> = Vec::new();
    for op in operations(doc).into_iter().filter(|o| o.section == "paths") {
        let Ok(params) = crate::openapi::effective_parameters(doc, op.path, op.op) else {
            continue;
        };
        let mut seen: Vec<String> = Vec::new();
        let mut omitted = Vec::new();
        for p in params {
            let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
            let place = p.get("in").and_then(Value::as_str).unwrap_or_default();
            let key: String = name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
                .to_snake_case();
            if !seen.contains(&key) {
                seen.push(key);
                continue;
            }
            let required =
                place == "path" || p.get("required").and_then(Value::as_bool) == Some(true);
            if required {
                out.push((
                    op.path.to_string(),
                    op.method,
                    op.label(),
                    format!("required parameter {name:?} ({place}) has the client name of another parameter"),
                ));
                omitted.clear();
                break;
            }
            omitted.push(serde_json::json!([name, place]));
            report.add(
                op.label(),
                format!("parameter {name:?} ({place}) has the client name of another parameter"),
                "left out of the client (the server still reads it)",
            );
        }
        if !omitted.is_empty() {
            omits.push((pointer_of(op.section, op.path, op.method), omitted));
        }
    }
    for (pointer, omitted) in omits {
        if let Some(Value::Object(op)) = doc.pointer_mut(&pointer) {
            op.insert(CLIENT_OMITS.into(), Value::Array(omitted));
        }
    }
    for (path, method, label, why) in out {
        leave_out(doc, &path, method, &label, &why, report);
    }
}

/// Type names the types modules generate besides the schemas (the webhook event enums).
const RESERVED_TYPES: [&str; 3] = ["Event", "WebhookEvent", "BackpackWebhookEvent"];

/// `pet` next to `Pet`, `my-thing` next to `MyThing`, or a schema named like an event enum: each
/// later one is renamed `{name}_2`, … (its `$ref`s with it), so every schema has its own type.
fn rename_clashing_schemas(doc: &mut Value, report: &mut Report) {
    let names: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut taken: Vec<String> = RESERVED_TYPES.iter().map(|s| s.to_string()).collect();
    let mut renames: Vec<(String, String)> = Vec::new();
    for name in &names {
        let mut new = name.clone();
        let mut n = 2;
        while taken.contains(&type_name(&new)) || (new != *name && names.contains(&new)) {
            new = format!("{name}_{n}");
            n += 1;
        }
        taken.push(type_name(&new));
        if new != *name {
            renames.push((name.clone(), new));
        }
    }
    if renames.is_empty() {
        return;
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        let old = std::mem::take(schemas);
        for (key, value) in old {
            let key = renames
                .iter()
                .find(|(from, _)| *from == key)
                .map_or(key, |(_, to)| to.clone());
            schemas.insert(key, value);
        }
    }
    let refs: BTreeMap<String, String> = renames
        .iter()
        .map(|(from, to)| {
            (
                format!("#/components/schemas/{from}"),
                format!("#/components/schemas/{to}"),
            )
        })
        .collect();
    rewrite_refs(doc, &refs);
    for (from, to) in renames {
        report.add(
            format!("schema {from}"),
            "its Rust type name clashes with another schema's or a generated type's",
            format!("generated as `{}`", type_name(&to)),
        );
    }
}

fn rewrite_refs(value: &mut Value, refs: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match inner {
                    Value::String(s) if key == "$ref" => {
                        if let Some(to) = refs.get(s.as_str()) {
                            *s = to.clone();
                        }
                    }
                    _ => rewrite_refs(inner, refs),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, refs)),
        _ => {}
    }
}

/// Removes `paths[path][method]` (and the path item when nothing is left) and reports it.
pub fn leave_out(
    doc: &mut Value,
    path: &str,
    method: &str,
    label: &str,
    why: &str,
    report: &mut Report,
) {
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        let empty = match paths.get_mut(path) {
            Some(Value::Object(item)) => {
                item.shift_remove(method);
                !item.keys().any(|k| METHODS.contains(&k.as_str()))
            }
            _ => false,
        };
        if empty {
            paths.shift_remove(path);
        }
    }
    report.add(label, why, LEFT_OUT);
}

fn fix_info_version(doc: &mut Value, report: &mut Report) {
    let Some(Value::Object(info)) = doc.get_mut("info") else {
        return;
    };
    let version = info.get("version").and_then(Value::as_str).unwrap_or("");
    let visible = |b: u8| (0x20..0x7f).contains(&b);
    if !version.is_empty() && version.bytes().all(visible) {
        return;
    }
    let fixed: String = version
        .chars()
        .map(|c| {
            if c.is_ascii() && visible(c as u8) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let fixed = if fixed.is_empty() { "0".into() } else { fixed };
    report.add(
        format!("info.version {version:?}"),
        "not visible ASCII (progenitor sends it as a header value)",
        format!("sent as {fixed:?}"),
    );
    info.insert("version".into(), Value::String(fixed));
}

fn fix_operation_ids(doc: &mut Value, report: &mut Report) {
    let mut renames: Vec<(String, String, String, Option<String>)> = Vec::new();
    let mut taken: BTreeMap<String, ()> = BTreeMap::new();
    for op in operations(doc) {
        let pointer = pointer_of(op.section, op.path, op.method);
        let (base, why) = match op.id() {
            None => {
                if op.section == "paths" {
                    let base = slug(&ascii_name(&format!("{} {}", op.method, op.path)));
                    (base, Some("no `operationId`"))
                } else {
                    // A webhook needs no id to be dispatched; it names its inline schemas.
                    (ascii_name(op.path), None)
                }
            }
            Some(id) if !id.is_ascii() => (ascii_name(id), Some("non-ASCII `operationId`")),
            Some(id) => (id.to_string(), None),
        };
        let mut id = base.clone();
        let mut n = 2;
        while taken.contains_key(&type_name(&id)) {
            id = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(type_name(&id), ());
        let why = match (why, id != base) {
            (Some(why), _) => Some(why.to_string()),
            (None, true) => Some(format!(
                "`operationId` {base:?} names the same Rust item as an earlier operation"
            )),
            (None, false) => None,
        };
        if op.id() != Some(id.as_str()) {
            renames.push((pointer, op.label(), id, why));
        }
    }
    for (pointer, label, id, why) in renames {
        if let Some(Value::Object(op)) = doc.pointer_mut(&pointer) {
            op.insert("operationId".into(), Value::String(id.clone()));
        }
        if let Some(why) = why {
            report.add(label, why, format!("generated as operation `{id}`"));
        }
    }
}

/// `get /pets/{id}` → `get-pets-id`.
fn slug(text: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("-").to_ascii_lowercase()
}

/// The body schema of a response, as comparable JSON (`None` when it has no body).
fn body_schema(response: &Value) -> Option<&Value> {
    let content = response.get("content")?.as_object()?;
    content
        .values()
        .next()
        .map(|m| m.get("schema").unwrap_or(&Value::Null))
}

/// Operations under `paths` whose success (or error) responses differ in body.
fn conflicting_responses(doc: &Value) -> Vec<(String, &'static str, String, String)> {
    let mut out = Vec::new();
    for op in operations(doc).into_iter().filter(|o| o.section == "paths") {
        let Some(responses) = op.op.get("responses").and_then(Value::as_object) else {
            continue;
        };
        let mut success: Vec<(&String, Option<&Value>)> = Vec::new();
        let mut errors: Vec<(&String, Option<&Value>)> = Vec::new();
        for (status, response) in responses {
            let entry = (status, body_schema(response));
            if status.starts_with('2') {
                success.push(entry);
            } else if status.starts_with('4') || status.starts_with('5') || status == "default" {
                errors.push(entry);
            }
        }
        'kinds: for (kind, list) in [("success", &success), ("error", &errors)] {
            if let Some((first_status, first)) = list.first() {
                for (status, schema) in list.iter().skip(1) {
                    if schema != first {
                        out.push((
                            op.path.to_string(),
                            op.method,
                            op.label(),
                            format!(
                                "{kind} responses {first_status} and {status} have different bodies (progenitor needs one {kind} type)"
                            ),
                        ));
                        break 'kinds;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_derived_made_distinct_and_conflicting_operations_left_out() {
        let mut doc = json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1 é"},
        "paths": {
            "/a": {"get": {"responses": {}}, "put": {"operationId": "getPet", "responses": {}}},
            "/b": {"get": {"operationId": "get_pet", "responses": {}},
                   "post": {"operationId": "two", "responses": {
                       "200": {"content": {"application/json": {"schema": {"type": "string"}}}},
                       "201": {"description": "none"}}}}
        }});
        let mut report = Report::default();
        before_validate(&mut doc, &mut report);
        assert_eq!(doc["info"]["version"], "1 _");
        assert_eq!(doc["paths"]["/a"]["get"]["operationId"], "get-a");
        assert_eq!(doc["paths"]["/b"]["get"]["operationId"], "get_pet-2");
        assert!(doc["paths"]["/b"].get("post").is_none());
        let lines = report.lines().join("\n");
        assert!(
            lines.contains(
                "operation two (POST /b): success responses 200 and 201 have different bodies"
            ),
            "{lines}"
        );
        assert!(
            lines.contains(
                "operation get_pet (GET /b): `operationId` \"get_pet\" names the same Rust item"
            ),
            "{lines}"
        );
        assert_eq!(report.items().len(), 4, "{lines}");
    }

    #[test]
    fn schemas_with_clashing_rust_names_are_renamed_with_their_refs() {
        let mut doc = json!({"paths": {}, "components": {"schemas": {
            "Pet": {"type": "object", "properties": {"o": {"$ref": "#/components/schemas/pet"}}},
            "pet": {"type": "string"},
            "Event": {"type": "string"}
        }}});
        let mut report = Report::default();
        rename_clashing_schemas(&mut doc, &mut report);
        let keys: Vec<&String> = doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["Pet", "pet_2", "Event_2"]);
        assert_eq!(
            doc["components"]["schemas"]["Pet"]["properties"]["o"]["$ref"],
            "#/components/schemas/pet_2"
        );
        assert_eq!(report.items().len(), 2);
    }
}
