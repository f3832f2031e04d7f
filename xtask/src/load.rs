//! Reading a vendored document: YAML or JSON text → `serde_json::Value`.

use crate::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// Parses YAML (a superset of JSON) into a JSON value, keeping key order.
pub fn parse_document(what: &str, text: &str) -> Result<Value> {
    let value: Value = serde_norway::from_str(text).map_err(|e| Error::Parse {
        what: what.to_string(),
        reason: format!("not YAML/JSON: {e}"),
    })?;
    check_openapi(what, &value)?;
    Ok(value)
}

/// Reads and parses a document from disk.
pub fn read_document(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_document(&path.display().to_string(), &text)
}

/// The document's `openapi` version string, when it is 3.0.x or 3.1.x.
pub fn openapi_version(value: &Value) -> Option<&str> {
    value
        .get("openapi")
        .and_then(Value::as_str)
        .filter(|v| v.starts_with("3.0.") || v.starts_with("3.1."))
}

/// Refuses anything that is not an OpenAPI 3.0/3.1 document with `info`.
pub fn check_openapi(what: &str, value: &Value) -> Result<()> {
    if !value.is_object() {
        return Err(Error::Parse {
            what: what.into(),
            reason: "not an OpenAPI document: top level is not a mapping".into(),
        });
    }
    match value.get("openapi") {
        None => Err(Error::Parse {
            what: what.into(),
            reason: "not an OpenAPI document: no `openapi` version field".into(),
        }),
        Some(_) if openapi_version(value).is_none() => Err(Error::Parse {
            what: what.into(),
            reason: format!(
                "unsupported OpenAPI version {:?}; 3.0.x and 3.1.x are supported",
                value["openapi"]
            ),
        }),
        Some(_) if !value.get("info").is_some_and(Value::is_object) => Err(Error::Parse {
            what: what.into(),
            reason: "not an OpenAPI document: no `info` object".into(),
        }),
        Some(_) => Ok(()),
    }
}
