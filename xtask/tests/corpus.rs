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
use xtask::codegen::{client, header_by, render, render_with_header, server, types};
use xtask::degrade::Report;
use xtask::regen::prepare_reporting;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The command that writes `xtask/corpus/src` (named in the first line of each file it writes).
const UPDATE: &str = "CORPUS_UPDATE=1 cargo test -p xtask --test integration corpus::";

/// [`render`] with the first line naming [`UPDATE`], the command that writes the corpus files.
fn render_corpus(what: &str, sources: &str, tokens: TokenStream) -> String {
    let header = header_by(
        UPDATE,
        sources,
        "change the document or the generator and rerun",
    );
    render_with_header(what, &header, tokens).unwrap()
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
    generate_reporting(stem, text).map(|(tokens, _)| tokens)
}

/// [`generate`], with the fallbacks regen took (one line each).
fn generate_reporting(stem: &str, text: &str) -> xtask::Result<(TokenStream, Vec<String>)> {
    let mut report = Report::default();
    let file = format!("{stem}.yaml");
    let mut doc = prepare_reporting(&file, text, &[], &mut report)?;
    let module = module_name(stem);
    let module_ident = format_ident!("{module}");
    let doc_text = format!("Generated from `xtask/tests/corpus/{stem}.yaml`.");
    let mut found = Report::default();
    let types = types::generate_module_reporting(
        &types::ModuleInput {
            module: &module,
            doc: &doc,
            event_enum: "Event",
            doc_text: &doc_text,
        },
        &mut found,
    )?;
    // A document with webhooks only has no client or server.
    let has_paths = doc
        .get("paths")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let (client, server) = if has_paths {
        let client =
            client::generate_or_leave_out(&mut doc, &format!("crate::{module}"), &mut found)?;
        let paths = server::ServerPaths::new(
            quote!(crate::#module_ident),
            quote!(crate::support),
            quote!(::backpack_server_runtime),
        );
        let server = server::generate(&doc, &paths)?;
        (
            quote! {
                /// The progenitor client.
                pub mod client {
                    #client
                }
            },
            quote! {
                /// The server trait and router.
                pub mod server {
                    #server
                }
            },
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    report.extend_in(&format!("spec/{file}"), found);
    Ok((
        quote! {
            #types
            #client
            #server
        },
        report.lines(),
    ))
}

/// Every file of `xtask/corpus/src` that the corpus produces: `(path under src, contents)`.
fn expected_files() -> Vec<(String, String)> {
    let docs = documents(&corpus_dir());
    let mut files = Vec::new();
    let mut modules = Vec::new();
    let mut with_client = Vec::new();
    for (stem, text) in &docs {
        let tokens = generate(stem, text)
            .unwrap_or_else(|e| panic!("corpus/{stem}.yaml must generate: {e}"));
        let source = format!("xtask/tests/corpus/{stem}.yaml");
        files.push((
            format!("corpus/{}.rs", module_name(stem)),
            render_corpus(&format!("corpus {stem}"), &source, tokens.clone()),
        ));
        modules.push(format_ident!("{}", module_name(stem)));
        if tokens.to_string().contains("pub mod client") {
            with_client.push(format_ident!("{}", module_name(stem)));
        }
    }
    let list = quote! {
        #(pub mod #modules;)*
        #(impl ::progenitor_client::ClientHooks<crate::Hooks> for #with_client::client::Client {})*
    };
    files.push((
        "corpus.rs".into(),
        render_corpus("corpus modules", "xtask/tests/corpus/*.yaml", list),
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
        "the construct corpus output is stale:\n{}\n\nrun `{UPDATE}` and commit the result",
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
        default.contains("Other4xx(::axum::http::StatusCode, crate::default_responses::Error)"),
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
fn only_what_is_not_an_openapi_3_document_fails() {
    let expected: &[(&str, &[&str])] =
        &[("swagger-2", &["swagger-2.yaml", "not an OpenAPI document"])];
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

/// The corpus document `stem`, as written.
fn corpus_text(stem: &str) -> String {
    std::fs::read_to_string(corpus_dir().join(format!("{stem}.yaml"))).unwrap()
}

#[test]
fn a_document_mixing_every_refused_construct_degrades_only_those_items() {
    // `cargo xtask regen` on a tree whose Backpack document is the mixed one.
    let dir = tempfile::tempdir().unwrap();
    crate::common::scratch_tree(dir.path());
    std::fs::remove_dir_all(dir.path().join("spec/overlays")).unwrap();
    std::fs::write(
        dir.path().join("spec/backpack.yaml"),
        corpus_text("degrade-mixed"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .env("XTASK_ROOT", dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["regen"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("degraded: "))
        .collect();
    let expected = [
        "operation set-name (PUT /v1/whoami/name): `text/plain` request body → `String`",
        "operation device-auth (POST /device/auth): `application/x-www-form-urlencoded` request body → the typed struct, form-encoded",
        "operation create-menu-item (POST /menu): `multipart/form-data` request body → the raw body with its `multipart/form-data` content type",
        "operation get-session (GET /session): parameters in \"cookie\" are not supported → left out of client, server and mocks",
        "operation get-key (GET /key/{query}): parameter \"request\" would take a name the server input already uses → server input field `request_2`",
        "webhook publishNewEvent: payload Museum has no `notification_type` with one value",
    ];
    assert_eq!(lines.len(), expected.len(), "{stdout}");
    for (line, fragment) in lines.iter().zip(expected) {
        assert!(line.starts_with("degraded: spec/backpack.yaml: "), "{line}");
        assert!(line.contains(fragment), "{fragment:?} not in {line:?}");
    }
    // The rest generated: the served operations and the undispatched payload type.
    let server = std::fs::read_to_string(
        dir.path()
            .join("generated/backpack-server/src/generated.rs"),
    )
    .unwrap();
    for op in [
        "fn set_name(",
        "fn device_auth(",
        "fn get_key(",
        "fn create_menu_item(",
        "fn ok(",
    ] {
        assert!(server.contains(op), "{op}");
    }
    assert!(!server.contains("fn get_session("));
    let types =
        std::fs::read_to_string(dir.path().join("generated/backpack-types/src/api.rs")).unwrap();
    assert!(
        types.contains("pub const UNDISPATCHED: &'static [&'static str] = &[\"publishNewEvent\"];"),
        "{types}"
    );
    // `--strict` turns degraded items into a failure.
    let strict = run(&["regen", "--strict"]);
    assert_eq!(
        strict.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
    assert!(String::from_utf8_lossy(&strict.stderr).contains("--strict: 6 degraded item(s)"));
}

#[test]
fn what_used_to_fail_degrades_naming_where_and_what() {
    for (stem, fragments) in [
        (
            "degrade-default-unlike-errors",
            [
                "operation list-items (GET /items): `default` response has a body unlike",
                "→ left out of client, server and mocks",
            ],
        ),
        (
            "degrade-all-of-conflict",
            [
                "schema Thing.id: allOf parts give this property different schemas",
                "→ any JSON",
            ],
        ),
        (
            "degrade-all-of-one-of",
            ["schema Thing: allOf part is a oneOf", "→ any JSON"],
        ),
    ] {
        let (_, lines) = generate_reporting(stem, &corpus_text(stem)).unwrap();
        assert_eq!(lines.len(), 1, "{stem}: {lines:?}");
        for fragment in fragments {
            assert!(
                lines[0].contains(fragment),
                "{stem}: {fragment:?} in {lines:?}"
            );
        }
    }
}

#[test]
fn bodies_names_and_webhooks_generate_what_they_mean() {
    let names = output("names");
    for expected in [
        "#[serde(rename = \"fooBar\", default, skip_serializing_if = \"Option::is_none\")]\n    pub foo_bar: Option<String>,",
        "#[serde(rename = \"foo_bar\", default, skip_serializing_if = \"Option::is_none\")]\n    pub foo_bar_2: Option<String>,",
        "pub foo_bar_3: Option<i64>,",
        "#[serde(rename = \"2fa\", default, skip_serializing_if = \"Option::is_none\")]\n    pub f_2fa: Option<bool>,",
        "pub r#type: String,",
        "pub self_: Option<String>,",
        "pub struct Thing {",
        "pub struct Thing2 {",
        "pub struct SelfValue {",
        "pub struct V1thing {",
        "pub struct Uc9VUe9Nement {",
        "pub struct Event2 {",
        "AB2,",
        "/// `a_b`",
        "UnknownValue(String),",
        "pub request_2: ::std::option::Option<::std::string::String>,",
        "pub body_2: ::std::option::Option<::std::string::String>,",
        "pub ctx_2: ::std::option::Option<::std::string::String>,",
        "pub user_id_2: ::std::option::Option<::std::string::String>,",
        "fn get_thing_2(",
        "fn r#match(",
    ] {
        assert!(names.contains(expected), "{expected:?} in {names}");
    }
    // Line breaks depend on line lengths: compare without whitespace.
    let flat = |stem: &str| output(stem).split_whitespace().collect::<String>();
    let text = flat("body-text-plain");
    assert!(
        text.contains("HeaderValue::from_static(\"text/plain\")"),
        "{text}"
    );
    assert!(text.contains("pubbody:::std::string::String,"), "{text}");
    let form = flat("body-form");
    assert!(form.contains(".form_urlencoded(&body)?"), "{form}");
    assert!(
        form.contains("runtime::form_body::<crate::body_form::DeviceAuthRequest,>"),
        "{form}"
    );
    let raw = flat("body-octet-stream");
    assert!(
        raw.contains("HeaderValue::from_static(\"application/xml\")"),
        "{raw}"
    );
    assert!(
        raw.contains("pubbody:::std::option::Option<runtime::RawBody>,"),
        "{raw}"
    );
    let hooks = flat("webhooks-31");
    assert!(hooks.contains("pubfnnew(order:i64)->Self"), "{hooks}");
    assert!(
        hooks.contains("NOTIFICATION_TYPES:&'static[&'staticstr]=&[\"order_paid\"];"),
        "{hooks}"
    );
    assert!(
        hooks.contains(
            "UNDISPATCHED:&'static[&'staticstr]=&[\"publishNewEvent\",\"inlinePayload\",];"
        ),
        "{hooks}"
    );
    assert!(
        hooks.contains("pubstructMuseumEvent{") && hooks.contains("pubstructInlinePayloadRequest{"),
        "{hooks}"
    );
    let x = flat("x-webhooks");
    assert!(
        x.contains("ItemGranted(ItemGranted)") && x.contains("=&[\"audit\"];"),
        "{x}"
    );
}
