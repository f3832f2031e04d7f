//! Shortening the absolute paths generators write (`::std::string::String`, `crate::api::Item`) to
//! plain names plus `use` items, so a generated module reads like hand-written code.
//!
//! Generators keep writing absolute paths, which can never be captured by a spec name; this pass
//! shortens a path only when the module defines no item with the short name (a schema named
//! `String` or `Value` keeps every `::std::string::String` or `::serde_json::Value` in full).

use proc_macro2::{Delimiter, Group, Ident, Spacing, TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};

/// Absolute paths this pass shortens, and whether the short name is in the prelude (needs no
/// `use`). A path shortens to its last segment; longer paths are tried first.
const KNOWN: &[(&[&str], bool)] = &[
    (&["std", "option", "Option", "None"], true),
    (&["std", "option", "Option", "Some"], true),
    (&["std", "string", "String"], true),
    (&["std", "option", "Option"], true),
    (&["std", "vec", "Vec"], true),
    (&["std", "result", "Result"], true),
    (&["std", "convert", "From"], true),
    (&["std", "convert", "Into"], true),
    (&["std", "default", "Default"], true),
    (&["std", "convert", "Infallible"], false),
    (&["std", "collections", "BTreeMap"], false),
    (&["std", "borrow", "Cow"], false),
    (&["std", "str", "FromStr"], false),
    (&["std", "fmt"], false),
    (&["serde", "Serialize"], false),
    (&["serde", "Deserialize"], false),
    (&["serde", "Serializer"], false),
    (&["serde", "Deserializer"], false),
    (&["serde_json", "Map"], false),
    (&["serde_json", "Value"], false),
    (&["schemars", "JsonSchema"], false),
    (&["uuid", "Uuid"], false),
];

/// Shortens paths in the module `tokens` (a whole file's tokens, inner attributes first).
///
/// `module` is the crate path of the module itself (`["crate", "api"]`): its own items lose the
/// prefix. `imported` are sibling modules (`["crate", "support"]`) whose items get a `use`.
pub fn shorten(tokens: TokenStream, module: &[&str], imported: &[&[&str]]) -> TokenStream {
    let defined = defined_names(&tokens);
    let mut pass = Pass {
        module,
        imported,
        defined: &defined,
        uses: BTreeSet::new(),
    };
    let body = pass.rewrite(tokens);
    let uses = use_items(&pass.uses);
    // Inner attributes must stay first.
    let trees: Vec<TokenTree> = body.into_iter().collect();
    let inner_end = inner_attrs_end(&trees);
    let mut out = TokenStream::new();
    out.extend(trees[..inner_end].iter().cloned());
    out.extend(uses);
    out.extend(trees[inner_end..].iter().cloned());
    out
}

/// Names of the items a module defines at its top level (`struct X`, `enum X`, …).
fn defined_names(tokens: &TokenStream) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut previous_keyword = false;
    for tree in tokens.clone() {
        if let TokenTree::Ident(ident) = &tree {
            if previous_keyword {
                names.insert(ident.to_string());
            }
            previous_keyword = matches!(
                ident.to_string().as_str(),
                "struct" | "enum" | "type" | "trait" | "mod" | "union" | "const" | "static" | "fn"
            );
        } else {
            previous_keyword = false;
        }
    }
    names
}

fn inner_attrs_end(trees: &[TokenTree]) -> usize {
    let mut i = 0;
    while let (
        Some(TokenTree::Punct(hash)),
        Some(TokenTree::Punct(bang)),
        Some(TokenTree::Group(g)),
    ) = (trees.get(i), trees.get(i + 1), trees.get(i + 2))
    {
        if hash.as_char() != '#' || bang.as_char() != '!' || g.delimiter() != Delimiter::Bracket {
            break;
        }
        i += 3;
    }
    i
}

/// `use` items for the paths recorded, one per parent path (`use serde::{Deserialize, Serialize};`).
fn use_items(paths: &BTreeSet<Vec<String>>) -> TokenStream {
    let mut by_parent: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for path in paths {
        if let Some((last, parent)) = path.split_last() {
            by_parent.entry(parent.join("::")).or_default().push(last);
        }
    }
    let mut lines: Vec<String> = by_parent
        .into_iter()
        .map(|(parent, names)| match names.as_slice() {
            [name] => format!("use {parent}::{name};"),
            _ => format!("use {parent}::{{{}}};", names.join(", ")),
        })
        .collect();
    // rustfmt's order: by the whole path.
    lines.sort();
    // Built from identifiers and `::` only, so it always lexes.
    lines.concat().parse().unwrap_or_default()
}

struct Pass<'a> {
    module: &'a [&'a str],
    imported: &'a [&'a [&'a str]],
    defined: &'a BTreeSet<String>,
    uses: BTreeSet<Vec<String>>,
}

impl Pass<'_> {
    fn rewrite(&mut self, tokens: TokenStream) -> TokenStream {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
        let mut i = 0;
        while i < trees.len() {
            if let Some((segments, end)) = path_at(&trees, i)
                && let Some(keep_from) = self.shorten_to(&segments)
            {
                // `segments[keep_from]` is the new first segment; the rest follow as written.
                let first = &segments[keep_from];
                out.push(TokenTree::Ident(first.clone()));
                for segment in &segments[keep_from + 1..] {
                    out.extend(colons());
                    out.push(TokenTree::Ident(segment.clone()));
                }
                i = end;
                continue;
            }
            match &trees[i] {
                TokenTree::Group(group) => {
                    let mut inner = Group::new(group.delimiter(), self.rewrite(group.stream()));
                    inner.set_span(group.span());
                    out.push(TokenTree::Group(inner));
                }
                other => out.push(other.clone()),
            }
            i += 1;
        }
        out.into_iter().collect()
    }

    /// Index of the segment the shortened path starts with, when it can be shortened.
    fn shorten_to(&mut self, segments: &[Ident]) -> Option<usize> {
        let names: Vec<String> = segments.iter().map(Ident::to_string).collect();
        if names.first().map(String::as_str) == Some("crate") {
            let own = self.module.len();
            if names.len() > own && names[..own] == *self.module {
                return Some(own);
            }
            for module in self.imported {
                let n = module.len();
                if names.len() > n && names[..n] == **module && !self.defined.contains(&names[n]) {
                    self.uses.insert(names[..=n].to_vec());
                    return Some(n);
                }
            }
            return None;
        }
        let (known, prelude) = KNOWN
            .iter()
            .find(|(known, _)| names.len() >= known.len() && names[..known.len()] == **known)?;
        let last = known.len() - 1;
        if self.defined.contains(known[last]) {
            return None;
        }
        if !prelude {
            self.uses
                .insert(known.iter().map(|s| s.to_string()).collect());
        }
        Some(last)
    }
}

/// An absolute path starting at `i` (`::a::b` or `crate::a::b`): its segments (without the leading
/// `::`) and the index just past it.
fn path_at(trees: &[TokenTree], i: usize) -> Option<(Vec<Ident>, usize)> {
    let mut segments = Vec::new();
    let mut j = i;
    match &trees[i] {
        TokenTree::Ident(ident) if ident == "crate" => {
            segments.push(ident.clone());
            j += 1;
        }
        TokenTree::Punct(_) => {
            // A leading `::`, not the middle of `a::b`.
            if i > 0
                && let TokenTree::Ident(previous) = &trees[i - 1]
                && !super::names::is_keyword(&previous.to_string())
            {
                return None;
            }
        }
        _ => return None,
    }
    while is_colons(trees, j) {
        let TokenTree::Ident(segment) = trees.get(j + 2)? else {
            break;
        };
        segments.push(segment.clone());
        j += 3;
    }
    let minimum = if segments.first().is_some_and(|s| s == "crate") {
        3
    } else {
        1
    };
    (segments.len() >= minimum).then_some((segments, j))
}

fn is_colons(trees: &[TokenTree], j: usize) -> bool {
    matches!(
        (trees.get(j), trees.get(j + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

fn colons() -> [TokenTree; 2] {
    [
        TokenTree::Punct(proc_macro2::Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(proc_macro2::Punct::new(':', Spacing::Alone)),
    ]
}

#[cfg(test)]
mod tests {
    use super::shorten;
    use quote::quote;

    fn render(tokens: proc_macro2::TokenStream) -> String {
        shorten(tokens, &["crate", "api"], &[&["crate", "support"]]).to_string()
    }

    #[test]
    fn shortens_std_paths_and_imports_the_rest() {
        let out = render(quote! {
            #![doc = "m"]
            pub struct A {
                pub a: ::std::option::Option<::std::string::String>,
                pub b: crate::api::B,
                pub c: crate::support::IntOrString,
                pub d: ::std::collections::BTreeMap<::std::string::String, ::serde_json::Value>,
            }
            impl ::std::fmt::Display for A {}
        });
        let expected = quote! {
            #![doc = "m"]
            use crate::support::IntOrString;
            use serde_json::Value;
            use std::collections::BTreeMap;
            use std::fmt;
            pub struct A {
                pub a: Option<String>,
                pub b: B,
                pub c: IntOrString,
                pub d: BTreeMap<String, Value>,
            }
            impl fmt::Display for A {}
        };
        assert_eq!(out, expected.to_string());
    }

    #[test]
    fn keeps_full_paths_where_a_schema_takes_the_name() {
        let out = render(quote! {
            pub struct String { pub a: ::std::string::String, pub v: ::serde_json::Value }
            pub struct Value;
            pub struct IntOrString { pub n: crate::support::IntOrString }
        });
        assert!(out.contains(":: std :: string :: String"), "{out}");
        assert!(out.contains(":: serde_json :: Value"), "{out}");
        assert!(out.contains("crate :: support :: IntOrString"), "{out}");
        assert!(!out.contains("use"), "{out}");
    }

    #[test]
    fn leaves_relative_paths_alone() {
        let out = render(quote!(
            fn f() -> a::std::fmt::Result {
                x
            }
        ));
        assert_eq!(
            out,
            quote!(
                fn f() -> a::std::fmt::Result {
                    x
                }
            )
            .to_string()
        );
    }
}
