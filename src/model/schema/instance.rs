//! The model's values as the schema validator reads them, in place.
//!
//! Validating a `serde_json` copy of every object spent a third of the
//! validation's time making the copy (each value, its keys and strings,
//! built and dropped per object); here the validator walks [`Value`]
//! directly.
//! A copy is still made for an invalid object, whose errors are explained
//! with it, and for the validator's cold paths (`to_value`).

use std::borrow::Cow;

use jsonschema::JsonType;
use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};

use crate::model::value::{Key, Map, Number, Value};

/// The representation: nodes are `&Value`.
pub struct Model;

impl Json for Model {
    type Node<'a> = &'a Value;
    type PreparedKey = Box<str>;
    type StringBuffer = Value;

    // A lookup compares a few keys (see `Map::get`), about what a pass over
    // two members costs.
    const KEYS_PER_LOOKUP: usize = 2;
    // Values are trees: no node holds itself.
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> Box<str> {
        key.into()
    }

    fn with_string_node<T>(buffer: &mut Value, string: &str, f: impl FnOnce(&Value) -> T) -> T {
        *buffer = Value::String(string.into());
        f(buffer)
    }
}

impl<'a> Node<'a, Model> for &'a Value {
    type Object = &'a Map;
    type Array = &'a [Value];
    type Number = &'a Number;

    fn as_object(&self) -> Option<&'a Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&'a [Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self {
            Value::String(s) => Some(Cow::Borrowed(s.as_str())),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    fn json_type(&self) -> JsonType {
        match self {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    // `enum` of strings is the common comparison (a protocol, a policy):
    // compared without a copy.
    fn equals_value(&self, expected: &serde_json::Value) -> bool {
        match (self, expected) {
            (Value::String(s), serde_json::Value::String(e)) => s.as_str() == e.as_str(),
            (Value::String(_), _) | (_, serde_json::Value::String(_)) => false,
            _ => jsonschema::json::cmp::equal(&self.to_value(), expected),
        }
    }

    fn to_value(&self) -> Cow<'a, serde_json::Value> {
        Cow::Owned(self.to_json())
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(std::ptr::from_ref::<Value>(self) as usize))
    }
}

/// A mapping's members, in key order.
pub struct Members<'a>(std::slice::Iter<'a, (Key, Value)>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v))
    }
}

impl<'a> Object<'a, Model> for &'a Map {
    type Node = &'a Value;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        Map::len(self)
    }

    fn get(&self, key: &Box<str>) -> Option<&'a Value> {
        Map::get(self, key)
    }

    fn members(&self) -> Members<'a> {
        Members(self.entries().iter())
    }
}

impl<'a> Array<'a, Model> for &'a [Value] {
    type Node = &'a Value;
    type ElementsIter = std::slice::Iter<'a, Value>;

    fn len(&self) -> usize {
        <[Value]>::len(self)
    }

    fn elements(&self) -> std::slice::Iter<'a, Value> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema::Schemas;
    use crate::model::{Loaded, Source, load};

    #[test]
    fn keeps_the_validators_contract() {
        let document = Value::from(&jsonschema::json::conformance::document());
        jsonschema::json::conformance::assert_conformance::<Model>(&&document);
    }

    /// Every error of `v` on `instance`: where, why, and in the schema where.
    fn errors<'a, F: Json>(v: &'a jsonschema::Validator<F>, instance: F::Node<'a>) -> Vec<(String, String, String)> {
        let mut out: Vec<_> = v
            .iter_errors(instance)
            .map(|e| (e.instance_path().to_string(), e.schema_path().to_string(), e.to_string()))
            .collect();
        out.sort();
        out
    }

    /// Breaks `v` in the ways schemas catch, one place at a time: a string
    /// made a number, a number or a boolean made a string, a mapping given
    /// an unknown field, a list a `null`.
    fn broken(v: &Value, out: &mut Vec<Value>) {
        fn walk(v: &mut Value, at: &mut usize, target: usize) -> bool {
            let hit = |at: &mut usize| {
                *at += 1;
                *at - 1 == target
            };
            match v {
                Value::String(s) => {
                    if hit(at) {
                        *v = Value::Number(Number::from(s.len()));
                        return true;
                    }
                }
                Value::Number(n) => {
                    if hit(at) {
                        *v = Value::String(n.to_string().into());
                        return true;
                    }
                }
                Value::Bool(b) => {
                    if hit(at) {
                        *v = Value::String(b.to_string().into());
                        return true;
                    }
                }
                Value::Object(m) => {
                    if hit(at) {
                        m.insert("notAField", Value::Bool(true));
                        return true;
                    }
                    let keys: Vec<Key> = m.keys().cloned().collect();
                    for k in keys {
                        if let Some(x) = m.get_mut(&k)
                            && walk(x, at, target)
                        {
                            return true;
                        }
                    }
                }
                Value::Array(a) => {
                    if hit(at) {
                        let mut items = std::mem::take(a).into_vec();
                        items.push(Value::Null);
                        *a = items.into_boxed_slice();
                        return true;
                    }
                    for x in a.iter_mut() {
                        if walk(x, at, target) {
                            return true;
                        }
                    }
                }
                Value::Null => {}
            }
            false
        }
        // As many places as `walk` counts, a hundred of them spread over the
        // object (some of the corpus are large, and tests run unoptimised).
        let mut places = 0;
        walk(&mut v.clone(), &mut places, usize::MAX);
        for target in (0..places).step_by(places.div_ceil(100).max(1)) {
            let mut copy = v.clone();
            walk(&mut copy, &mut 0, target);
            out.push(copy);
        }
    }

    /// The validator reads the model's values exactly as it reads their
    /// `serde_json` copies: the same verdict and the same errors, on real
    /// manifests (`tests/corpus`) and on every single-field breakage of
    /// them.
    #[test]
    fn validates_as_the_serde_json_copy_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let mut files = Vec::new();
        let mut todo = vec![root];
        while let Some(dir) = todo.pop() {
            for e in std::fs::read_dir(&dir).expect("corpus folder").flatten() {
                let path = e.path();
                if path.is_dir() {
                    todo.push(path);
                } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    files.push(path);
                }
            }
        }
        files.sort();
        let mut loaded = Loaded::default();
        for path in &files {
            let text = std::fs::read_to_string(path).expect("corpus file");
            load::add_source(&mut loaded, Source { name: path.clone(), text });
        }
        let schemas = Schemas::new(crate::model::schema::NEWEST_MINOR);
        let options = || {
            jsonschema::options_for::<jsonschema::json::SerdeJson>()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .with_format("quantity", super::super::is_quantity)
                .with_format("byte", super::super::is_base64)
        };
        let (mut objects, mut invalid) = (0, 0);
        let mut kinds = std::collections::BTreeMap::new();
        for o in &loaded.objects {
            let Some(c) = schemas.compiled(&o.api_version, &o.kind) else { continue };
            let serde = kinds.entry((o.api_version.clone(), o.kind.clone())).or_insert_with(|| {
                let document = schemas.document(&o.api_version, &o.kind).expect("a schema");
                options().build(&document).expect("compiles")
            });
            let mut variants = vec![o.value.clone()];
            broken(&o.value, &mut variants);
            for v in &variants {
                let json = v.to_json();
                let model = errors(&c.validator, v);
                // The model's validator has the `$ref` to the schema at its root.
                let model: Vec<_> = model
                    .into_iter()
                    .map(|(at, path, why)| (at, path.strip_prefix("/$ref").unwrap_or(&path).to_string(), why))
                    .collect();
                assert_eq!(model, errors(serde, &json), "{} {}: {}", o.kind, o.name, json);
                assert_eq!(c.validator.is_valid(v), serde.is_valid(&json), "{} {}", o.kind, o.name);
                objects += 1;
                invalid += usize::from(!serde.is_valid(&json));
            }
        }

        assert!(kinds.len() > 20 && invalid > 1000 && objects > invalid, "{} kinds, {objects} {invalid}", kinds.len());
    }
}
