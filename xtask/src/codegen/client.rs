//! `generated/backpack-client`: progenitor's builder-style client for every Backpack operation.
//!
//! Every component schema is replaced by the `backpack-types` type of the same name, so the client
//! reuses those types (forward-compatible enums, lenient numbers) instead of making its own.
//! `inner` is the hand-written `crate::Hooks` and `HooksMode::Expected` makes a missing
//! `ClientHooks` impl a compile error, because X-HOST-ID and the bearer token depend on it.

use super::progenitor_run::{catch_panic, replace_component_schemas};
use crate::{Error, Result};
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use quote::quote;
use serde_json::Value;

/// Generates the client module for the (normalized, overlaid) Backpack document.
pub fn generate(doc: &Value, types_module: &str) -> Result<TokenStream> {
    let fail = |reason: String| Error::Generate {
        what: "backpack-client".into(),
        reason,
    };
    let spec: openapiv3::OpenAPI = serde_json::from_value(doc.clone())
        .map_err(|e| fail(format!("openapiv3 cannot read the document: {e}")))?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::Hooks))
        .with_hooks(HooksMode::Expected);
    let replaced = replace_component_schemas(&mut settings, doc, types_module);
    let mut generator = Generator::new(&settings);
    let tokens = catch_panic(|| generator.generate_tokens(&spec)).map_err(fail)?;
    // progenitor silently re-generates a type whose replacement did not apply; refuse that.
    let text = tokens.to_string();
    for name in &replaced {
        for kind in ["struct", "enum"] {
            if text.contains(&format!("pub {kind} {name} ")) {
                return Err(fail(format!(
                    "progenitor generated its own `{name}` instead of reusing {types_module}::{name}"
                )));
            }
        }
    }
    Ok(tokens)
}
