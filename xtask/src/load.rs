//! Reading a spec document: YAML or JSON text → `serde_json::Value`. Xsolla links each bundle
//! both as `index.yaml` and as `index.json?download`; either form gives the same value.

use crate::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// Parses JSON or YAML into a JSON value, keeping key order. Text that starts with `{` is read
/// as JSON (a YAML parser trips over some valid JSON, e.g. tab indentation); anything else as YAML.
pub fn parse_document(what: &str, text: &str) -> Result<Value> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| Error::Parse {
            what: what.to_string(),
            reason: format!("not JSON: {e}"),
        })?
    } else {
        serde_norway::from_str(text).map_err(|e| Error::Parse {
            what: what.to_string(),
            reason: format!("not YAML/JSON: {e}"),
        })?
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_forms_give_one_value() {
        let yaml = "openapi: 3.0.3\ninfo:\n  title: t\n  version: '1'\npaths: {}\n";
        let json = "\u{feff}{\n\t\"openapi\": \"3.0.3\",\n\t\"info\": {\"title\": \"t\", \"version\": \"1\"},\n\t\"paths\": {}\n}";
        assert_eq!(
            parse_document("yaml", yaml).unwrap(),
            parse_document("json", json).unwrap()
        );
        let err = parse_document("broken", "{\"openapi\": ")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("broken: not JSON"), "{err}");
    }
}
