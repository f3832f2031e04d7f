//! The spec's schemas, compiled once from the generated [`crate::spec`] text into an arena of
//! nodes (a `$ref` is the index of the named schema's node, so recursive schemas need no
//! special case), plus the operation table that maps a request to its `operationId`.

use crate::finding::{Family, JsonType};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// Index of a node in [`Schemas::nodes`].
pub(crate) type NodeId = usize;

/// One compiled schema.
#[derive(Debug, Default)]
pub(crate) enum Node {
    /// Anything goes (no `type`, nothing to check).
    #[default]
    Any,
    /// A schema with a type set and what it says about values of each type.
    Shape(Shape),
    /// `oneOf`/`anyOf`: a value is checked against the alternatives that allow its type.
    OneOf(Vec<NodeId>),
}

/// A schema with a type set.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    /// Allowed JSON types as bits ([`JsonType::bit`]); 0 means any.
    pub types: u8,
    /// Listed values (strings, numbers, booleans), when the spec gives an `enum`.
    pub enum_values: Option<Vec<Value>>,
    /// What an object holds, when the spec lists properties.
    pub object: Option<Object>,
    /// The schema of array elements.
    pub items: Option<NodeId>,
}

/// FNV-1a: member names are short and not attacker-chosen keys of this map (the map is the
/// spec's), so a fast hash beats SipHash on the watch's hot path.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A map keyed by member name, hashed with [`Fnv`].
pub(crate) type NameMap<V> = HashMap<String, V, BuildHasherDefault<Fnv>>;

/// An object's documented members.
#[derive(Debug, Default)]
pub(crate) struct Object {
    /// Each listed property and each required name, found with one lookup per member read.
    pub members: MemberTable,
    pub required: Vec<String>,
    /// Bit i set for `required[i]` (the first 64; past them, required members go unchecked).
    pub required_mask: u64,
    pub extra: Extra,
}

/// What an object says of one member name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    /// Its schema, when the object lists it under `properties`.
    pub node: Option<NodeId>,
    /// Its index in [`Object::required`] when below 64, else [`Member::NOT_REQUIRED`].
    pub required: u8,
}

impl Member {
    pub const NOT_REQUIRED: u8 = u8::MAX;
}

/// Member names → [`Member`], found without hashing the whole name: a name's [`Tag`] (its
/// length, first 8 and last 8 bytes) picks the slot of a small open-addressing table, and a name
/// of at most 16 bytes is matched by its tag alone.
#[derive(Debug, Default)]
pub(crate) struct MemberTable {
    /// Index + 1 into `entries`; 0 is empty. Its length is a power of two, at least twice the
    /// number of entries (or 0).
    slots: Box<[u16]>,
    entries: Vec<(Tag, Box<str>, Member)>,
}

/// A name's first 8 bytes, last 8 bytes (0 for a name of at most 8) and length, compared as
/// integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tag(u64, u64, usize);

impl Tag {
    fn of(name: &str) -> Tag {
        let bytes = name.as_bytes();
        match (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            (Some(head), Some(tail)) if bytes.len() > 8 => Tag(
                u64::from_le_bytes(*head),
                u64::from_le_bytes(*tail),
                bytes.len(),
            ),
            _ => {
                let mut head = 0u64;
                for (i, b) in bytes.iter().enumerate().take(8) {
                    head |= u64::from(*b) << (8 * i);
                }
                Tag(head, 0, bytes.len())
            }
        }
    }

    fn slot(self, mask: usize) -> usize {
        let mixed = (self.0 ^ (self.2 as u64).rotate_left(40)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed >> 32) as usize & mask
    }
}

impl MemberTable {
    #[inline(always)]
    pub(crate) fn get(&self, name: &str) -> Option<&Member> {
        self.entry(name).map(|(_, member)| member)
    }

    /// The listed name equal to `name`, and its member.
    #[inline(always)]
    pub(crate) fn entry(&self, name: &str) -> Option<(&str, &Member)> {
        let mask = self.slots.len().checked_sub(1)?;
        let tag = Tag::of(name);
        let mut i = tag.slot(mask);
        loop {
            let index = usize::from(*self.slots.get(i)?);
            let (t, n, member) = self.entries.get(index.checked_sub(1)?)?;
            if *t == tag && (name.len() <= 16 || n.as_bytes().get(8..) == name.as_bytes().get(8..))
            {
                return Some((n, member));
            }
            i = (i + 1) & mask;
        }
    }

    fn build(members: NameMap<Member>) -> Self {
        let mut entries: Vec<(Tag, Box<str>, Member)> = members
            .into_iter()
            .map(|(name, m)| (Tag::of(&name), name.into_boxed_str(), m))
            .collect();
        entries.sort_by(|a, b| a.1.cmp(&b.1));
        // More members than slot indices can name: the rest are not found (reported as unknown).
        entries.truncate(usize::from(u16::MAX) / 2);
        if entries.is_empty() {
            return MemberTable::default();
        }
        let mut slots = vec![0u16; (entries.len() * 2).next_power_of_two()].into_boxed_slice();
        let mask = slots.len() - 1;
        for (index, (tag, _, _)) in entries.iter().enumerate() {
            let mut i = tag.slot(mask);
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = (index + 1) as u16;
        }
        MemberTable { slots, entries }
    }
}

impl Object {
    fn new(properties: Vec<(String, NodeId)>, required: Vec<String>, extra: Extra) -> Self {
        let mut members = NameMap::default();
        for (name, node) in properties {
            members.insert(
                name,
                Member {
                    node: Some(node),
                    required: Member::NOT_REQUIRED,
                },
            );
        }
        let mut required_mask = 0;
        for (i, name) in required.iter().enumerate().take(64) {
            let member = members.entry(name.clone()).or_insert(Member {
                node: None,
                required: Member::NOT_REQUIRED,
            });
            // A name listed twice is one member.
            if member.required == Member::NOT_REQUIRED {
                member.required = i as u8;
                required_mask |= 1 << i;
            }
        }
        Object {
            members: MemberTable::build(members),
            required,
            required_mask,
            extra,
        }
    }
}

/// What the spec says of members it does not list.
#[derive(Debug, Default)]
pub(crate) enum Extra {
    /// Nothing: an unlisted member is reported.
    #[default]
    Report,
    /// `additionalProperties: true`: allowed.
    Allow,
    /// `additionalProperties: {schema}`: each is checked against it.
    Schema(NodeId),
}

/// One operation's documented responses.
#[derive(Debug)]
pub(crate) struct Operation {
    pub id: String,
    pub method: String,
    /// Path template segments (`{param}` matches any segment).
    pub segments: Vec<String>,
    /// status key (`200`, `4XX`, `default`) → media type → body schema (`None`: no schema).
    pub responses: BTreeMap<String, BTreeMap<String, Option<NodeId>>>,
}

/// Both documents, compiled.
#[derive(Debug, Default)]
pub struct Schemas {
    pub(crate) nodes: Vec<Node>,
    pub(crate) operations: Vec<Operation>,
    /// By family (`family_index`), `notification_type` → schema.
    pub(crate) webhooks: [NameMap<NodeId>; 2],
    pub(crate) spec_id: String,
}

/// The generated text did not compile (regen wrote something this crate does not read).
#[derive(Debug, thiserror::Error)]
#[error("the drift schemas cannot be read: {0}")]
pub struct SchemaError(String);

impl SchemaError {
    pub(crate) fn new(reason: String) -> Self {
        Self(reason)
    }
}

/// The reduced document regen emits (`xtask/src/codegen/drift.rs`).
#[derive(Deserialize)]
struct Document {
    family: Family,
    operations: Vec<RawOperation>,
    webhooks: BTreeMap<String, Value>,
    schemas: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RawOperation {
    id: String,
    method: String,
    path: String,
    responses: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Schemas {
    /// The schemas generated from `spec/` (parsed on each call: keep the result).
    pub fn builtin() -> Result<Schemas, SchemaError> {
        Schemas::from_documents(
            &[crate::spec::API, crate::spec::WEBHOOKS],
            crate::spec::SPEC_ID,
        )
    }

    /// Schemas from reduced documents in the form regen emits (tests use small ones).
    pub fn from_documents(texts: &[&str], spec_id: &str) -> Result<Schemas, SchemaError> {
        let mut out = Schemas {
            spec_id: spec_id.to_string(),
            ..Schemas::default()
        };
        for text in texts {
            let doc: Document =
                serde_json::from_str(text).map_err(|e| SchemaError(e.to_string()))?;
            let mut compiler = Compiler {
                nodes: &mut out.nodes,
                named: HashMap::new(),
                raw: &doc.schemas,
            };
            for op in &doc.operations {
                let mut responses = BTreeMap::new();
                for (status, media) in &op.responses {
                    let mut kinds = BTreeMap::new();
                    for (media_type, schema) in media {
                        let node = (!schema.is_null())
                            .then(|| compiler.compile(schema))
                            .transpose()?;
                        kinds.insert(media_type.clone(), node);
                    }
                    responses.insert(status.clone(), kinds);
                }
                out.operations.push(Operation {
                    id: op.id.clone(),
                    method: op.method.to_ascii_uppercase(),
                    segments: split_path(&op.path),
                    responses,
                });
            }
            for (kind, schema) in &doc.webhooks {
                let node = compiler.compile(schema)?;
                out.webhooks[family_index(doc.family)].insert(kind.clone(), node);
            }
        }
        Ok(out)
    }

    /// Identifies the spec these schemas come from.
    pub fn spec_id(&self) -> &str {
        &self.spec_id
    }

    /// The operation a request is for: same method, and the path's last segments match the
    /// template (a base URL may add a prefix). The template with most literal segments wins.
    pub(crate) fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        // The path's segments on the stack: a lookup allocates nothing.
        let mut segments = [""; MAX_SEGMENTS];
        let mut len = 0;
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            *segments.get_mut(len)? = segment;
            len += 1;
        }
        let actual = &segments[..len];
        self.operations
            .iter()
            .filter(|op| op.method.eq_ignore_ascii_case(method))
            .filter(|op| op.segments.len() <= actual.len())
            .filter(|op| {
                let tail = &actual[actual.len() - op.segments.len()..];
                op.segments
                    .iter()
                    .zip(tail)
                    .all(|(t, a)| is_param(t) || t == a)
            })
            .max_by_key(|op| {
                (
                    op.segments.len(),
                    op.segments.iter().filter(|s| !is_param(s)).count(),
                )
            })
    }

    /// The webhook schema for a `notification_type`, if the family's document has it.
    pub(crate) fn webhook(&self, family: Family, notification_type: &str) -> Option<NodeId> {
        self.webhooks[family_index(family)]
            .get(notification_type)
            .copied()
    }
}

fn family_index(family: Family) -> usize {
    match family {
        Family::Store => 0,
        Family::Backpack => 1,
    }
}

/// Longest request path the watch matches to an operation, in segments.
const MAX_SEGMENTS: usize = 32;

fn split_path(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Compiles reduced schemas into nodes; each named schema once.
struct Compiler<'a> {
    nodes: &'a mut Vec<Node>,
    named: HashMap<String, NodeId>,
    raw: &'a BTreeMap<String, Value>,
}

impl Compiler<'_> {
    fn compile(&mut self, schema: &Value) -> Result<NodeId, SchemaError> {
        if let Some(name) = schema.get("ref").and_then(Value::as_str) {
            if let Some(&id) = self.named.get(name) {
                return Ok(id);
            }
            let raw = self
                .raw
                .get(name)
                .ok_or_else(|| SchemaError(format!("unknown schema {name}")))?;
            // Reserve the slot first: a schema that refers to itself finds it.
            let id = self.push(Node::Any);
            self.named.insert(name.to_string(), id);
            let node = self.node(raw)?;
            self.nodes[id] = node;
            return Ok(id);
        }
        let node = self.node(schema)?;
        Ok(self.push(node))
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn node(&mut self, schema: &Value) -> Result<Node, SchemaError> {
        let Some(map) = schema.as_object() else {
            return Ok(Node::Any);
        };
        if let Some(Value::Array(parts)) = map.get("oneOf").or_else(|| map.get("anyOf")) {
            let ids = parts
                .iter()
                .map(|p| self.compile(p))
                .collect::<Result<Vec<_>, _>>()?;
            // Alternatives that are plain JSON types (`integer` or `string`) are one shape
            // allowing each: the same findings, without visiting alternatives per value.
            let mut types = 0u8;
            if ids.is_empty() {
                return Ok(Node::OneOf(ids));
            }
            for id in &ids {
                match self.nodes.get(*id) {
                    Some(Node::Shape(Shape {
                        types: t,
                        enum_values: None,
                        object: None,
                        items: None,
                    })) if *t != 0 => types |= t,
                    _ => return Ok(Node::OneOf(ids)),
                }
            }
            return Ok(Node::Shape(Shape {
                types,
                ..Shape::default()
            }));
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            // Simplify merged compositions already; what is left is read as one object.
            let mut merged = serde_json::Map::new();
            for part in parts {
                let part = match part.get("ref").and_then(Value::as_str) {
                    Some(name) => self.raw.get(name).unwrap_or(part),
                    None => part,
                };
                for (k, v) in part.as_object().into_iter().flatten() {
                    match (merged.get_mut(k), v) {
                        (Some(Value::Object(a)), Value::Object(b)) => {
                            a.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
                        }
                        (Some(Value::Array(a)), Value::Array(b)) => a.extend(b.iter().cloned()),
                        _ => {
                            merged.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            return self.node(&Value::Object(merged));
        }
        let mut types = 0u8;
        match map.get("type") {
            Some(Value::String(name)) => types |= type_bits(name),
            Some(Value::Array(names)) => {
                for name in names.iter().filter_map(Value::as_str) {
                    types |= type_bits(name);
                }
            }
            _ => {}
        }
        let properties = map.get("properties").and_then(Value::as_object);
        if types == 0 && properties.is_some() {
            types = JsonType::Object.bit();
        }
        if types == 0 && map.get("items").is_some() {
            types = JsonType::Array.bit();
        }
        if types != 0 && map.get("nullable").and_then(Value::as_bool) == Some(true) {
            types |= JsonType::Null.bit();
        }
        let object = match properties {
            Some(props) => {
                let mut properties = Vec::with_capacity(props.len());
                for (name, schema) in props {
                    properties.push((name.clone(), self.compile(schema)?));
                }
                let required = map
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
                let extra = match map.get("additionalProperties") {
                    None | Some(Value::Bool(false)) => Extra::Report,
                    Some(Value::Bool(true)) => Extra::Allow,
                    Some(schema) => Extra::Schema(self.compile(schema)?),
                };
                Some(Object::new(properties, required, extra))
            }
            // A map: no listed members, each value checked against one schema.
            None => match map.get("additionalProperties") {
                Some(schema @ Value::Object(m)) if !m.is_empty() => Some(Object::new(
                    Vec::new(),
                    Vec::new(),
                    Extra::Schema(self.compile(schema)?),
                )),
                _ => None,
            },
        };
        let items = map
            .get("items")
            .map(|items| self.compile(items))
            .transpose()?;
        let enum_values = map.get("enum").and_then(Value::as_array).cloned();
        if types == 0 && object.is_none() && items.is_none() && enum_values.is_none() {
            return Ok(Node::Any);
        }
        Ok(Node::Shape(Shape {
            types,
            enum_values,
            object,
            items,
        }))
    }
}

/// The bits a `type` name allows (`number` includes integers, as in JSON Schema).
fn type_bits(name: &str) -> u8 {
    match JsonType::from_name(name) {
        Some(JsonType::Number) => JsonType::Number.bit() | JsonType::Integer.bit(),
        Some(t) => t.bit(),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::{Extra, Object};

    /// Names that share a length and their first (or last) 8 bytes are told apart; a name the
    /// object does not list is not found.
    #[test]
    fn member_names_are_matched_exactly() {
        let names = [
            "",
            "a",
            "a\0",
            "item_id",
            "item_sku",
            "item_name",
            "item_type",
            "item_types_x",
            "item_types_y",
            "xtem_types_x",
            "image_proxy_url",
            "image_proxy_urls_long",
            "image_proxy_urls_lonG",
            "created_at",
        ];
        let properties = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), i))
            .collect();
        let object = Object::new(properties, vec!["created_at".into()], Extra::Report);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(
                object.members.get(name).and_then(|m| m.node),
                Some(i),
                "{name:?}"
            );
        }
        for absent in [
            "b",
            "item_i",
            "item_idd",
            "item_types_z",
            "image_proxy_urls_lonx",
            "Item_id",
        ] {
            assert!(object.members.get(absent).is_none(), "{absent:?}");
        }
        assert_eq!(
            object.members.get("created_at").map(|m| m.required),
            Some(0)
        );
    }
}
