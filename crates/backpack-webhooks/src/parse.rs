//! Parsing a (verified) body into a typed event, plus what the receiver needs to know about it:
//! its `notification_type`, its deduplication key ([`crate::dedup_key`]) and whether it is a
//! sandbox/test delivery.

use backpack_types::WebhookFamily;
use serde_json::Value;

use crate::dedup_key::{
    DedupPolicy, InvalidId, KeyRule, backpack_rule, dedup_policy, family_word, store_rule,
};
use crate::events::*;
use crate::secret::WebhookSecret;
use crate::signature::{self, SignatureError};

/// A parsed delivery.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Parsed<E> {
    /// The typed event.
    pub event: E,
    /// The `notification_type` string.
    pub notification_type: String,
    /// Deduplication decision.
    pub dedup: DedupPolicy,
    /// `true` for test deliveries: `transaction.dry_run` is 1 / "1" / true, or `order.mode` is
    /// `"sandbox"` (<https://developers.xsolla.com/webhooks/overview/>; `spec/NOTES.md`, W32).
    pub sandbox: bool,
}

/// Why a body could not be parsed. Messages name fields but never quote body content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Empty body.
    #[error("the body is empty")]
    EmptyBody,
    /// Not JSON.
    #[error("the body is not valid JSON (line {line}, column {column})")]
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// JSON, but not an object.
    #[error("the body is not a JSON object")]
    NotAnObject,
    /// No `notification_type`.
    #[error("notification_type is missing")]
    MissingNotificationType,
    /// `notification_type` is not a string.
    #[error("notification_type is not a string")]
    NotificationTypeNotString,
    /// A field used for deduplication has an unusable type or value.
    #[error("field `{path}` must be {expected}")]
    InvalidField {
        /// Dotted JSON path.
        path: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// The typed payload refused the body.
    #[error("the `{notification_type}` payload does not match its schema")]
    InvalidPayload {
        /// The `notification_type`.
        notification_type: String,
        /// The deserializer's error (may quote body content: log with care, never send back).
        #[source]
        source: serde_json::Error,
    },
}

/// Why [`verify_and_parse`] / [`verify_and_parse_backpack`] refused a body: its signature or its
/// content. (Not the error body sent back to Xsolla: that is `backpack_types::webhooks::WebhookError`.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyAndParseError {
    /// Bad or missing signature.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// Bad body.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// Parses a payments/store webhook body (already verified).
pub fn parse(raw_body: &[u8]) -> Result<Parsed<WebhookEvent>, ParseError> {
    parse_with(
        raw_body,
        WebhookFamily::Payments,
        store_rule,
        WebhookEvent::from_slice_as,
    )
}

/// Parses a Backpack webhook body (already verified).
pub fn parse_backpack(raw_body: &[u8]) -> Result<Parsed<BackpackWebhookEvent>, ParseError> {
    parse_with(
        raw_body,
        WebhookFamily::Backpack,
        backpack_rule,
        BackpackWebhookEvent::from_slice_as,
    )
}

/// Verifies the signature, then parses a payments/store webhook.
pub fn verify_and_parse(
    raw_body: &[u8],
    authorization: Option<&str>,
    secret: &WebhookSecret,
) -> Result<Parsed<WebhookEvent>, VerifyAndParseError> {
    signature::verify(raw_body, authorization, secret)?;
    Ok(parse(raw_body)?)
}

/// Verifies the signature, then parses a Backpack webhook.
pub fn verify_and_parse_backpack(
    raw_body: &[u8],
    authorization: Option<&str>,
    secret: &WebhookSecret,
) -> Result<Parsed<BackpackWebhookEvent>, VerifyAndParseError> {
    signature::verify(raw_body, authorization, secret)?;
    Ok(parse_backpack(raw_body)?)
}

fn parse_with<E>(
    raw_body: &[u8],
    family: WebhookFamily,
    rule_for: fn(&str) -> KeyRule,
    typed: fn(&str, &[u8]) -> Result<E, serde_json::Error>,
) -> Result<Parsed<E>, ParseError> {
    let Route {
        notification_type,
        dedup,
        sandbox,
    } = route(raw_body, family, rule_for)?;
    // Pass 2: the payload type chosen by pass 1's notification_type, straight from the bytes.
    let event = typed_event(&notification_type, raw_body, typed)?;
    Ok(Parsed {
        event,
        notification_type,
        dedup,
        sandbox,
    })
}

/// What pass 1 tells about a delivery: enough to route it and to claim its deduplication key
/// before the typed pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// The `notification_type` string.
    pub notification_type: String,
    /// Deduplication decision.
    pub dedup: DedupPolicy,
    /// Whether it is a test delivery (see [`Parsed::sandbox`]).
    pub sandbox: bool,
}

/// Pass 1 of [`parse`], alone (the receiver claims the dedup key before the typed pass, so a
/// replayed duplicate never pays for it).
pub(crate) fn route_store(raw_body: &[u8]) -> Result<Route, ParseError> {
    route(raw_body, WebhookFamily::Payments, store_rule)
}

/// Pass 1 of [`parse_backpack`], alone.
pub(crate) fn route_backpack(raw_body: &[u8]) -> Result<Route, ParseError> {
    route(raw_body, WebhookFamily::Backpack, backpack_rule)
}

/// Pass 2 alone: the payload type for `notification_type`, straight from the bytes.
pub(crate) fn typed_event<E>(
    notification_type: &str,
    raw_body: &[u8],
    typed: fn(&str, &[u8]) -> Result<E, serde_json::Error>,
) -> Result<E, ParseError> {
    typed(notification_type, raw_body).map_err(|source| ParseError::InvalidPayload {
        notification_type: notification_type.to_string(),
        source,
    })
}

/// A webhook family's event type with its two parsing passes, for the receiver pipeline.
pub(crate) trait FamilyEvent: Sized + Send + 'static {
    /// The family.
    const FAMILY: WebhookFamily;
    /// Pass 1: `notification_type`, dedup policy, sandbox flag.
    fn route(raw: &[u8]) -> Result<Route, ParseError>;
    /// Pass 2: the typed event.
    fn typed(notification_type: &str, raw: &[u8]) -> Result<Self, ParseError>;
}

impl FamilyEvent for WebhookEvent {
    const FAMILY: WebhookFamily = WebhookFamily::Payments;

    fn route(raw: &[u8]) -> Result<Route, ParseError> {
        route_store(raw)
    }

    fn typed(notification_type: &str, raw: &[u8]) -> Result<Self, ParseError> {
        typed_event(notification_type, raw, Self::from_slice_as)
    }
}

impl FamilyEvent for BackpackWebhookEvent {
    const FAMILY: WebhookFamily = WebhookFamily::Backpack;

    fn route(raw: &[u8]) -> Result<Route, ParseError> {
        route_backpack(raw)
    }

    fn typed(notification_type: &str, raw: &[u8]) -> Result<Self, ParseError> {
        typed_event(notification_type, raw, Self::from_slice_as)
    }
}

/// Pass 1 alone: `notification_type`, the dedup policy and the sandbox flag, from a skim that
/// keeps only the few top-level members needed (everything else is skipped without allocating).
fn route(
    raw_body: &[u8],
    family: WebhookFamily,
    rule_for: fn(&str) -> KeyRule,
) -> Result<Route, ParseError> {
    if raw_body.is_empty() {
        return Err(ParseError::EmptyBody);
    }
    let (mut probe, checked) = probe(raw_body, family)?;
    // Moved out of the skim rather than cloned: nothing below reads it from there.
    let notification_type = match probe
        .as_object_mut()
        .and_then(|kept| kept.remove("notification_type"))
    {
        Some(Value::String(s)) => s,
        Some(_) => return Err(ParseError::NotificationTypeNotString),
        None => return Err(ParseError::MissingNotificationType),
    };
    #[cfg(feature = "drift")]
    if !checked {
        crate::drift::observe(family, &notification_type, raw_body);
    }
    #[cfg(not(feature = "drift"))]
    let _ = checked;
    let dedup = dedup_policy(
        family_word(family),
        &notification_type,
        is_known(family, &notification_type),
        rule_for(&notification_type),
        &probe,
        raw_body,
    )?;
    let sandbox = is_sandbox(&probe);
    Ok(Route {
        notification_type,
        dedup,
        sandbox,
    })
}

/// What the skim keeps: these top-level members, and inside each (when it is an object) only the
/// listed sub-members. Everything else is skipped without building values.
const PROBED: &[(&str, &[&str])] = &[
    ("notification_type", &[]),
    ("transaction", &["id", "dry_run"]),
    ("order", &["id", "mode"]),
    ("payment_account", &["id"]),
    ("subscription", &["subscription_id"]),
];

/// Parses the body as a JSON object but keeps only the [`PROBED`] members (last one wins on
/// duplicates, as with `serde_json::Value`). Also checks that the whole body is valid JSON.
/// A kept member that is not an object keeps its own type (arrays are kept empty), so type
/// errors on key fields are still reported. With a drift watch checking on this thread, the same
/// walk also checks the body (`true`: checked).
fn probe(raw_body: &[u8], family: WebhookFamily) -> Result<(Value, bool), ParseError> {
    use serde::de::Deserializer as _;
    #[cfg(feature = "drift")]
    let folded = crate::drift::skim(family, raw_body, PROBED);
    #[cfg(not(feature = "drift"))]
    let folded: Option<Result<Value, serde_json::Error>> = {
        let _ = family;
        None
    };
    let checked = folded.is_some();
    let kept = folded.unwrap_or_else(|| {
        let mut de = serde_json::Deserializer::from_slice(raw_body);
        de.deserialize_map(probe::Members(probe::Level::Top))
            .and_then(|kept| de.end().map(|()| kept))
    });
    match kept {
        Ok(kept) => Ok((kept, checked)),
        // Valid JSON of another kind, or not JSON at all?
        Err(e) => match serde_json::from_slice::<serde::de::IgnoredAny>(raw_body) {
            Ok(_) => Err(ParseError::NotAnObject),
            Err(_) => Err(ParseError::InvalidJson {
                line: e.line(),
                column: e.column(),
            }),
        },
    }
}

/// Serde visitors for [`probe`].
mod probe {
    use std::fmt;

    use serde::de::{
        DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor,
    };
    use serde_json::{Map, Value};

    use super::PROBED;

    /// Which members an object keeps.
    #[derive(Clone, Copy)]
    pub(super) enum Level {
        /// The body: the [`PROBED`] members, each filtered by its sub-member list.
        Top,
        /// A probed member: these sub-members, kept whole.
        Inner(&'static [&'static str]),
    }

    /// What to do with a member.
    enum Keep {
        Skip,
        Whole(&'static str),
        Filtered(&'static str, &'static [&'static str]),
    }

    struct Name(Level);
    impl<'de> DeserializeSeed<'de> for Name {
        type Value = Keep;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Keep, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl Visitor<'_> for Name {
        type Value = Keep;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a member name")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Keep, E> {
            Ok(match self.0 {
                Level::Top => match PROBED.iter().find(|(name, _)| *name == v) {
                    None => Keep::Skip,
                    Some((name, [])) => Keep::Whole(name),
                    Some((name, inner)) => Keep::Filtered(name, inner),
                },
                Level::Inner(names) => match names.iter().find(|name| **name == v) {
                    None => Keep::Skip,
                    Some(name) => Keep::Whole(name),
                },
            })
        }
    }

    /// An object, keeping only the selected members.
    pub(super) struct Members(pub(super) Level);
    impl<'de> Visitor<'de> for Members {
        type Value = Value;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut kept = Map::new();
            while let Some(keep) = map.next_key_seed(Name(self.0))? {
                match keep {
                    Keep::Skip => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    Keep::Whole(name) => {
                        kept.insert(name.to_owned(), map.next_value::<Value>()?);
                    }
                    Keep::Filtered(name, inner) => {
                        let value = map.next_value_seed(Member(inner))?;
                        kept.insert(name.to_owned(), value);
                    }
                }
            }
            Ok(Value::Object(kept))
        }
    }

    /// A probed member: an object keeps its selected sub-members; anything else keeps its type.
    struct Member(&'static [&'static str]);
    impl<'de> DeserializeSeed<'de> for Member {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Member {
        type Value = Value;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
            Members(Level::Inner(self.0)).visit_map(map)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Value::Array(Vec::new()))
        }
        fn visit_bool<E: Error>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }
        fn visit_unit<E: Error>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
    }
}

impl From<InvalidId> for ParseError {
    fn from(e: InvalidId) -> Self {
        ParseError::InvalidField {
            path: e.path,
            expected: InvalidId::EXPECTED,
        }
    }
}

/// Whether the family documents `notification_type` (an unknown one is keyed as `unknown`).
fn is_known(family: WebhookFamily, notification_type: &str) -> bool {
    match family {
        WebhookFamily::Payments => WebhookEvent::NOTIFICATION_TYPES.contains(&notification_type),
        WebhookFamily::Backpack => {
            BackpackWebhookEvent::NOTIFICATION_TYPES.contains(&notification_type)
        }
        _ => false,
    }
}

/// Member `inner` of member `outer`, if `outer` is an object (plain lookups: `Value::pointer`
/// allocates to unescape each segment).
fn nested<'v>(value: &'v Value, outer: &str, inner: &str) -> Option<&'v Value> {
    value.get(outer)?.as_object()?.get(inner)
}

fn is_sandbox(value: &Value) -> bool {
    let dry_run = match nested(value, "transaction", "dry_run") {
        Some(Value::Number(n)) => n.as_i64() == Some(1) || n.as_u64() == Some(1),
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        Some(Value::Bool(b)) => *b,
        _ => false,
    };
    let sandbox_mode = nested(value, "order", "mode").and_then(Value::as_str) == Some("sandbox");
    dry_run || sandbox_mode
}

#[cfg(test)]
mod tests {
    use super::*;

    // These bodies are minimal (not valid payloads): they test routing and keys, which come from
    // pass 1 alone. Typed parsing of full payloads is tested in tests/samples.rs.
    fn skim(body: &[u8]) -> Result<Route, ParseError> {
        route(body, WebhookFamily::Payments, store_rule)
    }

    fn key_of(body: &str) -> DedupPolicy {
        skim(body.as_bytes()).unwrap().dedup
    }

    #[test]
    fn number_and_string_ids_give_the_same_key() {
        assert_eq!(
            key_of(r#"{"notification_type":"payment","transaction":{"id":1}}"#),
            key_of(r#"{"notification_type":"payment","transaction":{"id":"1"}}"#)
        );
    }

    #[test]
    fn keys_include_notification_type() {
        assert_ne!(
            key_of(r#"{"notification_type":"payment","transaction":{"id":1}}"#),
            key_of(r#"{"notification_type":"refund","transaction":{"id":1}}"#)
        );
    }

    #[test]
    fn key_texts() {
        let DedupPolicy::Key(k) = key_of(r#"{"notification_type":"order_paid","order":{"id":7}}"#)
        else {
            panic!("expected a key")
        };
        assert_eq!(k.as_str(), "store:order_paid:order.id=7");
        let DedupPolicy::Key(k) = key_of(r#"{"notification_type":"whatever","x":1}"#) else {
            panic!("expected a key")
        };
        assert!(k.as_str().starts_with("store:unknown:sha256="), "{k}");
    }

    #[test]
    fn missing_key_falls_back_to_body_hash() {
        let DedupPolicy::Key(k) = key_of(r#"{"notification_type":"payment"}"#) else {
            panic!("expected a key")
        };
        assert!(k.as_str().starts_with("store:payment:sha256="), "{k}");
    }

    #[test]
    fn wrong_key_types_are_rejected() {
        for body in [
            r#"{"notification_type":"payment","transaction":{"id":1.5}}"#,
            r#"{"notification_type":"payment","transaction":{"id":true}}"#,
            r#"{"notification_type":"payment","transaction":{"id":""}}"#,
            r#"{"notification_type":"payment","transaction":[1]}"#,
            r#"{"notification_type":"order_paid","order":{"id":{"a":1}}}"#,
        ] {
            assert!(
                matches!(skim(body.as_bytes()), Err(ParseError::InvalidField { .. })),
                "{body}"
            );
        }
    }

    #[test]
    fn body_shape_errors() {
        assert!(matches!(skim(b""), Err(ParseError::EmptyBody)));
        assert!(matches!(skim(b"[]"), Err(ParseError::NotAnObject)));
        assert!(matches!(skim(b"\"x\""), Err(ParseError::NotAnObject)));
        assert!(matches!(skim(b"{"), Err(ParseError::InvalidJson { .. })));
        assert!(matches!(skim(b"[1,"), Err(ParseError::InvalidJson { .. })));
        assert!(matches!(
            skim(br#"{"notification_type":"payment"} x"#),
            Err(ParseError::InvalidJson { .. })
        ));
        assert!(matches!(
            skim(br#"{"a":1}"#),
            Err(ParseError::MissingNotificationType)
        ));
        assert!(matches!(
            skim(br#"{"notification_type":null}"#),
            Err(ParseError::NotificationTypeNotString)
        ));
        // Other members are skipped, even deeply nested ones; duplicates: the last one wins.
        let Route {
            notification_type,
            dedup,
            ..
        } = skim(br#"{"x":{"y":[1,{"z":null}]},"notification_type":"refund","notification_type":"payment","transaction":{"id":5}}"#)
            .unwrap();
        assert_eq!(notification_type, "payment");
        assert_eq!(
            dedup,
            DedupPolicy::Key(crate::dedup_key::DedupKey::new_unchecked(
                "store:payment:transaction.id=5"
            ))
        );
        // A known type whose payload lacks required fields fails typed parsing (pass 2).
        assert!(matches!(
            parse(br#"{"notification_type":"payment","transaction":{"id":5}}"#),
            Err(ParseError::InvalidPayload { .. })
        ));
    }

    #[test]
    fn sandbox_markers() {
        assert!(
            skim(br#"{"notification_type":"payment","transaction":{"id":1,"dry_run":1}}"#)
                .unwrap()
                .sandbox
        );
        assert!(
            !skim(br#"{"notification_type":"payment","transaction":{"id":1}}"#)
                .unwrap()
                .sandbox
        );
        assert!(
            skim(br#"{"notification_type":"order_paid","order":{"id":1,"mode":"sandbox"}}"#)
                .unwrap()
                .sandbox
        );
    }
}
