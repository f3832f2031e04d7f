//! The tokens of `generated.rs`: the `BackpackApi` trait (one method per operation with a
//! default `501` body), each operation's `Operation` constant, input struct, response enum and
//! axum handler, and the router.

use super::ir::{Auth, Check, Operation, Param, ParamKind, StatusKey, Step, X_HOST_ID};
use super::responses::reason;
use crate::codegen::names::{field_ident, type_name};
use crate::openapi::BodyKind;
use heck::ToShoutySnakeCase;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

/// The whole generated file for `ops`, calling the server runtime at `runtime`.
pub(super) fn file(ops: &[Operation], runtime: &TokenStream) -> TokenStream {
    let methods = ops.iter().map(Operation::trait_method);
    let items = ops.iter().map(Operation::items);
    let consts = ops.iter().map(|op| op.const_ident());
    let routes = routes(ops);
    quote! {
        //! The `BackpackApi` trait, its input/response types, and the router that serves it.
        // Response variants hold the model types unboxed, so matching on them stays simple; an
        // input's `new` takes every required input, however many the spec has.
        #![allow(clippy::large_enum_variant, clippy::too_many_arguments, clippy::new_without_default)]

        use #runtime as runtime;

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
    }
}

pub(super) fn routes(ops: &[Operation]) -> TokenStream {
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

impl Param {
    /// An expression that reads the value from `source` (propagating a rejection with `?`).
    pub(super) fn read(&self, source: &TokenStream, location: In) -> TokenStream {
        let name = &self.name;
        let (read, list_read) = match &self.kind {
            ParamKind::Scalar { ty, expected } => (
                quote!(#source.scalar::<#ty>(#name, #expected)?),
                quote!(#source.list::<#ty>(#name, #expected)?),
            ),
            ParamKind::Enum { ty } => (
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
pub(super) enum In {
    Path,
    Query,
    Header,
}

impl Operation {
    pub(super) fn type_prefix(&self) -> String {
        type_name(&self.id)
    }

    pub(super) fn fn_ident(&self) -> Ident {
        field_ident(&self.id)
    }

    pub(super) fn handler_ident(&self) -> Ident {
        format_ident!(
            "handle_{}",
            field_ident(&self.id).to_string().trim_start_matches("r#")
        )
    }

    pub(super) fn const_ident(&self) -> Ident {
        Ident::new(
            &self.type_prefix().to_shouty_snake_case(),
            Span::call_site(),
        )
    }

    pub(super) fn response_ident(&self) -> Ident {
        format_ident!("{}Response", self.type_prefix())
    }

    pub(super) fn input_ident(&self) -> Ident {
        format_ident!("{}Input", self.type_prefix())
    }

    pub(super) fn status_sentence(&self) -> String {
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
        if let Some(body) = &self.body {
            text.push_str(&format!(
                "; a body over the size limit with 413, a body sent with a `Content-Type` other than `{}` with 415",
                body.media_type
            ));
        }
        text.push('.');
        text
    }

    pub(super) fn trait_method(&self) -> TokenStream {
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

    pub(super) fn items(&self) -> TokenStream {
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
            pub const #const_ident: runtime::Operation =
                runtime::Operation::new(#id, #method, #path, #input_status, #auth_status);
            #input
            #response
            #handler
        }
    }

    pub(super) fn response_enum(&self) -> TokenStream {
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

    pub(super) fn handler(&self) -> TokenStream {
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
            let checks = body
                .checks
                .iter()
                .map(|(steps, check)| {
                    let steps = steps.iter().map(|s| match s {
                        Step::Field(name) => quote!(runtime::Step::Field(#name)),
                        Step::Each => quote!(runtime::Step::Each),
                        Step::Values => quote!(runtime::Step::Values),
                    });
                    match check {
                        Check::Object => quote!(runtime::Check::object(&[#(#steps),*])),
                        Check::Enum(ty) => {
                            quote!(runtime::Check::one_of(&[#(#steps),*], #ty::KNOWN))
                        }
                    }
                })
                .collect::<Vec<_>>();
            let limit = quote!(shared.body_limit());
            let media = &body.media_type;
            let read = match (body.kind, body.required) {
                (BodyKind::Json, true) => {
                    quote!(runtime::json_body::<#ty>(&parts.headers, body, #limit, &[#(#checks),*]))
                }
                (BodyKind::Json, false) => {
                    quote!(runtime::json_body_optional::<#ty>(&parts.headers, body, #limit, &[#(#checks),*]))
                }
                (BodyKind::Form, true) => {
                    quote!(runtime::form_body::<#ty>(&parts.headers, body, #limit))
                }
                (BodyKind::Form, false) => {
                    quote!(runtime::form_body_optional::<#ty>(&parts.headers, body, #limit))
                }
                (BodyKind::Text, true) => quote!(runtime::text_body(&parts.headers, body, #limit)),
                (BodyKind::Text, false) => {
                    quote!(runtime::text_body_optional(&parts.headers, body, #limit))
                }
                (BodyKind::Multipart | BodyKind::Bytes, true) => {
                    quote!(runtime::raw_body(&parts.headers, body, #limit, #media))
                }
                (BodyKind::Multipart | BodyKind::Bytes, false) => {
                    quote!(runtime::raw_body_optional(&parts.headers, body, #limit, #media))
                }
            };
            steps.push(quote! {
                let body = #read.await?;
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

/// `StatusCode::CREATED` for codes with a standard name, `runtime::status(599)` otherwise.
pub(super) fn status_expr(code: u16) -> TokenStream {
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

/// `#[doc]` attributes, one per line; brackets escaped so rustdoc reads no links.
pub(super) fn doc_lines(lines: Vec<String>) -> TokenStream {
    let lines = lines.into_iter().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {}", l.replace('[', "\\[").replace(']', "\\]"))
        }
    });
    quote!(#( #[doc = #lines] )*)
}
