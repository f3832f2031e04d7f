//! The JSON request body: size limit, `Content-Type` (another one is a `415`), and the checks
//! made on the parsed JSON before it becomes the model type. The other body kinds are in
//! `media.rs`.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use super::rejection::Rejection;

/// One step from a JSON value towards an enum-typed position.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// The named member of an object.
    Field(&'static str),
    /// Every element of an array.
    Each,
    /// Every member value of a map.
    Values,
}

/// What must hold at one place in a request body.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Object,
    OneOf(&'static [&'static str]),
}

/// A check on a request body, made on the parsed JSON before it becomes the model type:
/// an object where the spec has an object (serde would also build a struct from a positional
/// array), a listed value where the spec has an enum (the model types keep unknown values, so
/// that responses stay forward-compatible; a request must not carry them).
#[derive(Debug, Clone, Copy)]
pub struct Check {
    path: &'static [Step],
    expect: Expect,
}

impl Check {
    /// The value at `path`, when present and not `null`, must be a JSON object.
    pub const fn object(path: &'static [Step]) -> Self {
        Self {
            path,
            expect: Expect::Object,
        }
    }

    /// The string at `path`, when present, must be one of `known`.
    pub const fn one_of(path: &'static [Step], known: &'static [&'static str]) -> Self {
        Self {
            path,
            expect: Expect::OneOf(known),
        }
    }
}

fn location_text(at: &str) -> &str {
    if at.is_empty() { "(root)" } else { at }
}

fn check_at(
    value: &serde_json::Value,
    steps: &[Step],
    expect: Expect,
    at: &mut String,
) -> Result<(), Rejection> {
    let Some((step, rest)) = steps.split_first() else {
        // Other mismatches (a number for a string, `null` for a required field) are left to
        // deserialization, which names the expected type.
        return match (expect, value) {
            (Expect::Object, serde_json::Value::Array(_)) => Err(Rejection::input(format!(
                "request body does not match the schema: `{}` must be an object",
                location_text(at)
            ))),
            (Expect::OneOf(known), serde_json::Value::String(s))
                if !known.contains(&s.as_str()) =>
            {
                Err(Rejection::input(format!(
                    "request body `{}` must be one of: {}",
                    location_text(at),
                    known.join(", ")
                )))
            }
            _ => Ok(()),
        };
    };
    let len = at.len();
    match (step, value) {
        (Step::Field(name), serde_json::Value::Object(map)) => {
            if let Some(inner) = map.get(*name) {
                at.push('.');
                at.push_str(name);
                check_at(inner, rest, expect, at)?;
            }
        }
        (Step::Each, serde_json::Value::Array(items)) => {
            for (i, inner) in items.iter().enumerate() {
                at.push_str(&format!("[{i}]"));
                check_at(inner, rest, expect, at)?;
                at.truncate(len);
            }
        }
        (Step::Values, serde_json::Value::Object(map)) => {
            for (key, inner) in map {
                at.push('.');
                at.push_str(key);
                check_at(inner, rest, expect, at)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    at.truncate(len);
    Ok(())
}

/// Runs `checks` on a parsed body. Only the tests call it: `deserialize` runs the checks itself,
/// skipping the parse to a `Value` when only the root must be an object.
#[cfg(test)]
fn check_body(value: &serde_json::Value, checks: &[Check]) -> Result<(), Rejection> {
    let mut at = String::new();
    for check in checks {
        check_at(value, check.path, check.expect, &mut at)?;
    }
    Ok(())
}

fn is_json_content_type(headers: &HeaderMap) -> Result<(), Rejection> {
    let wrong = || Rejection::unsupported_media_type("application/json");
    let value = headers.get(header::CONTENT_TYPE).ok_or_else(wrong)?;
    let text = value.to_str().map_err(|_| wrong())?;
    let essence = text.split(';').next().unwrap_or_default().trim();
    let json = essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence.is_char_boundary(essence.len() - 5)
            && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"));
    if json { Ok(()) } else { Err(wrong()) }
}

/// Reads at most `limit` bytes of `body`; more is a `413`.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Rejection> {
    // A declared length over the limit is refused without reading anything.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(Rejection::too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(Rejection::too_large()),
        Err(_) => Err(Rejection::input("the request body could not be read")),
    }
}

fn deserialize<T: DeserializeOwned>(bytes: &[u8], checks: &[Check]) -> Result<T, Rejection> {
    let describe = |e: serde_json::Error| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => {
                Rejection::input(format!("request body does not match the schema: {e}"))
            }
            Category::Syntax | Category::Eof | Category::Io => {
                Rejection::input(format!("request body is not valid JSON: {e}"))
            }
        }
    };
    // "The body is an object" needs only its first byte; parsing into a `Value` first (for the
    // checks further down) roughly doubles the cost of reading a body.
    let at_root = |c: &&Check| c.path.is_empty() && matches!(c.expect, Expect::Object);
    if checks.iter().any(|c| at_root(&c)) {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'[') {
            return Err(Rejection::input(
                "request body does not match the schema: `(root)` must be an object",
            ));
        }
    }
    if checks.iter().all(|c| at_root(&c)) {
        return serde_json::from_slice(bytes).map_err(describe);
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(describe)?;
    for check in checks.iter().filter(|c| !at_root(c)) {
        check_at(&value, check.path, check.expect, &mut String::new())?;
    }
    T::deserialize(value).map_err(describe)
}

/// The required JSON body as `T`, after `checks`.
pub async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    checks: &[Check],
) -> Result<T, Rejection> {
    is_json_content_type(headers)?;
    let bytes = read_body(headers, body, limit).await?;
    if bytes.is_empty() {
        return Err(Rejection::input("missing request body"));
    }
    deserialize(&bytes, checks)
}

/// An optional JSON body: an empty body is `None`.
pub async fn json_body_optional<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    checks: &[Check],
) -> Result<Option<T>, Rejection> {
    let bytes = read_body(headers, body, limit).await?;
    if bytes.is_empty() {
        return Ok(None);
    }
    is_json_content_type(headers)?;
    deserialize(&bytes, checks).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    #[test]
    fn body_checks_reject_unknown_enum_values_and_arrays_for_objects() {
        static CHECKS: &[Check] = &[
            Check::object(&[Step::Each]),
            Check::one_of(&[Step::Each, Step::Field("kind")], &["a", "b"]),
        ];
        let ok = serde_json::json!([{"kind": "a"}, {"other": 1}, {"kind": null}, null]);
        assert!(check_body(&ok, CHECKS).is_ok());
        let bad = serde_json::json!([{"kind": "a"}, {"kind": "zzz"}]);
        let err = check_body(&bad, CHECKS).unwrap_err();
        assert_eq!(
            err.message(),
            "request body `[1].kind` must be one of: a, b"
        );
        let positional = serde_json::json!([{"kind": "a"}, ["a"]]);
        let err = check_body(&positional, CHECKS).unwrap_err();
        assert_eq!(
            err.message(),
            "request body does not match the schema: `[1]` must be an object"
        );
        let root: &[Check] = &[Check::object(&[])];
        assert!(
            check_body(&serde_json::json!(["x"]), root)
                .unwrap_err()
                .message()
                .contains("(root)")
        );
        let map: &[Check] = &[Check::one_of(&[Step::Values], &["a"])];
        let bad = serde_json::json!({"x": "a", "y": "b"});
        assert!(
            check_body(&bad, map)
                .unwrap_err()
                .message()
                .contains("`.y`")
        );
    }

    #[test]
    fn content_type_must_be_json() {
        let mut h = HeaderMap::new();
        assert!(is_json_content_type(&h).is_err());
        for (value, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/problem+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_json_content_type(&h).is_ok(), ok, "{value}");
        }
    }
}
