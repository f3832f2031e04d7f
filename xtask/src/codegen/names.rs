//! Rust names from spec names: one mapping shared by every generator so they agree.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// `name` with every non-ASCII character spelled `U<hex>` as its own word (`prénom` →
/// `pr_Ue9_nom`), so every generated identifier is ASCII and distinct names stay distinct.
pub fn ascii_name(name: &str) -> String {
    if name.is_ascii() {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("_U{:x}_", c as u32));
        }
    }
    out
}

/// `create-game` → `CreateGame`; a leading digit gets a `V` prefix; non-ASCII is spelled in ASCII
/// ([`ascii_name`]).
pub fn type_name(name: &str) -> String {
    let camel = ascii_name(name).to_upper_camel_case();
    match camel.chars().next() {
        None => "Empty".into(),
        Some(c) if c.is_ascii_digit() => format!("V{camel}"),
        Some(_) if camel == "Self" => "SelfValue".into(),
        Some(_) => camel,
    }
}

/// `item_type` → `item_type`; keywords become raw identifiers (`type` → `r#type`); a leading
/// digit or an empty name gets an `f_` prefix; non-ASCII is spelled in ASCII ([`ascii_name`]).
pub fn field_ident(name: &str) -> Ident {
    let mut snake = ascii_name(name).to_snake_case();
    if snake.is_empty() || snake.starts_with(|c: char| c.is_ascii_digit()) {
        snake = format!("f_{snake}");
    }
    match snake.as_str() {
        "self" | "Self" | "super" | "crate" => Ident::new(&format!("{snake}_"), Span::call_site()),
        s if is_keyword(s) => Ident::new_raw(s, Span::call_site()),
        s => Ident::new(s, Span::call_site()),
    }
}

/// A type identifier.
pub fn type_ident(name: &str) -> Ident {
    Ident::new(&type_name(name), Span::call_site())
}

/// Whether `s` is a Rust keyword (strict or reserved).
pub fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

/// The `$ref` target name of `#/components/schemas/Name`.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

/// `base`, or `base_2`, `base_3`, … : the first spelling not in `taken` (which it joins).
pub fn distinct(base: &str, taken: &mut Vec<String>) -> String {
    numbered(base, taken, "_")
}

/// [`distinct`] for type and variant names: `Base`, `Base2`, `Base3`, …
pub fn distinct_type(base: &str, taken: &mut Vec<String>) -> String {
    numbered(base, taken, "")
}

fn numbered(base: &str, taken: &mut Vec<String>, separator: &str) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{}{separator}{n}", base.trim_start_matches("r#"));
        n += 1;
    }
    taken.push(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_becomes_a_valid_ascii_identifier() {
        for (name, field, ty) in [
            ("type", "r#type", "Type"),
            ("self", "self_", "SelfValue"),
            ("1st", "f_1st", "V1st"),
            ("", "f_", "Empty"),
            ("prénom", "pr_ue9_nom", "PrUe9Nom"),
            ("名前", "u540d_u524d", "U540dU524d"),
            ("a-b.c", "a_b_c", "ABC"),
        ] {
            let ident = field_ident(name).to_string();
            assert_eq!(ident, field, "{name}");
            assert_eq!(type_name(name), ty, "{name}");
            assert!(syn::parse_str::<syn::Ident>(&ident).is_ok(), "{ident}");
            assert!(
                syn::parse_str::<syn::Ident>(&type_name(name)).is_ok(),
                "{name}"
            );
        }
        let mut taken = vec!["request".to_string()];
        assert_eq!(distinct("request", &mut taken), "request_2");
        assert_eq!(distinct("request", &mut taken), "request_3");
        let mut taken = vec!["AB".to_string()];
        assert_eq!(distinct_type("AB", &mut taken), "AB2");
    }
}
