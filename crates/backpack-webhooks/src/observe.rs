//! Observability: one `tracing` span per delivery and metrics through the [`metrics`] facade
//! (install any recorder/exporter in your binary; without one the calls cost next to nothing).
//!
//! Span `webhook` (level INFO), fields: `family`, `notification_type`, `key_hash` (first 16 hex
//! digits of the SHA-256 of the deduplication key — never the key or the body), `outcome`
//! (`accepted`, `rejected`, `temporary`, `refused`), `status`, `replayed`, `duration_ms`.
//!
//! Metrics:
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `backpack_webhook_deliveries_total` | counter | `family`, `notification_type`, `outcome`, `status`, `replayed` |
//! | `backpack_webhook_handler_duration_seconds` | histogram | `notification_type` |
//!
//! `notification_type` labels are the documented types; any other value is counted as
//! `unknown` (so a caller cannot grow the label set).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backpack_types::WebhookFamily;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::dedup::StoredAnswer;
use crate::dedup_key::{self, DedupKey};
use crate::events::{BackpackWebhookEvent, WebhookEvent};

/// Counter: deliveries answered.
pub const DELIVERIES_TOTAL: &str = "backpack_webhook_deliveries_total";
/// Histogram: seconds spent in the handler (not counting replays).
pub const HANDLER_DURATION_SECONDS: &str = "backpack_webhook_handler_duration_seconds";

/// A label value for `notification_type`: documented types as they are, anything else `unknown`.
fn type_label(notification_type: &str) -> &'static str {
    WebhookEvent::NOTIFICATION_TYPES
        .iter()
        .chain(BackpackWebhookEvent::NOTIFICATION_TYPES)
        .find(|t| **t == notification_type)
        .copied()
        .unwrap_or("unknown")
}

/// The short hash of a dedup key shown in the span.
pub(crate) fn key_hash(key: &DedupKey) -> String {
    let digest = Sha256::digest(key.as_str().as_bytes());
    hex::encode(&digest[..8])
}

/// One delivery's span and timer.
pub(crate) struct DeliverySpan {
    span: Span,
    started: Instant,
    family: WebhookFamily,
    notification_type: &'static str,
}

impl DeliverySpan {
    pub(crate) fn new(family: WebhookFamily) -> Self {
        let span = tracing::info_span!(
            "webhook",
            family = dedup_key::family_word(family),
            notification_type = Empty,
            key_hash = Empty,
            outcome = Empty,
            status = Empty,
            replayed = false,
            duration_ms = Empty,
        );
        Self {
            span,
            started: Instant::now(),
            family,
            notification_type: "none",
        }
    }

    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// The body was routed: its type and key are known.
    pub(crate) fn routed(&mut self, notification_type: &str, key: Option<&DedupKey>) {
        self.notification_type = type_label(notification_type);
        self.span.record("notification_type", notification_type);
        // A SHA-256 per delivery only when a subscriber listens to the span.
        if let Some(key) = key
            && !self.span.is_disabled()
        {
            self.span.record("key_hash", key_hash(key).as_str());
        }
    }

    /// Records the answer on the span and in the metrics.
    pub(crate) fn finish(self, answer: &StoredAnswer, replayed: bool) {
        let outcome = match answer.status {
            200..=299 => "accepted",
            500..=599 => "temporary",
            _ if self.notification_type == "none" => "refused",
            _ => "rejected",
        };
        let elapsed = self.started.elapsed();
        self.span.record("outcome", outcome);
        self.span.record("status", answer.status);
        self.span
            .record("duration_ms", elapsed.as_secs_f64() * 1000.0);
        metrics::counter!(
            DELIVERIES_TOTAL,
            "family" => dedup_key::family_word(self.family),
            "notification_type" => self.notification_type,
            "outcome" => outcome,
            "status" => status_label(answer.status),
            "replayed" => if replayed { "true" } else { "false" },
        )
        .increment(1);
    }
}

tokio::task_local! {
    /// Whether the current delivery was answered from a record (shared with the tasks it spawns).
    static REPLAYED: Arc<AtomicBool>;
}

/// Runs a delivery's pipeline inside its span, with a fresh "replayed" flag.
pub(crate) async fn in_delivery<F: Future>(span: &Span, fut: F) -> (F::Output, bool) {
    let flag = Arc::new(AtomicBool::new(false));
    let output = REPLAYED
        .scope(Arc::clone(&flag), fut.instrument(span.clone()))
        .await;
    (output, flag.load(Ordering::Relaxed))
}

/// `fut` with the current delivery's span and flag, so that it keeps them in a task of its own.
pub(crate) fn carry<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    let flag = REPLAYED
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::new(AtomicBool::new(false)));
    REPLAYED.scope(flag, fut.instrument(Span::current()))
}

/// The current delivery was answered from its record.
pub(crate) fn replayed() {
    Span::current().record("replayed", true);
    let _ = REPLAYED.try_with(|flag| flag.store(true, Ordering::Relaxed));
}

/// A handler call ended after `elapsed`.
pub(crate) fn handler_finished(notification_type: &str, elapsed: Duration) {
    metrics::histogram!(
        HANDLER_DURATION_SECONDS,
        "notification_type" => type_label(notification_type),
    )
    .record(elapsed.as_secs_f64());
}

fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        204 => "204",
        400 => "400",
        403 => "403",
        404 => "404",
        405 => "405",
        413 => "413",
        500 => "500",
        _ => "other",
    }
}
