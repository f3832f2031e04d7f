//! A webhook body checked in the pass that also picks out the few members its receiver needs
//! ([`DriftWatch::check_webhook_keeping`](crate::DriftWatch::check_webhook_keeping)): one walk of
//! the JSON instead of the receiver's skim plus the watch's own.
//!
//! The schema is chosen by `notification_type`, so the check runs in the same pass when that
//! member comes first (as in Xsolla's bodies); otherwise the pass only keeps members and the body
//! is checked after it, as [`check_webhook`](crate::DriftWatch::check_webhook) would.

use crate::check::{KeySeed, ObjectWalk, Seed, Step, Target, Walker};
use crate::finding::JsonType;
use crate::schema::NodeId;
use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// The members a caller keeps from a body: each top-level name with the sub-members it keeps
/// when the member is an object; an empty list keeps the member whole. A kept member that is not
/// an object keeps its own type (an array is kept empty). On duplicate names the last one wins,
/// as with `serde_json::Value`.
pub type Keep = &'static [(&'static str, &'static [&'static str])];

const TYPE: &str = "notification_type";

/// How the pass went for the check.
pub(crate) enum Routed {
    /// Checked in the pass against this `notification_type`'s schema.
    Checked(String),
    /// The first member was this `notification_type`, which has no schema.
    Unknown(String),
    /// Not checked in the pass (`notification_type` was not first, not a string, or named
    /// twice): the last string `notification_type`, if any, to check the body against after it.
    After(Option<String>),
}

/// The body's members: checked against the schema `lookup` gives for a first
/// `notification_type`, and the [`Keep`] ones kept.
pub(crate) struct Top<'w, 'a, F> {
    pub w: &'w mut Walker<'a>,
    pub keep: Keep,
    pub lookup: F,
}

impl<'de, F: Fn(&str) -> Option<NodeId>> Visitor<'de> for Top<'_, '_, F> {
    type Value = (Value, Routed);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(Value, Routed), A::Error> {
        let mut kept = Map::new();
        let mut walk: Option<ObjectWalk<'_>> = None;
        let mut routed: Option<Routed> = None;
        let mut last_type: Option<String> = None;
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let key = key.as_str();
            let keep = self.keep.iter().find(|(name, _)| *name == key);
            if key == TYPE {
                let value: Value = map.next_value()?;
                let name = value.as_str().map(str::to_string);
                if first && let Some(name) = &name {
                    routed = Some(match (self.lookup)(name) {
                        Some(node) => {
                            let shapes =
                                self.w
                                    .shapes(Target::Node(node), JsonType::Object, &Step::Root);
                            walk = ObjectWalk::begin(&shapes);
                            Routed::Checked(name.clone())
                        }
                        None => Routed::Unknown(name.clone()),
                    });
                } else if routed.is_some() {
                    // Named twice: the last one counts, and it may have another schema.
                    routed = None;
                    walk = None;
                }
                last_type = name;
                if let Some(walk) = &mut walk {
                    Seed {
                        target: walk.target(key),
                        w: &mut *self.w,
                        at: Step::Member(&Step::Root, key),
                    }
                    .check_value(&value);
                }
                if keep.is_some() {
                    kept.insert(key.to_owned(), value);
                }
                first = false;
                continue;
            }
            first = false;
            let Some(walk) = &mut walk else {
                // Not checked in the pass: keep only.
                match keep {
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    Some((name, inner)) => {
                        let value = map.next_value_seed(Kept { inner, seed: None })?;
                        kept.insert((*name).to_owned(), value);
                    }
                }
                continue;
            };
            let seed = Seed {
                target: walk.target(key),
                w: &mut *self.w,
                at: Step::Member(&Step::Root, key),
            };
            match keep {
                None => map.next_value_seed(seed)?,
                Some((name, inner)) => {
                    let value = map.next_value_seed(Kept {
                        inner,
                        seed: Some(seed),
                    })?;
                    kept.insert((*name).to_owned(), value);
                }
            }
        }
        if let Some(walk) = walk {
            walk.end(self.w, &Step::Root);
        }
        let routed = routed.unwrap_or(Routed::After(last_type));
        Ok((Value::Object(kept), routed))
    }
}

/// A kept member, checked by `seed` when the pass checks.
struct Kept<'s, 'w, 'a> {
    inner: &'static [&'static str],
    seed: Option<Seed<'w, 'a, 's>>,
}

impl<'de> DeserializeSeed<'de> for Kept<'_, '_, '_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.inner.is_empty() {
            let value = Value::deserialize(d)?;
            if let Some(seed) = self.seed {
                seed.check_value(&value);
            }
            return Ok(value);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Kept<'_, '_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        let (mut seed, mut walk) = match self.seed {
            Some(mut seed) => {
                let walk = seed.object();
                (Some(seed), walk)
            }
            None => (None, None),
        };
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let key = key.as_str();
            let keep = self.inner.iter().find(|name| **name == key);
            let check = match (&mut seed, &mut walk) {
                (Some(seed), Some(walk)) => Some(Seed {
                    target: walk.target(key),
                    w: &mut *seed.w,
                    at: Step::Member(&seed.at, key),
                }),
                _ => None,
            };
            match (keep, check) {
                (Some(name), check) => {
                    let value: Value = map.next_value()?;
                    if let Some(check) = check {
                        check.check_value(&value);
                    }
                    kept.insert((*name).to_owned(), value);
                }
                (None, Some(check)) => map.next_value_seed(check)?,
                (None, None) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let (Some(seed), Some(walk)) = (seed, walk) {
            walk.end(seed.w, &seed.at);
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        match self.seed {
            Some(seed) => seed.visit_seq(seq)?,
            None => while seq.next_element::<IgnoredAny>()?.is_some() {},
        }
        Ok(Value::Array(Vec::new()))
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<Value, E> {
        if let Some(seed) = self.seed {
            seed.visit_bool::<E>(v)?;
        }
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<Value, E> {
        if let Some(seed) = self.seed {
            seed.visit_i64::<E>(v)?;
        }
        Ok(Value::from(v))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<Value, E> {
        if let Some(seed) = self.seed {
            seed.visit_u64::<E>(v)?;
        }
        Ok(Value::from(v))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<Value, E> {
        if let Some(seed) = self.seed {
            seed.visit_f64::<E>(v)?;
        }
        Ok(Value::from(v))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Value, E> {
        if let Some(seed) = self.seed {
            seed.visit_str::<E>(v)?;
        }
        Ok(Value::String(v.to_owned()))
    }

    fn visit_unit<E: Error>(self) -> Result<Value, E> {
        if let Some(seed) = self.seed {
            seed.visit_unit::<E>()?;
        }
        Ok(Value::Null)
    }
}
