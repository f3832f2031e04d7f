//! `generated/backpack-types`: one module per vendored document (`api`, `webhooks`), a struct per
//! object schema, a forward-compatible enum per string enum, and the webhook event enums.
//!
//! Written with syn/quote rather than typify because typify cannot give enums a catch-all variant
//! (an unknown value must stay data, not fail the whole payload) and cannot accept a number sent as
//! a string where Xsolla's documents disagree with its samples.

use super::names::{field_ident, ref_name, type_ident, type_name};
use super::schema::{Paths, doc_attrs, is_nullable, rust_type};
use crate::validate::operations;
use crate::{Error, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

/// One vendored document turned into one module of the types crate.
pub struct ModuleInput<'a> {
    /// Module name: `api` or `webhooks`.
    pub module: &'a str,
    /// The normalized document.
    pub doc: &'a Value,
    /// Name of the webhook event enum for this document's webhooks.
    pub event_enum: &'a str,
    /// Module doc text.
    pub doc_text: &'a str,
}

/// Generates one module's code.
pub fn generate_module(input: &ModuleInput<'_>) -> Result<TokenStream> {
    let module_ident = format_ident!("{}", input.module);
    let paths = Paths {
        models: quote!(crate::#module_ident),
        support: quote!(crate::support),
    };
    let schemas = input
        .doc
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let mut items = Vec::new();
    for (name, schema) in schemas.into_iter().flatten() {
        items.push(generate_schema(name, schema, &paths)?);
    }
    items.push(generate_event_enum(input)?);
    let doc_text = format!(" {}", input.doc_text);
    Ok(quote! {
        #![doc = #doc_text]
        #![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]
        #(#items)*
    })
}

fn generate_schema(name: &str, schema: &Value, paths: &Paths) -> Result<TokenStream> {
    let location = format!("schema {name}");
    if let Some(tagged) = super::tagged::generate(name, schema) {
        return tagged;
    }
    let is_string_enum = schema
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().all(Value::is_string));
    if is_string_enum {
        return generate_enum(name, schema);
    }
    let has_props = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    if has_props {
        return generate_struct(name, schema, paths);
    }
    // Anything else (array, scalar, free-form object) is a transparent newtype, so the name exists.
    let ident = type_ident(name);
    let docs = doc_attrs(schema);
    let inner = rust_type(schema, paths, &location)?;
    Ok(quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct #ident(pub #inner);
    })
}

fn generate_struct(name: &str, schema: &Value, paths: &Paths) -> Result<TokenStream> {
    let ident = type_ident(name);
    let docs = doc_attrs(schema);
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        // Kept open on purpose: Xsolla adds fields, and a receiver must not reject them.
        eprintln!(
            "note: schema {name} has additionalProperties: false; unknown fields are ignored anyway"
        );
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    let mut all_optional = true;
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    for (prop, prop_schema) in props {
        let location = format!("schema {name}.{prop}");
        let field = field_ident(prop);
        let ty = rust_type(prop_schema, paths, &location)?;
        let mut field_docs = doc_attrs(prop_schema);
        if let Some(Value::Array(values)) = prop_schema.get("enum")
            && values.len() == 1
        {
            let text = format!(" Always `{}`.", values[0].as_str().unwrap_or_default());
            field_docs = quote!(#field_docs #[doc = ""] #[doc = #text]);
        }
        let is_required = required.contains(&prop.as_str());
        let nullable = is_nullable(prop_schema);
        let attrs_and_ty = match (is_required, nullable) {
            (true, false) => {
                all_optional = false;
                quote!(#[serde(rename = #prop)] pub #field: #ty)
            }
            // Required but nullable: always serialized (as `null` when empty).
            (true, true) => {
                all_optional = false;
                quote!(#[serde(rename = #prop, default)] pub #field: ::std::option::Option<#ty>)
            }
            (false, _) => quote! {
                #[serde(rename = #prop, default, skip_serializing_if = "Option::is_none")]
                pub #field: ::std::option::Option<#ty>
            },
        };
        fields.push(quote!(#field_docs #attrs_and_ty));
    }
    // A schema that allows members beyond its properties keeps them, rather than dropping data
    // the sender meant for the reader (e.g. free-form `custom_parameters`).
    match schema.get("additionalProperties") {
        Some(Value::Bool(true)) => fields.push(quote! {
            /// Members not listed above, as received (the schema allows any).
            #[serde(flatten)]
            pub additional_properties: ::serde_json::Map<::std::string::String, ::serde_json::Value>
        }),
        Some(extra @ Value::Object(m)) if !m.is_empty() => {
            let ty = rust_type(extra, paths, &format!("schema {name}{{}}"))?;
            fields.push(quote! {
                /// Members not listed above, as received.
                #[serde(flatten)]
                pub additional_properties: ::std::collections::BTreeMap<::std::string::String, #ty>
            });
        }
        _ => {}
    }
    let default = if all_optional {
        quote!(Default,)
    } else {
        quote!()
    };
    Ok(quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, #default ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
        pub struct #ident {
            #(#fields,)*
        }
    })
}

fn generate_enum(name: &str, schema: &Value) -> Result<TokenStream> {
    let ident = type_ident(name);
    let docs = doc_attrs(schema);
    let values: Vec<&str> = schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut variants = Vec::new();
    for value in &values {
        let variant = format_ident!("{}", type_name(value));
        if variants
            .iter()
            .any(|(v, _): &(proc_macro2::Ident, &str)| *v == variant)
        {
            return Err(Error::invalid(
                format!("schema {name}"),
                format!("enum values collide as Rust variant {variant}"),
            ));
        }
        variants.push((variant, *value));
    }
    // The catch-all is `Unknown`, unless the spec itself has a value `unknown`.
    let catch_all = if variants.iter().any(|(v, _)| v == "Unknown") {
        format_ident!("UnknownValue")
    } else {
        format_ident!("Unknown")
    };
    let variant_defs = variants.iter().map(|(v, value)| {
        let text = format!(" `{value}`");
        quote!(#[doc = #text] #v)
    });
    let to_str = variants.iter().map(|(v, value)| quote!(Self::#v => #value));
    let from_str = variants.iter().map(|(v, value)| quote!(#value => Self::#v));
    let schema_name = name.to_string();
    Ok(quote! {
        #docs
        ///
        /// Forward compatible: a value this version does not know is kept as data, not rejected.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #ident {
            #(#variant_defs,)*
            /// A value not in the spec this crate was generated from.
            #catch_all(::std::string::String),
        }
        impl #ident {
            /// Every value the spec lists.
            pub const KNOWN: &'static [&'static str] = &[#(#values),*];
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to_str,)*
                    Self::#catch_all(other) => other.as_str(),
                }
            }
        }
        impl ::std::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #(#from_str,)*
                    other => Self::#catch_all(other.to_string()),
                }
            }
        }
        impl ::std::convert::From<::std::string::String> for #ident {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }
        impl ::std::str::FromStr for #ident {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }
        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value))
            }
        }
        impl ::schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #schema_name.into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({ "type": "string", "enum": [#(#values),*] })
            }
        }
    })
}

/// The webhook event enum: one variant per `notification_type`, dispatching on that field.
fn generate_event_enum(input: &ModuleInput<'_>) -> Result<TokenStream> {
    let enum_ident = format_ident!("{}", input.event_enum);
    let mut variants: Vec<(proc_macro2::Ident, proc_macro2::Ident, String)> = Vec::new();
    for op in operations(input.doc)
        .into_iter()
        .filter(|o| o.section == "x-webhooks")
    {
        let label = op.label();
        let schema_ref = op
            .op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
            .and_then(|c| c.values().next())
            .and_then(|m| m.pointer("/schema/$ref"))
            .and_then(Value::as_str)
            .and_then(ref_name)
            .ok_or_else(|| {
                Error::invalid(
                    &label,
                    "webhook request body must be a $ref to a component schema",
                )
            })?;
        let schema = input
            .doc
            .pointer(&format!(
                "/components/schemas/{}",
                schema_ref.replace('~', "~0").replace('/', "~1")
            ))
            .ok_or_else(|| Error::invalid(&label, format!("schema {schema_ref} not found")))?;
        let kind = schema
            .pointer("/properties/notification_type/enum/0")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::invalid(&label, format!("schema {schema_ref}: notification_type needs its value as `const` or a one-value `enum`"))
            })?;
        if let Some((_, _, _)) = variants.iter().find(|(_, _, k)| k == kind) {
            return Err(Error::invalid(
                &label,
                format!("notification_type {kind:?} is used by two webhooks"),
            ));
        }
        variants.push((
            format_ident!("{}", type_name(kind)),
            type_ident(schema_ref),
            kind.to_string(),
        ));
    }
    let defs = variants.iter().map(|(v, ty, kind)| {
        let text = format!(" `notification_type: {kind}`");
        quote!(#[doc = #text] #v(#ty))
    });
    let kinds: Vec<&String> = variants.iter().map(|(_, _, k)| k).collect();
    let payload_types: Vec<&proc_macro2::Ident> = variants.iter().map(|(_, t, _)| t).collect();
    let name_arms = variants
        .iter()
        .map(|(v, _, kind)| quote!(Self::#v(_) => #kind));
    let de_arms = variants.iter().map(|(v, _, kind)| {
        quote!(#kind => ::serde_json::from_value(value).map(Self::#v).map_err(::serde::de::Error::custom))
    });
    let slice_arms = variants
        .iter()
        .map(|(v, _, kind)| quote!(#kind => ::serde_json::from_slice(body).map(Self::#v)));
    let ser_arms = variants
        .iter()
        .map(|(v, _, _)| quote!(Self::#v(payload) => payload.serialize(serializer)));
    let enum_doc = " A webhook delivery from this document, chosen by its `notification_type`.\n\n An unknown `notification_type` is kept as raw JSON in `Unknown`, so a new webhook type never fails parsing.".to_string();
    Ok(quote! {
        #[doc = #enum_doc]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #enum_ident {
            #(#defs,)*
            /// A `notification_type` this version does not know, as received.
            Unknown(::serde_json::Value),
        }
        impl #enum_ident {
            /// Every `notification_type` this version knows.
            pub const NOTIFICATION_TYPES: &'static [&'static str] = &[#(#kinds),*];
            /// The delivery's `notification_type`.
            pub fn notification_type(&self) -> &str {
                match self {
                    #(#name_arms,)*
                    Self::Unknown(value) => value.get("notification_type").and_then(::serde_json::Value::as_str).unwrap_or(""),
                }
            }
            /// The JSON Schema of every payload type, by `notification_type`.
            pub fn payload_schemas() -> ::std::vec::Vec<(&'static str, ::schemars::Schema)> {
                ::std::vec![#((#kinds, ::schemars::schema_for!(#payload_types))),*]
            }
            /// Parses a raw body: a skim for `notification_type`, then the payload type straight
            /// from the bytes (no intermediate JSON tree).
            pub fn from_slice(body: &[u8]) -> ::std::result::Result<Self, ::serde_json::Error> {
                #[derive(::serde::Deserialize)]
                struct Tag<'a> {
                    #[serde(borrow, default)]
                    notification_type: ::std::option::Option<::std::borrow::Cow<'a, str>>,
                }
                let tag: Tag<'_> = ::serde_json::from_slice(body)?;
                match tag.notification_type {
                    Some(kind) => Self::from_slice_as(&kind, body),
                    None => Err(::serde::de::Error::missing_field("notification_type")),
                }
            }
            /// Parses a raw body whose `notification_type` the caller already read.
            pub fn from_slice_as(notification_type: &str, body: &[u8]) -> ::std::result::Result<Self, ::serde_json::Error> {
                match notification_type {
                    #(#slice_arms,)*
                    _ => ::serde_json::from_slice(body).map(Self::Unknown),
                }
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #enum_ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                let kind = match value.get("notification_type") {
                    Some(::serde_json::Value::String(kind)) => kind.clone(),
                    Some(_) => return Err(::serde::de::Error::custom("notification_type is not a string")),
                    None => return Err(::serde::de::Error::missing_field("notification_type")),
                };
                match kind.as_str() {
                    #(#de_arms,)*
                    _ => Ok(Self::Unknown(value)),
                }
            }
        }
        impl ::serde::Serialize for #enum_ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #(#ser_arms,)*
                    Self::Unknown(value) => value.serialize(serializer),
                }
            }
        }
    })
}

/// Support types used where Xsolla's documents and samples disagree on a field's JSON type.
pub fn support_rs() -> TokenStream {
    quote! {
        //! Types for fields whose JSON type Xsolla's documents and samples disagree on.

        /// An integer that some senders write as a string (`1234` or `"1234"`).
        #[derive(Debug, Clone, PartialEq, Eq, Hash, ::serde::Serialize, ::schemars::JsonSchema)]
        #[serde(untagged)]
        pub enum IntOrString {
            /// Sent as a JSON integer.
            Int(i64),
            /// Sent as a JSON string.
            String(::std::string::String),
        }
        impl IntOrString {
            /// The integer value, when it is one or is a string holding one.
            pub fn as_i64(&self) -> ::std::option::Option<i64> {
                match self {
                    Self::Int(v) => Some(*v),
                    Self::String(s) => s.trim().parse().ok(),
                }
            }
        }
        impl ::std::fmt::Display for IntOrString {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    Self::Int(v) => write!(f, "{v}"),
                    Self::String(s) => f.write_str(s),
                }
            }
        }
        impl ::std::convert::From<i64> for IntOrString {
            fn from(value: i64) -> Self {
                Self::Int(value)
            }
        }
        impl ::std::convert::From<&str> for IntOrString {
            fn from(value: &str) -> Self {
                Self::String(value.to_string())
            }
        }

        // Hand-rolled instead of `#[serde(untagged)]`, which buffers every value before trying
        // each variant: these fields sit in every webhook payload, on the receiver's hot path.
        impl<'de> ::serde::Deserialize<'de> for IntOrString {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct Visitor;
                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = IntOrString;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("an integer or a string")
                    }
                    fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> ::std::result::Result<IntOrString, E> {
                        Ok(IntOrString::Int(v))
                    }
                    fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> ::std::result::Result<IntOrString, E> {
                        i64::try_from(v).map(IntOrString::Int).map_err(|_| E::custom("integer out of range"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<IntOrString, E> {
                        Ok(IntOrString::String(v.to_string()))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, v: ::std::string::String) -> ::std::result::Result<IntOrString, E> {
                        Ok(IntOrString::String(v))
                    }
                }
                deserializer.deserialize_any(Visitor)
            }
        }

        /// A number that some senders write as a string (`9.99` or `"9.99"`).
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::schemars::JsonSchema)]
        #[serde(untagged)]
        pub enum NumberOrString {
            /// Sent as a JSON number.
            Number(f64),
            /// Sent as a JSON string.
            String(::std::string::String),
        }
        impl NumberOrString {
            /// The numeric value, when it is one or is a string holding one.
            pub fn as_f64(&self) -> ::std::option::Option<f64> {
                match self {
                    Self::Number(v) => Some(*v),
                    Self::String(s) => s.trim().parse().ok(),
                }
            }
        }
        impl ::std::fmt::Display for NumberOrString {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    Self::Number(v) => write!(f, "{v}"),
                    Self::String(s) => f.write_str(s),
                }
            }
        }
        impl ::std::convert::From<f64> for NumberOrString {
            fn from(value: f64) -> Self {
                Self::Number(value)
            }
        }
        impl<'de> ::serde::Deserialize<'de> for NumberOrString {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct Visitor;
                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = NumberOrString;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a number or a string")
                    }
                    fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> ::std::result::Result<NumberOrString, E> {
                        Ok(NumberOrString::Number(v as f64))
                    }
                    fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> ::std::result::Result<NumberOrString, E> {
                        Ok(NumberOrString::Number(v as f64))
                    }
                    fn visit_f64<E: ::serde::de::Error>(self, v: f64) -> ::std::result::Result<NumberOrString, E> {
                        Ok(NumberOrString::Number(v))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<NumberOrString, E> {
                        Ok(NumberOrString::String(v.to_string()))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, v: ::std::string::String) -> ::std::result::Result<NumberOrString, E> {
                        Ok(NumberOrString::String(v))
                    }
                }
                deserializer.deserialize_any(Visitor)
            }
        }
    }
}
