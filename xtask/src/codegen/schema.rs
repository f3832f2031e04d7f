//! Mapping one (normalized, 3.0) schema to the Rust type that represents it.

use super::names::{ref_name, type_ident};
use crate::{Error, Result};
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

/// Where generated code finds the model types.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The module holding this document's component types (`crate::api`, `::backpack_types::api`).
    pub models: TokenStream,
    /// The module holding the support types (`crate::support`, `::backpack_types::support`).
    pub support: TokenStream,
}

/// How a schema is spelled in Rust.
pub fn rust_type(schema: &Value, paths: &Paths, location: &str) -> Result<TokenStream> {
    let module = &paths.models;
    let support = &paths.support;
    let Some(map) = schema.as_object() else {
        return Ok(quote!(::serde_json::Value));
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let name = ref_name(reference).ok_or_else(|| {
            Error::invalid(
                location,
                format!("unsupported $ref {reference:?}; only #/components/schemas/… is"),
            )
        })?;
        let ident = type_ident(name);
        return Ok(quote!(#module::#ident));
    }
    if let Some(Value::Array(parts)) = map.get("allOf") {
        if parts.len() == 1 {
            return rust_type(&parts[0], paths, location);
        }
        return Err(Error::invalid(
            location,
            "allOf with several parts is not supported; merge it in an overlay",
        ));
    }
    if let Some(Value::Array(parts)) = map.get("oneOf").or_else(|| map.get("anyOf")) {
        let kinds: Vec<&str> = parts
            .iter()
            .filter_map(|p| p.get("type").and_then(Value::as_str))
            .collect();
        let mut sorted = kinds.clone();
        sorted.sort_unstable();
        return Ok(match sorted.as_slice() {
            ["integer", "string"] => quote!(#support::IntOrString),
            ["number", "string"] | ["integer", "number", "string"] => {
                quote!(#support::NumberOrString)
            }
            // Anything else: keep the raw JSON rather than guess (documented in the field's doc).
            _ => quote!(::serde_json::Value),
        });
    }
    // A 3.1 `const` (a one-value `enum` after down-conversion) often has no `type`.
    let string_values = map
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().all(Value::is_string));
    let ty = map
        .get("type")
        .and_then(Value::as_str)
        .or(string_values.then_some("string"));
    let format = map.get("format").and_then(Value::as_str);
    Ok(match ty {
        Some("string") => {
            if map
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|e| e.len() > 1)
            {
                return Err(Error::invalid(
                    location,
                    "inline enum was not given a name (inline_schemas::hoist should have named it)",
                ));
            }
            match format {
                Some("uuid") => quote!(::uuid::Uuid),
                _ => quote!(::std::string::String),
            }
        }
        Some("integer") => match format {
            Some("int32") => quote!(i32),
            Some("uint32") => quote!(u32),
            Some("uint64") => quote!(u64),
            _ => quote!(i64),
        },
        Some("number") => match format {
            Some("float") => quote!(f32),
            _ => quote!(f64),
        },
        Some("boolean") => quote!(bool),
        Some("array") => {
            let item = map.get("items").unwrap_or(&Value::Null);
            let inner = rust_type(item, paths, &format!("{location}[]"))?;
            quote!(::std::vec::Vec<#inner>)
        }
        Some("object") | None
            if map
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| !p.is_empty()) =>
        {
            return Err(Error::invalid(
                location,
                "inline object was not given a name (inline_schemas::hoist should have named it)",
            ));
        }
        Some("object") => match map.get("additionalProperties") {
            Some(extra @ Value::Object(_)) if !extra.as_object().is_some_and(|m| m.is_empty()) => {
                let inner = rust_type(extra, paths, &format!("{location}{{}}"))?;
                quote!(::std::collections::BTreeMap<::std::string::String, #inner>)
            }
            _ => quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        },
        _ => quote!(::serde_json::Value),
    })
}

/// Whether the schema allows `null` (3.0 `nullable`).
pub fn is_nullable(schema: &Value) -> bool {
    schema
        .get("nullable")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Doc attributes from `title`/`description` (and a deprecation note).
pub fn doc_attrs(schema: &Value) -> TokenStream {
    let mut lines: Vec<String> = Vec::new();
    for key in ["title", "description"] {
        if let Some(text) = schema.get(key).and_then(Value::as_str)
            && !text.trim().is_empty()
        {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.extend(text.trim().lines().map(|l| l.trim_end().to_string()));
        }
    }
    if schema.get("deprecated").and_then(Value::as_bool) == Some(true) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push("**Deprecated** upstream.".into());
    }
    let lines = lines.into_iter().map(|l| format!(" {}", escape_doc(&l)));
    quote!(#( #[doc = #lines] )*)
}

/// Keeps rustdoc from reading spec text as code blocks or intra-doc links.
fn escape_doc(line: &str) -> String {
    line.replace('[', "\\[").replace(']', "\\]")
}
