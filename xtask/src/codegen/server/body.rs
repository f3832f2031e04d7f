//! The request body of an operation: how it travels ([`BodyKind`]: JSON, form, text, raw bytes),
//! its type, and for JSON the places where it must hold an object or a listed enum value (checked
//! before deserializing).

use super::ir::{Body, Check, Step};
use super::params::is_string_enum;
use crate::codegen::names::{ref_name, type_ident};
use crate::codegen::schema::{Paths, rust_type};
use crate::openapi::component_schema;
use crate::openapi::{BodyKind, body_kind, essence};
use crate::{Error, Result};
use quote::quote;
use serde_json::Value;

pub(super) fn read_body(
    doc: &Value,
    op: &Value,
    paths: &Paths,
    label: &str,
) -> Result<Option<Body>> {
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
    let kind = body_kind(media_type);
    let schema = media.get("schema").unwrap_or(&Value::Null);
    let ty = match kind {
        BodyKind::Json | BodyKind::Form => {
            rust_type(schema, paths, &format!("{label}: request body"))?
        }
        BodyKind::Text => quote!(::std::string::String),
        BodyKind::Multipart | BodyKind::Bytes => quote!(runtime::RawBody),
    };
    let mut checks = Vec::new();
    if kind == BodyKind::Json {
        find_checks(
            doc,
            schema,
            &mut Vec::new(),
            &mut Vec::new(),
            paths,
            &mut checks,
            label,
        )?;
    }
    Ok(Some(Body {
        kind,
        media_type: essence(media_type),
        ty,
        required: request_body.get("required").and_then(Value::as_bool) == Some(true),
        checks,
    }))
}

/// Every place in a request body where an object (struct) or a string enum sits. Unknown enum
/// values must be rejected although the model types accept them (`Unknown(String)`, because
/// responses must stay forward-compatible), and serde would build a struct from an array.
pub(super) fn find_checks(
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
        let target = component_schema(doc, name)
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
