//! The value of a checked object: JSON's data model, kept compact.
//!
//! `check` keeps every object of a run (cross-object checks relate them), so
//! the size of a value decides how many objects fit in memory. `serde_json`'s
//! `Map` is a B-tree whose nodes hold eleven entries however few are used: a
//! mapping of one key took a 632-byte node, and a small Deployment about
//! 10 KB. Here a mapping is a vector of its entries sorted by key, allocated
//! at its size (32 bytes an entry, its key shared: [`Key`]): the same order of iteration as
//! `serde_json`'s, lookups by binary search (objects' mappings are small),
//! and the API checks use (`get`, `as_str`, `iter`, …) under the same names,
//! so that a check reads the same either way.
//!
//! Values built elsewhere (`gen`'s objects, tests) convert from and to
//! `serde_json::Value` with `From`.

use std::fmt;
use std::sync::Arc;

pub use serde_json::Number;

/// A string value: up to 24 bytes kept inline (most names, labels and
/// values of manifests), longer ones on the heap.
pub type Str = compact_str::CompactString;

/// A JSON value (YAML as Kubernetes reads it: see [`super::load`]).
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Str),
    Array(Box<[Value]>),
    Object(Map),
}

/// A mapping: its entries sorted by key, keys unique.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Map {
    entries: Box<[(Key, Value)]>,
}

/// A key of a mapping. The loader gives every mapping of one input the same
/// allocation for the same key ([`Keys`]): `name`, `metadata`, `labels` …
/// are written thousands of times and stored once.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(Arc<Box<str>>);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where it is allocated: the loader's keys of one run are one
    /// allocation each, so within a run this tells keys apart.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl std::ops::Deref for Key {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key(Arc::new(s.into()))
    }
}

impl From<String> for Key {
    fn from(s: String) -> Key {
        Key(Arc::new(s.into_boxed_str()))
    }
}

impl From<&Key> for String {
    fn from(k: &Key) -> String {
        k.0.to_string()
    }
}

impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Key {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Key {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

/// The keys of one run, shared by the readers of all its inputs: a key
/// written in 10,000 files is allocated once (each file's own copies took
/// 40 MB on 100,000 objects in 10,000 files). Hashed with foldhash, as
/// every mapping key read is looked up here: SipHash was 4 % of `check`.
#[derive(Debug, Default)]
pub struct SharedKeys(std::sync::Mutex<foldhash::HashSet<Key>>);

/// The keys one input uses: found here without a lock, else in the run's
/// [`SharedKeys`].
#[derive(Debug, Default)]
pub struct Keys {
    local: foldhash::HashSet<Key>,
    shared: Option<std::sync::Arc<SharedKeys>>,
}

impl Keys {
    /// The keys of an input read in the run that shares `shared`.
    pub fn new(shared: Option<std::sync::Arc<SharedKeys>>) -> Keys {
        Keys { local: foldhash::HashSet::default(), shared }
    }

    /// The shared key `name`, and whether it is new to this input. The
    /// loader counts a key once per input that uses it, whether or not
    /// another input took it first: the count of one input does not depend
    /// on the order in which the others are read.
    pub fn key(&mut self, name: &str) -> (Key, bool) {
        if let Some(k) = self.local.get(name) {
            return (k.clone(), false);
        }
        let k = match &self.shared {
            // A poisoned lock is a reader that panicked: its keys are still whole.
            Some(shared) => {
                let mut all = shared.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match all.get(name) {
                    Some(k) => k.clone(),
                    None => {
                        let k = Key::from(name);
                        all.insert(k.clone());
                        k
                    }
                }
            }
            None => Key::from(name),
        };
        self.local.insert(k.clone());
        (k, true)
    }

    /// The keys this input used, once each.
    pub fn take(&mut self) -> Vec<Key> {
        std::mem::take(&mut self.local).into_iter().collect()
    }

    /// What the loader counts for a key new to an input (see
    /// [`crate::model::load`]): its bytes, the shared count and the
    /// pointer to them (32), and its slots in the run's sets (32).
    pub fn bytes(key: &str) -> usize {
        key.len() + 64
    }
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    /// The map of `entries`, allocated at their number; a key given twice
    /// keeps its last value (as inserting them one by one would).
    pub fn from_entries(mut entries: Vec<(Key, Value)>) -> Map {
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable: of equal keys the last written stays last, and is kept.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(Key, Value)> = Vec::with_capacity(entries.len());
            for e in entries {
                match kept.last_mut() {
                    Some(last) if last.0 == e.0 => *last = e,
                    _ => kept.push(e),
                }
            }
            entries = kept;
        }
        Map { entries: entries.into_boxed_slice() }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Checks look fields up tens of times per object: in the small
    /// mappings objects are made of, comparing lengths first skips almost
    /// every string comparison a binary search would make.
    pub fn get(&self, key: &str) -> Option<&Value> {
        if self.entries.len() <= 12 {
            return self
                .entries
                .iter()
                .find(|(k, _)| k.len() == key.len() && k.as_bytes() == key.as_bytes())
                .map(|(_, v)| v);
        }
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The entry of `key`, its key as stored (borrowed for as long as the map).
    pub fn get_key_value(&self, key: &str) -> Option<(&Key, &Value)> {
        self.find(key).ok().map(|i| (&self.entries[i].0, &self.entries[i].1))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`; returns the value it replaced.
    pub fn insert(&mut self, key: impl Into<Key>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                // Allocated at its size: mappings are read far more than
                // changed (the loader builds them whole: `from_entries`).
                let mut entries = std::mem::take(&mut self.entries).into_vec();
                entries.insert(i, (key, value));
                self.entries = entries.into_boxed_slice();
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        let mut entries = std::mem::take(&mut self.entries).into_vec();
        let (_, value) = entries.remove(i);
        self.entries = entries.into_boxed_slice();
        Some(value)
    }

    /// Keeps the entries `keep` says yes to, in one allocation; whether any
    /// went.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Value) -> bool) -> bool {
        if self.entries.iter().all(|(k, v)| keep(k, v)) {
            return false;
        }
        let entries = std::mem::take(&mut self.entries).into_vec();
        self.entries = entries.into_iter().filter(|(k, v)| keep(k, v)).collect();
        true
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in key order, as stored.
    pub fn entries(&self) -> &[(Key, Value)] {
        &self.entries
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Key, &Value)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Key> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<K: Into<Key>> Extend<(K, Value)> for Map {
    /// Sets each entry in turn (a later one wins).
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        let mut entries = std::mem::take(&mut self.entries).into_vec();
        entries.extend(iter.into_iter().map(|(k, v)| (k.into(), v)));
        *self = Map::from_entries(entries);
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Key, &'a Value);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (Key, Value)>, fn(&'a (Key, Value)) -> (&'a Key, &'a Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl IntoIterator for Map {
    type Item = (Key, Value);
    type IntoIter = std::vec::IntoIter<(Key, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_vec().into_iter()
    }
}

impl<K: Into<Key>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Map {
        Map::from_entries(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

/// What `Value::get` takes: a key of a mapping or an index of a list.
pub trait Lookup {
    fn get_in<'v>(&self, v: &'v Value) -> Option<&'v Value>;
}

impl Lookup for str {
    fn get_in<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        v.as_object()?.get(self)
    }
}

impl Lookup for String {
    fn get_in<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        self.as_str().get_in(v)
    }
}

impl Lookup for usize {
    fn get_in<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        v.as_array()?.get(*self)
    }
}

impl<T: Lookup + ?Sized> Lookup for &T {
    fn get_in<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        (**self).get_in(v)
    }
}

static NULL: Value = Value::Null;

impl<K: Lookup> std::ops::Index<K> for Value {
    type Output = Value;

    /// `Null` where there is nothing, as `serde_json` does.
    fn index(&self, key: K) -> &Value {
        key.get_in(self).unwrap_or(&NULL)
    }
}

impl Value {
    pub fn get<K: Lookup>(&self, key: K) -> Option<&Value> {
        key.get_in(self)
    }

    /// The RFC 6901 lookup (see [`super::At`]).
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        super::At::at(self, pointer)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.as_i64()
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_number()?.as_u64()
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()?.as_f64()
    }

    pub fn as_null(&self) -> Option<()> {
        self.is_null().then_some(())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Bool(_))
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    pub fn is_i64(&self) -> bool {
        self.as_number().is_some_and(Number::is_i64)
    }

    pub fn is_u64(&self) -> bool {
        self.as_number().is_some_and(Number::is_u64)
    }

    pub fn is_f64(&self) -> bool {
        self.as_number().is_some_and(Number::is_f64)
    }

    /// The same value as `serde_json`'s (for the code that takes one).
    pub fn to_json(&self) -> serde_json::Value {
        self.into()
    }
}

impl From<&Value> for serde_json::Value {
    fn from(v: &Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Into::into).collect()),
            Value::Object(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.to_string(), v.into())).collect()),
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s.into()),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Into::into).collect()),
            // Already sorted: `serde_json`'s map is a B-tree.
            serde_json::Value::Object(m) => {
                Value::Object(Map::from_entries(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect()))
            }
        }
    }
}

/// The same as converting a clone, without building the clone.
impl From<&serde_json::Value> for Value {
    fn from(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(s.as_str().into()),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Into::into).collect()),
            // Already sorted: `serde_json`'s map is a B-tree.
            serde_json::Value::Object(m) => {
                Value::Object(Map::from_entries(m.iter().map(|(k, v)| (k.as_str().into(), v.into())).collect()))
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n.into())
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Number(n.into())
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Number(n.into())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(n.into())
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

impl PartialEq<i64> for Value {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}

impl PartialEq<serde_json::Value> for Value {
    fn eq(&self, other: &serde_json::Value) -> bool {
        match (self, other) {
            (Value::Null, serde_json::Value::Null) => true,
            (Value::Bool(a), serde_json::Value::Bool(b)) => a == b,
            (Value::Number(a), serde_json::Value::Number(b)) => a == b,
            (Value::String(a), serde_json::Value::String(b)) => a == b,
            (Value::Array(a), serde_json::Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Value::Object(a), serde_json::Value::Object(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka.as_str() == kb && va == vb)
            }
            _ => false,
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(v) => s.serialize_str(v),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    /// Through `serde_json`'s value: only small texts (dashboards) are read this way.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        serde_json::Value::deserialize(d).map(Value::from)
    }
}

impl fmt::Display for Value {
    /// Compact JSON, as `serde_json::Value` displays.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// `serde_json::json!`, as a checked value: for tests, imported as `json`
/// where model functions take what `json!` writes.
#[cfg(test)]
macro_rules! value {
    ($($t:tt)+) => {
        $crate::model::Value::from(::serde_json::json!($($t)+))
    };
}
#[cfg(test)]
pub(crate) use value;

#[cfg(test)]
mod tests {

    #[test]
    fn inputs_of_one_run_share_each_key_and_count_it_once_each() {
        let shared = std::sync::Arc::new(SharedKeys::default());
        let (mut one, mut two) = (Keys::new(Some(shared.clone())), Keys::new(Some(shared)));
        let (a, fresh_a) = one.key("metadata");
        let (again, fresh_again) = one.key("metadata");
        let (b, fresh_b) = two.key("metadata");
        assert!(std::sync::Arc::ptr_eq(&a.0, &again.0) && std::sync::Arc::ptr_eq(&a.0, &b.0));
        assert_eq!((fresh_a, fresh_again, fresh_b), (true, false, true), "new to each input");
        let (alone, _) = Keys::default().key("metadata");
        assert!(!std::sync::Arc::ptr_eq(&a.0, &alone.0));
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn retain_keeps_the_entries_said_yes_to_in_key_order_and_says_whether_any_went() {
        let mut m = Value::from(json!({"kind": "Pod", "metadata": {}, "spec": {}, "status": {}}));
        let map = m.as_object_mut().expect("a mapping");
        assert!(!map.retain(|_, _| true), "nothing went");
        assert_eq!(map.len(), 4);
        assert!(map.retain(|k, _| !matches!(k, "kind" | "status")));
        assert_eq!(map.keys().map(Key::as_str).collect::<Vec<_>>(), ["metadata", "spec"]);
        assert!(map.get("spec").is_some() && map.get("kind").is_none());
    }

    #[test]
    fn reads_as_serde_json_does() {
        let j = json!({"b": [1, "x", null, true, 2.5], "a": {"z": {}, "y": -3}, "": "empty"});
        let v = Value::from(j.clone());
        assert_eq!(v.to_json(), j, "round trip");
        assert_eq!(Value::from(&j), v, "converted in place as its clone is");
        assert_eq!(v, j);
        assert_eq!(v.to_string(), j.to_string(), "display and key order");
        assert_eq!(v["a"]["y"].as_i64(), Some(-3));
        assert_eq!(v["b"][1], "x");
        assert!(v["nope"]["deeper"].is_null());
        assert_eq!(
            v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["".into(), "a".into(), "b".into()])
        );
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value_and_the_order_is_by_key() {
        let m =
            Map::from_entries(vec![("b".into(), 1i64.into()), ("a".into(), 2i64.into()), ("b".into(), 3i64.into())]);
        assert_eq!(
            m.iter().map(|(k, v)| (k.as_str(), v.as_i64())).collect::<Vec<_>>(),
            [("a", Some(2)), ("b", Some(3))]
        );
        let mut m = m;
        assert_eq!(m.insert("0", Value::Null), None);
        assert_eq!(m.insert("a", true.into()), Some(2i64.into()));
        assert_eq!(m.keys().map(Key::as_str).collect::<Vec<_>>(), ["0", "a", "b"]);
        assert_eq!(m.remove("a"), Some(true.into()));
        assert!(!m.contains_key("a"));
    }

    #[test]
    fn an_entry_takes_a_fixed_small_size() {
        // The variant is kept in a byte a string leaves free (`compact_str`'s
        // last): lists and mappings are a pointer and a length.
        assert_eq!(size_of::<Value>(), 24);
        assert_eq!(size_of::<Key>(), 8);
        assert_eq!(size_of::<(Key, Value)>(), 32);
    }
}
