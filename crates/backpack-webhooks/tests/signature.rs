//! Signature vectors (algorithm: <https://developers.xsolla.com/webhooks/overview/>) and header rules.

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use backpack_webhooks::{
    MemoryStore, SignatureError, WebhookReceiver, WebhookSecret, WebhookSecrets,
    authorization_value, sign, verify, verify_headers,
};
use common::{ORDER_PAID, PEER, Recorder, body_with, error_code, parts, request, secret, set};
use http::{HeaderMap, HeaderName, HeaderValue};

/// (body, sha1(body ‖ key), sha1(key ‖ body)) computed with Python `hashlib.sha1`, key = `PROJECT_SECRET_KEY`.
const VECTORS: &[(&[u8], &str, &str)] = &[
    (
        br#"{"notification_type": "payment"}"#,
        "89404631c86da9f508954da7b50799199a6b1d3a",
        "cb531735ad8baad121417c07542054f2fbf3101e",
    ),
    (
        br#"{"notification_type": "user_validation"}"#,
        "aa484089c3488897042406bb6b5666d585e10620",
        "07c0d3bb8d481f47be790973f49ef8ed823e9f22",
    ),
    (
        br#"{"notification_type":"user_validation"}"#,
        "c57df73afc1df6bd5f8e8f89e2ce00207a48cf67",
        "62585782e55fea6baf1767550278cfa03a21e086",
    ),
    (
        b"",
        "78143a5ac4b892a68ce8b0b8b49e26667db0fa07",
        "78143a5ac4b892a68ce8b0b8b49e26667db0fa07",
    ),
];

#[test]
fn derived_vectors_sign_and_verify() {
    for (body, good, _) in VECTORS {
        assert_eq!(sign(body, &secret()), *good);
        assert_eq!(
            verify(body, Some(&format!("Signature {good}")), &secret()),
            Ok(())
        );
        assert_eq!(
            authorization_value(body, &secret()),
            format!("Signature {good}")
        );
    }
}

#[test]
fn wrong_order_is_a_mismatch() {
    for (body, good, wrong_order) in VECTORS {
        if good == wrong_order {
            continue; // empty body: both orders hash the same bytes
        }
        assert_eq!(
            verify(body, Some(&format!("Signature {wrong_order}")), &secret()),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn php_sdk_invalid_signature_case() {
    // Empty body with the last two hex digits altered (PHP SDK's negative test).
    assert_eq!(
        verify(
            b"",
            Some("Signature 78143a5ac4b892a68ce8b0b8b49e26667db0fa00"),
            &secret()
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn other_secret_is_a_mismatch() {
    let (body, good, _) = VECTORS[0];
    assert_eq!(
        verify(
            body,
            Some(&format!("Signature {good}")),
            &WebhookSecret::new("OTHER")
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn one_flipped_body_byte_is_a_mismatch() {
    let (body, good, _) = VECTORS[0];
    let mut tampered = body.to_vec();
    tampered[3] ^= 1;
    assert_eq!(
        verify(&tampered, Some(&format!("Signature {good}")), &secret()),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn hex_and_scheme_case_insensitive() {
    let (body, good, _) = VECTORS[0];
    let upper = good.to_uppercase();
    assert_eq!(
        verify(body, Some(&format!("Signature {upper}")), &secret()),
        Ok(())
    );
    assert_eq!(
        verify(body, Some(&format!("signature {good}")), &secret()),
        Ok(())
    );
    assert_eq!(
        verify(body, Some(&format!("SIGNATURE {upper}")), &secret()),
        Ok(())
    );
    let mixed: String = good
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    assert_eq!(
        verify(body, Some(&format!("Signature {mixed}")), &secret()),
        Ok(())
    );
}

#[test]
fn strict_shape() {
    let (body, good, _) = VECTORS[0];
    let cases: &[(String, SignatureError)] = &[
        (
            format!("Signature  {good}"),
            SignatureError::MalformedHeader,
        ),
        (
            format!("Signature {good} "),
            SignatureError::MalformedHeader,
        ),
        (
            format!(" Signature {good}"),
            SignatureError::MalformedHeader,
        ),
        (
            format!("Signature {good}\t"),
            SignatureError::MalformedHeader,
        ),
        ("Signature".into(), SignatureError::MalformedHeader),
        ("Signature ".into(), SignatureError::MalformedHeader),
        (String::new(), SignatureError::MalformedHeader),
        (good.to_string(), SignatureError::WrongScheme),
        (format!("Bearer {good}"), SignatureError::WrongScheme),
        (format!("Sig {good}"), SignatureError::WrongScheme),
        (format!("Signatures {good}"), SignatureError::WrongScheme),
        (format!("Signature:{good}"), SignatureError::WrongScheme),
        (format!("Signature={good}"), SignatureError::WrongScheme),
        (
            format!("Signature {}", &good[..39]),
            SignatureError::WrongLength { actual: 39 },
        ),
        (
            format!("Signature {}", &good[..20]),
            SignatureError::WrongLength { actual: 20 },
        ),
        (
            format!("Signature {good}00"),
            SignatureError::WrongLength { actual: 42 },
        ),
        (
            format!("Signature {}zz", &good[..38]),
            SignatureError::NonHex,
        ),
        (
            format!("Signature {}", "g".repeat(40)),
            SignatureError::NonHex,
        ),
        (
            format!("Signature {}é", &good[..38]),
            SignatureError::NonHex,
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(
            verify(body, Some(value), &secret()),
            Err(*expected),
            "{value:?}"
        );
    }
    assert_eq!(
        verify(body, None, &secret()),
        Err(SignatureError::MissingHeader)
    );
}

#[test]
fn header_map_lookup() {
    let (body, good, _) = VECTORS[0];
    let mut headers = HeaderMap::new();
    assert_eq!(
        verify_headers(body, &headers, &secret()),
        Err(SignatureError::MissingHeader)
    );
    // Header names are case-insensitive: `AUTHORIZATION` and `authorization` are one name.
    let name = HeaderName::from_bytes(b"AUTHORIZATION").unwrap();
    headers.insert(
        name,
        HeaderValue::from_str(&format!("Signature {good}")).unwrap(),
    );
    assert_eq!(verify_headers(body, &headers, &secret()), Ok(()));
    headers.append(
        "Authorization",
        HeaderValue::from_str(&format!("Signature {good}")).unwrap(),
    );
    assert_eq!(
        verify_headers(body, &headers, &secret()),
        Err(SignatureError::MultipleHeaders)
    );
    let mut bad = HeaderMap::new();
    bad.insert(
        "authorization",
        HeaderValue::from_bytes(b"Signature \xff\xfe").unwrap(),
    );
    assert_eq!(
        verify_headers(body, &bad, &secret()),
        Err(SignatureError::WrongLength { actual: 2 })
    );
}

#[test]
fn error_messages_do_not_echo_the_signature() {
    let (body, _, wrong) = VECTORS[0];
    let err = verify(body, Some(&format!("Signature {wrong}")), &secret()).unwrap_err();
    assert!(!err.to_string().contains(wrong));
    assert!(!format!("{err:?}").contains(wrong));
}

#[tokio::test]
async fn rotation_accepts_current_and_previous_secrets_only() {
    let old = WebhookSecret::new("OLD_PROJECT_KEY");
    let new = WebhookSecret::new("NEW_PROJECT_KEY");
    let secrets = WebhookSecrets::new(new.clone()).with_previous(old.clone());
    let shown = format!("{secrets:?}");
    assert!(!shown.contains("PROJECT_KEY"), "{shown}");
    let rx = WebhookReceiver::new(secrets, Recorder::new(), MemoryStore::new()).unwrap();
    let signed_with = |secret: &WebhookSecret, id: i64| {
        let body = body_with(ORDER_PAID, &[set("/order/id", id)]);
        request(&body, Some(&authorization_value(&body, secret)), PEER)
    };
    assert_eq!(rx.handle(signed_with(&old, 1)).await.status(), 204);
    assert_eq!(rx.handle(signed_with(&new, 2)).await.status(), 204);
    let stranger = WebhookSecret::new("SOMEONE_ELSES_KEY");
    let (status, body) = parts(rx.handle(signed_with(&stranger, 3)).await).await;
    assert_eq!(
        (status.as_u16(), error_code(&body).as_str()),
        (400, "INVALID_SIGNATURE")
    );
    assert_eq!(rx.handler().count(), 2);
}
