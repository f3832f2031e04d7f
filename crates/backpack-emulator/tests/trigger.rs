//! `trigger`: every webhook type of the catalogue is sent signed through the outbox, and re-sent
//! on its own schedule, driven by the manual clock (no sleeps); one `advance` makes every
//! retry that falls due in the interval, each at its due time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use backpack_emulator::schedule::ScaledSchedule;
use backpack_emulator::{Emulator, EmulatorClock, Error, ResendSchedule, TriggerBody, WebhookKind};
use backpack_webhooks::WebhookSecret;

const SECRET: &str = "trigger-secret";

/// (notification_type, signature valid, emulator time in Unix ms) of each request.
type Log = Arc<Mutex<Vec<(String, bool, i64)>>>;

/// A receiver that records each request, stamped with the emulator's `clock`, and always
/// answers `status`.
async fn receiver(status: StatusCode, clock: &EmulatorClock) -> (String, Log) {
    async fn hook(
        State((log, status, clock)): State<(Log, StatusCode, EmulatorClock)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let valid =
            backpack_webhooks::verify_headers(&body, &headers, &WebhookSecret::new(SECRET)).is_ok();
        let kind = value["notification_type"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        log.lock().unwrap().push((kind, valid, clock.now_millis()));
        status
    }
    let log = Log::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/", axum::routing::post(hook))
        .with_state((Arc::clone(&log), status, clock.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), log)
}

fn attempts_of(outbox: &[backpack_emulator::OutboxEntry], id: i64) -> u32 {
    outbox.iter().find(|d| d.id == id).unwrap().attempts
}

#[tokio::test]
async fn every_type_is_sent_signed_and_retried_on_its_own_schedule() {
    let clock = EmulatorClock::manual();
    let (url, log) = receiver(StatusCode::SERVICE_UNAVAILABLE, &clock).await;
    let emulator = Emulator::builder()
        .clock(clock)
        .webhook(url, SECRET)
        .start()
        .await
        .unwrap();
    let mut queued = Vec::new();
    for &kind in WebhookKind::ALL {
        let triggered = emulator.trigger(kind).await.unwrap();
        assert_eq!(triggered.type_name, kind.name());
        queued.push((kind, triggered.id));
    }
    emulator.settle().await;
    {
        let log = log.lock().unwrap();
        assert_eq!(log.len(), WebhookKind::ALL.len(), "one first attempt each");
        assert!(
            log.iter().all(|(_, valid, _)| *valid),
            "all signed: {log:?}"
        );
        let mut kinds: Vec<&str> = log.iter().map(|(k, _, _)| k.as_str()).collect();
        kinds.sort_unstable();
        let mut expected: Vec<&str> = WebhookKind::ALL
            .iter()
            .map(|k| k.notification_type())
            .collect();
        expected.sort_unstable();
        assert_eq!(kinds, expected);
    }

    // One minute: only the payment-type webhooks come again (their first wait is 1 minute).
    emulator.advance(Duration::from_secs(60)).await.unwrap();
    let outbox = emulator.outbox().await.unwrap();
    for (kind, id) in &queued {
        let expected = match ResendSchedule::of(*kind) {
            ResendSchedule::Payment => 2,
            _ => 1,
        };
        assert_eq!(attempts_of(&outbox, *id), expected, "{kind} after 1 min");
    }
    // Four more minutes: the order-type ones have their first retry at 5 minutes.
    emulator.advance(Duration::from_secs(240)).await.unwrap();
    let outbox = emulator.outbox().await.unwrap();
    for (kind, id) in &queued {
        let expected = match ResendSchedule::of(*kind) {
            ResendSchedule::Payment => 3, // at 0, 1 and 3 minutes; the next at 7
            ResendSchedule::Order => 2,   // at 0 and 5 minutes
            ResendSchedule::Once => 1,
        };
        assert_eq!(attempts_of(&outbox, *id), expected, "{kind} after 5 min");
    }

    // Far beyond every schedule, in one move.
    emulator
        .advance(Duration::from_secs(13 * 3600))
        .await
        .unwrap();
    let outbox = emulator.outbox().await.unwrap();
    for (kind, id) in &queued {
        let entry = outbox.iter().find(|d| d.id == *id).unwrap();
        let expected = match ResendSchedule::of(*kind) {
            ResendSchedule::Order => 20,
            ResendSchedule::Payment => 12,
            ResendSchedule::Once => 1,
        };
        assert_eq!(
            (entry.attempts, entry.state.as_str()),
            (expected, "failed"),
            "{kind}"
        );
    }
    let sent_order_paid = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _, _)| k == "order_paid")
        .count();
    assert_eq!(sent_order_paid, 20);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_caller_body_is_sent_as_given_and_the_route_works() {
    let clock = EmulatorClock::manual();
    let (url, log) = receiver(StatusCode::NO_CONTENT, &clock).await;
    let emulator = Emulator::builder()
        .clock(clock)
        .webhook(url, SECRET)
        .start()
        .await
        .unwrap();
    let body = br#"{"notification_type":"payment","transaction":{"id":77}}"#.to_vec();
    emulator
        .trigger_with(WebhookKind::Payment, TriggerBody::Raw(body.clone()))
        .await
        .unwrap();
    // The emulator-only HTTP route: an empty body sends the documented sample.
    let answer = reqwest::Client::new()
        .post(format!("{}/emulator/webhooks/refund", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let triggered: backpack_emulator::Triggered = answer.json().await.unwrap();
    assert_eq!(
        (triggered.policy.as_str(), triggered.max_attempts),
        ("payment", 12)
    );
    let unknown = reqwest::Client::new()
        .post(format!("{}/emulator/webhooks/nope", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    emulator.settle().await;
    let outbox = emulator.outbox().await.unwrap();
    assert_eq!(outbox.len(), 2);
    assert_eq!(
        outbox[0].body,
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()
    );
    assert!(
        outbox
            .iter()
            .all(|d| d.state == "delivered" && d.attempts == 1)
    );
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn without_a_webhook_url_trigger_is_refused_and_the_system_clock_cannot_advance() {
    let emulator = Emulator::builder().system_clock(1.0).start().await.unwrap();
    assert!(matches!(
        emulator.trigger(WebhookKind::Payment).await,
        Err(Error::NoWebhookUrl)
    ));
    assert!(matches!(
        emulator.advance(Duration::from_secs(1)).await,
        Err(Error::SystemClock)
    ));
    let answer = reqwest::Client::new()
        .post(format!("{}/emulator/webhooks/payment", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 409);
}

#[tokio::test]
async fn a_database_file_keeps_the_outbox_and_the_signing_key_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("emulator.sqlite");
    let clock = EmulatorClock::manual();
    let (failing, _) = receiver(StatusCode::SERVICE_UNAVAILABLE, &clock).await;
    let first = Emulator::builder()
        .clock(clock.clone())
        .database_file(&file)
        .webhook(failing, SECRET)
        .start()
        .await
        .unwrap();
    let queued = first.trigger(WebhookKind::Payment).await.unwrap();
    first.settle().await;
    let user = uuid::Uuid::new_v4();
    let token = first.user_token(user).unwrap();
    first.shutdown().await.unwrap();

    let (working, log) = receiver(StatusCode::NO_CONTENT, &clock).await;
    let second = Emulator::builder()
        .clock(clock)
        .database_file(&file)
        .webhook(working, SECRET)
        .start()
        .await
        .unwrap();
    let before = second.outbox().await.unwrap();
    assert_eq!((before[0].id, before[0].attempts), (queued.id, 1));
    second.advance(Duration::from_secs(60)).await.unwrap();
    let after = second.outbox().await.unwrap();
    assert_eq!(
        (after[0].attempts, after[0].state.as_str()),
        (2, "delivered")
    );
    assert_eq!(log.lock().unwrap().len(), 1);
    // A token from before the restart still opens the user's Backpack.
    let mine = reqwest::Client::new()
        .get(format!("{}/web/backpack/items", second.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 200);
}

/// The emulator times (minutes after `start`) at which `kind` reached the receiver.
fn minutes_of(log: &Log, kind: &str, start: i64) -> Vec<i64> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(k, _, _)| k == kind)
        .map(|(_, _, at)| {
            assert_eq!((at - start) % 60_000, 0, "{kind} at a whole minute");
            (at - start) / 60_000
        })
        .collect()
}

/// When each attempt of `policy` is due, in minutes after the first.
fn due_minutes(policy: ResendSchedule) -> Vec<i64> {
    let schedule = ScaledSchedule::new(policy, 1.0);
    let mut at = 0;
    let mut due = vec![0];
    for attempt in 1..schedule.max_attempts() {
        at += i64::try_from(schedule.delay_after(attempt).as_secs() / 60).unwrap();
        due.push(at);
    }
    due
}

#[tokio::test]
async fn one_advance_makes_every_retry_in_the_interval_each_at_its_due_time() {
    let clock = EmulatorClock::manual();
    let (url, log) = receiver(StatusCode::SERVICE_UNAVAILABLE, &clock).await;
    let emulator = Emulator::builder()
        .clock(clock.clone())
        .webhook(url, SECRET)
        .start()
        .await
        .unwrap();
    let start = clock.now_millis();
    emulator.trigger(WebhookKind::OrderPaid).await.unwrap();
    emulator.trigger(WebhookKind::Payment).await.unwrap();

    // 12 minutes: order_paid at 0, 5 and 10; payment at 0, 1, 3 and 7 (then 15).
    emulator
        .advance(Duration::from_secs(12 * 60))
        .await
        .unwrap();
    assert_eq!(clock.now_millis() - start, 12 * 60_000);
    assert_eq!(minutes_of(&log, "order_paid", start), [0, 5, 10]);
    assert_eq!(minutes_of(&log, "payment", start), [0, 1, 3, 7]);

    // Far beyond both schedules: every remaining attempt, at its time, in time order.
    emulator
        .advance(Duration::from_secs(13 * 3600))
        .await
        .unwrap();
    assert_eq!(
        minutes_of(&log, "order_paid", start),
        due_minutes(ResendSchedule::Order)
    );
    assert_eq!(
        minutes_of(&log, "payment", start),
        due_minutes(ResendSchedule::Payment)
    );
    let times: Vec<i64> = log.lock().unwrap().iter().map(|(_, _, at)| *at).collect();
    assert!(times.is_sorted(), "attempts are made in time order");
    assert_eq!(clock.now_millis() - start, (12 * 60 + 13 * 3600) * 1000);
    let outbox = emulator.outbox().await.unwrap();
    assert!(outbox.iter().all(|d| d.state == "failed"), "{outbox:?}");
    emulator.shutdown().await.unwrap();
}
