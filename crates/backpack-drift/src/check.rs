//! The check proper: one streaming pass of serde_json over the body, guided by the compiled
//! schema, that builds no `Value` and records paths and types only. Nothing is allocated for a
//! body that matches: the JSON path is a chain of [`Step`]s on the stack, written out only for a
//! finding, and each member name costs one hash lookup. [`check`] first tries the cheaper
//! [scan](crate::scan), which answers alone for a body it can vouch for, and runs this pass
//! otherwise.
//!
//! [`Seed`] checks one value; [`ObjectWalk`] is its object logic, which [`crate::fold`] and
//! [`crate::scan`] also drive member by member.

use crate::finding::{JsonType, Kind, path_segment, type_names};
use crate::schema::{Extra, Member, Node, NodeId, Object, Schemas, Shape};
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

/// Runs `$read` (an expression reading the whole body from `$de`, a `&mut
/// serde_json::Deserializer`), then checks that nothing follows. A body that is UTF-8 (checked
/// once, in one fast pass) is read as text, so serde_json does not check each string again.
macro_rules! read_body {
    ($body:expr, |$de:ident| $read:expr) => {
        match std::str::from_utf8($body) {
            Ok(text) => {
                let mut de = serde_json::Deserializer::from_str(text);
                let $de = &mut de;
                $read.and_then(|out| de.end().map(|()| out))
            }
            Err(_) => {
                let mut de = serde_json::Deserializer::from_slice($body);
                let $de = &mut de;
                $read.and_then(|out| de.end().map(|()| out))
            }
        }
    };
}
pub(crate) use read_body;

/// Checks `body` against node `node`; each distinct finding once. Invalid JSON gives an error
/// or no finding (the caller's own parse reports it; the watch records nothing). A body the
/// [fast scan](crate::scan) finds conforming is not read again.
pub(crate) fn check(
    schemas: &Schemas,
    node: NodeId,
    body: &[u8],
) -> Result<Vec<Raw>, serde_json::Error> {
    if crate::scan::conforms(schemas, node, body) {
        return Ok(Vec::new());
    }
    read(schemas, node, body)
}

/// The serde pass of [`check`], which decides whenever the scan is unsure.
pub(crate) fn read(
    schemas: &Schemas,
    node: NodeId,
    body: &[u8],
) -> Result<Vec<Raw>, serde_json::Error> {
    let mut walker = Walker::new(schemas);
    read_body!(body, |de| Seed {
        w: &mut walker,
        target: Target::Node(node),
        at: Step::Root,
    }
    .deserialize(de))?;
    Ok(walker.finish())
}

/// Where a value sits: a chain of steps on the stack, written out as a JSON path
/// (`$.items[].sku`) only when a finding is recorded.
#[derive(Clone, Copy)]
pub(crate) enum Step<'p> {
    /// The body.
    Root,
    /// A member of the parent.
    Member(&'p Step<'p>, &'p str),
    /// Every element of the parent array.
    Items(&'p Step<'p>),
}

impl Step<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Step::Root => out.push('$'),
            Step::Member(parent, name) => {
                parent.write(out);
                out.push('.');
                out.push_str(path_segment(name));
            }
            Step::Items(parent) => {
                parent.write(out);
                out.push_str("[]");
            }
        }
    }

    fn path(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// What a value is checked against.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// A schema.
    Node(NodeId),
    /// Nothing (a free-form member): skipped.
    Unchecked,
    /// A member its object does not list: reported with its JSON type, its content skipped.
    Unlisted,
}

/// The findings of one body.
pub(crate) struct Walker<'a> {
    nodes: &'a [Node],
    out: Vec<Raw>,
}

/// What the schema says about a value of the type seen.
pub(crate) enum Shapes<'a> {
    /// Nothing to check below.
    Unchecked,
    /// The type is not allowed (already recorded).
    Mismatch,
    One(&'a Shape),
    Many(Vec<&'a Shape>),
}

impl<'a> Shapes<'a> {
    pub(crate) fn list(&self) -> &[&'a Shape] {
        match self {
            Shapes::One(s) => std::slice::from_ref(s),
            Shapes::Many(v) => v,
            _ => &[],
        }
    }

    /// The schema of an array's elements, when an allowed shape gives one.
    pub(crate) fn items(&self) -> Option<NodeId> {
        self.list().iter().find_map(|s| s.items)
    }
}

impl<'a> Walker<'a> {
    pub(crate) fn new(schemas: &'a Schemas) -> Self {
        Walker {
            nodes: &schemas.nodes,
            out: Vec::new(),
        }
    }

    /// The distinct findings, in order.
    pub(crate) fn finish(self) -> Vec<Raw> {
        let mut out = self.out;
        out.sort();
        out.dedup();
        out
    }

    fn record(
        &mut self,
        kind: Kind,
        at: &Step<'_>,
        expected: Option<String>,
        seen: Option<JsonType>,
    ) {
        self.out.push(Raw {
            kind,
            path: at.path(),
            expected,
            seen: seen.map(|t| t.as_str().to_string()),
            value: None,
        });
    }

    /// The shapes `target` allows for a value of type `seen`; records a mismatch when none does,
    /// or the member when its object does not list it.
    pub(crate) fn shapes(&mut self, target: Target, seen: JsonType, at: &Step<'_>) -> Shapes<'a> {
        let node = match target {
            Target::Node(node) => node,
            Target::Unchecked => return Shapes::Unchecked,
            Target::Unlisted => {
                self.record(Kind::UnknownProperty, at, None, Some(seen));
                return Shapes::Unchecked;
            }
        };
        let nodes = self.nodes;
        match nodes.get(node) {
            None | Some(Node::Any) => Shapes::Unchecked,
            Some(Node::Shape(shape)) => {
                if shape.types == 0 || shape.types & seen.bit() != 0 {
                    Shapes::One(shape)
                } else {
                    self.record(
                        Kind::TypeMismatch,
                        at,
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
                        self.record(Kind::TypeMismatch, at, Some(type_names(bits)), Some(seen));
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

    /// Whether a scalar of type `seen` needs nothing more at `target` (a shape that allows the
    /// type and lists no values, the usual case): answered without building [`Shapes`].
    #[inline]
    pub(crate) fn plain(&self, target: Target, seen: JsonType) -> bool {
        match target {
            Target::Unchecked => true,
            Target::Unlisted => false,
            Target::Node(node) => match self.nodes.get(node) {
                None | Some(Node::Any) => true,
                Some(Node::Shape(s)) => {
                    s.enum_values.is_none() && (s.types == 0 || s.types & seen.bit() != 0)
                }
                Some(Node::OneOf(_)) => false,
            },
        }
    }

    /// Whether nothing has been recorded.
    pub(crate) fn is_clean(&self) -> bool {
        self.out.is_empty()
    }

    /// A scalar: its type, then (for listed values) its value.
    pub(crate) fn scalar(
        &mut self,
        target: Target,
        seen: JsonType,
        value: Scalar<'_>,
        at: &Step<'_>,
    ) {
        let shapes = self.shapes(target, seen, at);
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
            self.out.push(Raw {
                kind: Kind::UnknownEnumValue,
                path: at.path(),
                expected: None,
                seen: Some(seen.as_str().to_string()),
                value: Some(enum_value(value.to_value())),
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
pub(crate) enum Scalar<'a> {
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

/// The members of one object value being read: which schema each is checked against, and which
/// required ones have not been seen.
pub(crate) struct ObjectWalk<'a> {
    first: &'a Object,
    /// The other alternatives that allow an object (empty, so no allocation, in the usual case).
    others: Vec<&'a Object>,
    /// Bit i: `first.required[i]` (required by every alternative) not seen yet.
    missing: u64,
}

impl<'a> ObjectWalk<'a> {
    /// `None`: no listed members (a free-form object, or not an object where one was expected):
    /// nothing to check inside.
    pub(crate) fn begin(shapes: &Shapes<'a>) -> Option<Self> {
        let (first, others) = match shapes {
            Shapes::One(Shape {
                object: Some(o), ..
            }) => (o, Vec::new()),
            Shapes::Many(list) => {
                let mut objects = list.iter().filter_map(|s| s.object.as_ref());
                let first = objects.next()?;
                (first, objects.collect())
            }
            _ => return None,
        };
        let mut missing = first.required_mask;
        if !others.is_empty() {
            for (i, name) in first.required.iter().enumerate().take(64) {
                if !others.iter().all(|o| o.required.contains(name)) {
                    missing &= !(1 << i);
                }
            }
        }
        Some(ObjectWalk {
            first,
            others,
            missing,
        })
    }

    /// The object whose members are looked up first.
    pub(crate) fn object(&self) -> &'a Object {
        self.first
    }

    /// What member `key`'s value is checked against.
    #[inline(always)]
    pub(crate) fn target(&mut self, key: &str) -> Target {
        self.target_found(key, self.first.members.get(key))
    }

    /// [`ObjectWalk::target`] when `key` has been looked up in [`ObjectWalk::object`] already.
    #[inline(always)]
    pub(crate) fn target_found(&mut self, key: &str, found: Option<&Member>) -> Target {
        if let Some(member) = found {
            if member.required != Member::NOT_REQUIRED {
                self.missing &= !(1 << member.required);
            }
            if let Some(node) = member.node {
                return Target::Node(node);
            }
        }
        for o in &self.others {
            if let Some(Member {
                node: Some(node), ..
            }) = o.members.get(key)
            {
                return Target::Node(*node);
            }
        }
        for o in std::iter::once(&self.first).chain(&self.others) {
            match o.extra {
                Extra::Schema(id) => return Target::Node(id),
                Extra::Allow => return Target::Unchecked,
                Extra::Report => {}
            }
        }
        Target::Unlisted
    }

    /// Records the required members not seen (the object at `at` is read).
    pub(crate) fn end(self, w: &mut Walker<'_>, at: &Step<'_>) {
        let mut missing = self.missing;
        while missing != 0 {
            let i = missing.trailing_zeros() as usize;
            missing &= missing - 1;
            if let Some(name) = self.first.required.get(i) {
                w.record(Kind::MissingRequired, &Step::Member(at, name), None, None);
            }
        }
    }
}

/// Checks one value against its target.
pub(crate) struct Seed<'w, 'a, 'p> {
    pub w: &'w mut Walker<'a>,
    pub target: Target,
    pub at: Step<'p>,
}

impl<'a> Seed<'_, 'a, '_> {
    /// The walk of an object value here (after its type is checked).
    pub(crate) fn object(&mut self) -> Option<ObjectWalk<'a>> {
        let shapes = self.w.shapes(self.target, JsonType::Object, &self.at);
        ObjectWalk::begin(&shapes)
    }

    /// Checks a value already read (the same checks as reading it).
    pub(crate) fn check_value(self, value: &Value) {
        // Reading a `Value` cannot fail, and the checks never do.
        let _ = self.deserialize(value);
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.w.shapes(self.target, JsonType::Null, &self.at);
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.w
            .scalar(self.target, JsonType::Boolean, Scalar::Bool(v), &self.at);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.w
            .scalar(self.target, JsonType::Integer, Scalar::I64(v), &self.at);
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.w
            .scalar(self.target, JsonType::Integer, Scalar::U64(v), &self.at);
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.w
            .scalar(self.target, JsonType::Number, Scalar::F64(v), &self.at);
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.w
            .scalar(self.target, JsonType::String, Scalar::Str(v), &self.at);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let items = self
            .w
            .shapes(self.target, JsonType::Array, &self.at)
            .items();
        let Some(items) = items else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let at = Step::Items(&self.at);
        while seq
            .next_element_seed(Seed {
                w: &mut *self.w,
                target: Target::Node(items),
                at,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let Some(mut walk) = self.object() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let key = key.as_str();
            map.next_value_seed(Seed {
                target: walk.target(key),
                w: &mut *self.w,
                at: Step::Member(&self.at, key),
            })?;
        }
        walk.end(self.w, &self.at);
        Ok(())
    }
}

/// A member name, borrowed from the body when it has no escapes.
pub(crate) enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

pub(crate) struct KeySeed;

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
