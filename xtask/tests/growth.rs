//! The most common upstream change, one new optional field, must be a minor change of the generated
//! types: the struct gains the field and its `with_` setter, and nothing else moves (no `new`
//! signature, no other item), so code built with `new`/`with_*` keeps compiling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::scratch_tree;
use quote::ToTokens;
use std::collections::BTreeMap;
use xtask::regen;

const API_RS: &str = "generated/backpack-types/src/api.rs";

/// The generated files, with `ApiError` given one more optional property when `extra` is set.
fn generate(extra: bool) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    scratch_tree(dir.path());
    if extra {
        let path = dir.path().join("spec/backpack.yaml");
        let mut doc: serde_json::Value =
            serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let props = doc["components"]["schemas"]["ApiError"]["properties"]
            .as_object_mut()
            .expect("the spec has ApiError");
        props.insert(
            "trace_id".into(),
            serde_json::json!({"type": "string", "description": "Trace of the failed request."}),
        );
        std::fs::write(&path, serde_norway::to_string(&doc).unwrap()).unwrap();
    }
    regen::generate_all(dir.path())
        .unwrap()
        .into_iter()
        .map(|f| (f.path, f.contents))
        .collect()
}

/// Top-level items by a readable key (`struct ApiError`, `impl ApiError`, `impl Default for X`, …).
fn items(text: &str) -> BTreeMap<String, syn::Item> {
    let file: syn::File = syn::parse_str(text).unwrap();
    let mut out = BTreeMap::new();
    for item in file.items {
        let key = match &item {
            syn::Item::Struct(s) => format!("struct {}", s.ident),
            syn::Item::Enum(e) => format!("enum {}", e.ident),
            syn::Item::Impl(i) => {
                let trait_ = i
                    .trait_
                    .as_ref()
                    .map(|(path, _)| format!("{} for ", path.to_token_stream()))
                    .unwrap_or_default();
                format!("impl {trait_}{}", i.self_ty.to_token_stream())
            }
            other => other.to_token_stream().to_string(),
        };
        assert!(out.insert(key.clone(), item).is_none(), "two items {key}");
    }
    out
}

fn tokens(item: &impl ToTokens) -> String {
    item.to_token_stream().to_string()
}

/// Methods of an inherent impl by name.
fn methods(item: &syn::Item) -> BTreeMap<String, syn::ImplItemFn> {
    let syn::Item::Impl(block) = item else {
        panic!("not an impl: {}", tokens(item));
    };
    block
        .items
        .iter()
        .filter_map(|i| match i {
            syn::ImplItem::Fn(f) => Some((f.sig.ident.to_string(), f.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_new_optional_field_adds_only_the_field_and_its_setter() {
    let before = generate(false);
    let after = generate(true);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (path, old) in &before {
        // The drift watch's schemas hold ApiError too: they follow the spec, not the Rust API.
        let drift = xtask::codegen::drift::PATH;
        if path.starts_with("generated/backpack-types/") && path != API_RS && path != drift {
            assert_eq!(old, &after[path], "{path} changed");
        }
    }

    let old = items(&before[API_RS]);
    let new = items(&after[API_RS]);
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        new.keys().collect::<Vec<_>>(),
        "items were added or removed"
    );
    for (key, item) in &old {
        if key != "struct ApiError" && key != "impl ApiError" {
            assert_eq!(tokens(item), tokens(&new[key]), "{key} changed");
        }
    }

    // The struct: the same fields, plus `trace_id: Option<String>` at the end.
    let fields = |item: &syn::Item| -> Vec<String> {
        let syn::Item::Struct(s) = item else {
            panic!("not a struct")
        };
        s.fields.iter().map(tokens).collect()
    };
    let (old_fields, new_fields) = (
        fields(&old["struct ApiError"]),
        fields(&new["struct ApiError"]),
    );
    assert_eq!(new_fields[..old_fields.len()], old_fields[..]);
    assert_eq!(new_fields.len(), old_fields.len() + 1);
    let added = new_fields.last().unwrap();
    assert!(
        added.contains("pub trace_id : Option < String >"),
        "{added}"
    );
    assert!(added.contains("skip_serializing_if"), "{added}");

    // The impl: every old method keeps its signature; the only new one is the setter.
    let (old_methods, new_methods) = (
        methods(&old["impl ApiError"]),
        methods(&new["impl ApiError"]),
    );
    for (name, method) in &old_methods {
        assert_eq!(
            tokens(&method.sig),
            tokens(&new_methods[name].sig),
            "signature of {name} changed"
        );
    }
    let added: Vec<&String> = new_methods
        .keys()
        .filter(|name| !old_methods.contains_key(*name))
        .collect();
    assert_eq!(added, ["with_trace_id"]);
    let setter = &new_methods["with_trace_id"];
    assert_eq!(tokens(&setter.vis), "pub");
    assert_eq!(
        tokens(&setter.sig),
        "fn with_trace_id (mut self , value : impl Into < String >) -> Self"
    );
}
