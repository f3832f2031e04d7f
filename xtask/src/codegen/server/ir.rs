//! The server generator's view of the spec: each operation under `paths` read into an
//! [`Operation`] (inputs, auth, body, responses, bad-input statuses), with every shape the
//! server cannot serve reported as an error instead of guessed.

use super::body::read_body;
use super::params::{check_path_template, default_expr, param_kind};
use super::responses::read_responses;
use crate::codegen::names::{distinct, field_ident};
use crate::codegen::schema::Paths;
use crate::openapi::{self, BodyKind, REMOVED_HEADERS};
use crate::{Error, Result};
use proc_macro2::{Ident, TokenStream};
use serde_json::Value;

/// The header the runtime treats as a secret (`XHostId`), compared case-insensitively.
pub(super) const X_HOST_ID: &str = "X-HOST-ID";

/// Every operation under `paths`, read (webhooks are not served: Xsolla sends them).
pub(super) fn read(doc: &Value, paths: &Paths) -> Result<Vec<Operation>> {
    // No operations (a webhooks-only document, or all left out) is an empty trait and router.
    openapi::path_operations(doc)
        .map(|op| Operation::read(doc, op.path, op.method, op.op, paths))
        .collect::<Result<Vec<_>>>()
}

/// What a parameter's value is parsed into.
pub(super) enum ParamKind {
    /// `FromStr` type; the text says what was expected.
    Scalar { ty: TokenStream, expected: String },
    /// A string enum from `backpack_types::api` (values outside `KNOWN` are rejected).
    Enum { ty: TokenStream },
}

impl ParamKind {
    pub(super) fn ty(&self) -> &TokenStream {
        match self {
            ParamKind::Scalar { ty, .. } | ParamKind::Enum { ty } => ty,
        }
    }
}

pub(super) struct Param {
    pub(super) name: String,
    pub(super) ident: Ident,
    pub(super) kind: ParamKind,
    pub(super) list: bool,
    pub(super) required: bool,
    /// The spec's default, and whether building it allocates (then it is built lazily).
    pub(super) default: Option<(TokenStream, bool)>,
    pub(super) description: Option<String>,
}

pub(super) struct Body {
    /// How it travels (which runtime reader takes it).
    pub(super) kind: BodyKind,
    /// The media type it is sent with (its essence).
    pub(super) media_type: String,
    pub(super) ty: TokenStream,
    pub(super) required: bool,
    /// Where the body must hold an object (a struct) or a listed enum value.
    pub(super) checks: Vec<(Vec<Step>, Check)>,
}

/// What must hold at a place in a request body.
pub(super) enum Check {
    /// A JSON object: serde would also build a struct from a positional array.
    Object,
    /// One of the enum type's `KNOWN` values: the model types accept any string on purpose.
    Enum(TokenStream),
}

#[derive(Clone, PartialEq)]
pub(super) enum Step {
    Field(String),
    Each,
    Values,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum StatusKey {
    Code(u16),
    /// `1XX` … `5XX`: the class digit.
    Class(u16),
    Default,
}

pub(super) struct Response {
    pub(super) key: StatusKey,
    pub(super) variant: Ident,
    pub(super) body: Option<TokenStream>,
    pub(super) description: String,
}

pub(super) enum Auth {
    None,
    Bearer { optional: bool },
}

pub(super) struct XHost {
    pub(super) required: bool,
    pub(super) uuid: bool,
}

pub(super) struct Operation {
    pub(super) id: String,
    pub(super) method: &'static str,
    pub(super) path: String,
    pub(super) summary: Option<String>,
    pub(super) description: Option<String>,
    pub(super) path_params: Vec<Param>,
    pub(super) query_params: Vec<Param>,
    pub(super) header_params: Vec<Param>,
    pub(super) x_host_id: Option<XHost>,
    pub(super) auth: Auth,
    pub(super) body: Option<Body>,
    pub(super) responses: Vec<Response>,
    pub(super) input_status: u16,
    pub(super) auth_status: u16,
}

impl Operation {
    pub(super) fn read(
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
        let mut params = openapi::effective_parameters(doc, path, op)?;
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
        let mut op = op;
        op.distinct_idents();
        Ok(op)
    }

    /// Inputs become fields of one struct and locals of the handler: a parameter whose name
    /// would collide with another input, a fixed field or a handler local gets a numbered
    /// spelling (`request_2`); its wire name is unchanged (the field's docs give it).
    fn distinct_idents(&mut self) {
        let mut taken: Vec<String> = [
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
            .header_params
            .iter_mut()
            .chain(&mut self.path_params)
            .chain(&mut self.query_params)
        {
            let name = p.ident.to_string();
            let chosen = distinct(&name, &mut taken);
            if chosen != name {
                p.ident = Ident::new(&chosen, p.ident.span());
            }
        }
    }
}

pub(super) fn read_auth(doc: &Value, op: &Value, label: &str) -> Result<Auth> {
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
