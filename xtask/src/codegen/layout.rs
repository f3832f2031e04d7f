//! Layout of generated files beyond what prettyplease does: one `///` line per doc line (a
//! multi-line `#[doc]` would print as `/** … */`) and a blank line between items.

use proc_macro2::{Delimiter, Group, Literal, Punct, Spacing, TokenStream, TokenTree};
use quote::quote;

/// Stands for a blank line while prettyplease prints; it never survives [`unparse`].
const BLANK: &str = "__xtask_blank_line";

/// Rewrites every `#[doc = "a\nb"]` into one `#[doc]` per line.
pub fn split_doc_lines(tokens: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if let Some((bang, lines, end)) = doc_attr_at(&trees, i) {
            for line in lines {
                out.push(TokenTree::Punct(Punct::new('#', Spacing::Alone)));
                if bang {
                    out.push(TokenTree::Punct(Punct::new('!', Spacing::Alone)));
                }
                let literal = Literal::string(&line);
                out.push(TokenTree::Group(Group::new(
                    Delimiter::Bracket,
                    quote!(doc = #literal),
                )));
            }
            i = end;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), split_doc_lines(group.stream()));
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// A `#[doc = "…"]` (or `#![doc = "…"]`) at `i` whose text spans several lines: whether it is
/// inner, its lines, and the index past it.
fn doc_attr_at(trees: &[TokenTree], i: usize) -> Option<(bool, Vec<String>, usize)> {
    let TokenTree::Punct(hash) = trees.get(i)? else {
        return None;
    };
    if hash.as_char() != '#' {
        return None;
    }
    let bang = matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
    let at = if bang { i + 2 } else { i + 1 };
    let TokenTree::Group(group) = trees.get(at)? else {
        return None;
    };
    if group.delimiter() != Delimiter::Bracket {
        return None;
    }
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    let [
        TokenTree::Ident(name),
        TokenTree::Punct(eq),
        TokenTree::Literal(literal),
    ] = inner.as_slice()
    else {
        return None;
    };
    if name != "doc" || eq.as_char() != '=' {
        return None;
    }
    let text = syn::parse2::<syn::LitStr>(TokenTree::Literal(literal.clone()).into())
        .ok()?
        .value();
    if !text.contains('\n') {
        return None;
    }
    // `///text` reads worse than `/// text`; a space before every line keeps relative indents.
    let pad = if text.starts_with(' ') { "" } else { " " };
    let lines = text
        .lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect();
    Some((bang, lines, at + 1))
}

/// Prints `file` with prettyplease, with a blank line between items (but not between `use`s).
pub fn unparse(mut file: syn::File) -> String {
    let after_attrs = !file.attrs.is_empty();
    spread_items(&mut file.items, after_attrs);
    let text = prettyplease::unparse(&file);
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
    use super::{split_doc_lines, unparse};
    use quote::quote;

    #[test]
    fn multi_line_docs_become_line_comments_and_items_are_spaced() {
        let tokens = split_doc_lines(quote! {
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
        });
        let text = unparse(syn::parse2(tokens).unwrap_or_else(|e| panic!("{e}")));
        let expected = "//! Module.\n\nuse a::b;\nuse c::d;\n\n/// First line\n///\n/// Second line\n///   indented\npub struct A;\n\nimpl A {\n    fn one() {}\n\n    fn two() {\n        struct L;\n\n        impl L {}\n        let x = 1;\n    }\n}\n";
        assert_eq!(text, expected);
    }
}
