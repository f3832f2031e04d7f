//! The `{Op}Input` struct of each operation: one `#[non_exhaustive]` struct with a field per
//! input, `new(required…)` and a `with_<optional>` setter per optional input, so that a new
//! optional parameter upstream is a new field and setter, not a changed method signature.

use super::emit::doc_lines;
use super::ir::{Auth, Operation, Param};
use crate::openapi::BodyKind;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// How an input field holds its value.
pub(super) enum Shape {
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
pub(super) struct Field {
    pub(super) ident: Ident,
    /// The value type (the element type for lists, the inner type for options).
    pub(super) ty: TokenStream,
    /// A `new` argument.
    pub(super) required: bool,
    pub(super) shape: Shape,
    pub(super) doc: Vec<String>,
}

impl Field {
    pub(super) fn fixed(ident: Ident, ty: TokenStream, required: bool, doc: &str) -> Self {
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

    pub(super) fn param(p: &Param, noun: &str) -> Self {
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
    pub(super) fn ty(&self) -> TokenStream {
        let ty = &self.ty;
        match self.shape {
            Shape::Plain | Shape::Defaulted(_) => quote!(#ty),
            Shape::Optional => quote!(::std::option::Option<#ty>),
            Shape::List => quote!(::std::vec::Vec<#ty>),
        }
    }

    /// The value `new` gives a field it takes no argument for.
    pub(super) fn init(&self) -> Option<TokenStream> {
        match &self.shape {
            Shape::Plain => None,
            Shape::Optional => Some(quote!(::std::option::Option::None)),
            Shape::List => Some(quote!(::std::vec::Vec::new())),
            Shape::Defaulted(default) => Some(default.clone()),
        }
    }
}

impl Operation {
    /// The input struct's fields, in check order (bearer, X-HOST-ID, headers, path, query, body).
    pub(super) fn fields(&self) -> Vec<Field> {
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
            let doc = match body.kind {
                BodyKind::Json => "The JSON request body.".to_string(),
                BodyKind::Form => format!(
                    "The request body, sent form-encoded (`{}`).",
                    body.media_type
                ),
                BodyKind::Text => format!("The request body, sent as `{}`.", body.media_type),
                BodyKind::Multipart => format!(
                    "The raw request body and its `Content-Type` (`{}`, boundary included); the parts are not decoded.",
                    body.media_type
                ),
                BodyKind::Bytes => format!("The raw request body, sent as `{}`.", body.media_type),
            };
            fields.push(Field::fixed(
                format_ident!("body"),
                body.ty.clone(),
                body.required,
                &doc,
            ));
        }
        fields
    }

    pub(super) fn input_struct(&self) -> TokenStream {
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
}
