//! The construct corpus (`xtask/tests/corpus/`): one small document per construct that
//! Redocly-built bundles commonly carry. Each document in the corpus generates; its output is the
//! checked-in `construct-corpus` crate (`xtask/corpus/`), which the workspace build compiles.
//! Each document in `corpus/fail/` fails with an error naming its operation or schema and the
//! construct. Refresh the checked-in output with
//! `CORPUS_UPDATE=1 cargo test -p xtask --test integration corpus::`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::path::{Path, PathBuf};
use xtask::codegen::{client, render, server, types};
use xtask::regen::prepare_document;
use xtask::simplify::progenitor_view;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn crate_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/src")
}

/// `(stem, text)` of every `*.yaml` directly in `dir`, sorted by name.
fn documents(dir: &Path) -> Vec<(String, String)> {
    let mut docs: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    docs.sort();
    docs
}

fn module_name(stem: &str) -> String {
    stem.replace('-', "_")
}

/// Types, client and server of one document, as the regen pipeline makes them.
fn generate(stem: &str, text: &str) -> xtask::Result<TokenStream> {
    let doc = prepare_document(&format!("{stem}.yaml"), text, &[])?;
    let module = module_name(stem);
    let doc_text = format!("Generated from `xtask/tests/corpus/{stem}.yaml`.");
    let types = types::generate_module(&types::ModuleInput {
        module: &module,
        doc: &doc,
        event_enum: "Event",
        doc_text: &doc_text,
    })?;
    let client = client::generate(&progenitor_view::view(&doc), &format!("crate::{module}"))?;
    // The server generator names the Backpack model crate; here the models are this module.
    let server_text = server::generate(&doc)?
        .to_string()
        .replace(":: backpack_types :: api", &format!("crate :: {module}"))
        .replace(":: backpack_types :: support", "crate :: support");
    let server: TokenStream = server_text.parse().map_err(|e| xtask::Error::Generate {
        what: format!("corpus {stem} server"),
        reason: format!("{e}"),
    })?;
    Ok(quote! {
        #types
        /// The progenitor client.
        pub mod client {
            #client
        }
        /// The server trait and router.
        pub mod server {
            #server
        }
    })
}

/// Every file of `xtask/corpus/src` that the corpus produces: `(path under src, contents)`.
fn expected_files() -> Vec<(String, String)> {
    let docs = documents(&corpus_dir());
    let mut files = Vec::new();
    let mut modules = Vec::new();
    for (stem, text) in &docs {
        let tokens = generate(stem, text)
            .unwrap_or_else(|e| panic!("corpus/{stem}.yaml must generate: {e}"));
        let source = format!("xtask/tests/corpus/{stem}.yaml");
        files.push((
            format!("corpus/{}.rs", module_name(stem)),
            render(&format!("corpus {stem}"), &source, tokens).unwrap(),
        ));
        modules.push(format_ident!("{}", module_name(stem)));
    }
    let list = quote! {
        #(pub mod #modules;)*
        #(impl ::progenitor_client::ClientHooks<crate::Hooks> for #modules::client::Client {})*
    };
    files.push((
        "corpus.rs".into(),
        render("corpus modules", "xtask/tests/corpus/*.yaml", list).unwrap(),
    ));
    files
}

#[test]
fn corpus_output_is_fresh() {
    let update = std::env::var_os("CORPUS_UPDATE").is_some();
    let src = crate_src();
    let expected = expected_files();
    let mut stale = Vec::new();
    for (path, contents) in &expected {
        let full = src.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() != Some(contents.as_str()) {
            if update {
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(&full, contents).unwrap();
            }
            stale.push(format!("xtask/corpus/src/{path}"));
        }
    }
    // Modules of documents that no longer exist.
    for entry in std::fs::read_dir(src.join("corpus")).unwrap() {
        let path = entry.unwrap().path();
        let rel = format!("corpus/{}", path.file_name().unwrap().to_string_lossy());
        if !expected.iter().any(|(p, _)| *p == rel) {
            if update {
                std::fs::remove_file(&path).unwrap();
            }
            stale.push(format!("xtask/corpus/src/{rel} (no longer generated)"));
        }
    }
    assert!(
        update || stale.is_empty(),
        "the construct corpus output is stale:\n{}\n\nrun `CORPUS_UPDATE=1 cargo test -p xtask --test integration corpus::` and commit the result",
        stale.join("\n")
    );
}

/// Generated text of one corpus document (for construct-specific assertions).
fn output(stem: &str) -> String {
    let text = std::fs::read_to_string(corpus_dir().join(format!("{stem}.yaml"))).unwrap();
    render("corpus", "test", generate(stem, &text).unwrap()).unwrap()
}

#[test]
fn every_construct_generates_what_it_means() {
    // Unknown extensions leave no trace (typify's x-rust-type would otherwise swap the type).
    let ext = output("extensions");
    assert!(ext.contains("pub struct Thing {"), "{ext}");
    assert!(!ext.contains("elsewhere"), "{ext}");
    assert!(
        ext.contains("x_custom_name"),
        "a property named x-… is a name, not an extension"
    );
    // Several media types: the JSON one, and the docs say what was published.
    let media = output("media-types");
    assert!(media.contains("published as `application/xml`, `application/json`, `application/x-www-form-urlencoded`; generated for `application/json`"), "{media}");
    assert!(
        media.contains("ResponseValue<crate::media_types::Thing>"),
        "{media}"
    );
    // allOf: one struct with the fields of every part.
    let all_of = output("all-of");
    for field in ["pub id: String", "pub name: String", "pub tags:"] {
        assert!(all_of.contains(field), "{field} in {all_of}");
    }
    assert!(all_of.contains("pub struct CreatePetRequest {"), "{all_of}");
    let all_of_31 = output("all-of-31");
    assert!(all_of_31.contains("pub name: String"), "{all_of_31}");
    assert!(
        all_of_31.contains("pub previous: Option<Pet>"),
        "{all_of_31}"
    );
    // readOnly/writeOnly fields are optional (one direction omits them).
    let rw = output("read-write-only");
    assert!(rw.contains("pub id: Option<String>"), "{rw}");
    assert!(rw.contains("pub password: Option<String>"), "{rw}");
    assert!(rw.contains("pub email: String"), "{rw}");
    // oneOf + discriminator: an enum with a variant per schema and a catch-all (its behaviour is
    // tested in xtask/corpus/tests/tagged_union.rs).
    let one_of = output("one-of-discriminator");
    assert!(
        one_of.contains("selected by the `kind` property (`cat` → `Cat`, `dog` → `Dog`)"),
        "{one_of}"
    );
    assert!(
        one_of.contains("#[non_exhaustive]\npub enum Pet {"),
        "{one_of}"
    );
    assert!(one_of.contains("Unknown(Value)"), "{one_of}");
    // default: the error type, as 4XX/5XX; a lone default stays.
    let default = output("default-responses");
    assert!(default.contains("400u16..=499u16"), "{default}");
    assert!(
        default.contains("ClientError(::axum::http::StatusCode, crate::default_responses::Error)"),
        "{default}"
    );
    assert!(
        default.contains("\"unexpected error\", no body"),
        "{default}"
    );
    // Descriptions: bare URLs wrapped, stray brackets and tags escaped, samples not doctests.
    let docs = output("descriptions");
    assert!(docs.contains("See <https://example.com/docs>"), "{docs}");
    assert!(docs.contains("Bearer &lt;JWT&gt; outside code"), "{docs}");
    assert!(docs.contains("marked &#91;optional&#93;"), "{docs}");
    assert!(docs.contains("```text"), "{docs}");
    assert!(!docs.contains("```\n{"), "{docs}");
}

#[test]
fn unsupported_constructs_fail_naming_where_and_what() {
    let expected: &[(&str, &[&str])] = &[
        (
            "default-unlike-errors",
            &[
                "operation list-items (GET /items)",
                "`default` response has a body unlike",
            ],
        ),
        (
            "all-of-conflict",
            &[
                "schema Thing.id",
                "allOf parts give this property different schemas",
            ],
        ),
        ("all-of-one-of", &["schema Thing", "allOf part is a oneOf"]),
        (
            "no-json-request",
            &[
                "operation upload-file (PUT /upload)",
                "request body media types `application/octet-stream`",
            ],
        ),
    ];
    let docs = documents(&corpus_dir().join("fail"));
    let names: Vec<&str> = docs.iter().map(|(s, _)| s.as_str()).collect();
    let mut listed: Vec<&str> = expected.iter().map(|(s, _)| *s).collect();
    listed.sort_unstable();
    assert_eq!(
        names, listed,
        "every failing document has its expectation here"
    );
    for (stem, text) in &docs {
        let err = match generate(stem, text) {
            Ok(_) => panic!("corpus/fail/{stem}.yaml generated; it must fail"),
            Err(e) => e.to_string(),
        };
        let (_, fragments) = expected.iter().find(|(s, _)| s == stem).unwrap();
        for fragment in *fragments {
            assert!(
                err.contains(fragment),
                "{stem}: {fragment:?} not in {err:?}"
            );
        }
    }
}
