//! `backpack webhook listen --drift-report FILE`: signed bodies are compared with spec/ and the
//! report file lists the differences (paths and types, never values).

use crate::common;

use std::process::Stdio;

use common::*;

const SECRET: &str = "drift-listen-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_writes_a_drift_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("drift.json");
    let mut listen = Proc::start(
        &[
            "webhook",
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--secret",
            SECRET,
            "--drift-report",
            report.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    // The documented payment sample, with one more nested member.
    let mut body: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../backpack-webhooks/tests/fixtures/store/order_paid.doc_schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    body["order"]["sales_channel"] = "value-that-must-not-leak".into();
    let file = dir.path().join("body.json");
    std::fs::write(&file, serde_json::to_vec(&body).unwrap()).unwrap();
    let out = bin()
        .args([
            "webhook",
            "send",
            "order_paid",
            "--url",
            &listen.url("/"),
            "--secret",
            SECRET,
        ])
        .arg("--body")
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The report is written before the answer, and the line is printed after it.
    assert_eq!(listen.stdout_json().await["verdict"], "accepted");
    let text = std::fs::read_to_string(&report).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{text}");
    assert_eq!(findings[0]["kind"], "unknown_property");
    assert_eq!(findings[0]["path"], "$.order.sales_channel");
    assert_eq!(findings[0]["notification_type"], "order_paid");
    assert!(!text.contains("value-that-must-not-leak"));
}
