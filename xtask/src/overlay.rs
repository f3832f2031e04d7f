//! OpenAPI Overlay-style edits (`spec/overlays/*.yaml`), applied in file-name order.
//!
//! Local fixes live here, never in the spec documents, so `cargo xtask pull` can replace a document
//! wholesale. Each overlay names the document it `extends` and lists actions: an RFC 9535 JSONPath
//! `target` with either `remove: true` or an `update` that is deep-merged into every match.
//! Targets are evaluated on the 3.0 form (after down-conversion: `webhooks` is `x-webhooks`).

use crate::{Error, Result};
use serde::Deserialize;
use serde_json::Value;
use serde_json_path::JsonPath;
use std::path::Path;

/// One overlay file.
#[derive(Debug, Clone, Deserialize)]
pub struct Overlay {
    /// The spec document this overlay applies to (file name, e.g. `backpack.yaml`).
    pub extends: String,
    /// Edits, in order.
    pub actions: Vec<Action>,
    /// Where it came from (set by [`load_overlays`]).
    #[serde(skip)]
    pub file: String,
}

/// One edit.
#[derive(Debug, Clone, Deserialize)]
pub struct Action {
    /// RFC 9535 JSONPath selecting the nodes to edit.
    pub target: String,
    /// Why this edit exists.
    #[serde(default)]
    pub description: Option<String>,
    /// Deep-merged into each selected node.
    #[serde(default)]
    pub update: Option<Value>,
    /// Removes each selected node.
    #[serde(default)]
    pub remove: bool,
    /// When false, a target matching nothing is an error (so a stale overlay is noticed). Default false.
    #[serde(default, rename = "x-allow-empty")]
    pub allow_empty: bool,
}

/// Reads every `*.yaml` overlay in `dir`, sorted by file name.
pub fn load_overlays(dir: &Path) -> Result<Vec<Overlay>> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(dir, e)),
    };
    files.sort();
    files.iter().map(|path| read(path)).collect()
}

/// Reads one overlay file; its [`Overlay::file`] is the file name.
pub fn read(path: &Path) -> Result<Overlay> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut overlay: Overlay = serde_norway::from_str(&text).map_err(|e| Error::Parse {
        what: format!("overlay {file}"),
        reason: e.to_string(),
    })?;
    overlay.file = file;
    Ok(overlay)
}

/// Applies the overlays that extend `document` (a file name) to `doc`.
pub fn apply_all(doc: &mut Value, document: &str, overlays: &[Overlay]) -> Result<()> {
    for overlay in overlays.iter().filter(|o| o.extends == document) {
        apply(doc, overlay)?;
    }
    Ok(())
}

/// Applies one overlay.
pub fn apply(doc: &mut Value, overlay: &Overlay) -> Result<()> {
    for (index, action) in overlay.actions.iter().enumerate() {
        let fail = |reason: String| Error::Overlay {
            file: overlay.file.clone(),
            index,
            reason,
        };
        let path = JsonPath::parse(&action.target)
            .map_err(|e| fail(format!("bad target {:?}: {e}", action.target)))?;
        let mut pointers: Vec<String> = path
            .query_located(doc)
            .locations()
            .map(|l| l.to_json_pointer())
            .collect();
        if pointers.is_empty() && !action.allow_empty {
            return Err(fail(format!(
                "target {:?} matches nothing; is the overlay stale?",
                action.target
            )));
        }
        match (&action.update, action.remove) {
            (Some(_), true) | (None, false) => {
                return Err(fail(
                    "an action needs exactly one of `update` or `remove: true`".into(),
                ));
            }
            (None, true) => {
                // Remove deepest/last first so earlier array indices stay valid.
                pointers.sort_by_key(|p| std::cmp::Reverse(pointer_key(p)));
                for pointer in pointers {
                    remove_at(doc, &pointer).map_err(fail)?;
                }
            }
            (Some(update), false) => {
                for pointer in pointers {
                    let node = doc
                        .pointer_mut(&pointer)
                        .ok_or_else(|| fail(format!("{pointer} vanished")))?;
                    merge(node, update);
                }
            }
        }
    }
    Ok(())
}

/// Sort key that orders array indices numerically.
fn pointer_key(pointer: &str) -> Vec<(u64, String)> {
    pointer
        .split('/')
        .map(|s| (s.parse::<u64>().unwrap_or(u64::MAX), s.to_string()))
        .collect()
}

fn remove_at(doc: &mut Value, pointer: &str) -> Result<(), String> {
    let (parent, last) = pointer
        .rsplit_once('/')
        .ok_or_else(|| "cannot remove the document root".to_string())?;
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(&key);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let i: usize = key.parse().map_err(|_| format!("bad index in {pointer}"))?;
            if i < items.len() {
                items.remove(i);
            }
            Ok(())
        }
        _ => Err(format!("no parent for {pointer}")),
    }
}

/// JSON Merge Patch-like deep merge (objects merge, everything else replaces; `null` removes).
fn merge(target: &mut Value, update: &Value) {
    match (target, update) {
        (Value::Object(t), Value::Object(u)) => {
            for (k, v) in u {
                if v.is_null() {
                    t.shift_remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, u) => *t = u.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(actions: Value) -> Overlay {
        let mut o: Overlay =
            serde_json::from_value(json!({"extends": "x.yaml", "actions": actions})).unwrap();
        o.file = "test.yaml".into();
        o
    }

    #[test]
    fn removes_filtered_parameters_and_updates() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "X-HOST-ID", "in": "header"}, {"name": "offset", "in": "query"}, {"name": "X-HOST-ID", "in": "header"}
        ]}}}});
        let o = overlay(json!([
            {"target": "$.paths.*.*.parameters[?@.name == 'X-HOST-ID']", "remove": true},
            {"target": "$.paths['/a'].get", "update": {"summary": "s"}}
        ]));
        apply(&mut doc, &o).unwrap();
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"],
            json!([{"name": "offset", "in": "query"}])
        );
        assert_eq!(doc["paths"]["/a"]["get"]["summary"], "s");
    }

    #[test]
    fn stale_target_is_an_error() {
        let mut doc = json!({});
        let err = apply(
            &mut doc,
            &overlay(json!([{"target": "$.nope", "remove": true}])),
        )
        .unwrap_err();
        assert!(err.to_string().contains("matches nothing"), "{err}");
    }
}
