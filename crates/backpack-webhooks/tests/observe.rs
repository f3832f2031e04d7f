//! Observability: one span per delivery (with a hash of the key, never the key or the body) and
//! the `metrics` counters and histogram, read back through a Prometheus recorder.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use backpack_webhooks::*;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::common::*;

#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// Current-thread runtime: the thread-local subscriber and recorder see the receiver's tasks too.
#[tokio::test(flavor = "current_thread")]
async fn one_span_per_delivery_and_metrics_without_the_key() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(FmtSpan::CLOSE)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _tracing = tracing::subscriber::set_default(subscriber);
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let prometheus = recorder.handle();
    let _metrics = metrics::set_default_local_recorder(&recorder);

    let store = SqliteStore::open_in_memory().await.unwrap();
    let rx = WebhookReceiver::with_config(secret(), Recorder::new(), store, config()).unwrap();
    let body = body_with(ORDER_PAID, &[set("/order/id", 987_654_321)]);
    assert_eq!(rx.handle(signed(&body)).await.status(), 204);
    assert_eq!(rx.handle(signed(&body)).await.status(), 204);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let spans: Vec<&str> = logs.lines().filter(|l| l.contains("close")).collect();
    assert_eq!(spans.len(), 2, "one span per delivery: {logs}");
    for span in &spans {
        for field in [
            "family=\"store\"",
            "notification_type=\"order_paid\"",
            "key_hash=",
            "outcome=\"accepted\"",
            "status=204",
            "duration_ms=",
        ] {
            assert!(span.contains(field), "{field} missing in {span}");
        }
    }
    assert!(spans[0].contains("replayed=false") && spans[1].contains("replayed=true"));
    assert!(
        !logs.contains("987654321"),
        "the key (order id) leaked: {logs}"
    );
    assert!(!logs.contains("player-1"), "body content leaked: {logs}");

    let text = prometheus.render();
    for line in [
        r#"backpack_webhook_deliveries_total{family="store",notification_type="order_paid",outcome="accepted",status="204",replayed="false"} 1"#,
        r#"backpack_webhook_deliveries_total{family="store",notification_type="order_paid",outcome="accepted",status="204",replayed="true"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    // The handler ran once (the replay does not call it): one histogram sample.
    assert!(
        text.lines().any(
            |l| l.starts_with("backpack_webhook_handler_duration_seconds_count")
                && l.ends_with(" 1")
        ),
        "histogram missing in\n{text}"
    );
}
