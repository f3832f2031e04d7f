//! `generated/backpack-httpmock`: progenitor's typed [httpmock](https://docs.rs/httpmock) mocks
//! for every Backpack operation (`server.create_virtual_items(|when, then| …)`), reusing the
//! `backpack-types` types like the client does.
//!
//! What progenitor's httpmock generator cannot do, and what is done instead:
//!
//! * header parameters hidden from the client by overlays (`X-HOST-ID`) are not in the document
//!   the generator sees, so there is no typed `when.x_host_id(…)`: [`when_ext`] adds
//!   `WhenExt::x_host_id` and `WhenExt::bearer` (the bearer token is a security scheme, which
//!   the generator ignores too);
//! * array query parameters (`item_type` of `get-user-backpack-items`, `form`/`explode`): the
//!   generator would call `to_string()` on a `Vec`, which does not compile, so they are left out
//!   of the document it sees ([`without_array_query_params`]); match them with httpmock's own
//!   `query_param` on `into_inner()`;
//! * a range response (`2XX`) asserts its status at run time: `lib.rs` documents the range.

use crate::{Error, Result};
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator};
use quote::quote;
use serde_json::Value;

use super::progenitor_run::{catch_panic, replace_component_schemas};

/// `WhenExt`: matchers on httpmock's `When` for the request headers the typed mocks lack
/// (`X-HOST-ID`, removed from the client's view by an overlay, and the bearer token, a security
/// scheme). A fixed template, emitted next to the mocks so that the crate's `lib.rs` holds no code.
pub fn when_ext() -> TokenStream {
    quote! {
        /// Matchers for what the generated operation mocks cannot express.
        pub trait WhenExt {
            /// The request carries `X-HOST-ID: host_id`.
            fn x_host_id(self, host_id: &str) -> Self;
            /// The request carries `Authorization: Bearer token`.
            fn bearer(self, token: &str) -> Self;
        }

        impl WhenExt for ::httpmock::When {
            fn x_host_id(self, host_id: &str) -> Self {
                self.header("x-host-id", host_id)
            }

            fn bearer(self, token: &str) -> Self {
                self.header("authorization", format!("Bearer {token}"))
            }
        }
    }
}

/// Generates the mock module for the (normalized, overlaid) Backpack document; `types_module`
/// is the path of the model types (`::backpack_types::api`).
pub fn generate(doc: &Value, types_module: &str) -> Result<TokenStream> {
    let fail = |reason: String| Error::Generate {
        what: "backpack-httpmock".into(),
        reason,
    };
    let doc = &without_array_query_params(&crate::simplify::progenitor_view::client_bodies(doc));
    let spec: openapiv3::OpenAPI = serde_json::from_value(doc.clone())
        .map_err(|e| fail(format!("openapiv3 cannot read the document: {e}")))?;
    let mut settings = GenerationSettings::new();
    replace_component_schemas(&mut settings, doc, types_module);
    let mut generator = Generator::new(&settings);
    let tokens = catch_panic(|| generator.httpmock(&spec, types_module)).map_err(fail)?;
    escape_path_values(&tokens).map_err(fail)
}

/// progenitor splices a path parameter's value into a regex unescaped, so a value such as
/// `a(b` would make `Regex::new(…).unwrap()` panic and `a.b` would match too much. This escapes
/// it (`regex::escape`), which also makes that `unwrap` unreachable.
fn escape_path_values(tokens: &TokenStream) -> std::result::Result<TokenStream, String> {
    const SPLICE: &str = "value . to_string ())) . unwrap ()";
    const ESCAPED: &str = ":: regex :: escape (& value . to_string ()))) . unwrap ()";
    let text = tokens.to_string();
    if !text.contains(SPLICE) {
        return Err(format!(
            "progenitor's path matcher changed shape (no `{SPLICE}`); update escape_path_values"
        ));
    }
    text.replace(SPLICE, ESCAPED)
        .parse()
        .map_err(|e| format!("escaped mock code does not parse: {e}"))
}

/// `doc` without the query parameters whose schema is an array (inline or by `$ref`).
pub fn without_array_query_params(doc: &Value) -> Value {
    let mut out = doc.clone();
    let is_array_query = |param: &Value| {
        let param = crate::openapi::resolve(doc, param);
        let schema = param.get("schema").map(|s| crate::openapi::resolve(doc, s));
        param.get("in").and_then(Value::as_str) == Some("query")
            && schema.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("array")
    };
    if let Some(paths) = out.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (key, op) in item.iter_mut() {
                let params = if key == "parameters" {
                    op.as_array_mut()
                } else {
                    op.get_mut("parameters").and_then(Value::as_array_mut)
                };
                if let Some(params) = params {
                    params.retain(|p| !is_array_query(p));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_values_are_escaped_before_they_enter_a_regex() {
        let tokens: TokenStream =
            "let re = regex::Regex::new(&format!(\"^/a/{}$\", value.to_string())).unwrap();"
                .parse()
                .unwrap();
        let escaped = escape_path_values(&tokens).unwrap().to_string();
        assert!(
            escaped.contains(":: regex :: escape (& value . to_string ())"),
            "{escaped}"
        );
        let unrelated: TokenStream = "fn f() {}".parse().unwrap();
        assert!(escape_path_values(&unrelated).is_err());
    }

    #[test]
    fn array_query_params_are_left_out_and_others_kept() {
        let doc = json!({
            "components": {"parameters": {"Types": {"name": "t", "in": "query",
                "schema": {"type": "array", "items": {"type": "string"}}}}},
            "paths": {"/x": {"get": {"parameters": [
                {"name": "a", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                {"$ref": "#/components/parameters/Types"},
                {"name": "b", "in": "query", "schema": {"type": "string"}},
                {"name": "c", "in": "path", "schema": {"type": "array"}}
            ]}}}
        });
        let out = without_array_query_params(&doc);
        let names: Vec<&str> = out["paths"]["/x"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["b", "c"]);
    }
}
