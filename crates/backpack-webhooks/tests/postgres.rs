//! PostgreSQL store: two receivers (two connections, as two instances behind a load balancer)
//! share one database and, hit concurrently with the same delivery, call the handler once.
//!
//! Needs a server: `eval "$(scripts/pg-test-server.sh start)"` exports `BACKPACK_TEST_PG_URL`.
//! Without it the tests print that they did not run and pass, unless `BACKPACK_REQUIRE_PG=1`,
//! in which case they fail. Run with `--features postgres`.

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

/// The database URL, or `None` (after saying so) when the test should be skipped.
fn pg_url() -> Option<String> {
    match std::env::var("BACKPACK_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("BACKPACK_REQUIRE_PG").as_deref() != Ok("1"),
                "BACKPACK_REQUIRE_PG=1 but BACKPACK_TEST_PG_URL is not set: start a server with \
                 `eval \"$(scripts/pg-test-server.sh start)\"` first"
            );
            eprintln!(
                "PostgreSQL test DID NOT RUN: BACKPACK_TEST_PG_URL is not set \
                 (see scripts/pg-test-server.sh; set BACKPACK_REQUIRE_PG=1 to make this a failure)"
            );
            None
        }
    }
}

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_feature_is_enabled_when_required() {
    assert!(
        std::env::var("BACKPACK_REQUIRE_PG").as_deref() != Ok("1"),
        "BACKPACK_REQUIRE_PG=1 but this test binary was built without `--features postgres`"
    );
    let _ = pg_url;
    eprintln!("PostgreSQL test DID NOT RUN: built without `--features postgres`");
}

#[cfg(feature = "postgres")]
mod pg {
    use std::sync::Arc;
    use std::time::Duration;

    use backpack_webhooks::*;
    use tokio::sync::{Semaphore, mpsc};

    use super::common::*;
    use super::pg_url;

    /// A complete `order_paid` no earlier run has used (the database may be reused between
    /// runs): [`ORDER_PAID`] with a random order id.
    fn fresh_order() -> &'static [u8] {
        let id = uuid::Uuid::new_v4().as_u128() as u64 >> 1;
        let body = body_with(ORDER_PAID, &[set("/order/id", id)]);
        Box::leak(body.into_boxed_slice())
    }

    #[tokio::test]
    async fn store_protocol() {
        let Some(url) = pg_url() else { return };
        let _serial = PG_SERIAL.lock().await;
        let store = PostgresStore::connect(&url).await.unwrap();
        let key = format!("test:{}", uuid::Uuid::new_v4());
        let lease = Duration::from_secs(30);
        let Claim::Acquired(t) = store.claim(&key, lease).await.unwrap() else {
            panic!("expected Acquired")
        };
        assert_eq!(store.claim(&key, lease).await.unwrap(), Claim::InProgress);
        store.renew(&key, &t, lease).await.unwrap();
        store.release(&key, &t).await.unwrap();
        let Claim::Acquired(t2) = store.claim(&key, lease).await.unwrap() else {
            panic!("expected Acquired after release")
        };
        assert!(matches!(
            store.complete(&key, &t, &StoredAnswer::empty(204)).await,
            Err(StoreError::ClaimLost)
        ));
        let answer = StoredAnswer::json(400, bytes::Bytes::from_static(br#"{"error":{}}"#));
        store.complete(&key, &t2, &answer).await.unwrap();
        assert_eq!(store.claim(&key, lease).await.unwrap(), Claim::Done(answer));

        // Crashed claimer: a zero lease is expired at once and is taken over exactly once.
        let key = format!("test:{}", uuid::Uuid::new_v4());
        let Claim::Acquired(old) = store.claim(&key, Duration::ZERO).await.unwrap() else {
            panic!("expected Acquired")
        };
        let Claim::Acquired(new) = store.claim(&key, lease).await.unwrap() else {
            panic!("expected take-over")
        };
        assert_ne!(old, new);
        assert_eq!(store.claim(&key, lease).await.unwrap(), Claim::InProgress);
        assert!(matches!(
            store.renew(&key, &old, lease).await,
            Err(StoreError::ClaimLost)
        ));
    }

    #[tokio::test]
    async fn retention_purges_after_seven_days() {
        let Some(url) = pg_url() else { return };
        let _serial = PG_SERIAL.lock().await;
        super::common::retention_purges_after_seven_days(
            PostgresStore::connect(&url).await.unwrap(),
        )
        .await;
    }

    #[tokio::test]
    async fn payment_account_can_be_added_again_after_removal() {
        let Some(url) = pg_url() else { return };
        let _serial = PG_SERIAL.lock().await;
        super::common::payment_account_can_be_added_again_after_removal(
            PostgresStore::connect(&url).await.unwrap(),
        )
        .await;
    }

    #[tokio::test]
    async fn two_receivers_one_database_gated() {
        let Some(url) = pg_url() else { return };
        let _serial = PG_SERIAL.lock().await;
        let gate = Arc::new(Semaphore::new(0));
        let (entered_tx, entered) = mpsc::unbounded_channel();
        let (ip_tx, in_progress) = mpsc::unbounded_channel();
        let make = |entered_tx, ip_tx| {
            let url = url.clone();
            let gate = gate.clone();
            async move {
                let store = PostgresStore::connect(&url).await.unwrap();
                WebhookReceiver::with_config(
                    secret(),
                    Recorder::gated(gate, entered_tx),
                    Observed {
                        inner: store,
                        in_progress: ip_tx,
                    },
                    config(),
                )
            }
        };
        let rx_a = make(entered_tx.clone(), ip_tx.clone()).await;
        let rx_b = make(entered_tx, ip_tx).await;
        let body = fresh_order();
        let (a, b) =
            concurrent_pair(rx_a.clone(), rx_b.clone(), gate, entered, in_progress, body).await;
        assert_eq!((a, b), (204, 204));
        assert_eq!(rx_a.handler().count() + rx_b.handler().count(), 1);
        // Later duplicates on either instance: replayed.
        for rx in [&rx_a, &rx_b] {
            assert_eq!(rx.handle(signed(body)).await.status(), 204);
        }
        assert_eq!(rx_a.handler().count() + rx_b.handler().count(), 1);
    }

    #[tokio::test]
    async fn two_receivers_one_database_stampede() {
        let Some(url) = pg_url() else { return };
        let _serial = PG_SERIAL.lock().await;
        let rx_a = WebhookReceiver::with_config(
            secret(),
            Recorder::new(),
            PostgresStore::connect(&url).await.unwrap(),
            config(),
        );
        let rx_b = WebhookReceiver::with_config(
            secret(),
            Recorder::new(),
            PostgresStore::connect(&url).await.unwrap(),
            config(),
        );
        for _round in 0..5 {
            let body = fresh_order();
            let start = Arc::new(tokio::sync::Barrier::new(16));
            let mut tasks = Vec::new();
            for i in 0..16 {
                let rx = if i % 2 == 0 {
                    rx_a.clone()
                } else {
                    rx_b.clone()
                };
                let start = start.clone();
                tasks.push(tokio::spawn(async move {
                    start.wait().await;
                    rx.handle(signed(body)).await.status().as_u16()
                }));
            }
            for task in tasks {
                assert_eq!(task.await.unwrap(), 204);
            }
        }
        assert_eq!(
            rx_a.handler().count() + rx_b.handler().count(),
            5,
            "one handler call per distinct delivery"
        );
    }
}
