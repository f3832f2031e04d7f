//! Idempotency: duplicates, concurrent duplicates, failure release, rejection replay,
//! never-deduplicated types, and a SQLite restart.

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;

use backpack_webhooks::*;
use common::*;
use http::StatusCode;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

fn receiver<S: DedupStore>(handler: Recorder, store: S) -> WebhookReceiver<Recorder, S> {
    WebhookReceiver::with_config(secret(), handler, store, config()).unwrap()
}

#[tokio::test]
async fn duplicate_is_answered_without_calling_the_handler() {
    let rx = receiver(Recorder::new(), MemoryStore::new());
    for _ in 0..3 {
        let (status, body) = parts(rx.handle(signed(ORDER_PAID)).await).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(body.is_empty());
    }
    assert_eq!(rx.handler().count(), 1);
    assert_eq!(rx.store().len(), 1);
}

#[tokio::test]
async fn same_id_reformatted_body_is_still_a_duplicate() {
    // A retry whose JSON differs only in layout, member order or number-vs-string ids is the
    // same event.
    let rx = receiver(Recorder::new(), MemoryStore::new());
    let mut order: Value = serde_json::from_slice(ORDER_PAID).unwrap();
    apply(&mut order, &[set("/order/id", 9)]);
    let a = serde_json::to_vec(&order).unwrap();
    // Pretty-printed, with `notification_type` moved from first to last.
    let notification_type = order
        .as_object_mut()
        .unwrap()
        .shift_remove("notification_type")
        .unwrap();
    apply(&mut order, &[set("/notification_type", notification_type)]);
    let b = serde_json::to_vec_pretty(&order).unwrap();
    assert_ne!(a, b);
    assert_eq!(parts(rx.handle(signed(&a)).await).await.0, 204);
    assert_eq!(parts(rx.handle(signed(&b)).await).await.0, 204);
    assert_eq!(rx.handler().count(), 1);
    // Another order is not a duplicate; nor is another type with the same id.
    let c = body_with(&a, &[set("/order/id", 10)]);
    let d = body_with(&a, &[set("/notification_type", "order_canceled")]);
    assert_eq!(parts(rx.handle(signed(&c)).await).await.0, 204);
    assert_eq!(parts(rx.handle(signed(&d)).await).await.0, 204);
    assert_eq!(
        rx.handler().methods(),
        ["order_paid", "order_paid", "order_canceled"]
    );

    // `subscription_id` may be sent as a number or a string (`spec/NOTES.md`, union-type table): same key.
    let e = sample_with(
        "store/create_subscription.doc",
        &[set("/subscription/subscription_id", 10)],
    );
    let f = sample_with(
        "store/create_subscription.doc",
        &[set("/subscription/subscription_id", "10")],
    );
    assert_eq!(parts(rx.handle(signed(&e)).await).await.0, 204);
    assert_eq!(parts(rx.handle(signed(&f)).await).await.0, 204);
    assert_eq!(rx.handler().count(), 4);
    let g = sample_with(
        "store/create_subscription.doc",
        &[set("/subscription/subscription_id", 11)],
    );
    assert_eq!(parts(rx.handle(signed(&g)).await).await.0, 204);
    assert_eq!(rx.handler().count(), 5);
}

#[tokio::test]
async fn user_validation_is_never_deduplicated() {
    let rx = receiver(Recorder::new(), MemoryStore::new());
    let body = br#"{"notification_type":"user_validation","user":{"id":"1234567"}}"#;
    for _ in 0..3 {
        assert_eq!(parts(rx.handle(signed(body)).await).await.0, 204);
    }
    assert_eq!(rx.handler().count(), 3);
    assert!(rx.store().is_empty());

    let bp = BackpackReceiver::with_config(secret(), Recorder::new(), MemoryStore::new(), config())
        .unwrap();
    let body = br#"{"notification_type":"user_validation","settings":{"merchant_id":1,"project_id":2},"user":{"id":"p"}}"#;
    for _ in 0..3 {
        assert_eq!(parts(bp.handle(signed(body)).await).await.0, 200);
    }
    assert_eq!(bp.handler().count(), 3);
}

#[tokio::test]
async fn user_validation_rejection_is_not_remembered() {
    // The same user may be created between two validations.
    let rx = receiver(
        Recorder::scripted([Script::Reject(ErrorCode::InvalidUser), Script::Accept]),
        MemoryStore::new(),
    );
    let body = br#"{"notification_type":"user_validation","user":{"id":"new-user"}}"#;
    let (status, response) = parts(rx.handle(signed(body)).await).await;
    assert_eq!(
        (status.as_u16(), error_code(&response).as_str()),
        (400, "INVALID_USER")
    );
    assert_eq!(parts(rx.handle(signed(body)).await).await.0, 204);
    assert_eq!(rx.handler().count(), 2);
}

#[tokio::test]
async fn update_subscription_renewals_are_not_dropped() {
    let rx = receiver(Recorder::new(), MemoryStore::new());
    let renewal = |date: &str| {
        format!(
            r#"{{"notification_type":"update_subscription","user":{{"id":"1"}},"subscription":{{"plan_id":"p","subscription_id":"10","date_next_charge":"{date}"}}}}"#
        )
    };
    let first = renewal("2015-01-22T19:25:25+04:00");
    let second = renewal("2015-02-22T19:25:25+04:00");
    for body in [&first, &second, &first] {
        assert_eq!(parts(rx.handle(signed(body.as_bytes())).await).await.0, 204);
    }
    assert_eq!(rx.handler().count(), 2, "two renewals, one retry");
}

#[tokio::test]
async fn rejection_is_remembered_and_replayed() {
    let rx = receiver(
        Recorder::scripted([Script::Reject(ErrorCode::IncorrectAmount), Script::Accept]),
        MemoryStore::new(),
    );
    let first = parts(rx.handle(signed(ORDER_PAID)).await).await;
    let second = parts(rx.handle(signed(ORDER_PAID)).await).await;
    assert_eq!(first.0, 400);
    assert_eq!(error_code(&first.1), "INCORRECT_AMOUNT");
    assert_eq!(first, second, "same answer, byte for byte");
    assert_eq!(rx.handler().count(), 1);
}

#[tokio::test]
async fn temporary_failure_releases_the_key() {
    let rx = receiver(
        Recorder::scripted([Script::Temporary, Script::Panic, Script::Accept]),
        MemoryStore::new(),
    );
    let (status, body) = parts(rx.handle(signed(ORDER_PAID)).await).await;
    assert_eq!(
        (status.as_u16(), error_code(&body).as_str()),
        (500, "SERVER_ERROR")
    );
    let (status, _) = parts(rx.handle(signed(ORDER_PAID)).await).await;
    assert_eq!(status, 500, "panic → 500, key released");
    let (status, _) = parts(rx.handle(signed(ORDER_PAID)).await).await;
    assert_eq!(status, 204, "the retry succeeds");
    let (status, _) = parts(rx.handle(signed(ORDER_PAID)).await).await;
    assert_eq!(status, 204, "then it is a duplicate");
    assert_eq!(rx.handler().count(), 3);
}

#[tokio::test]
async fn concurrent_duplicates_call_the_handler_once() {
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, entered) = mpsc::unbounded_channel();
    let (ip_tx, in_progress) = mpsc::unbounded_channel();
    let store = Arc::new(MemoryStore::new());
    let handler = Recorder::gated(gate.clone(), entered_tx);
    let rx = receiver(
        handler,
        Observed {
            inner: store,
            in_progress: ip_tx,
        },
    );
    let (a, b) = concurrent_pair(
        rx.clone(),
        rx.clone(),
        gate,
        entered,
        in_progress,
        ORDER_PAID,
    )
    .await;
    assert_eq!((a, b), (204, 204));
    assert_eq!(rx.handler().count(), 1);
}

#[tokio::test]
async fn concurrent_duplicate_after_failure_runs_the_handler() {
    // A fails temporarily while B waits: B then claims and runs the handler itself.
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let (ip_tx, mut in_progress) = mpsc::unbounded_channel();
    let handler =
        Recorder::gated(gate.clone(), entered_tx).with_script([Script::Temporary, Script::Accept]);
    let rx = receiver(
        handler,
        Observed {
            inner: MemoryStore::new(),
            in_progress: ip_tx,
        },
    );
    let a = {
        let rx = rx.clone();
        tokio::spawn(async move { rx.handle(signed(ORDER_PAID)).await.status().as_u16() })
    };
    assert!(entered.recv().await.is_some());
    let b = {
        let rx = rx.clone();
        tokio::spawn(async move { rx.handle(signed(ORDER_PAID)).await.status().as_u16() })
    };
    assert!(in_progress.recv().await.is_some());
    gate.add_permits(1); // A fails
    assert!(entered.recv().await.is_some(), "B runs the handler");
    gate.add_permits(1); // B succeeds
    assert_eq!((a.await.unwrap(), b.await.unwrap()), (500, 204));
    assert_eq!(rx.handler().count(), 2);
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_restart_still_deduplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dedup.sqlite3");
    let rejected = sample_with("store/payment.sdk", &[set("/transaction/id", 77)]);
    {
        let rx = receiver(
            Recorder::scripted([Script::Accept, Script::Reject(ErrorCode::InvalidUser)]),
            SqliteStore::open(&path).await.unwrap(),
        );
        assert_eq!(parts(rx.handle(signed(ORDER_PAID)).await).await.0, 204);
        assert_eq!(parts(rx.handle(signed(&rejected)).await).await.0, 400);
        assert_eq!(rx.handler().count(), 2);
    } // receiver and store dropped: "restart"
    let rx = receiver(Recorder::new(), SqliteStore::open(&path).await.unwrap());
    let (status, body) = parts(rx.handle(signed(ORDER_PAID)).await).await;
    assert_eq!(status, 204);
    assert!(body.is_empty());
    let (status, body) = parts(rx.handle(signed(&rejected)).await).await;
    assert_eq!(
        (status.as_u16(), error_code(&body).as_str()),
        (400, "INVALID_USER")
    );
    assert_eq!(
        rx.handler().count(),
        0,
        "nothing granted twice after the restart"
    );
    // A new event is still handled.
    let other = body_with(ORDER_PAID, &[set("/order/id", 1000)]);
    assert_eq!(parts(rx.handle(signed(&other)).await).await.0, 204);
    assert_eq!(rx.handler().count(), 1);
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_concurrent_duplicates_across_two_stores_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dedup.sqlite3");
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, entered) = mpsc::unbounded_channel();
    let (ip_tx, in_progress) = mpsc::unbounded_channel();
    let handler_a = Recorder::gated(gate.clone(), entered_tx.clone());
    let handler_b = Recorder::gated(gate.clone(), entered_tx);
    let rx_a = receiver(
        handler_a,
        Observed {
            inner: SqliteStore::open(&path).await.unwrap(),
            in_progress: ip_tx.clone(),
        },
    );
    let rx_b = receiver(
        handler_b,
        Observed {
            inner: SqliteStore::open(&path).await.unwrap(),
            in_progress: ip_tx,
        },
    );
    let (a, b) = concurrent_pair(
        rx_a.clone(),
        rx_b.clone(),
        gate,
        entered,
        in_progress,
        ORDER_PAID,
    )
    .await;
    assert_eq!((a, b), (204, 204));
    assert_eq!(rx_a.handler().count() + rx_b.handler().count(), 1);
}

#[tokio::test]
async fn memory_retention_purges_after_seven_days() {
    retention_purges_after_seven_days(MemoryStore::new()).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_retention_purges_after_seven_days() {
    let dir = tempfile::tempdir().unwrap();
    retention_purges_after_seven_days(
        SqliteStore::open(dir.path().join("d.sqlite3"))
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn memory_payment_account_can_be_added_again_after_removal() {
    payment_account_can_be_added_again_after_removal(MemoryStore::new()).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_payment_account_can_be_added_again_after_removal() {
    payment_account_can_be_added_again_after_removal(SqliteStore::open_in_memory().await.unwrap())
        .await;
}

/// A `tracing` writer into a shared buffer.
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

#[tokio::test(flavor = "current_thread")]
async fn temporary_error_on_user_validation_is_answered_500_and_warned_as_final() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let rx = receiver(
        Recorder::scripted([Script::Temporary, Script::Temporary]),
        MemoryStore::new(),
    );
    let body = br#"{"notification_type":"user_validation","user":{"id":"1234567"}}"#;
    assert_eq!(parts(rx.handle(signed(body)).await).await.0, 500);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("Xsolla does not re-send user_validation"),
        "{logs}"
    );
    // Other types are retried by Xsolla: no such warning.
    captured.0.lock().unwrap().clear();
    assert_eq!(parts(rx.handle(signed(ORDER_PAID)).await).await.0, 500);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("failed temporarily"), "{logs}");
    assert!(!logs.contains("does not re-send"), "{logs}");
}
