//! Bodies carry payment and user data: nothing the watch logs, counts or reports may hold a value
//! from a body, except the value of a field the spec declares as an enum.

use backpack_drift::{DriftWatch, Family, METRIC};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use std::sync::Mutex;

use crate::Buffer;

/// Values planted in the bodies; none may come out.
const SECRETS: &[&str] = &[
    "4111111111111111",
    "player@example.com",
    "S3CR3T-TOKEN",
    "987654321",
    "Jane Q. Public",
    "private-type-value",
];

/// Captures the metric keys and labels registered.
#[derive(Default)]
struct Keys(Mutex<Vec<String>>);

impl Recorder for Keys {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", key.name(), labels.join(",")));
        Counter::noop()
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[test]
fn no_value_reaches_logs_metrics_or_reports() {
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let keys = Keys::default();
    let watch = DriftWatch::new().unwrap();
    tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&keys, || {
            // Extra members (a scalar, an object, a name that is itself data), a string where the
            // spec says integer, an unknown enum value.
            let moved = br#"{"notification_type":"move_to_game",
                "settings":{"merchant_id":1,"project_id":2,"card":"4111111111111111"},
                "items":[{"id":"i","sku":"s","type":"bundle","quantity":"987654321",
                          "owner":{"email":"player@example.com"}}],
                "user":{"id":"u","player@example.com":"Jane Q. Public"}}"#;
            watch.check_webhook(Family::Backpack, "move_to_game", moved);
            // A new webhook type whose body is all data; its type name is not an identifier.
            let new_type =
                br#"{"notification_type":"private-type-value x","token":"S3CR3T-TOKEN"}"#;
            watch.check_webhook(Family::Store, "private-type-value x", new_type);
            // A response with a value where the spec has none, an undocumented status and type.
            watch.check_response(
                "GET",
                "/web/backpack/items/x",
                200,
                Some("application/json"),
                br#"{"item_id":987654321,"secret":"S3CR3T-TOKEN"}"#,
            );
            watch.check_response(
                "GET",
                "/web/backpack/items/x",
                200,
                Some("text/S3CR3T-TOKEN; x=y"),
                b"S3CR3T-TOKEN",
            );
            watch.check_response("GET", "/web/backpack/items/x", 302, None, b"Jane Q. Public");
        });
    });
    let report = watch.report();
    let outputs = [
        String::from_utf8(logs.0.lock().unwrap().clone()).unwrap(),
        report.to_json(),
        format!("{report:?}"),
        keys.0.lock().unwrap().join("\n"),
    ];
    for output in &outputs {
        for secret in SECRETS {
            assert!(
                !output.contains(secret),
                "{secret:?} leaked into:\n{output}"
            );
        }
    }
    // The watch did see all of it: one warning per finding, a counter, and the enum value.
    let kinds: Vec<&str> = report
        .findings
        .iter()
        .map(|o| o.finding.kind.as_str())
        .collect();
    for kind in [
        "unknown_property",
        "type_mismatch",
        "unknown_enum_value",
        "unknown_notification_type",
        "undocumented_content_type",
        "undocumented_status",
        "missing_required",
    ] {
        assert!(kinds.contains(&kind), "{kind} not found in {kinds:?}");
    }
    assert!(outputs[0].matches("traffic differs from spec/").count() >= report.findings.len());
    assert!(outputs[1].contains("\"bundle\""), "the enum value is kept");
    assert!(outputs[3].contains(METRIC), "{}", outputs[3]);
}
