//! What the watch reports: a [`Finding`] names where a body differs from the spec, by JSON path
//! and JSON type, never by value (except the value of a field the spec declares as an enum).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A JSON type, as JSON Schema names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true` / `false`.
    Boolean,
    /// A number without a fraction or exponent that fits 64 bits.
    Integer,
    /// Any other number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonType {
    /// Every type, in bit order.
    pub const ALL: [JsonType; 7] = [
        JsonType::Null,
        JsonType::Boolean,
        JsonType::Integer,
        JsonType::Number,
        JsonType::String,
        JsonType::Array,
        JsonType::Object,
    ];

    /// The JSON Schema name (`integer`, `string`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }

    /// The type a JSON Schema `type` keyword names.
    pub fn from_name(name: &str) -> Option<JsonType> {
        JsonType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A webhook family (each has its own document and answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Payments / store webhooks (`spec/webhooks.yaml`).
    Store,
    /// Backpack webhooks (`x-webhooks` of `spec/backpack.yaml`).
    Backpack,
}

impl From<backpack_types::WebhookFamily> for Family {
    /// `Backpack` for the Backpack family; every other family is checked as `Store` (payments).
    fn from(family: backpack_types::WebhookFamily) -> Self {
        match family {
            backpack_types::WebhookFamily::Backpack => Family::Backpack,
            _ => Family::Store,
        }
    }
}

impl Family {
    /// `store` or `backpack`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Store => "store",
            Family::Backpack => "backpack",
        }
    }
}

/// What a finding is about: one operation's response under one documented status, or one webhook
/// type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum Subject {
    /// A Backpack API response.
    Response {
        /// The `operationId`.
        operation: String,
        /// The spec's response key that matched (`200`, `4XX`, …), or the status received when
        /// none did.
        status: String,
    },
    /// A webhook body.
    Webhook {
        /// Its family.
        family: Family,
        /// Its `notification_type` (a spec enum value, or a new one reported as such).
        notification_type: String,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Response { operation, status } => write!(f, "{operation} {status}"),
            Subject::Webhook {
                family,
                notification_type,
            } => write!(f, "{} webhook {notification_type}", family.as_str()),
        }
    }
}

/// The kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A property the spec does not have (`path` names it, `seen` its JSON type; its value is
    /// not looked into).
    UnknownProperty,
    /// A required property is missing (`path` names it).
    MissingRequired,
    /// The JSON type differs (`expected`, `seen`).
    TypeMismatch,
    /// A value the spec's enum does not list (`value` holds it).
    UnknownEnumValue,
    /// A status code the operation does not document (`subject.status` holds it).
    UndocumentedStatus,
    /// A content type the response does not document (`seen` holds its media type).
    UndocumentedContentType,
    /// A `notification_type` neither document has (`subject.notification_type` holds it).
    UnknownNotificationType,
}

impl Kind {
    /// The snake-case name used in reports, logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UnknownProperty => "unknown_property",
            Kind::MissingRequired => "missing_required",
            Kind::TypeMismatch => "type_mismatch",
            Kind::UnknownEnumValue => "unknown_enum_value",
            Kind::UndocumentedStatus => "undocumented_status",
            Kind::UndocumentedContentType => "undocumented_content_type",
            Kind::UnknownNotificationType => "unknown_notification_type",
        }
    }
}

/// One difference between a body and the spec. Two bodies with the same difference give equal
/// findings: it holds no value from the body, except `value` for an enum field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Finding {
    /// The operation and status, or the webhook.
    #[serde(flatten)]
    pub subject: Subject,
    /// What differs.
    pub kind: Kind,
    /// JSON path (`$.items[].sku`; `[]` stands for every array element; a member name that is
    /// not an identifier is written `*`). `$` for findings about the whole body.
    pub path: String,
    /// The JSON types the spec allows here (`integer|string`), for type mismatches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The JSON type seen (or the media type, for an undocumented content type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
    /// The value of an enum field the spec does not list (the only value a finding keeps): a
    /// string as is, a number or boolean as its JSON text (`seen` tells which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} at {}",
            self.subject,
            self.kind.as_str(),
            self.path
        )?;
        if let Some(expected) = &self.expected {
            write!(f, ", expected {expected}")?;
        }
        if let Some(seen) = &self.seen {
            write!(f, ", seen {seen}")?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value {value}")?;
        }
        Ok(())
    }
}

/// A member name as it may appear in a path: identifier-like names as they are; anything else
/// (a name that could be data, e.g. a user ID used as a key) as `*`.
pub(crate) fn path_segment(name: &str) -> &str {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { name } else { "*" }
}

/// A token from outside (a media type, a `notification_type`) kept only when it looks like one.
pub(crate) fn token(text: &str, extra: &[u8]) -> String {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || extra.contains(&b));
    if ok {
        text.to_string()
    } else {
        "*".to_string()
    }
}

/// Bits of a type set, written `integer|string` (`number` includes integers).
pub(crate) fn type_names(bits: u8) -> String {
    let number = bits & JsonType::Number.bit() != 0;
    JsonType::ALL
        .into_iter()
        .filter(|t| bits & t.bit() != 0)
        .filter(|t| !(number && *t == JsonType::Integer))
        .map(JsonType::as_str)
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_be_data_are_hidden() {
        assert_eq!(path_segment("order_id"), "order_id");
        assert_eq!(path_segment("player@example.com"), "*");
        assert_eq!(path_segment(""), "*");
        assert_eq!(token("application/json", b"/.+-"), "application/json");
        assert_eq!(token("text/html; a=b", b"/.+-"), "*");
        assert_eq!(
            type_names(JsonType::Integer.bit() | JsonType::String.bit()),
            "integer|string"
        );
    }
}
