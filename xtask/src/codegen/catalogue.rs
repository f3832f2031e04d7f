//! `generated/backpack-types/src/catalogue.rs`: the webhook catalogue, written once from both
//! spec documents. It holds `WebhookKind`-style data (every webhook, its family, its
//! `notification_type`, its handler method) and the `for_each_webhook!` macro that hands that list
//! to the crates that define handler traits, dispatch and test tables, so a webhook added to the
//! spec reaches all of them by a regen.

use super::names::{distinct, distinct_type, field_ident, ref_name, type_ident, type_name};
use crate::Result;
use crate::openapi::operations;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

/// Where regen writes the catalogue.
pub const PATH: &str = "generated/backpack-types/src/catalogue.rs";

/// One webhook a document's event enum dispatches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The event enum's variant.
    pub variant: String,
    /// The payload schema's name.
    pub payload: String,
    /// The `notification_type` it fixes.
    pub notification_type: String,
    /// Its key under `webhooks` (`x-webhooks` once down-converted).
    pub key: String,
    /// The operation's summary (empty if none).
    pub summary: String,
}

/// The webhooks of `doc` its event enum dispatches, in document order, and those it cannot
/// (`(webhook key, why)`).
pub fn dispatched_webhooks(doc: &Value) -> (Vec<Webhook>, Vec<(String, String)>) {
    let mut webhooks: Vec<Webhook> = Vec::new();
    let mut undispatched = Vec::new();
    let mut taken: Vec<String> = vec!["Unknown".into()];
    for op in operations(doc)
        .into_iter()
        .filter(|o| o.section == "x-webhooks")
    {
        match dispatch_kind(doc, op.op) {
            Ok((kind, payload)) if !webhooks.iter().any(|w| w.notification_type == kind) => {
                webhooks.push(Webhook {
                    variant: distinct_type(&type_name(&kind), &mut taken),
                    payload,
                    notification_type: kind,
                    key: op.path.to_string(),
                    summary: op
                        .op
                        .get("summary")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .trim_end_matches('.')
                        .to_string(),
                });
            }
            Ok((kind, _)) => undispatched.push((
                op.path.to_string(),
                format!("its `notification_type` {kind:?} is also another webhook's"),
            )),
            Err(why) => undispatched.push((op.path.to_string(), why)),
        }
    }
    (webhooks, undispatched)
}

/// The `notification_type` a webhook's payload fixes, and the payload schema's name; else why not.
fn dispatch_kind(doc: &Value, op: &Value) -> std::result::Result<(String, String), String> {
    let schema_ref = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
        .and_then(|c| c.values().next())
        .and_then(|m| m.pointer("/schema/$ref"))
        .and_then(Value::as_str)
        .and_then(ref_name)
        .ok_or("its request body is not a named schema")?;
    let schema = crate::openapi::component_schema(doc, schema_ref)
        .ok_or_else(|| format!("schema {schema_ref} not found"))?;
    let kind = schema
        .pointer("/properties/notification_type/enum")
        .and_then(Value::as_array)
        .filter(|values| values.len() == 1)
        .and_then(|values| values[0].as_str())
        .ok_or_else(|| {
            format!("payload {schema_ref} has no `notification_type` with one value (`const` or a one-value `enum`)")
        })?;
    Ok((kind.to_string(), schema_ref.to_string()))
}

/// One catalogue entry, with every name the generated code needs.
struct Entry {
    family: Ident,
    /// Variant of `WebhookKind` (Backpack kinds are prefixed: both families have a
    /// `user_validation`).
    kind: Ident,
    /// Variant of the family's event enum.
    event: Ident,
    /// Handler method (never `unknown`, which the traits keep for unknown types).
    method: Ident,
    /// `module::Payload`.
    payload: TokenStream,
    notification_type: String,
    /// Unique across families: the `notification_type`, `backpack.`-prefixed for Backpack.
    name: String,
    key: String,
    summary: String,
}

fn entries(family: &str, module: &str, doc: &Value, taken: &mut Vec<String>) -> Vec<Entry> {
    let backpack = family == "Backpack";
    let module = format_ident!("{module}");
    let mut methods = vec!["unknown".to_string()];
    dispatched_webhooks(doc)
        .0
        .into_iter()
        .map(|w| {
            let kind = if backpack {
                format!("Backpack{}", w.variant)
            } else {
                w.variant.clone()
            };
            let payload = type_ident(&w.payload);
            let method = distinct(&field_ident(&w.notification_type).to_string(), &mut methods);
            let method = match method.strip_prefix("r#") {
                Some(keyword) => Ident::new_raw(keyword, Span::call_site()),
                None => format_ident!("{method}"),
            };
            Entry {
                family: format_ident!("{family}"),
                kind: format_ident!("{}", distinct_type(&kind, taken)),
                event: format_ident!("{}", w.variant),
                method,
                payload: quote!($crate::#module::#payload),
                name: if backpack {
                    format!("backpack.{}", w.notification_type)
                } else {
                    w.notification_type.clone()
                },
                notification_type: w.notification_type,
                key: w.key,
                summary: w.summary,
            }
        })
        .collect()
}

/// The catalogue file (header included), from the two prepared documents.
pub fn render(backpack: &Value, webhooks: &Value, sources: &str) -> Result<String> {
    let mut taken = Vec::new();
    let payments = entries("Payments", "webhooks", webhooks, &mut taken);
    let backpack = entries("Backpack", "api", backpack, &mut taken);
    let module = super::render("catalogue", sources, generate(&payments, &backpack))?;
    Ok(module + &macro_text(&payments, &backpack))
}

/// Explicit discriminants for `WebhookKind`, one per name: FNV-1a of the name, in `0..2^31`.
///
/// `WebhookKind` has no fields, so other crates may cast it with `as`; with implicit
/// discriminants a webhook added upstream would shift every later kind's value, which
/// cargo-semver-checks rightly calls a major change. A value taken from the name alone stays put
/// whatever is added around it. (A collision, unseen so far, moves the later name to the next
/// free value.)
fn discriminants<'a>(names: impl Iterator<Item = &'a str>) -> Vec<i64> {
    let mut taken = std::collections::BTreeSet::new();
    names
        .map(|name| {
            let mut hash: u32 = 0x811c_9dc5;
            for byte in name.bytes() {
                hash ^= u32::from(byte);
                hash = hash.wrapping_mul(0x0100_0193);
            }
            let mut value = i64::from(hash & 0x7fff_ffff);
            while !taken.insert(value) {
                value = (value + 1) & 0x7fff_ffff;
            }
            value
        })
        .collect()
}

/// The module proper, without the macro.
fn generate(payments: &[Entry], backpack: &[Entry]) -> TokenStream {
    let all: Vec<&Entry> = payments.iter().chain(backpack).collect();
    let kinds: Vec<&Ident> = all.iter().map(|e| &e.kind).collect();
    let discriminants = discriminants(all.iter().map(|e| e.name.as_str()));
    let defs = all.iter().zip(discriminants).map(|(e, value)| {
        let doc = format!(" `{}`: {}.", e.name, e.summary);
        let kind = &e.kind;
        let value = Literal::i64_unsuffixed(value);
        quote!(#[doc = #doc] #kind = #value)
    });
    let arms = |value: &dyn Fn(&Entry) -> TokenStream| -> Vec<TokenStream> {
        all.iter()
            .map(|e| {
                let kind = &e.kind;
                let value = value(e);
                quote!(Self::#kind => #value)
            })
            .collect()
    };
    let name_arms = arms(&|e| {
        let v = &e.name;
        quote!(#v)
    });
    let type_arms = arms(&|e| {
        let v = &e.notification_type;
        quote!(#v)
    });
    let family_arms = arms(&|e| {
        let v = &e.family;
        quote!(WebhookFamily::#v)
    });
    let key_arms = arms(&|e| {
        let v = &e.key;
        quote!(#v)
    });
    let method_arms = arms(&|e| {
        let v = e.method.to_string();
        quote!(#v)
    });
    let summary_arms = arms(&|e| {
        let v = &e.summary;
        quote!(#v)
    });
    quote! {
        //! The webhook catalogue: every webhook of both spec documents, with its family, its
        //! `notification_type` and its handler method.
        //!
        //! [`for_each_webhook!`](crate::for_each_webhook) hands one family's list to a macro of
        //! yours; `backpack-webhooks` defines its handler traits and their dispatch with it, so a
        //! webhook added to the spec gets its handler method and dispatch by a regen.

        use std::fmt;
        use std::str::FromStr;

        /// Which document a webhook comes from, and so which receiver answers it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum WebhookFamily {
            /// Payments and store webhooks (`spec/webhooks.yaml`), parsed as
            /// [`WebhookEvent`](crate::webhooks::WebhookEvent); success is 204.
            Payments,
            /// Backpack webhooks (`spec/backpack.yaml`), parsed as
            /// [`BackpackWebhookEvent`](crate::api::BackpackWebhookEvent); success is 200.
            Backpack,
        }

        impl WebhookFamily {
            /// Both families.
            pub const ALL: &'static [Self] = &[Self::Payments, Self::Backpack];

            /// `payments` or `backpack`.
            pub fn as_str(self) -> &'static str {
                match self {
                    Self::Payments => "payments",
                    Self::Backpack => "backpack",
                }
            }

            /// The spec document its webhooks are described in, under `spec/`.
            pub fn spec_file(self) -> &'static str {
                match self {
                    Self::Payments => "webhooks.yaml",
                    Self::Backpack => "backpack.yaml",
                }
            }

            /// Its webhook kinds, in document order.
            pub fn kinds(self) -> impl Iterator<Item = WebhookKind> {
                WebhookKind::ALL.iter().copied().filter(move |kind| kind.family() == self)
            }
        }

        impl fmt::Display for WebhookFamily {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A webhook type of either family. Backpack kinds carry a `Backpack` prefix: both
        /// families have a `user_validation`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum WebhookKind {
            #(#defs,)*
        }

        impl WebhookKind {
            /// Every kind: the payments/store webhooks, then the Backpack webhooks, each in
            /// document order.
            pub const ALL: &'static [Self] = &[#(Self::#kinds),*];

            /// Its name, unique across families: the `notification_type`, prefixed with
            /// `backpack.` for Backpack webhooks (`order_paid`, `backpack.move_to_game`).
            pub fn name(self) -> &'static str {
                match self {
                    #(#name_arms,)*
                }
            }

            /// The `notification_type` its deliveries carry.
            pub fn notification_type(self) -> &'static str {
                match self {
                    #(#type_arms,)*
                }
            }

            /// Its family.
            pub fn family(self) -> WebhookFamily {
                match self {
                    #(#family_arms,)*
                }
            }

            /// Its key under `webhooks` (OpenAPI 3.1) or `x-webhooks` (3.0) in
            /// [`WebhookFamily::spec_file`].
            pub fn spec_key(self) -> &'static str {
                match self {
                    #(#key_arms,)*
                }
            }

            /// The handler method that receives it.
            pub fn method(self) -> &'static str {
                match self {
                    #(#method_arms,)*
                }
            }

            /// The spec's one-line summary.
            pub fn summary(self) -> &'static str {
                match self {
                    #(#summary_arms,)*
                }
            }

            /// The kind of a delivery of `family` with this `notification_type`.
            pub fn from_notification_type(family: WebhookFamily, notification_type: &str) -> Option<Self> {
                family.kinds().find(|kind| kind.notification_type() == notification_type)
            }

            /// The kind with this [`name`](Self::name), or whose `notification_type` this is if
            /// only one kind has it (`move_to_game` for `backpack.move_to_game`).
            pub fn from_name(name: &str) -> Option<Self> {
                let exact = Self::ALL.iter().copied().find(|kind| kind.name() == name);
                exact.or_else(|| {
                    let mut found = Self::ALL.iter().copied().filter(|kind| kind.notification_type() == name);
                    match (found.next(), found.next()) {
                        (Some(kind), None) => Some(kind),
                        _ => None,
                    }
                })
            }
        }

        impl fmt::Display for WebhookKind {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for WebhookKind {
            type Err = UnknownWebhookKind;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_name(s).ok_or_else(|| UnknownWebhookKind(s.to_owned()))
            }
        }

        /// A name that is no [`WebhookKind`]'s (see [`WebhookKind::from_name`]).
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct UnknownWebhookKind(String);

        impl UnknownWebhookKind {
            /// The name that was asked for.
            pub fn name(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for UnknownWebhookKind {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "unknown webhook type `{}`", self.0)
            }
        }

        impl std::error::Error for UnknownWebhookKind {}

    }
}

/// The `for_each_webhook!` macro, as text: prettyplease would pour a macro body into one
/// paragraph, and one line per webhook is what a reader of the generated file wants.
fn macro_text(payments: &[Entry], backpack: &[Entry]) -> String {
    let arm = |family: &str, entries: &[Entry]| {
        let lines: Vec<String> = entries
            .iter()
            .map(|e| {
                let payload = e.payload.to_string().replace(' ', "");
                format!(
                    "            {{ kind: {}, event: {}, method: {}, notification_type: {}, payload: {payload}, summary: {} }}\n",
                    e.kind,
                    e.event,
                    e.method,
                    Literal::string(&e.notification_type),
                    Literal::string(&e.summary),
                )
            })
            .collect();
        format!(
            "    ({family}, $callback:ident $(, $($args:tt)*)?) => {{\n        $callback! {{\n            [$($($args)*)?]\n{}        }}\n    }};\n",
            lines.concat()
        )
    };
    format!(
        r#"
/// Calls `$callback!` with one family's webhooks, so that code written once per webhook (a
/// handler method, a dispatch arm, a test table row) follows the spec.
///
/// `for_each_webhook!(Payments, my_macro, extra tokens)` expands to
/// `my_macro! {{ [extra tokens] {{ kind: …, event: …, method: …, notification_type: "…", payload: …,
/// summary: "…" }} … }}`, one brace group per webhook in document order: `kind` is the
/// [`WebhookKind`] variant, `event` the variant of the family's event enum, `method` the handler
/// method, `payload` the payload type's path.
#[macro_export]
macro_rules! for_each_webhook {{
{}{}}}
"#,
        arm("Payments", payments),
        arm("Backpack", backpack)
    )
}

#[cfg(test)]
mod tests {
    use super::{discriminants, render};
    use serde_json::{Value, json};

    #[test]
    fn a_kind_added_anywhere_moves_no_other_kinds_discriminant() {
        let before = discriminants(["order_paid", "refund", "backpack_move_to_game"].into_iter());
        let after =
            discriminants(["order_paid", "new_one", "refund", "backpack_move_to_game"].into_iter());
        assert_eq!(after[0], before[0]);
        assert_eq!(after[2..], before[1..]);
        assert!(after.iter().all(|v| (0..=i64::from(i32::MAX)).contains(v)));
        // A collision takes the next free value instead of repeating one.
        let same = discriminants(["x", "x"].into_iter());
        assert_eq!(same[1], same[0] + 1);
    }

    /// A prepared document with one webhook per `notification_type`.
    fn doc(types: &[&str]) -> Value {
        let mut hooks = serde_json::Map::new();
        let mut schemas = serde_json::Map::new();
        for (i, kind) in types.iter().enumerate() {
            let schema = format!("Payload{i}");
            hooks.insert(
                format!("hook-{i}"),
                json!({"post": {"summary": "A hook.", "requestBody": {"content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{schema}")}}}}}}),
            );
            schemas.insert(
                schema,
                json!({"type": "object", "properties": {"notification_type": {"type": "string", "enum": [kind]}}}),
            );
        }
        json!({"openapi": "3.0.3", "paths": {}, "x-webhooks": hooks, "components": {"schemas": schemas}})
    }

    #[test]
    fn method_names_avoid_unknown_and_keywords_and_kinds_avoid_each_other() {
        let text = render(
            &doc(&["user_validation"]),
            &doc(&["user_validation", "unknown", "type"]),
            "test",
        )
        .unwrap();
        // `unknown` is the traits' method for unknown types; a keyword becomes a raw identifier.
        assert!(text.contains("kind: Unknown2, event: Unknown2, method: unknown_2,"));
        assert!(text.contains("method: r#type,"));
        // Both families' `user_validation`: one kind each, the Backpack one prefixed.
        assert!(text.contains("Self::UserValidation => \"user_validation\""));
        assert!(text.contains("Self::BackpackUserValidation => \"backpack.user_validation\""));
        // Summaries lose their final period (the docs add one).
        assert!(text.contains("summary: \"A hook\""));
    }
}
