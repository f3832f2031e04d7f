//! What the two progenitor generators (client and httpmock) share: every component schema is
//! replaced by the `backpack-types` type of the same name, and a progenitor panic becomes an error.

use progenitor::{GenerationSettings, TypeImpl};
use serde_json::Value;

use super::names::type_name;

/// Registers, for every component schema of `doc`, the `types_module` type of the same name (with
/// `Display`/`FromStr` for enums); returns the Rust names replaced.
pub fn replace_component_schemas(
    settings: &mut GenerationSettings,
    doc: &Value,
    types_module: &str,
) -> Vec<String> {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let mut replaced = Vec::new();
    for (name, schema) in schemas.into_iter().flatten() {
        let impls: Vec<TypeImpl> = if schema.get("enum").is_some() {
            vec![TypeImpl::Display, TypeImpl::FromStr]
        } else {
            Vec::new()
        };
        let target = format!("{types_module}::{}", type_name(name));
        settings.with_replacement(name, target, impls.into_iter());
        replaced.push(type_name(name));
    }
    replaced
}

/// Runs a progenitor generator. progenitor panics on some inputs (validation is meant to prevent
/// that); a panic that slips through becomes an error instead of a crash.
pub fn catch_panic<T, E: std::fmt::Display>(
    generate: impl FnOnce() -> std::result::Result<T, E>,
) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(generate))
        .map_err(|panic| {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!(
                "progenitor panicked: {msg}; add a check for this case to xtask/src/validate.rs"
            )
        })?
        .map_err(|e| e.to_string())
}
