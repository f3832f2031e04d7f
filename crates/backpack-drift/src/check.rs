//! The check proper: one streaming pass of serde_json over the body, guided by the compiled
//! schema, that builds no `Value` (so the watch costs a fraction of a typed parse) and records
//! paths and types only.

use crate::finding::{JsonType, Kind, path_segment, type_names};
use crate::schema::{Extra, Node, NodeId, Schemas, Shape};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// A finding before it is tied to its subject.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Raw {
    pub kind: Kind,
    pub path: String,
    pub expected: Option<String>,
    pub seen: Option<String>,
    pub value: Option<String>,
}

/// Checks `body` against node `node`; each distinct finding once. Invalid JSON gives an error
/// (the caller's own parse reports it; the watch records nothing).
pub(crate) fn check(
    schemas: &Schemas,
    node: NodeId,
    body: &[u8],
) -> Result<Vec<Raw>, serde_json::Error> {
    let mut walker = Walker {
        nodes: &schemas.nodes,
        path: String::from("$"),
        out: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    Seed {
        w: &mut walker,
        node,
    }
    .deserialize(&mut de)?;
    de.end()?;
    let mut out = walker.out;
    out.sort();
    out.dedup();
    Ok(out)
}

struct Walker<'a> {
    nodes: &'a [Node],
    path: String,
    out: Vec<Raw>,
}

/// What the schema says about a value of the type seen.
enum Shapes<'a> {
    /// Nothing to check below.
    Unchecked,
    /// The type is not allowed (already recorded).
    Mismatch,
    One(&'a Shape),
    Many(Vec<&'a Shape>),
}

impl<'a> Shapes<'a> {
    fn list(&self) -> &[&'a Shape] {
        match self {
            Shapes::One(s) => std::slice::from_ref(s),
            Shapes::Many(v) => v,
            _ => &[],
        }
    }
}

impl<'a> Walker<'a> {
    fn record(&mut self, kind: Kind, expected: Option<String>, seen: Option<JsonType>) {
        self.out.push(Raw {
            kind,
            path: self.path.clone(),
            expected,
            seen: seen.map(|t| t.as_str().to_string()),
            value: None,
        });
    }

    /// The shapes of `node` that allow `seen`; records a mismatch when none does.
    fn shapes(&mut self, node: NodeId, seen: JsonType) -> Shapes<'a> {
        let nodes = self.nodes;
        match nodes.get(node) {
            None | Some(Node::Any) => Shapes::Unchecked,
            Some(Node::Shape(shape)) => {
                if shape.types == 0 || shape.types & seen.bit() != 0 {
                    Shapes::One(shape)
                } else {
                    self.record(
                        Kind::TypeMismatch,
                        Some(type_names(shape.types)),
                        Some(seen),
                    );
                    Shapes::Mismatch
                }
            }
            Some(Node::OneOf(_)) => {
                let mut all = Vec::new();
                if !flatten(nodes, node, &mut all, 0) {
                    return Shapes::Unchecked;
                }
                let allowed: Vec<&Shape> = all
                    .iter()
                    .copied()
                    .filter(|s| s.types == 0 || s.types & seen.bit() != 0)
                    .collect();
                match allowed.len() {
                    0 => {
                        let bits = all.iter().fold(0, |acc, s| acc | s.types);
                        self.record(Kind::TypeMismatch, Some(type_names(bits)), Some(seen));
                        Shapes::Mismatch
                    }
                    1 => Shapes::One(allowed[0]),
                    _ => Shapes::Many(allowed),
                }
            }
        }
    }

    /// A scalar: its type, then (for listed values) its value.
    fn scalar(&mut self, node: NodeId, seen: JsonType, value: impl FnOnce() -> Value) {
        let shapes = self.shapes(node, seen);
        let list = shapes.list();
        if list.is_empty() || list.iter().any(|s| s.enum_values.is_none()) {
            return;
        }
        let value = value();
        let listed = list
            .iter()
            .filter_map(|s| s.enum_values.as_ref())
            .flatten()
            .any(|v| same_value(v, &value));
        if !listed {
            self.out.push(Raw {
                kind: Kind::UnknownEnumValue,
                path: self.path.clone(),
                expected: None,
                seen: Some(seen.as_str().to_string()),
                value: Some(enum_value(value)),
            });
        }
    }
}

/// The shapes of a `oneOf` (nested ones flattened); false when an alternative allows anything.
fn flatten<'a>(nodes: &'a [Node], node: NodeId, out: &mut Vec<&'a Shape>, depth: u8) -> bool {
    match nodes.get(node) {
        Some(Node::Shape(s)) => {
            out.push(s);
            true
        }
        Some(Node::OneOf(ids)) if depth < 8 => {
            ids.iter().all(|&id| flatten(nodes, id, out, depth + 1))
        }
        _ => false,
    }
}

/// `1` and `1.0` are the same listed value.
fn same_value(listed: &Value, seen: &Value) -> bool {
    match (listed, seen) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// An enum value as a report keeps it: a string as is (cut after 64 characters: an enum value is
/// a short code), anything else as its JSON text.
fn enum_value(value: Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > 64 => {
            format!("{}…", s.chars().take(64).collect::<String>())
        }
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Checks one value against one node.
struct Seed<'w, 'a> {
    w: &'w mut Walker<'a>,
    node: NodeId,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.w.shapes(self.node, JsonType::Null);
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.w
            .scalar(self.node, JsonType::Boolean, || Value::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.w
            .scalar(self.node, JsonType::Integer, || Value::from(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.w
            .scalar(self.node, JsonType::Integer, || Value::from(v));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.w
            .scalar(self.node, JsonType::Number, || Value::from(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.w
            .scalar(self.node, JsonType::String, || Value::String(v.to_string()));
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let items = match self.w.shapes(self.node, JsonType::Array) {
            shapes @ (Shapes::One(_) | Shapes::Many(_)) => {
                shapes.list().iter().find_map(|s| s.items)
            }
            _ => None,
        };
        let Some(items) = items else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let len = self.w.path.len();
        self.w.path.push_str("[]");
        while seq
            .next_element_seed(Seed {
                w: &mut *self.w,
                node: items,
            })?
            .is_some()
        {}
        self.w.path.truncate(len);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let shapes = self.w.shapes(self.node, JsonType::Object);
        let objects: Vec<_> = shapes
            .list()
            .iter()
            .filter_map(|s| s.object.as_ref())
            .collect();
        // No listed members (a free-form object): nothing to check inside.
        if objects.is_empty() {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let required: Vec<&str> = objects[0]
            .required
            .iter()
            .filter(|r| objects[1..].iter().all(|o| o.required.contains(r)))
            .map(String::as_str)
            .collect();
        let mut present = vec![false; required.len()];
        let len = self.w.path.len();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let key = key.as_str();
            if let Some(i) = required.iter().position(|r| *r == key) {
                present[i] = true;
            }
            let target = objects
                .iter()
                .find_map(|o| o.properties.get(key).copied())
                .or_else(|| {
                    objects.iter().find_map(|o| match o.extra {
                        Extra::Schema(id) => Some(Some(id)),
                        Extra::Allow => Some(None),
                        Extra::Report => None,
                    })?
                });
            let allowed = objects.iter().any(|o| !matches!(o.extra, Extra::Report));
            self.w.path.push('.');
            self.w.path.push_str(path_segment(key));
            match target {
                Some(node) => map.next_value_seed(Seed {
                    w: &mut *self.w,
                    node,
                })?,
                None => {
                    let seen = map.next_value_seed(TypeOf)?;
                    if !allowed {
                        self.w.record(Kind::UnknownProperty, None, Some(seen));
                    }
                }
            }
            self.w.path.truncate(len);
        }
        for (name, _) in required.iter().zip(&present).filter(|(_, seen)| !**seen) {
            self.w.path.push('.');
            self.w.path.push_str(path_segment(name));
            self.w.record(Kind::MissingRequired, None, None);
            self.w.path.truncate(len);
        }
        Ok(())
    }
}

/// The JSON type of a value, its content skipped.
struct TypeOf;

impl<'de> DeserializeSeed<'de> for TypeOf {
    type Value = JsonType;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonType, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TypeOf {
    type Value = JsonType;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<JsonType, E> {
        Ok(JsonType::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<JsonType, E> {
        Ok(JsonType::Boolean)
    }
    fn visit_i64<E>(self, _: i64) -> Result<JsonType, E> {
        Ok(JsonType::Integer)
    }
    fn visit_u64<E>(self, _: u64) -> Result<JsonType, E> {
        Ok(JsonType::Integer)
    }
    fn visit_f64<E>(self, _: f64) -> Result<JsonType, E> {
        Ok(JsonType::Number)
    }
    fn visit_str<E>(self, _: &str) -> Result<JsonType, E> {
        Ok(JsonType::String)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonType, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonType::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonType, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(JsonType::Object)
    }
}

/// A member name, borrowed from the body when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v.to_string()))
    }
}
