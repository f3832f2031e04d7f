//! The documented webhook samples, read from the spec documents (compiled in): the `examples`
//! of every webhook of the catalogue ([`WebhookKind`]), in `spec/webhooks.yaml` (payments/store)
//! or `spec/backpack.yaml` (Backpack, under `x-webhooks`).

use backpack_types::{WebhookFamily, WebhookKind};
use serde_json::Value;

const WEBHOOKS_YAML: &str = include_str!("../../../spec/webhooks.yaml");
const BACKPACK_YAML: &str = include_str!("../../../spec/backpack.yaml");

/// Why a sample could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// The type name is not one of [`type_names`].
    #[error("unknown webhook type `{name}`; known types: {known}")]
    UnknownType {
        /// What was asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// The type has no example of that name.
    #[error("`{name}` has no example `{example}`; examples: {known}")]
    UnknownExample {
        /// The webhook type.
        name: String,
        /// The example asked for.
        example: String,
        /// The examples it has, comma-separated.
        known: String,
    },
    /// The compiled-in spec has no usable sample.
    #[error("{0}")]
    Spec(String),
}

/// Every name `webhook send` and the trigger accept ([`WebhookKind::name`]; a Backpack
/// `notification_type` that only Backpack has is accepted alone too, see
/// [`WebhookKind::from_name`]).
pub fn type_names() -> Vec<&'static str> {
    WebhookKind::ALL.iter().map(|kind| kind.name()).collect()
}

/// A documented sample body.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The example's name in the spec.
    pub example: String,
    /// The JSON body (compact, keys in the spec's order).
    pub body: Vec<u8>,
}

fn parse_yaml(text: &str, what: &str) -> Result<Value, SampleError> {
    serde_norway::from_str(text)
        .map_err(|e| SampleError::Spec(format!("the compiled-in {what} is unreadable: {e}")))
}

/// Resolves `{"$ref": "#/components/examples/X"}` to X.
fn resolve<'a>(doc: &'a Value, example: &'a Value) -> Option<&'a Value> {
    match example.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc.pointer(reference.strip_prefix('#')?),
        None => Some(example),
    }
}

/// The family of a command-line type name.
pub fn family_of(type_name: &str) -> Option<WebhookFamily> {
    WebhookKind::from_name(type_name).map(WebhookKind::family)
}

/// The spec text that describes `kind`'s family.
fn spec_text(family: WebhookFamily) -> &'static str {
    match family {
        WebhookFamily::Backpack => BACKPACK_YAML,
        _ => WEBHOOKS_YAML,
    }
}

/// The documented sample of `type_name` (its first example, or the one named `example`).
pub fn sample(type_name: &str, example: Option<&str>) -> Result<Sample, SampleError> {
    let kind = WebhookKind::from_name(type_name).ok_or_else(|| SampleError::UnknownType {
        name: type_name.to_owned(),
        known: type_names().join(", "),
    })?;
    let doc = parse_yaml(spec_text(kind.family()), "spec")?;
    // OpenAPI 3.1 lists webhooks under `webhooks`, 3.0 under the `x-webhooks` extension.
    let examples = ["webhooks", "x-webhooks"]
        .iter()
        .find_map(|section| {
            doc.pointer(&format!(
                "/{section}/{}/post/requestBody/content/application~1json/examples",
                kind.spec_key()
            ))
        })
        .and_then(Value::as_object)
        .ok_or_else(|| SampleError::Spec(format!("the spec has no sample for `{type_name}`")))?;
    let (name, entry) = match example {
        Some(wanted) => examples
            .iter()
            .find(|(name, _)| name.as_str() == wanted)
            .ok_or_else(|| SampleError::UnknownExample {
                name: type_name.to_owned(),
                example: wanted.to_owned(),
                known: examples.keys().cloned().collect::<Vec<_>>().join(", "),
            })?,
        None => examples.iter().next().ok_or_else(|| {
            SampleError::Spec(format!("the spec has no sample for `{type_name}`"))
        })?,
    };
    let value = resolve(&doc, entry)
        .and_then(|e| e.get("value"))
        .ok_or_else(|| {
            SampleError::Spec(format!("sample `{name}` of `{type_name}` has no value"))
        })?;
    let body = serde_json::to_vec(value)
        .map_err(|e| SampleError::Spec(format!("sample is not JSON: {e}")))?;
    Ok(Sample {
        example: name.clone(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_sample_with_its_notification_type() {
        for name in type_names() {
            let sample = sample(name, None).unwrap();
            let value: Value = serde_json::from_slice(&sample.body).unwrap();
            let expected = name.strip_prefix("backpack.").unwrap_or(name);
            assert_eq!(value["notification_type"], expected, "{name}");
        }
        assert_eq!(type_names().len(), WebhookKind::ALL.len());
    }

    #[test]
    fn refs_and_named_examples_resolve() {
        let refund = sample("refund", None).unwrap();
        assert!(
            String::from_utf8(refund.body)
                .unwrap()
                .contains("\"refund\"")
        );
        let fixture = sample("order_paid", Some("php-sdk-fixture")).unwrap();
        assert_eq!(fixture.example, "php-sdk-fixture");
        assert!(sample("order_paid", Some("nope")).is_err());
        assert!(sample("nope", None).is_err());
        assert_eq!(family_of("move_to_game"), Some(WebhookFamily::Backpack));
    }
}
