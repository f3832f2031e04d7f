//! Soundness checks for the OpenAPI documents in `spec/` (reconstructions from Xsolla's documentation pages until `cargo xtask pull` replaces them; see `spec/NOTES.md`).
//!
//! * both documents parse and declare the expected OpenAPI versions;
//! * every `$ref` resolves inside its document;
//! * every example (media-type `example`/`examples`, parameter `example`/`examples`, schema
//!   `example`) validates against its schema with the `jsonschema` crate (OpenAPI 3.0 schemas
//!   are converted first: `nullable: true` allows `null`, `format: uint32` bounds the value);
//! * operation ids are unique across paths and webhooks (which operations exist and their status
//!   codes, as Xsolla's documentation pages show them, `spec/NOTES.md` explaining every choice,
//!   are pinned by the API-surface snapshots of `api_surface.rs`);
//! * once the xtask pipeline has prepared the document (`default` responses made the error type,
//!   …), per operation all success responses share one body type and all error responses share
//!   one body type (a code-generator requirement);
//! * every webhook payload schema pins `notification_type` to its single value;
//! * no schema uses `additionalProperties: false`;
//! * progenitor (the client generator) accepts `backpack.yaml` as the pipeline prepares it.
//!
//! Run with `cargo test -p workspace-tests --test integration spec_sound::`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

fn load(name: &str) -> Value {
    let path = xtask::workspace_root().join("spec").join(name);
    xtask::load::read_document(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// The two documents with their webhook-map key and OpenAPI major/minor version.
struct Doc {
    name: &'static str,
    value: Value,
    webhooks_key: &'static str,
    is_30: bool,
}

fn docs() -> Vec<Doc> {
    vec![
        Doc {
            name: "backpack.yaml",
            value: load("backpack.yaml"),
            webhooks_key: "x-webhooks",
            is_30: true,
        },
        Doc {
            name: "webhooks.yaml",
            value: load("webhooks.yaml"),
            webhooks_key: "webhooks",
            is_30: false,
        },
    ]
}

fn resolve_pointer<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

/// Follows `$ref` chains (used for responses, parameters and examples); [`every_ref_resolves`]
/// checks that none dangles.
fn deref<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let next = xtask::openapi::resolve(doc, value);
        if std::ptr::eq(next, value) {
            return value;
        }
        value = next;
    }
    panic!("$ref chain too long");
}

/// One operation: where it lives, its id and the operation object.
struct Operation<'a> {
    location: String,
    id: String,
    op: &'a Value,
}

/// The operations of `doc` as the xtask walks them (`paths`, then the webhooks: `x-webhooks` in
/// 3.0, the top-level `webhooks` of a 3.1 document read under the name its 3.0 down-conversion
/// gives it).
fn operations<'a>(doc: &'a Doc) -> Vec<Operation<'a>> {
    let mut view = serde_json::Map::new();
    for (from, to) in [("paths", "paths"), (doc.webhooks_key, "x-webhooks")] {
        if let Some(items) = doc.value.get(from) {
            view.insert(to.to_owned(), items.clone());
        }
    }
    let view = Value::Object(view);
    xtask::openapi::operations(&view)
        .into_iter()
        .map(|found| {
            let section = if found.section == "paths" {
                "paths"
            } else {
                doc.webhooks_key
            };
            let location = format!("{section} {} {}", found.path, found.method);
            let id = found
                .id()
                .unwrap_or_else(|| panic!("{}: {location} has no operationId", doc.name))
                .to_owned();
            // The same operation object in `doc` (the view holds copies).
            let op = &doc.value[section][found.path][found.method];
            Operation { location, id, op }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Parsing and document-level properties

#[test]
fn documents_parse_with_expected_headers() {
    let docs = docs();
    let backpack = &docs[0].value;
    assert_eq!(backpack["openapi"], "3.0.3");
    assert_eq!(backpack["info"]["title"], "Backpack API & Webhooks");
    assert_eq!(backpack["info"]["version"], "1.0.0");
    assert_eq!(
        backpack["servers"][0]["url"],
        "https://metaframe.xsolla.com"
    );
    assert_eq!(
        backpack["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": backpack["components"]["securitySchemes"]["bearer"]["description"],
        })
    );
    assert!(backpack.get("x-webhooks").is_some_and(Value::is_object));

    let webhooks = &docs[1].value;
    assert_eq!(webhooks["openapi"], "3.1.0");
    assert!(webhooks.get("webhooks").is_some_and(Value::is_object));
    if let Some(paths) = webhooks.get("paths") {
        assert_eq!(paths, &json!({}), "webhooks.yaml must have no paths");
    }
    // info.version is sent as a header by progenitor clients: keep it visible ASCII.
    for doc in &docs {
        let version = doc.value["info"]["version"].as_str().expect("info.version");
        assert!(
            version.bytes().all(|b| b.is_ascii_graphic()),
            "{}: info.version {version:?}",
            doc.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// $ref resolution

fn collect_refs(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(r) = v.as_str() {
                        out.push((path.to_owned(), r.to_owned()));
                    }
                } else {
                    collect_refs(v, &format!("{path}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_refs(v, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_ref_resolves() {
    for doc in docs() {
        let mut refs = Vec::new();
        collect_refs(&doc.value, "", &mut refs);
        assert!(!refs.is_empty());
        for (at, r) in refs {
            assert!(
                r.starts_with("#/"),
                "{}: external $ref {r} at {at}",
                doc.name
            );
            assert!(
                resolve_pointer(&doc.value, &r).is_some(),
                "{}: $ref {r} at {at} does not resolve",
                doc.name
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Examples

/// Converts an OpenAPI 3.0 schema object into JSON Schema 2020-12.
fn convert_30(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let converted = match k.as_str() {
                    // maps of schemas
                    "properties" => Value::Object(
                        v.as_object()
                            .map(|m| {
                                m.iter()
                                    .map(|(name, s)| (name.clone(), convert_30(s)))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    ),
                    // example values are not schemas
                    "example" | "default" | "enum" => v.clone(),
                    _ => convert_30(v),
                };
                out.insert(k.clone(), converted);
            }
            if out.get("format").and_then(Value::as_str) == Some("uint32") {
                out.entry("minimum").or_insert(json!(0));
                out.entry("maximum").or_insert(json!(u32::MAX));
            }
            if out.remove("nullable") == Some(Value::Bool(true)) {
                match out.get("type").cloned() {
                    Some(Value::String(t)) => {
                        out.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(values)) = out.get_mut("enum")
                            && !values.contains(&Value::Null)
                        {
                            values.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(&mut out));
                        out.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(convert_30).collect()),
        other => other.clone(),
    }
}

fn schema_root(doc: &Doc, schema: &Value) -> Value {
    let components = doc.value["components"]["schemas"].clone();
    let (mut root, components) = if doc.is_30 {
        (convert_30(schema), convert_30(&components))
    } else {
        (schema.clone(), components)
    };
    match root.as_object_mut() {
        Some(map) => {
            assert!(
                !map.contains_key("components"),
                "schema has a `components` key"
            );
            map.insert("components".into(), json!({ "schemas": components }));
            root
        }
        None => json!({ "allOf": [root], "components": { "schemas": components } }),
    }
}

fn check_instance(
    doc: &Doc,
    schema: &Value,
    instance: &Value,
    what: &str,
    failures: &mut Vec<String>,
) {
    let root = schema_root(doc, schema);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("{}: schema for {what} does not compile: {e}", doc.name));
    for error in validator.iter_errors(instance) {
        failures.push(format!(
            "{}: {what}: {error} (at {})",
            doc.name,
            error.instance_path()
        ));
    }
}

/// Walks a schema (following keywords, not example values) and checks schema-level `example`s.
fn walk_schema(doc: &Doc, schema: &Value, at: &str, count: &mut usize, failures: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if let Some(example) = map.get("example") {
        *count += 1;
        check_instance(
            doc,
            schema,
            example,
            &format!("schema example at {at}"),
            failures,
        );
    }
    if let Some(examples) = map.get("examples").and_then(Value::as_array) {
        for (i, example) in examples.iter().enumerate() {
            *count += 1;
            check_instance(
                doc,
                schema,
                example,
                &format!("schema examples[{i}] at {at}"),
                failures,
            );
        }
    }
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (name, s) in props {
            walk_schema(doc, s, &format!("{at}/properties/{name}"), count, failures);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(s) = map.get(key) {
            walk_schema(doc, s, &format!("{at}/{key}"), count, failures);
        }
    }
    for key in ["oneOf", "anyOf", "allOf", "prefixItems"] {
        if let Some(list) = map.get(key).and_then(Value::as_array) {
            for (i, s) in list.iter().enumerate() {
                walk_schema(doc, s, &format!("{at}/{key}/{i}"), count, failures);
            }
        }
    }
}

/// Finds every object with a `schema` (media types, parameters, headers) and checks its examples;
/// also walks every schema reached that way and every component schema.
fn walk_holders(doc: &Doc, value: &Value, at: &str, count: &mut usize, failures: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(schema) = map.get("schema") {
                if let Some(example) = map.get("example") {
                    *count += 1;
                    check_instance(doc, schema, example, &format!("example at {at}"), failures);
                }
                if let Some(examples) = map.get("examples").and_then(Value::as_object) {
                    for (name, example) in examples {
                        let example = deref(&doc.value, example);
                        if example.get("externalValue").is_some() {
                            continue;
                        }
                        let value = example.get("value").unwrap_or_else(|| {
                            panic!("{}: example {name} at {at} has no value", doc.name)
                        });
                        *count += 1;
                        check_instance(
                            doc,
                            schema,
                            value,
                            &format!("example `{name}` at {at}"),
                            failures,
                        );
                    }
                }
                walk_schema(doc, schema, &format!("{at}/schema"), count, failures);
            }
            for (k, v) in map {
                // example values and schemas are handled above
                if matches!(k.as_str(), "example" | "examples" | "schema" | "schemas") {
                    continue;
                }
                walk_holders(doc, v, &format!("{at}/{k}"), count, failures);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk_holders(doc, v, &format!("{at}/{i}"), count, failures);
            }
        }
        _ => {}
    }
}

#[test]
fn every_example_validates_against_its_schema() {
    for doc in docs() {
        let mut count = 0;
        let mut failures = Vec::new();
        walk_holders(&doc, &doc.value, "", &mut count, &mut failures);
        if let Some(schemas) = doc.value["components"]["schemas"].as_object() {
            for (name, schema) in schemas {
                walk_schema(
                    &doc,
                    schema,
                    &format!("/components/schemas/{name}"),
                    &mut count,
                    &mut failures,
                );
            }
        }
        assert!(
            failures.is_empty(),
            "invalid examples:\n{}",
            failures.join("\n")
        );
        eprintln!("{}: {count} examples validated", doc.name);
        assert!(count >= 10, "{}: only {count} examples found", doc.name);
    }
}

/// The validation itself must be able to fail: a wrong example is rejected.
#[test]
fn example_validation_rejects_bad_values() {
    let docs = docs();
    let mut failures = Vec::new();
    let api_error = json!({"$ref": "#/components/schemas/ApiError"});
    check_instance(
        &docs[0],
        &api_error,
        &json!({"message_id": null, "message": "x"}),
        "ok",
        &mut failures,
    );
    assert!(failures.is_empty(), "{failures:?}");
    check_instance(
        &docs[0],
        &api_error,
        &json!({"message": "x"}),
        "missing message_id",
        &mut failures,
    );
    check_instance(
        &docs[0],
        &api_error,
        &json!({"message_id": 1, "message": "x"}),
        "numeric message_id",
        &mut failures,
    );
    let move_req = json!({"$ref": "#/components/schemas/MoveToWalletRequest"});
    check_instance(
        &docs[0],
        &move_req,
        &json!({"item_id": "a", "project_id": 4_294_967_296_u64, "merchant_id": 0}),
        "uint32 overflow",
        &mut failures,
    );
    let order_paid = json!({"$ref": "#/components/schemas/OrderPaid"});
    check_instance(
        &docs[1],
        &order_paid,
        &json!({"notification_type": "order_canceled"}),
        "wrong const",
        &mut failures,
    );
    let failed_checks: BTreeSet<&str> = failures
        .iter()
        .filter_map(|f| f.split(": ").nth(1))
        .collect();
    assert_eq!(
        failed_checks,
        BTreeSet::from([
            "missing message_id",
            "numeric message_id",
            "uint32 overflow",
            "wrong const"
        ]),
        "{failures:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Operation ids

/// Which operations exist, and each one's status codes, are pinned by the API-surface snapshots
/// (`snapshots/{api,webhooks}__operation__{id}.snap`, one per operation id, orphans refused), not
/// restated here; the generators name types and methods after the ids, so they must be unique.
#[test]
fn operation_ids_are_unique() {
    for doc in docs() {
        let ops = operations(&doc);
        assert!(!ops.is_empty(), "{}: no operations", doc.name);
        let mut seen = BTreeMap::new();
        for op in &ops {
            if let Some(previous) = seen.insert(op.id.clone(), op.location.clone()) {
                panic!(
                    "{}: operationId {} used by {previous} and {}",
                    doc.name, op.id, op.location
                );
            }
        }
    }
}

/// The two documents as `cargo xtask regen` hands them to the generators.
fn prepared_docs() -> Vec<Doc> {
    let root = xtask::workspace_root();
    let overlays = xtask::overlay::load_overlays(&root.join("spec/overlays")).expect("overlays");
    docs()
        .into_iter()
        .map(|doc| Doc {
            value: xtask::regen::read_prepared(&root, doc.name, &overlays)
                .unwrap_or_else(|e| panic!("{}: {e}", doc.name)),
            webhooks_key: "x-webhooks",
            is_30: true,
            ..doc
        })
        .collect()
}

/// progenitor requires that all success responses (and, separately, all error responses) of an
/// operation share one body type; `default` counts as both. The published `default` responses
/// (B10 in `spec/NOTES.md`) are made the error type by the pipeline, so this holds for the
/// prepared documents.
#[test]
fn responses_share_one_body_type_per_class() {
    for doc in prepared_docs() {
        for op in operations(&doc) {
            let mut success = BTreeSet::new();
            let mut error = BTreeSet::new();
            for (code, response) in op.op["responses"].as_object().expect("responses") {
                let response = deref(&doc.value, response);
                let body = response
                    .get("content")
                    .map(|c| {
                        let keys: Vec<_> =
                            c.as_object().expect("content").keys().cloned().collect();
                        assert_eq!(keys, ["application/json"], "{}: {} {code}", doc.name, op.id);
                        c["application/json"]["schema"].to_string()
                    })
                    .unwrap_or_else(|| "<none>".to_owned());
                let first = code.chars().next().expect("status code");
                if code == "default" || first == '2' {
                    success.insert(body.clone());
                }
                if code == "default" || first == '4' || first == '5' {
                    error.insert(body);
                }
            }
            assert!(
                success.len() <= 1,
                "{}: {} success bodies differ: {success:?}",
                doc.name,
                op.id
            );
            assert!(
                error.len() <= 1,
                "{}: {} error bodies differ: {error:?}",
                doc.name,
                op.id
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters, security and webhook payloads

#[test]
fn backpack_parameters_and_security() {
    let docs = docs();
    let doc = &docs[0];
    let x_host_id = &doc.value["components"]["parameters"]["XHostId"];
    assert_eq!(x_host_id["name"], "X-HOST-ID");
    assert_eq!(x_host_id["in"], "header");
    assert_eq!(x_host_id["required"], true);
    let game_and_items = [
        "create-game",
        "get-games",
        "update-game-details",
        "create-game-keys",
        "create-promo-codes",
        "create-virtual-currency",
        "create-virtual-items",
        "user-backpack-items-list",
        "delete-item",
    ];
    for op in operations(doc) {
        let params: Vec<&Value> = op
            .op
            .get("parameters")
            .and_then(Value::as_array)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        let has_host = params.iter().any(|p| {
            p.get("$ref").and_then(Value::as_str) == Some("#/components/parameters/XHostId")
        });
        let webhook = op.location.starts_with("x-webhooks");
        assert_eq!(
            has_host,
            game_and_items.contains(&op.id.as_str()),
            "X-HOST-ID on {}",
            op.id
        );
        // X-HOST-ID is only ever referenced, never defined inline
        assert!(
            params
                .iter()
                .all(|p| p.get("name").and_then(Value::as_str) != Some("X-HOST-ID")),
            "{}",
            op.id
        );
        if webhook {
            assert!(op.op.get("security").is_none(), "{} is a webhook", op.id);
            assert_eq!(op.op["deprecated"], true, "{} must be deprecated", op.id);
            assert_eq!(op.op["tags"], json!(["Webhooks"]), "{}", op.id);
        } else {
            assert_eq!(
                op.op["security"],
                json!([{"bearer": []}]),
                "security of {}",
                op.id
            );
        }
    }
}

#[test]
fn webhooks_carry_the_signature_header() {
    let docs = docs();
    let doc = &docs[1];
    let signature = &doc.value["components"]["parameters"]["Signature"];
    assert_eq!(signature["name"], "Authorization");
    assert_eq!(signature["in"], "header");
    assert_eq!(signature["required"], true);
    assert_eq!(signature["schema"]["pattern"], "^Signature [0-9a-f]{40}$");
    for op in operations(doc) {
        let params = op.op["parameters"].as_array().expect("parameters");
        assert!(
            params.iter().any(|p| p.get("$ref").and_then(Value::as_str)
                == Some("#/components/parameters/Signature")),
            "{} lacks the signature header",
            op.id
        );
    }
}

/// webhook key → (payload schema, notification_type value)
const BACKPACK_PAYLOADS: &[(&str, &str, &str)] = &[
    (
        "user-validation",
        "UserValidationWebhook",
        "user_validation",
    ),
    ("move-item-to-game", "MoveItemToGameWebhook", "move_to_game"),
];

const WEBHOOK_PAYLOADS: &[(&str, &str, &str)] = &[
    ("user_validation", "UserValidation", "user_validation"),
    ("user_search", "UserSearch", "user_search"),
    ("payment", "Payment", "payment"),
    ("order_paid", "OrderPaid", "order_paid"),
    ("order_canceled", "OrderCanceled", "order_canceled"),
    ("refund", "Refund", "refund"),
    ("partial_refund", "PartialRefund", "partial_refund"),
    (
        "payment_account_add",
        "PaymentAccountAdd",
        "payment_account_add",
    ),
    (
        "payment_account_remove",
        "PaymentAccountRemove",
        "payment_account_remove",
    ),
    ("afs_reject", "AfsReject", "afs_reject"),
    (
        "create_subscription",
        "CreateSubscription",
        "create_subscription",
    ),
    (
        "update_subscription",
        "UpdateSubscription",
        "update_subscription",
    ),
    (
        "cancel_subscription",
        "CancelSubscription",
        "cancel_subscription",
    ),
    (
        "non_renewal_subscription",
        "NonRenewalSubscription",
        "non_renewal_subscription",
    ),
];

#[test]
fn webhook_payloads_pin_notification_type() {
    for doc in docs() {
        let table = if doc.is_30 {
            BACKPACK_PAYLOADS
        } else {
            WEBHOOK_PAYLOADS
        };
        let hooks = doc.value[doc.webhooks_key]
            .as_object()
            .expect("webhooks map");
        let keys: BTreeSet<&str> = hooks.keys().map(String::as_str).collect();
        let expected: BTreeSet<&str> = table.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(keys, expected, "{}: webhook keys", doc.name);
        for (key, schema_name, value) in table {
            let post = &hooks[*key]["post"];
            assert_eq!(
                post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                format!("#/components/schemas/{schema_name}"),
                "{}: body of {key}",
                doc.name
            );
            let schema = &doc.value["components"]["schemas"][*schema_name];
            let required = schema["required"].as_array().expect("required");
            assert!(
                required.contains(&json!("notification_type")),
                "{schema_name}: notification_type not required"
            );
            let nt = &schema["properties"]["notification_type"];
            if doc.is_30 {
                assert_eq!(nt["enum"], json!([value]), "{schema_name}");
            } else {
                assert_eq!(nt["const"], json!(value), "{schema_name}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Permissive schemas

fn find_closed_objects(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                out.push(at.to_owned());
            }
            for (k, v) in map {
                find_closed_objects(v, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find_closed_objects(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_schema_forbids_additional_properties() {
    for doc in docs() {
        let mut closed = Vec::new();
        find_closed_objects(&doc.value, "", &mut closed);
        assert!(
            closed.is_empty(),
            "{}: additionalProperties: false at {closed:?}",
            doc.name
        );
    }
}

#[test]
fn every_object_schema_in_a_body_is_named() {
    // Request/response bodies reference component schemas, directly or as array items.
    for doc in docs() {
        for op in operations(&doc) {
            let mut bodies = Vec::new();
            if let Some(body) = op.op.get("requestBody") {
                bodies.push(("request".to_owned(), deref(&doc.value, body)));
            }
            for (code, response) in op.op["responses"].as_object().expect("responses") {
                bodies.push((code.clone(), deref(&doc.value, response)));
            }
            for (what, body) in bodies {
                let Some(schema) = body.pointer("/content/application~1json/schema") else {
                    continue;
                };
                let target = schema.get("items").unwrap_or(schema);
                assert!(
                    target.get("$ref").is_some(),
                    "{}: {} {what} body is not a named schema",
                    doc.name,
                    op.id
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Code generation

/// The prepared 3.0 document goes through progenitor (builder and positional interfaces): no
/// panic (e.g. from differently-typed responses) and no error.
#[test]
fn backpack_spec_generates_with_progenitor() {
    let docs = prepared_docs();
    let view = xtask::simplify::progenitor_view::view(&docs[0].value);
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(view).expect("backpack.yaml parses as openapiv3::OpenAPI");
    for interface in [
        progenitor::InterfaceStyle::Builder,
        progenitor::InterfaceStyle::Positional,
    ] {
        let mut settings = progenitor::GenerationSettings::new();
        settings.with_interface(interface);
        let result = std::panic::catch_unwind(|| {
            progenitor::Generator::new(&settings).generate_tokens(&spec)
        });
        match result {
            Ok(Ok(tokens)) => assert!(!tokens.is_empty()),
            Ok(Err(e)) => panic!("progenitor rejected backpack.yaml: {e}"),
            Err(_) => panic!("progenitor panicked on backpack.yaml"),
        }
    }
}
