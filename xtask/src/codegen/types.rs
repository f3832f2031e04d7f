//! `generated/backpack-types`: one module per spec document (`api`, `webhooks`), a struct per
//! object schema, a forward-compatible enum per string enum, and the webhook event enums.
//!
//! Written with syn/quote rather than typify because typify cannot give enums a catch-all variant
//! (an unknown value must stay data, not fail the whole payload) and cannot accept a number sent as
//! a string where Xsolla's documents disagree with its samples.

use super::imports;
use super::names::{distinct, distinct_type, field_ident, type_ident, type_name};
use super::schema::{Paths, doc_attrs, is_nullable, rust_type};
use crate::degrade::Report;
use crate::{Error, Result};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;
use syn::ext::IdentExt;

/// One spec document turned into one module of the types crate.
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
    generate_module_reporting(input, &mut Report::default())
}

/// [`generate_module`], recording in `report` every schema generated as raw JSON and every webhook
/// left out of the event enum.
pub fn generate_module_reporting(
    input: &ModuleInput<'_>,
    report: &mut Report,
) -> Result<TokenStream> {
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
        match generate_schema(name, schema, &paths) {
            Ok(item) => items.push(item),
            Err(e) => {
                report.add(
                    format!("schema {name}"),
                    reason_of(e),
                    "a `serde_json::Value` newtype (raw JSON)",
                );
                items.push(raw_json_schema(name, schema));
            }
        }
    }
    items.push(generate_event_enum(input, report)?);
    if super::also_accepts::needed(&items) {
        items.push(super::also_accepts::deserializers());
    }
    let doc_text = format!(" {}", input.doc_text);
    let tokens = quote! {
        #![doc = #doc_text]
        #![allow(
            clippy::large_enum_variant,
            clippy::doc_lazy_continuation,
            clippy::too_many_arguments
        )]
        #(#items)*
    };
    Ok(imports::shorten(
        tokens,
        &["crate", input.module],
        &[&["crate", "support"]],
    ))
}

/// What an error says, without the location the report names anyway.
fn reason_of(e: Error) -> String {
    match e {
        Error::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// The fallback for a schema the generator cannot type: its name, holding the raw JSON.
fn raw_json_schema(name: &str, schema: &Value) -> TokenStream {
    let ident = type_ident(name);
    let docs = doc_attrs(schema);
    quote! {
        #docs
        ///
        /// Held as raw JSON: regen could not type this schema (see its report).
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
        #[serde(transparent)]
        #[non_exhaustive]
        pub struct #ident(pub ::serde_json::Value);
        impl #ident {
            /// Wraps the value.
            #[must_use]
            pub fn new(value: ::serde_json::Value) -> Self {
                Self(value)
            }
        }
    }
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
    let inner_member = Member::required(format_ident!("value"), inner.clone());
    let (param, value) = inner_member.param();
    Ok(quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
        #[serde(transparent)]
        #[non_exhaustive]
        pub struct #ident(pub #inner);
        impl #ident {
            /// Wraps the value.
            #[must_use]
            pub fn new(value: #param) -> Self {
                Self(#value)
            }
        }
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
    let (fields, members) = struct_members(name, schema, paths)?;
    let constructors = constructors(&ident, &members);
    Ok(quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
        #[non_exhaustive]
        pub struct #ident {
            #(#fields,)*
        }
        #constructors
    })
}

/// The parameters of the generated `Type::new` for an object schema, in order: the fields a
/// caller must give (required, not nullable, not a one-value field).
pub fn constructor_params(name: &str, schema: &Value) -> Result<Vec<String>> {
    let paths = Paths {
        models: quote!(crate::models),
        support: quote!(crate::support),
    };
    let (_, members) = struct_members(name, schema, &paths)?;
    Ok(members
        .iter()
        .filter(|m| m.kind == MemberKind::Required)
        .map(|m| m.ident.unraw().to_string())
        .collect())
}

/// A struct's field definitions, and how each is set.
fn struct_members(
    name: &str,
    schema: &Value,
    paths: &Paths,
) -> Result<(Vec<TokenStream>, Vec<Member>)> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    let mut members = Vec::new();
    // `fooBar` and `foo_bar`, `a-b` and `a.b`, …: one Rust name each (the wire names stay).
    let mut taken: Vec<String> = vec!["additional_properties".into()];
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    for (prop, prop_schema) in props {
        let location = format!("schema {name}.{prop}");
        let field = field_ident(prop);
        let spelled = distinct(&field.to_string(), &mut taken);
        let field = if field == spelled {
            field
        } else {
            format_ident!("{}", spelled)
        };
        let ty = rust_type(prop_schema, paths, &location)?;
        let mut field_docs = doc_attrs(prop_schema);
        let mut constant = None;
        if let Some(Value::Array(values)) = prop_schema.get("enum")
            && let [value] = values.as_slice()
        {
            let text = format!(" Always `{}`.", value.as_str().unwrap_or_default());
            field_docs = quote!(#field_docs #[doc = ""] #[doc = #text]);
            constant = value
                .as_str()
                .filter(|_| is_string(&ty))
                .map(str::to_string);
        }
        let string = is_string(&ty);
        let is_required = required.contains(&prop.as_str());
        let nullable = is_nullable(prop_schema);
        // serde already strips `r#`; a rename is only written where the names differ.
        let rename = (field.unraw() != prop.as_str()).then(|| quote!(rename = #prop,));
        let (serde_attr, member) = match (is_required, nullable) {
            (true, false) => (
                rename.map(|r| quote!(#[serde(#r)])),
                match constant {
                    // `new` fills in a one-value field (`notification_type`) itself.
                    Some(value) => Member {
                        ident: field,
                        ty,
                        kind: MemberKind::Constant(value),
                    },
                    None => Member::required(field, ty),
                },
            ),
            // Required but nullable: always serialized (as `null` when empty).
            (true, true) => (
                Some(quote!(#[serde(#rename default)])),
                Member::optional(field, ty),
            ),
            (false, _) => (
                Some(quote!(#[serde(#rename default, skip_serializing_if = "Option::is_none")])),
                Member::optional(field, ty),
            ),
        };
        let lenient = string
            .then(|| {
                super::also_accepts::serde_attr(prop_schema, member.kind == MemberKind::Optional)
            })
            .flatten();
        let field_ty = member.field_type();
        let field = &member.ident;
        fields.push(quote!(#field_docs #serde_attr #lenient pub #field: #field_ty));
        members.push(member);
    }
    // A schema that allows members beyond its properties keeps them, rather than dropping data
    // the sender meant for the reader (e.g. free-form `custom_parameters`).
    let extra_ty = match schema.get("additionalProperties") {
        Some(Value::Bool(true)) => {
            Some(quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>))
        }
        Some(extra @ Value::Object(m)) if !m.is_empty() => {
            let ty = rust_type(extra, paths, &format!("schema {name}{{}}"))?;
            Some(quote!(::std::collections::BTreeMap<::std::string::String, #ty>))
        }
        _ => None,
    };
    if let Some(ty) = extra_ty {
        fields.push(quote! {
            /// Members not listed above, as received.
            #[serde(flatten)]
            pub additional_properties: #ty
        });
        members.push(Member {
            ident: format_ident!("additional_properties"),
            ty,
            kind: MemberKind::Extra,
        });
    }
    Ok((fields, members))
}

/// How a struct field is set: by `new`, or by a `with_` setter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MemberKind {
    /// Non-nullable and required: a parameter of `new`.
    Required,
    /// Required with a single allowed string value: set by `new` to that value.
    Constant(String),
    /// An `Option`: starts as `None`, set with `with_<field>`.
    Optional,
    /// The map of members beyond the listed properties: starts empty.
    Extra,
}

/// One struct field as the constructors see it.
struct Member {
    ident: Ident,
    /// The value type (inside the `Option` for optional fields).
    ty: TokenStream,
    kind: MemberKind,
}

impl Member {
    fn required(ident: Ident, ty: TokenStream) -> Self {
        Self {
            ident,
            ty,
            kind: MemberKind::Required,
        }
    }

    fn optional(ident: Ident, ty: TokenStream) -> Self {
        Self {
            ident,
            ty,
            kind: MemberKind::Optional,
        }
    }

    fn field_type(&self) -> TokenStream {
        let ty = &self.ty;
        match self.kind {
            MemberKind::Optional => quote!(::std::option::Option<#ty>),
            MemberKind::Required | MemberKind::Constant(_) | MemberKind::Extra => quote!(#ty),
        }
    }

    /// The parameter type a constructor or setter takes, and how it becomes the value.
    fn param(&self) -> (TokenStream, TokenStream) {
        param(&self.ident, &self.ty)
    }
}

/// The parameter type for a value of type `ty`, and how parameter `ident` becomes that value.
fn param(ident: &Ident, ty: &TokenStream) -> (TokenStream, TokenStream) {
    if takes_into(ty) {
        (
            quote!(impl ::std::convert::Into<#ty>),
            quote!(#ident.into()),
        )
    } else {
        (quote!(#ty), quote!(#ident))
    }
}

/// Types a caller naturally passes in another form: `&str` for `String`, an integer or a string
/// for `IntOrString`, a number or a string for `NumberOrString`.
fn takes_into(ty: &TokenStream) -> bool {
    let text = ty.to_string();
    is_string(ty) || text.ends_with(":: IntOrString") || text.ends_with(":: NumberOrString")
}

fn is_string(ty: &TokenStream) -> bool {
    ty.to_string() == quote!(::std::string::String).to_string()
}

/// `new(<required fields>)`, plus one `with_<field>` setter per optional field (and for the map of
/// extra members), so adding an optional field upstream changes no existing signature.
fn constructors(ident: &Ident, members: &[Member]) -> TokenStream {
    let required: Vec<&Member> = members
        .iter()
        .filter(|m| m.kind == MemberKind::Required)
        .collect();
    let params = required.iter().map(|m| {
        let name = &m.ident;
        let (ty, _) = m.param();
        quote!(#name: #ty)
    });
    let inits = members.iter().map(|m| {
        let name = &m.ident;
        match &m.kind {
            MemberKind::Required if takes_into(&m.ty) => quote!(#name: #name.into()),
            MemberKind::Required => quote!(#name),
            MemberKind::Constant(value) => quote!(#name: #value.into()),
            MemberKind::Optional => quote!(#name: ::std::option::Option::None),
            MemberKind::Extra => quote!(#name: ::std::default::Default::default()),
        }
    });
    let settable: Vec<&Member> = members
        .iter()
        .filter(|m| matches!(m.kind, MemberKind::Optional | MemberKind::Extra))
        .collect();
    let new_doc = match (required.is_empty(), settable.is_empty()) {
        (true, false) => {
            " A value with every optional field empty (set them with the `with_…` setters)."
        }
        (_, true) => " A value from its fields.",
        (false, false) => {
            " A value from its required fields; the optional ones start empty (set them with the `with_…` setters)."
        }
    };
    let setters = settable.iter().map(|m| {
        let name = &m.ident;
        let field = name.unraw().to_string();
        let setter = format_ident!("with_{}", field);
        let value = format_ident!("value");
        let (ty, into) = param(&value, &m.ty);
        let (doc, assign) = match m.kind {
            MemberKind::Extra => (
                " Sets the members not listed among the fields.".to_string(),
                quote!(self.#name = #into;),
            ),
            _ => (
                format!(" Sets `{field}`."),
                quote!(self.#name = ::std::option::Option::Some(#into);),
            ),
        };
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #setter(mut self, #value: #ty) -> Self {
                #assign
                self
            }
        }
    });
    // `Default` is `new()` wherever `new` needs nothing, one-value fields included.
    let default = required.is_empty().then(|| {
        quote! {
            impl ::std::default::Default for #ident {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });
    let constants: Vec<String> = members
        .iter()
        .filter(|m| matches!(m.kind, MemberKind::Constant(_)))
        .map(|m| format!("`{}`", m.ident.unraw()))
        .collect();
    let constant_doc = (!constants.is_empty()).then(|| {
        let text = if constants.len() == 1 {
            format!(" {} is set to its only allowed value.", constants[0])
        } else {
            format!(
                " {} are set to their only allowed values.",
                constants.join(", ")
            )
        };
        quote!(#[doc = ""] #[doc = #text])
    });
    quote! {
        impl #ident {
            #[doc = #new_doc]
            #constant_doc
            #[must_use]
            pub fn new(#(#params),*) -> Self {
                Self {
                    #(#inits,)*
                }
            }
            #(#setters)*
        }
        #default
    }
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
    // Values that spell the same variant (`a-b`, `a_b`) get numbered ones; the wire values stay.
    let mut taken: Vec<String> = Vec::new();
    let mut variants = Vec::new();
    for value in &values {
        let variant = format_ident!("{}", distinct_type(&type_name(value), &mut taken));
        variants.push((variant, *value));
    }
    // The catch-all is `Unknown`, unless the spec itself has a value `unknown`.
    let catch_all = if taken.iter().any(|v| v == "Unknown") {
        format_ident!("{}", distinct_type("UnknownValue", &mut taken))
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
        #[non_exhaustive]
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
fn generate_event_enum(input: &ModuleInput<'_>, report: &mut Report) -> Result<TokenStream> {
    let enum_ident = format_ident!("{}", input.event_enum);
    let (webhooks, undispatched) = super::catalogue::dispatched_webhooks(input.doc);
    let variants: Vec<(Ident, Ident, String)> = webhooks
        .iter()
        .map(|w| {
            (
                format_ident!("{}", w.variant),
                type_ident(&w.payload),
                w.notification_type.clone(),
            )
        })
        .collect();
    for (name, why) in &undispatched {
        report.add(
            format!("webhook {name}"),
            why.clone(),
            format!(
                "payload types generated; not dispatchable by `{}` (listed in `UNDISPATCHED`)",
                input.event_enum
            ),
        );
    }
    let undispatched_names: Vec<&String> = undispatched.iter().map(|(n, _)| n).collect();
    let undispatched_doc = if undispatched.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = undispatched
            .iter()
            .map(|(n, why)| format!(" - `{n}`: {why}"))
            .collect();
        format!(
            "\n\n Webhooks of the document this enum does not dispatch (their payload types are generated; parse them directly):\n\n{}",
            list.join("\n")
        )
    };
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
    let enum_doc = format!(
        " A webhook delivery from this document, chosen by its `notification_type`.\n\n An unknown `notification_type` is kept as raw JSON in `Unknown`, so a new webhook type never fails parsing.{undispatched_doc}"
    );
    Ok(quote! {
        #[doc = #enum_doc]
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum #enum_ident {
            #(#defs,)*
            /// A `notification_type` this version does not know, as received.
            Unknown(::serde_json::Value),
        }
        impl #enum_ident {
            /// Every `notification_type` this version knows.
            pub const NOTIFICATION_TYPES: &'static [&'static str] = &[#(#kinds),*];
            /// The webhooks of the document this enum does not dispatch (no one-value
            /// `notification_type`); their payload types are generated.
            pub const UNDISPATCHED: &'static [&'static str] = &[#(#undispatched_names),*];
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

#[cfg(test)]
mod tests {
    use super::{ModuleInput, generate_module};
    use crate::codegen::render;

    fn module(schemas: serde_json::Value) -> String {
        let doc = serde_json::json!({"openapi": "3.0.3", "paths": {}, "components": {"schemas": schemas}});
        let tokens = generate_module(&ModuleInput {
            module: "api",
            doc: &doc,
            event_enum: "Event",
            doc_text: "test",
        })
        .unwrap_or_else(|e| panic!("{e}"));
        render("types", "test", tokens).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_schema_named_like_a_std_type_keeps_the_std_paths_in_full() {
        let text = module(serde_json::json!({
            "String": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
            "Thing": {"type": "object", "properties": {"b": {"type": "string"}, "s": {"$ref": "#/components/schemas/String"}}},
        }));
        assert!(text.contains("pub a: ::std::string::String,"), "{text}");
        assert!(
            text.contains("pub b: Option<::std::string::String>,"),
            "{text}"
        );
        assert!(text.contains("pub s: Option<String>,"), "{text}");
        assert!(
            text.contains("pub fn new(a: impl Into<::std::string::String>) -> Self"),
            "{text}"
        );
    }

    #[test]
    fn structs_get_new_with_required_fields_and_a_setter_per_optional_one() {
        let text = module(serde_json::json!({
            "Item": {
                "type": "object",
                "required": ["kind", "type", "count"],
                "properties": {
                    "kind": {"type": "string", "enum": ["item"]},
                    "type": {"type": "string"},
                    "count": {"type": "integer"},
                    "note": {"type": "string"},
                },
            },
        }));
        assert!(
            text.contains("#[non_exhaustive]\npub struct Item {"),
            "{text}"
        );
        assert!(
            text.contains("pub fn new(r#type: impl Into<String>, count: i64) -> Self"),
            "{text}"
        );
        assert!(text.contains("kind: \"item\".into(),"), "{text}");
        assert!(
            text.contains("pub fn with_note(mut self, value: impl Into<String>) -> Self"),
            "{text}"
        );
        assert!(!text.contains("fn with_kind"), "{text}");
        assert!(!text.contains("rename"), "{text}");
        assert!(!text.contains("impl Default for Item"), "{text}");
    }
}
