//! Every Xsolla sample in the repository (the webhook fixtures of `backpack-webhooks`, and the
//! response and webhook examples of `spec/`, which the emulator serves and sends) runs through
//! the watch; a clean spec gives a clean watch. What a sample shows that the spec leaves
//! out on purpose is listed in `EXPECTED`, each with its `spec/NOTES.md` entry.

use backpack_drift::{DriftWatch, Family};
use serde_json::Value;
use std::path::Path;

/// `(fixture, finding as displayed)`: findings the spec keeps on purpose (see spec/NOTES.md).
const EXPECTED: &[(&str, &str)] = &[
    // W36: the PHP SDK fixture's `"promotions[0]"` key, an SDK artefact (not an identifier: `*`).
    (
        "store/payment.sdk.json",
        "store webhook payment: unknown_property at $.purchase.*, seen object",
    ),
    // "Conventions used": the doc schema samples' placeholder `"notification_type": "string"`.
    (
        "store/unknown.doc_schema_placeholder.json",
        "store webhook string: unknown_notification_type at $",
    ),
    (
        "backpack/unknown.doc_schema_placeholder.json",
        "backpack webhook string: unknown_notification_type at $",
    ),
];

fn fixtures() -> Vec<(Family, String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../backpack-webhooks/tests/fixtures");
    let mut out = Vec::new();
    for (dir, family) in [("store", Family::Store), ("backpack", Family::Backpack)] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for path in files {
            let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            out.push((family, name, std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn every_sample_is_clean_or_explained() {
    let mut unexpected = Vec::new();
    for (family, name, body) in fixtures() {
        let watch = DriftWatch::new().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let kind = value["notification_type"].as_str().unwrap_or_default();
        watch.check_webhook(family, kind, &body);
        for o in watch.report().findings {
            let shown = o.finding.to_string();
            if !EXPECTED.iter().any(|(f, s)| *f == name && *s == shown) {
                unexpected.push(format!("(\"{name}\", \"{shown}\"),"));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "unexplained findings:\n{}",
        unexpected.join("\n")
    );
}

/// A local `$ref` (`#/components/examples/X`) followed.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

/// The example values of a media-type object.
fn examples<'a>(doc: &'a Value, media: &'a Value) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    if let Some(v) = media.get("example") {
        out.push(("example".to_string(), v));
    }
    for (name, e) in media
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(v) = resolve(doc, e).get("value") {
            out.push((name.clone(), v));
        }
    }
    out
}

#[test]
fn every_spec_example_is_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec");
    let watch = DriftWatch::new().unwrap();
    let mut checked = 0;
    for (file, family) in [
        ("backpack.yaml", Family::Backpack),
        ("webhooks.yaml", Family::Store),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let doc: Value = serde_norway::from_str(&text).unwrap();
        for (path, item) in doc
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for (method, op) in item.as_object().into_iter().flatten() {
                for (status, response) in op
                    .get("responses")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let response = resolve(&doc, response);
                    let code: u16 = match status.as_str() {
                        "default" | "4XX" => 400,
                        "5XX" => 500,
                        "2XX" => 200,
                        s => s.parse().unwrap(),
                    };
                    for (media_type, media) in response
                        .get("content")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        for (_, value) in examples(&doc, media) {
                            let body = serde_json::to_vec(value).unwrap();
                            watch.check_response(method, path, code, Some(media_type), &body);
                            checked += 1;
                        }
                    }
                }
            }
        }
        for section in ["x-webhooks", "webhooks"] {
            for (_, item) in doc
                .get(section)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for (_, op) in item.as_object().into_iter().flatten() {
                    for (_, media) in op
                        .pointer("/requestBody/content")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        for (_, value) in examples(&doc, media) {
                            let kind = value["notification_type"].as_str().unwrap_or_default();
                            watch.check_webhook(family, kind, &serde_json::to_vec(value).unwrap());
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} examples");
    let report = watch.report();
    let shown: Vec<String> = report
        .findings
        .iter()
        .map(|o| o.finding.to_string())
        .collect();
    let unexplained: Vec<&String> = shown
        .iter()
        .filter(|s| !EXPECTED_EXAMPLES.contains(&s.as_str()))
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained findings in spec examples:\n{unexplained:#?}"
    );
}

/// Findings in the spec's own examples that the spec keeps (see spec/NOTES.md).
const EXPECTED_EXAMPLES: &[&str] = &[
    // W36: the payment example is the PHP SDK fixture, with its `"promotions[0]"` key.
    "store webhook payment: unknown_property at $.purchase.*, seen object",
];
