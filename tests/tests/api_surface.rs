//! Drift snapshots: a readable API surface per operation and per type, and the JSON Schema of every
//! webhook payload. A spec change shows up here as a reviewable diff; nothing is auto-accepted in CI
//! (insta never writes snapshots when `CI` is set), and a snapshot no longer produced fails
//! `snapshot_files_have_no_orphans`.

use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use xtask::diff::describe;
use xtask::openapi::operations;
use xtask::openapi::resolve;
use xtask::regen::{BACKPACK, WEBHOOKS, read_prepared};

fn prepared(file: &str) -> Value {
    let root = xtask::workspace_root();
    let overlays = xtask::overlay::load_overlays(&root.join("spec/overlays")).unwrap();
    read_prepared(&root, file, &overlays).unwrap()
}

fn operation_surface(doc: &Value, section: &str, path: &str, method: &str, op: &Value) -> String {
    let mut s = String::new();
    let id = op["operationId"].as_str().unwrap_or("?");
    writeln!(s, "operation: {id}").unwrap();
    writeln!(
        s,
        "{}: {} {path}",
        if section == "paths" {
            "route"
        } else {
            "webhook"
        },
        method.to_uppercase()
    )
    .unwrap();
    let tags: Vec<&str> = op["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    writeln!(s, "tags: {tags:?}").unwrap();
    let security: Vec<String> = op
        .get("security")
        .or_else(|| doc.get("security"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|m| m.keys().cloned())
        .collect();
    writeln!(s, "security: {security:?}").unwrap();
    if op.get("deprecated").and_then(Value::as_bool) == Some(true) {
        writeln!(s, "deprecated: true").unwrap();
    }
    writeln!(s, "parameters:").unwrap();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let p = resolve(doc, p);
        let required = if p["required"].as_bool() == Some(true) {
            "required"
        } else {
            "optional"
        };
        let default = p
            .pointer("/schema/default")
            .map(|d| format!(", default {d}"))
            .unwrap_or_default();
        writeln!(
            s,
            "  {} {}: {}, {required}{default}",
            p["in"].as_str().unwrap_or("?"),
            p["name"].as_str().unwrap_or("?"),
            describe(doc, &p["schema"])
        )
        .unwrap();
    }
    match op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
    {
        Some(content) => {
            for (media, m) in content {
                let required =
                    if op.pointer("/requestBody/required").and_then(Value::as_bool) == Some(true) {
                        "required"
                    } else {
                        "optional"
                    };
                writeln!(
                    s,
                    "body: {media} {} ({required})",
                    describe(doc, &m["schema"])
                )
                .unwrap();
            }
        }
        None => writeln!(s, "body: none").unwrap(),
    }
    writeln!(s, "responses:").unwrap();
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let response = resolve(doc, response);
        let body = response
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.iter().next())
            .map(|(media, m)| format!("{media} {}", describe(doc, &m["schema"])))
            .unwrap_or_else(|| "no body".into());
        writeln!(s, "  {status}: {body}").unwrap();
    }
    s
}

fn type_surface(doc: &Value, name: &str, schema: &Value) -> String {
    let mut s = String::new();
    writeln!(s, "type: {name}").unwrap();
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        writeln!(
            s,
            "enum (open: unknown values are kept): {}",
            values
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
        .unwrap();
        return s;
    }
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    match schema.get("properties").and_then(Value::as_object) {
        Some(props) => {
            writeln!(s, "fields:").unwrap();
            for (field, f) in props {
                let req = if required.contains(field.as_str()) {
                    "required"
                } else {
                    "optional"
                };
                let dep = if f.get("deprecated").and_then(Value::as_bool) == Some(true) {
                    ", deprecated"
                } else {
                    ""
                };
                let values = f
                    .get("enum")
                    .map(|e| format!(", values {e}"))
                    .unwrap_or_default();
                writeln!(s, "  {field}: {}, {req}{dep}{values}", describe(doc, f)).unwrap();
            }
            // The generated constructor: it changes only when a caller must pass something new.
            let params = xtask::codegen::types::constructor_params(name, schema).unwrap();
            let rust_name = xtask::codegen::names::type_name(name);
            writeln!(s, "rust: {rust_name}::new({})", params.join(", ")).unwrap();
        }
        None => writeln!(s, "is: {}", describe(doc, schema)).unwrap(),
    }
    s
}

/// Every snapshot this test file asserts: (name, contents).
fn all_snapshots() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (module, file) in [("api", BACKPACK), ("webhooks", WEBHOOKS)] {
        let doc = prepared(file);
        for op in operations(&doc) {
            let id = op.op["operationId"].as_str().unwrap_or("?");
            out.push((
                format!("{module}__operation__{id}"),
                operation_surface(&doc, op.section, op.path, op.method, op.op),
            ));
        }
        for (name, schema) in doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            out.push((
                format!("{module}__type__{name}"),
                type_surface(&doc, name, schema),
            ));
        }
    }
    let schemas = backpack_types::webhooks::WebhookEvent::payload_schemas()
        .into_iter()
        .map(|(kind, schema)| (format!("webhooks__json_schema__{kind}"), schema))
        .chain(
            backpack_types::api::BackpackWebhookEvent::payload_schemas()
                .into_iter()
                .map(|(kind, schema)| (format!("api__json_schema__{kind}"), schema)),
        );
    for (name, schema) in schemas {
        out.push((name, serde_json::to_string_pretty(&schema).unwrap()));
    }
    out
}

#[test]
fn api_surface_matches_snapshots() {
    let mut failures = Vec::new();
    for (name, contents) in all_snapshots() {
        let result = std::panic::catch_unwind(|| {
            insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
                insta::assert_snapshot!(name.clone(), contents);
            });
        });
        if result.is_err() {
            failures.push(name);
        }
    }
    assert!(
        failures.is_empty(),
        "{} API-surface snapshots changed (review with `cargo insta review`, or accept with \
         `INSTA_UPDATE=always cargo test -p workspace-tests --test integration api_surface::`): {failures:?}",
        failures.len()
    );
}

#[test]
fn snapshot_files_have_no_orphans() {
    let expected: BTreeSet<String> = all_snapshots()
        .into_iter()
        .map(|(name, _)| format!("{name}.snap"))
        .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".snap"))
                .collect()
        })
        .unwrap_or_default();
    let orphans: Vec<_> = on_disk.difference(&expected).collect();
    assert!(
        orphans.is_empty(),
        "snapshots no longer produced by any test (delete them): {orphans:?}"
    );
}
