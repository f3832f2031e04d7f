//! `generated/backpack-server`: an axum server skeleton in the style of dropshot's API traits.
//!
//! One trait, `BackpackApi`, has an async method per operation under `paths` (webhooks are not
//! served: Xsolla sends them, it does not receive them). Each method takes typed inputs — path
//! parameters, a `{Op}Query` struct, the header parameters, the `BearerToken` when the operation
//! has `security: bearer`, and the JSON body as its `backpack_types::api` type — and returns an
//! `{Op}Response` enum with one variant per documented status. `router` checks every input before
//! the trait is called; the checks themselves live in the hand-written `backpack_server::runtime`
//! module so that the generated code stays a thin list of calls.
//!
//! **Bad-input statuses** are chosen here, per operation, from its documented responses: `400` if
//! documented, else `422` if documented, else `400`; for a missing or malformed bearer token `401`
//! if documented, else the bad-input status when that one is documented, else `401` (the table is
//! in `generated/backpack-server/src/lib.rs`). They become the `runtime::Operation` constants.
//!
//! **X-HOST-ID.** The overlay `spec/overlays/10-backpack-x-host-id.yaml` removes the header from
//! every operation, because the client sends it from its configuration. A server must still
//! require it, so [`record_removed_headers`] runs in `regen::prepare_document` right after the
//! overlays: every header parameter an overlay removed is kept, resolved, on its operation under
//! [`REMOVED_HEADERS`]. Only this generator reads that extension (progenitor ignores `x-` keys).
//! This reads the spec instead of guessing from tags, so a new Game/Items operation gets the
//! header automatically, and an operation that never had it does not.

use super::names::{field_ident, ref_name, type_ident, type_name};
use super::schema::{Paths, rust_type};
use crate::validate::operations;
use crate::{Error, Result};
use heck::ToShoutySnakeCase;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;
use std::collections::BTreeMap;

/// Operation extension holding the header parameters overlays removed (resolved parameter objects).
pub const REMOVED_HEADERS: &str = "x-overlay-removed-headers";

/// The header the runtime treats as a secret (`XHostId`), compared case-insensitively.
const X_HOST_ID: &str = "X-HOST-ID";

/// Records, on each operation of `after`, the header parameters it had in `before` but has no more.
pub fn record_removed_headers(before: &Value, after: &mut Value) -> Result<()> {
    let mut removed: Vec<(String, &'static str, Vec<Value>)> = Vec::new();
    let current: BTreeMap<(String, &'static str), Vec<String>> = operations(after)
        .into_iter()
        .filter(|op| op.section == "paths")
        .map(|op| {
            let names = effective_parameters(after, op.path, op.op)
                .map(|params| {
                    params
                        .iter()
                        .filter(|p| p.get("in").and_then(Value::as_str) == Some("header"))
                        .filter_map(|p| p.get("name").and_then(Value::as_str))
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default();
            ((op.path.to_string(), op.method), names)
        })
        .collect();
    for op in operations(before) {
        if op.section != "paths" {
            continue;
        }
        // An operation an overlay removed altogether needs nothing recorded.
        let Some(now) = current.get(&(op.path.to_string(), op.method)) else {
            continue;
        };
        let gone: Vec<Value> = effective_parameters(before, op.path, op.op)?
            .into_iter()
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("header"))
            .filter(|p| {
                p.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !now.contains(&n.to_ascii_lowercase()))
            })
            .cloned()
            .collect();
        if !gone.is_empty() {
            removed.push((op.path.to_string(), op.method, gone));
        }
    }
    for (path, method, gone) in removed {
        if let Some(Value::Object(op)) = after
            .get_mut("paths")
            .and_then(|p| p.get_mut(&path))
            .and_then(|item| item.get_mut(method))
        {
            op.insert(REMOVED_HEADERS.into(), Value::Array(gone));
        }
    }
    Ok(())
}

/// Path-item and operation parameters, `$ref`s resolved, the operation's overriding the path's.
fn effective_parameters<'a>(doc: &'a Value, path: &str, op: &'a Value) -> Result<Vec<&'a Value>> {
    let mut out: Vec<&Value> = Vec::new();
    let path_level = doc
        .get("paths")
        .and_then(|p| p.get(path))
        .and_then(|item| item.get("parameters"))
        .and_then(Value::as_array);
    let op_level = op.get("parameters").and_then(Value::as_array);
    for param in path_level.into_iter().chain(op_level).flatten() {
        let param = resolve_parameter(doc, param, path)?;
        let key = |p: &Value| {
            (
                p.get("name").and_then(Value::as_str).map(str::to_owned),
                p.get("in").and_then(Value::as_str).map(str::to_owned),
            )
        };
        out.retain(|p| key(p) != key(param));
        out.push(param);
    }
    Ok(out)
}

fn resolve_parameter<'a>(doc: &'a Value, param: &'a Value, location: &str) -> Result<&'a Value> {
    let Some(reference) = param.get("$ref").and_then(Value::as_str) else {
        return Ok(param);
    };
    reference
        .strip_prefix("#/components/parameters/")
        .and_then(|name| doc.pointer("/components/parameters")?.get(name))
        .ok_or_else(|| Error::invalid(location, format!("unresolved parameter $ref {reference:?}")))
}

/// Generates `generated/backpack-server/src/generated.rs` from the normalized Backpack document.
pub fn generate(doc: &Value) -> Result<TokenStream> {
    let paths = Paths {
        models: quote!(::backpack_types::api),
        support: quote!(::backpack_types::support),
    };
    let mut ops = Vec::new();
    for op in operations(doc) {
        if op.section == "paths" {
            ops.push(Operation::read(doc, op.path, op.method, op.op, &paths)?);
        }
    }
    if ops.is_empty() {
        return Err(Error::Generate {
            what: "backpack-server".into(),
            reason: "the document has no operations under `paths`".into(),
        });
    }
    let methods = ops.iter().map(Operation::trait_method);
    let items = ops.iter().map(Operation::items);
    let consts = ops.iter().map(|op| op.const_ident());
    let routes = routes(&ops);
    Ok(quote! {
        //! The `BackpackApi` trait, its input/response types, and the router that serves it.
        // Response variants hold the model types unboxed, so matching on them stays simple; an
        // input's `new` takes every required input, however many the spec has.
        #![allow(clippy::large_enum_variant, clippy::too_many_arguments, clippy::new_without_default)]

        use crate::runtime;

        /// One method per Backpack API operation. Implement the ones you serve and serve it with
        /// [`router`].
        ///
        /// Every input is checked before a method is called (see the crate docs for the status each
        /// kind of bad input gets), so an implementation sees only well-formed, typed values, in
        /// one `…Input` struct per operation, next to the [`runtime::RequestContext`]. A method
        /// answers one of the operation's documented responses, or a [`runtime::ServerError`]
        /// (`500`). A method an implementation leaves out answers `501 Not Implemented`, so a new
        /// operation upstream does not break implementations.
        pub trait BackpackApi: Send + Sync + 'static {
            #(#methods)*
        }

        #(#items)*

        /// Every served operation, in document order.
        pub const OPERATIONS: &[runtime::Operation] = &[#(#consts),*];

        /// The router for `api`, with the default [`runtime::ServerConfig`] (1 MiB body limit).
        pub fn router<T: BackpackApi>(api: ::std::sync::Arc<T>) -> ::axum::Router {
            router_with_config(api, runtime::ServerConfig::default())
        }

        /// The router for `api` with `config` (body limit).
        pub fn router_with_config<T: BackpackApi>(
            api: ::std::sync::Arc<T>,
            config: runtime::ServerConfig,
        ) -> ::axum::Router {
            ::axum::Router::new()
                #routes
                .fallback(runtime::not_found)
                .method_not_allowed_fallback(runtime::method_not_allowed)
                .with_state(runtime::Shared::new(api, config))
        }
    })
}

fn routes(ops: &[Operation]) -> TokenStream {
    // `operations()` yields each path's methods together, so consecutive grouping is enough.
    let mut groups: Vec<(&str, Vec<&Operation>)> = Vec::new();
    for op in ops {
        match groups.last_mut() {
            Some((path, list)) if *path == op.path => list.push(op),
            _ => groups.push((op.path.as_str(), vec![op])),
        }
    }
    let routes = groups.into_iter().map(|(path, list)| {
        let mut chain = TokenStream::new();
        for (i, op) in list.iter().enumerate() {
            let method = format_ident!("{}", op.method);
            let handler = op.handler_ident();
            if i == 0 {
                chain = quote!(::axum::routing::#method(#handler::<T>));
            } else {
                chain = quote!(#chain.#method(#handler::<T>));
            }
        }
        quote!(.route(#path, #chain))
    });
    quote!(#(#routes)*)
}

/// What a parameter's value is parsed into.
enum Kind {
    /// `FromStr` type; the text says what was expected.
    Scalar { ty: TokenStream, expected: String },
    /// A string enum from `backpack_types::api` (values outside `KNOWN` are rejected).
    Enum { ty: TokenStream },
}

impl Kind {
    fn ty(&self) -> &TokenStream {
        match self {
            Kind::Scalar { ty, .. } | Kind::Enum { ty } => ty,
        }
    }
}

struct Param {
    name: String,
    ident: Ident,
    kind: Kind,
    list: bool,
    required: bool,
    /// The spec's default, and whether building it allocates (then it is built lazily).
    default: Option<(TokenStream, bool)>,
    description: Option<String>,
}

impl Param {
    /// An expression that reads the value from `source` (propagating a rejection with `?`).
    fn read(&self, source: &TokenStream, location: In) -> TokenStream {
        let name = &self.name;
        let (read, list_read) = match &self.kind {
            Kind::Scalar { ty, expected } => (
                quote!(#source.scalar::<#ty>(#name, #expected)?),
                quote!(#source.list::<#ty>(#name, #expected)?),
            ),
            Kind::Enum { ty } => (
                quote!(#source.enumeration::<#ty>(#name, #ty::KNOWN)?),
                quote!(#source.enumeration_list::<#ty>(#name, #ty::KNOWN)?),
            ),
        };
        if self.list {
            list_read
        } else if location == In::Path {
            // A matched route always has its path parameters: no `Option` to unwrap.
            read
        } else if let Some((default, lazy)) = &self.default {
            if *lazy {
                quote!(#read.unwrap_or_else(|| #default))
            } else {
                quote!(#read.unwrap_or(#default))
            }
        } else if self.required {
            let location = match location {
                In::Path => quote!(runtime::Location::Path),
                In::Query => quote!(runtime::Location::Query),
                In::Header => quote!(runtime::Location::Header),
            };
            quote!(runtime::required(#read, #location, #name)?)
        } else {
            read
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum In {
    Path,
    Query,
    Header,
}

/// How an input field holds its value.
enum Shape {
    /// Always present (required, or a path parameter).
    Plain,
    /// `Option<T>`: absent unless sent.
    Optional,
    /// `Vec<T>`: empty unless sent.
    List,
    /// `T`, the spec's default when not sent.
    Defaulted(TokenStream),
}

/// One field of an operation's input struct.
struct Field {
    ident: Ident,
    /// The value type (the element type for lists, the inner type for options).
    ty: TokenStream,
    /// A `new` argument.
    required: bool,
    shape: Shape,
    doc: Vec<String>,
}

impl Field {
    fn fixed(ident: Ident, ty: TokenStream, required: bool, doc: &str) -> Self {
        Self {
            ident,
            ty,
            required,
            shape: if required {
                Shape::Plain
            } else {
                Shape::Optional
            },
            doc: vec![doc.to_string()],
        }
    }

    fn param(p: &Param, noun: &str) -> Self {
        let shape = if p.list {
            Shape::List
        } else if p.required {
            Shape::Plain
        } else if let Some((default, _)) = &p.default {
            Shape::Defaulted(default.clone())
        } else {
            Shape::Optional
        };
        let mut doc: Vec<String> = p
            .description
            .iter()
            .flat_map(|d| d.trim().lines().map(|l| l.trim_end().to_string()))
            .collect();
        if !doc.is_empty() {
            doc.push(String::new());
        }
        let note = match shape {
            Shape::List => " Empty when the parameter is absent.",
            Shape::Defaulted(_) => " The spec's default when absent.",
            Shape::Plain | Shape::Optional => "",
        };
        doc.push(format!("{noun} `{}`.{note}", p.name));
        Self {
            ident: p.ident.clone(),
            ty: p.kind.ty().clone(),
            required: matches!(shape, Shape::Plain),
            shape,
            doc,
        }
    }

    /// The field's type.
    fn ty(&self) -> TokenStream {
        let ty = &self.ty;
        match self.shape {
            Shape::Plain | Shape::Defaulted(_) => quote!(#ty),
            Shape::Optional => quote!(::std::option::Option<#ty>),
            Shape::List => quote!(::std::vec::Vec<#ty>),
        }
    }

    /// The value `new` gives a field it takes no argument for.
    fn init(&self) -> Option<TokenStream> {
        match &self.shape {
            Shape::Plain => None,
            Shape::Optional => Some(quote!(::std::option::Option::None)),
            Shape::List => Some(quote!(::std::vec::Vec::new())),
            Shape::Defaulted(default) => Some(default.clone()),
        }
    }
}

struct Body {
    ty: TokenStream,
    required: bool,
    /// Where the body must hold an object (a struct) or a listed enum value.
    checks: Vec<(Vec<Step>, Check)>,
}

/// What must hold at a place in a request body.
enum Check {
    /// A JSON object: serde would also build a struct from a positional array.
    Object,
    /// One of the enum type's `KNOWN` values: the model types accept any string on purpose.
    Enum(TokenStream),
}

#[derive(Clone, PartialEq)]
enum Step {
    Field(String),
    Each,
    Values,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StatusKey {
    Code(u16),
    /// `1XX` … `5XX`: the class digit.
    Class(u16),
    Default,
}

struct Response {
    key: StatusKey,
    variant: Ident,
    body: Option<TokenStream>,
    description: String,
}

enum Auth {
    None,
    Bearer { optional: bool },
}

struct XHost {
    required: bool,
    uuid: bool,
}

struct Operation {
    id: String,
    method: &'static str,
    path: String,
    summary: Option<String>,
    description: Option<String>,
    path_params: Vec<Param>,
    query_params: Vec<Param>,
    header_params: Vec<Param>,
    x_host_id: Option<XHost>,
    auth: Auth,
    body: Option<Body>,
    responses: Vec<Response>,
    input_status: u16,
    auth_status: u16,
}

impl Operation {
    fn read(
        doc: &Value,
        path: &str,
        method: &'static str,
        op: &Value,
        paths: &Paths,
    ) -> Result<Self> {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid(format!("{method} {path}"), "no operationId"))?
            .to_string();
        let label = format!("operation {id} ({} {path})", method.to_uppercase());
        let mut path_params = Vec::new();
        let mut query_params = Vec::new();
        let mut header_params = Vec::new();
        let mut x_host_id = None;
        let mut params = effective_parameters(doc, path, op)?;
        for extra in op
            .get(REMOVED_HEADERS)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            params.push(extra);
        }
        for param in params {
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::invalid(&label, "parameter without a name"))?;
            let location = param.get("in").and_then(Value::as_str).unwrap_or_default();
            let required = param.get("required").and_then(Value::as_bool) == Some(true);
            let schema = param.get("schema").unwrap_or(&Value::Null);
            let where_ = format!("{label}: {location} parameter {name:?}");
            if location == "header" && name.eq_ignore_ascii_case(X_HOST_ID) {
                let format = schema.get("format").and_then(Value::as_str);
                x_host_id = Some(XHost {
                    required,
                    uuid: format == Some("uuid"),
                });
                continue;
            }
            if location == "header"
                && ["authorization", "content-type", "accept"]
                    .contains(&name.to_ascii_lowercase().as_str())
            {
                // OpenAPI says these are ignored as parameters.
                continue;
            }
            let (kind, list) = param_kind(doc, schema, paths, &where_)?;
            if list && location != "query" {
                return Err(Error::invalid(
                    &where_,
                    "array parameters are supported in the query only",
                ));
            }
            if list && param.get("explode").and_then(Value::as_bool) == Some(false) {
                return Err(Error::invalid(
                    &where_,
                    "explode: false is not supported (repeat the key instead)",
                ));
            }
            let default = if list || required {
                None
            } else {
                default_expr(schema.get("default"), &kind)
            };
            let description = param.get("description").and_then(Value::as_str);
            let p = Param {
                name: name.to_string(),
                ident: field_ident(name),
                kind,
                list,
                required: required || location == "path",
                default,
                description: description.map(str::to_string),
            };
            match location {
                "path" => path_params.push(p),
                "query" => query_params.push(p),
                "header" => header_params.push(p),
                other => {
                    return Err(Error::invalid(
                        &where_,
                        format!("parameters in {other:?} are not supported"),
                    ));
                }
            }
        }
        check_path_template(path, &path_params, &label)?;
        let auth = read_auth(doc, op, &label)?;
        let body = read_body(doc, op, paths, &label)?;
        let responses = read_responses(op, paths, &label)?;
        let documents = |code: u16| {
            responses.iter().any(|r| match r.key {
                StatusKey::Code(c) => c == code,
                StatusKey::Class(class) => class == code / 100,
                StatusKey::Default => false,
            })
        };
        let input_status = if documents(400) {
            400
        } else if documents(422) {
            422
        } else {
            400
        };
        let auth_status = if documents(401) {
            401
        } else if documents(input_status) {
            input_status
        } else {
            401
        };
        let op = Operation {
            id,
            method,
            path: path.to_string(),
            summary: op
                .get("summary")
                .and_then(Value::as_str)
                .map(str::to_string),
            description: op
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            path_params,
            query_params,
            header_params,
            x_host_id,
            auth,
            body,
            responses,
            input_status,
            auth_status,
        };
        op.check_idents(&label)?;
        Ok(op)
    }

    fn check_idents(&self, label: &str) -> Result<()> {
        // Inputs become fields of one struct and locals of the handler: names must not collide
        // with each other, with the fixed fields, or with the handler's own locals.
        let mut seen: Vec<String> = [
            "self",
            "bearer",
            "x_host_id",
            "body",
            "ctx",
            "input",
            "parts",
            "shared",
            "request",
            "raw_path",
            "raw_query",
            "raw_headers",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for p in self
            .path_params
            .iter()
            .chain(&self.header_params)
            .chain(&self.query_params)
        {
            let name = p.ident.to_string();
            if seen.contains(&name) {
                return Err(Error::invalid(
                    label,
                    format!(
                        "parameter {:?} becomes the input field `{name}`, which is already taken",
                        p.name
                    ),
                ));
            }
            seen.push(name);
        }
        Ok(())
    }

    fn type_prefix(&self) -> String {
        type_name(&self.id)
    }

    fn fn_ident(&self) -> Ident {
        field_ident(&self.id)
    }

    fn handler_ident(&self) -> Ident {
        format_ident!(
            "handle_{}",
            field_ident(&self.id).to_string().trim_start_matches("r#")
        )
    }

    fn const_ident(&self) -> Ident {
        Ident::new(
            &self.type_prefix().to_shouty_snake_case(),
            Span::call_site(),
        )
    }

    fn response_ident(&self) -> Ident {
        format_ident!("{}Response", self.type_prefix())
    }

    fn input_ident(&self) -> Ident {
        format_ident!("{}Input", self.type_prefix())
    }

    fn status_sentence(&self) -> String {
        let mut text = format!(
            "Bad input is answered with {} before this method is called",
            self.input_status
        );
        if !matches!(self.auth, Auth::None) {
            text.push_str(&format!(
                "; a missing or malformed `Authorization: Bearer` header with {}",
                self.auth_status
            ));
        }
        if self.body.is_some() {
            text.push_str("; a body over the size limit with 413");
        }
        text.push('.');
        text
    }

    /// The input struct's fields, in check order (bearer, X-HOST-ID, headers, path, query, body).
    fn fields(&self) -> Vec<Field> {
        let mut fields = Vec::new();
        match self.auth {
            Auth::None => {}
            Auth::Bearer { optional } => fields.push(Field::fixed(
                format_ident!("bearer"),
                quote!(runtime::BearerToken),
                !optional,
                "The bearer token from `Authorization: Bearer <token>` (`Debug` prints `***`).",
            )),
        }
        if let Some(x) = &self.x_host_id {
            fields.push(Field::fixed(
                format_ident!("x_host_id"),
                quote!(runtime::XHostId),
                x.required,
                "The `X-HOST-ID` header (`Debug` prints `***`).",
            ));
        }
        for (params, noun) in [
            (&self.header_params, "Header"),
            (&self.path_params, "Path parameter"),
            (&self.query_params, "Query parameter"),
        ] {
            fields.extend(params.iter().map(|p| Field::param(p, noun)));
        }
        if let Some(body) = &self.body {
            fields.push(Field::fixed(
                format_ident!("body"),
                body.ty.clone(),
                body.required,
                "The JSON request body.",
            ));
        }
        fields
    }

    fn trait_method(&self) -> TokenStream {
        let mut lines = Vec::new();
        if let Some(summary) = &self.summary {
            lines.push(summary.trim().to_string());
            lines.push(String::new());
        }
        if let Some(description) = &self.description {
            lines.extend(description.trim().lines().map(|l| l.trim_end().to_string()));
            lines.push(String::new());
        }
        lines.push(format!(
            "`{} {}` (operation `{}`). {}",
            self.method.to_uppercase(),
            self.path,
            self.id,
            self.status_sentence()
        ));
        let docs = doc_lines(lines);
        let name = self.fn_ident();
        let response = self.response_ident();
        let input = self.input_ident();
        quote! {
            #docs
            fn #name(
                &self,
                ctx: runtime::RequestContext,
                input: #input,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<#response, runtime::ServerError>> + Send {
                let _ = (ctx, input);
                ::std::future::ready(::std::result::Result::Err(runtime::ServerError::not_implemented()))
            }
        }
    }

    fn items(&self) -> TokenStream {
        let const_ident = self.const_ident();
        let id = &self.id;
        let method = self.method.to_uppercase();
        let path = &self.path;
        let input_status = self.input_status;
        let auth_status = self.auth_status;
        let const_doc = format!(" `{method} {path}`.");
        let input = self.input_struct();
        let response = self.response_enum();
        let handler = self.handler();
        quote! {
            #[doc = #const_doc]
            pub const #const_ident: runtime::Operation = runtime::Operation {
                id: #id,
                method: #method,
                path: #path,
                input_status: #input_status,
                auth_status: #auth_status,
            };
            #input
            #response
            #handler
        }
    }

    fn input_struct(&self) -> TokenStream {
        let ident = self.input_ident();
        let doc = format!(
            " The checked inputs of `{}`. Build one with [`{ident}::new`] and the `with_…` setters (fields are added when the spec adds inputs).",
            self.id
        );
        let fields = self.fields();
        let decls = fields.iter().map(|f| {
            let (field, ty, docs) = (&f.ident, f.ty(), doc_lines(f.doc.clone()));
            quote!(#docs pub #field: #ty)
        });
        let args = fields.iter().filter(|f| f.required).map(|f| {
            let (field, ty) = (&f.ident, &f.ty);
            quote!(#field: #ty)
        });
        let inits = fields.iter().map(|f| {
            let field = &f.ident;
            match f.init() {
                Some(value) => quote!(#field: #value),
                None => quote!(#field),
            }
        });
        let setters = fields.iter().filter(|f| !f.required).map(|f| {
            let field = &f.ident;
            let setter = format_ident!("with_{}", field.to_string().trim_start_matches("r#"));
            let doc = format!(
                " Sets [`{ident}::{}`].",
                field.to_string().trim_start_matches("r#")
            );
            let (arg, value) = match f.shape {
                Shape::Optional => {
                    let ty = &f.ty;
                    (quote!(#ty), quote!(::std::option::Option::Some(value)))
                }
                Shape::Plain | Shape::Defaulted(_) => {
                    let ty = &f.ty;
                    (quote!(#ty), quote!(value))
                }
                Shape::List => {
                    let ty = &f.ty;
                    (quote!(::std::vec::Vec<#ty>), quote!(value))
                }
            };
            quote! {
                #[doc = #doc]
                #[must_use]
                pub fn #setter(mut self, value: #arg) -> Self {
                    self.#field = #value;
                    self
                }
            }
        });
        let new_doc = " The inputs with the required values; the others are absent or take the spec's default.";
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone)]
            #[non_exhaustive]
            pub struct #ident {
                #(#decls,)*
            }

            impl #ident {
                #[doc = #new_doc]
                pub fn new(#(#args),*) -> Self {
                    Self { #(#inits,)* }
                }
                #(#setters)*
            }
        }
    }

    fn response_enum(&self) -> TokenStream {
        let ident = self.response_ident();
        let doc = format!(" The documented responses of `{}`.", self.id);
        let variants = self.responses.iter().map(|r| {
            let variant = &r.variant;
            let status_text = match r.key {
                StatusKey::Code(c) => c.to_string(),
                StatusKey::Class(c) => {
                    format!("{c}XX (the status is given; it must be in that range)")
                }
                StatusKey::Default => "Any other status (given)".into(),
            };
            let mut lines = vec![format!("{status_text}: {}", r.description.trim())];
            if r.body.is_none() {
                lines.push(String::new());
                lines.push("No body.".into());
            }
            let docs = doc_lines(lines);
            let with_status = !matches!(r.key, StatusKey::Code(_));
            match (&r.body, with_status) {
                (Some(body), true) => quote!(#docs #variant(::axum::http::StatusCode, #body)),
                (Some(body), false) => quote!(#docs #variant(#body)),
                (None, true) => quote!(#docs #variant(::axum::http::StatusCode)),
                (None, false) => quote!(#docs #variant),
            }
        });
        let arms = self.responses.iter().map(|r| {
            let variant = &r.variant;
            match (r.key, &r.body) {
                (StatusKey::Code(code), body) => {
                    let status = status_expr(code);
                    match body {
                        Some(_) => quote!(Self::#variant(body) => runtime::json_response(#status, &body)),
                        None => quote!(Self::#variant => runtime::empty_response(#status)),
                    }
                }
                (StatusKey::Class(class), body) => {
                    let class = Literal::u16_unsuffixed(class);
                    let id = &self.id;
                    match body {
                        Some(_) => quote!(Self::#variant(status, body) => {
                            runtime::json_response_in_class(#id, status, #class, &body)
                        }),
                        None => quote!(Self::#variant(status) => {
                            runtime::empty_response_in_class(#id, status, #class)
                        }),
                    }
                }
                (StatusKey::Default, body) => match body {
                    Some(_) => quote!(Self::#variant(status, body) => runtime::json_response(status, &body)),
                    None => quote!(Self::#variant(status) => runtime::empty_response(status)),
                },
            }
        });
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            pub enum #ident {
                #(#variants,)*
            }

            impl ::axum::response::IntoResponse for #ident {
                fn into_response(self) -> ::axum::response::Response {
                    match self {
                        #(#arms,)*
                    }
                }
            }
        }
    }

    fn handler(&self) -> TokenStream {
        let handler = self.handler_ident();
        let const_ident = self.const_ident();
        let method = self.fn_ident();
        let mut steps = Vec::new();
        let needs_path = !self.path_params.is_empty();
        // `parts` becomes the request context after the checks.
        let body_var = if self.body.is_some() {
            quote!(body)
        } else {
            quote!(_)
        };
        let parts_var = if needs_path {
            quote!(mut parts)
        } else {
            quote!(parts)
        };
        let split = quote!(let (#parts_var, #body_var) = request.into_parts(););
        match self.auth {
            Auth::None => {}
            Auth::Bearer { optional: false } => {
                steps.push(quote!(let bearer = runtime::bearer_token(&parts.headers)?;));
            }
            Auth::Bearer { optional: true } => {
                steps.push(quote!(let bearer = runtime::bearer_token_optional(&parts.headers)?;));
            }
        }
        if let Some(x) = &self.x_host_id {
            let format = if x.uuid {
                quote!(runtime::HeaderFormat::Uuid)
            } else {
                quote!(runtime::HeaderFormat::Text)
            };
            if x.required {
                steps.push(quote!(let x_host_id = runtime::x_host_id(&parts.headers, #X_HOST_ID, #format)?;));
            } else {
                steps.push(
                    quote!(let x_host_id = runtime::x_host_id_optional(&parts.headers, #X_HOST_ID, #format)?;),
                );
            }
        }
        if !self.header_params.is_empty() {
            steps.push(quote!(let raw_headers = runtime::Headers::new(&parts.headers);));
            for p in &self.header_params {
                let ident = &p.ident;
                let read = p.read(&quote!(raw_headers), In::Header);
                steps.push(quote!(let #ident = #read;));
            }
        }
        if needs_path {
            steps.push(quote!(let raw_path = runtime::PathParams::extract(&mut parts).await?;));
            for p in &self.path_params {
                let ident = &p.ident;
                let read = p.read(&quote!(raw_path), In::Path);
                steps.push(quote!(let #ident = #read;));
            }
        }
        if !self.query_params.is_empty() {
            steps.push(quote!(let raw_query = runtime::QueryPairs::parse(&parts.uri)?;));
            for p in &self.query_params {
                let ident = &p.ident;
                let read = p.read(&quote!(raw_query), In::Query);
                steps.push(quote!(let #ident = #read;));
            }
        }
        if let Some(body) = &self.body {
            let ty = &body.ty;
            let checks = body.checks.iter().map(|(steps, check)| {
                let steps = steps.iter().map(|s| match s {
                    Step::Field(name) => quote!(runtime::Step::Field(#name)),
                    Step::Each => quote!(runtime::Step::Each),
                    Step::Values => quote!(runtime::Step::Values),
                });
                match check {
                    Check::Object => quote!(runtime::Check::object(&[#(#steps),*])),
                    Check::Enum(ty) => quote!(runtime::Check::one_of(&[#(#steps),*], #ty::KNOWN)),
                }
            });
            let read = if body.required {
                quote!(runtime::json_body::<#ty>)
            } else {
                quote!(runtime::json_body_optional::<#ty>)
            };
            steps.push(quote! {
                let body = #read(&parts.headers, body, shared.body_limit(), &[#(#checks),*]).await?;
            });
        }
        let input = self.input_ident();
        let fields = self.fields().into_iter().map(|f| f.ident);
        // The checks run in their own small future; the implementation's future is awaited
        // outside it, so large futures and responses are not nested (and copied) twice.
        quote! {
            async fn #handler<T: BackpackApi>(
                ::axum::extract::State(shared): ::axum::extract::State<runtime::Shared<T>>,
                request: ::axum::extract::Request,
            ) -> ::axum::response::Response {
                #split
                let input = async {
                    #(#steps)*
                    Ok::<_, runtime::Rejection>(#input { #(#fields,)* })
                }
                .await;
                match input {
                    Ok(input) => {
                        let ctx = runtime::RequestContext::from_parts(parts);
                        runtime::respond(&#const_ident, shared.api().#method(ctx, input).await)
                    }
                    Err(rejection) => rejection.into_response_for(&#const_ident),
                }
            }
        }
    }
}

/// `(kind, is_list)` of a parameter schema.
fn param_kind(doc: &Value, schema: &Value, paths: &Paths, location: &str) -> Result<(Kind, bool)> {
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        let items = schema.get("items").unwrap_or(&Value::Null);
        if items.get("type").and_then(Value::as_str) == Some("array") {
            return Err(Error::invalid(
                location,
                "nested arrays are not supported in parameters",
            ));
        }
        let (kind, _) = param_kind(doc, items, paths, location)?;
        return Ok((kind, true));
    }
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(ref_name)
    {
        let target = doc
            .pointer("/components/schemas")
            .and_then(|s| s.get(name))
            .ok_or_else(|| Error::invalid(location, format!("unresolved schema {name:?}")))?;
        if is_string_enum(target) {
            let ident = type_ident(name);
            let models = &paths.models;
            return Ok((
                Kind::Enum {
                    ty: quote!(#models::#ident),
                },
                false,
            ));
        }
        return Err(Error::invalid(
            location,
            format!(
                "parameter schema {name:?} is not a string enum; only scalars and enums are supported"
            ),
        ));
    }
    let ty = rust_type(schema, paths, location)?;
    let format = schema.get("format").and_then(Value::as_str);
    let expected = match (schema.get("type").and_then(Value::as_str), format) {
        (Some("string"), Some("uuid")) => "a UUID".to_string(),
        (Some("string"), _) => "a string".to_string(),
        (Some("integer"), Some(f)) => format!("an integer ({f})"),
        (Some("integer"), None) => "an integer".to_string(),
        (Some("number"), _) => "a number".to_string(),
        (Some("boolean"), _) => "true or false".to_string(),
        (other, _) => {
            return Err(Error::invalid(
                location,
                format!(
                    "parameter type {other:?} is not supported; only scalars, enums and arrays of them are"
                ),
            ));
        }
    };
    Ok((Kind::Scalar { ty, expected }, false))
}

fn is_string_enum(schema: &Value) -> bool {
    schema
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().all(Value::is_string))
}

/// The expression for a parameter's `default` when it is a simple literal of the parameter's type,
/// and whether it allocates.
fn default_expr(default: Option<&Value>, kind: &Kind) -> Option<(TokenStream, bool)> {
    let default = default?;
    let expr = match kind {
        Kind::Enum { ty } => {
            let text = default.as_str()?;
            return Some((quote!(#ty::from(#text)), true));
        }
        Kind::Scalar { ty, .. } => {
            let ty_text = ty.to_string();
            match default {
                Value::Bool(b) if ty_text == "bool" => Some(quote!(#b)),
                Value::String(s) if ty_text.contains("String") => {
                    return Some((quote!(::std::string::String::from(#s)), true));
                }
                Value::Number(n) if ty_text.starts_with('u') || ty_text.starts_with('i') => {
                    if let Some(v) = n.as_u64() {
                        let lit = Literal::u64_unsuffixed(v);
                        Some(quote!(#lit))
                    } else {
                        let v = n.as_i64()?;
                        let lit = Literal::u64_unsuffixed(v.unsigned_abs());
                        Some(quote!(-#lit))
                    }
                }
                Value::Number(n) if ty_text.starts_with('f') => {
                    let lit = Literal::f64_unsuffixed(n.as_f64()?);
                    Some(quote!(#lit))
                }
                _ => None,
            }
        }
    };
    expr.map(|e| (e, false))
}

fn check_path_template(path: &str, params: &[Param], label: &str) -> Result<()> {
    let mut names = Vec::new();
    for segment in path.split('/') {
        if segment.contains(['{', '}']) {
            let name = segment
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .filter(|n| !n.is_empty() && !n.contains(['{', '}', '*']))
                .ok_or_else(|| {
                    Error::invalid(
                        label,
                        format!("path segment {segment:?}: only whole-segment `{{name}}` templates are supported"),
                    )
                })?;
            names.push(name);
        }
    }
    for p in params {
        if !names.contains(&p.name.as_str()) {
            return Err(Error::invalid(
                label,
                format!("path parameter {:?} is not in the path", p.name),
            ));
        }
    }
    for name in names {
        if !params.iter().any(|p| p.name == name) {
            return Err(Error::invalid(
                label,
                format!("path template {{{name}}} has no parameter"),
            ));
        }
    }
    Ok(())
}

fn read_auth(doc: &Value, op: &Value, label: &str) -> Result<Auth> {
    let security = op.get("security").or_else(|| doc.get("security"));
    let Some(requirements) = security.and_then(Value::as_array) else {
        return Ok(Auth::None);
    };
    let mut bearer = false;
    let mut anonymous = false;
    for requirement in requirements {
        let Some(map) = requirement.as_object() else {
            return Err(Error::invalid(
                label,
                "security requirement is not an object",
            ));
        };
        if map.is_empty() {
            anonymous = true;
            continue;
        }
        if map.len() > 1 {
            return Err(Error::invalid(
                label,
                "security requirements combining schemes are not supported",
            ));
        }
        for name in map.keys() {
            let scheme = doc
                .pointer("/components/securitySchemes")
                .and_then(|s| s.get(name))
                .ok_or_else(|| {
                    Error::invalid(label, format!("unknown security scheme {name:?}"))
                })?;
            let is_bearer = scheme.get("type").and_then(Value::as_str) == Some("http")
                && scheme
                    .get("scheme")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("bearer"));
            if !is_bearer {
                return Err(Error::invalid(
                    label,
                    format!(
                        "security scheme {name:?} is not HTTP bearer; the server generator supports only bearer"
                    ),
                ));
            }
            bearer = true;
        }
    }
    Ok(match (bearer, anonymous) {
        (false, _) => Auth::None,
        (true, optional) => Auth::Bearer { optional },
    })
}

fn is_json(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

fn read_body(doc: &Value, op: &Value, paths: &Paths, label: &str) -> Result<Option<Body>> {
    let Some(request_body) = op.get("requestBody") else {
        return Ok(None);
    };
    let content = request_body
        .get("content")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::invalid(label, "requestBody without content"))?;
    let (media_type, media) = match content.iter().next() {
        Some(entry) if content.len() == 1 => entry,
        _ => {
            return Err(Error::invalid(
                label,
                "requestBody must have exactly one media type",
            ));
        }
    };
    if !is_json(media_type) {
        return Err(Error::invalid(
            label,
            format!("request media type {media_type:?} is not supported; only JSON is"),
        ));
    }
    let schema = media.get("schema").unwrap_or(&Value::Null);
    let ty = rust_type(schema, paths, &format!("{label}: request body"))?;
    let mut checks = Vec::new();
    let mut stack = Vec::new();
    find_checks(
        doc,
        schema,
        &mut Vec::new(),
        &mut stack,
        paths,
        &mut checks,
        label,
    )?;
    Ok(Some(Body {
        ty,
        required: request_body.get("required").and_then(Value::as_bool) == Some(true),
        checks,
    }))
}

/// Every place in a request body where an object (struct) or a string enum sits. Unknown enum
/// values must be rejected although the model types accept them (`Unknown(String)`, because
/// responses must stay forward-compatible), and serde would build a struct from an array.
fn find_checks(
    doc: &Value,
    schema: &Value,
    at: &mut Vec<Step>,
    stack: &mut Vec<String>,
    paths: &Paths,
    out: &mut Vec<(Vec<Step>, Check)>,
    label: &str,
) -> Result<()> {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(ref_name)
    {
        let target = doc
            .pointer("/components/schemas")
            .and_then(|s| s.get(name))
            .ok_or_else(|| Error::invalid(label, format!("unresolved schema {name:?}")))?;
        if is_string_enum(target) {
            let ident = type_ident(name);
            let models = &paths.models;
            out.push((at.clone(), Check::Enum(quote!(#models::#ident))));
            return Ok(());
        }
        if stack.iter().any(|s| s == name) {
            return Err(Error::invalid(
                label,
                format!(
                    "request body schema {name:?} is recursive; the server's enum check does not support that"
                ),
            ));
        }
        stack.push(name.to_string());
        find_checks(doc, target, at, stack, paths, out, label)?;
        stack.pop();
        return Ok(());
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            find_checks(doc, part, at, stack, paths, out, label)?;
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let already = out
            .iter()
            .any(|(path, check)| matches!(check, Check::Object) && path == at);
        if !props.is_empty() && !already {
            out.push((at.clone(), Check::Object));
        }
        for (name, prop) in props {
            at.push(Step::Field(name.clone()));
            find_checks(doc, prop, at, stack, paths, out, label)?;
            at.pop();
        }
    }
    if let Some(items) = schema.get("items") {
        at.push(Step::Each);
        find_checks(doc, items, at, stack, paths, out, label)?;
        at.pop();
    }
    if let Some(extra @ Value::Object(_)) = schema.get("additionalProperties") {
        at.push(Step::Values);
        find_checks(doc, extra, at, stack, paths, out, label)?;
        at.pop();
    }
    Ok(())
}

fn read_responses(op: &Value, paths: &Paths, label: &str) -> Result<Vec<Response>> {
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::invalid(label, "no responses"))?;
    let mut out = Vec::new();
    for (status, response) in responses {
        let key = parse_status(status).ok_or_else(|| {
            Error::invalid(
                label,
                format!("response key {status:?} is not a status, a range or `default`"),
            )
        })?;
        let body = match response.get("content").and_then(Value::as_object) {
            None => None,
            Some(content) if content.is_empty() => None,
            Some(content) => {
                let (media_type, media) = match content.iter().next() {
                    Some(entry) if content.len() == 1 => entry,
                    _ => {
                        return Err(Error::invalid(
                            label,
                            format!("response {status}: several media types"),
                        ));
                    }
                };
                if !is_json(media_type) {
                    return Err(Error::invalid(
                        label,
                        format!(
                            "response {status}: media type {media_type:?} is not supported; only JSON is"
                        ),
                    ));
                }
                let schema = media.get("schema").unwrap_or(&Value::Null);
                Some(rust_type(
                    schema,
                    paths,
                    &format!("{label}: response {status}"),
                )?)
            }
        };
        let variant = match key {
            StatusKey::Code(code) => match reason(code) {
                Some(name) => format_ident!("{name}"),
                None => format_ident!("Status{code}"),
            },
            StatusKey::Class(1) => format_ident!("Informational"),
            StatusKey::Class(2) => format_ident!("Success"),
            StatusKey::Class(3) => format_ident!("Redirection"),
            StatusKey::Class(4) => format_ident!("ClientError"),
            StatusKey::Class(_) => format_ident!("ServerError"),
            StatusKey::Default => format_ident!("Default"),
        };
        out.push(Response {
            key,
            variant,
            body,
            description: response
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        });
    }
    Ok(out)
}

fn parse_status(key: &str) -> Option<StatusKey> {
    if key == "default" {
        return Some(StatusKey::Default);
    }
    let bytes = key.as_bytes();
    if bytes.len() == 3 && (b'1'..=b'5').contains(&bytes[0]) && key[1..].eq_ignore_ascii_case("XX")
    {
        return Some(StatusKey::Class(u16::from(bytes[0] - b'0')));
    }
    let code: u16 = key.parse().ok()?;
    (100..=599).contains(&code).then_some(StatusKey::Code(code))
}

/// `StatusCode::CREATED` for codes with a standard name, `runtime::status(599)` otherwise.
fn status_expr(code: u16) -> TokenStream {
    match reason(code) {
        Some(name) => {
            let constant = Ident::new(&name.to_shouty_snake_case(), Span::call_site());
            quote!(::axum::http::StatusCode::#constant)
        }
        None => {
            let lit = Literal::u16_unsuffixed(code);
            quote!(runtime::status(#lit))
        }
    }
}

/// Variant names: the RFC 9110 reason phrases, as `http::StatusCode` names its constants.
fn reason(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        101 => "SwitchingProtocols",
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        407 => "ProxyAuthenticationRequired",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "LengthRequired",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        414 => "UriTooLong",
        415 => "UnsupportedMediaType",
        416 => "RangeNotSatisfiable",
        417 => "ExpectationFailed",
        418 => "ImATeapot",
        421 => "MisdirectedRequest",
        422 => "UnprocessableEntity",
        423 => "Locked",
        424 => "FailedDependency",
        426 => "UpgradeRequired",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        451 => "UnavailableForLegalReasons",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        505 => "HttpVersionNotSupported",
        _ => return None,
    })
}

/// `#[doc]` attributes, one per line; brackets escaped so rustdoc reads no links.
fn doc_lines(lines: Vec<String>) -> TokenStream {
    let lines = lines.into_iter().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {}", l.replace('[', "\\[").replace(']', "\\]"))
        }
    });
    quote!(#( #[doc = #lines] )*)
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
        let tokens = generate(d).unwrap();
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
        assert!(text.contains("id: \"only-422\","), "{text}");
        let find = |id: &str| {
            let start = text.find(&format!("id: \"{id}\"")).unwrap();
            text[start..start + 200].to_string()
        };
        assert!(
            find("only-422").contains("input_status: 422u16")
                && find("only-422").contains("auth_status: 401u16")
        );
        assert!(
            find("with-400").contains("input_status: 400u16")
                && find("with-400").contains("auth_status: 400u16")
        );
        assert!(
            find("nothing").contains("input_status: 400u16")
                && find("nothing").contains("auth_status: 401u16")
        );
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
    fn removed_headers_are_recorded_for_the_server_only() {
        let before = json!({"paths": {"/a": {"get": {"operationId": "a", "parameters": [
            {"$ref": "#/components/parameters/Host"}, {"name": "q", "in": "query", "schema": {"type": "string"}}
        ]}, "post": {"operationId": "b"}}}, "components": {"parameters": {"Host":
            {"name": "X-HOST-ID", "in": "header", "required": true, "schema": {"type": "string", "format": "uuid"}}}}});
        let mut after = json!({"paths": {"/a": {"get": {"operationId": "a", "parameters": [
            {"name": "q", "in": "query", "schema": {"type": "string"}}
        ]}, "post": {"operationId": "b"}}}});
        record_removed_headers(&before, &mut after).unwrap();
        assert_eq!(
            after["paths"]["/a"]["get"][REMOVED_HEADERS],
            json!([{"name": "X-HOST-ID", "in": "header", "required": true, "schema": {"type": "string", "format": "uuid"}}])
        );
        assert!(after["paths"]["/a"]["post"].get(REMOVED_HEADERS).is_none());
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
            json!({"/a": {"post": {"operationId": "x",
                "requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}},
                "responses": {"200": {"description": "ok"}}}}}),
            json!({"/a/{id}": {"get": {"operationId": "x", "responses": {"200": {"description": "ok"}}}}}),
        ];
        for paths in cases {
            assert!(generate(&doc(paths.clone())).is_err(), "{paths}");
        }
    }
}
