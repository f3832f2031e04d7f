//! Every bad-input class gets the status and code of the answer table in the crate docs.

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use axum::body::Body;
use backpack_types::webhooks::OrderMode;
use backpack_webhooks::*;
use common::*;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use tower::ServiceExt;

/// A complete documented `payment` sample (Xsolla PHP SDK fixture), byte for byte.
const BODY: &[u8] = include_bytes!("fixtures/store/payment.sdk.json");
/// sha1(BODY ‖ secret): the right signature.
const GOOD: &str = "39bebaefa679150c25eaa134d1d179284855654f";
/// sha1(secret ‖ BODY): key and body in the wrong order.
const WRONG_ORDER: &str = "bbae6a4ad8df0b68f71f511bdcf07fb05b016fd6";

#[test]
fn signature_vectors_belong_to_the_body() {
    let hex_sha1 = |parts: [&[u8]; 2]| hex::encode(Sha1::digest(parts.concat()));
    assert_eq!(hex_sha1([BODY, SECRET.as_bytes()]), GOOD);
    assert_eq!(hex_sha1([SECRET.as_bytes(), BODY]), WRONG_ORDER);
    assert_eq!(sign(BODY, &secret()), GOOD);
}

fn store() -> WebhookReceiver<Recorder, MemoryStore> {
    WebhookReceiver::with_config(secret(), Recorder::new(), MemoryStore::new(), config()).unwrap()
}

fn backpack() -> BackpackReceiver<Recorder, MemoryStore> {
    BackpackReceiver::with_config(secret(), Recorder::new(), MemoryStore::new(), config()).unwrap()
}

/// Sends to both families; checks the status/code of each and that the handler was not called.
async fn both(req: impl Fn() -> Request<Body>, store_expect: (u16, &str), bp_expect: (u16, &str)) {
    let rx = store();
    let (status, body) = parts(rx.handle(req()).await).await;
    assert_eq!(
        status.as_u16(),
        store_expect.0,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(error_code(&body), store_expect.1);
    assert_eq!(rx.handler().count(), 0);
    assert_no_leak(&body);

    let rx = backpack();
    let (status, body) = parts(rx.handle(req()).await).await;
    assert_eq!(
        status.as_u16(),
        bp_expect.0,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(error_code(&body), bp_expect.1);
    assert_eq!(rx.handler().count(), 0);
    assert_no_leak(&body);
}

fn assert_no_leak(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    for secret_ish in [SECRET, GOOD, WRONG_ORDER, "hunter2", "line", "column"] {
        assert!(!text.contains(secret_ish), "{text} leaks {secret_ish}");
    }
}

async fn bad_signature(value: Option<&str>) {
    let value = value.map(str::to_owned);
    both(
        || request(BODY, value.as_deref(), PEER),
        (400, "INVALID_SIGNATURE"),
        (404, "INVALID_SIGNATURE"),
    )
    .await;
}

#[tokio::test]
async fn missing_signature() {
    bad_signature(None).await;
}

#[tokio::test]
async fn garbled_signature() {
    bad_signature(Some(&format!("Signature {}", "x".repeat(40)))).await;
    bad_signature(Some("Signature !!!")).await;
    bad_signature(Some("garbage")).await;
}

#[tokio::test]
async fn wrong_order_signature() {
    bad_signature(Some(&format!("Signature {WRONG_ORDER}"))).await;
}

#[tokio::test]
async fn truncated_signature() {
    bad_signature(Some(&format!("Signature {}", &GOOD[..39]))).await;
    bad_signature(Some(&format!("Signature {}", &GOOD[..8]))).await;
}

#[tokio::test]
async fn wrong_scheme_and_spacing() {
    bad_signature(Some(&format!("Bearer {GOOD}"))).await;
    bad_signature(Some(&format!("Signature  {GOOD}"))).await;
    bad_signature(Some(GOOD)).await;
}

#[tokio::test]
async fn uppercase_hex_is_accepted() {
    let rx = store();
    let req = request(
        BODY,
        Some(&format!("Signature {}", GOOD.to_uppercase())),
        PEER,
    );
    let (status, _) = parts(rx.handle(req).await).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(rx.handler().methods(), ["payment"]);
}

#[tokio::test]
async fn empty_body() {
    // Correctly signed empty body (sha1(empty ‖ key), computed with Python `hashlib`): a body problem, not a signature one.
    both(
        || {
            request(
                b"",
                Some("Signature 78143a5ac4b892a68ce8b0b8b49e26667db0fa07"),
                PEER,
            )
        },
        (400, "INVALID_PARAMETER"),
        (404, "INVALID_PARAMETER"),
    )
    .await;
    // Empty body with the PHP SDK's altered signature.
    both(
        || {
            request(
                b"",
                Some("Signature 78143a5ac4b892a68ce8b0b8b49e26667db0fa00"),
                PEER,
            )
        },
        (400, "INVALID_SIGNATURE"),
        (404, "INVALID_SIGNATURE"),
    )
    .await;
}

#[tokio::test]
async fn malformed_json_and_non_objects() {
    for body in [
        &b"{"[..],
        b"{\"notification_type\": \"payment\"",
        b"not json",
        b"[]",
        b"\"payment\"",
        b"null",
        b"42",
        b"\xff\xfe",
        b"{\"notification_type\": \"payment\"} trailing",
    ] {
        both(
            || signed(body),
            (400, "INVALID_PARAMETER"),
            (404, "INVALID_PARAMETER"),
        )
        .await;
    }
}

#[tokio::test]
async fn missing_or_mistyped_notification_type() {
    for body in [
        &br#"{}"#[..],
        // "User validation in Web Shop" has no notification_type (<https://developers.xsolla.com/webhooks/operation/user-validation-in-webshop/>).
        br#"{"settings": {"project_id": 18404, "merchant_id": 2340}, "user": {"id": "1234567", "country": "US"}}"#,
        br#"{"notification_type": 5}"#,
        br#"{"notification_type": null}"#,
        br#"{"notification_type": ["payment"]}"#,
    ] {
        both(
            || signed(body),
            (400, "INVALID_PARAMETER"),
            (404, "INVALID_PARAMETER"),
        )
        .await;
    }
}

#[tokio::test]
async fn wrong_key_field_types() {
    // Complete samples whose deduplication-key field alone has an unusable type: refused by the
    // key check (its message names the field), not only by the typed payload.
    for (sample, edit, field) in [
        (
            "store/payment.sdk",
            set("/transaction/id", json!({"nested": 1})),
            "transaction.id",
        ),
        (
            "store/payment.sdk",
            set("/transaction/id", 1.5),
            "transaction.id",
        ),
        (
            "store/refund.sdk",
            set("/transaction", "1"),
            "transaction.id",
        ),
        ("store/order_paid.sdk", set("/order/id", true), "order.id"),
        ("store/order_canceled.sdk", set("/order/id", ""), "order.id"),
        (
            "store/payment_account_add.doc",
            set("/payment_account/id", json!([])),
            "payment_account.id",
        ),
        (
            "store/create_subscription.doc",
            set("/subscription/subscription_id", 1e3),
            "subscription.subscription_id",
        ),
    ] {
        let body = sample_with(sample, &[edit]);
        let rx = store();
        let (status, response) = parts(rx.handle(signed(&body)).await).await;
        let shown = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{shown}");
        assert_eq!(error_code(&response), "INVALID_PARAMETER", "{shown}");
        assert_eq!(
            error_message(&response),
            format!("{field} must be a non-empty string or an integer"),
            "{shown}"
        );
        assert_eq!(rx.handler().count(), 0);
        assert!(rx.store().is_empty());
    }
}

#[tokio::test]
async fn documented_type_quirks_are_accepted() {
    // Numbers as strings and the reverse (`spec/NOTES.md`: union-type table, B31), each in an
    // otherwise complete documented sample. The handler gets the value as sent.
    /// (sample, edits, handler method, values the handler must see at these pointers)
    type Quirk = (
        &'static str,
        Vec<Edit>,
        &'static str,
        Vec<(&'static str, Value)>,
    );
    let cases: Vec<Quirk> = vec![
        (
            // transaction.external_id: string in the schema, integer in samples.
            "store/payment.sdk",
            vec![set("/transaction/external_id", 12345678)],
            "payment",
            vec![("/transaction/external_id", json!(12345678))],
        ),
        (
            // settings.project_id / merchant_id: integers in the schema, strings in the SDK.
            "store/payment.sdk",
            vec![set(
                "/settings",
                json!({"project_id": "4567", "merchant_id": "123"}),
            )],
            "payment",
            vec![
                ("/settings/project_id", json!("4567")),
                ("/settings/merchant_id", json!("123")),
            ],
        ),
        (
            // purchase.subscription ids: subscription_id integer / plan_id string in the schema.
            "store/payment.sdk",
            vec![
                set("/purchase/subscription/subscription_id", "10"),
                set("/purchase/subscription/plan_id", 1),
            ],
            "payment",
            vec![
                ("/purchase/subscription/subscription_id", json!("10")),
                ("/purchase/subscription/plan_id", json!(1)),
            ],
        ),
        (
            // payment_details amounts and rate: numbers in the schema, strings in samples.
            "store/payment.sdk",
            vec![
                set("/payment_details/payment/amount", "230"),
                set("/payment_details/payout_currency_rate", "1"),
            ],
            "payment",
            vec![
                ("/payment_details/payment/amount", json!("230")),
                ("/payment_details/payout_currency_rate", json!("1")),
            ],
        ),
        (
            "store/refund.sdk",
            vec![set("/payment_details/payment/amount", "230")],
            "refund",
            vec![("/payment_details/payment/amount", json!("230"))],
        ),
        (
            // user.id: string in the schema, a number in the deprecated-overview sample.
            "store/user_validation.doc",
            vec![set("/user/id", 1234567)],
            "user_validation",
            vec![("/user/id", json!(1234567))],
        ),
        (
            "store/payment.sdk",
            vec![set("/user/id", 1234567)],
            "payment",
            vec![("/user/id", json!(1234567))],
        ),
        (
            // payment_account.payment_method: integer in the schema, "24" in the doc samples.
            "store/payment_account_add.doc",
            vec![set("/payment_account/payment_method", "24")],
            "payment_account_add",
            vec![("/payment_account/payment_method", json!("24"))],
        ),
        (
            // subscription ids of the subscription webhooks.
            "store/create_subscription.doc",
            vec![
                set("/subscription/subscription_id", "10"),
                set("/subscription/plan_id", 1),
                set("/settings/project_id", "18404"),
            ],
            "create_subscription",
            vec![
                ("/subscription/subscription_id", json!("10")),
                ("/subscription/plan_id", json!(1)),
                ("/settings/project_id", json!("18404")),
            ],
        ),
        (
            "store/non_renewal_subscription.doc",
            vec![set("/settings/project_id", "12345")],
            "non_renewal_subscription",
            vec![("/settings/project_id", json!("12345"))],
        ),
    ];
    for (sample, edits, method, expected) in cases {
        let body = sample_with(sample, &edits);
        let rx = store();
        let (status, response) = parts(rx.handle(signed(&body)).await).await;
        assert_eq!(
            status,
            204,
            "{sample} {edits:?}: {}",
            String::from_utf8_lossy(&response)
        );
        let calls = rx.handler().calls();
        assert_eq!(calls.len(), 1, "{sample} {edits:?}");
        assert_eq!(calls[0].0, method);
        for (pointer, value) in expected {
            assert_eq!(
                calls[0].1.pointer(pointer),
                Some(&value),
                "{sample}: {pointer}"
            );
        }
    }

    // Backpack settings as strings (Xsolla SDK fixtures).
    for sample in [
        "backpack/user_validation.doc_schema",
        "backpack/move_to_game.doc_schema",
    ] {
        let body = sample_with(
            sample,
            &[
                set("/settings/merchant_id", "2340"),
                set("/settings/project_id", "18404"),
            ],
        );
        let bp = backpack();
        let (status, response) = parts(bp.handle(signed(&body)).await).await;
        assert_eq!(
            status,
            200,
            "{sample}: {}",
            String::from_utf8_lossy(&response)
        );
        let calls = bp.handler().calls();
        assert_eq!(calls.len(), 1, "{sample}");
        assert_eq!(calls[0].1["settings"]["merchant_id"], "2340");
        assert_eq!(calls[0].1["settings"]["project_id"], "18404");
    }
}

#[tokio::test]
async fn payload_not_matching_its_schema_is_rejected() {
    // Complete samples with one required field removed or given the wrong type: refused with
    // INVALID_PARAMETER (400 payments/store, 404 Backpack) before the handler or the dedup store.
    let store_cases: &[(&str, Edit)] = &[
        ("store/payment.sdk", remove("/transaction")),
        ("store/payment.sdk", remove("/payment_details")),
        ("store/refund.sdk", remove("/transaction")),
        ("store/partial_refund.sdk", remove("/payment_details")),
        ("store/afs_reject.doc", remove("/transaction")),
        ("store/order_paid.sdk", remove("/items")),
        ("store/order_paid.sdk", remove("/user")),
        ("store/order_paid.sdk", remove("/order/mode")),
        ("store/order_paid.sdk", remove("/order/currency")),
        ("store/order_paid.sdk", remove("/items/0/sku")),
        ("store/order_paid.sdk", remove("/items/0/promotions")),
        ("store/order_canceled.sdk", remove("/order/status")),
        ("store/user_search.sdk", remove("/user")),
        ("store/user_validation.doc", remove("/user/id")),
        (
            "store/payment_account_add.doc",
            remove("/payment_account/id"),
        ),
        (
            "store/payment_account_remove.sdk",
            remove("/payment_account/id"),
        ),
        (
            "store/non_renewal_subscription.doc",
            remove("/settings/project_id"),
        ),
        ("store/create_subscription.doc", remove("/user/id")),
        ("store/cancel_subscription.sdk", remove("/user/id")),
        // Wrong types (no documented quirk covers them).
        ("store/order_paid.sdk", set("/order/amount", 2000)),
        ("store/order_paid.sdk", set("/items/0/quantity", "3")),
        ("store/order_paid.sdk", set("/order/id", "1")),
        ("store/payment.sdk", set("/transaction/id", "1")),
        ("store/payment.sdk", set("/transaction/payment_method", "1")),
        (
            "store/payment_account_add.doc",
            set("/payment_account/id", 12345678),
        ),
        ("store/payment.sdk", set("/payment_details", "230")),
    ];
    for (sample, edit) in store_cases {
        assert!(parse(&sample_with(sample, &[])).is_ok(), "{sample}");
        let body = sample_with(sample, std::slice::from_ref(edit));
        let rx = store();
        let (status, response) = parts(rx.handle(signed(&body)).await).await;
        assert_eq!(status, 400, "{sample} {edit:?}");
        assert_eq!(
            error_code(&response),
            "INVALID_PARAMETER",
            "{sample} {edit:?}"
        );
        assert_eq!(
            error_message(&response),
            SCHEMA_MISMATCH,
            "{sample} {edit:?}"
        );
        assert_no_leak(&response);
        assert_eq!(rx.handler().count(), 0, "{sample} {edit:?}");
        assert!(rx.store().is_empty(), "{sample} {edit:?}");
    }

    let backpack_cases: &[(&str, Edit)] = &[
        ("backpack/user_validation.doc_schema", remove("/settings")),
        ("backpack/user_validation.doc_schema", remove("/user")),
        (
            "backpack/user_validation.doc_schema",
            remove("/settings/merchant_id"),
        ),
        ("backpack/user_validation.doc_schema", set("/user/id", 5)),
        ("backpack/move_to_game.doc_schema", remove("/items")),
        (
            "backpack/move_to_game.doc_schema",
            remove("/settings/project_id"),
        ),
        ("backpack/move_to_game.doc_schema", remove("/items/0/id")),
        ("backpack/move_to_game.doc_schema", remove("/items/0/type")),
        (
            "backpack/move_to_game.doc_schema",
            set("/items/0/quantity", -1),
        ),
        ("backpack/move_to_game.doc_schema", set("/items", "gold")),
    ];
    for (sample, edit) in backpack_cases {
        assert!(
            parse_backpack(&sample_with(sample, &[])).is_ok(),
            "{sample}"
        );
        let body = sample_with(sample, std::slice::from_ref(edit));
        let bp = backpack();
        let (status, response) = parts(bp.handle(signed(&body)).await).await;
        assert_eq!(status, 404, "{sample} {edit:?}");
        assert_eq!(
            error_code(&response),
            "INVALID_PARAMETER",
            "{sample} {edit:?}"
        );
        assert_eq!(
            error_message(&response),
            SCHEMA_MISMATCH,
            "{sample} {edit:?}"
        );
        assert_eq!(bp.handler().count(), 0, "{sample} {edit:?}");
        assert!(bp.store().is_empty(), "{sample} {edit:?}");
    }
}

#[tokio::test]
async fn unknown_members_and_enum_values_are_accepted() {
    // Payload schemas are open (Publisher Account toggles add fields) and enums keep values they
    // do not know.
    let body = sample_with(
        "store/order_paid.sdk",
        &[
            set("/order/mode", "brand_new_mode"),
            set("/order/currency_type", "brand_new_currency_type"),
            set("/items/0/type", "brand_new_item_type"),
            set("/order/brand_new_member", 1),
            set("/brand_new_member", json!({"nested": [1, "two", null]})),
        ],
    );
    let rx = store();
    let (status, response) = parts(rx.handle(signed(&body)).await).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&response)
    );
    let calls = rx.handler().calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "order_paid");
    let seen = &calls[0].1;
    assert_eq!(seen["order"]["mode"], "brand_new_mode");
    assert_eq!(seen["order"]["currency_type"], "brand_new_currency_type");
    assert_eq!(seen["items"][0]["type"], "brand_new_item_type");
    assert_eq!(seen["order"]["id"], 1);
    assert!(
        seen.get("brand_new_member").is_none(),
        "unknown members are ignored"
    );
    let parsed = parse(&body).unwrap();
    let WebhookEvent::OrderPaid(event) = &parsed.event else {
        panic!("{:?}", parsed.event)
    };
    assert_eq!(
        event.order.mode,
        OrderMode::Unknown("brand_new_mode".into())
    );
    assert!(!parsed.sandbox, "only `sandbox` marks a test order");

    // Backpack: an unknown item type and an unknown member.
    let body = sample_with(
        "backpack/move_to_game.doc_schema",
        &[
            set("/items/0/type", "brand_new_item_type"),
            set("/brand_new_member", true),
        ],
    );
    let bp = backpack();
    let (status, response) = parts(bp.handle(signed(&body)).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&response)
    );
    let calls = bp.handler().calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "move_to_game");
    assert_eq!(calls[0].1["items"][0]["type"], "brand_new_item_type");
}

/// A complete `afs_reject` sample padded (with an unknown member) to exactly `len` bytes.
fn padded_sample(len: usize) -> Vec<u8> {
    let unpadded = sample_with("store/afs_reject.doc", &[set("/pad", "")]);
    assert!(unpadded.len() <= len, "sample too long for {len} bytes");
    let body = sample_with(
        "store/afs_reject.doc",
        &[set("/pad", "a".repeat(len - unpadded.len()))],
    );
    assert_eq!(body.len(), len);
    body
}

#[tokio::test]
async fn oversized_body() {
    let rx = WebhookReceiver::with_config(
        secret(),
        Recorder::new(),
        MemoryStore::new(),
        config().with_body_limit(1024),
    )
    .unwrap();
    let big = padded_sample(3000);
    let (status, body) = parts(rx.handle(signed(&big)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "INVALID_PARAMETER");
    // Without Content-Length (streamed body): still 413.
    let stream = futures::stream::iter(
        big.chunks(100)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let mut req = signed(&big);
    *req.body_mut() = Body::from_stream(stream);
    req.headers_mut().remove("content-length");
    let (status, _) = parts(rx.handle(req).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // One byte over the limit: refused; exactly at the limit: handled.
    let (status, _) = parts(rx.handle(signed(&padded_sample(1025))).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(rx.handler().count(), 0);
    let (status, _) = parts(rx.handle(signed(&padded_sample(1024))).await).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(rx.handler().methods(), ["afs_reject"]);
}

#[tokio::test]
async fn default_limit_is_one_mib() {
    let rx = store();
    let mut big = br#"{"notification_type": "payment", "pad": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    big.extend(br#""}"#);
    let (status, _) = parts(rx.handle(signed(&big)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(rx.config().body_limit(), 1024 * 1024);
}

#[tokio::test]
async fn ip_allowlist() {
    let allow = config().with_ip_allowlist(IpAllowlist::xsolla());
    let rx =
        WebhookReceiver::with_config(secret(), Recorder::new(), MemoryStore::new(), allow).unwrap();
    let body = ORDER_PAID;
    let auth = authorization_value(body, &secret());
    // Disallowed peer.
    let (status, response) =
        parts(rx.handle(request(body, Some(&auth), "8.8.8.8:1234")).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&response), "INVALID_CLIENT_IP");
    // No peer address known (no ConnectInfo): refused.
    let mut req = request(body, Some(&auth), PEER);
    req.extensions_mut()
        .remove::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
    let (status, _) = parts(rx.handle(req).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(rx.handler().count(), 0);
    // Allowed peer (documented range), IPv4-mapped IPv6 form.
    let (status, _) = parts(
        rx.handle(request(body, Some(&auth), "[::ffff:185.30.21.9]:1234"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(rx.handler().count(), 1);

    // Backpack receiver: same 403.
    let bp = BackpackReceiver::with_config(
        secret(),
        Recorder::new(),
        MemoryStore::new(),
        config().with_ip_allowlist(IpAllowlist::xsolla()),
    )
    .unwrap();
    let (status, response) = parts(bp.handle(request(body, Some(&auth), "8.8.8.8:1")).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&response), "INVALID_CLIENT_IP");
}

#[tokio::test]
async fn allowlist_off_by_default() {
    let rx = store();
    assert!(rx.config().ip_allowlist().is_none());
    let auth = authorization_value(BODY, &secret());
    let (status, _) = parts(rx.handle(request(BODY, Some(&auth), "8.8.8.8:1")).await).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(rx.handler().methods(), ["payment"]);
}

#[tokio::test]
async fn trusted_proxy_header() {
    let proxy: ipnet::IpNet = "10.0.0.0/8".parse().unwrap();
    let cfg = config()
        .with_ip_allowlist(IpAllowlist::xsolla())
        .with_client_ip_source(ClientIpSource::x_forwarded_for([proxy]));
    let rx =
        WebhookReceiver::with_config(secret(), Recorder::new(), MemoryStore::new(), cfg).unwrap();
    let auth = authorization_value(ORDER_PAID, &secret());
    let with_xff = |peer: &str, xff: &str| {
        let mut req = request(ORDER_PAID, Some(&auth), peer);
        req.headers_mut()
            .insert("x-forwarded-for", xff.parse().unwrap());
        req
    };
    // Through the trusted proxy, from Xsolla.
    let (status, _) = parts(rx.handle(with_xff("10.1.2.3:1", "185.30.20.5")).await).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Through the trusted proxy, from elsewhere (a spoofed left-most entry does not help).
    let (status, _) = parts(
        rx.handle(with_xff("10.1.2.3:1", "185.30.20.5, 8.8.8.8"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Untrusted peer sending the header: header ignored, peer refused.
    let (status, _) = parts(rx.handle(with_xff("8.8.8.8:1", "185.30.20.5")).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(rx.handler().count(), 1);
}

#[tokio::test]
async fn unknown_notification_type_is_accepted_by_default() {
    let body = br#"{"notification_type": "brand_new_type", "x": 1}"#;
    let rx = store();
    let (status, _) = parts(rx.handle(signed(body)).await).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(rx.handler().methods(), ["unknown"]);
    // …and deduplicated by body hash.
    let (status, _) = parts(rx.handle(signed(body)).await).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(rx.handler().count(), 1);

    let bp = backpack();
    let (status, _) = parts(bp.handle(signed(body)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bp.handler().methods(), ["unknown"]);
}

#[tokio::test]
async fn default_handler_methods_accept() {
    struct Nothing;
    impl WebhookHandler for Nothing {}
    impl BackpackHandler for Nothing {}
    let samples = fixtures("store");
    assert!(!samples.is_empty());
    for (name, body) in samples {
        let rx = WebhookReceiver::new(secret(), Nothing, MemoryStore::new()).unwrap();
        let (status, _) = parts(rx.handle(signed(&body)).await).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{name}");
    }
    let samples = fixtures("backpack");
    assert!(!samples.is_empty());
    for (name, body) in samples {
        let rx = BackpackReceiver::new(secret(), Nothing, MemoryStore::new()).unwrap();
        let (status, _) = parts(rx.handle(signed(&body)).await).await;
        assert_eq!(status, StatusCode::OK, "{name}");
    }
}

#[tokio::test]
async fn handler_rejections_and_failures() {
    for (script, status, code) in [
        (Script::Reject(ErrorCode::InvalidUser), 400, "INVALID_USER"),
        (
            Script::Reject(ErrorCode::IncorrectAmount),
            400,
            "INCORRECT_AMOUNT",
        ),
        (
            Script::Reject(ErrorCode::IncorrectInvoice),
            400,
            "INCORRECT_INVOICE",
        ),
        (
            Script::Reject(ErrorCode::InvalidParameter),
            400,
            "INVALID_PARAMETER",
        ),
        (Script::Temporary, 500, "SERVER_ERROR"),
        (Script::Panic, 500, "SERVER_ERROR"),
    ] {
        let rx = WebhookReceiver::new(
            secret(),
            Recorder::scripted([script.clone()]),
            MemoryStore::new(),
        )
        .unwrap();
        let (got, body) = parts(rx.handle(signed(ORDER_PAID)).await).await;
        assert_eq!(got.as_u16(), status, "{script:?}");
        assert_eq!(error_code(&body), code);
        assert_no_leak(&body);

        let bp_status = if status == 400 { 404 } else { 500 };
        let bp = BackpackReceiver::new(
            secret(),
            Recorder::scripted([script.clone()]),
            MemoryStore::new(),
        )
        .unwrap();
        let move_body = br#"{"notification_type":"move_to_game","settings":{"merchant_id":1,"project_id":2},"items":[{"id":"i1","sku":"gold","type":"virtual_currency","quantity":5}],"user":{"id":"p1"}}"#;
        let (got, body) = parts(bp.handle(signed(move_body)).await).await;
        assert_eq!(got.as_u16(), bp_status, "{script:?}");
        assert_eq!(error_code(&body), code);
    }
}

#[tokio::test]
async fn error_bodies_are_json_with_fixed_messages() {
    let rx = store();
    let (status, body) = parts(
        rx.handle(request(
            BODY,
            Some(&format!("Signature {WRONG_ORDER}")),
            PEER,
        ))
        .await,
    )
    .await;
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"error": {"code": "INVALID_SIGNATURE", "message": "Invalid signature"}})
    );
}

#[tokio::test]
async fn router_and_methods() {
    let rx = store();
    let app = axum::Router::new().nest("/xsolla", rx.clone().into_router());
    let mut req = signed(BODY);
    *req.uri_mut() = "/xsolla".parse().unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let get = Request::get("/xsolla").body(Body::empty()).unwrap();
    let response = app.oneshot(get).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");

    // The receiver itself is a tower Service.
    let app = axum::Router::new().route_service("/hook", rx.clone());
    let mut req = signed(ORDER_PAID);
    *req.uri_mut() = "/hook".parse().unwrap();
    let response = app.oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(rx.handler().methods(), ["payment", "order_paid"]);
}

#[test]
fn debug_never_shows_the_secret() {
    let rx = store();
    let shown = format!("{rx:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("***"));
}
