//! A YAML document as a tree of nodes that remember where they stand in the source.
//!
//! serde-saphyr parses; [`Spanned`] carries the location of every key and value into this tree.
//! The tree is kept for the life of a loaded file so that schema, semantic and cross-file
//! errors and findings can all point at a line and column. It knows nothing of policies.

use super::path::{Segment, YamlPath};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Spanned, Tagged};
use std::fmt;

/// Where a node stands in its file: 1-based line and column (in characters) and the length of
/// the node's text in characters where the parser knows it (0 for collections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub len: u32,
}

impl Span {
    pub fn new(line: u32, column: u32, len: u32) -> Self {
        Self { line, column, len }
    }

    fn from_location(location: &serde_saphyr::Location) -> Self {
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Self {
            line: clamp(location.line()).max(1),
            column: clamp(location.column()).max(1),
            len: clamp(location.span().len()),
        }
    }
}

/// A mapping key with its location.
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

/// A YAML node.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    /// The node's explicit tag, if it had one (`!!python/object`, `!custom`).
    pub tag: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in source order; duplicate keys are kept so they can be reported.
    Map(Vec<(Key, Node)>),
}

impl Node {
    /// The node at `path`, if the tree has one.
    pub fn get(&self, path: &YamlPath) -> Option<&Node> {
        path.0
            .iter()
            .try_fold(self, |node, segment| node.child(segment))
    }

    fn child(&self, segment: &Segment) -> Option<&Node> {
        match (&self.value, segment) {
            (Value::Map(entries), Segment::Key(key)) => entries
                .iter()
                .rev()
                .find(|(k, _)| &k.name == key)
                .map(|(_, v)| v),
            (Value::Seq(items), Segment::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// The span of the key that introduces `path` (the last segment), if it is a mapping key.
    pub fn key_span(&self, path: &YamlPath) -> Option<Span> {
        let (last, parent) = path.0.split_last()?;
        let parent = self.get(&YamlPath(parent.to_vec()))?;
        match (&parent.value, last) {
            (Value::Map(entries), Segment::Key(key)) => entries
                .iter()
                .rev()
                .find(|(k, _)| &k.name == key)
                .map(|(k, _)| k.span),
            _ => None,
        }
    }

    /// Resolves JSON Pointer tokens against the tree: a numeric token is an index in a sequence
    /// and a key in a mapping. Stops at the deepest node that exists.
    pub fn resolve_pointer(&self, tokens: &[String]) -> YamlPath {
        let mut path = YamlPath::root();
        let mut node = self;
        for token in tokens {
            let segment = match (&node.value, token.parse::<usize>()) {
                (Value::Seq(_), Ok(i)) => Segment::Index(i),
                _ => Segment::Key(token.clone()),
            };
            match node.child(&segment) {
                Some(next) => {
                    node = next;
                    path.0.push(segment);
                }
                None => break,
            }
        }
        path
    }

    /// Visits every node with its path, parents before children.
    pub fn walk(&self, f: &mut dyn FnMut(&YamlPath, &Node)) {
        fn go(node: &Node, path: &mut YamlPath, f: &mut dyn FnMut(&YamlPath, &Node)) {
            f(path, node);
            match &node.value {
                Value::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        path.0.push(Segment::Index(i));
                        go(item, path, f);
                        path.0.pop();
                    }
                }
                Value::Map(entries) => {
                    for (key, value) in entries {
                        path.0.push(Segment::Key(key.name.clone()));
                        go(value, path, f);
                        path.0.pop();
                    }
                }
                _ => {}
            }
        }
        go(self, &mut YamlPath::root(), f);
    }

    /// The node as JSON, for schema validation and typed deserialization. Of duplicate keys
    /// the last wins here; duplicates are reported separately and fail the file.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or_else(|| J::String(f.to_string())),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A short description of the node's type for messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }
}

/// The serde-facing form of a node: a value, its tag, and its location.
pub(super) struct RawNode(Spanned<Tagged<RawValue>>);

struct RawValue(Value);

impl From<RawNode> for Node {
    fn from(raw: RawNode) -> Self {
        let Spanned {
            value: Tagged(RawValue(value), tag),
            referenced,
            ..
        } = raw.0;
        let mut span = Span::from_location(&referenced);
        if matches!(value, Value::Seq(_) | Value::Map(_)) {
            // A collection's location is where it starts; it has no length of its own.
            span.len = 0;
        }
        Node { value, span, tag }
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::<Tagged<RawValue>>::deserialize(deserializer).map(RawNode)
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor).map(RawValue)
    }
}

/// Mapping keys may be any scalar in YAML; policy files only use strings, so other scalars are
/// kept as their text and the schema rejects them where a name is expected.
struct RawKey(Spanned<KeyText>);

struct KeyText(String);

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::<KeyText>::deserialize(deserializer).map(RawKey)
    }
}

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_owned()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(u64::try_from(v).map_or(Value::Float(v as f64), Value::UInt))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Value, E> {
        Err(E::custom(
            "binary scalars (!!binary) are not allowed in policy files",
        ))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<RawNode>()? {
            items.push(Node::from(item));
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(RawKey(key)) = map.next_key::<RawKey>()? {
            let value = Node::from(map.next_value::<RawNode>()?);
            entries.push((
                Key {
                    name: key.value.0,
                    span: Span::from_location(&key.referenced),
                },
                value,
            ));
        }
        Ok(Value::Map(entries))
    }
}
