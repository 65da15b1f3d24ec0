//! `x-` extension fields: any key starting with `x-` in a mapping of fixed
//! fields (the platform, a service, a datastore, a probe…) is skipped, value
//! and all, so people can keep their own data and YAML anchors beside the
//! description (`x-defaults: &defaults {...}`, then `<<: *defaults`); any
//! other unknown key stays an error. Keys of maps of names (`services`,
//! `env`, `settings`…) are names, not extensions: `x-ray` is a service.
//!
//! Done by wrapping the YAML deserializer: a struct's keys are read as text
//! first, and those not skipped are handed to the struct's own field reader,
//! so its errors (unknown field, with the known ones) are unchanged.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};

/// Deserializes `T` from `d`, skipping `x-` keys of structs.
pub fn deserialize<'de, T: de::Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(Skip(d))
}

/// The JSON Schema of `platform.yaml`: every object closed to unknown
/// properties admits `x-` ones (`patternProperties`), as the reader does.
pub fn json_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(super::Platform)).unwrap_or_default();
    admit(&mut schema);
    schema
}

fn admit(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            // A map of names has its names' pattern here already: its keys
            // are names (`x-ray` among them), not extensions.
            if o.get("additionalProperties") == Some(&serde_json::Value::Bool(false))
                && !o.contains_key("patternProperties")
            {
                o.insert("patternProperties".into(), serde_json::json!({ "^x-": {} }));
            }
            o.values_mut().for_each(admit);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(admit),
        _ => {}
    }
}

/// Whether `key` is an extension field's.
pub fn is_extension(key: &str) -> bool {
    key.starts_with("x-")
}

/// A deserializer whose structs skip `x-` keys, at every depth.
struct Skip<D>(D);

/// A visitor handed maps, sequences and values that skip `x-` keys too;
/// `strip`: the map it is given is a struct's.
struct Visit<V> {
    inner: V,
    strip: bool,
}

/// A map access; with `strip`, `x-` keys and their values are skipped.
pub(super) struct Entries<A> {
    pub(super) inner: A,
    pub(super) strip: bool,
}

struct Items<A>(A);
struct Seed<S>(S);

macro_rules! forward {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Visit { inner: visitor, strip: false })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Skip<D> {
    type Error = D::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Visit { inner: v, strip: false })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Visit { inner: v, strip: false })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Visit { inner: v, strip: false })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Visit { inner: v, strip: false })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        // serde-saphyr's own structs (a value's span) have no `x-` keys.
        self.0.deserialize_struct(name, fields, Visit { inner: v, strip: true })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        // Enum payloads are unit variants or scalars here: not wrapped further.
        self.0.deserialize_enum(name, variants, v)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! visit_scalar {
    ($($method:ident: $t:ty),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $t) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Visit<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    visit_scalar!(
        visit_bool: bool,
        visit_i8: i8,
        visit_i16: i16,
        visit_i32: i32,
        visit_i64: i64,
        visit_i128: i128,
        visit_u8: u8,
        visit_u16: u16,
        visit_u32: u32,
        visit_u64: u64,
        visit_u128: u128,
        visit_f32: f32,
        visit_f64: f64,
        visit_char: char,
        visit_str: &str,
        visit_borrowed_str: &'de str,
        visit_string: String,
        visit_bytes: &[u8],
        visit_borrowed_bytes: &'de [u8],
        visit_byte_buf: Vec<u8>,
    );

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Skip(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Skip(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(Items(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Entries { inner: map, strip: self.strip })
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Skip(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Items<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A struct's key, read as text (YAML may write it as a number or a boolean).
struct Key(String);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct K;
        impl Visitor<'_> for K {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        d.deserialize_any(K)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Entries<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if !self.strip {
            return self.inner.next_key_seed(seed);
        }
        loop {
            let Some(Key(key)) = self.inner.next_key()? else { return Ok(None) };
            if !is_extension(&key) {
                return seed.deserialize(key.into_deserializer()).map(Some);
            }
            self.inner.next_value::<de::IgnoredAny>()?;
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_closed_object_of_the_schema_admits_extensions() {
        fn walk(v: &serde_json::Value, closed: &mut usize) {
            if let Some(o) = v.as_object() {
                if o.get("additionalProperties") == Some(&serde_json::Value::Bool(false))
                    && o.contains_key("properties")
                {
                    *closed += 1;
                    assert_eq!(o.get("patternProperties"), Some(&serde_json::json!({ "^x-": {} })), "{v}");
                }
                o.values().for_each(|v| walk(v, closed));
            } else if let Some(a) = v.as_array() {
                a.iter().for_each(|v| walk(v, closed));
            }
        }
        let mut closed = 0;
        walk(&json_schema(), &mut closed);
        assert!(closed > 20, "the platform, services, datastores…: {closed}");
        // Maps of names keep their names' pattern.
        let services = &json_schema()["properties"]["services"]["patternProperties"];
        assert!(services.as_object().is_some_and(|p| p.keys().all(|k| k.starts_with("^[a-z0-9]"))), "{services}");
    }
}
