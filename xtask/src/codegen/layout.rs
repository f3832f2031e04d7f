//! Layout of generated files beyond what prettyplease does: one `///` line per doc line (a
//! multi-line `#[doc]` prints as `/** … */`) and a blank line between items.

/// Stands for a blank line while prettyplease prints; it never survives [`unparse`].
const BLANK: &str = "__xtask_blank_line";

/// prettyplease prints a multi-line doc attribute as one `/** … */` (`/*! … */`) block; this
/// rewrites each such block into one `///` (`//!`) line per doc line, at its indent. Done on the
/// printed text: a pass over every token of a large file (rebuilding each group) costs far more.
pub fn block_docs_to_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    while !rest.is_empty() {
        let (line, next) = match rest.find('\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, ""),
        };
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let opener = [("/**", "///"), ("/*!", "//!")]
            .into_iter()
            .find(|(open, _)| trimmed.starts_with(open));
        if let Some((open, prefix)) = opener {
            // The block runs from after the opener to the first `*/` (prettyplease only prints
            // a block whose text closes no comment).
            let start = line.len() - trimmed.len() + open.len();
            let from = &rest[start..];
            if let Some(close) = from.find("*/") {
                let doc = &from[..close];
                let after = &from[close + 2..];
                let after = after.strip_prefix('\n').unwrap_or(after);
                let pad = if doc.starts_with(' ') { "" } else { " " };
                for doc_line in doc.lines() {
                    out.push_str(indent);
                    out.push_str(prefix);
                    if !doc_line.is_empty() {
                        out.push_str(pad);
                        out.push_str(doc_line.trim_end_matches(' '));
                    }
                    out.push('\n');
                }
                rest = after;
                continue;
            }
        }
        out.push_str(line);
        if rest.len() > line.len() {
            out.push('\n');
        }
        rest = next;
    }
    out
}

/// Prints `file` with prettyplease, with a blank line between items (but not between `use`s).
pub fn unparse(mut file: syn::File) -> String {
    let after_attrs = !file.attrs.is_empty();
    spread_items(&mut file.items, after_attrs);
    let text = block_docs_to_lines(&prettyplease::unparse(&file));
    let marker = format!("{BLANK}!();");
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.trim() != marker {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn marker() -> syn::Macro {
    let name = syn::Ident::new(BLANK, proc_macro2::Span::call_site());
    syn::parse_quote!(#name!())
}

fn item_marker() -> syn::Item {
    syn::Item::Macro(syn::ItemMacro {
        attrs: Vec::new(),
        ident: None,
        mac: marker(),
        semi_token: Some(Default::default()),
    })
}

/// Puts a marker between neighbouring items (and after inner attributes, never between two
/// `use`s), recursing into modules, impls, traits and function bodies.
fn spread_items(items: &mut Vec<syn::Item>, after_inner_attrs: bool) {
    let old = std::mem::take(items);
    for (n, mut item) in old.into_iter().enumerate() {
        spread_within(&mut item);
        let both_use = matches!(
            (items.last(), &item),
            (Some(syn::Item::Use(_)), syn::Item::Use(_))
        );
        if (n > 0 || after_inner_attrs) && !both_use {
            items.push(item_marker());
        }
        items.push(item);
    }
}

fn spread_within(item: &mut syn::Item) {
    match item {
        syn::Item::Mod(module) => {
            let after_attrs = module
                .attrs
                .iter()
                .any(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
            if let Some((_, items)) = &mut module.content {
                spread_items(items, after_attrs);
            }
        }
        syn::Item::Fn(function) => spread_block(&mut function.block),
        syn::Item::Impl(block) => {
            let old = std::mem::take(&mut block.items);
            for (n, mut impl_item) in old.into_iter().enumerate() {
                if let syn::ImplItem::Fn(function) = &mut impl_item {
                    spread_block(&mut function.block);
                }
                if n > 0 {
                    block.items.push(syn::ImplItem::Macro(syn::ImplItemMacro {
                        attrs: Vec::new(),
                        mac: marker(),
                        semi_token: Some(Default::default()),
                    }));
                }
                block.items.push(impl_item);
            }
        }
        syn::Item::Trait(block) => {
            let old = std::mem::take(&mut block.items);
            for (n, trait_item) in old.into_iter().enumerate() {
                if n > 0 {
                    block.items.push(syn::TraitItem::Macro(syn::TraitItemMacro {
                        attrs: Vec::new(),
                        mac: marker(),
                        semi_token: Some(Default::default()),
                    }));
                }
                block.items.push(trait_item);
            }
        }
        _ => {}
    }
}

/// Only between two items declared in a block (a local `struct` and its `impl`).
fn spread_block(block: &mut syn::Block) {
    let old = std::mem::take(&mut block.stmts);
    for mut stmt in old {
        if let syn::Stmt::Item(item) = &mut stmt {
            spread_within(item);
        }
        if matches!(
            (block.stmts.last(), &stmt),
            (Some(syn::Stmt::Item(_)), syn::Stmt::Item(_))
        ) {
            block.stmts.push(syn::Stmt::Item(item_marker()));
        }
        block.stmts.push(stmt);
    }
}

#[cfg(test)]
mod tests {
    use super::unparse;
    use quote::quote;

    #[test]
    fn multi_line_docs_become_line_comments_and_items_are_spaced() {
        let tokens = quote! {
            #![doc = " Module."]
            use a::b;
            use c::d;
            #[doc = "First line\n\nSecond line\n  indented"]
            pub struct A;
            impl A {
                fn one() {}
                fn two() {
                    struct L;
                    impl L {}
                    let x = 1;
                }
            }
        };
        let text = unparse(syn::parse2(tokens).unwrap_or_else(|e| panic!("{e}")));
        let expected = "//! Module.\n\nuse a::b;\nuse c::d;\n\n/// First line\n///\n/// Second line\n///   indented\npub struct A;\n\nimpl A {\n    fn one() {}\n\n    fn two() {\n        struct L;\n\n        impl L {}\n        let x = 1;\n    }\n}\n";
        assert_eq!(text, expected);
    }
}
