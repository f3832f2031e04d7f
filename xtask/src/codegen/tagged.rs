//! A `oneOf` whose variants a property selects (`discriminator`), as a Rust enum: one variant per
//! referenced schema, chosen by that property's value, and `Unknown` for any other value (kept as
//! raw JSON, so a new variant upstream never fails parsing).
//!
//! [`crate::simplify::compose`] records the selection as [`TAGGED`] (the value → schema name
//! pairs, with the OpenAPI default "value = schema name" filled in).

use super::names::{ref_name, type_ident, type_name};
use super::schema::doc_attrs;
use crate::{Error, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

/// Schema extension: `{"property": "kind", "variants": [["cat", "Cat"], …]}`.
pub const TAGGED: &str = "x-tagged-union";

/// The enum for schema `name`, when it carries [`TAGGED`].
pub fn generate(name: &str, schema: &Value) -> Option<Result<TokenStream>> {
    let tagged = schema.get(TAGGED)?;
    Some(generate_tagged(name, schema, tagged))
}

fn generate_tagged(name: &str, schema: &Value, tagged: &Value) -> Result<TokenStream> {
    let fail = |reason: &str| Error::invalid(format!("schema {name}"), reason.to_string());
    let property = tagged
        .get("property")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("discriminator without propertyName"))?;
    // One variant per schema; several values may select it.
    let mut variants: Vec<(proc_macro2::Ident, proc_macro2::Ident, Vec<String>)> = Vec::new();
    for pair in tagged
        .get("variants")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(value), Some(target)) = (
            pair.get(0).and_then(Value::as_str),
            pair.get(1).and_then(Value::as_str),
        ) else {
            return Err(fail("malformed discriminator mapping"));
        };
        let variant = format_ident!("{}", type_name(target));
        if variant == "Unknown" {
            return Err(fail(
                "a variant schema named `Unknown` collides with the catch-all",
            ));
        }
        match variants.iter_mut().find(|(v, _, _)| *v == variant) {
            Some((_, _, values)) => values.push(value.to_string()),
            None => variants.push((variant, type_ident(target), vec![value.to_string()])),
        }
    }
    let ident = type_ident(name);
    let docs = doc_attrs(schema);
    let defs = variants.iter().map(|(v, ty, values)| {
        let list: Vec<String> = values
            .iter()
            .map(|value| format!("`{property}: {value}`"))
            .collect();
        let text = format!(" {}", list.join(" or "));
        quote!(#[doc = #text] #v(#ty))
    });
    let ser_arms = variants
        .iter()
        .map(|(v, _, _)| quote!(Self::#v(inner) => inner.serialize(serializer)));
    let de_arms = variants.iter().map(|(v, _, values)| {
        quote!(#(Some(#values))|* => ::serde_json::from_value(value).map(Self::#v).map_err(::serde::de::Error::custom))
    });
    let types: Vec<&proc_macro2::Ident> = variants.iter().map(|(_, t, _)| t).collect();
    let schema_name = name.to_string();
    let unknown_doc = format!(" Another `{property}` value, as received.");
    Ok(quote! {
        #docs
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum #ident {
            #(#defs,)*
            #[doc = #unknown_doc]
            Unknown(::serde_json::Value),
        }
        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #(#ser_arms,)*
                    Self::Unknown(value) => value.serialize(serializer),
                }
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                let kind = value.get(#property).and_then(::serde_json::Value::as_str).map(str::to_owned);
                match kind.as_deref() {
                    #(#de_arms,)*
                    _ => Ok(Self::Unknown(value)),
                }
            }
        }
        impl ::schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #schema_name.into()
            }
            fn json_schema(generator: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({ "oneOf": [#(generator.subschema_for::<#types>()),*] })
            }
        }
    })
}

/// The value → schema pairs of a `discriminator` over `variants` (`$ref`s), mapping first.
pub fn selection(discriminator: &Value, variants: &[Value]) -> Option<Value> {
    let property = discriminator.get("propertyName")?.as_str()?;
    let mapping = discriminator.get("mapping").and_then(Value::as_object);
    let mut pairs = Vec::new();
    for variant in variants {
        let target = ref_name(variant.get("$ref")?.as_str()?)?;
        let values: Vec<&String> = mapping
            .into_iter()
            .flatten()
            .filter(|(_, t)| t.as_str().and_then(|t| t.rsplit('/').next()) == Some(target))
            .map(|(value, _)| value)
            .collect();
        if values.is_empty() {
            pairs.push(serde_json::json!([target, target]));
        }
        for value in values {
            pairs.push(serde_json::json!([value, target]));
        }
    }
    Some(serde_json::json!({"property": property, "variants": pairs}))
}
