//! Rust names from spec names: one mapping shared by every generator so they agree.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// `create-game` → `CreateGame`; a leading digit gets a `V` prefix.
pub fn type_name(name: &str) -> String {
    let camel = name.to_upper_camel_case();
    match camel.chars().next() {
        None => "Empty".into(),
        Some(c) if c.is_ascii_digit() => format!("V{camel}"),
        Some(_) => camel,
    }
}

/// `item_type` → `item_type`; keywords become raw identifiers (`type` → `r#type`).
pub fn field_ident(name: &str) -> Ident {
    let mut snake = name.to_snake_case();
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
