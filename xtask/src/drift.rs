//! `cargo xtask drift FILE…`: reads drift reports (the JSON `backpack_drift::DriftReport` writes),
//! prints a summary, writes a proposed Overlay per spec document into `spec/overlays/` that adds
//! what was observed (new optional properties, enum values, widened types, undocumented
//! statuses), and prints the `xtask diff` verdict of applying it.
//!
//! The report is read as JSON here, not through the `backpack-drift` crate: that crate holds
//! regen's output, and regen must build whatever state it is in.

use crate::codegen::also_accepts::{self, ACCEPTABLE, ALSO_ACCEPTS};
use crate::diff::{comparable, diff_values, render};
use crate::openapi::METHODS;
use crate::overlay::{self, Overlay};
use crate::regen::{BACKPACK, WEBHOOKS};
use crate::{Error, Result, downconvert, load};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `format` a report must have.
pub const FORMAT: &str = "backpack-drift-report/1";

/// What every proposed property or value says about itself.
const OBSERVED: &str = "Observed in live traffic by the drift watch (`cargo xtask drift`); not in Xsolla's documentation as of this overlay. Review before merging.";

/// One finding of a report (the fields of `backpack_drift::Observed`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct Finding {
    /// `response` or `webhook`.
    pub source: String,
    /// The `operationId` (responses).
    #[serde(default)]
    pub operation: Option<String>,
    /// The response key (`200`, `4XX`) or undocumented status (responses).
    #[serde(default)]
    pub status: Option<String>,
    /// `store` or `backpack` (webhooks).
    #[serde(default)]
    pub family: Option<String>,
    /// The webhook type (webhooks).
    #[serde(default)]
    pub notification_type: Option<String>,
    /// `unknown_property`, `type_mismatch`, …
    pub kind: String,
    /// JSON path.
    pub path: String,
    /// Allowed JSON types.
    #[serde(default)]
    pub expected: Option<String>,
    /// Seen JSON type (or media type).
    #[serde(default)]
    pub seen: Option<String>,
    /// An enum value not listed.
    #[serde(default)]
    pub value: Option<String>,
}

impl Finding {
    /// `get-games 200` / `store webhook payment`.
    pub fn subject(&self) -> String {
        match (&self.operation, &self.notification_type) {
            (Some(op), _) => format!("{op} {}", self.status.as_deref().unwrap_or("?")),
            (None, Some(kind)) => {
                format!("{} webhook {kind}", self.family.as_deref().unwrap_or("?"))
            }
            _ => "?".into(),
        }
    }

    /// The spec document the finding is about.
    pub fn document(&self) -> &'static str {
        if self.source == "webhook" && self.family.as_deref() == Some("store") {
            WEBHOOKS
        } else {
            BACKPACK
        }
    }

    fn describe(&self) -> String {
        let mut text = format!("{}: {} at {}", self.subject(), self.kind, self.path);
        if let Some(e) = &self.expected {
            text.push_str(&format!(", expected {e}"));
        }
        if let Some(s) = &self.seen {
            text.push_str(&format!(", seen {s}"));
        }
        if let Some(v) = &self.value {
            text.push_str(&format!(", value {v:?}"));
        }
        text
    }
}

#[derive(Deserialize)]
struct ReportFile {
    format: String,
    spec_id: String,
    findings: Vec<Counted>,
}

#[derive(Deserialize)]
struct Counted {
    #[serde(flatten)]
    finding: Finding,
    count: u64,
    first_seen: u64,
    last_seen: u64,
}

/// Reports merged: each distinct finding with its total count and first/last seen (Unix s).
#[derive(Debug, Default)]
pub struct Merged {
    /// Every `spec_id` the reports name.
    pub spec_ids: Vec<String>,
    /// Finding → (count, first seen, last seen).
    pub findings: BTreeMap<Finding, (u64, u64, u64)>,
}

/// Reads and merges report files.
pub fn read_reports(paths: &[PathBuf]) -> Result<Merged> {
    let mut merged = Merged::default();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let report: ReportFile = serde_json::from_str(&text).map_err(|e| Error::Parse {
            what: path.display().to_string(),
            reason: format!("not a drift report: {e}"),
        })?;
        if report.format != FORMAT {
            return Err(Error::Parse {
                what: path.display().to_string(),
                reason: format!("format {:?}, expected {FORMAT:?}", report.format),
            });
        }
        for id in report.spec_id.split('+').filter(|id| !id.is_empty()) {
            if !merged.spec_ids.iter().any(|known| known == id) {
                merged.spec_ids.push(id.to_string());
            }
        }
        for c in report.findings {
            let entry = merged.findings.entry(c.finding).or_insert((0, u64::MAX, 0));
            entry.0 = entry.0.saturating_add(c.count);
            entry.1 = entry.1.min(c.first_seen);
            entry.2 = entry.2.max(c.last_seen);
        }
    }
    Ok(merged)
}

/// One line per finding, most frequent first.
pub fn summary(merged: &Merged) -> String {
    let mut rows: Vec<(&Finding, &(u64, u64, u64))> = merged.findings.iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(b.0)));
    let mut out = format!(
        "{} distinct findings in reports made against spec {}\n",
        rows.len(),
        merged.spec_ids.join(", ")
    );
    for (finding, (count, first, last)) in rows {
        out.push_str(&format!(
            "{count:>8}×  {}  (first {first}, last {last})\n",
            finding.describe()
        ));
    }
    out
}

/// The proposal for one document.
#[derive(Debug)]
pub struct Proposal {
    /// `backpack.yaml` or `webhooks.yaml`.
    pub document: &'static str,
    /// The overlay (YAML text, the format of `spec/overlays/`), `None` when nothing applies.
    pub overlay: Option<String>,
    /// Findings no overlay action can express, with why.
    pub by_hand: Vec<String>,
    /// The `xtask diff` output of applying the overlay.
    pub verdict: String,
    /// Whether any generated crate would need a major release.
    pub major: bool,
}

/// The document as the overlays see it: 3.0 form, the existing overlays applied.
fn overlaid(root: &Path, document: &str, overlays: &[Overlay]) -> Result<Value> {
    let raw = load::read_document(&root.join("spec").join(document))?;
    let mut doc = downconvert::to_openapi_30(raw);
    overlay::apply_all(&mut doc, document, overlays)?;
    Ok(doc)
}

/// Builds the proposals for the spec under `root`.
pub fn propose(root: &Path, merged: &Merged) -> Result<Vec<Proposal>> {
    let overlays = overlay::load_overlays(&root.join("spec/overlays"))?;
    let mut out = Vec::new();
    for document in [BACKPACK, WEBHOOKS] {
        let findings: Vec<&Finding> = merged
            .findings
            .keys()
            .filter(|f| f.document() == document)
            .collect();
        if findings.is_empty() {
            continue;
        }
        let doc = overlaid(root, document, &overlays)?;
        let mut updates: BTreeMap<String, Value> = BTreeMap::new();
        let mut removals: Vec<String> = Vec::new();
        let mut by_hand = Vec::new();
        for f in findings {
            match action(&doc, f) {
                Ok(Action::Update(pointer, update)) => {
                    merge_update(updates.entry(pointer).or_insert(json!({})), &update);
                }
                Ok(Action::Remove(target)) => removals.push(target),
                Err(why) => by_hand.push(format!("{}: {why}", f.describe())),
            }
        }
        let mut actions: Vec<Value> = updates
            .into_iter()
            .map(|(pointer, update)| {
                json!({"description": OBSERVED, "target": json_path(&doc, &pointer), "update": update})
            })
            .collect();
        actions.extend(removals.into_iter().map(|target| {
            json!({"description": format!("{OBSERVED} A required property was missing."), "target": target, "remove": true})
        }));
        if actions.is_empty() {
            out.push(Proposal {
                document,
                overlay: None,
                by_hand,
                verdict: String::new(),
                major: false,
            });
            continue;
        }
        let overlay_value = json!({
            "overlay": "1.0.0",
            "info": {"title": format!("Drift watch proposal for {document}"), "version": "1.0.0"},
            "extends": document,
            "actions": actions,
        });
        let text = format!(
            "# Proposed by `cargo xtask drift` from drift reports: review each action, then `cargo xtask regen`.\n{}",
            serde_norway::to_string(&overlay_value).map_err(|e| Error::Other(e.to_string()))?
        );
        let mut parsed: Overlay = serde_norway::from_str(&text).map_err(|e| Error::Parse {
            what: "proposed overlay".into(),
            reason: e.to_string(),
        })?;
        parsed.file = format!("drift proposal for {document}");
        let mut new = doc.clone();
        overlay::apply(&mut new, &parsed)?;
        let changes = diff_values(&comparable(doc)?, &comparable(new)?);
        out.push(Proposal {
            document,
            overlay: Some(text),
            by_hand,
            verdict: render(&changes),
            major: crate::diff::needs_major(&changes),
        });
    }
    Ok(out)
}

enum Action {
    /// Deep-merge this update into the node at this JSON pointer.
    Update(String, Value),
    /// Remove what this JSONPath selects.
    Remove(String),
}

/// One step of a finding's path.
#[derive(Debug, PartialEq)]
enum Step {
    Member(String),
    Items,
}

fn steps(path: &str) -> std::result::Result<Vec<Step>, String> {
    let rest = path
        .strip_prefix('$')
        .ok_or_else(|| format!("path {path:?} does not start with $"))?;
    let mut out = Vec::new();
    for part in rest.split('.').skip(1) {
        let (name, mut arrays) = match part.find("[]") {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        out.push(Step::Member(name.to_string()));
        while let Some(tail) = arrays.strip_prefix("[]") {
            out.push(Step::Items);
            arrays = tail;
        }
    }
    if let Some(tail) = rest.split('.').next()
        && !tail.is_empty()
    {
        // `$[]…`: the body is an array.
        let mut arrays = tail;
        let mut lead = Vec::new();
        while let Some(t) = arrays.strip_prefix("[]") {
            lead.push(Step::Items);
            arrays = t;
        }
        lead.extend(out);
        out = lead;
    }
    Ok(out)
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows `$ref`s from `pointer`.
fn deref(doc: &Value, mut pointer: String) -> String {
    for _ in 0..16 {
        let Some(reference) = doc
            .pointer(&pointer)
            .and_then(|n| n.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        else {
            break;
        };
        pointer = reference.to_string();
    }
    pointer
}

/// The pointer of the schema slot `steps` leads to from `start` (the slot itself: a `$ref` at
/// the end is not followed), looking into `allOf`/`oneOf`/`anyOf` parts.
fn locate(doc: &Value, start: &str, steps: &[Step]) -> Option<String> {
    let Some((first, rest)) = steps.split_first() else {
        return Some(start.to_string());
    };
    let here = deref(doc, start.to_string());
    let node = doc.pointer(&here)?;
    let direct = match first {
        Step::Member(name) => node
            .get("properties")
            .and_then(|p| p.get(name))
            .map(|_| format!("{here}/properties/{}", escape(name))),
        Step::Items => node.get("items").map(|_| format!("{here}/items")),
    };
    if let Some(next) = direct {
        return locate(doc, &next, rest);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for i in 0..node.get(key).and_then(Value::as_array).map_or(0, Vec::len) {
            if let Some(found) = locate(doc, &format!("{here}/{key}/{i}"), steps) {
                return Some(found);
            }
        }
    }
    None
}

/// The body schema pointer of a finding's response or webhook.
fn body_schema(doc: &Value, f: &Finding) -> std::result::Result<String, String> {
    if let Some(op_id) = &f.operation {
        let (path, method) = doc
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .find_map(|(path, item)| {
                METHODS.into_iter().find_map(|m| {
                    (item.get(m)?.get("operationId")?.as_str()? == op_id).then_some((path, m))
                })
            })
            .ok_or_else(|| format!("operation {op_id} is not in the document"))?;
        let responses = format!("/paths/{}/{method}/responses", escape(path));
        let status = f.status.as_deref().unwrap_or_default();
        let response = [status, "default"]
            .into_iter()
            .map(|s| format!("{responses}/{}", escape(s)))
            .find(|p| doc.pointer(p).is_some())
            .ok_or_else(|| format!("response {status} is not in the document"))?;
        let response = deref(doc, response);
        let content = doc
            .pointer(&format!("{response}/content"))
            .and_then(Value::as_object)
            .and_then(|c| c.keys().find(|k| crate::openapi::is_json(k)))
            .ok_or_else(|| format!("response {status} has no JSON body"))?;
        return Ok(format!("{response}/content/{}/schema", escape(content)));
    }
    let kind = f.notification_type.as_deref().unwrap_or_default();
    for (name, item) in doc
        .get("x-webhooks")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in METHODS {
            let Some(content) = item
                .get(method)
                .and_then(|op| op.pointer("/requestBody/content"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            let Some(media) = content.keys().next() else {
                continue;
            };
            let pointer = format!(
                "/x-webhooks/{}/{method}/requestBody/content/{}/schema",
                escape(name),
                escape(media)
            );
            let schema = doc.pointer(&deref(doc, pointer.clone()));
            let value = schema.and_then(|s| s.pointer("/properties/notification_type/enum/0"));
            if value.and_then(Value::as_str) == Some(kind) {
                return Ok(pointer);
            }
        }
    }
    Err(format!("webhook {kind} is not in the document"))
}

/// A schema for a value of JSON type `seen`.
fn schema_of(seen: &str) -> Value {
    match seen {
        "array" => json!({"type": "array", "items": {}}),
        "null" => json!({"nullable": true}),
        other => json!({"type": other}),
    }
}

fn action(doc: &Value, f: &Finding) -> std::result::Result<Action, String> {
    if f.kind == "undocumented_status" {
        let mut probe = f.clone();
        probe.status = Some("default".into());
        let op = f.operation.as_deref().unwrap_or_default();
        let pointer = body_schema(doc, &probe)
            .ok()
            .and_then(|p| p.split("/responses/").next().map(str::to_string))
            .or_else(|| {
                doc.get("paths")?
                    .as_object()?
                    .iter()
                    .find_map(|(path, item)| {
                        METHODS.into_iter().find_map(|m| {
                            (item.get(m)?.get("operationId")?.as_str()? == op)
                                .then(|| format!("/paths/{}/{m}", escape(path)))
                        })
                    })
            })
            .ok_or_else(|| format!("operation {op} is not in the document"))?;
        let status = f.status.clone().unwrap_or_default();
        let operation = pointer
            .strip_suffix("/responses")
            .unwrap_or(&pointer)
            .to_string();
        return Ok(Action::Update(
            operation,
            json!({"responses": {status: {"description": format!("{OBSERVED} Body not recorded.")}}}),
        ));
    }
    match f.kind.as_str() {
        "unknown_notification_type" => {
            return Err(
                "a new webhook type: add it with its schema by hand (the watch records no body)"
                    .into(),
            );
        }
        "undocumented_content_type" => {
            return Err(
                "a media type: the generators read JSON bodies only; note it in spec/NOTES.md"
                    .into(),
            );
        }
        _ => {}
    }
    let start = body_schema(doc, f)?;
    let all = steps(&f.path)?;
    let not_found = || format!("{} is not in the schema", f.path);
    match f.kind.as_str() {
        "unknown_property" => {
            let (last, parent) = all.split_last().ok_or_else(not_found)?;
            let Step::Member(name) = last else {
                return Err(not_found());
            };
            if name == "*" {
                return Err("the name is not an identifier (hidden by the watch): look at the traffic by hand".into());
            }
            let parent = deref(doc, locate(doc, &start, parent).ok_or_else(not_found)?);
            let mut schema = schema_of(f.seen.as_deref().unwrap_or("object"));
            if let Some(map) = schema.as_object_mut() {
                map.insert("description".into(), Value::String(OBSERVED.into()));
            }
            Ok(Action::Update(
                parent,
                json!({"properties": {name: schema}}),
            ))
        }
        "missing_required" => {
            let (last, parent) = all.split_last().ok_or_else(not_found)?;
            let Step::Member(name) = last else {
                return Err(not_found());
            };
            let parent = deref(doc, locate(doc, &start, parent).ok_or_else(not_found)?);
            Ok(Action::Remove(format!(
                "{}['required'][?@ == '{}']",
                json_path(doc, &parent),
                name.replace('\'', "\\'")
            )))
        }
        "type_mismatch" => {
            let slot = locate(doc, &start, &all).ok_or_else(not_found)?;
            let node = doc.pointer(&slot).cloned().unwrap_or(Value::Null);
            let seen = f.seen.as_deref().unwrap_or_default();
            if seen == "null" {
                return Ok(Action::Update(slot, json!({"nullable": true})));
            }
            // A number where a `String` field is declared: the field stays `String` and also
            // reads the number (`x-backpack-also-accepts`), an additive change.
            if ACCEPTABLE.contains(&seen) && also_accepts::applies(&node) {
                let mut listed = node
                    .get(ALSO_ACCEPTS)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if !listed.iter().any(|t| t == seen) {
                    listed.push(Value::String(seen.to_string()));
                }
                return Ok(Action::Update(slot, json!({ ALSO_ACCEPTS: listed })));
            }
            let mut update = Map::new();
            let mut alternatives = match node.get("oneOf").or_else(|| node.get("anyOf")) {
                Some(Value::Array(parts)) => parts.clone(),
                _ => {
                    let mut old = node.as_object().cloned().unwrap_or_default();
                    for key in old.keys() {
                        if key != "description" {
                            update.insert(key.clone(), Value::Null);
                        }
                    }
                    old.shift_remove("description");
                    vec![Value::Object(old)]
                }
            };
            alternatives.push(json!({"type": seen}));
            update.insert("oneOf".into(), Value::Array(alternatives));
            Ok(Action::Update(slot, Value::Object(update)))
        }
        "unknown_enum_value" => {
            let slot = locate(doc, &start, &all).ok_or_else(not_found)?;
            let target = deref(doc, slot);
            let node = doc.pointer(&target).ok_or_else(not_found)?;
            let mut values = node
                .get("enum")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| format!("{} has no enum", f.path))?;
            let text = f.value.clone().unwrap_or_default();
            let value = match f.seen.as_deref() {
                Some("string") | None => Value::String(text),
                Some(_) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
            };
            if !values.contains(&value) {
                values.push(value);
            }
            Ok(Action::Update(target, json!({"enum": values})))
        }
        other => Err(format!("unknown finding kind {other:?}")),
    }
}

/// Merges a second update for the same node: objects merge, `enum`/`oneOf` lists are joined.
fn merge_update(into: &mut Value, update: &Value) {
    match (into, update) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match (a.get_mut(k), v) {
                    (Some(Value::Array(old)), Value::Array(new)) => {
                        for item in new {
                            if !old.contains(item) {
                                old.push(item.clone());
                            }
                        }
                    }
                    (Some(old @ Value::Object(_)), Value::Object(_)) => merge_update(old, v),
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// A JSON pointer as an RFC 9535 JSONPath in bracket notation (array indices as numbers).
fn json_path(doc: &Value, pointer: &str) -> String {
    let mut out = String::from("$");
    let mut node = Some(doc);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let is_index = matches!(node, Some(Value::Array(_)));
        if is_index {
            out.push_str(&format!("[{segment}]"));
        } else {
            out.push_str(&format!(
                "['{}']",
                segment.replace('\\', "\\\\").replace('\'', "\\'")
            ));
        }
        node = node.and_then(|n| match n {
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            other => other.get(&segment),
        });
    }
    out
}

/// The first free `90-drift-<doc>-N.yaml` in `dir`.
fn free_name(dir: &Path, document: &str) -> PathBuf {
    let stem = document.trim_end_matches(".yaml");
    (1..)
        .map(|n| dir.join(format!("90-drift-{stem}-{n}.yaml")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("90-drift-{stem}.yaml")))
}

/// `cargo xtask drift FILE…`: summary, overlays written into `out_dir` (default
/// `spec/overlays/`), verdicts. Returns the overlay files written.
pub fn run(root: &Path, files: &[PathBuf], out_dir: Option<&Path>) -> Result<Vec<PathBuf>> {
    let merged = read_reports(files)?;
    print!("{}", summary(&merged));
    if merged.findings.is_empty() {
        println!("nothing to propose: the traffic matched spec/");
        return Ok(Vec::new());
    }
    let current = current_spec_id(root)?;
    if merged.spec_ids.iter().any(|id| *id != current) {
        println!(
            "note: some reports were made against another spec (current: {current}); findings fixed since then show up again"
        );
    }
    let dir = out_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("spec/overlays"));
    let mut written = Vec::new();
    for proposal in propose(root, &merged)? {
        println!("\n== {} ==", proposal.document);
        for line in &proposal.by_hand {
            println!("by hand: {line}");
        }
        let Some(text) = &proposal.overlay else {
            continue;
        };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = free_name(&dir, proposal.document);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        println!("wrote {}", path.display());
        println!(
            "verdict of applying it (`cargo xtask diff`):\n{}",
            proposal.verdict
        );
        written.push(path);
    }
    println!("review the overlays, then run `cargo xtask regen`");
    Ok(written)
}

/// The `SPEC_ID` regen would write for the tree at `root`.
pub fn current_spec_id(root: &Path) -> Result<String> {
    let overlays = overlay::load_overlays(&root.join("spec/overlays"))?;
    let backpack = crate::regen::read_prepared(root, BACKPACK, &overlays)?;
    let webhooks = crate::regen::read_prepared(root, WEBHOOKS, &overlays)?;
    crate::codegen::drift::spec_id(&backpack, &webhooks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_steps() {
        assert_eq!(
            steps("$.a.b[].c").unwrap(),
            vec![
                Step::Member("a".into()),
                Step::Member("b".into()),
                Step::Items,
                Step::Member("c".into())
            ]
        );
        assert_eq!(
            steps("$[].x").unwrap(),
            vec![Step::Items, Step::Member("x".into())]
        );
        assert_eq!(steps("$").unwrap(), vec![]);
    }

    #[test]
    fn pointers_become_json_paths() {
        let doc = json!({"paths": {"/a/{b}": {"get": {"x": [0, {"y": 1}]}}}});
        assert_eq!(
            json_path(&doc, "/paths/~1a~1{b}/get/x/1/y"),
            "$['paths']['/a/{b}']['get']['x'][1]['y']"
        );
    }
}
