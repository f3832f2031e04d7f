//! `cargo xtask diff OLD NEW`: a semantic changelog between two versions of a document — operations,
//! parameters, bodies, status codes, schemas, fields, required flags, types and enum values — one line
//! per change, each marked `BREAKING` or `non-breaking` for the HTTP contract, followed by the release
//! each generated crate needs (`major`/`minor`/`patch`/`none`) with the reason for every change.
//!
//! The Rust rules live in `docs/semver.md`; the comments below name the generated shape each rule
//! relies on.

use crate::codegen::also_accepts;
use crate::openapi::{effective_parameters, operations, resolve};
use crate::{Error, Result, downconvert, inline_schemas, load, overlay};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A generated crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Crate {
    /// `backpack-types` (component schemas and webhook event enums of both documents).
    Types,
    /// `backpack-client` (progenitor builder client for `paths` of `backpack.yaml`).
    Client,
    /// `backpack-server` (the `BackpackApi` trait for `paths` of `backpack.yaml`).
    Server,
    /// `backpack-httpmock` (progenitor's typed httpmock mocks for `paths` of `backpack.yaml`).
    Httpmock,
}

impl Crate {
    /// Every generated crate, in report order.
    pub const ALL: [Crate; 4] = [Crate::Types, Crate::Client, Crate::Server, Crate::Httpmock];

    /// The package name.
    pub fn name(self) -> &'static str {
        match self {
            Crate::Types => "backpack-types",
            Crate::Client => "backpack-client",
            Crate::Server => "backpack-server",
            Crate::Httpmock => "backpack-httpmock",
        }
    }
}

/// The release a crate needs, ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Release {
    /// Its generated code does not change.
    None,
    /// Its generated code changes, its API does not (documentation, URLs, wire details).
    Patch,
    /// Its API grows compatibly.
    Minor,
    /// Code that compiled and worked against the old release may not against the new one.
    Major,
}

impl Release {
    /// `none`, `patch`, `minor` or `major`.
    pub fn as_str(self) -> &'static str {
        match self {
            Release::None => "none",
            Release::Patch => "patch",
            Release::Minor => "minor",
            Release::Major => "major",
        }
    }
}

/// What one change means for one crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    /// The crate.
    pub krate: Crate,
    /// The release it needs for this change alone.
    pub release: Release,
    /// Why, when the change text alone does not say it (e.g. a break that only shows at run time).
    pub note: &'static str,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Whether a client of the HTTP contract written against OLD may fail against NEW.
    pub breaking: bool,
    /// `operation create-game`, `schema Payment`, …
    pub subject: String,
    /// What changed.
    pub what: String,
    /// The effect on each generated crate (a crate not listed: none).
    pub effects: Vec<Effect>,
}

impl Change {
    /// The release `krate` needs for this change alone.
    pub fn release(&self, krate: Crate) -> Release {
        self.effects
            .iter()
            .filter(|e| e.krate == krate)
            .map(|e| e.release)
            .max()
            .unwrap_or(Release::None)
    }
}

/// The release one crate needs, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateVerdict {
    /// The crate.
    pub krate: Crate,
    /// What its own generated API needs (what `cargo semver-checks` can see).
    pub own: Release,
    /// What it needs including a major release of a public dependency (`backpack-types`).
    pub release: Release,
    /// `(release, reason)`, most severe first.
    pub reasons: Vec<(Release, String)>,
}

/// The release every generated crate needs.
pub fn verdict(changes: &[Change]) -> Vec<CrateVerdict> {
    let mut out: Vec<CrateVerdict> = Crate::ALL
        .iter()
        .map(|&krate| {
            let mut reasons: Vec<(Release, String)> = changes
                .iter()
                .filter_map(|c| {
                    let e = c
                        .effects
                        .iter()
                        .filter(|e| e.krate == krate)
                        .max_by_key(|e| e.release)?;
                    let note = if e.note.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", e.note)
                    };
                    Some((e.release, format!("{}: {}{note}", c.subject, c.what)))
                })
                .collect();
            reasons.sort_by_key(|(r, _)| std::cmp::Reverse(*r));
            let own = reasons.first().map(|(r, _)| *r).unwrap_or(Release::None);
            CrateVerdict {
                krate,
                own,
                release: own,
                reasons,
            }
        })
        .collect();
    // The client, the server and the mocks expose backpack-types' types in their signatures (and
    // the first two re-export them), so a new major of backpack-types is a new major of theirs
    // (docs/semver.md, "public dependency").
    if out[0].release == Release::Major {
        for v in &mut out[1..] {
            if v.release < Release::Major {
                v.reasons.insert(
                    0,
                    (
                        Release::Major,
                        format!(
                            "its public API uses backpack-types, which needs a major release \
                             (own API: {})",
                            v.own.as_str()
                        ),
                    ),
                );
                v.release = Release::Major;
            }
        }
    }
    out
}

/// Whether any generated crate needs a major release (`diff` then exits 1).
pub fn needs_major(changes: &[Change]) -> bool {
    verdict(changes).iter().any(|v| v.release == Release::Major)
}

/// Renders changes one per line, breaking first, then one line per generated crate with the release
/// it needs and one indented line per reason.
pub fn render(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no semantic changes\n".into();
    }
    let mut out = String::new();
    for c in changes
        .iter()
        .filter(|c| c.breaking)
        .chain(changes.iter().filter(|c| !c.breaking))
    {
        let mark = if c.breaking {
            "BREAKING    "
        } else {
            "non-breaking"
        };
        out.push_str(&format!("{mark} {}: {}\n", c.subject, c.what));
    }
    out.push_str("\nrelease needed per generated crate (rules: docs/semver.md):\n");
    for v in verdict(changes) {
        let own = if v.own == v.release {
            String::new()
        } else {
            format!(" (own API: {})", v.own.as_str())
        };
        out.push_str(&format!(
            "{}: {}{own}\n",
            v.krate.name(),
            v.release.as_str()
        ));
        for (release, reason) in &v.reasons {
            out.push_str(&format!("  {:<5}  {reason}\n", release.as_str()));
        }
    }
    out
}

/// Diffs two files; `overlays` (Overlay files) are applied to NEW when they extend NEW's file name.
pub fn diff_files(old: &Path, new: &Path, overlays: &[overlay::Overlay]) -> Result<Vec<Change>> {
    let mut new_doc = downconvert::to_openapi_30(load::read_document(new)?);
    if !overlays.is_empty() {
        let name = new
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(o) = overlays.iter().find(|o| o.extends != name) {
            return Err(Error::Other(format!(
                "overlay {} extends {}, but NEW is {name}",
                o.file, o.extends
            )));
        }
        overlay::apply_all(&mut new_doc, &name, overlays)?;
    }
    Ok(diff_values(
        &comparable(load::read_document(old)?)?,
        &comparable(new_doc)?,
    ))
}

/// The form both sides are compared in: 3.0, inline schemas named.
pub fn comparable(doc: Value) -> Result<Value> {
    let mut doc = downconvert::to_openapi_30(doc);
    inline_schemas::hoist(&mut doc)?;
    Ok(doc)
}

/// Diffs two comparable documents.
pub fn diff_values(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    diff_operations(old, new, &mut changes);
    diff_schemas(old, new, &mut changes);
    other_changes(old, new, &mut changes);
    changes
}

use Crate::{Client, Httpmock, Server, Types};
use Release::{Major, Minor, Patch};

const RUNTIME: &str = "compiles unchanged, but `send()` without it now returns an error";
const NON_EXHAUSTIVE: &str = "the Rust type is #[non_exhaustive]";
// progenitor's httpmock generator: one method per operation on the public, unsealed trait
// `MockServerExt`, one `When` method per parameter and body, one `Then` method per status.
const MOCK_TRAIT: &str = "a new required method of the public trait `MockServerExt`";

fn eff(krate: Crate, release: Release) -> Effect {
    Effect {
        krate,
        release,
        note: "",
    }
}

fn eff_note(krate: Crate, release: Release, note: &'static str) -> Effect {
    Effect {
        krate,
        release,
        note,
    }
}

fn change(
    changes: &mut Vec<Change>,
    breaking: bool,
    subject: &str,
    what: String,
    effects: Vec<Effect>,
) {
    changes.push(Change {
        breaking,
        subject: subject.to_string(),
        what,
        effects,
    });
}

/// operationId → (section, `METHOD path`, operation, its parameters with the path item's).
type OpMap<'a> = BTreeMap<String, (&'static str, String, &'a Value, Params)>;

fn op_map(doc: &Value) -> OpMap<'_> {
    operations(doc)
        .into_iter()
        .map(|o| {
            let place = format!("{} {}", o.method.to_uppercase(), o.path);
            let key =
                o.op.get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| place.clone());
            let params = params(doc, o.path, o.op);
            (key, (o.section, place, o.op, params))
        })
        .collect()
}

fn diff_operations(old: &Value, new: &Value, changes: &mut Vec<Change>) {
    let (a, b) = (op_map(old), op_map(new));
    for (id, (section, place, _, _)) in &a {
        if !b.contains_key(id) {
            let effects = if *section == "paths" {
                vec![eff(Client, Major), eff(Server, Major), eff(Httpmock, Major)]
            } else {
                // Its variant leaves the webhook event enum.
                vec![eff(Types, Major)]
            };
            let subject = format!("operation {id}");
            change(
                changes,
                true,
                &subject,
                format!("removed ({place})"),
                effects,
            );
        }
    }
    for (id, (section, place, op_b, params_b)) in &b {
        let subject = format!("operation {id}");
        let Some((_, place_a, op_a, params_a)) = a.get(id) else {
            let effects = if *section == "paths" {
                // A new client method and a new trait method with a default body; the mocks'
                // trait gains a method without one, which breaks any implementation of it.
                vec![
                    eff(Client, Minor),
                    eff(Server, Minor),
                    eff_note(Httpmock, Major, MOCK_TRAIT),
                ]
            } else {
                vec![eff_note(Types, Minor, NON_EXHAUSTIVE)]
            };
            change(
                changes,
                false,
                &subject,
                format!("added ({place})"),
                effects,
            );
            continue;
        };
        if *section != "paths" {
            // A webhook: only its payload type reaches Rust (the event enum's variant).
            let (ba, bb) = (body(old, op_a), body(new, op_b));
            if ba.as_ref().map(|b| &b.1) != bb.as_ref().map(|b| &b.1) {
                let what = format!("payload {} → {}", show_body(&ba), show_body(&bb));
                change(changes, true, &subject, what, vec![eff(Types, Major)]);
            }
            continue;
        }
        if place_a != place {
            // Same method name and signature; only the URL the client calls changes.
            let what = format!("moved from {place_a} to {place}");
            change(
                changes,
                true,
                &subject,
                what,
                vec![eff(Client, Patch), eff(Server, Patch), eff(Httpmock, Patch)],
            );
        }
        diff_security(security(old, op_a), security(new, op_b), &subject, changes);
        diff_parameters(params_a, params_b, &subject, changes);
        diff_body(body(old, op_a), body(new, op_b), &subject, changes);
        diff_responses(old, new, op_a, op_b, &subject, changes);
    }
}

/// `(required, type)` of an operation's request body.
fn body(doc: &Value, op: &Value) -> Option<(bool, String)> {
    let rb = resolve(doc, op.get("requestBody")?);
    let media = rb
        .get("content")
        .and_then(Value::as_object)?
        .values()
        .next()?;
    let required = rb.get("required").and_then(Value::as_bool).unwrap_or(false);
    Some((
        required,
        describe(doc, media.get("schema").unwrap_or(&Value::Null)),
    ))
}

fn show_body(b: &Option<(bool, String)>) -> String {
    b.as_ref()
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| "none".into())
}

fn diff_body(
    a: Option<(bool, String)>,
    b: Option<(bool, String)>,
    subject: &str,
    changes: &mut Vec<Change>,
) {
    let what = format!("request body {} → {}", show_body(&a), show_body(&b));
    match (&a, &b) {
        (None, None) => {}
        (None, Some((required, _))) => {
            let (client, server) = if *required {
                (eff_note(Client, Major, RUNTIME), eff(Server, Major))
            } else {
                (eff(Client, Minor), eff(Server, Minor))
            };
            // A new `body` method on the operation's `When`.
            let mock = eff(Httpmock, Minor);
            change(
                changes,
                *required,
                subject,
                what,
                vec![client, server, mock],
            );
        }
        (Some(_), None) => {
            change(
                changes,
                true,
                subject,
                what,
                vec![eff(Client, Major), eff(Server, Major), eff(Httpmock, Major)],
            );
        }
        (Some((ra, ta)), Some((rb, tb))) => {
            if ta != tb {
                let effects = vec![eff(Client, Major), eff(Server, Major), eff(Httpmock, Major)];
                change(changes, true, subject, what, effects);
            } else if ra != rb {
                let now = if *rb { "required" } else { "optional" };
                let what = format!("request body is now {now}");
                let client = if *rb {
                    eff_note(Client, Major, RUNTIME)
                } else {
                    eff(Client, Patch)
                };
                change(
                    changes,
                    *rb,
                    subject,
                    what,
                    vec![client, eff(Server, Major)],
                );
            }
        }
    }
}

/// status → body type (`None`: no body).
fn responses(doc: &Value, op: &Value) -> BTreeMap<String, Option<String>> {
    op.get("responses")
        .and_then(Value::as_object)
        .map(|r| {
            r.iter()
                .map(|(status, resp)| {
                    let resp = resolve(doc, resp);
                    let ty = resp
                        .get("content")
                        .and_then(Value::as_object)
                        .and_then(|c| c.values().next())
                        .map(|m| describe(doc, m.get("schema").unwrap_or(&Value::Null)));
                    (status.clone(), ty)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn diff_responses(
    old: &Value,
    new: &Value,
    op_a: &Value,
    op_b: &Value,
    subject: &str,
    changes: &mut Vec<Change>,
) {
    let (sa, sb) = (responses(old, op_a), responses(new, op_b));
    // progenitor gives each operation one success type and one error type, from the bodies of its
    // 2xx and of its other statuses; the client's signature changes exactly when those sets do.
    let classes = |s: &BTreeMap<String, Option<String>>| {
        let mut ok = BTreeSet::new();
        let mut err = BTreeSet::new();
        for (status, ty) in s {
            if status.starts_with('2') {
                ok.insert(ty.clone());
            } else {
                err.insert(ty.clone());
            }
        }
        (ok, err)
    };
    let client = if classes(&sa) == classes(&sb) {
        // Same signature; a status that surfaced as `UnexpectedResponse` is now typed (or back).
        eff(Client, Minor)
    } else {
        eff_note(
            Client,
            Major,
            "the operation's success or error type in the client changes",
        )
    };
    for (status, ty) in &sa {
        match sb.get(status) {
            None => change(
                changes,
                true,
                subject,
                format!("response {status} removed"),
                vec![client.clone(), eff(Server, Major), eff(Httpmock, Major)],
            ),
            Some(other) if other != ty => change(
                changes,
                true,
                subject,
                format!("response {status} body {} → {}", opt(ty), opt(other)),
                vec![
                    eff_note(
                        Client,
                        Major,
                        "the operation's success or error type in the client changes",
                    ),
                    eff(Server, Major),
                    eff(Httpmock, Major),
                ],
            ),
            Some(_) => {}
        }
    }
    for status in sb.keys().filter(|s| !sa.contains_key(*s)) {
        change(
            changes,
            false,
            subject,
            format!("response {status} added"),
            vec![
                client.clone(),
                eff_note(Server, Minor, "the response enum is #[non_exhaustive]"),
                eff_note(Httpmock, Minor, "a new method on the operation's `Then`"),
            ],
        );
    }
}

/// The security requirements that apply to an operation: its own, or the document's.
fn security<'a>(doc: &'a Value, op: &'a Value) -> Option<&'a Value> {
    op.get("security").or_else(|| doc.get("security"))
}

/// Whether an operation requires no credential: no requirement, or an empty one (`{}`) among them.
fn anonymous(security: Option<&Value>) -> bool {
    match security.and_then(Value::as_array) {
        None => true,
        Some(reqs) => {
            reqs.is_empty()
                || reqs
                    .iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
        }
    }
}

fn diff_security(sa: Option<&Value>, sb: Option<&Value>, subject: &str, changes: &mut Vec<Change>) {
    if sa == sb {
        return;
    }
    let show = |s: Option<&Value>| s.map_or_else(|| "none".to_string(), Value::to_string);
    let what = format!("security {} → {}", show(sa), show(sb));
    // The server checks credentials itself and hands them to the method in its input struct
    // (`BearerToken`), so the input's fields change. progenitor and its httpmock generator ignore
    // security; the SDK adds the token whatever the spec says.
    let newly_required = anonymous(sa) && !anonymous(sb);
    change(
        changes,
        newly_required,
        subject,
        what,
        vec![
            eff_note(
                Server,
                Major,
                "the operation's input struct gains or loses its credential",
            ),
            eff(Client, Patch),
        ],
    );
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "none".into())
}

/// `in name` → (required, type).
type Params = BTreeMap<String, (bool, String)>;

/// An operation's parameters, the path item's included (what the generators see). One whose
/// `$ref` does not resolve is left out: the document fails validation before it is generated.
fn params(doc: &Value, path: &str, op: &Value) -> Params {
    effective_parameters(doc, path, op)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?;
            let place = p.get("in").and_then(Value::as_str).unwrap_or("?");
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            Some((
                format!("{place} {name}"),
                (
                    required,
                    describe(doc, p.get("schema").unwrap_or(&Value::Null)),
                ),
            ))
        })
        .collect()
}

/// How one named member (parameter or field) changed.
enum Member {
    Removed,
    Added { required: bool },
    NowRequired(bool),
    Retyped,
}

/// Compares members given as name → (required, type). The nullable mark (`?`) of a member that is
/// optional on both sides is ignored: it is `Option<T>` in Rust either way.
fn members(
    noun: &str,
    a: &BTreeMap<String, (bool, String)>,
    b: &BTreeMap<String, (bool, String)>,
) -> Vec<(Member, String)> {
    let mut out = Vec::new();
    for (name, (req_a, ty_a)) in a {
        match b.get(name) {
            None => out.push((Member::Removed, format!("{noun} {name} removed"))),
            Some((req_b, ty_b)) => {
                if req_a != req_b {
                    let now = if *req_b { "required" } else { "optional" };
                    out.push((
                        Member::NowRequired(*req_b),
                        format!("{noun} {name} is now {now}"),
                    ));
                }
                let same = if !req_a && !req_b {
                    ty_a.trim_end_matches('?') == ty_b.trim_end_matches('?')
                } else {
                    ty_a == ty_b
                };
                if !same {
                    out.push((
                        Member::Retyped,
                        format!("{noun} {name} type {ty_a} → {ty_b}"),
                    ));
                }
            }
        }
    }
    for (name, (required, ty)) in b.iter().filter(|(n, _)| !a.contains_key(*n)) {
        let kind = if *required { "required" } else { "optional" };
        out.push((
            Member::Added {
                required: *required,
            },
            format!("{noun} {name} added ({kind}, {ty})"),
        ));
    }
    out
}

fn diff_parameters(
    a: &BTreeMap<String, (bool, String)>,
    b: &BTreeMap<String, (bool, String)>,
    subject: &str,
    changes: &mut Vec<Change>,
) {
    // Client: a builder method per parameter, checked at `send()`. Server: a field per parameter in
    // the operation's #[non_exhaustive] input struct, required ones in its `new(…)`. Mocks: a
    // `When` method per parameter, taking `T` when required and `impl Into<Option<T>>` when not.
    for (member, what) in members("parameter", a, b) {
        let (breaking, client, server, mock) = match member {
            Member::Removed => (
                true,
                eff(Client, Major),
                eff(Server, Major),
                eff(Httpmock, Major),
            ),
            Member::Added { required: true } => (
                true,
                eff_note(Client, Major, RUNTIME),
                eff_note(Server, Major, "the input's `new(…)` gains it"),
                eff(Httpmock, Minor),
            ),
            Member::Added { required: false } => (
                false,
                eff(Client, Minor),
                eff_note(Server, Minor, "a new `with_…` on the input"),
                eff(Httpmock, Minor),
            ),
            Member::NowRequired(true) => (
                true,
                eff_note(Client, Major, RUNTIME),
                eff(Server, Major),
                eff(Httpmock, Major),
            ),
            // Calls that set it keep working; the server's field goes from `T` to `Option<T>`.
            Member::NowRequired(false) => (
                false,
                eff(Client, Patch),
                eff(Server, Major),
                eff(Httpmock, Major),
            ),
            Member::Retyped => (
                true,
                eff(Client, Major),
                eff(Server, Major),
                eff(Httpmock, Major),
            ),
        };
        change(changes, breaking, subject, what, vec![client, server, mock]);
    }
}

fn diff_schemas(old: &Value, new: &Value, changes: &mut Vec<Change>) {
    let schemas = |doc: &Value| {
        doc.pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (a, b) = (schemas(old), schemas(new));
    for name in a.keys().filter(|n| !b.contains_key(*n)) {
        let subject = format!("schema {name}");
        change(
            changes,
            true,
            &subject,
            "removed".into(),
            vec![eff(Types, Major)],
        );
    }
    for (name, sb) in &b {
        let subject = format!("schema {name}");
        let Some(sa) = a.get(name) else {
            change(
                changes,
                false,
                &subject,
                "added".into(),
                vec![eff(Types, Minor)],
            );
            continue;
        };
        let (ta, tb) = (describe(old, sa), describe(new, sb));
        if ta != tb && !(ta.starts_with("object") && tb.starts_with("object")) {
            let what = format!("type {ta} → {tb}");
            change(changes, true, &subject, what, vec![eff(Types, Major)]);
        }
        let enum_values = |s: &Value| -> BTreeSet<String> {
            s.get("enum")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| v.to_string())
                .collect()
        };
        let (ea, eb) = (enum_values(sa), enum_values(sb));
        for v in ea.difference(&eb) {
            // The catch-all keeps the value readable at run time, but the variant is gone.
            let what = format!("enum value {v} removed");
            change(changes, true, &subject, what, vec![eff(Types, Major)]);
        }
        for v in eb.difference(&ea) {
            let what = format!("enum value {v} added");
            let effects = vec![eff_note(Types, Minor, NON_EXHAUSTIVE)];
            change(changes, false, &subject, what, effects);
        }
        // Structs: pub fields, `new(required…)`, `with_<optional>(v)`, #[non_exhaustive].
        for (member, what) in members("field", &fields(old, sa), &fields(new, sb)) {
            let (breaking, effect) = match member {
                Member::Added { required: false } => {
                    (false, eff_note(Types, Minor, "a new field and `with_…`"))
                }
                Member::Added { required: true } => {
                    (true, eff_note(Types, Major, "`new(…)` gains it"))
                }
                Member::NowRequired(true) => (
                    true,
                    eff_note(Types, Major, "`Option<T>` → `T`, and `new(…)` gains it"),
                ),
                Member::NowRequired(false) => (
                    true,
                    eff_note(Types, Major, "`T` → `Option<T>`, and `new(…)` loses it"),
                ),
                Member::Removed | Member::Retyped => (true, eff(Types, Major)),
            };
            change(changes, breaking, &subject, what, vec![effect]);
        }
        // `x-backpack-also-accepts`: the field keeps its type; only what it reads changes.
        for (prop, added, dropped) in also_accepts::property_changes(sa, sb) {
            if !added.is_empty() {
                let what = format!("field {prop} also reads {}", added.join(", "));
                let effects = vec![eff_note(Types, Minor, "its type stays `String`")];
                change(changes, false, &subject, what, effects);
            }
            if !dropped.is_empty() {
                let what = format!("field {prop} no longer reads {}", dropped.join(", "));
                let effects = vec![eff_note(Types, Major, "bodies it read now fail to parse")];
                change(changes, true, &subject, what, effects);
            }
        }
    }
}

fn fields(doc: &Value, schema: &Value) -> BTreeMap<String, (bool, String)> {
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), (required.contains(k.as_str()), describe(doc, v))))
        .collect()
}

/// The parts of a document each crate is generated from.
fn part_of(krate: Crate, doc: &Value) -> Value {
    let mut doc = doc.clone();
    let Some(top) = doc.as_object_mut() else {
        return Value::Null;
    };
    let schemas = top
        .get_mut("components")
        .and_then(Value::as_object_mut)
        .and_then(|c| c.shift_remove("schemas"));
    let webhooks = top.shift_remove("x-webhooks");
    match krate {
        Types => serde_json::json!({ "schemas": schemas, "webhooks": webhooks }),
        // Every schema becomes the backpack-types type of the same name in client and server;
        // the client's docs and `api_version()` also come from `info`.
        Client => doc,
        Server => {
            top.shift_remove("info");
            doc
        }
        // The mocks carry no documentation: only the operations' shapes reach their code.
        Httpmock => {
            let mut paths = top.shift_remove("paths").unwrap_or(Value::Null);
            strip_docs(&mut paths);
            paths
        }
    }
}

/// Removes what the mocks' generator ignores (documentation, examples, security) at every
/// depth; the keys of a `properties` map are property names, kept whatever they are called.
fn strip_docs(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for key in [
                "description",
                "summary",
                "example",
                "examples",
                "externalDocs",
                "security",
            ] {
                map.shift_remove(key);
            }
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value) {
                    ("properties", Value::Object(props)) => props.values_mut().for_each(strip_docs),
                    (_, value) => strip_docs(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_docs),
        _ => {}
    }
}

/// A crate whose inputs differ but that no classified change touches needs a patch release:
/// its generated code changes (documentation, examples, URLs…), its API does not.
fn other_changes(old: &Value, new: &Value, changes: &mut Vec<Change>) {
    let effects: Vec<Effect> = Crate::ALL
        .into_iter()
        .filter(|&k| !changes.iter().any(|c| c.release(k) > Release::None))
        .filter(|&k| part_of(k, old) != part_of(k, new))
        .map(|k| eff(k, Patch))
        .collect();
    if !effects.is_empty() {
        change(
            changes,
            false,
            "document",
            "descriptions, examples or other details without an API effect changed".into(),
            effects,
        );
    }
}

/// A short, comparable description of a schema's type (`string(uuid)?`, `array<Item>`, `A|B`).
pub fn describe(doc: &Value, schema: &Value) -> String {
    let _ = doc;
    let nullable = if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        "?"
    } else {
        ""
    };
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return format!("{}{nullable}", r.rsplit('/').next().unwrap_or(r));
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let inner: Vec<String> = parts.iter().map(|p| describe(doc, p)).collect();
        return format!("{}{nullable}", inner.join("&"));
    }
    if let Some(parts) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let inner: Vec<String> = parts.iter().map(|p| describe(doc, p)).collect();
        return format!("{}{nullable}", inner.join("|"));
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let base = match (ty, schema.get("format").and_then(Value::as_str)) {
        ("array", _) => format!(
            "array<{}>",
            describe(doc, schema.get("items").unwrap_or(&Value::Null))
        ),
        (t, Some(f)) => format!("{t}({f})"),
        (t, None) => t.to_string(),
    };
    format!("{base}{nullable}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(extra_field: bool, required_limit: bool, enum_values: &[&str]) -> Value {
        let mut props =
            json!({"id": {"type": "string"}, "kind": {"$ref": "#/components/schemas/Kind"}});
        if extra_field {
            props["name"] = json!({"type": "string"});
        }
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {"/items": {"get": {"operationId": "list-items",
                "parameters": [{"name": "limit", "in": "query", "required": required_limit, "schema": {"type": "integer"}}],
                "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}}}},
            "components": {"schemas": {"Item": {"type": "object", "properties": props},
                "Kind": {"type": "string", "enum": enum_values}}}})
    }

    fn releases(changes: &[Change]) -> Vec<(&'static str, &'static str, &'static str)> {
        verdict(changes)
            .iter()
            .map(|v| (v.krate.name(), v.release.as_str(), v.own.as_str()))
            .collect()
    }

    #[test]
    fn classifies_changes() {
        let old = doc(false, false, &["a", "b"]);
        let new = doc(true, true, &["a", "c"]);
        let changes = diff_values(&old, &new);
        let text = render(&changes);
        assert!(
            text.contains(
                "BREAKING     operation list-items: parameter query limit is now required"
            ),
            "{text}"
        );
        assert!(
            text.contains("BREAKING     schema Kind: enum value \"b\" removed"),
            "{text}"
        );
        assert!(
            text.contains("non-breaking schema Kind: enum value \"c\" added"),
            "{text}"
        );
        assert!(
            text.contains("non-breaking schema Item: field name added (optional, string)"),
            "{text}"
        );
        assert!(
            text.contains("backpack-client: major\n  major  operation list-items: parameter query limit is now required (compiles unchanged, but `send()` without it now returns an error)\n"),
            "{text}"
        );
        assert_eq!(render(&diff_values(&old, &old)), "no semantic changes\n");
    }

    #[test]
    fn additions_are_minor_and_a_types_major_reaches_client_and_server() {
        let old = doc(false, false, &["a", "b"]);
        let added = diff_values(&old, &doc(true, false, &["a", "b", "c"]));
        assert_eq!(
            releases(&added),
            [
                ("backpack-types", "minor", "minor"),
                ("backpack-client", "none", "none"),
                ("backpack-server", "none", "none"),
                ("backpack-httpmock", "none", "none")
            ]
        );
        assert!(!needs_major(&added));
        let removed = diff_values(&old, &doc(false, false, &["a"]));
        assert_eq!(
            releases(&removed),
            [
                ("backpack-types", "major", "major"),
                ("backpack-client", "major", "none"),
                ("backpack-server", "major", "none"),
                ("backpack-httpmock", "major", "none")
            ]
        );
        assert!(needs_major(&removed));
    }

    #[test]
    fn path_level_parameters_count_and_security_is_major_for_the_server() {
        let old = doc(false, false, &["a"]);
        let mut new = old.clone();
        new["paths"]["/items"]["parameters"] = json!([{"name": "X-Tenant", "in": "header", "required": true, "schema": {"type": "string"}}]);
        let text = render(&diff_values(&old, &new));
        assert!(
            text.contains(
                "operation list-items: parameter header X-Tenant added (required, string)"
            ),
            "{text}"
        );
        let mut secured = old.clone();
        secured["paths"]["/items"]["get"]["security"] = json!([{"bearer": []}]);
        let changes = diff_values(&old, &secured);
        assert_eq!(
            releases(&changes),
            [
                ("backpack-types", "none", "none"),
                ("backpack-client", "patch", "patch"),
                ("backpack-server", "major", "major"),
                ("backpack-httpmock", "none", "none")
            ]
        );
        assert!(
            changes.iter().any(|c| c.breaking),
            "a new credential is breaking on the wire"
        );
    }

    #[test]
    fn documentation_only_is_a_patch_of_the_crates_it_feeds() {
        let old = doc(false, false, &["a"]);
        let mut new = old.clone();
        new["components"]["schemas"]["Item"]["description"] = json!("An item.");
        let changes = diff_values(&old, &new);
        assert_eq!(
            releases(&changes),
            [
                ("backpack-types", "patch", "patch"),
                ("backpack-client", "none", "none"),
                ("backpack-server", "none", "none"),
                ("backpack-httpmock", "none", "none")
            ]
        );
        new["paths"]["/items"]["get"]["summary"] = json!("List items.");
        let both = diff_values(&old, &new);
        assert_eq!(
            releases(&both),
            [
                ("backpack-types", "patch", "patch"),
                ("backpack-client", "patch", "patch"),
                ("backpack-server", "patch", "patch"),
                ("backpack-httpmock", "none", "none")
            ]
        );
    }

    #[test]
    fn nullable_on_an_optional_field_is_not_a_type_change() {
        let old = doc(true, false, &["a"]);
        let mut new = old.clone();
        new["components"]["schemas"]["Item"]["properties"]["name"]["nullable"] = json!(true);
        let changes = diff_values(&old, &new);
        assert_eq!(releases(&changes)[0], ("backpack-types", "patch", "patch"));
    }
}
