//! `cargo xtask diff OLD NEW`: a semantic changelog between two versions of a document — operations,
//! parameters, bodies, status codes, schemas, fields, required flags, types and enum values — one line
//! per change, each marked `BREAKING` or `non-breaking` for users of the generated Rust code.

use crate::validate::operations;
use crate::{Result, downconvert, load, normalize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Whether code generated from OLD may stop compiling or working against NEW.
    pub breaking: bool,
    /// `operation create-game`, `schema Payment`, …
    pub subject: String,
    /// What changed.
    pub what: String,
}

/// Renders changes one per line, breaking first.
pub fn render(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no semantic changes\n".into();
    }
    let mut out = String::new();
    for c in changes
        .iter()
        .filter(|c| c.breaking)
        .chain(changes.iter().filter(|c| !c.breaking))
    {
        let mark = if c.breaking {
            "BREAKING    "
        } else {
            "non-breaking"
        };
        out.push_str(&format!("{mark} {}: {}\n", c.subject, c.what));
    }
    out
}

/// Diffs two files.
pub fn diff_files(old: &Path, new: &Path) -> Result<Vec<Change>> {
    Ok(diff_values(
        &comparable(load::read_document(old)?)?,
        &comparable(load::read_document(new)?)?,
    ))
}

/// The form both sides are compared in: 3.0, inline schemas named.
pub fn comparable(doc: Value) -> Result<Value> {
    let mut doc = downconvert::to_openapi_30(doc);
    normalize::hoist_inline_schemas(&mut doc)?;
    Ok(doc)
}

/// Diffs two comparable documents.
pub fn diff_values(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    diff_operations(old, new, &mut changes);
    diff_schemas(old, new, &mut changes);
    changes
}

fn change(changes: &mut Vec<Change>, breaking: bool, subject: &str, what: String) {
    changes.push(Change {
        breaking,
        subject: subject.to_string(),
        what,
    });
}

type OpMap<'a> = BTreeMap<String, (String, &'a Value)>;

fn op_map(doc: &Value) -> OpMap<'_> {
    operations(doc)
        .into_iter()
        .map(|o| {
            let place = format!("{} {}", o.method.to_uppercase(), o.path);
            let key =
                o.op.get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| place.clone());
            (key, (place, o.op))
        })
        .collect()
}

fn diff_operations(old: &Value, new: &Value, changes: &mut Vec<Change>) {
    let (a, b) = (op_map(old), op_map(new));
    for (id, (place, _)) in &a {
        if !b.contains_key(id) {
            change(
                changes,
                true,
                &format!("operation {id}"),
                format!("removed ({place})"),
            );
        }
    }
    for (id, (place, op_b)) in &b {
        let subject = format!("operation {id}");
        let Some((place_a, op_a)) = a.get(id) else {
            change(changes, false, &subject, format!("added ({place})"));
            continue;
        };
        if place_a != place {
            change(
                changes,
                true,
                &subject,
                format!("moved from {place_a} to {place}"),
            );
        }
        diff_parameters(old, new, op_a, op_b, &subject, changes);
        let body = |doc: &Value, op: &Value| {
            op.pointer("/requestBody/content")
                .and_then(Value::as_object)
                .and_then(|c| c.values().next())
                .map(|m| describe(doc, m.get("schema").unwrap_or(&Value::Null)))
        };
        let (ba, bb) = (body(old, op_a), body(new, op_b));
        if ba != bb {
            change(
                changes,
                true,
                &subject,
                format!("request body {} → {}", show(&ba), show(&bb)),
            );
        }
        let statuses = |op: &Value| -> BTreeMap<String, Option<String>> {
            op.get("responses")
                .and_then(Value::as_object)
                .map(|r| {
                    r.iter()
                        .map(|(s, resp)| {
                            let schema = resp
                                .get("content")
                                .and_then(Value::as_object)
                                .and_then(|c| c.values().next())
                                .map(|m| m.get("schema").unwrap_or(&Value::Null).clone());
                            (s.clone(), schema.map(|s| s.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (sa, sb) = (statuses(op_a), statuses(op_b));
        for (status, schema) in &sa {
            match sb.get(status) {
                None => change(
                    changes,
                    true,
                    &subject,
                    format!("response {status} removed"),
                ),
                Some(other) if other != schema => change(
                    changes,
                    true,
                    &subject,
                    format!("response {status} body changed"),
                ),
                Some(_) => {}
            }
        }
        for status in sb.keys().filter(|s| !sa.contains_key(*s)) {
            change(changes, false, &subject, format!("response {status} added"));
        }
    }
}

fn params(doc: &Value, op: &Value) -> BTreeMap<String, (bool, String)> {
    op.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let p = resolve(doc, p);
            let name = p.get("name")?.as_str()?;
            let place = p.get("in").and_then(Value::as_str).unwrap_or("?");
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            Some((
                format!("{place} {name}"),
                (
                    required,
                    describe(doc, p.get("schema").unwrap_or(&Value::Null)),
                ),
            ))
        })
        .collect()
}

fn diff_parameters(
    old: &Value,
    new: &Value,
    a: &Value,
    b: &Value,
    subject: &str,
    changes: &mut Vec<Change>,
) {
    // A parameter that becomes optional is no break: generated builders still accept it.
    diff_members(
        "parameter",
        &params(old, a),
        &params(new, b),
        false,
        subject,
        changes,
    );
}

/// Compares named members (parameters or fields) given as name → (required, type).
/// `relaxing_breaks`: whether required → optional is breaking too (it is for fields, whose Rust
/// type changes between `T` and `Option<T>`).
fn diff_members(
    noun: &str,
    a: &BTreeMap<String, (bool, String)>,
    b: &BTreeMap<String, (bool, String)>,
    relaxing_breaks: bool,
    subject: &str,
    changes: &mut Vec<Change>,
) {
    for (name, (req_a, ty_a)) in a {
        match b.get(name) {
            None => change(changes, true, subject, format!("{noun} {name} removed")),
            Some((req_b, ty_b)) => {
                if req_a != req_b {
                    let now = if *req_b { "required" } else { "optional" };
                    let breaking = *req_b || relaxing_breaks;
                    change(
                        changes,
                        breaking,
                        subject,
                        format!("{noun} {name} is now {now}"),
                    );
                }
                if ty_a != ty_b {
                    let what = format!("{noun} {name} type {ty_a} → {ty_b}");
                    change(changes, true, subject, what);
                }
            }
        }
    }
    for (name, (req, ty)) in b.iter().filter(|(n, _)| !a.contains_key(*n)) {
        let kind = if *req { "required" } else { "optional" };
        let what = format!("{noun} {name} added ({kind}, {ty})");
        change(changes, *req, subject, what);
    }
}

fn diff_schemas(old: &Value, new: &Value, changes: &mut Vec<Change>) {
    let schemas = |doc: &Value| {
        doc.pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (a, b) = (schemas(old), schemas(new));
    for name in a.keys().filter(|n| !b.contains_key(*n)) {
        change(changes, true, &format!("schema {name}"), "removed".into());
    }
    for (name, sb) in &b {
        let subject = format!("schema {name}");
        let Some(sa) = a.get(name) else {
            change(changes, false, &subject, "added".into());
            continue;
        };
        let (ta, tb) = (describe(old, sa), describe(new, sb));
        if ta != tb && !(ta.starts_with("object") && tb.starts_with("object")) {
            change(changes, true, &subject, format!("type {ta} → {tb}"));
        }
        let enum_values = |s: &Value| -> BTreeSet<String> {
            s.get("enum")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| v.to_string())
                .collect()
        };
        let (ea, eb) = (enum_values(sa), enum_values(sb));
        for v in ea.difference(&eb) {
            change(changes, true, &subject, format!("enum value {v} removed"));
        }
        for v in eb.difference(&ea) {
            change(changes, false, &subject, format!("enum value {v} added"));
        }
        diff_fields(old, new, sa, sb, &subject, changes);
    }
}

fn fields(doc: &Value, schema: &Value) -> BTreeMap<String, (bool, String)> {
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), (required.contains(k.as_str()), describe(doc, v))))
        .collect()
}

fn diff_fields(
    old: &Value,
    new: &Value,
    a: &Value,
    b: &Value,
    subject: &str,
    changes: &mut Vec<Change>,
) {
    diff_members(
        "field",
        &fields(old, a),
        &fields(new, b),
        true,
        subject,
        changes,
    );
}

/// Follows a `#/components/...` reference (parameters and the like).
pub fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

/// A short, comparable description of a schema's type (`string(uuid)?`, `array<Item>`, `A|B`).
pub fn describe(doc: &Value, schema: &Value) -> String {
    let _ = doc;
    let nullable = if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        "?"
    } else {
        ""
    };
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return format!("{}{nullable}", r.rsplit('/').next().unwrap_or(r));
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let inner: Vec<String> = parts.iter().map(|p| describe(doc, p)).collect();
        return format!("{}{nullable}", inner.join("&"));
    }
    if let Some(parts) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let inner: Vec<String> = parts.iter().map(|p| describe(doc, p)).collect();
        return format!("{}{nullable}", inner.join("|"));
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let base = match (ty, schema.get("format").and_then(Value::as_str)) {
        ("array", _) => format!(
            "array<{}>",
            describe(doc, schema.get("items").unwrap_or(&Value::Null))
        ),
        (t, Some(f)) => format!("{t}({f})"),
        (t, None) => t.to_string(),
    };
    format!("{base}{nullable}")
}

fn show(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "none".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(extra_field: bool, required_limit: bool, enum_values: &[&str]) -> Value {
        let mut props =
            json!({"id": {"type": "string"}, "kind": {"$ref": "#/components/schemas/Kind"}});
        if extra_field {
            props["name"] = json!({"type": "string"});
        }
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {"/items": {"get": {"operationId": "list-items",
                "parameters": [{"name": "limit", "in": "query", "required": required_limit, "schema": {"type": "integer"}}],
                "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}}}},
            "components": {"schemas": {"Item": {"type": "object", "properties": props},
                "Kind": {"type": "string", "enum": enum_values}}}})
    }

    #[test]
    fn classifies_changes() {
        let old = doc(false, false, &["a", "b"]);
        let new = doc(true, true, &["a", "c"]);
        let text = render(&diff_values(&old, &new));
        assert!(
            text.contains(
                "BREAKING     operation list-items: parameter query limit is now required"
            ),
            "{text}"
        );
        assert!(
            text.contains("BREAKING     schema Kind: enum value \"b\" removed"),
            "{text}"
        );
        assert!(
            text.contains("non-breaking schema Kind: enum value \"c\" added"),
            "{text}"
        );
        assert!(
            text.contains("non-breaking schema Item: field name added (optional, string)"),
            "{text}"
        );
        assert_eq!(render(&diff_values(&old, &old)), "no semantic changes\n");
    }
}
