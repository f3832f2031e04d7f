//! A 3.0 and a 3.1 rendering of the same API generate identical code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use xtask::codegen::{client, render, types};
use xtask::regen::prepare_document;

fn generate(file: &str) -> (String, String) {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let doc = prepare_document(file, &text, &[]).unwrap();
    let types = types::generate_module(&types::ModuleInput {
        module: "api",
        doc: &doc,
        event_enum: "Event",
        doc_text: "test",
    })
    .unwrap();
    let client = client::generate(&doc, "::backpack_types::api").unwrap();
    (
        render("types", "fixture", types).unwrap(),
        render("client", "fixture", client).unwrap(),
    )
}

#[test]
fn openapi_30_and_31_renderings_generate_identical_code() {
    let (types30, client30) = generate("rendering-3.0.yaml");
    let (types31, client31) = generate("rendering-3.1.yaml");
    assert_eq!(types30, types31);
    assert_eq!(client30, client31);
    // And the 3.1 constructs really were understood, not dropped.
    assert!(types31.contains("pub note: Option<String>"), "{types31}");
    assert!(types31.contains("IntOrString"), "{types31}");
    assert!(
        types31.contains("ThingChanged(crate::api::ThingChanged)")
            || types31.contains("ThingChanged(ThingChanged)"),
        "{types31}"
    );
}
