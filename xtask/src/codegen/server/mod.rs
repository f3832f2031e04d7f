//! `generated/backpack-server`: an axum server skeleton in the style of dropshot's API traits.
//!
//! One trait, `BackpackApi`, has an async method per operation under `paths` (webhooks are not
//! served: Xsolla sends them, it does not receive them). Each method takes the request's
//! `RequestContext` and one `{Op}Input` struct holding the operation's checked inputs — header,
//! path and query parameters, the `BearerToken` when the operation has `security: bearer`, the
//! `XHostId` when it takes `X-HOST-ID`, and the JSON body as its `backpack_types::api` type — and
//! returns `Result<{Op}Response, ServerError>`, the enum having one variant per documented
//! status. Every method has a default body answering `501`. `router` checks every input before
//! the trait is called; the checks themselves live in the hand-written crate
//! `backpack-server-runtime` so that the generated code stays a thin list of calls. Where the
//! generated code finds the models, the support types and that runtime is the caller's choice
//! ([`ServerPaths`]): regen passes [`ServerPaths::backpack`], the construct corpus its own modules.
//!
//! The generator reads the spec into an IR (`ir`: operations and auth, `params`, `body`,
//! `responses`) and emits it (`input`: the input structs, `emit`: trait, handlers, router).
//!
//! **Bad-input statuses** are chosen here, per operation, from its documented responses: `400` if
//! documented, else `422` if documented, else `400`; for a missing or malformed bearer token `401`
//! if documented, else the bad-input status when that one is documented, else `401` (the table is
//! in `generated/backpack-server/src/lib.rs`). They become the `runtime::Operation` constants.
//!
//! **X-HOST-ID.** The overlay `spec/overlays/10-backpack-x-host-id.yaml` removes the header from
//! every operation, because the client sends it from its configuration. A server must still
//! require it, so [`crate::openapi::record_removed_headers`] runs in `regen::prepare_document`
//! right after the overlays: every header parameter an overlay removed is kept, resolved, on its
//! operation under [`crate::openapi::REMOVED_HEADERS`], which `ir` reads. This reads the spec
//! instead of guessing from tags, so a new Game/Items operation gets the header automatically, and
//! an operation that never had it does not.

mod body;
mod emit;
mod input;
mod ir;
mod params;
mod responses;

use super::schema::Paths;
use crate::Result;
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

/// Where the generated server code finds what it refers to.
#[derive(Debug, Clone)]
pub struct ServerPaths {
    /// The model types of the document and the support types (`IntOrString`, …).
    pub types: Paths,
    /// The server runtime crate or module (`backpack-server-runtime`); the generated code imports
    /// it as `runtime`.
    pub runtime: TokenStream,
}

impl ServerPaths {
    /// `models`, `support` and `runtime` as paths (`crate::api`, `::backpack_server_runtime`).
    pub fn new(models: TokenStream, support: TokenStream, runtime: TokenStream) -> Self {
        Self {
            types: Paths { models, support },
            runtime,
        }
    }

    /// What `generated/backpack-server` uses: the `backpack-types` models and support types, and
    /// `backpack-server-runtime`.
    pub fn backpack() -> Self {
        Self::new(
            quote!(::backpack_types::api),
            quote!(::backpack_types::support),
            quote!(::backpack_server_runtime),
        )
    }
}

/// Generates a server (`generated/backpack-server/src/generated.rs` with
/// [`ServerPaths::backpack`]) from a normalized document.
pub fn generate(doc: &Value, paths: &ServerPaths) -> Result<TokenStream> {
    let ops = ir::read(doc, &paths.types)?;
    Ok(emit::file(&ops, &paths.runtime))
}

/// What the server generator makes of each operation under `paths`, before generating.
#[derive(Debug, Default)]
pub struct Survey {
    /// Operations it cannot serve: `(path, method, label, why)`. Regen leaves them out (of the
    /// client too, so that both agree) instead of refusing the document.
    pub unservable: Vec<(String, &'static str, String, String)>,
    /// Parameters whose input field got a numbered name: `(label, wire name, field)`.
    pub renamed: Vec<(String, String, String)>,
}

/// Reads every operation as the generator would ([`Survey`]).
pub fn survey(doc: &Value) -> Survey {
    let paths = Paths {
        models: quote!(crate::models),
        support: quote!(crate::support),
    };
    let mut out = Survey::default();
    for op in crate::openapi::path_operations(doc) {
        match ir::Operation::read(doc, op.path, op.method, op.op, &paths) {
            Ok(read) => {
                for p in read
                    .header_params
                    .iter()
                    .chain(&read.path_params)
                    .chain(&read.query_params)
                {
                    if p.ident != crate::codegen::names::field_ident(&p.name) {
                        out.renamed
                            .push((op.label(), p.name.clone(), p.ident.to_string()));
                    }
                }
            }
            Err(crate::Error::Invalid { reason, .. }) => {
                out.unservable
                    .push((op.path.to_string(), op.method, op.label(), reason));
            }
            Err(e) => {
                out.unservable
                    .push((op.path.to_string(), op.method, op.label(), e.to_string()))
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(paths: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": paths,
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "schemas": {
                    "Kind": {"type": "string", "enum": ["a", "b"]},
                    "Thing": {"type": "object", "properties": {
                        "kind": {"$ref": "#/components/schemas/Kind"},
                        "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Kind"}}
                    }},
                    "Err": {"type": "object", "properties": {"message": {"type": "string"}}}
                }
            }
        })
    }

    fn generate_text(d: &Value) -> String {
        let tokens = generate(d, &ServerPaths::backpack()).unwrap();
        prettyplease::unparse(&syn::parse2(tokens).unwrap())
    }

    fn err(status: &str) -> Value {
        json!({status: {"description": "e", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Err"}}}}})
    }

    #[test]
    fn status_rule_prefers_400_then_422_then_falls_back() {
        let mut responses = err("422");
        responses["204"] = json!({"description": "ok"});
        responses["401"] = err("401")["401"].clone();
        let d = doc(json!({
            "/a": {"put": {"operationId": "only-422", "security": [{"bearer": []}], "responses": responses}},
            "/b": {"get": {"operationId": "with-400", "security": [{"bearer": []}], "responses": err("400")}},
            "/c": {"get": {"operationId": "nothing", "security": [{"bearer": []}],
                           "responses": {"2XX": {"description": "ok"}}}}
        }));
        let text = generate_text(&d);
        // `Operation::new(id, method, path, input_status, auth_status)`, whatever the line breaks.
        let flat: String = text.split_whitespace().collect();
        for (id, method, path, input, auth) in [
            ("only-422", "PUT", "/a", 422, 401),
            ("with-400", "GET", "/b", 400, 400),
            ("nothing", "GET", "/c", 400, 401),
        ] {
            let expected =
                format!("Operation::new(\"{id}\",\"{method}\",\"{path}\",{input}u16,{auth}u16");
            assert!(flat.contains(&expected), "{expected} in {text}");
        }
        assert!(text.contains("Success(::axum::http::StatusCode)"), "{text}");
        assert!(
            text.contains("UnprocessableEntity(::backpack_types::api::Err)"),
            "{text}"
        );
    }

    #[test]
    fn enums_in_bodies_and_queries_are_checked() {
        let d = doc(json!({
            "/things": {"post": {
                "operationId": "make-things",
                "parameters": [{"name": "kind", "in": "query", "schema": {"$ref": "#/components/schemas/Kind"}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "format": "uint32", "default": 50}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema":
                    {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}}},
                "responses": {"200": {"description": "ok"}}
            }}
        }));
        let text = generate_text(&d);
        let flat: String = text.split_whitespace().collect();
        assert!(
            flat.contains("runtime::Check::object(&[runtime::Step::Each])"),
            "{text}"
        );
        assert!(
            flat.contains(
                "runtime::Check::one_of(&[runtime::Step::Each,runtime::Step::Field(\"kind\")],"
            ),
            "{text}"
        );
        assert!(
            flat.contains(
                "runtime::Step::Each,runtime::Step::Field(\"tags\"),runtime::Step::Each,"
            ),
            "{text}"
        );
        assert!(
            flat.contains("enumeration::<::backpack_types::api::Kind,>(\"kind\""),
            "{text}"
        );
        assert!(flat.contains(".unwrap_or(50)"), "{text}");
        assert!(text.contains("pub struct MakeThingsInput"), "{text}");
    }

    #[test]
    fn inputs_are_one_growable_struct_and_methods_default_to_501() {
        let d = doc(json!({
            "/things/{id}": {"post": {
                "operationId": "make-things",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "uint32"}},
                    {"name": "must", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "format": "uint32", "default": 50}},
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    {"name": "kind", "in": "query", "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Kind"}}}
                ],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "responses": {"200": {"description": "ok"}}
            }}
        }));
        let text = generate_text(&d);
        // Whitespace and prettyplease's trailing commas depend on line lengths: compare without.
        let flat: String = text.split_whitespace().collect::<String>();
        let flat = flat.replace(",)", ")").replace(",>", ">");
        for expected in [
            "#[non_exhaustive]pubstructMakeThingsInput{",
            "pubbearer:runtime::BearerToken,",
            "publimit:u32,",
            "pubafter:::std::option::Option<::std::string::String>,",
            "pubkind:::std::vec::Vec<::backpack_types::api::Kind>,",
            "pubbody:::std::option::Option<::backpack_types::api::Thing>,",
            "pubfnnew(bearer:runtime::BearerToken,id:u32,must:::std::string::String)->Self",
            "limit:50,",
            "pubfnwith_after(mutself,value:::std::string::String)->Self{self.after=::std::option::Option::Some(value);",
            "pubfnwith_body(mutself,value:::backpack_types::api::Thing)",
            "#[non_exhaustive]pubenumMakeThingsResponse{",
            "fnmake_things(&self,ctx:runtime::RequestContext,input:MakeThingsInput)->impl::std::future::Future<Output=::std::result::Result<MakeThingsResponse,runtime::ServerError>>+Send{let_=(ctx,input);::std::future::ready(::std::result::Result::Err(runtime::ServerError::not_implemented()))}",
            "runtime::respond(&MAKE_THINGS,shared.api().make_things(ctx,input).await)",
        ] {
            assert!(flat.contains(expected), "{expected} not in {text}");
        }
        assert!(
            !text.contains("with_must") && !text.contains("with_id"),
            "{text}"
        );
    }

    #[test]
    fn colliding_input_names_get_distinct_fields() {
        let param = |name: &str, place: &str| json!({"name": name, "in": place, "required": place == "path", "schema": {"type": "string"}});
        let d = doc(json!({"/a/{id}": {"get": {
            "operationId": "x",
            "parameters": [param("id", "path"), param("ctx", "query"), param("body", "header"),
                           param("request", "query"), param("id", "query"), param("Id", "header")],
            "responses": {"200": {"description": "ok"}}
        }}}));
        let flat: String = generate_text(&d).split_whitespace().collect();
        for field in [
            "pubbody_2:",
            "pubid:",
            "pubid_2:",
            "pubctx_2:",
            "pubrequest_2:",
        ] {
            assert!(flat.contains(field), "{field} in {flat}");
        }
        assert!(
            flat.contains("letrequest_2=raw_query.scalar::<::std::string::String>(\"request\""),
            "{flat}"
        );
    }

    #[test]
    fn every_body_kind_has_its_reader() {
        let body = |media: &str, schema: Value| {
            json!({"post": {"operationId": format!("op-{}", media.replace('/', "-")),
            "requestBody": {"required": true, "content": {media: {"schema": schema}}},
            "responses": {"204": {"description": "ok"}}}})
        };
        let thing = json!({"$ref": "#/components/schemas/Thing"});
        let d = doc(json!({
            "/text": body("text/plain", json!({"type": "string"})),
            "/form": body("application/x-www-form-urlencoded", thing.clone()),
            "/multi": body("multipart/form-data", thing),
            "/bin": body("application/octet-stream", json!({"type": "string", "format": "binary"})),
            "/xml": body("application/xml", json!({"type": "string"}))
        }));
        let flat: String = generate_text(&d).split_whitespace().collect();
        let flat = flat.replace(",)", ")").replace(",>", ">");
        for read in [
            "runtime::text_body(&parts.headers,body,shared.body_limit())",
            "runtime::form_body::<::backpack_types::api::Thing>(&parts.headers,body,shared.body_limit())",
            "runtime::raw_body(&parts.headers,body,shared.body_limit(),\"multipart/form-data\")",
            "runtime::raw_body(&parts.headers,body,shared.body_limit(),\"application/octet-stream\")",
            "runtime::raw_body(&parts.headers,body,shared.body_limit(),\"application/xml\")",
            "pubbody:runtime::RawBody,",
            "pubbody:::std::string::String,",
            "otherthan`text/plain`with415",
        ] {
            assert!(flat.contains(read), "{read} in {flat}");
        }
    }

    #[test]
    fn unsupported_shapes_are_errors_not_guesses() {
        let cases = [
            json!({"/a/{id}.json": {"get": {"operationId": "x", "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}}}}}),
            json!({"/a": {"get": {"operationId": "x", "parameters": [
                {"name": "c", "in": "cookie", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}}}}}),
            json!({"/a/{id}": {"get": {"operationId": "x", "responses": {"200": {"description": "ok"}}}}}),
        ];
        for paths in cases {
            assert!(
                generate(&doc(paths.clone()), &ServerPaths::backpack()).is_err(),
                "{paths}"
            );
            assert_eq!(survey(&doc(paths.clone())).unservable.len(), 1, "{paths}");
        }
    }
}
