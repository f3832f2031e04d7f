//! Rewrites what Redocly-built bundles commonly carry into the subset the generators read, so a
//! document taken as published generates without hand edits. Runs after the overlays (which see
//! the document as published, in its 3.0 form) and before [`crate::validate`].
//!
//! Each pass is a module; every problem names its operation or schema and the construct:
//!
//! * [`refs`] — `$ref`s to `components.responses` / `components.requestBodies` are inlined;
//! * [`media`] — of several media types (or `application/json; charset=utf-8`) the JSON one is
//!   kept as `application/json`, and the operation's description says what was published; a
//!   request body without JSON keeps one other media type (reported);
//! * [`responses`] — `default` responses become `4XX`/`5XX` (see [`responses`] for the rule);
//!   response `headers` and `links` are dropped (header names noted in the description);
//! * [`compose`] — `allOf` compositions are merged into one object; `readOnly`/`writeOnly`
//!   properties are optional (one direction omits them); `oneOf` + `discriminator` is noted;
//! * [`extensions`] — `x-…` keys the pipeline does not read (`x-tagGroups`, `x-codeSamples`,
//!   `x-displayName`, …) are removed;
//! * [`rustdoc`] — descriptions become rustdoc-safe (bare URLs, non-link brackets, stray HTML,
//!   code blocks that rustdoc would compile as doctests).
//!
//! [`progenitor_view`] is not a pass: it is the client generator's view of the simplified document.

pub mod compose;
pub mod extensions;
pub mod media;
pub mod progenitor_view;
pub mod refs;
pub mod responses;
pub mod rustdoc;
pub mod walk;

use crate::Result;
use crate::degrade::Report;
use serde_json::Value;

/// Runs every pass on a 3.0 document (already overlaid); what is kept from the JSON path goes to
/// `report`.
pub fn simplify(doc: &mut Value, report: &mut Report) -> Result<()> {
    refs::inline_bodies(doc)?;
    media::keep_json(doc, report)?;
    responses::simplify(doc, report)?;
    compose::simplify(doc, report)?;
    extensions::strip(doc);
    rustdoc::sanitize(doc);
    Ok(())
}

/// Appends `note` as a new paragraph of `map[key]` (creating it when absent).
pub(crate) fn append_note(map: &mut serde_json::Map<String, Value>, key: &str, note: &str) {
    let text = match map.get(key).and_then(Value::as_str) {
        Some(existing) if !existing.trim().is_empty() => {
            format!("{}\n\n{note}", existing.trim_end())
        }
        _ => note.to_string(),
    };
    map.insert(key.into(), Value::String(text));
}
