//! Deduplication keys: which field of which `notification_type` identifies a delivery (the key
//! table is in the crate docs). Keys are read from the skimmed JSON by path, never from payload
//! struct fields, so the typed payloads can change without touching this module.

use std::fmt;

use serde_json::Value;
use sha2::{Digest, Sha256};

use backpack_types::WebhookFamily;

/// Longest identifier accepted as (part of) a deduplication key, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// A deduplication key (family, `notification_type` and identifier, e.g.
/// `store:order_paid:order.id=1`). Opaque text of bounded length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey(String);

impl DedupKey {
    /// A key from text (tests only).
    #[cfg(test)]
    pub(crate) fn new_unchecked(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether and how a delivery is deduplicated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DedupPolicy {
    /// Never deduplicated (`user_validation`, `user_search`: queries that Xsolla legitimately
    /// repeats and that must be answered afresh each time).
    Never,
    /// Deduplicated under this key.
    Key(DedupKey),
}

/// How the key of one `notification_type` is built.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyRule {
    Never,
    /// The identifier at this path; SHA-256 of the body when the field is absent or null.
    Field(&'static str, &'static [&'static str]),
    /// The identifier at this path AND the SHA-256 of the body.
    FieldAndBody(&'static str, &'static [&'static str]),
    /// SHA-256 of the body.
    Body,
}

const TRANSACTION_ID: KeyRule = KeyRule::Field("transaction.id", &["transaction", "id"]);
const ORDER_ID: KeyRule = KeyRule::Field("order.id", &["order", "id"]);
const PAYMENT_ACCOUNT_ID: KeyRule =
    KeyRule::Field("payment_account.id", &["payment_account", "id"]);

pub(crate) fn store_rule(notification_type: &str) -> KeyRule {
    match notification_type {
        "user_validation" | "user_search" => KeyRule::Never,
        "payment" | "refund" | "afs_reject" => TRANSACTION_ID,
        "partial_refund" => KeyRule::FieldAndBody("transaction.id", &["transaction", "id"]),
        "order_paid" | "order_canceled" => ORDER_ID,
        "payment_account_add" | "payment_account_remove" => PAYMENT_ACCOUNT_ID,
        "create_subscription" => KeyRule::Field(
            "subscription.subscription_id",
            &["subscription", "subscription_id"],
        ),
        // update/cancel/non_renewal can legitimately repeat for one subscription; all other
        // (unknown) types have no documented key.
        _ => KeyRule::Body,
    }
}

pub(crate) fn backpack_rule(notification_type: &str) -> KeyRule {
    match notification_type {
        "user_validation" => KeyRule::Never,
        // No delivery or transaction ID in Backpack payloads; a partial move of one currency
        // item could repeat items[].id, so the whole body is the key.
        _ => KeyRule::Body,
    }
}

/// A field used for deduplication has an unusable type or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidId {
    /// Dotted JSON path of the field.
    pub path: &'static str,
}

impl InvalidId {
    /// What the field must be.
    pub const EXPECTED: &'static str = "a non-empty string or an integer";
}

/// The policy `rule` gives a delivery of `notification_type` (`known`: one the family documents)
/// whose skimmed members are `value`, keyed under `family` (`store`, `backpack`).
pub(crate) fn dedup_policy(
    family: &str,
    notification_type: &str,
    known: bool,
    rule: KeyRule,
    value: &Value,
    raw_body: &[u8],
) -> Result<DedupPolicy, InvalidId> {
    if let KeyRule::Never = rule {
        return Ok(DedupPolicy::Never);
    }
    // Unknown types are keyed under a fixed word so that an arbitrary (signed) string cannot
    // make keys long; the body hash covers the real notification_type.
    let type_part = if known { notification_type } else { "unknown" };
    let (field, with_body) = match rule {
        KeyRule::Never | KeyRule::Body => (None, true),
        KeyRule::Field(name, path) => match identifier(value, name, path)? {
            Some(id) => (Some((name, id)), false),
            None => (None, true),
        },
        KeyRule::FieldAndBody(name, path) => match identifier(value, name, path)? {
            Some(id) => (Some((name, id)), true),
            None => (None, true),
        },
    };
    // One buffer, written in place: `{family}:{type}[:{field}={id}][:sha256={hex}]`.
    let mut key = String::with_capacity(128);
    key.push_str(family);
    key.push(':');
    key.push_str(type_part);
    if let Some((name, id)) = field {
        key.push(':');
        key.push_str(name);
        key.push('=');
        key.push_str(&id);
    }
    if with_body {
        key.push_str(":sha256=");
        key.push_str(&body_hash(raw_body));
    }
    Ok(DedupPolicy::Key(DedupKey(key)))
}

/// The word that starts a family's deduplication keys and labels its spans and metrics: `store`
/// or `backpack`. Not [`WebhookFamily::as_str`] (`payments`): recorded keys must keep matching.
pub(crate) fn family_word(family: WebhookFamily) -> &'static str {
    match family {
        WebhookFamily::Backpack => "backpack",
        _ => "store",
    }
}

/// The key whose record a successful delivery of `key` makes obsolete: adding a payment account
/// after removing it (or removing it again after re-adding it) is a new event, not a retry, though
/// its body is the same. `None` for every other key.
pub(crate) fn counterpart(key: &DedupKey) -> Option<DedupKey> {
    const ADD: &str = "store:payment_account_add:payment_account.id=";
    const REMOVE: &str = "store:payment_account_remove:payment_account.id=";
    let text = key.as_str();
    let other = if let Some(id) = text.strip_prefix(ADD) {
        format!("{REMOVE}{id}")
    } else if let Some(id) = text.strip_prefix(REMOVE) {
        format!("{ADD}{id}")
    } else {
        return None;
    };
    Some(DedupKey(other))
}

/// Hex SHA-256 of the raw body.
fn body_hash(raw_body: &[u8]) -> String {
    hex::encode(Sha256::digest(raw_body))
}

/// Reads an identifier at `path`. Absent (or null) → `None`. A string (non-empty, at most
/// [`MAX_ID_LEN`] bytes) or an integer is accepted and normalised to text, so `1` and `"1"` give
/// the same key (the docs and SDK fixtures disagree on such types). Anything else is an error.
fn identifier(
    value: &Value,
    name: &'static str,
    path: &[&str],
) -> Result<Option<String>, InvalidId> {
    let invalid = InvalidId { path: name };
    let mut current = value;
    for (depth, segment) in path.iter().enumerate() {
        let object = match current {
            Value::Object(map) => map,
            Value::Null if depth > 0 => return Ok(None),
            _ => return Err(invalid),
        };
        match object.get(*segment) {
            None => return Ok(None),
            Some(next) => current = next,
        }
    }
    match current {
        Value::Null => Ok(None),
        Value::String(s) if !s.is_empty() && s.len() <= MAX_ID_LEN => Ok(Some(s.clone())),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        _ => Err(invalid),
    }
}
