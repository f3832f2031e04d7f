//! The checker's rules on small schemas, the report's merge and JSON (the rate limit of its
//! warnings: `warn_limit.rs`, in the `logs` binary).

use backpack_drift::{DriftReport, DriftWatch, Family, Kind, Schemas};
use serde_json::json;
use std::sync::Arc;

use crate::fixture::watch;

fn shown(watch: &DriftWatch) -> Vec<String> {
    watch
        .report()
        .findings
        .iter()
        .map(|o| o.finding.to_string())
        .collect()
}

#[test]
fn a_conforming_body_gives_nothing() {
    let w = watch();
    let body = json!({"id": "x", "kind": "a", "price": 3, "note": null, "tags": ["t"],
        "extra": {"any-key": 1}, "free": {"x": [1]}, "child": {"id": 1, "kind": "b"}});
    w.check_response(
        "GET",
        "/base/things/1",
        200,
        Some("application/json; charset=utf-8"),
        body.to_string().as_bytes(),
    );
    w.check_response("GET", "/things/1", 204, None, b"");
    w.check_response("POST", "/things/1", 500, None, b"not an operation");
    w.check_response(
        "GET",
        "/things/1",
        200,
        Some("application/json"),
        b"{not json",
    );
    assert!(w.report().is_empty(), "{:?}", shown(&w));
}

#[test]
fn each_kind_of_difference_is_found_once_with_its_path() {
    let w = watch();
    let body = json!({"id": true, "kind": "c", "price": "1", "note": 5, "tags": [1, "x", 2],
        "extra": {"k": "v"}, "new": {"deep": 1},
        "child": {"kind": "a", "child": {"id": 1, "kind": "a", "new2": []}}});
    w.check_response(
        "GET",
        "/things/1",
        200,
        Some("application/json"),
        body.to_string().as_bytes(),
    );
    w.check_response("GET", "/things/1", 302, None, b"");
    w.check_response("GET", "/things/1", 200, Some("text/html"), b"<p>");
    w.check_response(
        "GET",
        "/things/1",
        404,
        Some("application/json"),
        br#"{"message":"m","code":1}"#,
    );
    w.check_webhook(Family::Store, "other", b"{}");
    let mut got = shown(&w);
    got.sort();
    let mut want = vec![
        "get-thing 200: unknown_property at $.child.child.new2, seen array",
        "get-thing 200: unknown_property at $.new, seen object",
        "get-thing 200: missing_required at $.child.id",
        "get-thing 200: type_mismatch at $.id, expected integer|string, seen boolean",
        "get-thing 200: type_mismatch at $.note, expected null|string, seen integer",
        "get-thing 200: type_mismatch at $.price, expected number, seen string",
        "get-thing 200: type_mismatch at $.tags[], expected string, seen integer",
        "get-thing 200: type_mismatch at $.extra.k, expected integer, seen string",
        "get-thing 200: unknown_enum_value at $.kind, seen string, value c",
        "get-thing 200: undocumented_content_type at $, seen text/html",
        "get-thing 302: undocumented_status at $",
        "get-thing 4XX: unknown_property at $.code, seen integer",
        "store webhook other: unknown_notification_type at $",
    ];
    want.sort();
    assert_eq!(got, want);
    // `tags[]` had two integers: one finding, counted once for the body.
    let tags = w
        .report()
        .findings
        .into_iter()
        .find(|o| o.finding.path == "$.tags[]")
        .unwrap();
    assert_eq!(tags.count, 1);
}

#[test]
fn reports_merge_and_round_trip_through_json() {
    let a = watch();
    let b = watch();
    a.check_webhook(Family::Store, "x", b"{}");
    b.check_webhook(Family::Store, "x", b"{}");
    b.check_webhook(Family::Store, "y", b"{}");
    let mut merged = a.report();
    merged.merge(&b.report());
    assert_eq!(merged.findings.len(), 2);
    assert_eq!(merged.findings[0].count, 2);
    assert_eq!(
        merged.findings[0].finding.kind,
        Kind::UnknownNotificationType
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.json");
    merged.write_to(&file).unwrap();
    assert_eq!(DriftReport::read_from(&file).unwrap(), merged);
    assert!(DriftReport::from_json(r#"{"format":"other","spec_id":"","findings":[]}"#).is_err());
    assert!(DriftReport::read_from(&dir.path().join("missing.json")).is_err());
}

#[test]
fn a_background_watch_reports_what_an_inline_one_does() {
    let body = json!({"id": true, "kind": "c", "new": 1}).to_string();
    let inline = watch();
    let background = watch().background(16);
    for w in [&inline, &background] {
        for _ in 0..3 {
            w.check_response(
                "GET",
                "/things/1",
                200,
                Some("application/json"),
                body.as_bytes(),
            );
            w.check_webhook(Family::Store, "other", b"{}");
        }
    }
    // `report` waits for the queued checks: no sleep needed.
    let (a, b) = (inline.report(), background.report());
    assert_eq!(a.distinct(), b.distinct());
    assert_eq!(
        a.findings.iter().map(|o| o.count).collect::<Vec<_>>(),
        b.findings.iter().map(|o| o.count).collect::<Vec<_>>()
    );
    assert_eq!(b.findings.len(), 4);
    assert_eq!(background.dropped(), 0);
}

/// What a receiver keeps in its skim (the shape `backpack-webhooks` passes).
const KEEP: backpack_drift::Keep = &[
    ("notification_type", &[]),
    ("thing", &["id"]),
    ("list", &["id"]),
];

/// A webhook whose members differ from `Hook` in several ways, `notification_type` placed first,
/// last, or twice.
#[test]
fn checking_in_the_callers_walk_finds_what_a_separate_pass_finds() {
    let doc = json!({
        "family": "store",
        "operations": [],
        "webhooks": {"thing": {"ref": "Hook"}, "other": {"ref": "Other"}},
        "schemas": {
            "Hook": {"type": "object", "required": ["notification_type", "thing", "gone"], "properties": {
                "notification_type": {"type": "string", "enum": ["thing"]},
                "thing": {"ref": "Thing"},
                "list": {"type": "array", "items": {"ref": "Thing"}},
                "kind": {"type": "string", "enum": ["a"]}
            }},
            "Thing": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"}, "n": {"type": "integer"}
            }},
            "Other": {"type": "object", "properties": {"notification_type": {"type": "string"}}}
        }
    });
    let schemas = Arc::new(Schemas::from_documents(&[&doc.to_string()], "t").unwrap());
    let bodies = [
        r#"{"notification_type":"thing","thing":{"id":5,"n":"x","new":1},"list":[{"id":"a","z":[1]}],"kind":"b","extra":{"a":1}}"#,
        r#"{"thing":{"id":"1","n":2},"kind":"b","notification_type":"thing"}"#,
        r#"{"notification_type":"other","thing":{"id":"1"},"notification_type":"thing"}"#,
        r#"{"notification_type":"brand_new","thing":{"id":"1"}}"#,
        r#"{"notification_type":"thing","thing":[1,2],"list":{"id":"x"},"kind":null}"#,
    ];
    for body in bodies {
        let separate = DriftWatch::with_schemas(schemas.clone());
        let folded = DriftWatch::with_schemas(schemas.clone());
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        let kind = value["notification_type"].as_str().unwrap();
        separate.check_webhook(Family::Store, kind, body.as_bytes());
        let kept = folded
            .check_webhook_keeping(Family::Store, body.as_bytes(), KEEP)
            .unwrap()
            .unwrap();
        assert_eq!(shown(&folded), shown(&separate), "{body}");
        // The kept members: whole, or only the listed sub-members of an object (an array empty).
        assert_eq!(
            kept["notification_type"], value["notification_type"],
            "{body}"
        );
        match &value["thing"] {
            serde_json::Value::Object(m) => assert_eq!(kept["thing"], json!({"id": m["id"]})),
            serde_json::Value::Array(_) => assert_eq!(kept["thing"], json!([])),
            other => assert_eq!(&kept["thing"], other),
        }
    }
    // The first body differs in every way the check knows.
    assert!(
        shown(&{
            let w = DriftWatch::with_schemas(schemas.clone());
            w.check_webhook_keeping(Family::Store, bodies[0].as_bytes(), KEEP);
            w
        })
        .len()
            >= 6
    );
    // Not JSON, or not an object: the error, and nothing recorded.
    let w = DriftWatch::with_schemas(schemas.clone());
    for bad in [&b"{"[..], b"[1]", b"{\"notification_type\":\"thing\"} x"] {
        assert!(
            w.check_webhook_keeping(Family::Store, bad, KEEP)
                .unwrap()
                .is_err()
        );
    }
    assert!(w.report().is_empty());
    // Switched off or checking on its own thread: the caller reads and hands over the body.
    w.set_enabled(false);
    assert!(
        w.check_webhook_keeping(Family::Store, b"{}", KEEP)
            .is_none()
    );
}
