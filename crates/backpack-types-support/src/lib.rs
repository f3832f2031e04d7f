//! The hand-written value types the generated `backpack-types` models use for fields whose JSON
//! type Xsolla's documents and samples disagree on: [`IntOrString`] and [`NumberOrString`].
//!
//! **Why a crate of its own.** `generated/` holds only what `cargo xtask regen` writes; these
//! types do not depend on the spec, so they are written by hand here. `backpack-types` re-exports
//! them at its root and as `backpack_types::support` (the path the generated models use): depend
//! on `backpack-types`, not on this crate.
//!
//! Build values with `From`: `IntOrString::from(24)`, `IntOrString::from("24")`,
//! `NumberOrString::from(9.99)`.
#![warn(missing_docs)]

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

// Build one with `From`: `IntOrString::from(1234)` or `IntOrString::from("1234")`. (Not in the
// doc comment: that text is the JSON Schema description, which the snapshots pin.)
/// An integer that some senders write as a string (`1234` or `"1234"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
#[non_exhaustive]
pub enum IntOrString {
    /// Sent as a JSON integer.
    Int(i64),
    /// Sent as a JSON string.
    String(String),
}

impl IntOrString {
    /// The integer value, when it is one or is a string holding one.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(v) => Some(*v),
            Self::String(s) => s.trim().parse().ok(),
        }
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::String(s) => f.write_str(s),
        }
    }
}

impl From<i64> for IntOrString {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<&str> for IntOrString {
    fn from(value: &str) -> Self {
        Self::String(value.to_string())
    }
}

impl From<String> for IntOrString {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

// Hand-rolled instead of `#[serde(untagged)]`, which buffers every value before trying each
// variant: these fields sit in every webhook payload, on the receiver's hot path.
impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntOrStringVisitor;

        impl Visitor<'_> for IntOrStringVisitor {
            type Value = IntOrString;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                Ok(IntOrString::Int(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i64::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom("integer out of range"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v.to_string()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v))
            }
        }

        deserializer.deserialize_any(IntOrStringVisitor)
    }
}

// Build one with `From`: `NumberOrString::from(9.99)` or `NumberOrString::from("9.99")`.
/// A number that some senders write as a string (`9.99` or `"9.99"`).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
#[non_exhaustive]
pub enum NumberOrString {
    /// Sent as a JSON number.
    Number(f64),
    /// Sent as a JSON string.
    String(String),
}

impl NumberOrString {
    /// The numeric value, when it is one or is a string holding one.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(v) => Some(*v),
            Self::String(s) => s.trim().parse().ok(),
        }
    }
}

impl fmt::Display for NumberOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(v) => write!(f, "{v}"),
            Self::String(s) => f.write_str(s),
        }
    }
}

impl From<f64> for NumberOrString {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<&str> for NumberOrString {
    fn from(value: &str) -> Self {
        Self::String(value.to_string())
    }
}

impl From<String> for NumberOrString {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl<'de> Deserialize<'de> for NumberOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberOrStringVisitor;

        impl Visitor<'_> for NumberOrStringVisitor {
            type Value = NumberOrString;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }

            // Integers beyond 2^53 lose precision here, as in any JSON number reader.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumberOrString, E> {
                Ok(NumberOrString::Number(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumberOrString, E> {
                Ok(NumberOrString::Number(v as f64))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumberOrString, E> {
                Ok(NumberOrString::Number(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<NumberOrString, E> {
                Ok(NumberOrString::String(v.to_string()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<NumberOrString, E> {
                Ok(NumberOrString::String(v))
            }
        }

        deserializer.deserialize_any(NumberOrStringVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::{IntOrString, NumberOrString};

    #[test]
    fn int_or_string_reads_both_forms() {
        let int: IntOrString = serde_json::from_str("1234").unwrap_or(IntOrString::from(0));
        assert_eq!(int, IntOrString::from(1234));
        let text: IntOrString = serde_json::from_str("\" 1234 \"").unwrap_or(IntOrString::from(0));
        assert_eq!(text, IntOrString::from(" 1234 "));
        assert_eq!(text.as_i64(), Some(1234));
        assert_eq!(
            serde_json::to_string(&text).ok().as_deref(),
            Some("\" 1234 \"")
        );
        assert!(serde_json::from_str::<IntOrString>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<IntOrString>("1.5").is_err());
    }

    #[test]
    fn number_or_string_reads_both_forms() {
        let number: NumberOrString =
            serde_json::from_str("9.99").unwrap_or(NumberOrString::from(0.0));
        assert_eq!(number.as_f64(), Some(9.99));
        let text: NumberOrString =
            serde_json::from_str("\"9.99\"").unwrap_or(NumberOrString::from(0.0));
        assert_eq!(text, NumberOrString::from("9.99"));
        assert_eq!(text.as_f64(), Some(9.99));
        assert_eq!(NumberOrString::from(3.0).to_string(), "3");
        assert!(serde_json::from_str::<NumberOrString>("true").is_err());
    }
}
