//! The check proper: one streaming pass of serde_json over the body, guided by the compiled
//! schema, that builds no `Value` (so the watch costs a fraction of a typed parse) and records
//! paths and types only.

use crate::finding::{JsonType, Kind, path_segment, type_names};
use crate::schema::{Extra, Node, NodeId, Object, Schemas, Shape};
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
                // Counted first, so the usual case (one alternative allows the type) allocates
                // nothing.
                let (mut count, mut first, mut bits) = (0usize, None, 0u8);
                let all_shapes = for_each_shape(nodes, node, 0, &mut |s| {
                    bits |= s.types;
                    if s.types == 0 || s.types & seen.bit() != 0 {
                        count += 1;
                        first = first.or(Some(s));
                    }
                });
                match (all_shapes, count, first) {
                    (false, _, _) => Shapes::Unchecked,
                    (true, 1, Some(s)) => Shapes::One(s),
                    (true, 0, _) | (true, _, None) => {
                        self.record(Kind::TypeMismatch, Some(type_names(bits)), Some(seen));
                        Shapes::Mismatch
                    }
                    (true, _, Some(_)) => {
                        let mut allowed = Vec::with_capacity(count);
                        for_each_shape(nodes, node, 0, &mut |s| {
                            if s.types == 0 || s.types & seen.bit() != 0 {
                                allowed.push(s);
                            }
                        });
                        Shapes::Many(allowed)
                    }
                }
            }
        }
    }

    /// A scalar: its type, then (for listed values) its value.
    fn scalar(&mut self, node: NodeId, seen: JsonType, value: Scalar<'_>) {
        let shapes = self.shapes(node, seen);
        let list = shapes.list();
        if list.is_empty() || list.iter().any(|s| s.enum_values.is_none()) {
            return;
        }
        let listed = list
            .iter()
            .filter_map(|s| s.enum_values.as_ref())
            .flatten()
            .any(|v| value.is(v));
        if !listed {
            let value = value.to_value();
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

/// Calls `f` on each shape of a `oneOf` (nested ones flattened); false when an alternative
/// allows anything.
fn for_each_shape<'a>(
    nodes: &'a [Node],
    node: NodeId,
    depth: u8,
    f: &mut impl FnMut(&'a Shape),
) -> bool {
    match nodes.get(node) {
        Some(Node::Shape(s)) => {
            f(s);
            true
        }
        Some(Node::OneOf(ids)) if depth < 8 => {
            let mut all = true;
            for &id in ids {
                all &= for_each_shape(nodes, id, depth + 1, f);
            }
            all
        }
        _ => false,
    }
}

/// A scalar as read, compared with listed values without allocating.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(&'a str),
}

impl Scalar<'_> {
    /// Whether `listed` is this value (`1` and `1.0` are the same).
    fn is(self, listed: &Value) -> bool {
        match (self, listed) {
            (Scalar::Str(s), Value::String(l)) => s == l,
            (Scalar::Bool(b), Value::Bool(l)) => b == *l,
            (Scalar::I64(n), Value::Number(l)) => l.as_f64() == Some(n as f64),
            (Scalar::U64(n), Value::Number(l)) => l.as_f64() == Some(n as f64),
            (Scalar::F64(n), Value::Number(l)) => l.as_f64() == Some(n),
            _ => false,
        }
    }

    fn to_value(self) -> Value {
        match self {
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::I64(n) => Value::from(n),
            Scalar::U64(n) => Value::from(n),
            Scalar::F64(n) => Value::from(n),
            Scalar::Str(s) => Value::String(s.to_string()),
        }
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
        self.w.scalar(self.node, JsonType::Boolean, Scalar::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.w.scalar(self.node, JsonType::Integer, Scalar::I64(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.w.scalar(self.node, JsonType::Integer, Scalar::U64(v));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.w.scalar(self.node, JsonType::Number, Scalar::F64(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.w.scalar(self.node, JsonType::String, Scalar::Str(v));
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
        let one: [&Object; 1];
        let many: Vec<&Object>;
        let objects: &[&Object] = match &shapes {
            Shapes::One(Shape {
                object: Some(o), ..
            }) => {
                one = [o];
                &one
            }
            Shapes::Many(list) => {
                many = list.iter().filter_map(|s| s.object.as_ref()).collect();
                &many
            }
            _ => &[],
        };
        // No listed members (a free-form object): nothing to check inside.
        let Some((first, others)) = objects.split_first() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        // Bit i: `first.required[i]` (required by every alternative) not seen yet. Past 64
        // required members, the rest go unchecked.
        let mut missing: u64 = 0;
        for (i, name) in first.required.iter().enumerate().take(64) {
            if others.iter().all(|o| o.required.contains(name)) {
                missing |= 1 << i;
            }
        }
        let allowed = objects.iter().any(|o| !matches!(o.extra, Extra::Report));
        let len = self.w.path.len();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let key = key.as_str();
            if missing != 0
                && let Some(i) = first.required.iter().take(64).position(|r| r == key)
            {
                missing &= !(1 << i);
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
        for (i, name) in first.required.iter().enumerate().take(64) {
            if missing & (1 << i) != 0 {
                self.w.path.push('.');
                self.w.path.push_str(path_segment(name));
                self.w.record(Kind::MissingRequired, None, None);
                self.w.path.truncate(len);
            }
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
