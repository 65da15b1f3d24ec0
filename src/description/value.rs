//! Small value types of the description that accept more than one YAML shape
//! (`replicas: 3` or `replicas: {min, max}`). Each is read with a hand-written
//! visitor rather than `#[serde(untagged)]`, which would lose source positions.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use crate::components::Component;
use crate::diag::Pos;
use crate::engines::Engine;
use crate::model::quantity::Bytes;

pub use crate::diag::yaml::pos_of;

/// A name (of a service, datastore, namespace, …) with where it was written.
/// Compared and ordered by its text only.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Name(Spanned<String>);

impl Name {
    /// A name that was not read from a file (a default).
    pub fn synthetic(s: impl Into<String>) -> Self {
        Name(Spanned { value: s.into(), referenced: Location::UNKNOWN, defined: Location::UNKNOWN })
    }

    pub fn as_str(&self) -> &str {
        &self.0.value
    }

    pub fn pos(&self) -> Pos {
        pos_of(&self.0.referenced)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.value
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.value, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.value)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.0.value == other.0.value
    }
}
impl Eq for Name {}
impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.value.cmp(&other.0.value)
    }
}
impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0.value
    }
}

impl JsonSchema for Name {
    fn schema_name() -> Cow<'static, str> {
        "Name".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
            "maxLength": 63,
            "description": "A DNS label: lower-case letters, digits and '-'"
        })
    }
}

/// A name from a registry (a datastore engine, a component), read as an enum
/// of the registry's names, so that errors and the JSON Schema are those of one.
macro_rules! registry_name {
    ($type:ident) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $type;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str(concat!("enum ", stringify!($type)))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$type, E> {
                        $type::by_name(v).ok_or_else(|| E::unknown_variant(v, $type::names()))
                    }
                    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<$type, A::Error> {
                        // The name is looked up while it is read, so that an unknown
                        // one is reported at the value, as for a derived enum.
                        let (value, variant) = data.variant_seed(Id)?;
                        de::VariantAccess::unit_variant(variant)?;
                        Ok(value)
                    }
                }
                struct Id;
                impl<'de> de::DeserializeSeed<'de> for Id {
                    type Value = $type;
                    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<$type, D::Error> {
                        d.deserialize_identifier(V)
                    }
                }
                d.deserialize_enum(stringify!($type), $type::names(), V)
            }
        }

        impl JsonSchema for $type {
            fn schema_name() -> Cow<'static, str> {
                stringify!($type).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "enum": $type::names() })
            }
        }
    };
}

registry_name!(Engine);
registry_name!(Component);

/// A scalar written as text, a number or a boolean, kept as text (environment
/// values, versions). Note: YAML reads `1.30` as the number 1.3; quote such values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EnvValue(pub String);

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EnvValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for EnvValue {
    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

/// A datastore's storage: a volume of a size per replica, or `ephemeral`
/// (an emptyDir, gone with the pod).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Ephemeral,
    Size(Bytes),
}

impl<'de> Deserialize<'de> for Storage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::IntoDeserializer;
        struct V;
        impl Visitor<'_> for V {
            type Value = Storage;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"10Gi\", or `ephemeral`")
            }
            // Sizes are read as `Bytes` reads them, so its rules hold here too.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Storage, E> {
                if v == "ephemeral" {
                    return Ok(Storage::Ephemeral);
                }
                Bytes::deserialize(v.into_deserializer()).map(Storage::Size)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Storage, E> {
                Bytes::deserialize(v.into_deserializer()).map(Storage::Size)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Storage, E> {
                Bytes::deserialize(v.into_deserializer()).map(Storage::Size)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Storage, E> {
                Bytes::deserialize(v.into_deserializer()).map(Storage::Size)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Storage {
    fn schema_name() -> Cow<'static, str> {
        "Storage".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let size = g.subschema_for::<Bytes>();
        json_schema!({ "anyOf": [{ "const": "ephemeral" }, size] })
    }
}

/// A version (an image tag) as text. YAML reads an unquoted `16.10` as the
/// number 16.1, so a number with a fraction is refused with the fix; a
/// whole number (`16`) is its own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub String);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a version as a string, e.g. \"16.4\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Version, E> {
                Ok(Version(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Version, E> {
                Ok(Version(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Version, E> {
                Err(E::custom(format!(
                    "the version must be quoted: YAML reads it as the number {v}, which drops trailing zeros \
                     (`16.10` would be 16.1); write it as a string, e.g. \"{v}\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "integer"], "examples": ["16.4"] })
    }
}

/// A factor (an environment's `scale`): a number, not a percentage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Factor(pub f64);

impl<'de> Deserialize<'de> for Factor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Factor;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a factor such as 0.5")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Factor, E> {
                Ok(Factor(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Factor, E> {
                Ok(Factor(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Factor, E> {
                Ok(Factor(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Factor, E> {
                if let Ok(f) = v.trim().parse::<f64>() {
                    return Ok(Factor(f));
                }
                let percent = v.trim().strip_suffix('%').and_then(|p| p.trim().parse::<f64>().ok());
                Err(E::custom(match percent {
                    Some(p) => format!("the scale is a factor, not a percentage: write {} for {v}", p / 100.0),
                    None => format!("the scale is a factor such as 0.5, not {v:?}"),
                }))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Factor {
    fn schema_name() -> Cow<'static, str> {
        "Factor".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "exclusiveMinimum": 0, "maximum": 10 })
    }
}

/// A Kubernetes minor version such as `"1.30"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    /// The versions whose APIs the generator targets.
    pub const OLDEST: KubeVersion = KubeVersion { major: 1, minor: 27 };
    pub const NEWEST: KubeVersion = KubeVersion { major: 1, minor: 34 };

    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim().trim_start_matches('v');
        let mut it = t.split('.');
        let (Some(major), Some(minor)) = (it.next(), it.next()) else {
            return Err(format!("invalid Kubernetes version {s:?}: write it as \"1.30\""));
        };
        let parse = |x: &str| x.parse::<u32>().ok();
        let (Some(major), Some(minor)) = (parse(major), parse(minor)) else {
            return Err(format!("invalid Kubernetes version {s:?}: write it as \"1.30\""));
        };
        let v = KubeVersion { major, minor };
        if v < Self::OLDEST || v > Self::NEWEST {
            return Err(format!("Kubernetes {v} is not supported: use {} to {}", Self::OLDEST, Self::NEWEST));
        }
        Ok(v)
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl<'de> Deserialize<'de> for KubeVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KubeVersion;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Kubernetes version as a string, e.g. \"1.30\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KubeVersion, E> {
                KubeVersion::parse(v).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KubeVersion, E> {
                Err(E::custom(format!(
                    "the Kubernetes version must be quoted: YAML reads it as the number {v} \
                     (write \"1.30\", not 1.30)"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for KubeVersion {
    fn schema_name() -> Cow<'static, str> {
        "KubeVersion".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^v?1\\.[0-9]+(\\.[0-9]+)?$", "examples": ["1.30"] })
    }
}

/// A port named (`http`) or numbered (`8080`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Name(String),
    Number(u16),
}

impl<'de> Deserialize<'de> for PortRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PortRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port name or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortRef, E> {
                Ok(PortRef::Name(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortRef, E> {
                u16::try_from(v)
                    .ok()
                    .filter(|p| *p > 0)
                    .map(PortRef::Number)
                    .ok_or_else(|| E::custom(format!("port {v} is out of range 1-65535")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortRef, E> {
                Err(E::custom(format!("port {v} is out of range 1-65535")))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for PortRef {
    fn schema_name() -> Cow<'static, str> {
        "PortRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "integer"] })
    }
}

/// Replicas: a fixed count (`3`) or a range for autoscaling (`{min: 2, max: 5}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replicas {
    pub min: Option<u32>,
    pub max: Option<u32>,
}

impl<'de> Deserialize<'de> for Replicas {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Range {
            min: Option<u32>,
            max: Option<u32>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Replicas;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a replica count or {min, max}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Replicas, E> {
                let n = u32::try_from(v).map_err(|_| E::custom("too many replicas"))?;
                Ok(Replicas { min: Some(n), max: Some(n) })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Replicas, E> {
                Err(E::custom(format!("replicas must not be negative, got {v}")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Replicas, A::Error> {
                let r = Range::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Replicas { min: r.min, max: r.max })
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Replicas {
    fn schema_name() -> Cow<'static, str> {
        "Replicas".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "oneOf": [
                { "type": "integer", "minimum": 0 },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "min": { "type": "integer", "minimum": 0 },
                        "max": { "type": "integer", "minimum": 1 }
                    }
                }
            ]
        })
    }
}

/// Types that may be written as just a path (`/metrics`) instead of a map.
pub trait FromPath {
    fn from_path(path: String) -> Self;
}

/// `deserialize_with` for `Option<T>` fields that accept a path or a map.
pub fn path_or_map<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + FromPath,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de> + FromPath> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a path such as /healthz, or a map")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<T>, E> {
            if !v.starts_with('/') {
                return Err(E::custom(format!("a path must start with '/': {v:?}")));
            }
            Ok(Some(T::from_path(v.to_string())))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
            // A struct's map: its `x-` keys are skipped as everywhere else.
            let entries = super::extensions::Entries { inner: map, strip: true };
            T::deserialize(de::value::MapAccessDeserializer::new(entries)).map(Some)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

/// Schema-only stand-in for fields read by [`path_or_map`].
pub struct PathOr<T>(std::marker::PhantomData<T>);

impl<T: JsonSchema> JsonSchema for PathOr<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("PathOr{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let inner = g.subschema_for::<T>();
        json_schema!({ "anyOf": [ { "type": "string", "pattern": "^/" }, inner ] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct S {
        scale: Factor,
    }

    fn scale(v: &str) -> Result<f64, String> {
        serde_saphyr::from_str::<S>(&format!("scale: {v}\n")).map(|s| s.scale.0).map_err(|e| e.to_string())
    }

    #[test]
    fn a_scale_is_a_factor() {
        assert_eq!(scale("0.5"), Ok(0.5));
        assert_eq!(scale("2"), Ok(2.0));
        assert_eq!(scale("\"0.25\""), Ok(0.25));
        assert!(scale("50%").unwrap_err().contains("not a percentage: write 0.5 for 50%"));
        assert!(scale("half").unwrap_err().contains("a factor such as 0.5, not \"half\""));
    }

    #[test]
    fn a_version_is_text() {
        let v = |t: &str| serde_saphyr::from_str::<Version>(t).map(|v| v.0).map_err(|e| e.to_string());
        assert_eq!(v("\"16.10\""), Ok("16.10".into()));
        assert_eq!(v("16"), Ok("16".into()));
        assert!(v("16.10").unwrap_err().contains("YAML reads it as the number 16.1"));
    }
}
