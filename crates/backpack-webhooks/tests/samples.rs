//! Every complete documented sample payload (Xsolla's webhook pages under <https://developers.xsolla.com/webhooks/> and the Backpack webhook pages; `spec/NOTES.md`),
//! signed, is accepted and reaches the handler method of its type with its content intact. File
//! names are `<notification_type>.<source>.json` (schema samples whose `notification_type` was
//! the placeholder `"string"` are stored once as-is, as `unknown.*`, and once per real type).
//!
//! Captures that are not complete payloads live in `tests/fixtures/rejected/` and must be
//! refused with `INVALID_PARAMETER` for the reason listed in [`REJECTED`].

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;

use backpack_webhooks::*;
use common::*;
use serde_json::Value;

/// Complete samples in `tests/fixtures/store` and `tests/fixtures/backpack`.
const STORE_SAMPLES: usize = 21;
const BACKPACK_SAMPLES: usize = 3;

/// `tests/fixtures/rejected/<family>/<file>.json`: (family, file, status, what the deserializer
/// reports). The receivers answer `INVALID_PARAMETER` with that status.
const REJECTED: &[(&str, &str, u16, &str)] = &[
    // Truncated capture of the doc page: `order` holds only `id`; `user` is absent too.
    (
        "store",
        "order_canceled.doc_partial",
        400,
        "missing field `mode`",
    ),
    // Truncated capture of the doc page: only `settings` and `purchase`.
    (
        "store",
        "payment.doc_partial",
        400,
        "missing field `transaction`",
    ),
    // The older flat Backpack schema (project_id, game_player_id, item_id): spec/NOTES.md,
    // "The older flat Backpack webhook schema (left out of the spec)".
    (
        "backpack",
        "move_to_game.doc_schema_older",
        404,
        "missing field `settings`",
    ),
    (
        "backpack",
        "user_validation.doc_schema_older",
        404,
        "missing field `settings`",
    ),
];

/// Members of the samples that the typed payloads do not model. Payload schemas are open, so
/// these are ignored (not refused) and do not reach the handler.
const NOT_MODELLED: &[(&str, &[&str])] = &[(
    "payment.sdk",
    // SDK fixture artefact (`spec/NOTES.md`, W36). Free-form `custom_parameters` are kept
    // (the schema allows any member), so nothing else may be lost.
    &["/purchase/promotions[0]"],
)];

/// Compares what the typed payload gives back (`typed`) with the document that was sent: every
/// member of `typed` must be in `sent` with the same value (numbers compared by value, since
/// `1` may come back as `1.0`), and the non-null members of `sent` missing from `typed` must be
/// exactly the [`NOT_MODELLED`] ones of this sample.
fn assert_faithful(name: &str, typed: &Value, sent: &Value) {
    fn walk(
        typed: &Value,
        sent: &Value,
        at: &str,
        dropped: &mut Vec<String>,
        bad: &mut Vec<String>,
    ) {
        match (typed, sent) {
            (Value::Object(t), Value::Object(s)) => {
                for (k, tv) in t {
                    match s.get(k) {
                        Some(sv) => walk(tv, sv, &format!("{at}/{k}"), dropped, bad),
                        // An optional member serialised as null when absent adds nothing.
                        None if tv.is_null() => {}
                        None => bad.push(format!("{at}/{k}: not in the sent document")),
                    }
                }
                for (k, sv) in s {
                    if !t.contains_key(k) && !sv.is_null() {
                        dropped.push(format!("{at}/{k}"));
                    }
                }
            }
            (Value::Array(t), Value::Array(s)) if t.len() == s.len() => {
                for (i, (tv, sv)) in t.iter().zip(s).enumerate() {
                    walk(tv, sv, &format!("{at}/{i}"), dropped, bad);
                }
            }
            (Value::Number(t), Value::Number(s)) => {
                let same = match (t.as_i64(), s.as_i64()) {
                    (Some(a), Some(b)) => a == b,
                    _ => t.as_f64() == s.as_f64(),
                };
                if !same {
                    bad.push(format!("{at}: {t} instead of {s}"));
                }
            }
            (t, s) if t == s => {}
            (t, s) => bad.push(format!("{at}: {t} instead of {s}")),
        }
    }
    let (mut dropped, mut bad) = (Vec::new(), Vec::new());
    walk(typed, sent, "", &mut dropped, &mut bad);
    assert!(bad.is_empty(), "{name}: {bad:?}");
    dropped.sort();
    let mut expected: Vec<String> = NOT_MODELLED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, paths)| paths.iter().map(|p| (*p).to_owned()).collect())
        .unwrap_or_default();
    expected.sort();
    assert_eq!(
        dropped, expected,
        "{name}: members lost by the typed payload"
    );
}

#[tokio::test]
async fn store_samples_are_accepted_and_typed() {
    let samples = fixtures("store");
    assert_eq!(samples.len(), STORE_SAMPLES, "fixture count changed");
    for (name, body) in samples {
        let expected_method = name.split('.').next().unwrap().to_owned();
        let receiver =
            WebhookReceiver::with_config(secret(), Recorder::new(), MemoryStore::new(), config())
                .unwrap();
        let (status, response) = parts(receiver.handle(signed(&body)).await).await;
        assert_eq!(
            status,
            204,
            "{name}: {}",
            String::from_utf8_lossy(&response)
        );
        assert!(response.is_empty(), "{name}");
        let calls = receiver.handler().calls();
        assert_eq!(calls.len(), 1, "{name}");
        assert_eq!(calls[0].0, expected_method, "{name}");
        // The handler saw the typed event of this body, and that event is faithful to it.
        let parsed = parse(&body).unwrap();
        assert_eq!(
            calls[0].1,
            serde_json::to_value(&parsed.event).unwrap(),
            "{name}"
        );
        let sent: Value = serde_json::from_slice(&body).unwrap();
        assert_faithful(&name, &calls[0].1, &sent);
    }
}

#[test]
fn store_samples_parse_to_their_variant() {
    for (name, body) in fixtures("store") {
        let expected = name.split('.').next().unwrap();
        let parsed = verify_and_parse(
            &body,
            Some(&authorization_value(&body, &secret())),
            &secret(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let variant_ok = matches!(
            (&parsed.event, expected),
            (WebhookEvent::UserValidation(_), "user_validation")
                | (WebhookEvent::UserSearch(_), "user_search")
                | (WebhookEvent::Payment(_), "payment")
                | (WebhookEvent::OrderPaid(_), "order_paid")
                | (WebhookEvent::OrderCanceled(_), "order_canceled")
                | (WebhookEvent::Refund(_), "refund")
                | (WebhookEvent::PartialRefund(_), "partial_refund")
                | (WebhookEvent::PaymentAccountAdd(_), "payment_account_add")
                | (
                    WebhookEvent::PaymentAccountRemove(_),
                    "payment_account_remove"
                )
                | (WebhookEvent::AfsReject(_), "afs_reject")
                | (WebhookEvent::CreateSubscription(_), "create_subscription")
                | (WebhookEvent::UpdateSubscription(_), "update_subscription")
                | (WebhookEvent::CancelSubscription(_), "cancel_subscription")
                | (
                    WebhookEvent::NonRenewalSubscription(_),
                    "non_renewal_subscription"
                )
                | (WebhookEvent::Unknown(_), "unknown")
        );
        assert!(
            variant_ok,
            "{name} parsed as {:?}",
            parsed.event.notification_type()
        );
        if expected != "unknown" {
            assert_eq!(parsed.event.notification_type(), expected);
        }
        assert_eq!(parsed.notification_type, sample_type(&body), "{name}");
        let sent: Value = serde_json::from_slice(&body).unwrap();
        let typed = serde_json::to_value(&parsed.event).unwrap();
        if expected == "unknown" {
            // Kept as received.
            assert_eq!(typed, sent, "{name}");
        }
        // Serialize → Deserialize gives the same event, and nothing unexpected was lost.
        let again: WebhookEvent = serde_json::from_value(typed.clone()).unwrap();
        assert_eq!(again, parsed.event, "{name}");
        assert_faithful(&name, &typed, &sent);
    }
}

fn sample_type(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["notification_type"].as_str().unwrap().to_owned()
}

#[test]
fn sample_keys_and_sandbox_flags() {
    let key = |body: &[u8]| {
        let parsed = parse(body).unwrap();
        (parsed.dedup, parsed.sandbox)
    };
    let file = |name: &str| {
        fixtures("store")
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no fixture {name}"))
            .1
    };
    let text = |p: DedupPolicy| match p {
        DedupPolicy::Key(k) => k.as_str().to_owned(),
        DedupPolicy::Never => "never".into(),
    };
    let (k, sandbox) = key(&file("payment.sdk"));
    assert_eq!(text(k), "store:payment:transaction.id=1");
    assert!(sandbox, "dry_run: 1");
    let (k, sandbox) = key(&file("order_paid.sdk"));
    assert_eq!(text(k), "store:order_paid:order.id=1");
    assert!(!sandbox, "mode: default");
    let (_, sandbox) = key(&sample_with(
        "store/order_paid.sdk",
        &[set("/order/mode", "sandbox")],
    ));
    assert!(sandbox, "mode: sandbox");
    let (k, _) = key(&file("afs_reject.doc"));
    assert_eq!(text(k), "store:afs_reject:transaction.id=1");
    let (k, _) = key(&file("payment_account_add.sdk"));
    assert_eq!(
        text(k),
        "store:payment_account_add:payment_account.id=98765512341"
    );
    let (k, _) = key(&file("create_subscription.doc"));
    assert_eq!(
        text(k),
        "store:create_subscription:subscription.subscription_id=10"
    );
    let (k, _) = key(&file("update_subscription.doc"));
    assert!(text(k).starts_with("store:update_subscription:sha256="));
    let (k, _) = key(&file("partial_refund.sdk"));
    assert!(text(k).starts_with("store:partial_refund:transaction.id=1:sha256="));
    let (k, _) = key(&file("user_validation.doc"));
    assert_eq!(text(k), "never");
    let (k, _) = key(&file("user_search.sdk"));
    assert_eq!(text(k), "never");
    // `transaction.id` is optional in the schema: a valid payment without it (or with null) is
    // keyed by its body.
    for absent in [
        sample_with("store/payment.sdk", &[remove("/transaction/id")]),
        sample_with("store/payment.sdk", &[set("/transaction/id", Value::Null)]),
    ] {
        let (k, sandbox) = key(&absent);
        assert!(
            text(k).starts_with("store:payment:sha256="),
            "no transaction id: body hash"
        );
        assert!(sandbox);
    }
}

#[tokio::test]
async fn backpack_samples_are_accepted_and_typed() {
    let samples = fixtures("backpack");
    assert_eq!(samples.len(), BACKPACK_SAMPLES, "fixture count changed");
    for (name, body) in samples {
        let expected_method = name.split('.').next().unwrap().to_owned();
        let receiver =
            BackpackReceiver::with_config(secret(), Recorder::new(), MemoryStore::new(), config())
                .unwrap();
        let (status, response) = parts(receiver.handle(signed(&body)).await).await;
        assert_eq!(
            status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&response)
        );
        assert!(response.is_empty(), "{name}");
        let calls = receiver.handler().calls();
        assert_eq!(calls.len(), 1, "{name}");
        assert_eq!(calls[0].0, expected_method, "{name}");
        // The Backpack schemas model every member of these samples: nothing is lost.
        let sent: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(calls[0].1, sent, "{name}");

        let parsed = parse_backpack(&body).unwrap();
        let variant_ok = matches!(
            (&parsed.event, name.split('.').next().unwrap()),
            (BackpackWebhookEvent::UserValidation(_), "user_validation")
                | (BackpackWebhookEvent::MoveToGame(_), "move_to_game")
                | (BackpackWebhookEvent::Unknown(_), "unknown")
        );
        assert!(variant_ok, "{name}");
        assert_eq!(serde_json::to_value(&parsed.event).unwrap(), sent, "{name}");
    }
}

#[test]
fn every_rejected_fixture_is_listed() {
    for family in ["store", "backpack"] {
        let mut on_disk: Vec<String> = fixtures(&format!("rejected/{family}"))
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = REJECTED
            .iter()
            .filter(|(f, ..)| *f == family)
            .map(|(_, name, ..)| (*name).to_owned())
            .collect();
        listed.sort();
        assert_eq!(on_disk, listed, "{family}");
    }
}

#[tokio::test]
async fn incomplete_captures_are_rejected() {
    for (family, name, status, reason) in REJECTED {
        let body = sample_with(&format!("rejected/{family}/{name}"), &[]);
        let notification_type = name.split('.').next().unwrap();
        // Parsing names the type and the schema violation.
        let err = match *family {
            "store" => parse(&body).map(|_| ()),
            _ => parse_backpack(&body).map(|_| ()),
        }
        .expect_err(name);
        let ParseError::InvalidPayload {
            notification_type: got_type,
            source,
        } = err
        else {
            panic!("{name}: {err:?}")
        };
        assert_eq!(got_type, notification_type, "{name}");
        assert!(
            source.to_string().contains(reason),
            "{name}: {source} does not mention {reason}"
        );

        // The receiver refuses it without calling the handler or touching the dedup store.
        let (got, response, calls, store_empty) = match *family {
            "store" => {
                let rx = WebhookReceiver::with_config(
                    secret(),
                    Recorder::new(),
                    MemoryStore::new(),
                    config(),
                )
                .unwrap();
                let (got, response) = parts(rx.handle(signed(&body)).await).await;
                (got, response, rx.handler().count(), rx.store().is_empty())
            }
            _ => {
                let rx = BackpackReceiver::with_config(
                    secret(),
                    Recorder::new(),
                    MemoryStore::new(),
                    config(),
                )
                .unwrap();
                let (got, response) = parts(rx.handle(signed(&body)).await).await;
                (got, response, rx.handler().count(), rx.store().is_empty())
            }
        };
        assert_eq!(got.as_u16(), *status, "{name}");
        assert_eq!(error_code(&response), "INVALID_PARAMETER", "{name}");
        assert_eq!(error_message(&response), SCHEMA_MISMATCH, "{name}");
        assert_eq!(calls, 0, "{name}");
        assert!(store_empty, "{name}");
    }
}

#[tokio::test]
async fn user_search_can_answer_with_a_user() {
    let body = fixtures("store")
        .into_iter()
        .find(|(n, _)| n == "user_search.sdk")
        .unwrap()
        .1;
    let found = FoundUser::new("USER_ID")
        .with_name("User Name")
        .with_public_id("1234567");
    let receiver = WebhookReceiver::new(
        secret(),
        Recorder::scripted([Script::Found(found)]),
        Arc::new(MemoryStore::new()),
    )
    .unwrap();
    let (status, response) = parts(receiver.handle(signed(&body)).await).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&response).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"user": {"id": "USER_ID", "name": "User Name", "public_id": "1234567"}})
    );
}
