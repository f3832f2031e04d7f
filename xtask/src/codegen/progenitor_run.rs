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
        settings.with_replacement(typify_key(name), target, impls.into_iter());
        replaced.push(type_name(name));
    }
    replaced
}

/// The name typify looks a schema's replacement up by: the schema name with `'` dropped, other
/// non-identifier characters as word breaks, in PascalCase, an `X` prefix when it does not start
/// with a letter, and `_` after a keyword (`Self`).
fn typify_key(name: &str) -> String {
    use heck::ToUpperCamelCase;
    let words: String = name
        .chars()
        .filter(|c| *c != '\'')
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let camel = words.to_upper_camel_case();
    let camel = match camel.chars().next() {
        None => "X".to_string(),
        Some(c) if c.is_alphabetic() => camel,
        Some(_) => format!("X{camel}"),
    };
    if camel == "Self" {
        "Self_".into()
    } else {
        camel
    }
}

/// Runs a progenitor generator. progenitor panics on some inputs (validation is meant to prevent
/// that); a panic that slips through becomes an error instead of a crash.
pub fn catch_panic<T, E: std::fmt::Display>(
    generate: impl FnOnce() -> std::result::Result<T, E>,
) -> std::result::Result<T, String> {
    // The panic is reported as an error (and its operation degraded by the caller): keep the
    // default hook from printing it as a crash meanwhile.
    // The hook is process-wide: two generators swapping it at once could leave it silent.
    static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = HOOK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(generate));
    std::panic::set_hook(hook);
    outcome
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
