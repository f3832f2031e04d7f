//! Path, query and header parameters: what each is parsed into (a `FromStr` scalar or a listed
//! enum, alone or repeated), its default, and the check that the path template and the path
//! parameters agree.

use super::ir::{Param, ParamKind};
use crate::codegen::names::{ref_name, type_ident};
use crate::codegen::schema::{Paths, rust_type};
use crate::openapi;
use crate::{Error, Result};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use serde_json::Value;

/// `(kind, is_list)` of a parameter schema.
pub(super) fn param_kind(
    doc: &Value,
    schema: &Value,
    paths: &Paths,
    location: &str,
) -> Result<(ParamKind, bool)> {
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
        let target = openapi::component_schema(doc, name)
            .ok_or_else(|| Error::invalid(location, format!("unresolved schema {name:?}")))?;
        if is_string_enum(target) {
            let ident = type_ident(name);
            let models = &paths.models;
            return Ok((
                ParamKind::Enum {
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
    Ok((ParamKind::Scalar { ty, expected }, false))
}

pub(super) fn is_string_enum(schema: &Value) -> bool {
    schema
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().all(Value::is_string))
}

/// The expression for a parameter's `default` when it is a simple literal of the parameter's type,
/// and whether it allocates.
pub(super) fn default_expr(
    default: Option<&Value>,
    kind: &ParamKind,
) -> Option<(TokenStream, bool)> {
    let default = default?;
    let expr = match kind {
        ParamKind::Enum { ty } => {
            let text = default.as_str()?;
            return Some((quote!(#ty::from(#text)), true));
        }
        ParamKind::Scalar { ty, .. } => {
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

pub(super) fn check_path_template(path: &str, params: &[Param], label: &str) -> Result<()> {
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
