//! Property tests: arbitrary bytes, webhook-shaped documents, mutated samples and header values
//! through verify, parse and the whole receiver never panic, parse fails only in the documented
//! ways, and answers stay within the documented set.

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use backpack_webhooks::*;
use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

const TYPES: &[&str] = &[
    "user_validation",
    "user_search",
    "payment",
    "order_paid",
    "order_canceled",
    "refund",
    "partial_refund",
    "payment_account_add",
    "payment_account_remove",
    "afs_reject",
    "create_subscription",
    "update_subscription",
    "cancel_subscription",
    "non_renewal_subscription",
    "move_to_game",
    "something_else",
];

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("(id|transaction|order|subscription|subscription_id|payment_account|dry_run|mode|[a-z]{1,6})", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Webhook-shaped bodies: a (usually known) notification_type plus random key-ish fields.
fn webhook_body() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(TYPES),
        json_value(),
        json_value(),
        json_value(),
        any::<bool>(),
    )
        .prop_map(|(nt, a, b, c, drop_type)| {
            let mut body = json!({
                "transaction": a,
                "order": b,
                "subscription": c,
                "payment_account": {"id": b.clone()},
            });
            if !drop_type {
                body["notification_type"] = Value::from(nt);
            }
            serde_json::to_vec(&body).unwrap()
        })
}

/// Complete store samples, each with one member (at a random depth) replaced by a random value
/// or removed: sometimes still valid, often not.
fn mutated_sample() -> impl Strategy<Value = Vec<u8>> {
    let samples: Vec<Value> = fixtures("store")
        .into_iter()
        .map(|(_, body)| serde_json::from_slice(&body).unwrap())
        .collect();
    (
        prop::sample::select(samples),
        prop::collection::vec(any::<Index>(), 1..5),
        prop::option::of(json_value()),
    )
        .prop_map(|(mut doc, path, replacement)| {
            mutate(&mut doc, &path, replacement);
            serde_json::to_vec(&doc).unwrap()
        })
}

/// Walks down by `path` (each index picks a member or element) and replaces (`Some`) or removes
/// (`None`) the member reached when the path ends or the next node has no children.
fn mutate(node: &mut Value, path: &[Index], replacement: Option<Value>) {
    let Some((ix, rest)) = path.split_first() else {
        return;
    };
    let descend = |child: &Value| {
        !rest.is_empty()
            && match child {
                Value::Object(m) => !m.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => false,
            }
    };
    match node {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(ix.index(map.len())).unwrap().clone();
            if descend(&map[&key]) {
                mutate(map.get_mut(&key).unwrap(), rest, replacement);
            } else if let Some(value) = replacement {
                map[&key] = value;
            } else {
                map.shift_remove(&key);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = ix.index(items.len());
            if descend(&items[i]) {
                mutate(&mut items[i], rest, replacement);
            } else if let Some(value) = replacement {
                items[i] = value;
            } else {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// Parses a JSON object with both parsers. Accepted: bounded keys with the family prefix and
/// the event's own `notification_type`. Refused: only for the listed reasons, and a schema
/// mismatch only for a known `notification_type` (unknown types are kept as raw JSON).
/// `type_may_be_mistyped`: whether `notification_type` may be present with a non-string value.
fn check_parse(body: &[u8], type_may_be_mistyped: bool) -> Result<(), TestCaseError> {
    fn check<E>(
        result: Result<Parsed<E>, ParseError>,
        prefix: &str,
        known: &[&str],
        notification_type_of: fn(&E) -> &str,
        type_may_be_mistyped: bool,
    ) -> Result<(), TestCaseError> {
        match result {
            Ok(parsed) => {
                if let DedupPolicy::Key(k) = &parsed.dedup {
                    prop_assert!(k.as_str().starts_with(prefix), "{}", k);
                    prop_assert!(k.as_str().len() < 400, "{}", k);
                }
                prop_assert_eq!(
                    notification_type_of(&parsed.event),
                    parsed.notification_type
                );
            }
            Err(ParseError::InvalidField { .. } | ParseError::MissingNotificationType) => {}
            Err(ParseError::NotificationTypeNotString) if type_may_be_mistyped => {}
            Err(ParseError::InvalidPayload {
                notification_type, ..
            }) => {
                prop_assert!(
                    known.contains(&notification_type.as_str()),
                    "schema mismatch for an unknown type {}",
                    notification_type
                );
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
        Ok(())
    }
    check(
        parse(body),
        "store:",
        WebhookEvent::NOTIFICATION_TYPES,
        WebhookEvent::notification_type,
        type_may_be_mistyped,
    )?;
    check(
        parse_backpack(body),
        "backpack:",
        BackpackWebhookEvent::NOTIFICATION_TYPES,
        BackpackWebhookEvent::notification_type,
        type_may_be_mistyped,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn verify_and_parse_never_panic(body in prop::collection::vec(any::<u8>(), 0..512),
                                    header in prop::option::of(".{0,64}"),
                                    raw_header in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = verify(&body, header.as_deref(), &secret());
        let _ = signature::verify_bytes(&body, Some(&raw_header), &secret());
        let _ = verify_and_parse(&body, header.as_deref(), &secret());
        let _ = parse(&body);
        let _ = parse_backpack(&body);
    }

    #[test]
    fn forged_signatures_are_refused(body in prop::collection::vec(any::<u8>(), 0..256),
                                     hex in "[0-9a-fA-F]{40}") {
        let good = sign(&body, &secret());
        prop_assume!(!hex.eq_ignore_ascii_case(&good));
        prop_assert_eq!(
            verify(&body, Some(&format!("Signature {hex}")), &secret()),
            Err(SignatureError::Mismatch)
        );
        prop_assert_eq!(verify(&body, Some(&format!("Signature {good}")), &secret()), Ok(()));
    }

    #[test]
    fn parse_of_signed_webhook_shapes_never_panics(body in webhook_body()) {
        // `notification_type` is a string or absent in these shapes.
        check_parse(&body, false)?;
    }

    #[test]
    fn parse_of_mutated_samples_never_panics(body in mutated_sample()) {
        check_parse(&body, true)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn receiver_answers_within_the_documented_set(
        body in prop_oneof![
            webhook_body(),
            mutated_sample(),
            prop::collection::vec(any::<u8>(), 0..256),
        ],
        sign_it in any::<bool>(),
        header in prop::collection::vec(any::<u8>(), 0..60),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (store_status, bp_status) = runtime.block_on(async {
            // Header bytes HTTP cannot carry are sent as "no header".
            let auth = if sign_it {
                http::HeaderValue::from_str(&authorization_value(&body, &secret())).ok()
            } else {
                http::HeaderValue::from_bytes(&header).ok()
            };
            let rx = WebhookReceiver::new(secret(), Recorder::new(), MemoryStore::new()).unwrap();
            let bp = BackpackReceiver::new(secret(), Recorder::new(), MemoryStore::new()).unwrap();
            let s = rx.handle(request_raw(&body, auth.clone(), PEER)).await.status().as_u16();
            let b = bp.handle(request_raw(&body, auth, PEER)).await.status().as_u16();
            (s, b)
        });
        prop_assert!([204, 400].contains(&store_status), "store answered {}", store_status);
        prop_assert!([200, 404].contains(&bp_status), "backpack answered {}", bp_status);
    }
}
