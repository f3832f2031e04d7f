//! The `x-backpack-also-accepts` schema extension: a string property that Xsolla's traffic also
//! sends as a number (`x-backpack-also-accepts: [integer]`, usually proposed by `cargo xtask
//! drift`). The Rust field stays `String`; it is read with a lenient deserializer that accepts the
//! number and keeps its JSON text, so accepting it is an additive change (minor), not a new field
//! type (major). The drift watch allows the listed types too.

use super::schema::{Paths, rust_type};
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;
use std::collections::BTreeSet;

/// The extension's name (kept by `simplify`, read by the types generator, the drift schemas and
/// `xtask diff`).
pub const ALSO_ACCEPTS: &str = "x-backpack-also-accepts";

/// The JSON types a lenient string field may also be sent as.
pub const ACCEPTABLE: &[&str] = &["integer", "number"];

/// The extra JSON types `schema` lists under the extension (only [`ACCEPTABLE`] ones count).
pub fn accepted(schema: &Value) -> Vec<&str> {
    schema
        .get(ALSO_ACCEPTS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|t| ACCEPTABLE.contains(t))
        .collect()
}

/// Whether the extension can apply to `schema`: the types generator makes it a `String`.
pub fn applies(schema: &Value) -> bool {
    let paths = Paths {
        models: quote!(crate::models),
        support: quote!(crate::support),
    };
    rust_type(schema, &paths, "")
        .is_ok_and(|ty| ty.to_string() == quote!(::std::string::String).to_string())
}

/// Per property of an object schema, the types the extension lists that `new` adds to `old`'s,
/// and those it drops (`xtask diff`: a field that reads more is minor, one that reads less breaks
/// callers at run time).
pub fn property_changes(old: &Value, new: &Value) -> Vec<(String, Vec<String>, Vec<String>)> {
    let listed = |schema: &Value, prop: &str| -> BTreeSet<String> {
        schema
            .pointer(&format!(
                "/properties/{}",
                prop.replace('~', "~0").replace('/', "~1")
            ))
            .map(accepted)
            .into_iter()
            .flatten()
            .map(str::to_string)
            .collect()
    };
    let props: BTreeSet<&String> = [old, new]
        .into_iter()
        .filter_map(|s| s.get("properties").and_then(Value::as_object))
        .flat_map(|p| p.keys())
        .collect();
    props
        .into_iter()
        .filter_map(|prop| {
            let (a, b) = (listed(old, prop), listed(new, prop));
            let added: Vec<String> = b.difference(&a).cloned().collect();
            let dropped: Vec<String> = a.difference(&b).cloned().collect();
            (!added.is_empty() || !dropped.is_empty()).then(|| (prop.clone(), added, dropped))
        })
        .collect()
}

/// The `serde` attribute of a `String` (`optional`: `Option<String>`) field whose schema has the
/// extension, or `None` when it has none.
pub fn serde_attr(schema: &Value, optional: bool) -> Option<TokenStream> {
    if accepted(schema).is_empty() {
        return None;
    }
    let function = if optional {
        "option_string_or_number"
    } else {
        "string_or_number"
    };
    let note = format!(
        " Also read from a JSON {} (its text is kept): Xsolla sends it so (`{ALSO_ACCEPTS}`).",
        accepted(schema).join(" or ")
    );
    Some(quote!(#[doc = ""] #[doc = #note] #[serde(deserialize_with = #function)]))
}

/// Whether generated items name the deserializers (then [`deserializers`] must be emitted too).
pub fn needed(items: &[TokenStream]) -> bool {
    items
        .iter()
        .any(|item| item.to_string().contains("string_or_number\""))
}

/// The two deserializers the attributes name, emitted once into a module that uses them (private
/// functions of the generated module, so nothing hand-written is needed).
pub fn deserializers() -> TokenStream {
    quote! {
        /// Reads a string field that is also sent as a number (`x-backpack-also-accepts`): the
        /// number keeps its JSON text.
        fn string_or_number<'de, D: ::serde::Deserializer<'de>>(
            deserializer: D,
        ) -> ::std::result::Result<::std::string::String, D::Error> {
            struct Text;
            impl ::serde::de::Visitor<'_> for Text {
                type Value = ::std::string::String;
                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str("a string or a number")
                }
                fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<Self::Value, E> {
                    ::std::result::Result::Ok(v.to_owned())
                }
                fn visit_string<E: ::serde::de::Error>(self, v: ::std::string::String) -> ::std::result::Result<Self::Value, E> {
                    ::std::result::Result::Ok(v)
                }
                fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> ::std::result::Result<Self::Value, E> {
                    ::std::result::Result::Ok(v.to_string())
                }
                fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> ::std::result::Result<Self::Value, E> {
                    ::std::result::Result::Ok(v.to_string())
                }
                fn visit_f64<E: ::serde::de::Error>(self, v: f64) -> ::std::result::Result<Self::Value, E> {
                    ::std::result::Result::Ok(
                        ::serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
                    )
                }
            }
            deserializer.deserialize_any(Text)
        }

        /// [`string_or_number`] for an optional field (`null` is `None`).
        fn option_string_or_number<'de, D: ::serde::Deserializer<'de>>(
            deserializer: D,
        ) -> ::std::result::Result<::std::option::Option<::std::string::String>, D::Error> {
            struct Text(::std::string::String);
            impl<'de> ::serde::Deserialize<'de> for Text {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                    string_or_number(d).map(Text)
                }
            }
            let text: ::std::option::Option<Text> = ::serde::Deserialize::deserialize(deserializer)?;
            ::std::result::Result::Ok(text.map(|t| t.0))
        }
    }
}

/// The drift watch's reduced schema: the listed types join `type`.
pub fn widen_type(reduced: &mut serde_json::Map<String, Value>, schema: &Value) {
    let extra = accepted(schema);
    if extra.is_empty() {
        return;
    }
    let mut types: Vec<Value> = match reduced.get("type") {
        Some(Value::Array(types)) => types.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    for t in extra {
        if !types.iter().any(|known| known == t) {
            types.push(Value::String(t.to_string()));
        }
    }
    reduced.insert("type".into(), Value::Array(types));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_number_types_count_and_the_watch_allows_them() {
        let schema = json!({"type": "string", ALSO_ACCEPTS: ["integer", "boolean"]});
        assert_eq!(accepted(&schema), ["integer"]);
        assert!(serde_attr(&json!({"type": "string"}), false).is_none());
        let mut reduced = serde_json::Map::new();
        reduced.insert("type".into(), json!("string"));
        widen_type(&mut reduced, &schema);
        assert_eq!(reduced["type"], json!(["string", "integer"]));
    }

    #[test]
    fn changes_are_per_property_and_only_strings_qualify() {
        let old = json!({"properties": {"a": {"type": "string"}, "b": {"type": "string", ALSO_ACCEPTS: ["number"]}}});
        let new = json!({"properties": {"a": {"type": "string", ALSO_ACCEPTS: ["integer"]}, "b": {"type": "string"}}});
        assert_eq!(
            property_changes(&old, &new),
            [
                ("a".to_string(), vec!["integer".to_string()], vec![]),
                ("b".to_string(), vec![], vec!["number".to_string()])
            ]
        );
        assert!(applies(&json!({"type": "string", "nullable": true})));
        assert!(!applies(&json!({"type": "string", "format": "uuid"})));
        assert!(!applies(&json!({"$ref": "#/components/schemas/Name"})));
    }
}
