//! The fast path of [`crate::check::check`]: a structural scan of the body, guided by the same
//! schema walk ([`Walker`], [`ObjectWalk`]) as the serde pass but without serde_json's value
//! parsing, that answers one question: does this body certainly conform?
//!
//! Most bodies do, and for them this is the whole check (on the SDK benchmark's 20-item answer,
//! 71 k instructions instead of the serde pass's 142 k; `docs/benchmarks.md`). The elements of an
//! array are usually written with their members in the same order, so each member name is first
//! compared with the name at its position in the previous element ([`Hint`]). Whenever the answer
//! is not a plain yes, the serde pass runs as before and decides: a finding (so what is recorded
//! is exactly the serde pass's), an escape in a member name or in a value compared with listed
//! ones, a number whose type or value needs serde_json's own reading, nesting past serde_json's
//! recursion limit, bytes after the value, or a body that is not UTF-8. The scan does not
//! validate JSON: a malformed body it reads as conforming records nothing, which is also what the
//! serde pass records for it (its parse error).

use crate::check::{ObjectWalk, Scalar, Step, Target, Walker};
use crate::finding::JsonType;
use crate::schema::{Member, NodeId, Object, Schemas};

/// serde_json's recursion limit: deeper bodies are its errors, left to it.
const MAX_DEPTH: u16 = 128;

/// Whether `body` certainly conforms to node `node` (then there is nothing to record); `false`
/// means "run the serde pass".
pub(crate) fn conforms(schemas: &Schemas, node: NodeId, body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let mut scan = Scan {
        text,
        bytes: body,
        pos: 0,
        w: Walker::new(schemas),
    };
    scan.value(Target::Node(node), &Step::Root, 0).is_some() && scan.w.is_clean() && {
        scan.skip_ws();
        scan.pos == scan.bytes.len()
    }
}

/// The scan's cursor and findings. A step that returns `None` stops it: the serde pass decides.
struct Scan<'a, 't> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    w: Walker<'a>,
}

impl<'a, 't> Scan<'a, 't> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// Skips whitespace and `byte`.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// The string starting at the opening quote under the cursor: its raw text, and whether it
    /// holds an escape (then the raw text is not its value).
    #[inline(always)]
    fn string(&mut self) -> Option<(&'t str, bool)> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = quote_or_backslash(self.bytes, i)?;
            if self.bytes.get(i)? == &b'"' {
                break;
            }
            escaped = true;
            i += 2;
        }
        self.pos = i + 1;
        // Both ends are next to an ASCII quote, so on character boundaries.
        Some((self.text.get(start..i)?, escaped))
    }

    /// The member name under the cursor (at its opening quote) when it is `expected`: the name
    /// and its member, the cursor after the closing quote. Bodies write the elements of an array
    /// with their members in the same order, so this usually replaces a search for the closing
    /// quote and a table lookup with one comparison.
    #[inline(always)]
    fn hinted(
        &mut self,
        expected: Option<&Option<(&'a str, &'a Member)>>,
    ) -> Option<(&'a str, &'a Member)> {
        let (name, member) = (*expected?)?;
        let end = self.pos + 1 + name.len();
        let matches = self.bytes.get(self.pos + 1..end)? == name.as_bytes()
            && self.bytes.get(end) == Some(&b'"');
        matches.then(|| {
            self.pos = end + 1;
            (name, member)
        })
    }

    /// A number or literal: the bytes up to the next delimiter.
    fn bare(&mut self) -> &'t [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.pos += 1;
        }
        self.bytes.get(start..self.pos).unwrap_or_default()
    }

    /// Checks the value under the cursor (after whitespace) against `target`.
    fn value(&mut self, target: Target, at: &Step<'_>, depth: u16) -> Option<()> {
        self.skip_ws();
        let (seen, scalar) = match self.peek()? {
            b'{' => return self.object(target, at, depth, &mut Hint::default()),
            b'[' => return self.array(target, at, depth),
            b'"' => match self.string()? {
                (text, false) => (JsonType::String, Some(Scalar::Str(text))),
                (_, true) => (JsonType::String, None),
            },
            b't' | b'f' | b'n' => match self.bare() {
                b"true" => (JsonType::Boolean, Some(Scalar::Bool(true))),
                b"false" => (JsonType::Boolean, Some(Scalar::Bool(false))),
                b"null" => (JsonType::Null, None),
                _ => return None,
            },
            _ => (number_type(self.bare())?, None),
        };
        if self.w.plain(target, seen) {
            return Some(());
        }
        match scalar {
            Some(scalar) => {
                self.w.scalar(target, seen, scalar, at);
                Some(())
            }
            None => unread(&mut self.w, target, seen, at),
        }
    }

    /// An object; `hint` carries the member names of the previous element of the same array.
    fn object(
        &mut self,
        target: Target,
        at: &Step<'_>,
        depth: u16,
        hint: &mut Hint<'a>,
    ) -> Option<()> {
        let depth = deeper(depth)?;
        let shapes = self.w.shapes(target, JsonType::Object, at);
        let mut walk = ObjectWalk::begin(&shapes);
        if let Some(walk) = &walk {
            hint.start(walk.object());
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            for position in 0.. {
                self.skip_ws();
                if self.peek()? != b'"' {
                    return None;
                }
                match walk.as_mut() {
                    Some(walk) => {
                        let (key, target) = match self.hinted(hint.names.get(position)) {
                            Some((name, member)) => (name, walk.target_found(name, Some(member))),
                            None => {
                                let (key, escaped) = self.string()?;
                                // A member name with an escape is looked up by its value: serde's
                                // job.
                                if escaped {
                                    return None;
                                }
                                let found = walk.object().members.entry(key);
                                hint.record(position, found);
                                (key, walk.target_found(key, found.map(|(_, m)| m)))
                            }
                        };
                        self.expect(b':')?;
                        self.value(target, &Step::Member(at, key), depth)?;
                    }
                    None => {
                        self.string()?;
                        self.expect(b':')?;
                        self.value(Target::Unchecked, at, depth)?;
                    }
                }
                self.skip_ws();
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        if let Some(walk) = walk {
            walk.end(&mut self.w, at);
        }
        Some(())
    }

    fn array(&mut self, target: Target, at: &Step<'_>, depth: u16) -> Option<()> {
        let depth = deeper(depth)?;
        let target = match self.w.shapes(target, JsonType::Array, at).items() {
            Some(items) => Target::Node(items),
            None => Target::Unchecked,
        };
        let at = Step::Items(at);
        self.pos += 1;
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(());
        }
        let mut hint = Hint::default();
        loop {
            self.skip_ws();
            if self.peek()? == b'{' {
                self.object(target, &at, depth, &mut hint)?;
            } else {
                self.value(target, &at, depth)?;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// The member names, in order, of the last object read for one array's elements (`None` where a
/// name is not listed or cannot be matched byte for byte).
#[derive(Default)]
struct Hint<'a> {
    object: Option<&'a Object>,
    names: Vec<Option<(&'a str, &'a Member)>>,
}

impl<'a> Hint<'a> {
    /// Forgets the names if they were another object's.
    fn start(&mut self, object: &'a Object) {
        if !self.object.is_some_and(|o| std::ptr::eq(o, object)) {
            self.object = Some(object);
            self.names.clear();
        }
    }

    /// The name at `position` of the object being read. A name holding a quote or backslash is
    /// not kept: its bytes in a body are not the name.
    fn record(&mut self, position: usize, found: Option<(&'a str, &'a Member)>) {
        let found = found.filter(|(name, _)| !name.contains(['"', '\\']));
        if let Some(slot) = self.names.get_mut(position) {
            *slot = found;
        } else if self.names.len() == position {
            self.names.push(found);
        }
    }
}

/// The index of the first `"` or `\\` at or after `from`, eight bytes at a time (strings are
/// most of a body's bytes; memchr's vector search costs more on strings this short).
#[inline(always)]
fn quote_or_backslash(bytes: &[u8], mut from: usize) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    while let Some(chunk) = bytes.get(from..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        let (quote, backslash) = (word ^ QUOTES, word ^ BACKSLASHES);
        // A byte of `quote` or `backslash` is zero where the byte is `"` or `\\`; the lowest
        // flagged byte is exact (a borrow only moves upwards from a zero byte).
        let found =
            (quote.wrapping_sub(ONES) & !quote | backslash.wrapping_sub(ONES) & !backslash) & HIGH;
        if found != 0 {
            return Some(from + found.trailing_zeros() as usize / 8);
        }
        from += 8;
    }
    let tail = bytes.get(from..)?;
    tail.iter()
        .position(|b| matches!(b, b'"' | b'\\'))
        .map(|i| from + i)
}

fn deeper(depth: u16) -> Option<u16> {
    (depth < MAX_DEPTH).then_some(depth + 1)
}

/// A value whose text the scan did not read as serde_json would (an escaped string, a number):
/// its type is checked; if the schema then compares its value with listed ones, stop.
fn unread(w: &mut Walker<'_>, target: Target, seen: JsonType, at: &Step<'_>) -> Option<()> {
    let shapes = w.shapes(target, seen, at);
    let list = shapes.list();
    let compared = !list.is_empty() && list.iter().all(|s| s.enum_values.is_some());
    (!compared).then_some(())
}

/// The type serde_json gives a number literal: an integer when it has no fraction or exponent and
/// fits (up to 18 digits always does; `-0` is a float to serde_json); `None` when unsure.
fn number_type(literal: &[u8]) -> Option<JsonType> {
    let digits = literal.strip_prefix(b"-").unwrap_or(literal);
    if !digits.first()?.is_ascii_digit() {
        return None;
    }
    if digits.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return Some(JsonType::Number);
    }
    if digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if literal.len() != digits.len() && digits.iter().all(|b| *b == b'0') {
        return Some(JsonType::Number);
    }
    Some(JsonType::Integer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::conforms;
    use crate::check::read;
    use crate::finding::Family;
    use crate::schema::{NodeId, Schemas};

    /// The node of `GET /web/backpack/items`' 200 answer (an array of `BackpackItem`).
    fn items(schemas: &Schemas) -> NodeId {
        let op = schemas.operation("GET", "/web/backpack/items").unwrap();
        op.responses["200"]["application/json"].unwrap()
    }

    const ITEM: &str = r#"{"item_id":"e729844d-2ba4-4f3a-8999-7b656dd409ff","item_sku":"sku-0","item_name":"Item 0","image_url":"https://cdn.example.com/i.png","image_proxy_url":null,"project_id":2,"merchant_id":1,"item_type":"virtual_item","created_at":"2026-12-03T19:32:53Z","item_status":"available"}"#;

    /// The scan says "conforms" only where the serde pass records nothing; returns its answer.
    fn agrees(schemas: &Schemas, body: &str) -> bool {
        let node = items(schemas);
        let fast = conforms(schemas, node, body.as_bytes());
        let slow = read(schemas, node, body.as_bytes());
        if fast {
            assert!(
                slow.as_ref().map_or(true, Vec::is_empty),
                "{body}: {slow:?}"
            );
        }
        fast
    }

    /// [`ITEM`] with its members in reverse order.
    fn reordered() -> String {
        let value: serde_json::Map<String, serde_json::Value> = serde_json::from_str(ITEM).unwrap();
        let members: Vec<String> = value
            .iter()
            .rev()
            .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(k.as_str())))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    fn with(from: &str, to: &str) -> String {
        assert!(ITEM.contains(from), "{from}");
        format!("[{}]", ITEM.replacen(from, to, 1))
    }

    #[test]
    fn conforming_bodies_are_answered_by_the_scan() {
        let schemas = Schemas::builtin().unwrap();
        for body in [
            format!("[{ITEM},{ITEM}]"),
            "[]".to_string(),
            format!(
                " \n[ {} ]\t",
                ITEM.replace(',', " ,\n ").replace(':', " : ")
            ),
            // Escapes in a string the schema lists no values for: its type is enough.
            with("https://cdn", r"https:\/\/cdn"),
            with("Item 0", r#"Item \"0\" \\ \u00e9"#),
            with(r#""project_id":2"#, r#""project_id":-12"#),
            // Members in another order than the previous element's (the hint misses).
            format!("[{ITEM},{},{ITEM}]", reordered()),
        ] {
            assert!(agrees(&schemas, &body), "{body}");
        }
    }

    #[test]
    fn anything_the_scan_cannot_vouch_for_goes_to_the_serde_pass() {
        let schemas = Schemas::builtin().unwrap();
        for body in [
            // Findings: the serde pass writes them.
            with(
                r#""item_sku":"sku-0","#,
                r#""item_sku":"sku-0","rarity":"epic","#,
            ),
            with(r#""item_name":"Item 0""#, r#""item_name":42"#),
            with(r#""item_sku":"sku-0","#, ""),
            with(r#""project_id":2"#, r#""project_id":2.0"#),
            with(r#""project_id":2"#, r#""project_id":1e3"#),
            with(r#""project_id":2"#, r#""project_id":-0"#),
            format!("[{ITEM},7]"),
            // The next element's names differ from the previous one's only after its prefix,
            // or are absent: the hint must not match them.
            format!(
                "[{ITEM},{}]",
                ITEM.replacen(r#""item_id""#, r#""item_idx""#, 1)
            ),
            format!(
                "[{ITEM},{}]",
                ITEM.replacen(r#""item_sku""#, r#""item_sk""#, 1)
            ),
            format!("[{ITEM},{{}}]"),
            format!(
                "[{ITEM},{}]",
                ITEM.replacen(r#""item_id""#, r#""item\u005fid""#, 1)
            ),
            // Unsure: serde_json's own reading decides.
            with(r#""item_sku""#, r#""item\u005fsku""#),
            with(r#""project_id":2"#, r#""project_id":123456789012345678901"#),
            // Not JSON, or more than one value.
            format!("[{ITEM}] x"),
            format!("[{ITEM}"),
            ITEM[..40].to_string(),
            "[tru]".to_string(),
            "[+1]".to_string(),
            "[\"open".to_string(),
            "[\"\\".to_string(),
            String::new(),
            "[".repeat(200) + &"]".repeat(200),
        ] {
            assert!(!agrees(&schemas, &body), "{body}");
        }
        let node = items(&schemas);
        assert!(!conforms(&schemas, node, b"[\"\xff\"]"));
    }

    /// Every webhook sample of `backpack-webhooks`: the scan answers for each one the serde pass
    /// finds clean (none has an escape where it would matter), and for no other.
    #[test]
    fn the_webhook_samples() {
        let schemas = Schemas::builtin().unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../backpack-webhooks/tests/fixtures");
        let mut answered = 0;
        for (dir, family) in [("store", Family::Store), ("backpack", Family::Backpack)] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let body = std::fs::read(&path).unwrap();
                let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
                    continue;
                };
                let Some(node) = value["notification_type"]
                    .as_str()
                    .and_then(|t| schemas.webhook(family, t))
                else {
                    continue;
                };
                let clean = read(&schemas, node, &body).unwrap().is_empty();
                assert_eq!(conforms(&schemas, node, &body), clean, "{}", path.display());
                answered += usize::from(clean);
            }
        }
        assert!(answered >= 21, "{answered}");
    }

    /// A listed value (`items[].type` of `move_to_game`) is compared by the scan when it is
    /// written plainly, and left to the serde pass when it has an escape.
    #[test]
    fn listed_values() {
        let schemas = Schemas::builtin().unwrap();
        let node = schemas.webhook(Family::Backpack, "move_to_game").unwrap();
        let hook = |item_type: &str| {
            format!(
                r#"{{"notification_type":"move_to_game","settings":{{"merchant_id":0,"project_id":0}},"items":[{{"id":"i","sku":"s","type":"{item_type}","quantity":0}}],"user":{{"id":"u"}}}}"#
            )
        };
        let answer = |body: &str| {
            let fast = conforms(&schemas, node, body.as_bytes());
            let slow = read(&schemas, node, body.as_bytes()).unwrap();
            assert!(!fast || slow.is_empty(), "{body}: {slow:?}");
            (fast, slow.len())
        };
        assert_eq!(answer(&hook("virtual_item")), (true, 0));
        assert_eq!(answer(&hook("bundle")), (false, 1));
        assert_eq!(answer(&hook(r"virtual\u005fitem")), (false, 0));
        assert_eq!(answer(&hook(r"bund\u006ce")), (false, 1));
    }
}
